// SPDX-License-Identifier: MIT
/*
 * Hits -> packets: a packet is its data. Branches by sk_buff (tracking id),
 * clones by data buffer (skb->head), re-allocations by content; then the
 * packet's fate. Every lookup is one of the hash tables of struct flow, so a
 * hit costs O(1) whatever the traffic; a packet leaves them when finished.
 * See flow.h for the rules, docs/format.md ("Packets") for the contract.
 */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "flow_int.h"
#include "why.h"

#define DEFAULT_PACKET_WINDOW (2ull * 1000000000)
#define DEFAULT_PAIR_WINDOW   (3ull * 1000000000)
#define DEFAULT_CORR_WINDOW   (100ull * 1000000)

enum { KEY_TRACK = 1, KEY_SKB, KEY_HEAD, KEY_EXACT, KEY_NAT, KEY_STR, KEY_DIR, KEY_END };

/* ------------------------------------------------------------ heap */

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

int heap_push(struct heap *h, uint64_t key, uint64_t tie, size_t *idx, void *item)
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

void heap_update(struct heap *h, size_t i, uint64_t key, uint64_t tie)
{
	h->a[i].key = key;
	h->a[i].tie = tie;
	heap_sift(h, i);
}

void heap_remove(struct heap *h, size_t i)
{
	*h->a[i].idx = HEAP_NONE;
	if (i != --h->n) {
		heap_set(h, i, h->a[h->n]);
		heap_sift(h, i);
	}
}

void *heap_top(const struct heap *h)
{
	return h->n ? h->a[0].item : NULL;
}
/* ------------------------------------------------------------ free lists */

void *freelist_get(struct freelist *l, size_t size)
{
	void *p = l->head;

	if (!p)
		return calloc(1, size);
	memcpy(&l->head, p, sizeof(void *));
	l->n--;
	memset(p, 0, size);
	return p;
}

void freelist_put(struct freelist *l, void *p)
{
	if (!p)
		return;
	if (l->n >= FREELIST_MAX) {
		free(p);
		return;
	}
	memcpy(p, &l->head, sizeof(void *));
	l->head = p;
	l->n++;
}

void freelist_drain(struct freelist *l)
{
	while (l->head) {
		void *p = l->head;

		memcpy(&l->head, p, sizeof(void *));
		free(p);
	}
	l->n = 0;
}

/* ------------------------------------------------------------ names */

/*
 * Interned names (hooks, interfaces, drop reasons, commands): hops point to
 * them, and a hook's kind is looked up once per name instead of per hit.
 * They live until flow_free: there are as many as distinct names in the input.
 */
struct name {
	struct ht_node node;
	enum pkt_hook_kind kind;
	size_t len; /* of s: compared with memcmp, no strncmp per hit */
	char s[];
};

static const struct name *name_get(struct flow *f, const char *s, size_t cap)
{
	size_t len = s ? strnlen(s, cap) : 0;
	/*
	 * A few names recur in every hit (four hooks, the interfaces, ""): a
	 * slot picked by length and end bytes finds them without hashing.
	 */
	unsigned slot =
	    len ? (unsigned)(len * 31 + (unsigned char)s[0] + 7u * (unsigned char)s[len - 1]) %
		      NAME_CACHE
		: 0;
	const struct name *c = f->name_cache[slot];

	if (c && c->len == len && (!len || !memcmp(c->s, s, len)))
		return c;
	uint64_t h = ht_hash_bytes(KEY_STR, s ? s : "", len);

	for (struct ht_node *n = ht_find_first(&f->strs, h); n; n = ht_find_next(n)) {
		struct name *nm = ht_entry(n, struct name, node);

		if (nm->len == len && (!len || !memcmp(nm->s, s, len)))
			return f->name_cache[slot] = nm;
	}
	struct name *nm = malloc(sizeof(*nm) + len + 1);

	if (!nm)
		return NULL;
	if (len)
		memcpy(nm->s, s, len);
	nm->s[len] = '\0';
	nm->len = len;
	nm->kind = pkt_hook_kind(nm->s);
	ht_insert(&f->strs, &nm->node, h);
	return f->name_cache[slot] = nm;
}

/*
 * name_get for a string that never changes at its address (names_stable):
 * found by the address, without reading it, from a cache of the last seen
 * at each slot.
 */
static const struct name *name_at(struct flow *f, const char *s, size_t cap)
{
	struct name_by_addr *c =
	    &f->name_addrs[((uintptr_t)s * 0x9e3779b97f4a7c15ull) >> (64 - NAME_ADDR_BITS)];
	const struct name *nm;

	if (s && c->s == s)
		return c->name;
	nm = name_get(f, s, cap);
	if (nm && s) {
		c->s = s;
		c->name = nm;
	}
	return nm;
}

/* The name of an event's string: by address when the event says it may be. */
static const struct name *event_name(struct flow *f, const struct flow_event *ev, const char *s,
				     size_t cap)
{
	return ev->names_stable ? name_at(f, s, cap) : name_get(f, s, cap);
}

static void name_free(struct ht_node *n, void *ctx)
{
	(void)ctx;
	free(ht_entry(n, struct name, node));
}

/* ------------------------------------------------------------ endpoints */

/*
 * TCP endpoints: a namespace that sent a TCP packet from an address (its
 * first hop a transmit there) owns that address. A TCP segment received in
 * that namespace for that address got to its stack, which frees what it
 * takes without a recorded hit (a pure ACK, the final ACK of a handshake).
 * As many as distinct (namespace, address) pairs: kept until flow_free.
 */
struct endpoint {
	struct ht_node node;
	uint32_t source;
	uint8_t family;
	uint8_t addr[16];
	uint64_t netns;
};

static uint64_t endpoint_key(uint32_t source, uint64_t netns, uint8_t family, const uint8_t *addr)
{
	uint64_t h = ht_hash_fold(ht_hash_fold(KEY_END, source), netns);

	return ht_hash_fold16(ht_hash_fold(h, family), addr);
}

static const struct endpoint *endpoint_find(const struct flow *f, uint32_t source, uint64_t netns,
					    uint8_t family, const uint8_t *addr)
{
	for (struct ht_node *n =
		 ht_find_first(&f->endpoints, endpoint_key(source, netns, family, addr));
	     n; n = ht_find_next(n)) {
		const struct endpoint *e = ht_entry(n, struct endpoint, node);

		if (e->source == source && e->netns == netns && e->family == family &&
		    !memcmp(e->addr, addr, 16))
			return e;
	}
	return NULL;
}

/* A new packet's first hit: a TCP packet sent from a namespace marks its address. */
static void endpoint_note(struct flow *f, const struct flow_event *ev, const struct pkt_l3l4 *l,
			  enum pkt_hook_kind kind)
{
	if (kind != PKT_HOOK_KIND_TX || !ev->has_netns || !ev->has_skb || l->ip_proto != 6 ||
	    !l->has_l4 || !l->family || endpoint_find(f, ev->source, ev->netns, l->family, l->src))
		return;
	struct endpoint *e = calloc(1, sizeof(*e));

	if (!e)
		return; /* then its segments' fates stay open */
	e->source = ev->source;
	e->netns = ev->netns;
	e->family = l->family;
	memcpy(e->addr, l->src, 16);
	ht_insert(&f->endpoints, &e->node, endpoint_key(e->source, e->netns, e->family, e->addr));
}

static void endpoint_free(struct ht_node *n, void *ctx)
{
	(void)ctx;
	free(ht_entry(n, struct endpoint, node));
}

/*
 * Settled TCP packets close early, before the kernel frees their last copies
 * (the sender's, acknowledged or purged at close; a receive queue's). Their
 * data buffers are remembered here, a fixed table overwritten by newer ones,
 * so that a later QUEUE_PURGE of one is known as data that got somewhere.
 */
#define SETTLED_SLOTS (1u << 16)

struct settled_head {
	uint64_t head;
	uint64_t netns;
	const char *ifname; /* interned: valid until flow_free */
	uint32_t source;
	uint8_t used, has_netns;
	enum pkt_hook_kind kind; /* the last place: a receive or a transmit */
};

static struct settled_head *settled_slot(const struct flow *f, uint32_t source, uint64_t head)
{
	return &f->settled[ht_hash_add(ht_hash_add(KEY_HEAD, source), head) & (SETTLED_SLOTS - 1)];
}

static void settled_note(struct flow *f, const struct flow_packet *p, const struct flow_hop *pl)
{
	if (!f->settled || !pl)
		return;
	for (int i = 0; i < p->nbranches; i++) {
		const struct flow_branch *b = p->branches[i];

		if (!b->has_head)
			continue;
		*settled_slot(f, b->source, b->head) = (struct settled_head){
		    b->head, pl->netns, pl->ifname, b->source, 1, (uint8_t)pl->has_netns, pl->kind};
	}
}

static const struct settled_head *settled_find(const struct flow *f, const struct flow_branch *b)
{
	const struct settled_head *s;

	if (!f->settled || !b->has_head)
		return NULL;
	s = settled_slot(f, b->source, b->head);
	return s->used && s->head == b->head && s->source == b->source ? s : NULL;
}

/* ------------------------------------------------------------ setup */

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
		f->cfg.no_summaries = cfg->no_summaries;
		f->cfg.causes = cfg->causes;
	}
	if (cb)
		f->cb = *cb;
	f->next_id = 1;
	if (ht_init(&f->tracks, 0) || ht_init(&f->skbs, 0) || ht_init(&f->heads, 0) ||
	    ht_init(&f->content, 0) || ht_init(&f->strs, 0) || ht_init(&f->dirs, 0) ||
	    ht_init(&f->waits, 0) || ht_init(&f->tcpdirs, 0) || ht_init(&f->endpoints, 0) ||
	    !(f->settled = calloc(SETTLED_SLOTS, sizeof(*f->settled)))) {
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
	return h->drop[0] || h->kind == PKT_HOOK_KIND_FREE_DROP;
}

int flow_hop_on_path(const struct flow_packet *p, const struct flow_hop *h)
{
	return h->branch >= 0 && h->branch < p->nbranches && p->branches[h->branch]->main;
}

const char *flow_fate_name(enum flow_fate fate)
{
	switch (fate) {
	case FLOW_FATE_DELIVERED:
		return "delivered";
	case FLOW_FATE_DROPPED:
		return "dropped";
	case FLOW_FATE_FORWARDED:
		return "forwarded";
	case FLOW_FATE_IN_FLIGHT:
		return "in-flight";
	default:
		return "unknown";
	}
}

const char *flow_branch_how_name(enum flow_branch_how how)
{
	return how == FLOW_BRANCH_CLONE ? "clone" : how == FLOW_BRANCH_COPY ? "copy" : "original";
}

/* ------------------------------------------------------------ content keys */

static int has_content(const struct pkt_l3l4 *l)
{
	return l->family != 0;
}

/* What does not change from hop to hop: everything but TTL and checksums. */
uint64_t fp_exact(const struct pkt_l3l4 *l)
{
	uint64_t h = ht_hash_add(KEY_EXACT, l->family);

	h = ht_hash_bytes(h, l->src, 16);
	h = ht_hash_bytes(h, l->dst, 16);
	h = ht_hash_add(h, (uint64_t)l->ip_proto << 32 | (uint64_t)l->is_arp << 24 | l->arp_op);
	h = ht_hash_add(h, (uint64_t)l->ip_id << 32 | (uint64_t)l->sport << 16 | l->dport);
	h = ht_hash_add(h, (uint64_t)l->tcp_seq << 32 | l->tcp_ack);
	h = ht_hash_add(h, (uint64_t)l->tcp_flags << 40 | (uint64_t)l->icmp_type << 32 |
			       (uint64_t)l->icmp_id << 16 | l->icmp_seq);
	return ht_hash_add(h, (uint64_t)l->l4_payload_len << 16 | l->dns_id);
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
	uint64_t h = ht_hash_add(KEY_NAT, l->family);

	h = ht_hash_add(h, (uint64_t)l->ip_proto << 32 | l->ip_id);
	h = ht_hash_add(h, (uint64_t)l->tcp_seq << 32 | l->tcp_ack);
	h = ht_hash_add(h,
			(uint64_t)l->tcp_flags << 40 | (uint64_t)l->icmp_type << 32 | l->icmp_seq);
	return ht_hash_add(h, (uint64_t)l->l4_payload_len << 16 | l->dns_id);
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

static int packet_has_content(const struct flow_packet *p, uint64_t key)
{
	for (int i = 0; i < p->ncontent; i++)
		if (p->content[i].key == key)
			return 1;
	return 0;
}

static void packet_add_content(struct flow *f, struct flow_packet *p, uint64_t key)
{
	if (!key || packet_has_content(p, key) || p->ncontent == FLOW_MAX_KEYS)
		return;
	p->content[p->ncontent].key = key;
	p->content[p->ncontent].packet = p;
	ht_insert(&f->content, &p->content[p->ncontent].node, key);
	p->ncontent++;
}

/* ------------------------------------------------------------ lists */

/* Off the open list (by last hit: the window ends them). */
static void list_unlink(struct flow *f, struct flow_packet *p)
{
	if (p->lru_prev)
		p->lru_prev->lru_next = p->lru_next;
	else if (f->open_head == p)
		f->open_head = p->lru_next;
	if (p->lru_next)
		p->lru_next->lru_prev = p->lru_prev;
	else if (f->open_tail == p)
		f->open_tail = p->lru_prev;
	p->lru_prev = p->lru_next = NULL;
}

static void list_append(struct flow *f, struct flow_packet *p)
{
	p->lru_prev = f->open_tail;
	p->lru_next = NULL;
	if (f->open_tail)
		f->open_tail->lru_next = p;
	else
		f->open_head = p;
	f->open_tail = p;
}

/*
 * Every sk_buff of the packet freed: it waits out the correlation window in
 * f->closing, by last hit (a copy could still join by content until then).
 */
static void update_closing(struct flow *f, struct flow_packet *p)
{
	int closed = !p->finished && p->nbranches && ((!p->unknowable && !p->nalive) || p->settled);

	if (!closed) {
		if (p->heap_idx != HEAP_NONE)
			heap_remove(&f->closing, p->heap_idx);
	} else if (p->heap_idx != HEAP_NONE) {
		heap_update(&f->closing, p->heap_idx, p->last_ts, p->id);
	} else if (heap_push(&f->closing, p->last_ts, p->id, &p->heap_idx, p) < 0) {
		p->heap_idx = HEAP_NONE; /* then the window finishes it */
	}
}

/* ------------------------------------------------------------ directions */

/* Only compared and looked up (f->dirs is iterated only to free it): folded, not added. */
uint64_t dir_key(const struct flow_tuple *t, int reversed)
{
	uint64_t h = ht_hash_fold(KEY_DIR, t->family);

	h = ht_hash_fold16(h, reversed ? t->dst : t->src);
	h = ht_hash_fold16(h, reversed ? t->src : t->dst);
	h = ht_hash_fold(h, t->vlan_stack ^ t->netns << 1);
	return ht_hash_fold(h, reversed ? (uint64_t)t->dport << 16 | t->sport
					: (uint64_t)t->sport << 16 | t->dport);
}

static void dir_join(struct flow *f, struct flow_packet *p, uint64_t key)
{
	struct flow_dir *d = NULL;

	for (struct ht_node *n = ht_find_first(&f->dirs, key); n && !d; n = ht_find_next(n))
		if (ht_entry(n, struct flow_dir, node)->key == key)
			d = ht_entry(n, struct flow_dir, node);
	if (!d) {
		d = calloc(1, sizeof(*d));
		if (!d)
			return; /* pairing then assumes nothing older is in flight */
		d->key = key;
		ht_insert(&f->dirs, &d->node, key);
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

/* A new last hit: to the tail of its direction, which stays in order of last hit. */
static void dir_touch(struct flow_packet *p)
{
	struct flow_dir *d = p->dir;

	if (!d || d->tail == p)
		return;
	dir_unlink(p);
	p->dir = d;
	p->dir_prev = d->tail;
	d->tail->dir_next = p;
	d->tail = p;
}

static void dir_leave(struct flow *f, struct flow_packet *p)
{
	struct flow_dir *d = p->dir;

	if (!d)
		return;
	dir_unlink(p);
	p->dir = NULL;
	if (!d->head) {
		ht_remove(&f->dirs, &d->node);
		free(d);
	}
}

static void dir_free(struct ht_node *n, void *ctx)
{
	(void)ctx;
	free(ht_entry(n, struct flow_dir, node));
}

/* ------------------------------------------------------------ branches */

static uint64_t track_key(uint32_t source, uint64_t track)
{
	return ht_hash_add(ht_hash_add(KEY_TRACK, source), track);
}

static uint64_t skb_key(uint32_t source, uint64_t skb)
{
	return ht_hash_add(ht_hash_add(KEY_SKB, source), skb);
}

static uint64_t head_key(uint32_t source, uint64_t head)
{
	return ht_hash_add(ht_hash_add(KEY_HEAD, source), head);
}

static struct flow_branch *find_track(const struct flow *f, uint32_t source, uint64_t track)
{
	for (struct ht_node *n = ht_find_first(&f->tracks, track_key(source, track)); n;
	     n = ht_find_next(n)) {
		struct flow_branch *b = ht_entry(n, struct flow_branch, by_track);

		if (b->source == source && b->track == track)
			return b;
	}
	return NULL;
}

static struct flow_branch *find_skb(const struct flow *f, uint32_t source, uint64_t skb)
{
	for (struct ht_node *n = ht_find_first(&f->skbs, skb_key(source, skb)); n;
	     n = ht_find_next(n)) {
		struct flow_branch *b = ht_entry(n, struct flow_branch, by_skb);

		if (b->source == source && b->skb == skb)
			return b;
	}
	return NULL;
}

/* The branch that last had this data buffer (one owner at a time: the newest). */
static struct flow_branch *find_head(const struct flow *f, uint32_t source, uint64_t head)
{
	for (struct ht_node *n = ht_find_first(&f->heads, head_key(source, head)); n;
	     n = ht_find_next(n)) {
		struct flow_branch *b = ht_entry(n, struct flow_branch, by_head);

		if (b->source == source && b->head == head)
			return b;
	}
	return NULL;
}

static void branch_unindex(struct flow *f, struct flow_branch *b)
{
	if (b->in_track)
		ht_remove(&f->tracks, &b->by_track);
	if (b->in_skb)
		ht_remove(&f->skbs, &b->by_skb);
	if (b->in_head)
		ht_remove(&f->heads, &b->by_head);
	b->in_track = b->in_skb = b->in_head = 0;
}

/* The sk_buff of b is freed (or its address has a new id): no later hit has its id. */
static void branch_freed(struct flow *f, struct flow_branch *b)
{
	if (b->freed)
		return;
	b->freed = 1;
	b->packet->nalive--;
	if (b->in_skb) {
		ht_remove(&f->skbs, &b->by_skb);
		b->in_skb = 0;
	}
}

/* b now owns its data buffer in the index (a buffer has one packet at a time). */
static void head_claim(struct flow *f, struct flow_branch *b)
{
	struct flow_branch *old = find_head(f, b->source, b->head);

	if (old == b)
		return;
	if (old && old->packet == b->packet)
		return; /* a clone: the packet is found through the first */
	if (old) {
		ht_remove(&f->heads, &old->by_head);
		old->in_head = 0;
	}
	ht_insert(&f->heads, &b->by_head, head_key(b->source, b->head));
	b->in_head = 1;
}

static struct flow_branch *branch_new(struct flow *f, struct flow_packet *p,
				      const struct flow_event *ev, enum flow_branch_how how,
				      int parent, int main)
{
	if (p->nbranches == p->branches_cap) {
		int cap = p->branches_cap ? 2 * p->branches_cap : 2;
		struct flow_branch **a = realloc(p->branches, (size_t)cap * sizeof(*a));

		if (!a)
			return NULL;
		p->branches = a;
		p->branches_cap = cap;
	}
	struct flow_branch *b = freelist_get(&f->free_branches, sizeof(*b));

	if (!b)
		return NULL;
	b->has_track = ev->has_track;
	b->track = ev->track;
	b->has_skb = ev->has_skb && ev->has_track;
	b->skb = ev->skb;
	b->has_head = ev->has_head;
	b->head = ev->head;
	b->source = ev->source;
	b->how = how;
	b->parent = parent;
	b->main = main;
	b->packet = p;
	b->index = p->nbranches;
	p->branches[p->nbranches++] = b;
	p->nalive++;
	if (b->has_track) {
		ht_insert(&f->tracks, &b->by_track, track_key(b->source, b->track));
		b->in_track = 1;
	}
	if (b->has_skb) {
		/* another id at this address: the sk_buff that had it is gone */
		struct flow_branch *old = find_skb(f, b->source, b->skb);

		if (old) {
			branch_freed(f, old);
			if (old->packet != p)
				update_closing(f, old->packet);
		}
		ht_insert(&f->skbs, &b->by_skb, skb_key(b->source, b->skb));
		b->in_skb = 1;
	}
	if (b->has_head)
		head_claim(f, b);
	if (!b->has_track || !b->has_skb)
		p->unknowable = 1; /* no free will say it is over: the window will */
	return b;
}

/* The branch the path goes on from: the newest main one. */
static int path_tip(const struct flow_packet *p)
{
	for (int i = p->nbranches - 1; i >= 0; i--)
		if (p->branches[i]->main)
			return i;
	return 0;
}

/* ------------------------------------------------------------ packets */

/*
 * A header as the packet's hops saw it. Hops point to one: most hops of a
 * packet see the header the hop before saw, and a copy in every hop made
 * half of its size (cache misses when the packet is added to and finished).
 */
struct flow_look {
	struct flow_look *next; /* the packet's, newest first */
	struct pkt_l3l4 l;
};

/*
 * Finished packets are kept for the next ones, with their hop and branch
 * arrays: a packet and a hop array of 8 are beyond glibc's per-thread
 * cache, and its bins cost the analysis about a sixth of its time. Bounded:
 * the pool never holds more than this, and the packets in flight are what
 * they were.
 */
#define PACKET_POOL_MAX 128

static void free_packet(struct flow *f, struct flow_packet *p)
{
	/* the hops are read only if some has a summary: by then they are out of the caches */
	for (size_t i = 0; p->nsummaries && i < p->nhops; i++)
		if (p->hops[i].summary)
			free(p->hops[i].summary);
	for (int i = 0; i < p->nbranches; i++)
		if (f)
			freelist_put(&f->free_branches, p->branches[i]);
		else
			free(p->branches[i]);
	free(p->note);
	while (p->looks) {
		struct flow_look *k = p->looks;

		p->looks = k->next;
		if (f)
			freelist_put(&f->free_looks, k);
		else
			free(k);
	}
	if (f && f->npool < PACKET_POOL_MAX) {
		p->all_next = f->pool;
		f->pool = p;
		f->npool++;
		return;
	}
	free(p->branches);
	free(p->hops);
	free(p);
}

/* The part of a packet that starts zeroed: the rest is written before it is read. */
#define PACKET_CLEARED offsetof(struct flow_packet, tuples)

/*
 * A packet from the pool (its arrays kept, empty) or new, cleared up to its
 * tuples: clearing all of its 1.5 KB was a quarter of the analysis' cache
 * misses on writes (cachegrind), for lines a packet mostly never uses.
 */
static struct flow_packet *packet_alloc(struct flow *f)
{
	struct flow_packet *p = f->pool;
	struct flow_hop *hops = NULL;
	size_t hops_cap = 0;
	struct flow_branch **branches = NULL;
	int branches_cap = 0;

	if (p) {
		f->pool = p->all_next;
		f->npool--;
		hops = p->hops;
		hops_cap = p->hops_cap;
		branches = p->branches;
		branches_cap = p->branches_cap;
	} else if (!(p = malloc(sizeof(*p)))) {
		return NULL;
	}
	memset(p, 0, PACKET_CLEARED);
	p->hops = hops;
	p->hops_cap = hops_cap;
	p->branches = branches;
	p->branches_cap = branches_cap;
	p->drop[0] = '\0';
	p->summary[0] = '\0';
	return p;
}

static void settle_at_endpoint(const struct flow *f, struct flow_packet *p);

void packet_unref(struct flow *f, struct flow_packet *p)
{
	if (--p->refs > 0)
		return;
	settle_at_endpoint(f, p);
	if (f->cb.release)
		f->cb.release(p, f->cb.ctx);
	if (p->all_prev)
		p->all_prev->all_next = p->all_next;
	else
		f->all_head = p->all_next;
	if (p->all_next)
		p->all_next->all_prev = p->all_prev;
	free_packet(f, p);
	f->stats.in_flight--;
}

/* Same place already seen: then a matching content is another packet. */
static int packet_has_place(const struct flow_packet *p, const struct flow_event *ev,
			    const char *hook, const char *ifname)
{
	for (size_t i = 0; i < p->nhops; i++) {
		const struct flow_hop *h = &p->hops[i];

		if (h->source == ev->source && h->dir == ev->dir && h->netns == ev->netns &&
		    h->ifname == ifname && h->hook == hook)
			return 1;
	}
	return 0;
}

static struct flow_packet *find_by_content(struct flow *f, uint64_t key,
					   const struct flow_event *ev, const char *hook,
					   const char *ifname)
{
	if (!key)
		return NULL;
	for (struct ht_node *n = ht_find_first(&f->content, key); n; n = ht_find_next(n)) {
		struct flow_content_key *ck = ht_entry(n, struct flow_content_key, node);
		struct flow_packet *p = ck->packet;

		if (ck->key != key)
			continue;
		if (ev->ts_ns > p->last_ts + f->cfg.corr_window_ns ||
		    p->last_ts > ev->ts_ns + f->cfg.corr_window_ns)
			continue;
		if (packet_has_place(p, ev, hook, ifname))
			continue;
		return p;
	}
	return NULL;
}

static void tuple_of(const struct pkt_l3l4 *l, const struct flow_event *ev, struct flow_tuple *t)
{
	memset(t, 0, sizeof(*t));
	t->family = l->family;
	memcpy(t->src, l->src, 16);
	memcpy(t->dst, l->dst, 16);
	if (l->ip_proto == 6 || l->ip_proto == 17) {
		t->sport = l->sport;
		t->dport = l->dport;
	}
	t->vlan_stack = ev->pi->vlan_stack;
	/* pkt-record's hits: a flow is per namespace (addresses repeat across them) */
	t->netns = ev->has_skb && ev->has_netns ? ev->netns : 0;
}

static void packet_add_tuple(struct flow_packet *p, const struct pkt_l3l4 *l,
			     const struct flow_event *ev)
{
	struct flow_tuple t;

	if (!l->family)
		return;
	tuple_of(l, ev, &t);
	for (int i = 0; i < p->ntuples; i++)
		if (!memcmp(&p->tuples[i], &t, sizeof(t)))
			return;
	if (p->ntuples < FLOW_MAX_TUPLES)
		p->tuples[p->ntuples++] = t;
}

/* Looks the same as the hop before: the same addresses, ports and tunnel. */
static int same_look(const struct flow_hop *h, const struct pkt_l3l4 *l, const char *encap)
{
	return h->l->family == l->family && !memcmp(h->l->src, l->src, 16) &&
	       !memcmp(h->l->dst, l->dst, 16) && h->l->sport == l->sport &&
	       h->l->dport == l->dport && h->encap == encap;
}

struct names {
	const struct name *hook, *ifname, *drop, *comm;
	const char *loc;
};

/*
 * The header of the packet's newest hop if it is l's, else a new one for it.
 * The first hop's is the packet's own (p->pi is its dissection): most
 * packets then keep no look of their own.
 */
static const struct pkt_l3l4 *packet_look(struct flow *f, struct flow_packet *p,
					  const struct pkt_l3l4 *l)
{
	if (!p->nhops)
		return pkt_innermost(&p->pi);
	if (!memcmp(p->hops[p->nhops - 1].l, l, sizeof(*l)))
		return p->hops[p->nhops - 1].l;
	struct flow_look *k = freelist_get(&f->free_looks, sizeof(*k));

	if (!k)
		return NULL;
	k->l = *l;
	k->next = p->looks;
	p->looks = k;
	return &k->l;
}

static int add_hop(struct flow *f, struct flow_packet *p, struct flow_branch *b,
		   const struct flow_event *ev, const struct pkt_l3l4 *l, const struct names *nm)
{
	if (p->nhops == p->hops_cap) {
		size_t cap = p->hops_cap ? p->hops_cap * 2 : 4;
		struct flow_hop *h = realloc(p->hops, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		p->hops = h;
		p->hops_cap = cap;
	}
	int bi = b->index;
	/* the previous hop of the path, for what changed on the way */
	const struct flow_hop *prev = NULL;

	if (b->main)
		for (size_t i = p->nhops; i-- > 0 && !prev;)
			if (p->branches[p->hops[i].branch]->main)
				prev = &p->hops[i];

	const struct pkt_l3l4 *look = packet_look(f, p, l);

	if (!look)
		return -ENOMEM;
	struct flow_hop *h = &p->hops[p->nhops];

	h->ts_ns = ev->ts_ns;
	h->event_no = f->stats.events;
	h->netns = ev->netns;
	h->hook = nm->hook->s;
	h->kind = nm->hook->kind;
	h->ifname = nm->ifname->s;
	h->drop = nm->drop->s;
	h->loc = nm->loc;
	h->comm = nm->comm->s;
	h->pid = ev->pid;
	h->encap = ev->pi->encap;
	h->summary = NULL;
	h->source = ev->source;
	h->len = ev->len;
	h->has_netns = ev->has_netns;
	h->dir = ev->dir;
	h->branch = bi;
	h->l = look;
	/*
	 * Most hops look the same: a summary of its own only where the packet
	 * changed on the way (NAT, tunnel), which is where it is shown.
	 */
	if (prev && !f->cfg.no_summaries && !same_look(prev, l, h->encap)) {
		char buf[FLOW_SUMMARY_LEN];
		const char *sum = ev->summary;

		if (!sum) {
			pkt_summary(ev->pi, buf, sizeof(buf));
			sum = buf;
		}
		if (strcmp(sum, p->summary) != 0 && (h->summary = strdup(sum)))
			p->nsummaries++; /* NULL on failure: shown as the packet's */
	}
	p->nhops++;
	if (h->kind == PKT_HOOK_KIND_DELIVER) {
		/* noted here, so that deciding its fate need not read every hop again */
		size_t *first = b->main ? &p->read_on_path : &p->read_on_copy;

		if (!*first)
			*first = p->nhops;
		p->nreads++;
	}

	if (ev->ts_ns < p->first_ts)
		p->first_ts = ev->ts_ns;
	if (ev->ts_ns > p->last_ts) {
		p->last_ts = ev->ts_ns;
		dir_touch(p);
	}
	if (b->main) {
		if (!p->path_last_ts || ev->ts_ns < p->path_first_ts)
			p->path_first_ts = ev->ts_ns;
		if (ev->ts_ns > p->path_last_ts)
			p->path_last_ts = ev->ts_ns;
		packet_add_tuple(p, l, ev);
	}
	/* a drop: the failed route lookup or neighbour before it, while they are held */
	if (f->cfg.causes && flow_hop_is_drop(h) && why_note_drop(p, h, f->cfg.causes) < 0)
		return -ENOMEM;
	/* how the branch ends so far: a read is final; a free ends the sk_buff */
	b->nhops++;
	b->last_hop = p->nhops - 1;
	if (b->end != FLOW_END_DELIVER && b->end != FLOW_END_CONTINUED) {
		if (h->kind == PKT_HOOK_KIND_DELIVER)
			b->end = FLOW_END_DELIVER;
		else if (flow_hop_is_drop(h))
			b->end = FLOW_END_DROP;
		else if (h->kind == PKT_HOOK_KIND_FREE_CONSUME)
			b->end = FLOW_END_CONSUME;
		else if (h->kind != PKT_HOOK_KIND_CAUSE)
			b->end = FLOW_END_OPEN;
	}
	if (pkt_hook_kind_is_free(h->kind) && b->has_track && b->has_skb)
		branch_freed(f, b);
	/*
	 * A TCP segment read by a process or received where its destination
	 * lives is settled: TCP frees it (and the sender its copy, once
	 * acknowledged) without a recorded hit, so waiting for the packet
	 * window would only hold it. It closes like a freed one.
	 */
	if (!p->settled && b->main && l->ip_proto == 6 && l->has_l4 && h->has_netns &&
	    (h->kind == PKT_HOOK_KIND_DELIVER ||
	     (h->kind == PKT_HOOK_KIND_RX &&
	      endpoint_find(f, h->source, h->netns, l->family, l->dst))))
		p->settled = 1;
	return 0;
}

/*
 * A hit of a known id whose content no kernel path makes from the previous
 * hop's: pkt-record kept an id whose sk_buff was freed where no hook saw it,
 * and the address went to another packet. One sk_buff keeps its protocol,
 * its TCP sequence number, its echo type and sequence; NAT rewrites one
 * side's address, never swaps both.
 */
static int stale_track(const struct pkt_l3l4 *prev, const struct pkt_l3l4 *l)
{
	if (!has_content(prev) || !has_content(l) || !prev->has_l4 || !l->has_l4)
		return 0;
	if (prev->family != l->family || prev->ip_proto != l->ip_proto)
		return 1;
	if (l->ip_proto == 6 && prev->tcp_seq != l->tcp_seq)
		return 1;
	if ((l->ip_proto == 1 || l->ip_proto == 58) &&
	    (prev->icmp_type != l->icmp_type || prev->icmp_seq != l->icmp_seq))
		return 1;
	return memcmp(prev->src, prev->dst, 16) != 0 && !memcmp(prev->src, l->dst, 16) &&
	       !memcmp(prev->dst, l->src, 16);
}

/* The content of b's newest hop that has some (a read's snapshot may have none). */
static const struct pkt_l3l4 *last_content(const struct flow_branch *b)
{
	const struct flow_packet *p = b->packet;

	for (size_t i = b->last_hop + 1; i-- > 0;)
		if (p->hops[i].branch == b->index && has_content(p->hops[i].l))
			return p->hops[i].l;
	return p->hops[b->last_hop].l;
}

/*
 * A new id on the same data buffer where a tunnel was entered or left (VXLAN,
 * Geneve, GRE...): the kernel pushed or pulled the outer headers on the same
 * sk_buff, which pkt-record then tracks under a new id. The packet goes on
 * (on this host, and to the next one), it is not a copy of it.
 */
static int tunnel_step(const struct flow_packet *p, const struct flow_branch *from,
		       const struct flow_event *ev)
{
	const char *was = p->hops[from->last_hop].encap, *now = ev->pi->encap;

	return (was != NULL) != (now != NULL) || (was && now && strcmp(was, now));
}

/* A hit's content keys (fp_exact, fp_nat of its layer), hashed once for the hit. */
struct hit_fps {
	bool done;
	uint64_t exact, nat;
};

static void hit_fps(struct hit_fps *k, const struct pkt_l3l4 *l)
{
	if (k->done)
		return;
	k->exact = has_content(l) ? fp_exact(l) : 0;
	k->nat = has_content(l) ? fp_nat(l) : 0;
	k->done = true;
}

/* The packet the new branch's data belongs to, and how; NULL: a new packet. */
static struct flow_packet *place_branch(struct flow *f, const struct flow_event *ev,
					const struct pkt_l3l4 *l, struct hit_fps *fps,
					const struct names *nm, enum flow_branch_how *how,
					int *parent)
{
	hit_fps(fps, l);
	uint64_t exact = fps->exact, nat = fps->nat;
	struct flow_packet *p = NULL;

	if (ev->has_head) {
		struct flow_branch *hb = find_head(f, ev->source, ev->head);
		/*
		 * The buffer's owner, if the content agrees: a freed buffer is
		 * soon another packet's. A read's snapshot starts where the reader
		 * is (payload), so only the buffer speaks for it.
		 */
		if (hb && !hb->packet->finished &&
		    (nm->hook->kind == PKT_HOOK_KIND_DELIVER || !exact ||
		     packet_has_content(hb->packet, exact) ||
		     (nat && packet_has_content(hb->packet, nat)))) {
			*how = FLOW_BRANCH_CLONE;
			/*
			 * A branch the path went on from (a tunnel step re-tracked the
			 * same buffer: VXLAN in, then out) hands on to the path's tip:
			 * the decapsulation at the far end continues that, not the
			 * inner packet before the encapsulation.
			 */
			*parent = hb->end == FLOW_END_CONTINUED ? path_tip(hb->packet) : hb->index;
			return hb->packet;
		}
	}
	p = find_by_content(f, exact, ev, nm->hook->s, nm->ifname->s);
	if (!p)
		p = find_by_content(f, nat, ev, nm->hook->s, nm->ifname->s);
	if (p) {
		*how = FLOW_BRANCH_COPY;
		*parent = path_tip(p);
	}
	return p;
}

static struct flow_packet *packet_new(struct flow *f, const struct flow_event *ev)
{
	struct flow_packet *p = packet_alloc(f);

	if (!p)
		return NULL;
	p->id = f->next_id++;
	p->has_track = ev->has_track;
	p->track = ev->track;
	p->source = ev->source;
	p->first_ts = p->last_ts = ev->ts_ns;
	p->pi = *ev->pi;
	if (f->cfg.no_summaries)
		; /* packet_alloc: "" (formatting it was a seventh of --stats' time) */
	else if (ev->summary)
		snprintf(p->summary, sizeof(p->summary), "%s", ev->summary);
	else
		pkt_summary(ev->pi, p->summary, sizeof(p->summary));
	p->fate_branch = p->fate_hop = -1;
	p->heap_idx = HEAP_NONE;
	const struct pkt_l3l4 *l = pkt_innermost(ev->pi);

	if (has_content(l)) {
		struct flow_tuple t;

		tuple_of(l, ev, &t);
		dir_join(f, p, dir_key(&t, 0));
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
	return p;
}

static void finish_packet(struct flow *f, struct flow_packet *p, int at_end);

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
		struct flow_packet *a = f->open_head, *b = heap_top(&f->closing);

		if (a && !(a->last_ts + f->cfg.packet_window_ns < f->now))
			a = NULL;
		if (b && !(b->last_ts + f->cfg.corr_window_ns < f->now))
			b = NULL;
		if (!a && !b)
			break;
		finish_packet(f, !b || (a && a->last_ts <= b->last_ts) ? a : b, 0);
	}
	expire_waits(f, 0);
}

int flow_add_event(struct flow *f, const struct flow_event *ev, uint64_t *packet_id)
{
	const struct pkt_l3l4 *l = pkt_innermost(ev->pi);
	struct names nm = {
	    event_name(f, ev, ev->hook, PKT_HOOK_LEN),
	    event_name(f, ev, ev->ifname, PKT_IFNAME_LEN),
	    event_name(f, ev, ev->drop, PKT_DROP_LEN),
	    event_name(f, ev, ev->comm, PKT_COMM_LEN),
	    "",
	};
	struct flow_branch *b = NULL;
	struct flow_packet *p = NULL;
	struct hit_fps fps = {.done = false};

	if (!nm.hook || !nm.ifname || !nm.drop || !nm.comm)
		return -ENOMEM;
	if (ev->loc && ev->loc[0]) { /* only frees have one */
		const struct name *loc = event_name(f, ev, ev->loc, PKT_LOC_LEN);

		if (!loc)
			return -ENOMEM;
		nm.loc = loc->s;
	}
	advance(f, ev->ts_ns);
	/*
	 * A cause (an ICMP error or a reset sent because of the packet, a full
	 * socket queue, the driver's return code) names its packet and is no
	 * place it passed: no hop, no fate, no pair (hooks.def).
	 */
	if (pkt_hook_kind_is_cause(nm.hook->kind)) {
		if (ev->has_track && (b = find_track(f, ev->source, ev->track))) {
			if (why_note_cause(b->packet, ev, nm.hook->s, nm.ifname->s) < 0)
				return -ENOMEM;
			if (packet_id)
				*packet_id = b->packet->id;
		}
		f->stats.causes++;
		return 0;
	}
	if (ev->has_track)
		b = find_track(f, ev->source, ev->track);
	if (b && stale_track(last_content(b), l)) {
		/* its sk_buff was freed unseen and the address reused: a new packet */
		branch_freed(f, b);
		update_closing(f, b->packet);
		ht_remove(&f->tracks, &b->by_track);
		b->in_track = 0;
		b = NULL;
	}
	if (b) {
		p = b->packet;
	} else {
		enum flow_branch_how how = FLOW_BRANCH_ORIGINAL;
		int parent = -1, main = 1;

		p = place_branch(f, ev, l, &fps, &nm, &how, &parent);
		if (p && !ev->has_track) {
			/* foreign captures: one branch, the path, found by content */
			b = p->branches[path_tip(p)];
		} else if (p) {
			struct flow_branch *from = p->branches[parent];
			/*
			 * A copy goes on with the path while the path has not ended
			 * (re-allocation); a clone, or a copy after the end, is a
			 * branch of its own.
			 */
			main = (how == FLOW_BRANCH_COPY || tunnel_step(p, from, ev)) &&
			       from->main &&
			       (from->end == FLOW_END_OPEN || from->end == FLOW_END_CONSUME);
			if (main)
				from->end = FLOW_END_CONTINUED;
		} else {
			p = packet_new(f, ev);
			if (!p)
				return -ENOMEM;
			endpoint_note(f, ev, l, nm.hook->kind);
		}
		if (!b) {
			b = branch_new(f, p, ev, how, parent, main);
			if (!b)
				return -ENOMEM;
		}
	}
	list_unlink(f, p);
	/* a hop that looks like the one before has its keys already */
	if (!p->nhops || !same_fp(p->hops[p->nhops - 1].l, l)) {
		if (has_content(l)) {
			hit_fps(&fps, l);
			packet_add_content(f, p, fps.exact);
			packet_add_content(f, p, fps.nat);
		}
	}
	int err = add_hop(f, p, b, ev, l, &nm);

	list_append(f, p);
	update_closing(f, p);
	f->stats.events++;
	if (packet_id)
		*packet_id = p->id;
	return err;
}

/* ------------------------------------------------------------ fate */

/*
 * fate_detail's forms: set_fate keeps what one says (flow_fate_text) and
 * flow_fate_detail formats it when something prints it, so that --stats
 * formats none.
 */
enum fate_form {
	FF_NONE,
	FF_READ,	 /* arg: comm, pid, copy, others */
	FF_FWD_ANSWERED, /* at, arg: the answer */
	FF_ANSWERED,	 /* at, arg */
	FF_CAME_BACK,	 /* at, arg: the request; arg2: a drop after the raw socket's copy */
	FF_AT_ENDPOINT,	 /* at */
	FF_LEFT,	 /* at, copy */
	FF_PURGE_TX,	 /* at */
	FF_PURGE_RX,	 /* at */
	FF_SETTLED_TX,	 /* at */
	FF_SETTLED_RX,	 /* at */
	FF_NO_SOCKET,	 /* at */
	FF_DROPPED,	 /* at, arg: the reason */
	FF_CONSUMED,	 /* at */
	FF_IN_FLIGHT,	 /* at */
	FF_UNKNOWN,	 /* at, arg: its hook or NULL */
};

static void where(const struct flow_fate_text *t, char *buf, size_t cap)
{
	const char *ifname = t->at.ifname && t->at.ifname[0] ? t->at.ifname : "-";

	if (t->at.has_netns)
		snprintf(buf, cap, "%s@%" PRIu64, ifname, t->at.netns);
	else
		snprintf(buf, cap, "%s", ifname);
}

const char *flow_fate_detail(const struct flow_packet *p, char *buf, size_t cap)
{
	const struct flow_fate_text *t = &p->fate_text;
	const char *ifname = t->at.ifname && t->at.ifname[0] ? t->at.ifname : "-";
	char place[64];
	int n;

	if (!cap)
		return buf;
	buf[0] = '\0';
	where(t, place, sizeof(place));
	switch ((enum fate_form)t->form) {
	case FF_NONE:
		break;
	case FF_READ:
		n = snprintf(buf, cap, "delivered to %s %" PRIu32 "%s", t->arg, t->pid,
			     t->copy ? " (copy)" : "");
		if (t->others && n > 0 && (size_t)n < cap)
			snprintf(buf + n, cap - (size_t)n, "; %d read%s by other processes",
				 t->others, t->others == 1 ? "" : "s");
		break;
	case FF_FWD_ANSWERED:
		snprintf(buf, cap, "forwarded: left through %s, answered by %s", place, t->arg);
		break;
	case FF_ANSWERED:
		if (t->at.has_netns)
			snprintf(buf, cap, "delivered to netns %" PRIu64 " (%s), answered by %s",
				 t->at.netns, ifname, t->arg);
		else
			snprintf(buf, cap, "delivered (last seen at %s), answered by %s", ifname,
				 t->arg);
		break;
	case FF_CAME_BACK:
		n = snprintf(buf, cap, "delivered to netns %" PRIu64 " (%s), where %s came from",
			     t->at.netns, ifname, t->arg);
		if (t->arg2 && n > 0 && (size_t)n < cap)
			snprintf(buf + n, cap - (size_t)n,
				 " (freed %s after any raw socket's copy)", t->arg2);
		break;
	case FF_AT_ENDPOINT:
		snprintf(buf, cap, "delivered: received at %s, the namespace of its destination",
			 place);
		break;
	case FF_LEFT:
		snprintf(buf, cap, "forwarded: left through %s%s", place, t->copy ? " (copy)" : "");
		break;
	case FF_PURGE_TX:
		snprintf(buf, cap, "forwarded: left through %s; freed QUEUE_PURGE at close", place);
		break;
	case FF_PURGE_RX:
		snprintf(buf, cap,
			 "delivered: received at %s; freed QUEUE_PURGE when its "
			 "socket closed",
			 place);
		break;
	case FF_SETTLED_TX:
	case FF_SETTLED_RX:
		snprintf(buf, cap, "%s %s before; freed QUEUE_PURGE at close",
			 t->form == FF_SETTLED_TX ? "forwarded: its data left through"
						  : "delivered: its data was received at",
			 place);
		break;
	case FF_NO_SOCKET:
		snprintf(buf, cap,
			 "unknown: freed NO_SOCKET at %s after any raw socket's copy "
			 "(skb:skb_copy_datagram_iovec would say who read it)",
			 place);
		break;
	case FF_DROPPED:
		snprintf(buf, cap, "dropped: %s at %s", t->arg, place);
		break;
	case FF_CONSUMED:
		snprintf(buf, cap, "delivered: consumed on the host after %s", place);
		break;
	case FF_IN_FLIGHT:
		snprintf(buf, cap, "in-flight: the recording ended after %s", place);
		break;
	case FF_UNKNOWN:
		if (t->arg)
			snprintf(buf, cap, "unknown: last seen at %s (%s)", place, t->arg);
		else
			snprintf(buf, cap, "unknown: last seen at %s", place);
		break;
	}
	return buf;
}

/* A fate text of form naming the place of hop h. */
static struct flow_fate_text fate_at(enum fate_form form, const struct flow_hop *h)
{
	struct flow_fate_text t = {.form = form};

	t.at.netns = h->netns;
	t.at.ifname = h->ifname;
	t.at.has_netns = h->has_netns;
	return t;
}

/* The last hop of branch bi that is not a free or a read: where it was. */
static const struct flow_hop *last_place(const struct flow_packet *p, int bi)
{
	for (size_t i = p->branches[bi]->last_hop + 1; i-- > 0;) {
		const struct flow_hop *h = &p->hops[i];

		if (h->branch == bi &&
		    (h->kind == PKT_HOOK_KIND_TX || h->kind == PKT_HOOK_KIND_RX ||
		     h->kind == PKT_HOOK_KIND_UNKNOWN))
			return h;
	}
	return NULL;
}

/* Did branch bi's data leave through a device (its last place a transmit, no end after)? */
static int branch_left(const struct flow_packet *p, int bi)
{
	const struct flow_branch *b = p->branches[bi];
	const struct flow_hop *h = last_place(p, bi);

	return h && h->kind == PKT_HOOK_KIND_TX &&
	       (b->end == FLOW_END_OPEN || b->end == FLOW_END_CONSUME);
}

static void set_fate(struct flow_packet *p, enum flow_fate fate, int bi, const struct flow_hop *h,
		     const struct flow_fate_text *t)
{
	p->fate = fate;
	p->fate_branch = bi;
	p->fate_hop = h ? (int)(h - p->hops) : -1;
	p->fate_text = *t;
	p->dropped = fate == FLOW_FATE_DROPPED;
	if (p->dropped)
		snprintf(p->drop, sizeof(p->drop), "%s", h && h->drop[0] ? h->drop : "unknown");
}

/* Delivered: read at hop k; other processes that read a copy are counted. */
static void set_delivered(struct flow_packet *p, size_t k)
{
	const struct flow_hop *h = &p->hops[k];
	struct flow_fate_text t = {.form = FF_READ};
	int others = 0;

	for (size_t i = 0; p->nreads > 1 && i < p->nhops; i++)
		others += p->hops[i].kind == PKT_HOOK_KIND_DELIVER && p->hops[i].pid != h->pid;
	t.arg = h->comm[0] ? h->comm : "pid";
	t.pid = h->pid;
	t.copy = !p->branches[h->branch]->main;
	t.others = others;
	set_fate(p, FLOW_FATE_DELIVERED, h->branch, h, &t);
}

void packet_prefer_reader(struct flow_packet *p, uint32_t pid)
{
	if (p->fate != FLOW_FATE_DELIVERED || !pid || p->fate_hop < 0 ||
	    p->hops[p->fate_hop].pid == pid)
		return;
	for (size_t k = 0; k < p->nhops; k++)
		if (p->hops[k].kind == PKT_HOOK_KIND_DELIVER && p->hops[k].pid == pid) {
			set_delivered(p, k);
			return;
		}
}

/* The first hop of the packet's path: where it was sent from. */
static const struct flow_hop *path_origin(const struct flow_packet *p)
{
	for (size_t i = 0; i < p->nhops; i++)
		if (flow_hop_on_path(p, &p->hops[i]))
			return &p->hops[i];
	return NULL;
}

/* Only what the packet alone left open: a drop, a read, an exit or a consumption says more. */
static int fate_open(const struct flow_packet *p)
{
	return p->nhops && (p->fate == FLOW_FATE_UNKNOWN || p->fate == FLOW_FATE_IN_FLIGHT);
}

void packet_answered(struct flow_packet *p, const char *answer)
{
	struct flow_fate_text t;

	if (!fate_open(p))
		return;
	int tip = path_tip(p);
	const struct flow_hop *pl = last_place(p, tip);

	if (!pl)
		pl = &p->hops[p->branches[tip]->last_hop];
	if (pl->kind == PKT_HOOK_KIND_TX) {
		/* no later hop here (the recording ended right after): the answerer is beyond */
		t = fate_at(FF_FWD_ANSWERED, pl);
		t.arg = answer;
		set_fate(p, FLOW_FATE_FORWARDED, tip, pl, &t);
		return;
	}
	t = fate_at(FF_ANSWERED, pl);
	t.arg = answer;
	set_fate(p, FLOW_FATE_DELIVERED, tip, pl, &t);
}

void packet_came_back(struct flow_packet *p, const struct flow_packet *req, const char *request)
{
	struct flow_fate_text t;

	if (!fate_open(p))
		return;
	const struct flow_hop *o = path_origin(req);
	int tip = path_tip(p);
	const struct flow_hop *pl = last_place(p, tip);
	const struct flow_hop *th = &p->hops[p->branches[tip]->last_hop];

	/*
	 * The request was sent from a namespace (its first hop a transmit
	 * there) and the reply was received in it, on the same host: it got to
	 * the asker's stack. A request first seen passing through (a router)
	 * says nothing of where its sender is.
	 */
	if (!o || !pl || o->kind != PKT_HOOK_KIND_TX || pl->kind != PKT_HOOK_KIND_RX ||
	    !o->has_netns || !pl->has_netns || o->netns != pl->netns || o->source != pl->source)
		return;
	t = fate_at(FF_CAME_BACK, pl);
	t.arg = request;
	/* an echo reply freed NO_SOCKET: a raw socket's copy is who read it, unrecorded */
	if (flow_hop_is_drop(th))
		t.arg2 = th->drop[0] ? th->drop : "unknown";
	set_fate(p, FLOW_FATE_DELIVERED, tip, pl, &t);
}

static int is_tcp(const struct flow_packet *p)
{
	const struct pkt_l3l4 *l = pkt_innermost(&p->pi);

	return l->family && l->ip_proto == 6 && l->has_l4;
}

/*
 * Still unknown once pairing is done: a TCP segment whose path ends received
 * in the namespace that sends from its destination address got to that
 * namespace's TCP (which frees an ACK without a recorded hit).
 */
static void settle_at_endpoint(const struct flow *f, struct flow_packet *p)
{
	struct flow_fate_text t;

	if (p->fate != FLOW_FATE_UNKNOWN || !p->nhops || !is_tcp(p))
		return;
	int tip = path_tip(p);
	const struct flow_hop *pl = last_place(p, tip);

	if (!pl || pl->kind != PKT_HOOK_KIND_RX || !pl->has_netns ||
	    p->branches[tip]->end == FLOW_END_DROP ||
	    !endpoint_find(f, pl->source, pl->netns, pl->l->family, pl->l->dst))
		return;
	t = fate_at(FF_AT_ENDPOINT, pl);
	set_fate(p, FLOW_FATE_DELIVERED, tip, pl, &t);
}

/*
 * One fate per packet, from its branches' ends: the data got to a process
 * (delivered), left the host (forwarded), or nowhere (dropped: the path's
 * end, when no copy got anywhere); else in flight at the end of the file,
 * or unknown.
 */
static void decide_fate(struct flow *f, struct flow_packet *p, int at_end)
{
	struct flow_fate_text tx;
	int tip = path_tip(p);
	const struct flow_branch *t = p->branches[tip];
	const struct flow_hop *th = &p->hops[t->last_hop];

	/* a process read it: the path's own read first, else a copy's */
	if (p->read_on_path || p->read_on_copy) {
		set_delivered(p, (p->read_on_path ? p->read_on_path : p->read_on_copy) - 1);
		return;
	}
	/* it left through a device: the path, else a copy */
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < p->nbranches; i++) {
			const struct flow_branch *b = p->branches[i];

			if ((pass == 0) != (b->main != 0) || !branch_left(p, i))
				continue;
			/* the recording may have ended before it reached the next device */
			if (at_end && p->last_ts + f->cfg.corr_window_ns >= f->now)
				break;
			const struct flow_hop *h = last_place(p, i);

			tx = fate_at(FF_LEFT, h);
			tx.copy = !b->main;
			set_fate(p, FLOW_FATE_FORWARDED, i, h, &tx);
			return;
		}
	if (t->end == FLOW_END_DROP) {
		const struct flow_hop *pl = last_place(p, tip);
		const char *reason = th->drop[0] ? th->drop : "unknown";

		/*
		 * ICMP echo replies reach ping's raw socket as a clone; the
		 * original is then freed with NO_SOCKET (no ICMP datagram socket
		 * wanted it). Without a read hook (skb:skb_copy_datagram_iovec) the
		 * file cannot tell whether a raw socket took the copy.
		 */
		const struct pkt_l3l4 *l = th->l;
		int echo_reply = l->has_l4 && ((l->ip_proto == 1 && l->icmp_type == 0) ||
					       (l->ip_proto == 58 && l->icmp_type == 129));

		/*
		 * A TCP segment freed QUEUE_PURGE after it was received or sent:
		 * a socket's queue emptied at close (a FIN or data already taken
		 * by TCP, a sender's copy of data that went out). Dropped only
		 * if it never got anywhere.
		 */
		if (!strcmp(reason, "QUEUE_PURGE") && pl && is_tcp(p) &&
		    (pl->kind == PKT_HOOK_KIND_TX || pl->kind == PKT_HOOK_KIND_RX)) {
			if (pl->kind == PKT_HOOK_KIND_TX) {
				tx = fate_at(FF_PURGE_TX, pl);
				set_fate(p, FLOW_FATE_FORWARDED, tip, pl, &tx);
			} else {
				tx = fate_at(FF_PURGE_RX, pl);
				set_fate(p, FLOW_FATE_DELIVERED, tip, pl, &tx);
			}
			return;
		}
		/* only freed here: its data closed earlier, settled (see settled_note) */
		const struct settled_head *sh =
		    !pl && is_tcp(p) && !strcmp(reason, "QUEUE_PURGE") ? settled_find(f, t) : NULL;

		if (sh) {
			struct flow_hop at = {
			    .netns = sh->netns, .ifname = sh->ifname, .has_netns = sh->has_netns};

			tx = fate_at(sh->kind == PKT_HOOK_KIND_TX ? FF_SETTLED_TX : FF_SETTLED_RX,
				     &at);
			set_fate(p,
				 sh->kind == PKT_HOOK_KIND_TX ? FLOW_FATE_FORWARDED
							      : FLOW_FATE_DELIVERED,
				 tip, th, &tx);
			return;
		}
		if (echo_reply && !strcmp(reason, "NO_SOCKET")) {
			tx = fate_at(FF_NO_SOCKET, pl ? pl : th);
			set_fate(p, FLOW_FATE_UNKNOWN, tip, th, &tx);
			return;
		}
		tx = fate_at(FF_DROPPED, pl ? pl : th);
		tx.arg = reason;
		set_fate(p, FLOW_FATE_DROPPED, tip, th, &tx);
		return;
	}
	const struct flow_hop *pl = last_place(p, tip);

	if (t->end == FLOW_END_CONSUME && pl && pl->kind == PKT_HOOK_KIND_RX) {
		tx = fate_at(FF_CONSUMED, pl);
		set_fate(p, FLOW_FATE_DELIVERED, tip, th, &tx);
		return;
	}
	if (at_end && p->last_ts + f->cfg.corr_window_ns >= f->now) {
		tx = fate_at(FF_IN_FLIGHT, pl ? pl : th);
		set_fate(p, FLOW_FATE_IN_FLIGHT, tip, pl ? pl : th, &tx);
		return;
	}
	tx = fate_at(FF_UNKNOWN, pl ? pl : th);
	tx.arg = (pl ? pl : th)->hook[0] ? (pl ? pl : th)->hook : NULL;
	set_fate(p, FLOW_FATE_UNKNOWN, tip, pl ? pl : th, &tx);
}

static void finish_packet(struct flow *f, struct flow_packet *p, int at_end)
{
	list_unlink(f, p);
	for (int i = 0; i < p->ncontent; i++)
		ht_remove(&f->content, &p->content[i].node);
	p->ncontent = 0;
	for (int i = 0; i < p->nbranches; i++)
		branch_unindex(f, p->branches[i]);
	p->finished = 1;
	if (p->heap_idx != HEAP_NONE)
		heap_remove(&f->closing, p->heap_idx);
	dir_leave(f, p);
	decide_fate(f, p, at_end);
	if (p->settled)
		settled_note(f, p, last_place(p, path_tip(p)));
	if (p->dropped)
		f->stats.dropped++;
	if (f->cb.packet)
		f->cb.packet(p, f->cb.ctx);
	pair_packet(f, p);
	packet_unref(f, p);
}

void flow_finish(struct flow *f)
{
	for (;;) {
		struct flow_packet *a = f->open_head, *b = heap_top(&f->closing);

		if (!a && !b)
			break;
		finish_packet(f, !b || (a && a->last_ts <= b->last_ts) ? a : b, 1);
	}
	expire_waits(f, 1);
}

void flow_free(struct flow *f)
{
	if (!f)
		return;
	pairs_free(f);
	free(f->closing.a);
	while (f->all_head) {
		struct flow_packet *p = f->all_head;

		f->all_head = p->all_next;
		free_packet(NULL, p);
	}
	while (f->pool) {
		struct flow_packet *p = f->pool;

		f->pool = p->all_next;
		free(p->branches);
		free(p->hops);
		free(p);
	}
	freelist_drain(&f->free_branches);
	freelist_drain(&f->free_waits);
	freelist_drain(&f->free_looks);
	ht_for_each(&f->strs, name_free, NULL);
	ht_for_each(&f->dirs, dir_free, NULL);
	ht_for_each(&f->endpoints, endpoint_free, NULL);
	ht_destroy(&f->tracks);
	ht_destroy(&f->skbs);
	ht_destroy(&f->heads);
	ht_destroy(&f->content);
	ht_destroy(&f->strs);
	ht_destroy(&f->dirs);
	ht_destroy(&f->waits);
	ht_destroy(&f->tcpdirs);
	ht_destroy(&f->endpoints);
	free(f->settled);
	free(f);
}
