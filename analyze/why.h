/* SPDX-License-Identifier: MIT */
/*
 * Verdicts: why a dropped packet or a request without reply got nowhere.
 * One line a network engineer reads ("no listener on UDP 10.1.0.2:9999:
 * ns-b answered ICMP port unreachable") and the same as fields (kind, the
 * kernel's drop reason, the function that freed it, the place, the ICMP
 * error or reset that answered). Built from the packet alone (its drop hop,
 * reason, loc=) and the answer pairs.c tied to it (flow_answer): no search,
 * O(hops) per packet.
 *
 * Rules are tables: drop reasons (why.c, drop_rules) and ICMP types and codes
 * (icmp_rules); a later key (icmp=, fib_err=, neigh_state=, rmem=) adds a
 * column there, not a branch here.
 *
 * Library code: never prints, never exits.
 */
#ifndef PKT_WHY_H
#define PKT_WHY_H

#include <stddef.h>
#include <stdint.h>
#include "causes.h"
#include "flow.h"
#include "hashtab.h"

struct nsnames;

#define WHY_LINE_LEN 512

/*
 * What the cause hooks said of a packet (flow_packet.note), taken when they
 * happen: a hit of a CAUSE_SKB hook on its sk_buff (why_note_cause), the
 * route lookup and neighbour event held in causes.h when it is dropped
 * (why_note_drop). Allocated at the first one.
 */
struct why_note {
	/* icmp:icmp_send: the ICMP error the kernel generated because of it, and where */
	int icmp_sent;
	uint8_t icmp_type, icmp_code;
	uint32_t icmp_source;
	int icmp_has_netns;
	uint64_t icmp_netns;
	const char *icmp_ifname;
	int reset_sent; /* tcp:tcp_send_reset */
	int has_rmem;	/* sock:sock_rcvqueue_full: bytes allocated, the socket's limit */
	uint32_t rmem, rcvbuf;
	int has_rc; /* udp:udp_fail_queue_rcv_skb: what queueing returned (-12: buffer full) */
	int32_t rc;
	int has_route;	    /* a lookup of its destination failed where it was dropped */
	struct cause route; /* fib:fib_table_lookup, fib6:fib6_table_lookup */
	int has_neigh;	    /* its next hop failed there (NUD_FAILED, or the entry is gone) */
	struct cause neigh; /* neigh:neigh_update, neigh:neigh_event_send_dead */
};

struct why_verdict {
	const char *kind;   /* "drop", "no-reply", "icmp-error", "reset" */
	const char *reason; /* the kernel's drop reason, NULL if not dropped */
	char function[64];  /* the kernel function that freed it (loc=), "" if unknown */
	/* the place: where it was dropped or last seen */
	uint32_t source;
	int has_netns;
	uint64_t netns;
	const char *netns_name; /* NULL if unknown (or numeric) */
	const char *ifname;	/* "" if unknown */
	const char *hook;	/* the hook it was last seen at (not the free), "" if unknown */
	uint64_t ts_ns;		/* of the request or dropped packet's first hit */
	/* the ICMP error or reset that answered (NULL: none) */
	const struct flow_answer *answer;
	const char *answer_name;       /* "port unreachable", "RST" */
	const char *answer_netns_name; /* NULL if unknown */
	/* what the cause hooks said (has_note: anything); names NULL if unknown */
	int has_note;
	struct why_note note;
	const char *route_netns_name, *neigh_netns_name, *icmp_sent_netns_name;
	const char *icmp_sent_name; /* "port unreachable", NULL if none sent */
	char line[WHY_LINE_LEN];
};

/*
 * The verdict of p (dropped, unanswered, or answered by an error); names:
 * namespace names (NULL or numeric: inodes). Returns 1 and fills v, or 0
 * when p needs none. Valid from the release callback on.
 */
int why_build(const struct flow_packet *p, const struct nsnames *names, int numeric,
	      struct why_verdict *v);

/*
 * The verdict of a socket's failed route lookup, no packet (causes.h,
 * causes_take_failure): kind "no-route". Fills v (source, place, note.route).
 */
void why_build_route(const struct cause *e, const struct nsnames *names, int numeric,
		     struct why_verdict *v);
/* A routing table's name: "main", "local", "default", else its number (in buf). */
const char *why_table_name(uint32_t table, char *buf, size_t cap);
/*
 * The error a failed lookup gave its caller: "ENETUNREACH" for a table with
 * no match (-EAGAIN: the last rule's table tried), else the errno's name.
 */
const char *why_route_error(const struct cause *e);

/*
 * A hit of a cause hook on p's sk_buff (hook, the device it names): keep
 * what it says (icmp=, rmem=, rc=...). 0 or -ENOMEM.
 */
int why_note_cause(struct flow_packet *p, const struct flow_event *ev, const char *hook,
		   const char *ifname);
/* h drops p: note the failed lookup or neighbour there before it. 0 or -ENOMEM. */
int why_note_drop(struct flow_packet *p, const struct flow_hop *h, const struct causes *c);

/* l is an ICMP or ICMPv6 error that quotes the packet it is about. */
int why_is_icmp_error(const struct pkt_l3l4 *l);
/* ans (an ICMP error or a TCP reset) answered req: remember it on both (pairs.c). */
void why_note_answer(struct flow_packet *req, struct flow_packet *ans);

/* --why: verdicts grouped by cause and place, with counts and first/last time. */
struct why_group {
	struct ht_node node;
	uint64_t key;
	struct why_verdict v; /* the earliest one's (its line is the example) */
	uint64_t packet_id;   /* the earliest one's */
	uint64_t count, first_ts, last_ts;
	struct why_group *next; /* as added; why_groups_sort: by first time */
};

struct why_groups {
	struct hashtab by_key;
	struct why_group *head, *tail;
	uint64_t n;
};

void why_groups_init(struct why_groups *g);
/* Returns 0 or -ENOMEM. */
int why_groups_add(struct why_groups *g, const struct why_verdict *v, uint64_t packet_id);
/* In order of first time, then packet id (independent of when packets end). */
void why_groups_sort(struct why_groups *g);
void why_groups_free(struct why_groups *g);

#endif
