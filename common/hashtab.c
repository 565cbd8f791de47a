// SPDX-License-Identifier: MIT
#include "hashtab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HT_MIN_BUCKETS 16

int ht_init(struct hashtab *t, size_t size_hint)
{
	size_t nb = HT_MIN_BUCKETS;

	while (nb < size_hint && nb < ((size_t)1 << 40))
		nb <<= 1;
	t->count = 0;
	t->nbuckets = nb;
	t->buckets = calloc(nb, sizeof(*t->buckets));
	if (!t->buckets) {
		t->nbuckets = 0;
		return -ENOMEM;
	}
	return 0;
}

void ht_destroy(struct hashtab *t)
{
	free(t->buckets);
	t->buckets = NULL;
	t->nbuckets = 0;
	t->count = 0;
}

/* Double the bucket array; on allocation failure keep the old one. */
static void ht_grow(struct hashtab *t)
{
	size_t nb = t->nbuckets * 2;
	struct ht_node **b = calloc(nb, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct ht_node *n = t->buckets[i], *next;

		for (; n; n = next) {
			next = n->next;
			n->next = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
}

void ht_insert(struct hashtab *t, struct ht_node *n, uint64_t hash)
{
	if (t->count >= t->nbuckets)
		ht_grow(t);
	n->hash = hash;
	n->next = t->buckets[hash & (t->nbuckets - 1)];
	t->buckets[hash & (t->nbuckets - 1)] = n;
	t->count++;
}

void ht_remove(struct hashtab *t, struct ht_node *n)
{
	struct ht_node **pp = &t->buckets[n->hash & (t->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->next)
		if (*pp == n) {
			*pp = n->next;
			n->next = NULL;
			t->count--;
			return;
		}
}

struct ht_node *ht_find_first(const struct hashtab *t, uint64_t hash)
{
	if (!t->nbuckets)
		return NULL;
	for (struct ht_node *n = t->buckets[hash & (t->nbuckets - 1)]; n; n = n->next)
		if (n->hash == hash)
			return n;
	return NULL;
}

struct ht_node *ht_find_next(const struct ht_node *n)
{
	for (struct ht_node *m = n->next; m; m = m->next)
		if (m->hash == n->hash)
			return m;
	return NULL;
}

void ht_for_each(const struct hashtab *t, void (*fn)(struct ht_node *n, void *ctx), void *ctx)
{
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct ht_node *n = t->buckets[i], *next;

		for (; n; n = next) {
			next = n->next;
			fn(n, ctx);
		}
	}
}

uint64_t ht_hash_bytes(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i = 0;
	uint64_t v;

	/* whole words by a fixed-size copy (inlined: no memcpy call per word) */
	for (; n - i >= 8; i += 8) {
		memcpy(&v, b + i, 8);
		h = ht_hash_add(h, v);
	}
	if (i < n) { /* the tail, zero-padded: the same hash as before */
		uint8_t tail[8] = {0};

		for (size_t j = 0; i + j < n; j++)
			tail[j] = b[i + j];
		memcpy(&v, tail, 8);
		h = ht_hash_add(h, v);
	}
	return ht_hash_add(h, n);
}

uint64_t ht_hash_str(uint64_t h, const char *s)
{
	return ht_hash_bytes(h, s, strlen(s));
}
