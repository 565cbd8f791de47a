// SPDX-License-Identifier: MIT
/*
 * Tracking ids given by the reader (tracker.h). The rules are those of
 * bpf/pktrec.bpf.c's fallback mode (same_packet() there); keep both alike.
 *
 * The table is set-associative: TRACK_WAYS slots per set, the set chosen by
 * the sk_buff's address, the least recently hit slot of a full set
 * replaced. No allocation, no chain to follow: one line of keys looked at
 * per event, on the reader that decides whether events are lost. A slot
 * taken from a packet still in flight (TRACK_WAYS other sk_buffs hit in its
 * set since) only gives its next hit a new id, which pkt-analyze joins by
 * data buffer or content (docs/format.md, "Packets").
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "hooks.h"
#include "tracker.h"

#define ETH_HEADER_LEN 14 /* PKTREC_ETH_HLEN (bpf/l2.h): a snapshot's Ethernet header */

#define TRACK_SET_BITS	 14 /* 16384 sets of 4: the kernel's tracks map held 65536 */
#define TRACK_WAYS	 4
#define TRACK_TIMEOUT_NS 1000000000ULL /* the kernel's track_timeout_ns without a cleanup hook */

struct track_slot {
	uint64_t id; /* 0: ended (freed, or never used) */
	uint64_t last_ts;
	uint64_t head;
	uint64_t netns;
	uint64_t fp;
	uint32_t ifindex;
	uint32_t hook;
};

struct track_set {
	uint64_t skb[TRACK_WAYS]; /* 0: free slot */
	struct track_slot slot[TRACK_WAYS];
};

struct tracker {
	uint64_t next_id;
	struct track_set sets[1u << TRACK_SET_BITS];
};

struct tracker *tracker_new(void)
{
	struct tracker *t = calloc(1, sizeof(*t));

	if (t)
		t->next_id = 1;
	return t;
}

void tracker_free(struct tracker *t)
{
	free(t);
}

static struct track_set *set_of(struct tracker *t, uint64_t skb)
{
	return &t->sets[(skb * 0x9e3779b97f4a7c15ULL) >> (64 - TRACK_SET_BITS)];
}

static struct track_slot *find(struct track_set *s, uint64_t skb)
{
	for (int i = 0; i < TRACK_WAYS; i++)
		if (s->skb[i] == skb)
			return &s->slot[i];
	return NULL;
}

/* the slot for a new id at skb: a free one, else the least recently hit */
static struct track_slot *take(struct track_set *s, uint64_t skb)
{
	int victim = 0;

	for (int i = 0; i < TRACK_WAYS; i++) {
		if (!s->skb[i]) {
			victim = i;
			break;
		}
		if (s->slot[i].last_ts < s->slot[victim].last_ts)
			victim = i;
	}
	s->skb[victim] = skb;
	return &s->slot[victim];
}

/* ip_fingerprint() of pktrec.bpf.c, from the snapshot only (0: not there, or not IP) */
static uint64_t fingerprint(const struct pktrec_event *e)
{
	uint32_t off = e->flags & PKTREC_F_L2_SYNTH ? 0 : ETH_HEADER_LEN;
	uint8_t b[8];
	uint64_t fp;

	if (e->snap_len < off + sizeof(b))
		return 0;
	memcpy(b, e->data + off, sizeof(b));
	if (b[0] >> 4 == 4) {
		b[1] &= 0xfc;
	} else if (b[0] >> 4 == 6) {
		b[1] &= 0xcf;
		b[7] = 0;
	} else {
		return 0;
	}
	memcpy(&fp, b, sizeof(fp));
	return fp ? fp : 1;
}

/* same_packet() of pktrec.bpf.c */
static bool same_packet(const struct track_slot *ts, const struct pktrec_event *e, uint64_t fp)
{
	uint32_t hook = e->hook;
	bool entry = PKTREC_HOOKS_ENTRY >> hook & 1, tx = PKTREC_HOOKS_TX >> hook & 1;

	if (ts->head != e->head)
		return false;
	if (fp && ts->fp && fp != ts->fp)
		return false;
	if (ts->netns == e->netns && ts->ifindex == e->ifindex &&
	    (entry || (hook == HOOK_NETIF_RECEIVE_SKB && ts->hook == hook)))
		return false;
	if (tx && ts->netns != e->netns)
		return false;
	return true;
}

void tracker_assign(struct tracker *t, struct pktrec_event *e)
{
	uint32_t hook = e->hook;
	bool is_free = PKTREC_HOOKS_FREE >> hook & 1;
	struct track_set *s;
	struct track_slot *ts;
	uint64_t fp;

	if (hook >= HOOK_MAX)
		return;
	s = set_of(t, e->skb);
	ts = e->skb ? find(s, e->skb) : NULL;
	if (pkt_hooks[hook].kind == PKT_HOOK_KIND_CAUSE) {
		/* an event: it names its sk_buff's id, never starts or ends one */
		e->track = ts ? ts->id : 0;
		e->skb = 0;
		return;
	}
	if (!e->skb)
		return;
	fp = is_free ? 0 : fingerprint(e);
	if (ts && ts->id && e->ts_ns - ts->last_ts <= TRACK_TIMEOUT_NS && e->ts_ns >= ts->last_ts &&
	    same_packet(ts, e, fp)) {
		e->track = ts->id;
		e->flags &= ~PKTREC_F_NEW_TRACK;
		ts->last_ts = e->ts_ns;
		ts->netns = e->netns;
		ts->ifindex = e->ifindex;
		ts->hook = hook;
		if (fp)
			ts->fp = fp;
		if (is_free)
			ts->id = 0;
		return;
	}
	e->track = t->next_id++;
	e->flags |= PKTREC_F_NEW_TRACK;
	/* a free has nothing left to track: an ended entry stays ended */
	if (is_free)
		return;
	if (!ts)
		ts = take(s, e->skb);
	*ts = (struct track_slot){
	    .id = e->track,
	    .last_ts = e->ts_ns,
	    .head = e->head,
	    .netns = e->netns,
	    .fp = fp,
	    .ifindex = e->ifindex,
	    .hook = hook,
	};
}
