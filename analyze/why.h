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
#include "flow.h"
#include "hashtab.h"

struct nsnames;

#define WHY_LINE_LEN 384

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
	char line[WHY_LINE_LEN];
};

/*
 * The verdict of p (dropped, unanswered, or answered by an error); names:
 * namespace names (NULL or numeric: inodes). Returns 1 and fills v, or 0
 * when p needs none. Valid from the release callback on.
 */
int why_build(const struct flow_packet *p, const struct nsnames *names, int numeric,
	      struct why_verdict *v);

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
