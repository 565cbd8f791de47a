// SPDX-License-Identifier: MIT
/* Packet grouping and pairing (analyze/packets.c, pairs.c) on synthetic hits. */
#include "test.h"
#include "flowbuild.h"

#define MS 1000000ull
#define T0 (1000ull * 1000 * MS)

struct seen {
	int packets, pairs, unanswered, released;
	char kinds[16][24];
	uint64_t req_id[16], rep_id[16];
	int64_t rtt[16];
	size_t hops[16];
	uint64_t unanswered_id[16];
};

static void on_packet(const struct flow_packet *p, void *ctx)
{
	struct seen *s = ctx;

	if (s->packets < 16)
		s->hops[s->packets] = p->nhops;
	s->packets++;
}

static void on_pair(const struct flow_pair *pr, void *ctx)
{
	struct seen *s = ctx;

	if (s->pairs < 16) {
		snprintf(s->kinds[s->pairs], sizeof(s->kinds[0]), "%s", pr->kind);
		s->req_id[s->pairs] = pr->request->id;
		s->rep_id[s->pairs] = pr->reply->id;
		s->rtt[s->pairs] = pr->rtt_ns;
	}
	s->pairs++;
}

static void on_unanswered(const struct flow_packet *req, const char *kind, void *ctx)
{
	struct seen *s = ctx;

	(void)kind;
	if (s->unanswered < 16)
		s->unanswered_id[s->unanswered] = req->id;
	s->unanswered++;
}

static void on_release(const struct flow_packet *p, void *ctx)
{
	(void)p;
	((struct seen *)ctx)->released++;
}

static struct flow *new_flow(struct seen *s)
{
	struct flow_callbacks cb = {on_packet, on_pair, on_unanswered, on_release, s};

	memset(s, 0, sizeof(*s));
	return flow_new(NULL, &cb);
}

static struct pkt_info tcp(uint8_t src, uint8_t dst, uint16_t sport, uint16_t dport, uint8_t flags,
			   uint32_t seq, uint32_t ack, uint16_t len)
{
	return fb_tcp(src, dst, sport, dport, flags, seq, ack, len, (uint16_t)(seq ^ flags));
}

static struct pkt_info udp(uint8_t src, uint8_t dst, uint16_t sport, uint16_t dport, int dns,
			   int response, uint16_t dns_id)
{
	struct pkt_info pi;

	memset(&pi, 0, sizeof(pi));
	fb_ip4(&pi.outer, src, dst);
	pi.outer.ip_proto = 17;
	pi.outer.has_l4 = 1;
	pi.outer.sport = sport;
	pi.outer.dport = dport;
	pi.outer.has_dns = dns;
	pi.outer.dns_is_response = response;
	pi.outer.dns_id = dns_id;
	pi.outer.l4_payload_len = 20;
	return pi;
}

/* One hit: on interface ifname, optionally with a track id. */
static int hit(struct flow *f, uint64_t ts, const char *ifname, int has_track, uint64_t track,
	       const struct pkt_info *pi, uint64_t *packet_id)
{
	struct kh k = {.ts = ts,
		       .track = track,
		       .no_track = !has_track,
		       .hook = "net:netif_rx",
		       .netns = 4026531840u,
		       .ifname = ifname,
		       .len = 64,
		       .summary = ""};

	return fb_add(f, &k, pi, packet_id);
}

/* One hit of pkt-record: a track id on a known sk_buff, at a hook. */
static int khit(struct flow *f, uint64_t ts, const char *hook, uint64_t track, uint64_t skb,
		const struct pkt_info *pi, uint64_t *packet_id)
{
	struct kh k = {
	    .ts = ts, .track = track, .skb = skb, .hook = hook, .netns = 4026531840u, .len = 64};

	return fb_add(f, &k, pi, packet_id);
}

#define RX "net:netif_rx"

TEST(flow_track_id_groups_hops_and_pairs_echo)
{
	struct seen s;
	struct flow *f = new_flow(&s);
	struct pkt_info req = fb_echo(1, 2, 0, 7, 1, 100), rep = fb_echo(2, 1, 1, 7, 1, 200);
	uint64_t a, b, c;

	ASSERT_TRUE(f, "flow_new");
	ASSERT_OK(hit(f, T0, "eth0", 1, 0x2a, &req, &a), "hit");
	ASSERT_OK(hit(f, T0 + 10000, "veth0", 1, 0x2a, &req, &b), "hit");
	ASSERT_OK(hit(f, T0 + 50000, "veth0", 1, 0x2b, &rep, &c), "hit");
	ASSERT_EQ(a, b, "same track, same packet");
	ASSERT_TRUE(a != c, "reply is another packet");
	flow_finish(f);
	ASSERT_EQ(s.packets, 2, "packets");
	ASSERT_EQ(s.hops[0], 2, "request hops");
	ASSERT_EQ(s.pairs, 1, "pairs");
	ASSERT_STREQ(s.kinds[0], "icmp-echo", "kind");
	ASSERT_EQ(s.req_id[0], a, "request");
	ASSERT_EQ(s.rep_id[0], c, "reply");
	ASSERT_EQ(s.rtt[0], 50000, "rtt");
	ASSERT_EQ(s.unanswered, 0, "unanswered");
	ASSERT_EQ(s.released, 2, "all released");
	ASSERT_EQ(flow_stats(f)->in_flight, 0, "nothing held");
	flow_free(f);
}

TEST(flow_content_correlation_without_ids)
{
	struct seen s;
	struct flow *f = new_flow(&s);
	struct pkt_info req = fb_echo(1, 2, 0, 7, 1, 100);
	uint64_t a, b, c, d;

	/* same content on two interfaces within the window: one packet */
	ASSERT_OK(hit(f, T0, "eth0", 0, 0, &req, &a), "hit");
	ASSERT_OK(hit(f, T0 + 1000, "br0", 0, 0, &req, &b), "hit");
	ASSERT_EQ(a, b, "correlated");
	/* the same place again: a second, identical packet */
	ASSERT_OK(hit(f, T0 + 2000, "eth0", 0, 0, &req, &c), "hit");
	ASSERT_TRUE(c != a, "same place twice is two packets");
	/* outside the correlation window: another packet */
	ASSERT_OK(hit(f, T0 + 900 * MS, "veth9", 0, 0, &req, &d), "hit");
	ASSERT_TRUE(d != a && d != c, "too late");
	/* a clone with a new track id in the same file still joins by content */
	struct pkt_info other = fb_echo(1, 2, 0, 7, 2, 101);
	uint64_t e, g;

	ASSERT_OK(hit(f, T0 + 901 * MS, "eth0", 1, 5, &other, &e), "hit");
	ASSERT_OK(hit(f, T0 + 901 * MS + 10, "br0", 1, 6, &other, &g), "hit");
	ASSERT_EQ(e, g, "clone joins");
	flow_finish(f);
	flow_free(f);
}

TEST(flow_nat_keeps_packet_and_pairs_reply)
{
	struct seen s;
	struct flow *f = new_flow(&s);
	struct pkt_info req = fb_echo(1, 9, 0, 7, 3, 0x3333);
	struct pkt_info nat = fb_echo(200, 9, 0, 7, 3, 0x3333); /* source rewritten */
	struct pkt_info rep_out = fb_echo(9, 200, 1, 7, 3, 0x4444);
	struct pkt_info rep_in = fb_echo(9, 1, 1, 7, 3, 0x4444); /* destination restored */
	uint64_t a, b, c, d;

	ASSERT_OK(hit(f, T0, "eth0", 0, 0, &req, &a), "hit");
	ASSERT_OK(hit(f, T0 + 1000, "wan0", 0, 0, &nat, &b), "hit");
	ASSERT_EQ(a, b, "NAT hop joins by IP id + ICMP seq");
	ASSERT_OK(hit(f, T0 + 5 * MS, "wan0", 0, 0, &rep_out, &c), "hit");
	ASSERT_OK(hit(f, T0 + 5 * MS + 1000, "eth0", 0, 0, &rep_in, &d), "hit");
	ASSERT_EQ(c, d, "reply joins across de-NAT");
	flow_finish(f);
	ASSERT_EQ(s.pairs, 1, "paired across NAT");
	flow_free(f);
}

TEST(flow_unanswered_after_window_streaming)
{
	struct seen s;
	struct flow *f = new_flow(&s);
	struct pkt_info req = fb_echo(1, 2, 0, 7, 1, 100);

	ASSERT_OK(hit(f, T0, "eth0", 0, 0, &req, NULL), "hit");
	/* much later traffic: the request expires without waiting for the end */
	for (int i = 0; i < 100; i++) {
		struct pkt_info other = udp(3, 4, 1000, 2000, 0, 0, 0);
		int err;

		other.outer.ip_id = (uint16_t)i;
		err = hit(f, T0 + 1000 * MS + (uint64_t)i * 100 * MS, "eth0", 0, 0, &other, NULL);
		if (err)
			flow_free(f);
		ASSERT_OK(err, "hit");
	}
	int expired_early = s.unanswered;
	uint64_t held = flow_stats(f)->in_flight;

	flow_finish(f);
	flow_free(f);
	ASSERT_EQ(expired_early, 1, "expired before the end of input");
	ASSERT_TRUE(held < 40, "old packets released");
	/* a one-way UDP stream is one request, not a hundred */
	ASSERT_EQ(s.unanswered, 2, "UDP stream asks once");
}

TEST(flow_tcp_handshake_and_cumulative_ack)
{
	struct seen s;
	struct flow *f = new_flow(&s);
	struct pkt_info syn = tcp(1, 2, 41000, 80, 0x02, 1000, 0, 0);
	struct pkt_info synack = tcp(2, 1, 80, 41000, 0x12, 5000, 1001, 0);
	struct pkt_info ack = tcp(1, 2, 41000, 80, 0x10, 1001, 5001, 0);
	struct pkt_info d1 = tcp(1, 2, 41000, 80, 0x18, 1001, 5001, 100);
	struct pkt_info d2 = tcp(1, 2, 41000, 80, 0x18, 1101, 5001, 100);
	struct pkt_info ack2 = tcp(2, 1, 80, 41000, 0x10, 5001, 1201, 0);

	hit(f, T0, "eth0", 0, 0, &syn, NULL);
	hit(f, T0 + 100000, "eth0", 0, 0, &synack, NULL);
	hit(f, T0 + 200000, "eth0", 0, 0, &ack, NULL);
	hit(f, T0 + 300000, "eth0", 0, 0, &d1, NULL);
	hit(f, T0 + 300100, "eth0", 0, 0, &d2, NULL);
	hit(f, T0 + 900000, "eth0", 0, 0, &ack2, NULL);
	flow_finish(f);
	ASSERT_EQ(s.pairs, 3, "handshake + two data segments");
	ASSERT_STREQ(s.kinds[0], "tcp-handshake", "first");
	ASSERT_EQ(s.rtt[0], 100000, "handshake rtt");
	ASSERT_STREQ(s.kinds[1], "tcp-data", "second");
	ASSERT_STREQ(s.kinds[2], "tcp-data", "third");
	ASSERT_EQ(s.rep_id[1], s.rep_id[2], "one cumulative ACK answers both");
	ASSERT_EQ(s.unanswered, 0, "nothing unanswered");
	flow_free(f);
}

TEST(flow_dns_and_udp_pairs)
{
	struct seen s;
	struct flow *f = new_flow(&s);
	struct pkt_info q = udp(1, 2, 5353, 53, 1, 0, 0xbeef);
	struct pkt_info other_q = udp(1, 2, 5354, 53, 1, 0, 0x1111);
	struct pkt_info r = udp(2, 1, 53, 5353, 1, 1, 0xbeef);
	struct pkt_info u1 = udp(1, 2, 40000, 7000, 0, 0, 0);
	struct pkt_info u2 = udp(2, 1, 7000, 40000, 0, 0, 0);

	hit(f, T0, "eth0", 0, 0, &q, NULL);
	hit(f, T0 + 10, "eth0", 0, 0, &other_q, NULL);
	hit(f, T0 + 3 * MS, "eth0", 0, 0, &r, NULL);
	hit(f, T0 + 10 * MS, "eth0", 0, 0, &u1, NULL);
	hit(f, T0 + 11 * MS, "eth0", 0, 0, &u2, NULL);
	flow_finish(f);
	ASSERT_EQ(s.pairs, 2, "pairs");
	ASSERT_STREQ(s.kinds[0], "dns", "dns");
	ASSERT_EQ(s.rtt[0], 3 * MS, "dns rtt");
	ASSERT_STREQ(s.kinds[1], "udp", "udp");
	ASSERT_EQ(s.unanswered, 1, "the other DNS query");
	flow_free(f);
}

TEST(flow_arp_and_ndp_pairs)
{
	struct seen s;
	struct flow *f = new_flow(&s);
	struct pkt_info req, rep, ns, na;

	memset(&req, 0, sizeof(req));
	req.is_arp = 1;
	req.arp_op = 1;
	req.outer.is_arp = 1;
	req.outer.arp_op = 1;
	fb_ip4(&req.outer, 1, 2);
	rep = req;
	rep.arp_op = rep.outer.arp_op = 2;
	fb_ip4(&rep.outer, 2, 1);

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

	hit(f, T0, "eth0", 0, 0, &req, NULL);
	hit(f, T0 + 1000, "eth0", 0, 0, &rep, NULL);
	hit(f, T0 + 2000, "eth0", 0, 0, &ns, NULL);
	hit(f, T0 + 4000, "eth0", 0, 0, &na, NULL);
	flow_finish(f);
	ASSERT_EQ(s.pairs, 2, "pairs");
	ASSERT_STREQ(s.kinds[0], "arp", "arp");
	ASSERT_STREQ(s.kinds[1], "ndp", "ndp (NS to a multicast address still asks)");
	flow_free(f);
}

TEST(flow_reply_finished_before_request_still_pairs)
{
	struct seen s;
	struct flow *f = new_flow(&s);
	struct pkt_info req = fb_echo(1, 2, 0, 7, 1, 100), rep = fb_echo(2, 1, 1, 7, 1, 200);

	/* the request's last hit (a late free) comes after the reply's */
	hit(f, T0, "eth0", 1, 1, &req, NULL);
	hit(f, T0 + 1000, "eth0", 1, 2, &rep, NULL);
	hit(f, T0 + 5000, "lo", 1, 1, &req, NULL);
	flow_finish(f);
	ASSERT_EQ(s.pairs, 1, "paired");
	ASSERT_EQ(s.unanswered, 0, "not unanswered");
	flow_free(f);
}

TEST(flow_free_midway_no_leak)
{
	struct seen s;
	struct flow *f = new_flow(&s);
	struct pkt_info req = fb_echo(1, 2, 0, 7, 1, 100);

	hit(f, T0, "eth0", 1, 1, &req, NULL);
	hit(f, T0 + 3000 * MS, "eth0", 1, 2, &req, NULL); /* first finished, waiting */
	flow_free(f);					  /* ASan reports leaks of anything left */
	flow_free(NULL);
	ASSERT_TRUE(1, "freed");
}

/* A packet whose sk_buffs are all freed is complete once no clone can join it. */
TEST(flow_freed_sk_buff_finishes_before_the_window)
{
	struct seen s;
	struct flow *f = new_flow(&s);
	struct pkt_info a = fb_echo(1, 2, 0, 7, 1, 100), b = fb_echo(1, 2, 0, 7, 2, 101);
	struct pkt_info c = fb_echo(3, 4, 0, 8, 1, 102), d = fb_echo(3, 4, 0, 8, 2, 103);
	uint64_t pa, pb, pa2, pc;

	ASSERT_OK(khit(f, T0, RX, 1, 0xa00, &a, &pa), "hit");
	ASSERT_OK(khit(f, T0 + 10000, "net:netif_receive_skb", 1, 0xa00, &a, NULL), "hit");
	/* the address comes back with another id: the first sk_buff was freed */
	ASSERT_OK(khit(f, T0 + MS, RX, 2, 0xa00, &b, &pb), "hit");
	ASSERT_TRUE(pa != pb, "another packet");
	/* a copy with a new id still joins by content within the correlation window */
	struct flow_event ev = {
	    .ts_ns = T0 + 50 * MS,
	    .has_track = 1,
	    .track = 9,
	    .has_skb = 1,
	    .skb = 0xc00,
	    .hook = RX,
	    .has_netns = 1,
	    .netns = 1,
	    .ifname = "veth9",
	    .dir = 1,
	    .drop = "",
	    .len = 64,
	    .pi = &a,
	};
	ASSERT_OK(flow_add_event(f, &ev, &pa2), "hit");
	ASSERT_EQ(pa2, pa, "copy joins");
	ASSERT_OK(khit(f, T0 + 60 * MS, "skb:kfree_skb", 9, 0xc00, &a, NULL), "free");
	ASSERT_OK(khit(f, T0 + 100 * MS, RX, 3, 0xb00, &c, &pc), "hit");
	ASSERT_EQ(s.packets, 0, "nothing complete yet");
	ASSERT_OK(khit(f, T0 + 170 * MS, "skb:consume_skb", 3, 0xb00, &c, NULL), "free");
	ASSERT_EQ(s.packets, 1, "the first packet, 110 ms after its last hit");
	ASSERT_EQ(s.hops[0], 4, "with the copy's hops");
	ASSERT_OK(khit(f, T0 + 300 * MS, RX, 4, 0xd00, &d, NULL), "hit");
	ASSERT_EQ(s.packets, 2, "and the consumed one");
	ASSERT_EQ(flow_stats(f)->in_flight, 4, "two in flight, two waiting for a reply");
	/* the second never sees its sk_buff freed: the window finishes it */
	ASSERT_OK(khit(f, T0 + 2002 * MS, RX, 5, 0xe00, &c, NULL), "hit");
	ASSERT_EQ(s.packets, 3, "window");
	flow_finish(f);
	ASSERT_EQ(s.packets, 5, "all");
	ASSERT_EQ(s.released, 5, "all released");
	flow_free(f);
}

/*
 * An ACK is freed at once, the segment it answers waits in a socket until the
 * application reads it: the segment finishes last, and still meets its ACK,
 * not a later one.
 */
TEST(flow_segment_finishing_after_its_ack_pairs_with_it)
{
	struct seen s;
	struct flow *f = new_flow(&s);
	struct pkt_info d1 = tcp(1, 2, 41000, 80, 0x18, 1001, 5001, 100);
	struct pkt_info ack1 = tcp(2, 1, 80, 41000, 0x10, 5001, 1101, 0);
	struct pkt_info d2 = tcp(1, 2, 41000, 80, 0x18, 1101, 5001, 100);
	struct pkt_info ack2 = tcp(2, 1, 80, 41000, 0x10, 5001, 1201, 0);
	struct pkt_info ack3 = tcp(2, 1, 80, 41000, 0x10, 5001, 1201, 0);
	struct pkt_info other = fb_echo(5, 6, 1, 1, 1, 1); /* a reply: nobody waits for it */
	uint64_t id_d1, id_a1, id_d2, id_a2;

	ack3.outer.ip_id = 7;
	khit(f, T0, RX, 1, 0xd1, &d1, &id_d1);
	khit(f, T0 + 100000, RX, 2, 0xa1, &ack1, &id_a1);
	khit(f, T0 + 1 * MS, RX, 3, 0xd2, &d2, &id_d2);
	khit(f, T0 + 2 * MS, RX, 4, 0xa1, &ack2, &id_a2); /* ack1 freed */
	khit(f, T0 + 3 * MS, RX, 5, 0xa1, &ack3, NULL);	  /* ack2 freed */
	khit(f, T0 + 3 * MS + 1000, "skb:consume_skb", 5, 0xa1, &ack3, NULL);
	other.outer.ip_id = 2;
	khit(f, T0 + 4 * MS, RX, 6, 0xd2, &other, NULL); /* d2 freed */
	other.outer.ip_id = 3;
	khit(f, T0 + 500 * MS, RX, 7, 0xd1, &other, NULL); /* d1 read at last */
	other.outer.ip_id = 4;
	khit(f, T0 + 700 * MS, RX, 8, 0xf0, &other, NULL);
	ASSERT_EQ(flow_stats(f)->pairs, 2, "both segments paired before the end");
	flow_finish(f);
	ASSERT_EQ(s.pairs, 2, "pairs");
	for (int i = 0; i < 2; i++) {
		ASSERT_STREQ(s.kinds[i], "tcp-data", "kind");
		if (s.req_id[i] == id_d1) {
			ASSERT_EQ(s.rep_id[i], id_a1, "first segment: its own ACK");
			ASSERT_EQ(s.rtt[i], 100000, "rtt");
		} else {
			ASSERT_EQ(s.req_id[i], id_d2, "second segment");
			ASSERT_EQ(s.rep_id[i], id_a2, "second segment: the next ACK");
		}
	}
	ASSERT_EQ(s.unanswered, 0, "nothing unanswered");
	flow_free(f);
}

static struct pkt_info udp_n(uint8_t src, uint8_t dst, uint16_t sport, uint16_t dport, uint16_t n)
{
	struct pkt_info pi = udp(src, dst, sport, dport, 0, 0, 0);

	pi.outer.ip_id = n;
	return pi;
}

/*
 * A UDP request (sk_buff 0x100), its reply (0x200), then a stream of five
 * more requests that all reuse stream_skb, each freeing the one before it;
 * a hit of another packet at +200 ms. The ids of the request, the reply and
 * the stream's first packet.
 */
static void udp_pair_then_stream(struct flow *f, uint64_t stream_skb, uint64_t *id_q,
				 uint64_t *id_r, uint64_t *id_f1)
{
	struct pkt_info q = udp_n(1, 2, 40000, 7000, 1), r = udp_n(2, 1, 7000, 40000, 2);
	struct pkt_info other = fb_echo(5, 6, 1, 1, 1, 1);

	khit(f, T0, RX, 1, 0x100, &q, id_q);
	khit(f, T0 + 1 * MS, RX, 2, 0x200, &r, id_r);
	for (int i = 0; i < 5; i++) {
		struct pkt_info fl = udp_n(1, 2, 40000, 7000, (uint16_t)(10 + i));
		uint64_t id;

		khit(f, T0 + (2 + (uint64_t)i) * MS, RX, 3 + (uint64_t)i, stream_skb, &fl, &id);
		if (!i)
			*id_f1 = id;
	}
	khit(f, T0 + 200 * MS, RX, 20, 0x300, &other, NULL);
}

/* The reply's sk_buff is freed late: the stream after it still asks anew. */
TEST(flow_udp_reply_finishing_late)
{
	struct seen s;
	struct flow *f = new_flow(&s);
	struct pkt_info other = fb_echo(5, 6, 1, 1, 1, 1);
	uint64_t id_q, id_r, id_f1 = 0;

	/* each of the stream frees the sk_buff before it: the request's, then its own */
	udp_pair_then_stream(f, 0x100, &id_q, &id_r, &id_f1);
	/* the last of the stream keeps its sk_buff */
	ASSERT_EQ(s.packets, 5, "the request and the stream finished, the reply not yet");
	khit(f, T0 + 800 * MS, RX, 21, 0x200, &other, NULL); /* the reply freed */
	khit(f, T0 + 1000 * MS, RX, 22, 0x400, &other, NULL);
	flow_finish(f);
	ASSERT_EQ(s.pairs, 1, "pairs");
	ASSERT_STREQ(s.kinds[0], "udp", "kind");
	ASSERT_EQ(s.req_id[0], id_q, "request");
	ASSERT_EQ(s.rep_id[0], id_r, "reply");
	ASSERT_EQ(s.unanswered, 1, "the stream");
	ASSERT_EQ(s.unanswered_id[0], id_f1, "the stream's first packet asks");
	flow_free(f);
}

/* The request's sk_buff is freed late: the reply still answers it. */
TEST(flow_udp_request_finishing_late)
{
	struct seen s;
	struct flow *f = new_flow(&s);
	struct pkt_info other = fb_echo(5, 6, 1, 1, 1, 1);
	uint64_t id_q, id_r, id_f1 = 0;

	udp_pair_then_stream(f, 0x200, &id_q, &id_r, &id_f1);
	ASSERT_EQ(s.pairs, 0, "the reply waits for the request still in flight");
	khit(f, T0 + 800 * MS, RX, 21, 0x100, &other, NULL); /* the request freed */
	khit(f, T0 + 1000 * MS, RX, 22, 0x400, &other, NULL);
	flow_finish(f);
	ASSERT_EQ(s.pairs, 1, "pairs");
	ASSERT_EQ(s.req_id[0], id_q, "request");
	ASSERT_EQ(s.rep_id[0], id_r, "reply");
	ASSERT_EQ(s.unanswered, 1, "the stream");
	ASSERT_EQ(s.unanswered_id[0], id_f1, "the stream's first packet asks");
	flow_free(f);
}

/* A flood whose sk_buffs are recycled: memory follows the packets really in flight. */
TEST(flow_flood_held_by_sk_buff_lifetime_not_window)
{
	struct seen s;
	struct flow *f = new_flow(&s);
	uint64_t held;

	for (int i = 0; i < 3000; i++) {
		struct pkt_info fl = udp_n(1, 2, 40000, 7000, (uint16_t)i);
		uint64_t ts = T0 + (uint64_t)i * MS;

		khit(f, ts, "net:net_dev_queue", (uint64_t)i + 1, 0x100 + (uint64_t)(i % 8), &fl,
		     NULL);
		khit(f, ts + 1000, RX, (uint64_t)i + 1, 0x100 + (uint64_t)(i % 8), &fl, NULL);
	}
	held = flow_stats(f)->in_flight_max;
	flow_finish(f);
	ASSERT_TRUE(held < 150, "in flight: the correlation window's worth, not the window's");
	ASSERT_EQ(s.packets, 3000, "packets");
	ASSERT_EQ(s.unanswered, 1, "one stream asks once");
	ASSERT_EQ(flow_stats(f)->in_flight, 0, "nothing held");
	flow_free(f);
}

/* Two requests of one stream finish late, the reply early: it answers the first. */
TEST(flow_udp_stream_finishing_after_its_answer)
{
	struct seen s;
	struct flow *f = new_flow(&s);
	struct pkt_info q = udp_n(1, 2, 40000, 7000, 1), q2 = udp_n(1, 2, 40000, 7000, 2);
	struct pkt_info r = udp_n(2, 1, 7000, 40000, 3), other = fb_echo(5, 6, 1, 1, 1, 1);
	uint64_t id_q, id_r;

	khit(f, T0, RX, 1, 0x100, &q, &id_q);
	khit(f, T0 + 1 * MS, RX, 2, 0x200, &q2, NULL);
	khit(f, T0 + 2 * MS, RX, 3, 0x300, &r, &id_r);
	khit(f, T0 + 3 * MS, RX, 4, 0x300, &other, NULL); /* the reply freed */
	khit(f, T0 + 800 * MS, RX, 5, 0x100, &other, NULL);
	khit(f, T0 + 900 * MS, RX, 6, 0x200, &other, NULL);
	khit(f, T0 + 1100 * MS, RX, 7, 0x400, &other, NULL);
	ASSERT_EQ(s.pairs, 1, "paired before the end");
	flow_finish(f);
	ASSERT_EQ(s.pairs, 1, "pairs");
	ASSERT_EQ(s.req_id[0], id_q, "the stream's first asks");
	ASSERT_EQ(s.rep_id[0], id_r, "reply");
	ASSERT_EQ(s.unanswered, 0, "the stream got its answer");
	flow_free(f);
}
