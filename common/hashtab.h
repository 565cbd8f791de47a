/* SPDX-License-Identifier: MIT */
/*
 * The one hash table of the project: intrusive, chained, keyed by a 64-bit
 * hash the caller computes (ht_hash64(), ht_hash_bytes()); equality is the
 * caller's (walk the nodes of one hash with ht_find_first()/ht_find_next()).
 *
 * Intrusive like the kernel's hlist: a node lives inside the caller's
 * struct (container_of), so an insert never allocates and never fails. The
 * bucket array doubles when the table holds more nodes than buckets; if that
 * allocation fails the table keeps its old array (longer chains, still
 * correct).
 *
 *   struct iface { struct ht_node node; uint64_t netns; ... };
 *   ht_insert(&t, &ifc->node, ht_hash64(netns));
 *   for (n = ht_find_first(&t, h); n; n = ht_find_next(n))
 *           if (ht_entry(n, struct iface, node)->netns == netns) ...
 *
 * Library code: never prints, never exits.
 */
#ifndef PKT_HASHTAB_H
#define PKT_HASHTAB_H

#include <stddef.h>
#include <stdint.h>

struct ht_node {
	struct ht_node *next;
	uint64_t hash;
};

struct hashtab {
	struct ht_node **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
};

#define ht_entry(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* size_hint: expected entries (0: a small default). Returns 0 or -ENOMEM. */
int ht_init(struct hashtab *t, size_t size_hint);
/* Frees the bucket array (not the nodes: they are the caller's). Safe twice. */
void ht_destroy(struct hashtab *t);

void ht_insert(struct hashtab *t, struct ht_node *n, uint64_t hash);
/* n must be in t. */
void ht_remove(struct hashtab *t, struct ht_node *n);

/* First node whose hash is `hash`, or NULL; then the next such node. */
struct ht_node *ht_find_first(const struct hashtab *t, uint64_t hash);
struct ht_node *ht_find_next(const struct ht_node *n);

/*
 * Every node, in no particular order. The callback may free its node (the
 * walk has read ->next before); it must not insert or remove others.
 */
void ht_for_each(const struct hashtab *t, void (*fn)(struct ht_node *n, void *ctx), void *ctx);

static inline size_t ht_count(const struct hashtab *t)
{
	return t->count;
}

/* splitmix64's finalizer: a full-avalanche mix of one 64-bit word */
static inline uint64_t ht_hash64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/* Fold v into the running hash h (for keys of several fields). */
static inline uint64_t ht_hash_add(uint64_t h, uint64_t v)
{
	return ht_hash64(h ^ ht_hash64(v + 0x9e3779b97f4a7c15ull));
}

/*
 * Fold v into h with half of ht_hash_add's work: one avalanche of h and v
 * (times an odd constant: for one h, each v gives its own result). A
 * different value from ht_hash_add's: for keys of tables whose order never
 * shows (looked up, freed), on hot paths.
 */
static inline uint64_t ht_hash_fold(uint64_t h, uint64_t v)
{
	return ht_hash64(h ^ v * 0x9e3779b97f4a7c15ull);
}

/* ht_hash_fold of 16 bytes: two words. */
static inline uint64_t ht_hash_fold16(uint64_t h, const void *p)
{
	uint64_t lo, hi;

	__builtin_memcpy(&lo, p, 8);
	__builtin_memcpy(&hi, (const char *)p + 8, 8);
	return ht_hash_fold(ht_hash_fold(h, lo), hi);
}

/*
 * Fold 16 bytes (an IPv6 or padded IPv4 address) into h: two words, inline.
 * Not the same value as ht_hash_bytes() of them (no length, no call, no
 * tail loop): for keys on hot paths that only ever hash 16 bytes there.
 */
static inline uint64_t ht_hash_add16(uint64_t h, const void *p)
{
	uint64_t lo, hi;

	__builtin_memcpy(&lo, p, 8);
	__builtin_memcpy(&hi, (const char *)p + 8, 8);
	return ht_hash_add(ht_hash_add(h, lo), hi);
}

/* Hash n bytes into h (start with h = 0 or a seed). */
uint64_t ht_hash_bytes(uint64_t h, const void *p, size_t n);
/* Hash a NUL-terminated string. */
uint64_t ht_hash_str(uint64_t h, const char *s);

#endif
