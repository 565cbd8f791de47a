/* SPDX-License-Identifier: MIT */
/*
 * Offline packet tracking for pkt-analyze: groups tracepoint hits (events)
 * into packets and pairs requests with replies.
 *
 * Grouping: by tracking id (epb_packetid / track=) when present; otherwise,
 * or when the id changed (clones, several files or hosts), by invariant
 * content (addresses, IP id, ports, TCP seq, ICMP id/seq) within a short
 * window, and across NAT by the address-free part of that content.
 *
 * Streaming: a packet is finished, and its results delivered, once no later
 * hit can join it:
 *  - when every sk_buff it was tracked on is known freed (pkt-record deletes
 *    a tracking id when its sk_buff is freed, so a free hook, or the same
 *    address under another id, proves that id will not be seen again), and
 *    the correlation window has passed since its last hit (a clone or a copy
 *    could still join by content until then);
 *  - otherwise when its last hit is older than packet_window_ns (capture
 *    time).
 * A request or reply waiting for its counterpart expires after
 * pair_window_ns. Memory follows the packets in flight.
 *
 * Library code: never prints, never exits. Results arrive through callbacks.
 */
#ifndef PKT_FLOW_H
#define PKT_FLOW_H

#include <stddef.h>
#include <stdint.h>
#include "trace.h"
#include "dissect.h"

#define FLOW_SUMMARY_LEN 160
#define FLOW_MAX_TUPLES	 4
#define FLOW_MAX_TRACKS	 8

/* One hit as the analyzer read it. */
struct flow_event {
	uint64_t ts_ns;
	uint32_t source; /* input file index: track ids are only unique within one */
	int has_track;
	uint64_t track;
	int has_skb;	  /* the sk_buff address is known (pkt-record's skb=) */
	uint64_t skb;	  /* unique among live sk_buffs of one source */
	const char *hook; /* "" for foreign captures */
	int has_netns;
	uint64_t netns;
	const char *ifname;
	uint8_t dir;	  /* PCAPNG_DIR_* */
	const char *drop; /* drop reason or "" */
	uint32_t len;	  /* original length */
	const struct pkt_info *pi;
	/* pkt_summary() of pi, or what to show when it did not dissect; NULL:
	 * computed from pi where needed (the first hop, NAT, tunnels) */
	const char *summary;
};

/*
 * One hit of a packet. The strings are shared between hops (never NULL, ""
 * when absent) and stay valid as long as the packet.
 */
struct flow_hop {
	uint64_t ts_ns;
	uint64_t event_no; /* 0-based index among the events given to flow_add_event */
	uint64_t netns;
	const char *hook;
	const char *ifname;
	const char *drop;
	const char *encap;
	/*
	 * Only where this hop's addresses, ports or encapsulation differ from the
	 * previous hop's (NAT, tunnel) and its summary from the packet's: else NULL.
	 */
	char *summary;
	uint32_t source;
	uint32_t len;
	int has_netns;
	uint8_t dir;
	struct pkt_l3l4 l; /* innermost layer at this hop (addresses may differ: NAT) */
};

struct flow_dir;

struct flow_tuple {
	uint8_t family;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
};

struct flow_packet {
	uint64_t id; /* 1-based, in order of first hit */
	int has_track;
	uint64_t track;			  /* the first tracking id seen */
	uint64_t tracks[FLOW_MAX_TRACKS]; /* all of them (clones get new ids) */
	int ntracks;
	uint32_t source;
	uint64_t first_ts, last_ts;
	struct flow_hop *hops;
	size_t nhops, hops_cap;
	struct pkt_info pi; /* of the first hop */
	char summary[FLOW_SUMMARY_LEN];
	int dropped;
	char drop[PKT_DROP_LEN]; /* reason of the last drop hop */
	struct flow_tuple tuples[FLOW_MAX_TUPLES];
	int ntuples;
	/* outcome, valid in the release callback */
	int requests_answered; /* pairs where it was the request */
	int replies;	       /* pairs where it was the reply */
	int unanswered;	       /* it was a request that got no reply */
	/* internal */
	int refs;
	int finished;
	struct flow_packet *lru_prev, *lru_next;
	struct flow_packet *all_prev, *all_next; /* every live packet, for flow_free */
	uint64_t keys[1 + 2 * 8];		 /* map keys registered for this packet */
	int nkeys;
	/* the sk_buffs it was tracked on, by (source, id): alive until freed */
	struct flow_skb {
		uint64_t track, skb;
		uint32_t source;
		int alive;
	} skbs[FLOW_MAX_TRACKS];
	int nskbs, nalive;
	int unknowable;	 /* a hit whose sk_buff is unknown: only the window finishes it */
	size_t heap_idx; /* in the heap of packets whose sk_buffs are all freed, or SIZE_MAX */
	/* unfinished packets by direction of their first hop, oldest last hit first */
	struct flow_dir *dir;
	struct flow_packet *dir_prev, *dir_next;
};

struct flow_pair {
	const char *kind; /* "icmp-echo", "icmpv6-echo", "arp", "ndp", "tcp-handshake",
			     "tcp-data", "dns", "udp" */
	const struct flow_packet *request, *reply;
	int64_t rtt_ns; /* reply's last hit - request's first hit */
};

struct flow_callbacks {
	/* a packet is complete (its hops will not change) */
	void (*packet)(const struct flow_packet *p, void *ctx);
	void (*pair)(const struct flow_pair *pair, void *ctx);
	void (*unanswered)(const struct flow_packet *request, const char *kind, void *ctx);
	/* last call for a packet, once pairing is settled; then it is freed */
	void (*release)(const struct flow_packet *p, void *ctx);
	void *ctx;
};

struct flow_config {
	/* a packet idle this long is finished (default 2 s), whatever its sk_buffs */
	uint64_t packet_window_ns;
	uint64_t pair_window_ns; /* a request waits this long for its reply (default 3 s) */
	uint64_t corr_window_ns; /* content correlation window (default 100 ms) */
};

struct flow_stats {
	uint64_t events, packets, pairs, unanswered, dropped;
	uint64_t in_flight, in_flight_max; /* packets held (for the streaming guarantee) */
};

struct flow;

/* cfg may be NULL for the defaults. Returns NULL on allocation failure. */
struct flow *flow_new(const struct flow_config *cfg, const struct flow_callbacks *cb);
/*
 * Add one hit; finishes packets and expires waits that are older than the
 * windows relative to the newest timestamp seen. *packet_id receives the id
 * of the packet the hit was attached to. Returns 0 or -ENOMEM.
 */
int flow_add_event(struct flow *f, const struct flow_event *ev, uint64_t *packet_id);
/* End of input: finish every packet, expire every wait. */
void flow_finish(struct flow *f);
const struct flow_stats *flow_stats(const struct flow *f);
/* Frees everything without calling callbacks. Safe on NULL. */
void flow_free(struct flow *f);

/* "DROP" reason helpers shared with the output code. */
int flow_hop_is_drop(const struct flow_hop *h);

#endif
