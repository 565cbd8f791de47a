// SPDX-License-Identifier: MIT
/* Several hosts (analyze/clock.c): the offset estimator and the stitch key; the SHB host name. */
#include "test.h"
#include "clock.h"
#include "trace.h"

#define US 1000ll
#define S  1000000000ll

/* theta = 5 s: sent by the reference with delays 30, 12, 50 us; back with 20, 8, 9 us */
TEST(clock_two_way_min_delays)
{
	const int64_t theta = 5 * S;
	struct clock_sample s[] = {
	    {1000, theta + 30 * US, 0}, {2000, -theta + 20 * US, 1}, {3000, theta + 12 * US, 0},
	    {4000, -theta + 8 * US, 1}, {5000, theta + 50 * US, 0},  {6000, -theta + 9 * US, 1},
	};
	struct clock_estimate e;

	ASSERT_OK(clock_estimate(s, 6, &e), "estimate");
	ASSERT_TRUE(e.known && e.two_way, "both ways");
	/* theta in [-(-theta + 8us), theta + 12us] = [theta - 8us, theta + 12us] */
	ASSERT_EQ(e.offset_ns, theta + 2 * US, "the middle of the bounds");
	ASSERT_EQ(e.uncertainty_ns, 10 * US, "half the smallest round trip");
	ASSERT_EQ(e.round_trip_ns, 20 * US, "12 + 8 us");
	ASSERT_EQ(e.min_ns, theta - 8 * US, "lower bound");
	ASSERT_EQ(e.max_ns, theta + 12 * US, "upper bound");
	ASSERT_EQ(e.fwd, 3, "sent");
	ASSERT_EQ(e.back, 3, "received");
	ASSERT_TRUE(e.drift == 0, "no drift over a short span");
	ASSERT_EQ(clock_offset_at(&e, 123456), theta + 2 * US, "constant");
}

TEST(clock_one_way_is_a_bound)
{
	struct clock_sample s[] = {{1000, -3 * S + 40 * US, 1}, {2000, -3 * S + 25 * US, 1}};
	struct clock_estimate e;

	ASSERT_OK(clock_estimate(s, 2, &e), "estimate");
	ASSERT_TRUE(e.known && !e.two_way, "one way");
	ASSERT_TRUE(e.has_min && !e.has_max, "only a lower bound");
	ASSERT_EQ(e.min_ns, 3 * S - 25 * US, "offset >= -(smallest delay back)");
	ASSERT_EQ(e.offset_ns, 3 * S - 25 * US, "the bound is used");
	ASSERT_OK(clock_estimate(NULL, 0, &e), "no samples");
	ASSERT_TRUE(!e.known, "nothing known");
	ASSERT_EQ(clock_offset_at(&e, 99), 0, "no correction");
	ASSERT_EQ(clock_estimate(s, 2, NULL), -22, "NULL estimate: -EINVAL");
}

/* The offset grows 1 us a second (1 ppm): measured from the two halves. */
TEST(clock_drift)
{
	struct clock_sample s[400];
	struct clock_estimate e;
	size_t n = 0;

	for (int i = 0; i < 200; i++) {
		int64_t t = (int64_t)i * S;	     /* one exchange a second for 200 s */
		int64_t theta = 1 * S + t / 1000000; /* +1 us a second: 1 ppm */
		int64_t d = 10 * US + (i % 7) * US;  /* the smallest is 10 us each way */

		s[n++] = (struct clock_sample){(uint64_t)(1000 * S + t), theta + d, 0};
		s[n++] = (struct clock_sample){(uint64_t)(1000 * S + t), -theta + d, 1};
	}
	ASSERT_OK(clock_estimate(s, n, &e), "estimate");
	ASSERT_TRUE(e.two_way, "both ways");
	ASSERT_TRUE(e.drift > 0.9e-6 && e.drift < 1.1e-6, "about 1 ppm");
	/* at t = 0 and t = 199 s the offset is 1 s and 1 s + 199 us, within the samples' spread */
	int64_t at0 = clock_offset_at(&e, 1000 * S), at199 = clock_offset_at(&e, 1199 * S);

	ASSERT_TRUE(at0 > 1 * S - 10 * US && at0 < 1 * S + 10 * US, "offset at the start");
	ASSERT_TRUE(at199 > 1 * S + 189 * US && at199 < 1 * S + 209 * US, "offset at the end");
}

static struct pkt_info icmp(uint8_t ttl, uint16_t seq)
{
	struct pkt_info pi;

	memset(&pi, 0, sizeof(pi));
	pi.outer.family = 4;
	pi.outer.src[0] = 10, pi.outer.src[3] = 1;
	pi.outer.dst[0] = 10, pi.outer.dst[3] = 2;
	pi.outer.ip_proto = 1;
	pi.outer.ttl = ttl;
	pi.outer.ip_id = 77;
	pi.outer.has_l4 = 1;
	pi.outer.icmp_type = 8;
	pi.outer.icmp_id = 5;
	pi.outer.icmp_seq = seq;
	return pi;
}

/* bare in VXLAN between 0.0.0.9 and 0.0.0.8 (outer IP id 4242) */
static struct pkt_info vxlan(const struct pkt_info *bare)
{
	struct pkt_info t;

	memset(&t, 0, sizeof(t));
	t.outer.family = 4;
	t.outer.src[3] = 9, t.outer.dst[3] = 8;
	t.outer.ip_proto = 17;
	t.outer.ip_id = 4242;
	t.outer.has_l4 = 1;
	t.outer.sport = 40000, t.outer.dport = 4789;
	t.encap = "vxlan";
	t.has_inner = 1;
	t.inner = bare->outer;
	return t;
}

TEST(clock_stitch_key)
{
	struct pkt_info a = icmp(64, 1), b = icmp(63, 1), c = icmp(64, 2), t, arp;
	uint64_t ka[CLOCK_MAX_KEYS], kb[CLOCK_MAX_KEYS], kc[CLOCK_MAX_KEYS], kt[CLOCK_MAX_KEYS];

	ASSERT_EQ(clock_stitch_keys(&a, ka), 1, "one key without a tunnel");
	ASSERT_EQ(clock_stitch_keys(&b, kb), 1, "one key");
	ASSERT_U64_EQ(ka[0], kb[0], "the TTL changes from hop to hop, the key does not");
	ASSERT_EQ(clock_stitch_keys(&c, kc), 1, "one key");
	ASSERT_TRUE(ka[0] != kc[0], "another echo sequence is another packet");
	/* the same echo in VXLAN: the inner key is the bare packet's, the outer one is added */
	t = vxlan(&a);
	ASSERT_EQ(clock_stitch_keys(&t, kt), 2, "inner and outer");
	ASSERT_U64_EQ(kt[0], ka[0], "inner key = the bare packet's");
	ASSERT_TRUE(kt[1] != kt[0], "the outer key is another");
	t.outer.ip_id = 0; /* a UDP datagram without an IP id names no packet */
	ASSERT_EQ(clock_stitch_keys(&t, kt), 1, "the outer is not distinctive");
	memset(&arp, 0, sizeof(arp));
	arp.outer.family = 4;
	arp.outer.is_arp = 1;
	arp.outer.arp_op = 1;
	ASSERT_EQ(clock_stitch_keys(&arp, kt), 0, "ARP repeats itself: no key");
}

TEST(trace_section_host)
{
	char h[64];

	ASSERT_OK(trace_section_host("host=node%201 filter=icmp", h, sizeof(h)), "host=");
	ASSERT_STREQ(h, "node 1", "unescaped");
	ASSERT_OK(trace_section_host("filter=icmp host=n2", h, sizeof(h)), "anywhere");
	ASSERT_STREQ(h, "n2", "second pair");
	ASSERT_EQ(trace_section_host("filter=host", h, sizeof(h)), -2, "no host: -ENOENT");
	ASSERT_EQ(trace_section_host("hostname=x", h, sizeof(h)), -2, "another key");
	ASSERT_EQ(trace_section_host(NULL, h, sizeof(h)), -2, "no comment");
	ASSERT_EQ(trace_section_host("host=abcdefgh", h, 4), -28, "too long: -ENOSPC");
}

/* ------------------------------------------------------------ one path across hosts */

#include "flow.h"

struct seen {
	size_t path_hops;
	uint32_t sources[8];
	int packets, pairs;
};

static void seen_packet(const struct flow_packet *p, void *ctx)
{
	struct seen *s = ctx;

	s->packets++;
	s->path_hops = 0;
	for (size_t i = 0; i < p->nhops; i++)
		if (flow_hop_on_path(p, &p->hops[i]) && s->path_hops < 8)
			s->sources[s->path_hops++] = p->hops[i].source;
}

static int hit(struct flow *f, uint32_t source, uint64_t ts, uint64_t track, uint64_t head,
	       const char *hook, const char *ifname, uint8_t dir, const struct pkt_info *pi)
{
	struct flow_event ev = {
	    .ts_ns = ts,
	    .source = source,
	    .has_track = 1,
	    .track = track,
	    .has_skb = 1,
	    .skb = 0xffff000000000000ull + track,
	    .has_head = 1,
	    .head = head,
	    .hook = hook,
	    .has_netns = 1,
	    .netns = 4026531840ull,
	    .ifname = ifname,
	    .dir = dir,
	    .drop = "",
	    .comm = "",
	    .len = 84,
	    .pi = pi,
	};
	uint64_t id;

	return flow_add_event(f, &ev, &id);
}

/*
 * An echo into a VXLAN on host 0 (vx0, then eth0 encapsulated: the same
 * buffer under a new id), out of it on host 1 (eth0, then vx0 decapsulated):
 * one packet, one path of four hops on two hosts, the track ids of the two
 * files the same numbers.
 */
TEST(hosts_path_through_a_tunnel)
{
	struct pkt_info bare = icmp(64, 1), enc;
	struct seen s;
	struct flow_callbacks cb = {seen_packet, NULL, NULL, NULL, &s};
	struct flow *f;
	const uint64_t t = 1000 * S;

	memset(&s, 0, sizeof(s));
	enc = vxlan(&bare);
	f = flow_new(NULL, &cb);
	ASSERT_TRUE(f != NULL, "flow_new");
	ASSERT_OK(hit(f, 0, t, 1, 0xa000, "net:net_dev_start_xmit", "vx0", 2, &bare), "h0 vx0");
	ASSERT_OK(hit(f, 0, t + 5 * US, 2, 0xa000, "net:net_dev_start_xmit", "eth0", 2, &enc),
		  "h0 eth0");
	ASSERT_OK(hit(f, 1, t + 20 * US, 1, 0xb000, "net:netif_receive_skb", "eth0", 1, &enc),
		  "h1 eth0");
	ASSERT_OK(hit(f, 1, t + 25 * US, 2, 0xb000, "net:netif_receive_skb", "vx0", 1, &bare),
		  "h1 vx0");
	flow_finish(f);
	flow_free(f);
	ASSERT_EQ(s.packets, 1, "one packet");
	ASSERT_EQ(s.path_hops, 4, "four hops on the path");
	ASSERT_EQ(s.sources[0], 0, "host 0 first");
	ASSERT_EQ(s.sources[1], 0, "host 0 eth0");
	ASSERT_EQ(s.sources[2], 1, "then host 1");
	ASSERT_EQ(s.sources[3], 1, "host 1 vx0");
}
