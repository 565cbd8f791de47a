// SPDX-License-Identifier: MIT
/*
 * Tracking ids given by the reader (tracker.h), by the rules of
 * bpf/track_rules.h, which the BPF side applies with a filter.
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
#include "track_rules.h"
#include "tracker.h"

#define ETH_HEADER_LEN 14 /* PKTREC_ETH_HLEN (bpf/l2.h): a snapshot's Ethernet header */

#define TRACK_SET_BITS	 14 /* 16384 sets of 4: the kernel's tracks map held 65536 */
#define TRACK_WAYS	 4
#define TRACK_TIMEOUT_NS 1000000000ULL /* the kernel's track_timeout_ns without a cleanup hook */

struct track_set {
	uint64_t skb[TRACK_WAYS]; /* 0: free slot */
	struct pktrec_track slot[TRACK_WAYS];
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

static struct pktrec_track *find(struct track_set *s, uint64_t skb)
{
	for (int i = 0; i < TRACK_WAYS; i++)
		if (s->skb[i] == skb)
			return &s->slot[i];
	return NULL;
}

/* the slot for a new id at skb: a free one, else the least recently hit */
static struct pktrec_track *take(struct track_set *s, uint64_t skb)
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

/* the fingerprint of the snapshot's network header (0: not there, or not IP) */
static uint64_t fingerprint(const struct pktrec_event *e)
{
	uint32_t off = e->flags & PKTREC_F_L2_SYNTH ? 0 : ETH_HEADER_LEN;
	uint8_t b[8];

	if (e->snap_len < off + sizeof(b))
		return 0;
	memcpy(b, e->data + off, sizeof(b));
	return pktrec_ip_fingerprint(b);
}

void tracker_assign(struct tracker *t, struct pktrec_event *e)
{
	uint32_t hook = e->hook;
	bool is_free = PKTREC_HOOKS_FREE >> hook & 1;
	struct track_set *s;
	struct pktrec_track *ts;
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
	    pktrec_same_packet(ts, e->head, e->netns, e->ifindex, hook, fp)) {
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
	*ts = (struct pktrec_track){
	    .id = e->track,
	    .last_ts = e->ts_ns,
	    .head = e->head,
	    .netns = e->netns,
	    .fp = fp,
	    .ifindex = e->ifindex,
	    .hook = hook,
	};
}
