// SPDX-License-Identifier: MIT
/* Grouping hits into packets and pairing requests with replies; see flow.h. */
#include "flow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Pooled nodes stay visible to AddressSanitizer once released. */
#if defined(__SANITIZE_ADDRESS__)
#define FLOW_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FLOW_ASAN 1
#endif
#endif
#ifdef FLOW_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define DEFAULT_PACKET_WINDOW (2ull * 1000000000)
#define DEFAULT_PAIR_WINDOW   (3ull * 1000000000)
#define DEFAULT_CORR_WINDOW   (100ull * 1000000)

/* ------------------------------------------------------------ hashing */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static uint64_t h_add(uint64_t h, uint64_t v)
{
	return mix64(h ^ mix64(v + 0x9e3779b97f4a7c15ull));
}

static uint64_t h_bytes(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = 0;

		memcpy(&v, p + i, n - i < 8 ? n - i : 8);
		h = h_add(h, v);
	}
	return h;
}

/* ------------------------------------------------------------ multimap */

/*
 * Chained hash multimap from 64-bit keys (already hashes) to pointers. Nodes
 * come from a pool: a packet registers a few keys at every hit.
 */
struct mm_node {
	uint64_t key;
	void *val;
	struct mm_node *next;
};

#define MM_CHUNK 256

struct mm_chunk {
	struct mm_chunk *next;
	struct mm_node nodes[MM_CHUNK];
};

struct multimap {
	struct mm_node **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
	struct mm_node *free_nodes;
	struct mm_chunk *chunks;
};

static int mm_init(struct multimap *m)
{
	m->nbuckets = 1024;
	m->count = 0;
	m->free_nodes = NULL;
	m->chunks = NULL;
	m->buckets = calloc(m->nbuckets, sizeof(*m->buckets));
	return m->buckets ? 0 : -ENOMEM;
}

static void mm_grow(struct multimap *m)
{
	size_t nb = m->nbuckets * 2;
	struct mm_node **b = calloc(nb, sizeof(*b));

	if (!b) /* keep working with longer chains */
		return;
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct mm_node *n = m->buckets[i], *next;

		for (; n; n = next) {
			next = n->next;
			n->next = b[n->key & (nb - 1)];
			b[n->key & (nb - 1)] = n;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = nb;
}

static int mm_add(struct multimap *m, uint64_t key, void *val)
{
	struct mm_node *n = m->free_nodes;

	if (!n) {
		struct mm_chunk *c = malloc(sizeof(*c));

		if (!c)
			return -ENOMEM;
		c->next = m->chunks;
		m->chunks = c;
		for (size_t i = 0; i < MM_CHUNK; i++) {
			c->nodes[i].next = n;
			n = &c->nodes[i];
			if (i + 1 < MM_CHUNK)
				POISON(n, sizeof(*n));
		}
	}
	m->free_nodes = n->next;
	if (m->free_nodes)
		UNPOISON(m->free_nodes, sizeof(*m->free_nodes));
	if (m->count >= m->nbuckets)
		mm_grow(m);
	n->key = key;
	n->val = val;
	n->next = m->buckets[key & (m->nbuckets - 1)];
	m->buckets[key & (m->nbuckets - 1)] = n;
	m->count++;
	return 0;
}

static void mm_del(struct multimap *m, uint64_t key, const void *val)
{
	struct mm_node **pp = &m->buckets[key & (m->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->key == key && (*pp)->val == val) {
			struct mm_node *n = *pp;

			*pp = n->next;
			if (m->free_nodes)
				POISON(m->free_nodes, sizeof(*m->free_nodes));
			n->next = m->free_nodes;
			m->free_nodes = n;
			m->count--;
			return;
		}
	}
}

static struct mm_node *mm_first(const struct multimap *m, uint64_t key)
{
	struct mm_node *n = m->buckets[key & (m->nbuckets - 1)];

	while (n && n->key != key)
		n = n->next;
	return n;
}

static struct mm_node *mm_next(struct mm_node *n)
{
	uint64_t key = n->key;

	for (n = n->next; n && n->key != key; n = n->next)
		;
	return n;
}

static void mm_free(struct multimap *m)
{
	while (m->chunks) {
		struct mm_chunk *c = m->chunks;

		m->chunks = c->next;
		UNPOISON(c, sizeof(*c));
		free(c);
	}
	free(m->buckets);
	m->buckets = NULL;
}

/* ------------------------------------------------------------ shared strings */

/*
 * Hook, interface and drop names: a handful of distinct values over millions
 * of hops. Each hop points to one counted copy, freed with its last hop, so
 * that the table follows the hops in flight whatever names a file holds.
 */
struct shared_str {
	struct shared_str *next;
	uint64_t hash;
	size_t len;
	uint64_t refs;
	char s[];
};

struct str_table {
	struct shared_str **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
};

static const char no_str[] = "";

/* For a hash table of a few short names: one multiplication per 8 bytes. */
static uint64_t str_hash(const char *s, size_t len)
{
	uint64_t h = len * 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = 0;

		memcpy(&v, s + i, len - i < 8 ? len - i : 8);
		h = (h ^ v) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h;
}

static int strs_init(struct str_table *t)
{
	t->nbuckets = 64;
	t->count = 0;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	return t->buckets ? 0 : -ENOMEM;
}

static void strs_grow(struct str_table *t)
{
	size_t nb = t->nbuckets * 2;
	struct shared_str **b = calloc(nb, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct shared_str *e = t->buckets[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
}

/* A shared copy of s cut to cap - 1 bytes (as a char[cap] would hold it); NULL: no memory. */
static const char *str_get(struct str_table *t, const char *s, size_t cap)
{
	if (!s || !s[0])
		return no_str;
	size_t len = strnlen(s, cap - 1);
	uint64_t h = str_hash(s, len);
	struct shared_str *e;

	for (e = t->buckets[h & (t->nbuckets - 1)]; e; e = e->next)
		if (e->hash == h && e->len == len && !memcmp(e->s, s, len)) {
			e->refs++;
			return e->s;
		}
	e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return NULL;
	e->hash = h;
	e->len = len;
	e->refs = 1;
	memcpy(e->s, s, len);
	e->s[len] = '\0';
	if (t->count >= t->nbuckets)
		strs_grow(t);
	e->next = t->buckets[h & (t->nbuckets - 1)];
	t->buckets[h & (t->nbuckets - 1)] = e;
	t->count++;
	return e->s;
}

static void str_put(struct str_table *t, const char *s)
{
	if (!s || s == no_str)
		return;
	struct shared_str *e = (struct shared_str *)(s - offsetof(struct shared_str, s));

	if (--e->refs)
		return;
	for (struct shared_str **pp = &t->buckets[e->hash & (t->nbuckets - 1)]; *pp;
	     pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			t->count--;
			free(e);
			return;
		}
}

static void strs_free(struct str_table *t)
{
	for (size_t i = 0; t->buckets && i < t->nbuckets; i++) {
		struct shared_str *e = t->buckets[i], *next;

		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(t->buckets);
	t->buckets = NULL;
}

/* ------------------------------------------------------------ heap */

/* Binary min-heap by (key, tie); each item knows its index, for removal. */
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

static int heap_less(const struct heap_ent *x, const struct heap_ent *y)
{
	return x->key < y->key || (x->key == y->key && x->tie < y->tie);
}

static void heap_set(struct heap *h, size_t i, struct heap_ent e)
{
	h->a[i] = e;
	*e.idx = i;
}

static void heap_sift(struct heap *h, size_t i)
{
	struct heap_ent e = h->a[i];

	while (i > 0 && heap_less(&e, &h->a[(i - 1) / 2])) {
		heap_set(h, i, h->a[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && heap_less(&h->a[c + 1], &h->a[c]))
			c++;
		if (!heap_less(&h->a[c], &e))
			break;
		heap_set(h, i, h->a[c]);
		i = c;
	}
	heap_set(h, i, e);
}

static int heap_push(struct heap *h, uint64_t key, uint64_t tie, size_t *idx, void *item)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		struct heap_ent *a = realloc(h->a, cap * sizeof(*a));

		if (!a)
			return -ENOMEM;
		h->a = a;
		h->cap = cap;
	}
	h->a[h->n] = (struct heap_ent){key, tie, idx, item};
	*idx = h->n++;
	heap_sift(h, h->n - 1);
	return 0;
}

static void heap_update(struct heap *h, size_t i, uint64_t key, uint64_t tie)
{
	h->a[i].key = key;
	h->a[i].tie = tie;
	heap_sift(h, i);
}

static void heap_remove(struct heap *h, size_t i)
{
	*h->a[i].idx = HEAP_NONE;
	if (i != --h->n) {
		heap_set(h, i, h->a[h->n]);
		heap_sift(h, i);
	}
}

static void *heap_top(const struct heap *h)
{
	return h->n ? h->a[0].item : NULL;
}

/* ------------------------------------------------------------ directions */

/*
 * Unfinished packets by the direction (addresses and ports) of their first
 * hop, in order of last hit: "is an older packet still in flight this way?"
 * Packets finish out of order (some sk_buffs are freed late), and pairing
 * asks that question to decide as if they had finished in order.
 */
struct flow_dir {
	struct flow_dir *next; /* hash chain */
	uint64_t key;
	struct flow_packet *head, *tail;
};

struct dir_table {
	struct flow_dir **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
};

static int dirs_init(struct dir_table *t)
{
	t->nbuckets = 256;
	t->count = 0;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	return t->buckets ? 0 : -ENOMEM;
}

static struct flow_dir *dir_find(const struct dir_table *t, uint64_t key)
{
	struct flow_dir *d = t->buckets[key & (t->nbuckets - 1)];

	while (d && d->key != key)
		d = d->next;
	return d;
}

static void dirs_grow(struct dir_table *t)
{
	size_t nb = t->nbuckets * 2;
	struct flow_dir **b = calloc(nb, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct flow_dir *d = t->buckets[i], *next;

		for (; d; d = next) {
			next = d->next;
			d->next = b[d->key & (nb - 1)];
			b[d->key & (nb - 1)] = d;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
}

static void dir_join(struct dir_table *t, struct flow_packet *p, uint64_t key)
{
	struct flow_dir *d = dir_find(t, key);

	if (!d) {
		d = calloc(1, sizeof(*d));
		if (!d)
			return; /* pairing then decides without it */
		if (t->count >= t->nbuckets)
			dirs_grow(t);
		d->key = key;
		d->next = t->buckets[key & (t->nbuckets - 1)];
		t->buckets[key & (t->nbuckets - 1)] = d;
		t->count++;
	}
	p->dir = d;
	p->dir_prev = d->tail;
	p->dir_next = NULL;
	if (d->tail)
		d->tail->dir_next = p;
	else
		d->head = p;
	d->tail = p;
}

static void dir_unlink(struct flow_packet *p)
{
	struct flow_dir *d = p->dir;

	if (p->dir_prev)
		p->dir_prev->dir_next = p->dir_next;
	else
		d->head = p->dir_next;
	if (p->dir_next)
		p->dir_next->dir_prev = p->dir_prev;
	else
		d->tail = p->dir_prev;
	p->dir_prev = p->dir_next = NULL;
}

/* Its last hit moved: to the end of its direction. */
static void dir_touch(struct flow_packet *p)
{
	struct flow_dir *d = p->dir;

	if (!d || d->tail == p)
		return;
	dir_unlink(p);
	p->dir_prev = d->tail;
	d->tail->dir_next = p;
	d->tail = p;
}

static void dir_leave(struct dir_table *t, struct flow_packet *p)
{
	struct flow_dir *d = p->dir;

	if (!d)
		return;
	dir_unlink(p);
	p->dir = NULL;
	if (d->head)
		return;
	for (struct flow_dir **pp = &t->buckets[d->key & (t->nbuckets - 1)]; *pp; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			t->count--;
			free(d);
			return;
		}
}

static void dirs_free(struct dir_table *t)
{
	for (size_t i = 0; t->buckets && i < t->nbuckets; i++) {
		struct flow_dir *d = t->buckets[i], *next;

		for (; d; d = next) {
			next = d->next;
			free(d);
		}
	}
	free(t->buckets);
	t->buckets = NULL;
}

/* ------------------------------------------------------------ state */

enum pair_kind { PK_ECHO4, PK_ECHO6, PK_ARP, PK_NDP, PK_SYN, PK_TCPDATA, PK_DNS, PK_UDP, PK_COUNT };

static const char *const kind_names[PK_COUNT] = {
    "icmp-echo", "icmpv6-echo", "arp", "ndp", "tcp-handshake", "tcp-data", "dns", "udp",
};

enum role { ROLE_REQUEST, ROLE_REPLY };

/* A request or reply waiting for its counterpart. */
struct pending {
	enum pair_kind kind;
	enum role role;
	uint64_t keys[FLOW_MAX_TUPLES];
	int nkeys;
	uint32_t seq_end; /* tcp-data request: sequence number after it */
	uint32_t ack;	  /* tcp-data reply: acknowledgment number */
	struct flow_packet *packet;
	uint64_t expiry;
	size_t heap_idx; /* in flow.expiring */
	/* udp */
	struct flow_packet *next; /* the first of the stream after packet, if answered */
	int maybe_reply;	  /* an older packet the other way was still in flight */
	uint64_t mark;		  /* visited (prune_acks) */
};

struct flow {
	struct flow_config cfg;
	struct flow_callbacks cb;
	struct flow_stats stats;
	struct multimap packets;		 /* track / content keys -> packets in flight */
	struct multimap skbs;			 /* (source, sk_buff) -> packets with it alive */
	struct multimap waits;			 /* pairing keys -> struct pending */
	struct str_table strs;			 /* names the hops point to */
	struct dir_table dirs;			 /* unfinished packets by direction */
	struct flow_packet *lru_head, *lru_tail; /* in flight, oldest last hit first */
	struct heap closing;			 /* packets with every sk_buff freed, by last hit */
	struct heap expiring;			 /* struct pending by expiry, then age */
	struct flow_packet *all_head;
	uint64_t now;
	uint64_t next_id;
	uint64_t wait_seq;
	uint64_t mark;
	struct pending **scratch; /* prune_acks */
	size_t scratch_cap;
};

struct flow *flow_new(const struct flow_config *cfg, const struct flow_callbacks *cb)
{
	struct flow *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->cfg.packet_window_ns = DEFAULT_PACKET_WINDOW;
	f->cfg.pair_window_ns = DEFAULT_PAIR_WINDOW;
	f->cfg.corr_window_ns = DEFAULT_CORR_WINDOW;
	if (cfg) {
		if (cfg->packet_window_ns)
			f->cfg.packet_window_ns = cfg->packet_window_ns;
		if (cfg->pair_window_ns)
			f->cfg.pair_window_ns = cfg->pair_window_ns;
		if (cfg->corr_window_ns)
			f->cfg.corr_window_ns = cfg->corr_window_ns;
	}
	if (cb)
		f->cb = *cb;
	f->next_id = 1;
	if (mm_init(&f->packets) || mm_init(&f->skbs) || mm_init(&f->waits) ||
	    strs_init(&f->strs) || dirs_init(&f->dirs)) {
		flow_free(f);
		return NULL;
	}
	return f;
}

const struct flow_stats *flow_stats(const struct flow *f)
{
	return &f->stats;
}

int flow_hop_is_drop(const struct flow_hop *h)
{
	size_t n = strlen(h->hook);

	return h->drop[0] || (n >= 9 && !strcmp(h->hook + n - 9, "kfree_skb"));
}

/* ------------------------------------------------------------ fingerprints */

#define KEY_TRACK 1
#define KEY_EXACT 2
#define KEY_NAT	  3
#define KEY_SKB	  4

static int has_content(const struct pkt_l3l4 *l)
{
	return l->family != 0;
}

/* What does not change from hop to hop: everything but TTL and checksums. */
static uint64_t fp_exact(const struct pkt_l3l4 *l)
{
	uint64_t h = h_add(KEY_EXACT, l->family);

	h = h_bytes(h, l->src, 16);
	h = h_bytes(h, l->dst, 16);
	h = h_add(h, (uint64_t)l->ip_proto << 32 | (uint64_t)l->is_arp << 24 | l->arp_op);
	h = h_add(h, (uint64_t)l->ip_id << 32 | (uint64_t)l->sport << 16 | l->dport);
	h = h_add(h, (uint64_t)l->tcp_seq << 32 | l->tcp_ack);
	h = h_add(h, (uint64_t)l->tcp_flags << 40 | (uint64_t)l->icmp_type << 32 |
			 (uint64_t)l->icmp_id << 16 | l->icmp_seq);
	h = h_add(h, (uint64_t)l->l4_payload_len << 16 | l->dns_id);
	return h;
}

/*
 * The same without addresses, ports and ICMP id (which NAT rewrites); only when
 * the rest is distinctive enough: an IPv4 id, a TCP sequence number or an echo
 * sequence number.
 */
static uint64_t fp_nat(const struct pkt_l3l4 *l)
{
	int tcp = l->ip_proto == 6 && l->has_l4;
	int echo =
	    (l->ip_proto == 1 || l->ip_proto == 58) && l->has_l4 && (l->icmp_id || l->icmp_seq);

	if (l->is_arp || (!(l->family == 4 && l->ip_id) && !tcp && !echo))
		return 0;
	uint64_t h = h_add(KEY_NAT, l->family);

	h = h_add(h, (uint64_t)l->ip_proto << 32 | l->ip_id);
	h = h_add(h, (uint64_t)l->tcp_seq << 32 | l->tcp_ack);
	h = h_add(h, (uint64_t)l->tcp_flags << 40 | (uint64_t)l->icmp_type << 32 | l->icmp_seq);
	h = h_add(h, (uint64_t)l->l4_payload_len << 16 | l->dns_id);
	return h;
}

/* The same fingerprints (fp_exact and fp_nat read nothing else). */
static int same_fp(const struct pkt_l3l4 *a, const struct pkt_l3l4 *b)
{
	return a->family == b->family && !memcmp(a->src, b->src, 16) &&
	       !memcmp(a->dst, b->dst, 16) && a->ip_proto == b->ip_proto &&
	       a->is_arp == b->is_arp && a->arp_op == b->arp_op && a->ip_id == b->ip_id &&
	       a->sport == b->sport && a->dport == b->dport && a->tcp_seq == b->tcp_seq &&
	       a->tcp_ack == b->tcp_ack && a->tcp_flags == b->tcp_flags &&
	       a->icmp_type == b->icmp_type && a->icmp_id == b->icmp_id &&
	       a->icmp_seq == b->icmp_seq && a->l4_payload_len == b->l4_payload_len &&
	       a->dns_id == b->dns_id && a->has_l4 == b->has_l4;
}

static uint64_t track_key(uint64_t track)
{
	return h_add(KEY_TRACK, track);
}

/* ------------------------------------------------------------ packets */

static void lru_unlink(struct flow *f, struct flow_packet *p)
{
	if (p->lru_prev)
		p->lru_prev->lru_next = p->lru_next;
	else if (f->lru_head == p)
		f->lru_head = p->lru_next;
	if (p->lru_next)
		p->lru_next->lru_prev = p->lru_prev;
	else if (f->lru_tail == p)
		f->lru_tail = p->lru_prev;
	p->lru_prev = p->lru_next = NULL;
}

static void lru_append(struct flow *f, struct flow_packet *p)
{
	p->lru_prev = f->lru_tail;
	p->lru_next = NULL;
	if (f->lru_tail)
		f->lru_tail->lru_next = p;
	else
		f->lru_head = p;
	f->lru_tail = p;
}

static int packet_has_key(const struct flow_packet *p, uint64_t key)
{
	for (int i = 0; i < p->nkeys; i++)
		if (p->keys[i] == key)
			return 1;
	return 0;
}

static void packet_add_key(struct flow *f, struct flow_packet *p, uint64_t key)
{
	if (packet_has_key(p, key) || p->nkeys >= (int)(sizeof(p->keys) / sizeof(p->keys[0])))
		return;
	if (mm_add(&f->packets, key, p) == 0)
		p->keys[p->nkeys++] = key;
}

static void free_packet(struct flow *f, struct flow_packet *p, int put_strs)
{
	for (size_t i = 0; i < p->nhops; i++) {
		if (put_strs) {
			str_put(&f->strs, p->hops[i].hook);
			str_put(&f->strs, p->hops[i].ifname);
			str_put(&f->strs, p->hops[i].drop);
		}
		free(p->hops[i].summary);
	}
	free(p->hops);
	free(p);
}

static void packet_unref(struct flow *f, struct flow_packet *p)
{
	if (--p->refs > 0)
		return;
	if (f->cb.release)
		f->cb.release(p, f->cb.ctx);
	if (p->all_prev)
		p->all_prev->all_next = p->all_next;
	else
		f->all_head = p->all_next;
	if (p->all_next)
		p->all_next->all_prev = p->all_prev;
	free_packet(f, p, 1);
	f->stats.in_flight--;
}

/* Same place already seen: then a matching content is another packet. */
static int packet_has_place(const struct flow_packet *p, const struct flow_event *ev)
{
	for (size_t i = 0; i < p->nhops; i++) {
		const struct flow_hop *h = &p->hops[i];

		if (h->source == ev->source && h->dir == ev->dir && h->netns == ev->netns &&
		    !strcmp(h->ifname, ev->ifname) && !strcmp(h->hook, ev->hook))
			return 1;
	}
	return 0;
}

static struct flow_packet *find_by_content(struct flow *f, uint64_t key,
					   const struct flow_event *ev)
{
	if (!key)
		return NULL;
	for (struct mm_node *n = mm_first(&f->packets, key); n; n = mm_next(n)) {
		struct flow_packet *p = n->val;

		if (ev->ts_ns > p->last_ts + f->cfg.corr_window_ns ||
		    p->last_ts > ev->ts_ns + f->cfg.corr_window_ns)
			continue;
		/*
		 * A different track id does not rule it out: the kernel clones or
		 * copies an skb (bridge flooding, NAT helpers) and the copy gets a new id.
		 */
		if (packet_has_place(p, ev))
			continue;
		return p;
	}
	return NULL;
}

static void tuple_of(const struct pkt_l3l4 *l, struct flow_tuple *t)
{
	memset(t, 0, sizeof(*t));
	t->family = l->family;
	memcpy(t->src, l->src, 16);
	memcpy(t->dst, l->dst, 16);
	if (l->ip_proto == 6 || l->ip_proto == 17) {
		t->sport = l->sport;
		t->dport = l->dport;
	}
}

/* One way of a tuple: addresses and ports (reversed: the other way). */
static uint64_t dir_key(const struct flow_tuple *t, int reversed)
{
	uint64_t h = h_add(0x646972ull, t->family);

	h = h_bytes(h, reversed ? t->dst : t->src, 16);
	h = h_bytes(h, reversed ? t->src : t->dst, 16);
	return h_add(h, reversed ? (uint64_t)t->dport << 16 | t->sport
				 : (uint64_t)t->sport << 16 | t->dport);
}

static void packet_add_tuple(struct flow_packet *p, const struct pkt_l3l4 *l)
{
	struct flow_tuple t;

	if (!l->family)
		return;
	tuple_of(l, &t);
	for (int i = 0; i < p->ntuples; i++)
		if (!memcmp(&p->tuples[i], &t, sizeof(t)))
			return;
	if (p->ntuples < FLOW_MAX_TUPLES)
		p->tuples[p->ntuples++] = t;
}

/* Looks the same as the hop before: the same addresses, ports and tunnel. */
static int same_look(const struct flow_hop *h, const struct pkt_l3l4 *l, const char *encap)
{
	return h->l.family == l->family && !memcmp(h->l.src, l->src, 16) &&
	       !memcmp(h->l.dst, l->dst, 16) && h->l.sport == l->sport && h->l.dport == l->dport &&
	       h->encap == encap;
}

static int add_hop(struct flow *f, struct flow_packet *p, const struct flow_event *ev,
		   const struct pkt_l3l4 *l)
{
	if (p->nhops == p->hops_cap) {
		size_t cap = p->hops_cap ? p->hops_cap * 2 : 4;
		struct flow_hop *h = realloc(p->hops, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		p->hops = h;
		p->hops_cap = cap;
	}
	const char *hook = str_get(&f->strs, ev->hook, PKT_HOOK_LEN);
	const char *ifname = str_get(&f->strs, ev->ifname, PKT_IFNAME_LEN);
	const char *drop = str_get(&f->strs, ev->drop, PKT_DROP_LEN);

	if (!hook || !ifname || !drop) {
		str_put(&f->strs, hook);
		str_put(&f->strs, ifname);
		str_put(&f->strs, drop);
		return -ENOMEM;
	}
	struct flow_hop *h = &p->hops[p->nhops++];

	h->ts_ns = ev->ts_ns;
	h->event_no = f->stats.events;
	h->netns = ev->netns;
	h->hook = hook;
	h->ifname = ifname;
	h->drop = drop;
	h->encap = ev->pi->encap;
	h->summary = NULL;
	h->source = ev->source;
	h->len = ev->len;
	h->has_netns = ev->has_netns;
	h->dir = ev->dir;
	h->l = *l;
	/*
	 * Most hops look the same: a summary of its own only where the packet
	 * changed on the way (NAT, tunnel), which is where it is shown.
	 */
	if (p->nhops > 1 && !same_look(h - 1, l, h->encap)) {
		char buf[FLOW_SUMMARY_LEN];
		const char *sum = ev->summary;

		if (!sum) {
			pkt_summary(ev->pi, buf, sizeof(buf));
			sum = buf;
		}
		if (strcmp(sum, p->summary) != 0)
			h->summary = strdup(sum); /* NULL on failure: shown as the packet's */
	}

	if (ev->ts_ns < p->first_ts)
		p->first_ts = ev->ts_ns;
	if (ev->ts_ns > p->last_ts) {
		p->last_ts = ev->ts_ns;
		dir_touch(p);
	}
	if (flow_hop_is_drop(h)) {
		p->dropped = 1;
		snprintf(p->drop, sizeof(p->drop), "%s", h->drop[0] ? h->drop : "unknown");
	}
	packet_add_tuple(p, l);
	return 0;
}

/* ------------------------------------------------------------ sk_buff lifetimes */

static uint64_t skb_key(uint32_t source, uint64_t skb)
{
	return h_add(h_add(KEY_SKB, source), skb);
}

/* The sk_buff is freed right after this hit. */
static int hook_frees(const char *hook)
{
	return hook && (!strcmp(hook, "skb:kfree_skb") || !strcmp(hook, "skb:consume_skb"));
}

/* Every sk_buff of the packet freed: it waits out the correlation window in f->closing. */
static void update_closing(struct flow *f, struct flow_packet *p)
{
	int closed = !p->finished && !p->unknowable && p->nskbs && !p->nalive;

	if (!closed) {
		if (p->heap_idx != HEAP_NONE)
			heap_remove(&f->closing, p->heap_idx);
	} else if (p->heap_idx != HEAP_NONE) {
		heap_update(&f->closing, p->heap_idx, p->last_ts, p->id);
	} else if (heap_push(&f->closing, p->last_ts, p->id, &p->heap_idx, p) < 0) {
		p->heap_idx = HEAP_NONE; /* then the window finishes it */
	}
}

static struct flow_skb *skb_alive(struct flow_packet *p, uint32_t source, uint64_t skb)
{
	for (int i = 0; i < p->nskbs; i++)
		if (p->skbs[i].alive && p->skbs[i].source == source && p->skbs[i].skb == skb)
			return &p->skbs[i];
	return NULL;
}

static void skb_kill(struct flow *f, struct flow_packet *p, struct flow_skb *s)
{
	s->alive = 0;
	p->nalive--;
	mm_del(&f->skbs, skb_key(s->source, s->skb), p);
}

/*
 * What this hit says about sk_buff lifetimes. pkt-record deletes a tracking
 * id when its sk_buff is freed (and when it gives the address a new id), so a
 * free hook, or another id at the same address, means that no later hit
 * carries the id seen there before. Without an id or an address, the packet
 * is left to the window.
 */
static void track_skb(struct flow *f, struct flow_packet *p, const struct flow_event *ev)
{
	if (!ev->has_track || !ev->has_skb) {
		p->unknowable = 1;
		return;
	}
	uint64_t key = skb_key(ev->source, ev->skb);
	int freed = hook_frees(ev->hook);
	struct mm_node *n = mm_first(&f->skbs, key);

	while (n) {
		struct flow_packet *q = n->val;
		struct flow_skb *o = skb_alive(q, ev->source, ev->skb);

		if (o && (o->track != ev->track || (freed && q != p))) {
			skb_kill(f, q, o);
			if (q != p)
				update_closing(f, q);
			n = mm_first(&f->skbs, key); /* the chain changed */
			continue;
		}
		n = mm_next(n);
	}

	struct flow_skb *s = NULL;

	for (int i = 0; i < p->nskbs && !s; i++)
		if (p->skbs[i].source == ev->source && p->skbs[i].track == ev->track)
			s = &p->skbs[i];
	if (s) {
		if (!s->alive || s->skb != ev->skb) {
			p->unknowable = 1; /* an id back after its free, or on another address */
			return;
		}
	} else {
		if (p->nskbs == FLOW_MAX_TRACKS || mm_add(&f->skbs, key, p) < 0) {
			p->unknowable = 1;
			return;
		}
		s = &p->skbs[p->nskbs++];
		s->track = ev->track;
		s->skb = ev->skb;
		s->source = ev->source;
		s->alive = 1;
		p->nalive++;
	}
	if (freed)
		skb_kill(f, p, s);
}

static void finish_packet(struct flow *f, struct flow_packet *p);
static void expire_waits(struct flow *f, int all);

/*
 * Finish what no later hit can join: packets idle for the window, and packets
 * whose sk_buffs are all freed once the correlation window has passed, the
 * oldest last hit first.
 */
static void advance(struct flow *f, uint64_t now)
{
	if (now > f->now)
		f->now = now;
	for (;;) {
		struct flow_packet *a = f->lru_head, *b = heap_top(&f->closing);

		if (a && !(a->last_ts + f->cfg.packet_window_ns < f->now))
			a = NULL;
		if (b && !(b->last_ts + f->cfg.corr_window_ns < f->now))
			b = NULL;
		if (!a && !b)
			break;
		finish_packet(f, !b || (a && a->last_ts <= b->last_ts) ? a : b);
	}
	expire_waits(f, 0);
}

int flow_add_event(struct flow *f, const struct flow_event *ev, uint64_t *packet_id)
{
	const struct pkt_l3l4 *l = pkt_innermost(ev->pi);
	uint64_t exact = 0, nat = 0, tkey = ev->has_track ? track_key(ev->track) : 0;
	int have_fp = 0;
	struct flow_packet *p = NULL;

	/* The fingerprints only when needed: most hits follow their track id. */
#define NEED_FP()                                                                                  \
	do {                                                                                       \
		if (!have_fp && has_content(l)) {                                                  \
			exact = fp_exact(l);                                                       \
			nat = fp_nat(l);                                                           \
		}                                                                                  \
		have_fp = 1;                                                                       \
	} while (0)

	advance(f, ev->ts_ns);
	if (ev->has_track) {
		for (struct mm_node *n = mm_first(&f->packets, tkey); n; n = mm_next(n)) {
			struct flow_packet *c = n->val;

			if (!c->has_track || c->track != ev->track)
				continue;
			if (c->source == ev->source) {
				p = c;
				break;
			}
			/* Another file may reuse the id for another packet: check content. */
			NEED_FP();
			if (packet_has_key(c, exact) || (nat && packet_has_key(c, nat))) {
				p = c;
				break;
			}
		}
	}
	if (!p) {
		NEED_FP();
		p = find_by_content(f, exact, ev);
		if (!p)
			p = find_by_content(f, nat, ev);
	}
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return -ENOMEM;
		p->id = f->next_id++;
		p->has_track = ev->has_track;
		p->track = ev->track;
		p->source = ev->source;
		p->first_ts = p->last_ts = ev->ts_ns;
		p->pi = *ev->pi;
		p->pi.encap = ev->pi->encap; /* points to static strings */
		if (ev->summary)
			snprintf(p->summary, sizeof(p->summary), "%s", ev->summary);
		else
			pkt_summary(ev->pi, p->summary, sizeof(p->summary));
		p->heap_idx = HEAP_NONE;
		if (has_content(l)) {
			struct flow_tuple t;

			tuple_of(l, &t);
			dir_join(&f->dirs, p, dir_key(&t, 0));
		}
		p->refs = 1;
		p->all_next = f->all_head;
		if (f->all_head)
			f->all_head->all_prev = p;
		f->all_head = p;
		f->stats.packets++;
		f->stats.in_flight++;
		if (f->stats.in_flight > f->stats.in_flight_max)
			f->stats.in_flight_max = f->stats.in_flight;
	} else {
		lru_unlink(f, p);
	}
	lru_append(f, p);
	if (!p->has_track && ev->has_track) {
		p->has_track = 1;
		p->track = ev->track;
	}
	if (ev->has_track) {
		int known = 0;

		for (int i = 0; i < p->ntracks; i++)
			known |= p->tracks[i] == ev->track;
		if (!known && p->ntracks < FLOW_MAX_TRACKS)
			p->tracks[p->ntracks++] = ev->track;
	}
	if (ev->has_track)
		packet_add_key(f, p, tkey);
	/* A hop that looks like the one before has its keys already. */
	if (!p->nhops || !same_fp(&p->hops[p->nhops - 1].l, l)) {
		NEED_FP();
		if (exact)
			packet_add_key(f, p, exact);
		if (nat)
			packet_add_key(f, p, nat);
	}
#undef NEED_FP
	int err = add_hop(f, p, ev, l);

	track_skb(f, p, ev);
	update_closing(f, p);
	f->stats.events++;
	if (packet_id)
		*packet_id = p->id;
	return err;
}

/* ------------------------------------------------------------ pairing */

static int tuple_reversed(const struct flow_tuple *a, const struct flow_tuple *b, int ports)
{
	return a->family == b->family && !memcmp(a->src, b->dst, 16) &&
	       !memcmp(a->dst, b->src, 16) &&
	       (!ports || (a->sport == b->dport && a->dport == b->sport));
}

/* Some hop of the reply goes back the way some hop of the request came. */
static int packets_reversed(const struct flow_packet *req, const struct flow_packet *rep, int ports)
{
	for (int i = 0; i < req->ntuples; i++)
		for (int j = 0; j < rep->ntuples; j++)
			if (tuple_reversed(&req->tuples[i], &rep->tuples[j], ports))
				return 1;
	return 0;
}

static uint64_t tuple_key(enum pair_kind kind, const struct flow_tuple *t, int reversed)
{
	uint64_t h = h_add(0x7061697200ull + kind, t->family);

	h = h_bytes(h, reversed ? t->dst : t->src, 16);
	h = h_bytes(h, reversed ? t->src : t->dst, 16);
	return h_add(h, reversed ? (uint64_t)t->dport << 16 | t->sport
				 : (uint64_t)t->sport << 16 | t->dport);
}

static uint64_t value_key(enum pair_kind kind, uint64_t a, uint64_t b)
{
	return h_add(h_add(0x6b657900ull + kind, a), b);
}

static int is_multicast(const struct pkt_l3l4 *l)
{
	if (l->family == 4)
		return l->dst[0] >= 224 || (l->dst[0] == 255 && l->dst[3] == 255);
	return l->family == 6 && l->dst[0] == 0xff;
}

static int is_unspecified6(const uint8_t *a)
{
	static const uint8_t zero[16];

	return !memcmp(a, zero, 16);
}

/*
 * The oldest last hit among unfinished packets going the way of p's hops
 * (reversed: the other way); UINT64_MAX if none. Pairing decides as if packets
 * finished in the order of their last hits: what is older and still in
 * flight would have come first.
 */
static uint64_t oldest_open(const struct flow *f, const struct flow_packet *p, int reversed)
{
	uint64_t oldest = UINT64_MAX;

	for (int i = 0; i < p->ntuples; i++) {
		const struct flow_dir *d = dir_find(&f->dirs, dir_key(&p->tuples[i], reversed));

		if (d && d->head && d->head->last_ts < oldest)
			oldest = d->head->last_ts;
	}
	return oldest;
}

static void wait_unlink(struct flow *f, struct pending *w)
{
	for (int i = 0; i < w->nkeys; i++)
		mm_del(&f->waits, w->keys[i], w);
	heap_remove(&f->expiring, w->heap_idx);
}

static void wait_drop(struct flow *f, struct pending *w)
{
	wait_unlink(f, w);
	if (w->next)
		packet_unref(f, w->next);
	packet_unref(f, w->packet);
	free(w);
}

static void emit_pair(struct flow *f, enum pair_kind kind, struct flow_packet *req,
		      struct flow_packet *rep)
{
	struct flow_pair pr = {
	    .kind = kind_names[kind],
	    .request = req,
	    .reply = rep,
	    .rtt_ns = (int64_t)(rep->last_ts - req->first_ts),
	};

	req->requests_answered++;
	rep->replies++;
	f->stats.pairs++;
	if (f->cb.pair)
		f->cb.pair(&pr, f->cb.ctx);
}

/* A role a finished packet plays, and the keys it is found by. */
struct role_desc {
	enum pair_kind kind;
	enum role role;
	uint64_t keys[FLOW_MAX_TUPLES];
	int nkeys;
	uint32_t seq_end, ack;
};

static int compatible(const struct role_desc *r, const struct pending *w,
		      const struct flow_packet *p)
{
	const struct flow_packet *req = r->role == ROLE_REQUEST ? p : w->packet;
	const struct flow_packet *rep = r->role == ROLE_REQUEST ? w->packet : p;

	if (w->kind != r->kind || w->role == r->role || req == rep)
		return 0;
	switch (r->kind) {
	case PK_ECHO4:
	case PK_ECHO6:
		return packets_reversed(req, rep, 0);
	case PK_SYN:
	case PK_DNS:
		return packets_reversed(req, rep, 1);
	case PK_TCPDATA: {
		uint32_t seq_end = r->role == ROLE_REQUEST ? r->seq_end : w->seq_end;
		uint32_t ack = r->role == ROLE_REQUEST ? w->ack : r->ack;

		return (int32_t)(ack - seq_end) >= 0 && (int32_t)(ack - seq_end) < (1 << 30);
	}
	default:
		return 1;
	}
}

static void restart_stream(struct flow *f, const struct pending *w, uint64_t t);

/*
 * The waiting counterpart of p in role r; a cumulative ACK (tcp-data reply)
 * is paired here with every segment it covers, and *matched says so.
 */
static struct pending *find_best(struct flow *f, const struct role_desc *r, struct flow_packet *p,
				 int *matched)
{
	struct pending *best = NULL;

	for (int k = 0; k < r->nkeys; k++) {
		struct mm_node *n = mm_first(&f->waits, r->keys[k]), *next;

		for (; n; n = next) {
			struct pending *w = n->val;

			next = mm_next(n);
			if (!compatible(r, w, p))
				continue;
			/* It may answer an older packet still in flight: that one decides. */
			if (r->kind == PK_UDP && w->maybe_reply &&
			    oldest_open(f, w->packet, 1) < w->packet->last_ts)
				continue;
			if (r->kind == PK_TCPDATA && r->role == ROLE_REPLY) {
				/* A cumulative ACK answers every segment it covers. */
				emit_pair(f, r->kind, w->packet, p);
				*matched = 1;
				/* next may be freed with w's keys: restart this key */
				wait_drop(f, w);
				next = mm_first(&f->waits, r->keys[k]);
				continue;
			}
			/* Prefer the request closest before the reply (retransmissions). */
			if (!best)
				best = w;
			else if (r->role == ROLE_REPLY &&
				 w->packet->first_ts > best->packet->first_ts &&
				 w->packet->first_ts <= p->first_ts)
				best = w;
			else if (r->role == ROLE_REQUEST &&
				 w->packet->first_ts < best->packet->first_ts)
				best = w;
		}
	}
	return best;
}

/* Try to pair; returns 1 when this role found its counterpart(s). */
static int match_role(struct flow *f, const struct role_desc *r, struct flow_packet *p)
{
	int matched = 0;
	struct pending *best = find_best(f, r, p, &matched);

	if (!best)
		return matched;
	if (r->role == ROLE_REPLY) {
		emit_pair(f, r->kind, best->packet, p);
		wait_drop(f, best);
	} else {
		emit_pair(f, r->kind, p, best->packet);
		if (r->kind != PK_TCPDATA) /* an ACK may answer later segments too */
			wait_drop(f, best);
	}
	return 1;
}

static void tuple_keys(struct role_desc *r, const struct flow_packet *p, int reversed)
{
	r->nkeys = 0;
	for (int i = 0; i < p->ntuples && r->nkeys < FLOW_MAX_TUPLES; i++)
		r->keys[r->nkeys++] = tuple_key(r->kind, &p->tuples[i], reversed);
}

static void single_key(struct role_desc *r, uint64_t a, uint64_t b)
{
	r->keys[0] = value_key(r->kind, a, b);
	r->nkeys = 1;
}

static struct pending *add_wait(struct flow *f, const struct role_desc *r, struct flow_packet *p)
{
	struct pending *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->kind = r->kind;
	w->role = r->role;
	w->seq_end = r->seq_end;
	w->ack = r->ack;
	w->packet = p;
	w->expiry = p->last_ts + f->cfg.pair_window_ns;
	for (int i = 0; i < r->nkeys; i++) {
		int dup = 0;

		for (int j = 0; j < w->nkeys; j++)
			dup |= w->keys[j] == r->keys[i];
		if (!dup && mm_add(&f->waits, r->keys[i], w) == 0)
			w->keys[w->nkeys++] = r->keys[i];
	}
	if (heap_push(&f->expiring, w->expiry, ++f->wait_seq, &w->heap_idx, w) < 0) {
		for (int i = 0; i < w->nkeys; i++)
			mm_del(&f->waits, w->keys[i], w);
		free(w);
		return NULL;
	}
	p->refs++;
	return w;
}

/*
 * A request of this kind and keys is already waiting: give it more time (a
 * one-way stream keeps its first packet asking) and say so. Of the two, the
 * one whose last hit came first asks; the first after it is kept too, in case
 * an answer finishing late falls between them (see restart_stream).
 */
static int refresh_wait(struct flow *f, const struct role_desc *r, struct flow_packet *p)
{
	for (int k = 0; k < r->nkeys; k++)
		for (struct mm_node *n = mm_first(&f->waits, r->keys[k]); n; n = mm_next(n)) {
			struct pending *w = n->val;
			uint64_t expiry = p->last_ts + f->cfg.pair_window_ns;
			struct flow_packet *later = p;

			if (w->kind != r->kind || w->role != r->role)
				continue;
			if (expiry > w->expiry)
				w->expiry = expiry;
			heap_update(&f->expiring, w->heap_idx, w->expiry, ++f->wait_seq);
			if (p->last_ts < w->packet->last_ts) { /* w's reference moves to p */
				later = w->packet;
				w->packet = p;
				p->refs++;
			} else {
				p->refs++;
			}
			/* later holds a reference now: kept as next, or dropped */
			if (!w->next || later->last_ts < w->next->last_ts) {
				struct flow_packet *old = w->next;

				w->next = later;
				later = old;
			}
			if (later)
				packet_unref(f, later);
			return 1;
		}
	return 0;
}

/*
 * The stream w stood for got its answer at time t: in order, its first
 * packet after t would have asked anew.
 */
static void restart_stream(struct flow *f, const struct pending *w, uint64_t t)
{
	struct flow_packet *n = w->next;

	if (!n || n->last_ts <= t)
		return;
	struct role_desc r = {.kind = PK_UDP, .role = ROLE_REQUEST};

	tuple_keys(&r, n, 0);
	struct pending *nw = add_wait(f, &r, n);

	if (!nw)
		return;
	if (w->expiry > nw->expiry) {
		nw->expiry = w->expiry;
		heap_update(&f->expiring, nw->heap_idx, nw->expiry, f->wait_seq);
	}
	nw->maybe_reply = oldest_open(f, n, 1) < n->last_ts;
}

/*
 * A data segment finished. In order, it would have met the newest ACK
 * finished before it (paired if that one covers it, else waited), or been
 * answered by the first ACK after it that covers it: ACKs that finished
 * first wait for it (see prune_acks).
 */
static int match_data(struct flow *f, const struct role_desc *r, struct flow_packet *p)
{
	struct pending *before = NULL, *after = NULL, *best;

	for (int k = 0; k < r->nkeys; k++)
		for (struct mm_node *n = mm_first(&f->waits, r->keys[k]); n; n = mm_next(n)) {
			struct pending *w = n->val;

			if (w->kind != PK_TCPDATA || w->role != ROLE_REPLY || w->packet == p)
				continue;
			if (w->packet->last_ts < p->last_ts) {
				if (!before || w->packet->last_ts > before->packet->last_ts)
					before = w;
			} else if (compatible(r, w, p) &&
				   (!after || w->packet->last_ts < after->packet->last_ts)) {
				after = w;
			}
		}
	best = before && compatible(r, before, p) ? before : after;
	if (!best)
		return 0;
	emit_pair(f, PK_TCPDATA, p, best->packet); /* the ACK may answer later segments too */
	return 1;
}

/*
 * Which ACKs of a connection wait for segments. In order only the newest
 * would: a bulk transfer would otherwise keep every ACK of the window. But a
 * segment still in flight (in a socket's receive queue, its sk_buff is not
 * freed) finishes later and must meet the ACKs it would have met: the newest
 * before the oldest such segment, and every one after.
 */
static void prune_acks(struct flow *f, const struct role_desc *r, const struct flow_packet *p)
{
	uint64_t oldest = oldest_open(f, p, 1);
	struct pending *keep = NULL;
	size_t n = 0;

	f->mark++;
	for (int k = 0; k < r->nkeys; k++)
		for (struct mm_node *m = mm_first(&f->waits, r->keys[k]); m; m = mm_next(m)) {
			struct pending *w = m->val;

			if (w->kind != PK_TCPDATA || w->role != ROLE_REPLY || w->mark == f->mark ||
			    w->packet->last_ts >= oldest)
				continue;
			w->mark = f->mark;
			if (n == f->scratch_cap) {
				size_t cap = f->scratch_cap ? 2 * f->scratch_cap : 64;
				struct pending **a = realloc(f->scratch, cap * sizeof(*a));

				if (!a)
					return; /* keep them all */
				f->scratch = a;
				f->scratch_cap = cap;
			}
			f->scratch[n++] = w;
			if (!keep || w->packet->last_ts > keep->packet->last_ts)
				keep = w;
		}
	for (size_t i = 0; i < n; i++)
		if (f->scratch[i] != keep)
			wait_drop(f, f->scratch[i]);
}

/* What a finished packet can be: up to two roles (TCP data with an ACK). */
static int classify(const struct flow_packet *p, struct role_desc *roles)
{
	const struct pkt_l3l4 *l = pkt_innermost(&p->pi);
	int n = 0;

	memset(roles, 0, 2 * sizeof(*roles));
	if (l->is_arp) {
		if (l->family != 4)
			return 0;
		uint32_t spa, tpa;

		memcpy(&spa, l->src, 4);
		memcpy(&tpa, l->dst, 4);
		if (l->arp_op == 1 && spa != tpa && spa != 0) { /* not gratuitous, not probe */
			roles[n].kind = PK_ARP;
			roles[n].role = ROLE_REQUEST;
			single_key(&roles[n++], tpa, 0);
		} else if (l->arp_op == 2) {
			roles[n].kind = PK_ARP;
			roles[n].role = ROLE_REPLY;
			single_key(&roles[n++], spa, 0);
		}
		return n;
	}
	if (!l->family || l->is_fragment || !l->has_l4)
		return 0;
	switch (l->ip_proto) {
	case 1:
	case 58: {
		int v6 = l->ip_proto == 58;
		uint8_t req_type = v6 ? 128 : 8, rep_type = v6 ? 129 : 0;

		if (l->icmp_type == req_type || l->icmp_type == rep_type) {
			roles[n].kind = v6 ? PK_ECHO6 : PK_ECHO4;
			roles[n].role = l->icmp_type == req_type ? ROLE_REQUEST : ROLE_REPLY;
			single_key(&roles[n++], l->icmp_id, l->icmp_seq);
		} else if (v6 && l->has_nd_target && (l->icmp_type == 135 || l->icmp_type == 136)) {
			uint64_t a, b;

			if (l->icmp_type == 135 && is_unspecified6(l->src))
				return 0; /* duplicate address detection expects no answer */
			memcpy(&a, l->nd_target, 8);
			memcpy(&b, l->nd_target + 8, 8);
			roles[n].kind = PK_NDP;
			roles[n].role = l->icmp_type == 135 ? ROLE_REQUEST : ROLE_REPLY;
			single_key(&roles[n++], a, b);
		}
		return n;
	}
	case 6: {
		uint8_t fl = l->tcp_flags;

		if ((fl & 0x02) && !(fl & 0x10)) {
			roles[n].kind = PK_SYN;
			roles[n].role = ROLE_REQUEST;
			single_key(&roles[n++], (uint32_t)(l->tcp_seq + 1), 0);
			return n;
		}
		if ((fl & 0x02) && (fl & 0x10)) {
			roles[n].kind = PK_SYN;
			roles[n].role = ROLE_REPLY;
			single_key(&roles[n++], l->tcp_ack, 0);
			return n;
		}
		if (fl & 0x04)
			return 0;
		if (l->l4_payload_len || (fl & 0x01)) {
			roles[n].kind = PK_TCPDATA;
			roles[n].role = ROLE_REQUEST;
			roles[n].seq_end = l->tcp_seq + l->l4_payload_len + (fl & 0x01);
			tuple_keys(&roles[n++], p, 0);
		}
		if (fl & 0x10) {
			roles[n].kind = PK_TCPDATA;
			roles[n].role = ROLE_REPLY;
			roles[n].ack = l->tcp_ack;
			tuple_keys(&roles[n++], p, 1);
		}
		return n;
	}
	case 17:
		if (l->has_dns) {
			roles[n].kind = PK_DNS;
			roles[n].role = l->dns_is_response ? ROLE_REPLY : ROLE_REQUEST;
			single_key(&roles[n++], l->dns_id, 0);
			return n;
		}
		roles[n].kind = PK_UDP;
		roles[n].role = ROLE_REQUEST; /* decided in pair_packet: first seen asks */
		tuple_keys(&roles[n++], p, 0);
		return n;
	default:
		return 0;
	}
}

/* The packet asking for this kind and keys (a stream's first), if one waits. */
static struct pending *find_asking(struct flow *f, const struct role_desc *r)
{
	for (int k = 0; k < r->nkeys; k++)
		for (struct mm_node *n = mm_first(&f->waits, r->keys[k]); n; n = mm_next(n)) {
			struct pending *w = n->val;

			if (w->kind == r->kind && w->role == r->role)
				return w;
		}
	return NULL;
}

/*
 * UDP without a protocol to say who asks: the first datagram asks, the first
 * on the reversed 5-tuple answers, a stream in one direction asks once. As if
 * packets finished in the order of their last hits: some finish late.
 */
static void pair_udp(struct flow *f, const struct role_desc *r, struct flow_packet *p)
{
	struct role_desc rep = *r;
	struct pending *w, *own;
	int matched = 0;

	rep.role = ROLE_REPLY;
	tuple_keys(&rep, p, 1);
	w = find_best(f, &rep, p, &matched);
	if (w && w->packet->last_ts > p->last_ts) {
		/* w came after p: p asked, or the stream p belongs to did, and w answered */
		own = find_asking(f, r);
		if (own && own != w) { /* the same wait cannot both ask and answer */
			refresh_wait(f, r, p);
			emit_pair(f, PK_UDP, own->packet, w->packet);
			restart_stream(f, own, w->packet->last_ts);
			wait_drop(f, own);
		} else {
			emit_pair(f, PK_UDP, p, w->packet);
		}
		restart_stream(f, w, w->packet->last_ts);
		wait_drop(f, w);
		return;
	}
	if (w) {
		emit_pair(f, PK_UDP, w->packet, p);
		restart_stream(f, w, p->last_ts);
		wait_drop(f, w);
		return;
	}
	if (refresh_wait(f, r, p) || is_multicast(pkt_innermost(&p->pi)))
		return; /* a stream in one direction: its first packet asks */
	w = add_wait(f, r, p);
	/* an older packet the other way, still in flight, may be its question */
	if (w)
		w->maybe_reply = oldest_open(f, p, 1) < p->last_ts;
}

static void pair_packet(struct flow *f, struct flow_packet *p)
{
	struct role_desc roles[2];
	int n = classify(p, roles);

	for (int i = 0; i < n; i++) {
		struct role_desc *r = &roles[i];

		if (r->kind == PK_UDP) {
			pair_udp(f, r, p);
			continue;
		}
		if (r->kind == PK_TCPDATA && r->role == ROLE_REQUEST) {
			if (match_data(f, r, p))
				continue;
		} else if (match_role(f, r, p) &&
			   !(r->kind == PK_TCPDATA && r->role == ROLE_REPLY)) {
			continue;
		}
		if (r->role == ROLE_REQUEST && is_multicast(pkt_innermost(&p->pi)) &&
		    r->kind != PK_NDP)
			continue;
		add_wait(f, r, p);
		if (r->kind == PK_TCPDATA && r->role == ROLE_REPLY)
			prune_acks(f, r, p);
	}
}

static void expire_waits(struct flow *f, int all)
{
	struct pending *w;

	while ((w = heap_top(&f->expiring)) && (all || w->expiry < f->now)) {
		if (w->role == ROLE_REQUEST && !w->packet->requests_answered) {
			w->packet->unanswered = 1;
			f->stats.unanswered++;
			if (f->cb.unanswered)
				f->cb.unanswered(w->packet, kind_names[w->kind], f->cb.ctx);
		}
		wait_drop(f, w);
	}
}

static void finish_packet(struct flow *f, struct flow_packet *p)
{
	lru_unlink(f, p);
	for (int i = 0; i < p->nkeys; i++)
		mm_del(&f->packets, p->keys[i], p);
	p->nkeys = 0;
	for (int i = 0; i < p->nskbs; i++)
		if (p->skbs[i].alive)
			skb_kill(f, p, &p->skbs[i]);
	p->finished = 1;
	if (p->heap_idx != HEAP_NONE)
		heap_remove(&f->closing, p->heap_idx);
	dir_leave(&f->dirs, p);
	if (p->dropped)
		f->stats.dropped++;
	if (f->cb.packet)
		f->cb.packet(p, f->cb.ctx);
	pair_packet(f, p);
	packet_unref(f, p);
}

void flow_finish(struct flow *f)
{
	while (f->lru_head)
		finish_packet(f, f->lru_head);
	expire_waits(f, 1);
}

void flow_free(struct flow *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->expiring.n; i++)
		free(f->expiring.a[i].item);
	while (f->all_head) {
		struct flow_packet *p = f->all_head;

		f->all_head = p->all_next;
		free_packet(f, p, 0);
	}
	free(f->expiring.a);
	free(f->closing.a);
	free(f->scratch);
	mm_free(&f->packets);
	mm_free(&f->skbs);
	mm_free(&f->waits);
	strs_free(&f->strs);
	dirs_free(&f->dirs);
	free(f);
}
