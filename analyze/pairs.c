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

/* ------------------------------------------------------------ state */

enum pair_kind { PK_ECHO4, PK_ECHO6, PK_ARP, PK_NDP, PK_SYN, PK_TCPDATA, PK_DNS, PK_UDP, PK_COUNT };

static const char *const kind_names[PK_COUNT] = {
    "icmp-echo", "icmpv6-echo", "arp", "ndp", "tcp-handshake", "tcp-data", "dns", "udp",
};

enum role { ROLE_REQUEST, ROLE_REPLY };

struct pending;

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
	uint64_t expiry;
	size_t heap_idx; /* in flow.expiring */
	/* udp */
	struct flow_packet *next; /* the first of the stream after packet, if answered */
	int maybe_reply;	  /* an older packet the other way was still in flight */
	uint64_t mark;		  /* visited (prune_acks) */
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

	h = ht_hash_bytes(h, reversed ? t->dst : t->src, 16);
	h = ht_hash_bytes(h, reversed ? t->src : t->dst, 16);
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

static void wait_unlink(struct flow *f, struct pending *w)
{
	for (int i = 0; i < w->nkeys; i++)
		ht_remove(&f->waits, &w->keys[i].node);
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

	/* the reply went to whoever asked, if the asker read it */
	for (size_t i = 0; i < req->nhops; i++)
		if (flow_hop_on_path(req, &req->hops[i])) {
			packet_prefer_reader(rep, req->hops[i].pid);
			break;
		}
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

	if (w->kind != r->kind || w->role == r->role || req == rep)
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
	case PK_TCPDATA: {
		uint32_t seq_end = r->role == ROLE_REQUEST ? r->seq_end : w->seq_end;
		uint32_t ack = r->role == ROLE_REQUEST ? w->ack : r->ack;

		return (int32_t)(ack - seq_end) >= 0 && (int32_t)(ack - seq_end) < (1 << 30);
	}
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

/*
 * The waiting counterpart of p in role r; a cumulative ACK (tcp-data reply)
 * is paired here with every segment it covers, and *matched says so.
 */
static struct pending *find_best(struct flow *f, const struct role_desc *r, struct flow_packet *p,
				 int *matched)
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
			if (r->kind == PK_TCPDATA && r->role == ROLE_REPLY) {
				/* A cumulative ACK answers every segment it covers. */
				emit_pair(f, r->kind, w->packet, p);
				*matched = 1;
				/* next may be freed with w's keys: restart this key */
				wait_drop(f, w);
				next = ht_find_first(&f->waits, r->keys[k]);
				continue;
			}
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
		for (struct ht_node *n = ht_find_first(&f->waits, r->keys[k]); n;
		     n = ht_find_next(n)) {
			struct pending *w = wait_at(n, r->keys[k]);

			if (!w)
				continue;
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
		for (struct ht_node *n = ht_find_first(&f->waits, r->keys[k]); n;
		     n = ht_find_next(n)) {
			struct pending *w = wait_at(n, r->keys[k]);

			if (!w)
				continue;

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
		for (struct ht_node *m = ht_find_first(&f->waits, r->keys[k]); m;
		     m = ht_find_next(m)) {
			struct pending *w = wait_at(m, r->keys[k]);

			if (!w)
				continue;

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
		for (struct ht_node *n = ht_find_first(&f->waits, r->keys[k]); n;
		     n = ht_find_next(n)) {
			struct pending *w = wait_at(n, r->keys[k]);

			if (!w)
				continue;

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

void pair_packet(struct flow *f, struct flow_packet *p)
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

void expire_waits(struct flow *f, int all)
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

void pairs_free(struct flow *f)
{
	for (size_t i = 0; i < f->expiring.n; i++)
		free(f->expiring.a[i].item);
	free(f->expiring.a);
	f->expiring.a = NULL;
	f->expiring.n = f->expiring.cap = 0;
	free(f->scratch);
	f->scratch = NULL;
}
