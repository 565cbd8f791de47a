// SPDX-License-Identifier: MIT
/*
 * record/tracker.c: the tracking ids the reader gives without a filter, by
 * the rules the kernel's fallback mode shares (bpf/track_rules.h).
 */
#include "test.h"
#include "pktbuild.h"

#include <stdlib.h>
#include "tracker.h"

#define SKB_A 0xffff888012345600ull
#define HEAD  0xffff888099990000ull
#define NS_1  4026532328ull
#define NS_2  4026532329ull

/* A hit of an IPv4 UDP packet with IP id ip_id at hook, on (netns, ifindex), at ts_ns. */
static void hit(struct pktrec_event *e, int hook, uint64_t skb, uint64_t netns, uint32_t ifindex,
		unsigned ip_id, uint64_t ts_ns)
{
	struct pb p = {.n = 0};

	memset(e, 0, sizeof(*e));
	pb_ip4(&p, 17, 0x0a000001, 0x0a000002, 8, ip_id, 0);
	put32(&p, 0x13881389);
	put32(&p, 0x00080000);
	memcpy(e->data, p.b, p.n);
	e->snap_len = (uint16_t)p.n;
	e->hook = (uint8_t)hook;
	e->flags = PKTREC_F_L2_SYNTH;
	e->ts_ns = ts_ns;
	e->skb = skb;
	e->head = HEAD;
	e->netns = netns;
	e->ifindex = ifindex;
}

TEST(tracker_follows_one_packet_across_hops)
{
	struct tracker *t = tracker_new();
	struct pktrec_event e;
	uint64_t id;

	ASSERT_TRUE(t, "tracker_new");
	hit(&e, HOOK_NET_DEV_START_XMIT, SKB_A, NS_1, 2, 1, 1000);
	tracker_assign(t, &e);
	id = e.track;
	ASSERT_TRUE(id != 0, "an id");
	ASSERT_TRUE(e.flags & PKTREC_F_NEW_TRACK, "first hit: new");
	/* the veth peer receives it in another namespace: same packet */
	hit(&e, HOOK_NETIF_RECEIVE_SKB, SKB_A, NS_2, 5, 1, 2000);
	tracker_assign(t, &e);
	ASSERT_U64_EQ(e.track, id, "receive at the peer");
	ASSERT_TRUE(!(e.flags & PKTREC_F_NEW_TRACK), "not new");
	/* an event naming the sk_buff takes its id and clears the address */
	hit(&e, HOOK_NET_DEV_XMIT, SKB_A, NS_2, 5, 1, 2100);
	tracker_assign(t, &e);
	ASSERT_U64_EQ(e.track, id, "an event names the id");
	ASSERT_U64_EQ(e.skb, 0, "an event has no skb=");
	/* its free keeps the id and ends it */
	hit(&e, HOOK_KFREE_SKB, SKB_A, NS_2, 5, 1, 3000);
	tracker_assign(t, &e);
	ASSERT_U64_EQ(e.track, id, "the free");
	hit(&e, HOOK_NETIF_RECEIVE_SKB, SKB_A, NS_2, 6, 1, 4000);
	tracker_assign(t, &e);
	ASSERT_TRUE(e.track != id, "after its free the address is another packet");
	tracker_free(t);
}

TEST(tracker_new_packet_at_a_reused_address)
{
	struct tracker *t = tracker_new();
	struct pktrec_event e;
	uint64_t id;

	ASSERT_TRUE(t, "tracker_new");
	hit(&e, HOOK_NET_DEV_START_XMIT, SKB_A, NS_1, 2, 1, 1000);
	tracker_assign(t, &e);
	id = e.track;
	/* freed where no hook saw it, reused for the next datagram: other IP id */
	hit(&e, HOOK_NETIF_RECEIVE_SKB, SKB_A, NS_2, 5, 2, 2000);
	tracker_assign(t, &e);
	ASSERT_TRUE(e.track != id, "another fingerprint: a new id");
	id = e.track;
	/* sent again in a namespace other than where it was last seen */
	hit(&e, HOOK_NET_DEV_START_XMIT, SKB_A, NS_1, 2, 2, 3000);
	tracker_assign(t, &e);
	ASSERT_TRUE(e.track != id, "a transmit in another namespace: a new id");
	id = e.track;
	/* received twice in a row on one device */
	hit(&e, HOOK_NETIF_RECEIVE_SKB, SKB_A, NS_1, 2, 2, 4000);
	tracker_assign(t, &e);
	ASSERT_U64_EQ(e.track, id, "received after its transmit");
	hit(&e, HOOK_NETIF_RECEIVE_SKB, SKB_A, NS_1, 2, 2, 5000);
	tracker_assign(t, &e);
	ASSERT_TRUE(e.track != id, "received again on the same device: a new id");
	id = e.track;
	/* more than a second later */
	hit(&e, HOOK_NET_DEV_START_XMIT, SKB_A, NS_1, 3, 2, 5000 + 2000000000ull);
	tracker_assign(t, &e);
	ASSERT_TRUE(e.track != id, "after the time-out: a new id");
	id = e.track;
	/* another data buffer */
	hit(&e, HOOK_NETIF_RECEIVE_SKB, SKB_A, NS_2, 5, 2, 6000 + 2000000000ull);
	e.head = HEAD + 0x800;
	tracker_assign(t, &e);
	ASSERT_TRUE(e.track != id, "another head: a new id");
	tracker_free(t);
}

TEST(tracker_many_addresses_keep_their_ids)
{
	struct tracker *t = tracker_new();
	struct pktrec_event e;
	uint64_t ids[4096];

	ASSERT_TRUE(t, "tracker_new");
	for (unsigned i = 0; i < 4096; i++) {
		hit(&e, HOOK_NET_DEV_START_XMIT, SKB_A + 256ull * i, NS_1, 2, i, 1000 + i);
		tracker_assign(t, &e);
		ids[i] = e.track;
	}
	for (unsigned i = 0; i < 4096; i++) {
		hit(&e, HOOK_NETIF_RECEIVE_SKB, SKB_A + 256ull * i, NS_2, 5, i, 10000 + i);
		tracker_assign(t, &e);
		ASSERT_U64_EQ(e.track, ids[i], "4096 packets in flight keep their ids");
	}
	tracker_free(t);
}

/*
 * Read by a process, then the same sk_buff and data buffer sent again in the
 * same namespace (slab reuse, no free hook, the read's snapshot is payload
 * with no fingerprint): a new packet, not the read one's continuation.
 */
TEST(tracker_new_packet_after_a_read)
{
	struct tracker *t = tracker_new();
	struct pktrec_event e;
	uint64_t id;

	ASSERT_TRUE(t, "tracker_new");
	/* its earlier hops were lost or evicted: the id starts at the read */
	hit(&e, HOOK_SKB_COPY_DATAGRAM_IOVEC, SKB_A, NS_1, 0, 1, 2000);
	memset(e.data, 0, sizeof(e.data)); /* payload: not IP */
	tracker_assign(t, &e);
	id = e.track;
	hit(&e, HOOK_SKB_COPY_DATAGRAM_IOVEC, SKB_A, NS_1, 0, 1, 2500);
	memset(e.data, 0, sizeof(e.data));
	tracker_assign(t, &e);
	ASSERT_U64_EQ(e.track, id, "a second read of the same data too");
	hit(&e, HOOK_NET_DEV_START_XMIT, SKB_A, NS_1, 2, 2, 3000);
	tracker_assign(t, &e);
	ASSERT_TRUE(e.track != id, "a device hit after the read is another packet");
	ASSERT_TRUE(e.flags & PKTREC_F_NEW_TRACK, "new");
	tracker_free(t);
}
