/* SPDX-License-Identifier: MIT */
/*
 * Offline packet analysis for pkt-analyze: groups tracepoint hits (events)
 * into packets (packets.c), gives each packet its fate, and pairs requests
 * with replies (pairs.c).
 *
 * A packet is its data (docs/format.md, "Packets"):
 *  - hits of one tracking id (one sk_buff) are one branch of one packet;
 *  - a new id whose skb->head (head=) is the data buffer of a packet in
 *    flight, with the same content, is a clone of it: a branch with its own
 *    end (a raw socket's copy delivered, or refused by a socket filter);
 *  - a new id without such a buffer continues a packet in flight by content
 *    (the invariant L3/L4 fields) within corr_window_ns on the same input:
 *    the kernel re-allocated it (skb_copy, GSO/GRO, defragmentation) or, in
 *    foreign captures, it is the next capture point.
 * A hit never moves to another packet once its id is known, so two packets
 * are never merged and one is never split.
 *
 * Streaming: a packet is finished, and its results delivered, once no later
 * hit can join it: when every sk_buff it was tracked on is known freed (or,
 * TCP, it was read or received where its destination lives: settled) and
 * the correlation window has passed since its last hit, or when its last hit
 * is older than packet_window_ns. A request waiting for its reply expires
 * after pair_window_ns. Memory follows the packets in flight.
 *
 * Library code: never prints, never exits. Results arrive through callbacks.
 */
#ifndef PKT_FLOW_H
#define PKT_FLOW_H

#include <stddef.h>
#include <stdint.h>
#include "trace.h"
#include "dissect.h"
#include "hashtab.h"
#include "hooks.h"

#define FLOW_SUMMARY_LEN 160
#define FLOW_MAX_TUPLES	 4
#define FLOW_MAX_KEYS	 8 /* content keys a packet is found by */

/* One hit as the analyzer read it. */
struct why_note; /* why.h */
struct causes;	 /* causes.h */

struct flow_event {
	uint64_t ts_ns;
	uint32_t source; /* input file index: track ids are only unique within one */
	int has_track;
	uint64_t track;
	int has_skb;	  /* the sk_buff address is known (pkt-record's skb=) */
	uint64_t skb;	  /* unique among live sk_buffs of one source */
	int has_head;	  /* skb->head is known (head=) */
	uint64_t head;	  /* the data buffer: clones share it */
	const char *hook; /* "" for foreign captures */
	int has_netns;
	uint64_t netns;
	const char *ifname;
	uint8_t dir;	  /* PCAPNG_DIR_* */
	const char *drop; /* drop reason or "" */
	const char *loc;  /* where it was freed, SYMBOL+0xOFF (pkt-record's loc=); NULL or "" */
	uint32_t pid;	  /* thread at the hit (0: none or unknown) */
	const char *comm; /* its name, NULL or "" when unknown */
	uint32_t len;	  /* original length */
	const struct pkt_info *pi;
	/* pkt_summary() of pi, or what to show when it did not dissect; NULL:
	 * computed from pi where needed (the first hop, NAT, tunnels) */
	const char *summary;
	/* the optional keys of the hit (trace_hop.extra: icmp=, rmem=...), NULL or "" if none */
	const char *extra;
	/*
	 * hook, ifname, drop, comm and loc each hold the same string at the
	 * same address for as long as the flow lives (the reader's names): the
	 * flow may find them by address, not by content.
	 */
	int names_stable;
};

/*
 * One hit of a packet. The strings are shared between hops (never NULL, ""
 * when absent) and stay valid until flow_free().
 */
struct flow_hop {
	uint64_t ts_ns;
	uint64_t event_no; /* 0-based index among the events given to flow_add_event */
	uint64_t netns;
	const char *hook;
	const char *ifname;
	const char *drop;
	const char *loc; /* SYMBOL+0xOFF where it was freed, or "" */
	const char *comm;
	const char *encap;
	/*
	 * Only where this hop's addresses, ports or encapsulation differ from the
	 * previous hop's (NAT, tunnel) and its summary from the packet's: else NULL.
	 */
	char *summary;
	enum pkt_hook_kind kind;
	uint32_t source;
	uint32_t len;
	uint32_t pid;
	int has_netns;
	uint8_t dir;
	int branch; /* index in the packet's branches */
	/*
	 * innermost layer at this hop (addresses may differ: NAT), shared by the
	 * packet's hops that saw the same header; valid until the packet is freed
	 */
	const struct pkt_l3l4 *l;
};

/* How a branch came to the packet. */
enum flow_branch_how {
	FLOW_BRANCH_ORIGINAL, /* the packet's first sk_buff */
	FLOW_BRANCH_CLONE,    /* another sk_buff on the same data buffer */
	FLOW_BRANCH_COPY,     /* a new data buffer with the same content */
};

/* How a branch ended, as far as the file tells. */
enum flow_end {
	FLOW_END_OPEN,	    /* no end seen */
	FLOW_END_DELIVER,   /* a process read the data (pid, comm) */
	FLOW_END_DROP,	    /* freed as a drop (reason) */
	FLOW_END_CONSUME,   /* freed after use */
	FLOW_END_CONTINUED, /* re-allocated: a copy carries the path on */
};

/* One sk_buff of a packet: the original, a clone, or a re-allocated copy. */
struct flow_branch {
	uint64_t track, skb, head;
	int has_track, has_skb, has_head;
	uint32_t source;
	enum flow_branch_how how;
	int parent; /* the branch it came from; -1 for the original */
	int main;   /* on the packet's path (the original and what continues it) */
	enum flow_end end;
	size_t nhops;
	size_t last_hop; /* index in the packet's hops */
	/* internal: indexes of the packets in flight */
	struct ht_node by_track, by_skb, by_head;
	int in_track, in_skb, in_head;
	int freed; /* its sk_buff was freed (or got another id) */
	int index; /* in the packet's branches */
	struct flow_packet *packet;
};

enum flow_fate {
	FLOW_FATE_UNKNOWN,
	FLOW_FATE_DELIVERED,
	FLOW_FATE_DROPPED,
	FLOW_FATE_FORWARDED,
	FLOW_FATE_IN_FLIGHT,
};

struct flow_dir;
struct flow_look;

/*
 * An ICMP/ICMPv6 error that quotes a request, or a TCP reset that answers
 * its SYN: not a reply, the reason there is none (pairs.c finds it, why.c
 * tells it). The strings are the answer's hops' (valid until flow_free()).
 */
struct flow_answer {
	uint64_t packet_id; /* the error's or reset's packet */
	int is_reset;	    /* a TCP reset, else an ICMP error */
	uint8_t family;	    /* of the ICMP error: 4 ICMP, 6 ICMPv6 */
	uint8_t type, code;
	uint32_t source;
	int has_netns; /* where it was sent from: the first hop of its path */
	uint64_t netns;
	const char *ifname;
	const char *hook;
	uint64_t ts_ns;
};

struct flow_tuple {
	uint8_t family;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint64_t vlan_stack; /* flows on other VLANs are other flows */
	uint64_t netns;	     /* pkt-record files: flows in other namespaces are others */
};

/*
 * In the order a hit touches them: the fields every hit of the packet reads
 * or writes first (a few cache lines), then its fate, then what a reused
 * packet does not clear (each written before it is read: see packet_alloc).
 */
struct flow_packet {
	uint64_t id;			      /* 1-based, in order of first hit */
	uint64_t first_ts, last_ts;	      /* every hop */
	uint64_t path_first_ts, path_last_ts; /* hops of the path (main branches) */
	struct flow_hop *hops;		      /* in time order, every branch */
	size_t nhops, hops_cap;
	struct flow_look *looks; /* what the hops' l point to (packets.c) */
	struct flow_branch **branches;
	int nbranches, branches_cap;
	/* internal */
	int refs;
	int finished;
	int nalive;	/* branches whose sk_buff is not known freed */
	int unknowable; /* a hit whose sk_buff is unknown: only the window finishes it */
	int settled;	/* TCP that got where it was going: closes as if freed */
	int ncontent;	/* of content */
	int nreads;	/* hops where a process read it */
	int nsummaries; /* hops with a summary of their own (to free) */
	/* the first read on the path, and on a copy: index in hops + 1, 0 if none */
	size_t read_on_path, read_on_copy;
	struct flow_packet *lru_prev, *lru_next; /* every unfinished one, oldest last hit first */
	size_t heap_idx; /* in the heap of packets whose sk_buffs are all freed, or SIZE_MAX */
	/* unfinished packets by direction of their first hop, oldest last hit first */
	struct flow_dir *dir;
	struct flow_packet *dir_prev, *dir_next;
	int ntuples; /* of tuples */
	int has_track;
	uint64_t track; /* the first tracking id seen */
	uint32_t source;
	/*
	 * fate, from the packet callback on; pairing may still settle an open
	 * one (unknown, in-flight: an answered request is delivered) before
	 * the pair and release callbacks
	 */
	enum flow_fate fate;
	/* what fate_detail says, kept to be formatted when printed (flow_fate_detail) */
	struct flow_fate_text {
		int form; /* internal to packets.c; 0: nothing said */
		int copy; /* of a copy's branch */
		int others;
		uint32_t pid;
		const char *arg, *arg2; /* interned or static: valid until flow_free */
		struct {		/* the place it names */
			uint64_t netns;
			const char *ifname;
			int has_netns;
		} at;
	} fate_text;
	int fate_branch; /* the branch the fate comes from, -1 if none */
	int fate_hop;	 /* the hop it was decided at (drop, delivery, exit), -1 if none */
	int dropped;	 /* fate == FLOW_FATE_DROPPED */
	/* outcome, valid in the release callback */
	int requests_answered; /* pairs where it was the request */
	int replies;	       /* pairs where it was the reply */
	int unanswered;	       /* it was a request that got no reply */
	int has_answer;	       /* an ICMP error or reset answered it instead (answer) */
	uint64_t answers; /* it is an ICMP error or reset that answered packet #answers, else 0 */
	/* what cause hooks said of it (why.h): NULL until one did; freed with it */
	struct why_note *note;
	struct flow_packet *all_prev, *all_next; /* every live packet, for flow_free */
	/* not cleared for a reused packet: from here on each is written before it is read */
	struct flow_tuple tuples[FLOW_MAX_TUPLES]; /* of the path's hops */
	struct flow_content_key {
		struct ht_node node;
		uint64_t key;
		struct flow_packet *packet;
	} content[FLOW_MAX_KEYS];  /* in the content index */
	struct flow_answer answer; /* when has_answer */
	char drop[PKT_DROP_LEN];   /* when dropped */
	char summary[FLOW_SUMMARY_LEN];
	struct pkt_info pi; /* of the first hop */
};

struct flow_pair {
	const char *kind; /* "icmp-echo", "icmpv6-echo", "arp", "ndp", "tcp-handshake",
			     "tcp-data", "dns", "udp" */
	const struct flow_packet *request, *reply;
	int64_t rtt_ns; /* reply path's last hit - request path's first hit */
};

struct flow_callbacks {
	/* a packet is complete (its hops will not change; its fate, see fate) */
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
	/* nothing will show a summary (pkt-analyze --stats): packets' and hops' stay "" */
	int no_summaries;
	/* events with no packet (causes.h): a drop looks up the route and neighbour failure */
	const struct causes *causes;
};

struct flow_stats {
	uint64_t events, packets, pairs, unanswered, dropped;
	uint64_t causes; /* hits of cause hooks (hooks.def CAUSE, CAUSE_SKB): no hop added */
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

/*
 * The content key of a header (everything but TTL and checksums): the same
 * at every hop of one packet, in any file (analyze/clock.c stitches by it).
 */
uint64_t fp_exact(const struct pkt_l3l4 *l);

/* The hop is a drop (kfree_skb, or a drop reason given). */
int flow_hop_is_drop(const struct flow_hop *h);
/* The hop is on the packet's path (the original and its re-allocations). */
int flow_hop_on_path(const struct flow_packet *p, const struct flow_hop *h);
/* "delivered", "dropped", ... */
const char *flow_fate_name(enum flow_fate fate);
/* The fate in words ("dropped: NETFILTER_DROP at eth0@4026532328"), into buf (256 bytes do); buf.
 */
const char *flow_fate_detail(const struct flow_packet *p, char *buf, size_t cap);
/* "original", "clone", "copy" */
const char *flow_branch_how_name(enum flow_branch_how how);

#endif
