/* SPDX-License-Identifier: MIT */
/*
 * Events with no packet (hooks.def kind CAUSE: route lookups, neighbour
 * updates, resets received...) kept by time, so that whoever explains a
 * packet's fate can ask "which route lookup / neighbour event in netns X
 * for address D happened within a window before time T".
 *
 * Memory is bounded: an event older than the window behind the newest one
 * added is dropped, and at most `max` are held (the oldest go first).
 * Library code: never prints, never exits.
 */
#ifndef PKT_ANALYZE_CAUSES_H
#define PKT_ANALYZE_CAUSES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "trace.h"

enum cause_kind {
	CAUSE_OTHER = 0,
	CAUSE_FIB,   /* fib:fib_table_lookup, fib6:fib6_table_lookup */
	CAUSE_NEIGH, /* neigh:neigh_update, neigh:neigh_event_send_dead */
};

/* An address: family 4 or 6 (0: none), 4 or 16 bytes in network order. */
struct cause_addr {
	uint8_t family;
	uint8_t b[16];
};

struct cause {
	uint64_t ts_ns;
	uint32_t source; /* input file */
	uint64_t netns;
	uint32_t ifindex; /* 0: no device */
	enum cause_kind kind;
	char hook[PKT_HOOK_LEN];
	char ifname[PKT_IFNAME_LEN]; /* "" if none */
	/* CAUSE_FIB: the lookup's key and result (has_*: the key was there) */
	struct cause_addr daddr, saddr, gw;
	bool has_table, has_err, has_oif, has_l4proto;
	uint32_t table, oif;
	int32_t err;
	uint8_t l4proto; /* only a socket's lookup has one (forwarding lookups do not) */
	uint16_t sport, dport;
	/* CAUSE_NEIGH */
	struct cause_addr neigh;
	char neigh_state[32]; /* "NUD_FAILED", "" if absent */
	bool dead;
};

struct causes;

/* window_ns: how far behind the newest event one is kept; max: at most this many. */
struct causes *causes_new(uint64_t window_ns, size_t max);
void causes_free(struct causes *c);
/*
 * Keep an event (hop->is_event, its keys parsed by trace_event_parse).
 * Returns 0, -EINVAL for a hop that is not an event, -ENOMEM.
 */
int causes_add(struct causes *c, uint32_t source, const struct trace_hop *hop);
/* Parse "10.0.0.1" or "fd00::1"; 0 or -EINVAL. */
/* a as text in buf (at least 46 bytes), or NULL if it has none */
const char *cause_addr_str(const struct cause_addr *a, char *buf, size_t cap);
int cause_addr_parse(const char *s, size_t len, struct cause_addr *a);
/*
 * The newest route lookup (neighbour event) in netns of source for daddr
 * (neighbour address) at or before t_ns and no older than t_ns - window_ns;
 * NULL if none. The pointer is valid until the next causes_add.
 */
const struct cause *causes_find_fib(const struct causes *c, uint32_t source, uint64_t netns,
				    const struct cause_addr *daddr, uint64_t t_ns,
				    uint64_t window_ns);
/*
 * The newest failed lookup for daddr in any netns of source, at or before
 * t_ns and no older than window_ns. A failed lookup names no device, and
 * the recorder gives the netns of the task the CPU ran (for a forwarded
 * packet: often the sender's): a drop asks this with a short window and
 * places the lookup where it dropped the packet, asking no further back
 * than the hit before. The oldest forwarding lookup (no l4proto) there is
 * preferred (the ICMP error's own lookups come after it), else the newest.
 */
const struct cause *causes_find_fib_failed(const struct causes *c, uint32_t source,
					   const struct cause_addr *daddr, uint64_t t_ns,
					   uint64_t window_ns);
const struct cause *causes_find_neigh(const struct causes *c, uint32_t source, uint64_t netns,
				      const struct cause_addr *addr, uint64_t t_ns,
				      uint64_t window_ns);
/*
 * A socket's route lookup that failed and that no lookup of the same
 * destination in the same netns set right within CAUSES_SETTLE_NS (the
 * next policy rule's table): the sender got an error and no packet exists
 * (sendto: ENETUNREACH). Such lookups wait in a bounded queue; this takes
 * the oldest one settled by now (an event added CAUSES_SETTLE_NS past it,
 * or every one when flush) into *out. Returns 1, or 0 if none.
 */
#define CAUSES_SETTLE_NS 1000000ULL
int causes_take_failure(struct causes *c, bool flush, struct cause *out);
/* Events held now (for tests and the memory bound). */
size_t causes_count(const struct causes *c);

#endif
