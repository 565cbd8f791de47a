/* SPDX-License-Identifier: MIT */
/* Internal state shared by packets.c (grouping, fate) and pairs.c (pairing). */
#ifndef PKT_FLOW_INT_H
#define PKT_FLOW_INT_H

#include "flow.h"

/* A min-heap of items by (key, tie), each item remembering its slot (pairs.c). */
struct heap_ent {
	uint64_t key, tie;
	size_t *idx;
	void *item;
};

struct heap {
	struct heap_ent *a;
	size_t n, cap;
};

#define HEAP_NONE SIZE_MAX

int heap_push(struct heap *h, uint64_t key, uint64_t tie, size_t *idx, void *item);
void heap_update(struct heap *h, size_t i, uint64_t key, uint64_t tie);
void heap_remove(struct heap *h, size_t i);
void *heap_top(const struct heap *h);

struct settled_head;
struct name;

/*
 * Blocks of one size kept for reuse (at most FREELIST_MAX): glibc's calloc
 * bypasses its thread cache, and a branch and a wait per packet cost the
 * analysis a few percent in its bins. packets.c.
 */
#define FREELIST_MAX 256

struct freelist {
	void *head; /* each block's first word links to the next */
	size_t n;
};

/* A zeroed block of size bytes (always the same for one list), or NULL. */
void *freelist_get(struct freelist *l, size_t size);
/* p (may be NULL) to the list, or freed when the list is full. */
void freelist_put(struct freelist *l, void *p);
void freelist_drain(struct freelist *l);

#define NAME_CACHE     61 /* slots of the interned-name cache (packets.c) */
#define NAME_ADDR_BITS 7  /* 128 slots of names by address (flow_event.names_stable) */

struct name_by_addr {
	const char *s;
	const struct name *name;
};

/* Unfinished packets going one way (pairs.c reads the oldest). */
struct flow_dir {
	struct ht_node node;
	uint64_t key;
	struct flow_packet *head, *tail; /* oldest last hit first */
};

struct flow {
	struct flow_config cfg;
	struct flow_callbacks cb;
	struct flow_stats stats;
	/* packets.c: indexes of the packets in flight */
	struct hashtab tracks;			   /* (source, track id) -> branch */
	struct hashtab skbs;			   /* (source, sk_buff address) -> branch, alive */
	struct hashtab heads;			   /* (source, skb->head) -> branch */
	struct hashtab content;			   /* content keys -> packet */
	struct hashtab strs;			   /* interned names */
	const struct name *name_cache[NAME_CACHE]; /* recent names, see name_get */
	struct name_by_addr name_addrs[1 << NAME_ADDR_BITS]; /* see name_at */
	struct hashtab dirs;				     /* direction -> struct flow_dir */
	struct hashtab endpoints;		   /* TCP (namespace, address) -> struct endpoint */
	struct settled_head *settled;		   /* data buffers of settled TCP packets */
	struct flow_packet *open_head, *open_tail; /* by last hit: the window ends them */
	struct heap closing; /* packets with every sk_buff freed, by last hit */
	struct flow_packet *all_head;
	struct flow_packet *pool; /* finished ones for reuse (packets.c), by all_next */
	size_t npool;
	struct freelist free_branches; /* struct flow_branch */
	struct freelist free_waits;    /* pairs.c's struct pending */
	struct freelist free_looks;    /* struct flow_look */
	uint64_t now;
	uint64_t next_id;
	/* pairs.c */
	struct hashtab waits; /* pairing keys -> struct wait_key */
	struct heap expiring; /* struct pending by expiry, then age */
	uint64_t wait_seq;
	struct hashtab tcpdirs; /* TCP connection directions -> struct tcp_dir */
};

/* packets.c, for pairs.c */
void packet_unref(struct flow *f, struct flow_packet *p);
uint64_t dir_key(const struct flow_tuple *t, int reversed);
/*
 * Several processes read copies of p (raw sockets whose filter let another's
 * reply through): the delivery that counts is pid's, if it read one.
 */
void packet_prefer_reader(struct flow_packet *p, uint32_t pid);
/*
 * Pairing settles a fate the packet left open (unknown, in-flight): a request
 * that was answered got to whoever answered it (answer: "the echo reply");
 * a reply received in the namespace its request was sent from got home
 * (request: "the echo request"). Drops, reads and exits stay.
 */
void packet_answered(struct flow_packet *p, const char *answer);
void packet_came_back(struct flow_packet *p, const struct flow_packet *req, const char *request);

/* pairs.c, for packets.c */
void pair_packet(struct flow *f, struct flow_packet *p);
void expire_waits(struct flow *f, int all);
void pairs_free(struct flow *f);

#endif
