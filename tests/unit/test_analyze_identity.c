// SPDX-License-Identifier: MIT
/*
 * Packet identity and fate (analyze/packets.c): clone trees by data buffer,
 * re-allocation by content, stale ids, fates; and the pairing rules that
 * depend on them (analyze/pairs.c): VLAN stacks, NDP order.
 */
#include "test.h"
#include "flowbuild.h"

#define MS   1000000ull
#define T0   (1000ull * 1000 * MS)
#define NS_A 4026532001ull
#define NS_R 4026531840ull

#define RX   "net:netif_receive_skb"
#define TX   "net:net_dev_start_xmit"
#define DROP "skb:kfree_skb"
#define READ "skb:skb_copy_datagram_iovec"

/* What the callbacks saw of each finished packet, by packet id (1-based). */
struct got {
	int packets, pairs;
	enum flow_fate fate[16];
	char detail[16][256];
	int nbranches[16];
	size_t path_hops[16];
	uint64_t dropped;
	uint64_t req[16], rep[16];
	char kind[16][24];
};

static void on_packet(const struct flow_packet *p, void *ctx)
{
	struct got *g = ctx;

	g->packets++;
	if (p->id >= 16)
		return;
	g->fate[p->id] = p->fate;
	g->nbranches[p->id] = p->nbranches;
	g->path_hops[p->id] = 0;
	for (size_t i = 0; i < p->nhops; i++)
		g->path_hops[p->id] += flow_hop_on_path(p, &p->hops[i]);
}

static void on_pair(const struct flow_pair *pr, void *ctx)
{
	struct got *g = ctx;

	if (g->pairs < 16) {
		g->req[g->pairs] = pr->request->id;
		g->rep[g->pairs] = pr->reply->id;
		snprintf(g->kind[g->pairs], sizeof(g->kind[0]), "%s", pr->kind);
	}
	g->pairs++;
}

/* The fate as it is written: at release, after pairing chose the reader. */
static void on_release(const struct flow_packet *p, void *ctx)
{
	struct got *g = ctx;

	if (p->id < 16)
		flow_fate_detail(p, g->detail[p->id], sizeof(g->detail[0]));
}

static struct flow *new_flow(struct got *g)
{
	struct flow_callbacks cb = {on_packet, on_pair, NULL, on_release, g};

	memset(g, 0, sizeof(*g));
	return flow_new(NULL, &cb);
}

static struct pkt_info echo(uint8_t src, uint8_t dst, int reply, uint16_t id, uint16_t seq)
{
	return fb_echo(src, dst, reply, id, seq, (uint16_t)(seq * 7 + reply));
}

/* A hit in NS_A unless k says otherwise; the sk_buff is always known. */
static int add(struct flow *f, const struct kh *k, const struct pkt_info *pi, uint64_t *id)
{
	struct flow_event ev = fb_event(k, pi);

	ev.has_skb = 1;
	if (!k->netns)
		ev.netns = NS_A;
	return flow_add_event(f, &ev, id);
}

/*
 * An echo reply reaches a host with three raw sockets: one refuses its clone
 * (socket filter), one reads it, the original is freed NO_SOCKET. One packet,
 * a branch per clone, delivered to the reader, not dropped.
 */
TEST(identity_clone_tree_delivered_copy_not_a_drop)
{
	struct got g;
	struct flow *f = new_flow(&g);
	struct pkt_info rep = echo(2, 1, 1, 77, 1);
	uint64_t id[6];

	ASSERT_TRUE(f, "flow_new");
	add(f,
	    &(struct kh){.ts = T0,
			 .track = 1,
			 .skb = 0xa00,
			 .head = 0x5000,
			 .hook = TX,
			 .ifname = "eth0",
			 .netns = NS_R},
	    &rep, &id[0]);
	add(f, &(struct kh){.ts = T0 + 1000, .track = 1, .skb = 0xa00, .head = 0x5000, .hook = RX},
	    &rep, &id[1]);
	add(f,
	    &(struct kh){.ts = T0 + 2000,
			 .track = 2,
			 .skb = 0xb00,
			 .head = 0x5000,
			 .hook = DROP,
			 .drop = "SOCKET_FILTER",
			 .comm = "ping",
			 .pid = 78},
	    &rep, &id[2]);
	add(f,
	    &(struct kh){.ts = T0 + 3000,
			 .track = 1,
			 .skb = 0xa00,
			 .head = 0x5000,
			 .hook = DROP,
			 .drop = "NO_SOCKET",
			 .comm = "ping",
			 .pid = 78},
	    &rep, &id[3]);
	add(f,
	    &(struct kh){.ts = T0 + 9000,
			 .track = 3,
			 .skb = 0xc00,
			 .head = 0x5000,
			 .hook = READ,
			 .ifname = "-",
			 .comm = "ping",
			 .pid = 77},
	    &rep, &id[4]);
	flow_finish(f);
	ASSERT_EQ(g.packets, 1, "one packet: the clones are branches");
	for (int i = 1; i < 5; i++)
		ASSERT_EQ(id[i], id[0], "every hit on the reply's packet");
	ASSERT_EQ(g.nbranches[1], 3, "original + two clones");
	ASSERT_EQ(g.path_hops[1], 3, "the path: the original's hops");
	ASSERT_EQ(g.fate[1], FLOW_FATE_DELIVERED, "fate");
	ASSERT_STREQ(g.detail[1], "delivered to ping 77 (copy)", "detail");
	ASSERT_EQ(flow_stats(f)->dropped, 0, "a refused copy and a freed original are no drop");
	flow_free(f);
}

/* A data buffer freed and given to the next packet: other content, other packet. */
TEST(identity_reused_buffer_with_other_content_is_another_packet)
{
	struct got g;
	struct flow *f = new_flow(&g);
	struct pkt_info a = echo(2, 1, 1, 77, 1), b = echo(2, 1, 1, 77, 2);
	uint64_t ida, idb, idr;

	add(f, &(struct kh){.ts = T0, .track = 1, .skb = 0xa00, .head = 0x5000, .hook = RX}, &a,
	    &ida);
	add(f,
	    &(struct kh){.ts = T0 + 1000,
			 .track = 1,
			 .skb = 0xa00,
			 .head = 0x5000,
			 .hook = DROP,
			 .drop = "NO_SOCKET"},
	    &a, NULL);
	add(f, &(struct kh){.ts = T0 + 5000, .track = 2, .skb = 0xa00, .head = 0x5000, .hook = RX},
	    &b, &idb);
	/* a read of the buffer (its snapshot starts at the payload): the owner now */
	struct pkt_info junk;

	memset(&junk, 0, sizeof(junk));
	add(f,
	    &(struct kh){.ts = T0 + 6000,
			 .track = 3,
			 .skb = 0xd00,
			 .head = 0x5000,
			 .hook = READ,
			 .ifname = "-",
			 .comm = "ping",
			 .pid = 77},
	    &junk, &idr);
	flow_finish(f);
	ASSERT_EQ(g.packets, 2, "two packets");
	ASSERT_TRUE(ida != idb, "the second is not the first");
	ASSERT_EQ(idr, idb, "the read belongs to the buffer's present owner");
	ASSERT_EQ(g.fate[ida], FLOW_FATE_UNKNOWN, "echo reply freed NO_SOCKET, nobody read");
	ASSERT_EQ(g.fate[idb], FLOW_FATE_DELIVERED, "the second was read");
	flow_free(f);
}

/*
 * The kernel re-allocates (skb_copy, pskb_copy): a new sk_buff and buffer with
 * the same content goes on with the path; after the path ended a copy with
 * the same content is a branch, and one at a place the packet already passed
 * is another packet.
 */
TEST(identity_reallocation_by_content_continues_the_path)
{
	struct got g;
	struct flow *f = new_flow(&g);
	struct pkt_info q = echo(1, 2, 0, 9, 1);
	uint64_t id1, id2, id3;

	add(f,
	    &(struct kh){
		.ts = T0, .track = 1, .skb = 0xa00, .head = 0x5000, .hook = TX, .ifname = "eth0"},
	    &q, &id1);
	add(f,
	    &(struct kh){.ts = T0 + 1000,
			 .track = 1,
			 .skb = 0xa00,
			 .head = 0x5000,
			 .hook = RX,
			 .ifname = "veth0",
			 .netns = NS_R},
	    &q, NULL);
	add(f,
	    &(struct kh){.ts = T0 + 2000,
			 .track = 2,
			 .skb = 0xb00,
			 .head = 0x6000,
			 .hook = TX,
			 .ifname = "eth1",
			 .netns = NS_R},
	    &q, &id2);
	add(f,
	    &(struct kh){.ts = T0 + 3000,
			 .track = 2,
			 .skb = 0xb00,
			 .head = 0x6000,
			 .hook = DROP,
			 .ifname = "eth1",
			 .drop = "NETFILTER_DROP",
			 .netns = NS_R},
	    &q, NULL);
	/* the same content again at the first place: a retransmission, not this packet */
	add(f,
	    &(struct kh){.ts = T0 + 4000,
			 .track = 3,
			 .skb = 0xc00,
			 .head = 0x7000,
			 .hook = TX,
			 .ifname = "eth0"},
	    &q, &id3);
	flow_finish(f);
	ASSERT_EQ(id2, id1, "the copy continues the packet");
	ASSERT_TRUE(id3 != id1, "the same content at a place already passed is another packet");
	ASSERT_EQ(g.nbranches[id1], 2, "two sk_buffs");
	ASSERT_EQ(g.path_hops[id1], 4, "both on the path");
	ASSERT_EQ(g.fate[id1], FLOW_FATE_DROPPED, "the path ends in a drop");
	ASSERT_STREQ(g.detail[id1], "dropped: NETFILTER_DROP at eth1@4026531840", "detail");
	ASSERT_EQ(flow_stats(f)->dropped, 1, "one drop");
	flow_free(f);
}

/* An id that outlived its sk_buff comes back on another packet: split there. */
TEST(identity_stale_id_with_reversed_content_is_a_new_packet)
{
	struct got g;
	struct flow *f = new_flow(&g);
	struct pkt_info q = echo(1, 2, 0, 9, 1), r = echo(2, 1, 1, 9, 1);
	uint64_t idq, idr;

	add(f, &(struct kh){.ts = T0, .track = 1, .skb = 0xa00, .head = 0x5000, .hook = TX}, &q,
	    &idq);
	add(f,
	    &(struct kh){.ts = T0 + 1000,
			 .track = 1,
			 .skb = 0xa00,
			 .head = 0x5000,
			 .hook = RX,
			 .ifname = "veth0"},
	    &q, NULL);
	add(f,
	    &(struct kh){.ts = T0 + 2000,
			 .track = 1,
			 .skb = 0xa00,
			 .head = 0x5000,
			 .hook = TX,
			 .ifname = "veth0"},
	    &r, &idr);
	add(f,
	    &(struct kh){.ts = T0 + 3000,
			 .track = 1,
			 .skb = 0xa00,
			 .head = 0x5000,
			 .hook = RX,
			 .ifname = "eth0"},
	    &r, NULL);
	flow_finish(f);
	ASSERT_TRUE(idq != idr, "request and reply apart");
	ASSERT_EQ(g.pairs, 1, "and paired");
	ASSERT_EQ(g.path_hops[idq], 2, "request hops");
	ASSERT_EQ(g.path_hops[idr], 2, "reply hops");
	flow_free(f);
}

/* Fates of paths that do not end in a free: forwarded, in flight, unknown. */
TEST(identity_fates_forwarded_in_flight_unknown)
{
	struct got g;
	struct flow *f = new_flow(&g);
	struct pkt_info a = echo(1, 2, 0, 9, 1), b = echo(1, 2, 0, 9, 2), c = echo(1, 2, 0, 9, 3);
	uint64_t ida, idb, idc;

	add(f,
	    &(struct kh){
		.ts = T0, .track = 1, .skb = 0xa00, .head = 0x5000, .hook = RX, .ifname = "veth0"},
	    &a, &ida);
	add(f,
	    &(struct kh){.ts = T0 + 1000,
			 .track = 1,
			 .skb = 0xa00,
			 .head = 0x5000,
			 .hook = TX,
			 .ifname = "eth1"},
	    &a, NULL);
	add(f,
	    &(struct kh){.ts = T0 + 10 * MS,
			 .track = 2,
			 .skb = 0xb00,
			 .head = 0x6000,
			 .hook = TX,
			 .ifname = "eth0"},
	    &b, &idb);
	add(f,
	    &(struct kh){.ts = T0 + 10 * MS + 1000,
			 .track = 2,
			 .skb = 0xb00,
			 .head = 0x6000,
			 .hook = RX,
			 .ifname = "veth0"},
	    &b, NULL);
	add(f,
	    &(struct kh){.ts = T0 + 3000 * MS,
			 .track = 3,
			 .skb = 0xc00,
			 .head = 0x7000,
			 .hook = TX,
			 .ifname = "eth0"},
	    &c, &idc);
	flow_finish(f);
	ASSERT_EQ(g.fate[ida], FLOW_FATE_FORWARDED, "left through eth1");
	ASSERT_STREQ(g.detail[ida], "forwarded: left through eth1@4026532001", "detail");
	ASSERT_EQ(g.fate[idb], FLOW_FATE_UNKNOWN, "received, then nothing");
	ASSERT_EQ(g.fate[idc], FLOW_FATE_IN_FLIGHT, "the recording ended right after it");
	flow_free(f);
}

static struct pkt_info syn(int synack, uint16_t vlan)
{
	struct pkt_info pi;

	memset(&pi, 0, sizeof(pi));
	pi.outer.family = 4;
	pi.outer.src[0] = pi.outer.dst[0] = 10;
	pi.outer.src[3] = synack ? 2 : 1;
	pi.outer.dst[3] = synack ? 1 : 2;
	pi.outer.ip_proto = 6;
	pi.outer.has_l4 = 1;
	pi.outer.sport = synack ? 80 : 40000;
	pi.outer.dport = synack ? 40000 : 80;
	pi.outer.tcp_flags = synack ? 0x12 : 0x02;
	pi.outer.tcp_seq = synack ? 900 : 100;
	pi.outer.tcp_ack = synack ? 101 : 0;
	pi.vlan_count = 1;
	pi.vlan_id = vlan;
	pi.vlan_stack = vlan;
	return pi;
}

static int foreign(struct flow *f, uint64_t ts, const struct pkt_info *pi, uint64_t *id)
{
	struct flow_event ev = {
	    .ts_ns = ts,
	    .hook = "",
	    .ifname = "if0",
	    .drop = "",
	    .len = 60,
	    .pi = pi,
	};

	return flow_add_event(f, &ev, id);
}

/*
 * The same SYN on VLANs 80 and 81 (a capture on a trunk), the SYN-ACK on
 * VLAN 80: it answers the one on its VLAN, not the later one. A SYN answered only on another
 * VLAN still pairs.
 */
TEST(identity_pairs_prefer_the_same_vlan_but_cross_when_alone)
{
	struct got g;
	struct flow *f = new_flow(&g);
	struct pkt_info s81 = syn(0, 81), s80 = syn(0, 80), sa80 = syn(1, 80);
	uint64_t id81, id80, ida;

	foreign(f, T0, &s80, &id80);
	foreign(f, T0 + 5000, &s81, &id81); /* the closest before the reply, on another VLAN */
	foreign(f, T0 + 9000, &sa80, &ida);
	flow_finish(f);
	ASSERT_EQ(g.pairs, 1, "one pair");
	ASSERT_EQ(g.req[0], id80, "the SYN on the reply's VLAN");
	ASSERT_EQ(g.rep[0], ida, "reply");
	flow_free(f);

	f = new_flow(&g);
	foreign(f, T0, &s81, &id81);
	foreign(f, T0 + 9000, &sa80, &ida);
	flow_finish(f);
	ASSERT_EQ(g.pairs, 1, "a SYN on VLAN 81 answered on VLAN 80 pairs");
	ASSERT_EQ(g.req[0], id81, "request");
	flow_free(f);
}

/* NDP: an advertisement sent before the solicitation does not answer it. */
TEST(identity_ndp_advertisement_before_solicitation_does_not_pair)
{
	struct got g;
	struct flow *f = new_flow(&g);
	struct pkt_info ns, na;

	memset(&ns, 0, sizeof(ns));
	ns.outer.family = 6;
	ns.outer.src[0] = 0xfe;
	ns.outer.src[15] = 1;
	ns.outer.dst[0] = 0xff;
	ns.outer.ip_proto = 58;
	ns.outer.has_l4 = 1;
	ns.outer.icmp_type = 135;
	ns.outer.has_nd_target = 1;
	ns.outer.nd_target[0] = 0xfd;
	ns.outer.nd_target[15] = 2;
	na = ns;
	na.outer.icmp_type = 136;
	na.outer.src[15] = 2;
	na.outer.dst[0] = 0xfe;
	na.outer.dst[15] = 1;
	foreign(f, T0, &na, NULL);
	foreign(f, T0 + 4000, &ns, NULL);
	flow_finish(f);
	ASSERT_EQ(g.pairs, 0, "no pair backwards in time");
	flow_free(f);

	/* sent to someone else than the solicitor: not its answer either */
	f = new_flow(&g);
	foreign(f, T0, &ns, NULL);
	na.outer.dst[15] = 9;
	foreign(f, T0 + 4000, &na, NULL);
	flow_finish(f);
	ASSERT_EQ(g.pairs, 0, "not to the solicitor");
	flow_free(f);
}
