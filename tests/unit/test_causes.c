// SPDX-License-Identifier: MIT
/* analyze/causes.c: events with no packet, kept by time and found by address. */
#include "test.h"
#include "causes.h"

#include <errno.h>
#include <stdlib.h>

#define MS 1000000ull

static void hop_of(struct trace_hop *h, const char *comment, uint64_t ts)
{
	memset(h, 0, sizeof(*h));
	if (trace_event_parse(comment, h) != 0)
		h->hook[0] = '\0';
	h->ts_ns = ts;
}

TEST(causes_find_by_netns_address_and_window)
{
	struct causes *c = causes_new(100 * MS, 16);
	struct trace_hop h;
	struct cause_addr d, n, other;
	const struct cause *e;

	ASSERT_TRUE(c, "causes_new");
	ASSERT_OK(cause_addr_parse("10.0.1.2", 8, &d), "v4");
	ASSERT_OK(cause_addr_parse("fd00::9", 7, &n), "v6");
	ASSERT_OK(cause_addr_parse("10.0.1.3", 8, &other), "other");
	ASSERT_EQ(cause_addr_parse("10.0.1", 6, &other), -EINVAL, "not an address");
	ASSERT_OK(cause_addr_parse("10.0.1.3", 8, &other), "other");

	hop_of(&h,
	       "hook=fib:fib_table_lookup netns=5 if=eth1 ifindex=3 cpu=0 pid=1 comm=x "
	       "fib_table=254 fib_err=0 fib_oif=3 fib_gw=10.0.0.254 saddr=10.0.0.1 daddr=10.0.1.2",
	       1000 * MS);
	ASSERT_OK(causes_add(c, 0, &h), "fib");
	hop_of(&h,
	       "hook=fib:fib_table_lookup netns=5 cpu=0 pid=1 comm=x fib_table=254 fib_err=-101 "
	       "saddr=10.0.0.1 daddr=10.0.1.3",
	       1001 * MS);
	ASSERT_OK(causes_add(c, 0, &h), "failed fib");
	hop_of(&h,
	       "hook=neigh:neigh_event_send_dead netns=6 if=eth2 ifindex=9 cpu=0 pid=1 comm=x "
	       "neigh=fd00::9 neigh_state=NUD_FAILED neigh_dead=1",
	       1002 * MS);
	ASSERT_OK(causes_add(c, 0, &h), "neigh");
	ASSERT_EQ(causes_count(c), 3, "held");

	e = causes_find_fib(c, 0, 5, &d, 1010 * MS, 50 * MS);
	ASSERT_TRUE(e, "found the lookup");
	ASSERT_EQ(e->kind, CAUSE_FIB, "kind");
	ASSERT_TRUE(e->has_table && e->table == 254, "table");
	ASSERT_TRUE(e->has_err && e->err == 0, "err");
	ASSERT_TRUE(e->has_oif && e->oif == 3, "oif");
	ASSERT_EQ(e->gw.family, 4, "gateway");
	ASSERT_EQ(e->gw.b[3], 254, "gateway address");
	ASSERT_EQ(e->ifindex, 3, "device");
	e = causes_find_fib(c, 0, 5, &other, 1010 * MS, 50 * MS);
	ASSERT_TRUE(e && e->err == -101 && !e->has_oif, "the failed one for its address");
	ASSERT_TRUE(!causes_find_fib(c, 0, 6, &d, 1010 * MS, 50 * MS), "another namespace");
	ASSERT_TRUE(!causes_find_fib(c, 1, 5, &d, 1010 * MS, 50 * MS), "another file");
	ASSERT_TRUE(!causes_find_fib(c, 0, 5, &d, 999 * MS, 50 * MS), "after T: not a cause");
	ASSERT_TRUE(!causes_find_fib(c, 0, 5, &d, 1060 * MS, 50 * MS), "before the window");
	ASSERT_TRUE(!causes_find_neigh(c, 0, 5, &d, 1010 * MS, 50 * MS), "not a neighbour");

	e = causes_find_neigh(c, 0, 6, &n, 1002 * MS, 0);
	ASSERT_TRUE(e, "the neighbour, at T itself");
	ASSERT_EQ(e->kind, CAUSE_NEIGH, "kind");
	ASSERT_TRUE(e->dead, "dead");
	ASSERT_STREQ(e->neigh_state, "NUD_FAILED", "state");
	ASSERT_EQ(e->neigh.family, 6, "v6");

	/* the window behind the newest: older events go */
	hop_of(&h, "hook=tcp:tcp_receive_reset netns=5 cpu=0 pid=1 comm=x tcp_state=TCP_CLOSE",
	       1101 * MS + 1);
	ASSERT_OK(causes_add(c, 0, &h), "reset");
	ASSERT_EQ(causes_count(c), 2, "the first lookup and the failed one expired");
	ASSERT_TRUE(!causes_find_fib(c, 0, 5, &d, 1010 * MS, 50 * MS), "gone");
	ASSERT_TRUE(causes_find_neigh(c, 0, 6, &n, 1101 * MS, 200 * MS), "still there");

	memset(&h, 0, sizeof(h));
	ASSERT_EQ(causes_add(c, 0, &h), -EINVAL, "a hit is not an event");
	causes_free(c);
}

TEST(causes_memory_is_bounded)
{
	struct causes *c = causes_new(UINT64_MAX / 2, 4);
	struct trace_hop h;
	struct cause_addr d;
	char text[256];

	ASSERT_TRUE(c, "causes_new");
	ASSERT_TRUE(!causes_new(1, 0), "no room: refused");
	for (int i = 0; i < 10; i++) {
		snprintf(text, sizeof(text),
			 "hook=neigh:neigh_update netns=1 cpu=0 pid=1 comm=x neigh=10.0.0.%d "
			 "neigh_state=NUD_REACHABLE",
			 i);
		hop_of(&h, text, (uint64_t)i * MS);
		ASSERT_OK(causes_add(c, 0, &h), "add");
		ASSERT_TRUE(causes_count(c) <= 4, "at most max");
	}
	ASSERT_EQ(causes_count(c), 4, "full");
	ASSERT_OK(cause_addr_parse("10.0.0.5", 8, &d), "addr");
	ASSERT_TRUE(!causes_find_neigh(c, 0, 1, &d, 20 * MS, 100 * MS), "the oldest went first");
	ASSERT_OK(cause_addr_parse("10.0.0.6", 8, &d), "addr");
	ASSERT_TRUE(causes_find_neigh(c, 0, 1, &d, 20 * MS, 100 * MS), "the newest four stay");
	causes_free(c);
}

/*
 * A socket's failed lookup with no answer from another table is taken once
 * settled; one the next table answered is not; the ICMP error's own lookup
 * right after a failed forwarding lookup is not a socket's.
 */
TEST(causes_socket_route_failures)
{
	struct causes *c = causes_new(100 * MS, 64);
	struct trace_hop h;
	struct cause e;
	struct cause_addr d;
	const struct cause *f;

	ASSERT_TRUE(c, "causes_new");
	/* 1: a socket's lookup that failed in every table */
	hop_of(&h,
	       "hook=fib:fib_table_lookup netns=5 cpu=0 pid=1 comm=x fib_table=254 fib_err=-11 "
	       "saddr=0.0.0.0 daddr=198.20.0.4 l4proto=17 sport=1000 dport=4444",
	       1000 * MS);
	ASSERT_OK(causes_add(c, 0, &h), "failed socket lookup");
	ASSERT_EQ(causes_take_failure(c, false, &e), 0, "not settled yet");
	/* 2: a failed lookup in table 255 that table 254 answered 10 us later */
	hop_of(&h,
	       "hook=fib:fib_table_lookup netns=5 cpu=0 pid=1 comm=x fib_table=255 fib_err=-11 "
	       "saddr=0.0.0.0 daddr=10.0.0.2 l4proto=6 sport=1 dport=80",
	       1000 * MS + 20000);
	ASSERT_OK(causes_add(c, 0, &h), "miss in local");
	hop_of(&h,
	       "hook=fib:fib_table_lookup netns=5 if=eth0 ifindex=2 cpu=0 pid=1 comm=x "
	       "fib_table=254 fib_err=0 fib_oif=2 saddr=0.0.0.0 daddr=10.0.0.2 l4proto=6",
	       1000 * MS + 30000);
	ASSERT_OK(causes_add(c, 0, &h), "hit in main");
	/* 3: a forwarding lookup failed (no l4proto), then the ICMP error's own */
	hop_of(&h,
	       "hook=fib:fib_table_lookup netns=7 cpu=0 pid=1 comm=x fib_table=254 fib_err=-11 "
	       "saddr=10.0.0.1 daddr=198.19.0.9",
	       1000 * MS + 40000);
	ASSERT_OK(causes_add(c, 0, &h), "forwarding miss");
	hop_of(&h,
	       "hook=fib:fib_table_lookup netns=7 cpu=0 pid=1 comm=x fib_table=254 fib_err=-11 "
	       "saddr=10.0.0.1 daddr=198.19.0.9 l4proto=1",
	       1000 * MS + 45000);
	ASSERT_OK(causes_add(c, 0, &h), "the ICMP error's lookup");
	/* a drop in netns 9 finds the forwarding miss whatever netns it was given */
	ASSERT_OK(cause_addr_parse("198.19.0.9", 10, &d), "addr");
	f = causes_find_fib_failed(c, 0, &d, 1000 * MS + 50000, 20000);
	ASSERT_TRUE(f && !f->has_l4proto && f->netns == 7, "the forwarding lookup, not the ICMP's");
	ASSERT_TRUE(!causes_find_fib_failed(c, 0, &d, 1000 * MS + 50000, 1000),
		    "not before the window");

	hop_of(&h,
	       "hook=neigh:neigh_update netns=5 if=eth0 ifindex=2 cpu=0 pid=1 comm=x "
	       "neigh=10.0.0.2 neigh_state=NUD_REACHABLE",
	       1002 * MS);
	ASSERT_OK(causes_add(c, 0, &h), "a later event settles");
	ASSERT_EQ(causes_take_failure(c, false, &e), 1, "settled: taken");
	ASSERT_EQ(e.netns, 5, "its netns");
	ASSERT_TRUE(e.has_table && e.table == 254 && e.err == -11, "table and error");
	ASSERT_TRUE(e.has_l4proto && e.l4proto == 17 && e.sport == 1000 && e.dport == 4444,
		    "the socket's key");
	ASSERT_EQ(causes_take_failure(c, true, &e), 0, "no other: answered, or the ICMP's");
	/* at the end, an unsettled one is taken too */
	hop_of(&h,
	       "hook=fib:fib_table_lookup netns=5 cpu=0 pid=1 comm=x fib_table=254 fib_err=-113 "
	       "saddr=0.0.0.0 daddr=198.20.0.5 l4proto=17 sport=1000 dport=4444",
	       1003 * MS);
	ASSERT_OK(causes_add(c, 0, &h), "another");
	ASSERT_EQ(causes_take_failure(c, false, &e), 0, "not settled");
	ASSERT_EQ(causes_take_failure(c, true, &e), 1, "flushed");
	ASSERT_EQ(e.err, -113, "its error");
	causes_free(c);
}
