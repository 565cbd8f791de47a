// SPDX-License-Identifier: MIT
/*
 * Request/reply matching over finished packets: ICMP/ICMPv6 echo, ARP, NDP,
 * TCP handshake and data/ACK, DNS, UDP. Waiting requests and replies are
 * found by key in f->waits (common/hashtab); a flow's key holds its
 * addresses, ports, VLAN stack and, in pkt-record files, network namespace.
 * Pairs use each packet's path (its original sk_buff and re-allocations,
 * not the copies), and a reply never ends before its request begins.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "flow_int.h"
#include "why.h"

/* ------------------------------------------------------------ state */

enum pair_kind { PK_ECHO4, PK_ECHO6, PK_ARP, PK_NDP, PK_SYN, PK_TCPDATA, PK_DNS, PK_UDP, PK_COUNT };

static const char *const kind_names[PK_COUNT] = {
    "icmp-echo", "icmpv6-echo", "arp", "ndp", "tcp-handshake", "tcp-data", "dns", "udp",
};

/* For fate details: what answered a request, and what a reply answered. */
static const char *const answer_names[PK_COUNT] = {
    "the echo reply", "the echo reply", "the ARP reply", "the advertisement",
    "the SYN-ACK",    "an ACK",		"the response",	 "a datagram back",
};
static const char *const request_names[PK_COUNT] = {
    "the echo request", "the echo request",
    "the ARP request",	"the solicitation",
    "the SYN",		"the segment it acknowledges",
    "the query",	"the datagram it answers",
};

enum role { ROLE_REQUEST, ROLE_REPLY };

struct pending;
struct tcp_dir;

/* One key a wait is found by (a wait has up to FLOW_MAX_TUPLES). */
struct wait_key {
	struct ht_node node;
	uint64_t key;
	struct pending *w;
};

/* A request or reply waiting for its counterpart. */
struct pending {
	enum pair_kind kind;
	enum role role;
	struct wait_key keys[FLOW_MAX_TUPLES];
	int nkeys;
	uint32_t seq_end; /* tcp-data request: sequence number after it */
	uint32_t ack;	  /* tcp-data reply: acknowledgment number */
	struct flow_packet *packet;
	int answer; /* an ICMP error or reset waiting for the request it answers */
	uint64_t expiry;
	size_t heap_idx; /* in flow.expiring */
	/* udp */
	struct flow_packet *next; /* the first of the stream after packet, if answered */
	int maybe_reply;	  /* an older packet the other way was still in flight */
	/* tcp-data: in its connection direction's list, in order of finish */
	struct tcp_dir *tdir;
	struct pending *tprev, *tnext;
};

/*
 * One direction of a TCP connection (data this way, ACKs the other way):
 * the segments waiting for an ACK, by sequence end, and the ACKs that may
 * still answer a segment finishing late, in order of finish (which follows
 * the order of last hits). An ACK takes covered segments from the head; a late segment
 * looks at the ACKs from the tail: O(1) amortized, whatever the window.
 */
struct tcp_dir {
	struct ht_node node;
	uint64_t key;
	struct pending *segs_head, *segs_tail;
	struct pending *acks_head, *acks_tail;
};

/* The wait behind node n if n is one of key's (hashes may collide), else NULL. */
static struct pending *wait_at(struct ht_node *n, uint64_t key)
{
	struct wait_key *wk = ht_entry(n, struct wait_key, node);

	return wk->key == key ? wk->w : NULL;
}

/* ------------------------------------------------------------ pairing */

/* b goes back the way a came, in the same namespace; same_vlan: on the same VLAN stack too. */
static int tuple_reversed(const struct flow_tuple *a, const struct flow_tuple *b, int ports,
			  int same_vlan)
{
	return a->family == b->family && !memcmp(a->src, b->dst, 16) &&
	       !memcmp(a->dst, b->src, 16) && a->netns == b->netns &&
	       (!same_vlan || a->vlan_stack == b->vlan_stack) &&
	       (!ports || (a->sport == b->dport && a->dport == b->sport));
}

/* Some hop of the reply's path goes back the way some hop of the request's came. */
static int packets_reversed(const struct flow_packet *req, const struct flow_packet *rep, int ports,
			    int same_vlan)
{
	for (int i = 0; i < req->ntuples; i++)
		for (int j = 0; j < rep->ntuples; j++)
			if (tuple_reversed(&req->tuples[i], &rep->tuples[j], ports, same_vlan))
				return 1;
	return 0;
}

static uint64_t tuple_key(enum pair_kind kind, const struct flow_tuple *t, int reversed)
{
	uint64_t h = ht_hash_add(0x7061697200ull + kind, t->family);

	h = ht_hash_add16(h, reversed ? t->dst : t->src);
	h = ht_hash_add16(h, reversed ? t->src : t->dst);
	h = ht_hash_add(h, t->vlan_stack ^ t->netns << 1);
	return ht_hash_add(h, reversed ? (uint64_t)t->dport << 16 | t->sport
				       : (uint64_t)t->sport << 16 | t->dport);
}

static uint64_t value_key(enum pair_kind kind, uint64_t a, uint64_t b)
{
	return ht_hash_add(ht_hash_add(0x6b657900ull + kind, a), b);
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
		uint64_t key = dir_key(&p->tuples[i], reversed);
		const struct flow_dir *d = NULL;

		for (struct ht_node *n = ht_find_first(&f->dirs, key); n && !d; n = ht_find_next(n))
			if (ht_entry(n, struct flow_dir, node)->key == key)
				d = ht_entry(n, struct flow_dir, node);

		if (d && d->head && d->head->last_ts < oldest)
			oldest = d->head->last_ts;
	}
	return oldest;
}

static void tdir_unlink(struct flow *f, struct pending *w)
{
	struct tcp_dir *d = w->tdir;
	int ack = w->role == ROLE_REPLY;
	struct pending **head = ack ? &d->acks_head : &d->segs_head;
	struct pending **tail = ack ? &d->acks_tail : &d->segs_tail;

	if (w->tprev)
		w->tprev->tnext = w->tnext;
	else
		*head = w->tnext;
	if (w->tnext)
		w->tnext->tprev = w->tprev;
	else
		*tail = w->tprev;
	w->tdir = NULL;
	if (!d->segs_head && !d->acks_head) {
		ht_remove(&f->tcpdirs, &d->node);
		free(d);
	}
}

static void wait_unlink(struct flow *f, struct pending *w)
{
	for (int i = 0; i < w->nkeys; i++)
		ht_remove(&f->waits, &w->keys[i].node);
	if (w->tdir)
		tdir_unlink(f, w);
	heap_remove(&f->expiring, w->heap_idx);
}

static void wait_drop(struct flow *f, struct pending *w)
{
	wait_unlink(f, w);
	if (w->next)
		packet_unref(f, w->next);
	packet_unref(f, w->packet);
	freelist_put(&f->free_waits, w);
}

/* The wait is over without a counterpart: a request is unanswered. */
static void wait_expire(struct flow *f, struct pending *w)
{
	if (w->role == ROLE_REQUEST && !w->packet->requests_answered) {
		w->packet->unanswered = 1;
		f->stats.unanswered++;
		if (f->cb.unanswered)
			f->cb.unanswered(w->packet, kind_names[w->kind], f->cb.ctx);
	}
	wait_drop(f, w);
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

	/* the reply went to whoever asked, if the asker read it */
	for (size_t i = 0; i < req->nhops; i++)
		if (flow_hop_on_path(req, &req->hops[i])) {
			packet_prefer_reader(rep, req->hops[i].pid);
			break;
		}
	/* before the pair is written: its line tells both fates */
	packet_answered(req, answer_names[kind]);
	packet_came_back(rep, req, request_names[kind]);
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

static int is_multicast(const struct pkt_l3l4 *l);

/*
 * An NDP advertisement answers a solicitation for its target, sent to its
 * solicitor (unless to all nodes), and after it.
 */
static int ndp_answers(const struct flow_packet *req, const struct flow_packet *rep)
{
	const struct pkt_l3l4 *q = pkt_innermost(&req->pi), *a = pkt_innermost(&rep->pi);

	if (rep->path_first_ts < req->path_first_ts)
		return 0;
	return is_multicast(a) || !memcmp(a->dst, q->src, 16);
}

static int compatible(const struct role_desc *r, const struct pending *w,
		      const struct flow_packet *p)
{
	const struct flow_packet *req = r->role == ROLE_REQUEST ? p : w->packet;
	const struct flow_packet *rep = r->role == ROLE_REQUEST ? w->packet : p;

	if (w->kind != r->kind || w->role == r->role || req == rep || w->answer)
		return 0;
	/* a reply never ends before its request begins (UDP: who asked is decided by time later) */
	if (r->kind != PK_UDP && rep->path_last_ts < req->path_first_ts)
		return 0;
	switch (r->kind) {
	case PK_ECHO4:
	case PK_ECHO6:
		return packets_reversed(req, rep, 0, 0);
	case PK_SYN:
	case PK_DNS:
		return packets_reversed(req, rep, 1, 0);
	case PK_NDP:
		return ndp_answers(req, rep);
	case PK_ARP:
		return rep->path_first_ts >= req->path_first_ts;
	default:
		return 1;
	}
}

/* Kinds keyed by a value (id, sequence), not by flow: the same VLAN stack is preferred. */
static int same_vlan(const struct role_desc *r, const struct pending *w,
		     const struct flow_packet *p)
{
	const struct flow_packet *req = r->role == ROLE_REQUEST ? p : w->packet;
	const struct flow_packet *rep = r->role == ROLE_REQUEST ? w->packet : p;

	return req->pi.vlan_stack == rep->pi.vlan_stack;
}

static void restart_stream(struct flow *f, const struct pending *w, uint64_t t);

/* The waiting counterpart of p in role r, or NULL. */
static struct pending *find_best(struct flow *f, const struct role_desc *r, struct flow_packet *p)
{
	struct pending *best = NULL;
	int best_vlan = 0;

	for (int k = 0; k < r->nkeys; k++) {
		struct ht_node *n = ht_find_first(&f->waits, r->keys[k]), *next;

		for (; n; n = next) {
			struct pending *w = wait_at(n, r->keys[k]);

			next = ht_find_next(n);
			if (!w || !compatible(r, w, p))
				continue;
			/* It may answer an older packet still in flight: that one decides. */
			if (r->kind == PK_UDP && w->maybe_reply &&
			    oldest_open(f, w->packet, 1) < w->packet->last_ts)
				continue;
			/*
			 * Prefer the same VLAN stack (a SYN on one VLAN may still be
			 * answered on another), then the request closest before the
			 * reply (retransmissions).
			 */
			int vlan = same_vlan(r, w, p);

			if (best && vlan != best_vlan) {
				if (vlan) {
					best = w;
					best_vlan = vlan;
				}
				continue;
			}
			if (!best) {
				best = w;
				best_vlan = vlan;
			} else if (r->role == ROLE_REPLY &&
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
	struct pending *best = find_best(f, r, p);

	if (!best)
		return 0;
	if (r->role == ROLE_REPLY) {
		emit_pair(f, r->kind, best->packet, p);
		wait_drop(f, best);
	} else {
		emit_pair(f, r->kind, p, best->packet);
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
	struct pending *w = freelist_get(&f->free_waits, sizeof(*w));

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
			dup |= w->keys[j].key == r->keys[i];
		if (dup)
			continue;
		w->keys[w->nkeys].key = r->keys[i];
		w->keys[w->nkeys].w = w;
		ht_insert(&f->waits, &w->keys[w->nkeys].node, r->keys[i]);
		w->nkeys++;
	}
	if (heap_push(&f->expiring, w->expiry, ++f->wait_seq, &w->heap_idx, w) < 0) {
		for (int i = 0; i < w->nkeys; i++)
			ht_remove(&f->waits, &w->keys[i].node);
		freelist_put(&f->free_waits, w);
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
		for (struct ht_node *n = ht_find_first(&f->waits, r->keys[k]); n;
		     n = ht_find_next(n)) {
			struct pending *w = wait_at(n, r->keys[k]);

			if (!w)
				continue;
			uint64_t expiry = p->last_ts + f->cfg.pair_window_ns;
			struct flow_packet *later = p;

			if (w->kind != r->kind || w->role != r->role || w->answer)
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
 * A direction of a connection without namespace (both ends see it the same
 * way). Only compared and looked up, like dir_key: folded, not added.
 */
static uint64_t tdir_key(const struct flow_tuple *t, int reversed)
{
	uint64_t h = ht_hash_fold(0x74637000ull, t->family);

	h = ht_hash_fold16(h, reversed ? t->dst : t->src);
	h = ht_hash_fold16(h, reversed ? t->src : t->dst);
	h = ht_hash_fold(h, t->vlan_stack);
	return ht_hash_fold(h, reversed ? (uint64_t)t->dport << 16 | t->sport
					: (uint64_t)t->sport << 16 | t->dport);
}

static struct tcp_dir *tdir_find(const struct flow *f, uint64_t key)
{
	for (struct ht_node *n = ht_find_first(&f->tcpdirs, key); n; n = ht_find_next(n))
		if (ht_entry(n, struct tcp_dir, node)->key == key)
			return ht_entry(n, struct tcp_dir, node);
	return NULL;
}

static struct tcp_dir *tdir_get(struct flow *f, uint64_t key)
{
	struct tcp_dir *d = tdir_find(f, key);

	if (d)
		return d;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->key = key;
	ht_insert(&f->tcpdirs, &d->node, key);
	return d;
}

/* A TCP wait at the tail of its direction's list (no keys in f->waits). */
static struct pending *tdir_wait(struct flow *f, struct tcp_dir *d, const struct role_desc *r,
				 struct flow_packet *p)
{
	struct role_desc nokeys = *r;

	nokeys.nkeys = 0;
	struct pending *w = add_wait(f, &nokeys, p);

	if (!w)
		return NULL;
	int ack = r->role == ROLE_REPLY;
	struct pending **head = ack ? &d->acks_head : &d->segs_head;
	struct pending **tail = ack ? &d->acks_tail : &d->segs_tail;

	/*
	 * Segments by sequence end (an ACK takes covered ones from the head; a
	 * segment freed early finishes before older ones still held), ACKs in
	 * order of finish. Mostly appended: the walk back is short.
	 */
	struct pending *after = *tail;

	if (!ack)
		while (after && (int32_t)(after->seq_end - w->seq_end) > 0)
			after = after->tprev;
	w->tdir = d;
	w->tprev = after;
	w->tnext = after ? after->tnext : *head;
	if (w->tnext)
		w->tnext->tprev = w;
	else
		*tail = w;
	if (after)
		after->tnext = w;
	else
		*head = w;
	return w;
}

static int covers(uint32_t ack, uint32_t seq_end)
{
	return (int32_t)(ack - seq_end) >= 0 && (int32_t)(ack - seq_end) < (1 << 30);
}

/*
 * A data segment finished. In order, it would have met the newest ACK
 * finished before it (paired if that one covers it, else waited), or been
 * answered by the first ACK after it that covers it: ACKs that finished
 * first are kept for it (see tcp_ack).
 */
static void tcp_data(struct flow *f, const struct role_desc *r, struct flow_packet *p)
{
	struct tcp_dir *d = p->ntuples ? tdir_get(f, tdir_key(&p->tuples[0], 0)) : NULL;
	struct pending *before = NULL, *after = NULL, *w;

	if (!d)
		return;
	for (w = d->acks_tail; w; w = w->tprev) {
		if (w->packet->last_ts < p->last_ts) {
			before = w;
			break;
		}
		if (covers(w->ack, r->seq_end) && w->packet->path_last_ts >= p->path_first_ts)
			after = w; /* walking back: the earliest such wins */
	}
	w = before && covers(before->ack, r->seq_end) &&
		    before->packet->path_last_ts >= p->path_first_ts
		? before
		: after;
	if (w) {
		emit_pair(f, PK_TCPDATA, p, w->packet); /* the ACK may answer later segments too */
		return;
	}
	tdir_wait(f, d, r, p);
}

/*
 * An ACK finished: it answers every waiting segment it covers, from the
 * oldest. It is kept for segments still in flight: the newest ACK before the
 * oldest such segment, and every one after (in order, only the newest would
 * wait: a bulk transfer would otherwise keep every ACK of its window).
 */
static void tcp_ack(struct flow *f, const struct role_desc *r, struct flow_packet *p)
{
	struct tcp_dir *d = NULL;
	struct pending *w;
	uint64_t keys[FLOW_MAX_TUPLES]; /* the directions its data would go: hashed once */

	for (int i = 0; i < p->ntuples; i++)
		keys[i] = tdir_key(&p->tuples[i], 1);
	for (int i = 0; i < p->ntuples && !d; i++)
		d = tdir_find(f, keys[i]);
	if (d)
		while ((w = d->segs_head)) {
			int32_t ahead = (int32_t)(w->seq_end - r->ack);

			if (ahead > 0 && ahead < (1 << 30))
				break; /* this one and the rest wait for a later ACK */
			if (!covers(r->ack, w->seq_end)) {
				/* far off in sequence space (its ACKs lost, or wrapped): none
				 * answers it */
				wait_expire(f, w);
			} else if (p->path_last_ts >= w->packet->path_first_ts) {
				emit_pair(f, PK_TCPDATA, w->packet, p);
				wait_drop(f, w); /* may free d with its last wait */
			} else {
				break;
			}
			d = NULL;
			for (int i = 0; i < p->ntuples && !d; i++)
				d = tdir_find(f, keys[i]);
			if (!d)
				break;
		}
	if (!d && p->ntuples)
		d = tdir_get(f, keys[p->ntuples - 1]);
	if (!d || !tdir_wait(f, d, r, p))
		return;
	uint64_t oldest = oldest_open(f, p, 1);

	while ((w = d->acks_head) && w->tnext && w->tnext->packet->last_ts < oldest)
		wait_drop(f, w);
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
		/*
		 * No keys: segments and ACKs are found by their connection's
		 * direction (tcp_data, tcp_ack), and no ICMP error or reset
		 * answers one (answer_role): hashing up to four tuples
		 * twice for no lookup that could find anything.
		 */
		if (l->l4_payload_len || (fl & 0x01)) {
			roles[n].kind = PK_TCPDATA;
			roles[n].role = ROLE_REQUEST;
			roles[n++].seq_end = l->tcp_seq + l->l4_payload_len + (fl & 0x01);
		}
		if (fl & 0x10) {
			roles[n].kind = PK_TCPDATA;
			roles[n].role = ROLE_REPLY;
			roles[n++].ack = l->tcp_ack;
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
		for (struct ht_node *n = ht_find_first(&f->waits, r->keys[k]); n;
		     n = ht_find_next(n)) {
			struct pending *w = wait_at(n, r->keys[k]);

			if (!w)
				continue;

			if (w->kind == r->kind && w->role == r->role && !w->answer)
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

	rep.role = ROLE_REPLY;
	tuple_keys(&rep, p, 1);
	w = find_best(f, &rep, p);
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

/* ------------------------------------------------------------ answers */

/*
 * An ICMP error or a TCP reset answers the request it is about: not a reply
 * (no pair), the reason there is none (why.c). Its role is a reply of the
 * request's kind, found by the request's own keys: the quoted echo id and
 * sequence, the SYN's sequence + 1 (the reset's ACK), the quoted UDP flow in
 * each namespace the error crossed, the quoted DNS id.
 */
static int answer_role(const struct flow_packet *p, struct role_desc *r)
{
	const struct pkt_l3l4 *l = pkt_innermost(&p->pi), *q = &p->pi.quote;

	memset(r, 0, sizeof(*r));
	r->role = ROLE_REPLY;
	if (l->has_l4 && l->ip_proto == 6) {
		if ((l->tcp_flags & 0x16) != 0x14) /* RST+ACK, no SYN */
			return 0;
		r->kind = PK_SYN;
		single_key(r, l->tcp_ack, 0);
		return 1;
	}
	if (!why_is_icmp_error(l) || !p->pi.has_quote || !q->has_l4 || q->is_fragment)
		return 0;
	switch (q->ip_proto) {
	case 1:
	case 58:
		if (q->icmp_type != (q->ip_proto == 58 ? 128 : 8))
			return 0;
		r->kind = q->ip_proto == 58 ? PK_ECHO6 : PK_ECHO4;
		single_key(r, q->icmp_id, q->icmp_seq);
		return 1;
	case 6:
		if ((q->tcp_flags & 0x12) != 0x02)
			return 0;
		r->kind = PK_SYN;
		single_key(r, (uint32_t)(q->tcp_seq + 1), 0);
		return 1;
	case 17:
		if (q->has_dns) {
			if (q->dns_is_response)
				return 0;
			r->kind = PK_DNS;
			single_key(r, q->dns_id, 0);
			return 1;
		}
		r->kind = PK_UDP;
		for (int i = 0; i < p->ntuples && r->nkeys < FLOW_MAX_TUPLES; i++) {
			struct flow_tuple t = p->tuples[i];

			t.family = q->family;
			memcpy(t.src, q->src, 16);
			memcpy(t.dst, q->dst, 16);
			t.sport = q->sport;
			t.dport = q->dport;
			r->keys[r->nkeys++] = tuple_key(PK_UDP, &t, 0);
		}
		return r->nkeys > 0;
	default:
		return 0;
	}
}

/* The answer ans is about req: the quoted packet is one of req's, or the reset goes back its way.
 */
static int answer_fits(const struct flow_packet *req, const struct flow_packet *ans)
{
	const struct pkt_l3l4 *q = &ans->pi.quote;

	if (ans->path_last_ts < req->path_first_ts)
		return 0;
	if (!ans->pi.has_quote)
		return packets_reversed(req, ans, 1, 0);
	for (int i = 0; i < req->ntuples; i++)
		if (req->tuples[i].family == q->family && !memcmp(req->tuples[i].src, q->src, 16) &&
		    !memcmp(req->tuples[i].dst, q->dst, 16))
			return 1;
	return 0;
}

/*
 * The waiting counterpart of p among answers (p a request: an answer that
 * finished first) or requests (p an answer).
 */
static struct pending *find_answer_match(struct flow *f, const struct role_desc *r,
					 struct flow_packet *p, int p_is_answer)
{
	for (int k = 0; k < r->nkeys; k++)
		for (struct ht_node *n = ht_find_first(&f->waits, r->keys[k]); n;
		     n = ht_find_next(n)) {
			struct pending *w = wait_at(n, r->keys[k]);

			if (!w || w->kind != r->kind || w->answer == p_is_answer ||
			    w->role == r->role)
				continue;
			if (p_is_answer ? answer_fits(w->packet, p) : answer_fits(p, w->packet))
				return w;
		}
	return NULL;
}

/* p is an ICMP error or a reset: explain its waiting request, or wait for it. */
static int pair_answer(struct flow *f, struct flow_packet *p)
{
	struct role_desc r;

	if (!answer_role(p, &r))
		return 0;
	struct pending *w = find_answer_match(f, &r, p, 1);

	if (w) {
		why_note_answer(w->packet, p);
		wait_drop(f, w);
		return 1;
	}
	w = add_wait(f, &r, p);
	if (w)
		w->answer = 1;
	return 1;
}

/* p is a request: an answer that finished before it explains it. */
static int request_answered(struct flow *f, const struct role_desc *r, struct flow_packet *p)
{
	struct pending *w = r->role == ROLE_REQUEST ? find_answer_match(f, r, p, 0) : NULL;

	if (!w)
		return 0;
	why_note_answer(p, w->packet);
	wait_drop(f, w);
	return 1;
}

void pair_packet(struct flow *f, struct flow_packet *p)
{
	struct role_desc roles[2];

	if (pair_answer(f, p))
		return;
	int n = classify(p, roles);

	for (int i = 0; i < n; i++) {
		struct role_desc *r = &roles[i];

		if (request_answered(f, r, p))
			continue;
		if (r->kind == PK_UDP) {
			pair_udp(f, r, p);
			continue;
		}
		if (r->kind == PK_TCPDATA) {
			if (r->role == ROLE_REQUEST)
				tcp_data(f, r, p);
			else
				tcp_ack(f, r, p);
			continue;
		}
		if (match_role(f, r, p))
			continue;
		if (r->role == ROLE_REQUEST && is_multicast(pkt_innermost(&p->pi)) &&
		    r->kind != PK_NDP)
			continue;
		add_wait(f, r, p);
	}
}

void expire_waits(struct flow *f, int all)
{
	struct pending *w;

	while ((w = heap_top(&f->expiring)) && (all || w->expiry < f->now))
		wait_expire(f, w);
}

static void tdir_free(struct ht_node *n, void *ctx)
{
	(void)ctx;
	free(ht_entry(n, struct tcp_dir, node));
}

void pairs_free(struct flow *f)
{
	for (size_t i = 0; i < f->expiring.n; i++)
		free(f->expiring.a[i].item);
	free(f->expiring.a);
	f->expiring.a = NULL;
	f->expiring.n = f->expiring.cap = 0;
	ht_for_each(&f->tcpdirs, tdir_free, NULL);
}
