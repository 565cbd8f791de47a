// SPDX-License-Identifier: MIT
/* Grouping hits into packets and pairing requests with replies; see flow.h. */
#include "flow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Chained hash multimap from 64-bit keys to pointers. */
struct mm_node {
	uint64_t key;
	void *val;
	struct mm_node *next;
};

struct multimap {
	struct mm_node **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
};

static int mm_init(struct multimap *m)
{
	m->nbuckets = 1024;
	m->count = 0;
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
	struct mm_node *n = malloc(sizeof(*n));

	if (!n)
		return -ENOMEM;
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
			free(n);
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
	for (size_t i = 0; m->buckets && i < m->nbuckets; i++) {
		struct mm_node *n = m->buckets[i], *next;

		for (; n; n = next) {
			next = n->next;
			free(n);
		}
	}
	free(m->buckets);
	m->buckets = NULL;
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
	struct pending *prev, *next; /* FIFO by expiry */
};

struct flow {
	struct flow_config cfg;
	struct flow_callbacks cb;
	struct flow_stats stats;
	struct multimap packets;		 /* track / content keys -> packets in flight */
	struct multimap waits;			 /* pairing keys -> struct pending */
	struct flow_packet *lru_head, *lru_tail; /* in flight, oldest last hit first */
	struct pending *wait_head, *wait_tail;
	struct flow_packet *all_head;
	uint64_t now;
	uint64_t next_id;
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
	if (mm_init(&f->packets) || mm_init(&f->waits)) {
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

static void free_packet(struct flow_packet *p)
{
	for (size_t i = 0; i < p->nhops; i++)
		free(p->hops[i].summary);
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
	free_packet(p);
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

static int add_hop(struct flow *f, struct flow_packet *p, const struct flow_event *ev,
		   const struct pkt_l3l4 *l)
{
	if (p->nhops == p->hops_cap) {
		size_t cap = p->hops_cap ? p->hops_cap * 2 : 2;
		struct flow_hop *h = realloc(p->hops, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		p->hops = h;
		p->hops_cap = cap;
	}
	struct flow_hop *h = &p->hops[p->nhops++];

	memset(h, 0, sizeof(*h));
	h->ts_ns = ev->ts_ns;
	h->event_no = f->stats.events;
	h->source = ev->source;
	snprintf(h->hook, sizeof(h->hook), "%s", ev->hook ? ev->hook : "");
	h->has_netns = ev->has_netns;
	h->netns = ev->netns;
	snprintf(h->ifname, sizeof(h->ifname), "%s", ev->ifname ? ev->ifname : "");
	h->dir = ev->dir;
	snprintf(h->drop, sizeof(h->drop), "%s", ev->drop ? ev->drop : "");
	h->len = ev->len;
	h->l = *l;
	h->encap = ev->pi->encap;
	/* Most hops look the same: keep memory per packet in flight small. */
	if (ev->summary && strcmp(ev->summary, p->summary) != 0)
		h->summary = strdup(ev->summary); /* NULL on failure: shown as the packet's */

	if (ev->ts_ns < p->first_ts)
		p->first_ts = ev->ts_ns;
	if (ev->ts_ns > p->last_ts)
		p->last_ts = ev->ts_ns;
	if (flow_hop_is_drop(h)) {
		p->dropped = 1;
		snprintf(p->drop, sizeof(p->drop), "%s", h->drop[0] ? h->drop : "unknown");
	}
	packet_add_tuple(p, l);
	return 0;
}

static void finish_packet(struct flow *f, struct flow_packet *p);
static void expire_waits(struct flow *f, int all);

static void advance(struct flow *f, uint64_t now)
{
	if (now > f->now)
		f->now = now;
	while (f->lru_head && f->lru_head->last_ts + f->cfg.packet_window_ns < f->now)
		finish_packet(f, f->lru_head);
	expire_waits(f, 0);
}

int flow_add_event(struct flow *f, const struct flow_event *ev, uint64_t *packet_id)
{
	const struct pkt_l3l4 *l = pkt_innermost(ev->pi);
	uint64_t exact = has_content(l) ? fp_exact(l) : 0;
	uint64_t nat = has_content(l) ? fp_nat(l) : 0;
	struct flow_packet *p = NULL;

	advance(f, ev->ts_ns);
	if (ev->has_track) {
		for (struct mm_node *n = mm_first(&f->packets, track_key(ev->track)); n;
		     n = mm_next(n)) {
			struct flow_packet *c = n->val;

			if (!c->has_track || c->track != ev->track)
				continue;
			/* Another file may reuse the id for another packet: check content. */
			if (c->source == ev->source || packet_has_key(c, exact) ||
			    (nat && packet_has_key(c, nat))) {
				p = c;
				break;
			}
		}
	}
	if (!p)
		p = find_by_content(f, exact, ev);
	if (!p)
		p = find_by_content(f, nat, ev);
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
		snprintf(p->summary, sizeof(p->summary), "%s", ev->summary ? ev->summary : "");
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
		packet_add_key(f, p, track_key(ev->track));
	if (exact)
		packet_add_key(f, p, exact);
	if (nat)
		packet_add_key(f, p, nat);
	int err = add_hop(f, p, ev, l);

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

static void wait_unlink(struct flow *f, struct pending *w)
{
	for (int i = 0; i < w->nkeys; i++)
		mm_del(&f->waits, w->keys[i], w);
	if (w->prev)
		w->prev->next = w->next;
	else
		f->wait_head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		f->wait_tail = w->prev;
}

static void wait_drop(struct flow *f, struct pending *w)
{
	wait_unlink(f, w);
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

/* Try to pair; returns 1 when this role found its counterpart(s). */
static int match_role(struct flow *f, const struct role_desc *r, struct flow_packet *p)
{
	struct pending *best = NULL;
	int matched = 0;

	for (int k = 0; k < r->nkeys; k++) {
		struct mm_node *n = mm_first(&f->waits, r->keys[k]), *next;

		for (; n; n = next) {
			struct pending *w = n->val;

			next = mm_next(n);
			if (!compatible(r, w, p))
				continue;
			if (r->kind == PK_TCPDATA && r->role == ROLE_REPLY) {
				/* A cumulative ACK answers every segment it covers. */
				emit_pair(f, r->kind, w->packet, p);
				matched = 1;
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

static int add_wait(struct flow *f, const struct role_desc *r, struct flow_packet *p)
{
	struct pending *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
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
	w->prev = f->wait_tail;
	if (f->wait_tail)
		f->wait_tail->next = w;
	else
		f->wait_head = w;
	f->wait_tail = w;
	p->refs++;
	return 0;
}

/*
 * A request of this kind and keys is already waiting: give it more time (a
 * one-way stream keeps its first packet asking) and say so.
 */
static int refresh_wait(struct flow *f, const struct role_desc *r, const struct flow_packet *p)
{
	for (int k = 0; k < r->nkeys; k++)
		for (struct mm_node *n = mm_first(&f->waits, r->keys[k]); n; n = mm_next(n)) {
			struct pending *w = n->val;

			if (w->kind != r->kind || w->role != r->role)
				continue;
			w->expiry = p->last_ts + f->cfg.pair_window_ns;
			if (w != f->wait_tail) { /* keep the FIFO in expiry order */
				if (w->prev)
					w->prev->next = w->next;
				else
					f->wait_head = w->next;
				w->next->prev = w->prev;
				w->prev = f->wait_tail;
				w->next = NULL;
				f->wait_tail->next = w;
				f->wait_tail = w;
			}
			return 1;
		}
	return 0;
}

static void drop_waits_like(struct flow *f, const struct role_desc *r)
{
	for (int k = 0; k < r->nkeys; k++) {
		struct mm_node *n = mm_first(&f->waits, r->keys[k]);

		while (n) {
			struct pending *w = n->val;

			if (w->kind == r->kind && w->role == r->role) {
				wait_drop(f, w);
				n = mm_first(&f->waits, r->keys[k]); /* chain changed */
			} else {
				n = mm_next(n);
			}
		}
	}
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

static void pair_packet(struct flow *f, struct flow_packet *p)
{
	struct role_desc roles[2];
	int n = classify(p, roles);

	for (int i = 0; i < n; i++) {
		struct role_desc *r = &roles[i];

		if (r->kind == PK_UDP) {
			/* Without a protocol to ask, the reversed 5-tuple answers. */
			struct role_desc rep = *r;

			rep.role = ROLE_REPLY;
			tuple_keys(&rep, p, 1);
			if (match_role(f, &rep, p))
				continue;
			if (refresh_wait(f, r, p) || is_multicast(pkt_innermost(&p->pi)))
				continue; /* a stream in one direction: its first packet asks */
			add_wait(f, r, p);
			continue;
		}
		if (match_role(f, r, p) && !(r->kind == PK_TCPDATA && r->role == ROLE_REPLY))
			continue;
		/*
		 * Only the newest ACK of a connection waits for late segments: a bulk
		 * transfer would otherwise keep every ACK of the window.
		 */
		if (r->kind == PK_TCPDATA && r->role == ROLE_REPLY)
			drop_waits_like(f, r);
		if (r->role == ROLE_REQUEST && is_multicast(pkt_innermost(&p->pi)) &&
		    r->kind != PK_NDP)
			continue;
		add_wait(f, r, p);
	}
}

static void expire_waits(struct flow *f, int all)
{
	while (f->wait_head && (all || f->wait_head->expiry < f->now)) {
		struct pending *w = f->wait_head;

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
	p->finished = 1;
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
	while (f->wait_head) {
		struct pending *w = f->wait_head;

		f->wait_head = w->next;
		free(w);
	}
	while (f->all_head) {
		struct flow_packet *p = f->all_head;

		f->all_head = p->all_next;
		free_packet(p);
	}
	mm_free(&f->packets);
	mm_free(&f->waits);
	free(f);
}
