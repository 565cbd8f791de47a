// SPDX-License-Identifier: MIT
/*
 * record/event.c: a ring event -> the frame pkt-record writes, its lengths,
 * direction, drop reason and comment; the user-space filter with the set of
 * ids that matched once (record/trackset.c); bpf/l2.h's synthetic header.
 */
#include "test.h"
#include "pktbuild.h"

#include <errno.h>
#include <stdlib.h>
#include "event.h"
#include "pcapng.h"
#include "record.h"

#define ICMP 1
#define UDP  17

/* An event at hook with an IPv4 packet (proto, 8 bytes of L4 header + payload) as snapshot. */
static void make_event(struct pktrec_event *e, int hook, unsigned proto, unsigned payload,
		       uint64_t track)
{
	struct pb p = {.n = 0};

	memset(e, 0, sizeof(*e));
	pb_ip4(&p, proto, 0x0a000001, 0x0a000002, 8 + payload, 1, 0);
	put32(&p, 0x08000000); /* ICMP echo request / UDP ports: 8 bytes of L4 header */
	put32(&p, 0x00070001);
	for (unsigned i = 0; i < payload; i++)
		put8(&p, 0xa5);
	memcpy(e->data, p.b, p.n);
	e->snap_len = (uint16_t)p.n;
	e->orig_len = (uint32_t)p.n;
	e->len = (uint32_t)p.n;
	e->hook = (uint8_t)hook;
	e->flags = PKTREC_F_L2_SYNTH;
	e->protocol = 0x0800;
	e->ts_ns = 1000;
	e->skb = 0xffff888012345678ull;
	e->track = track;
	e->netns = 4026532328ull;
	e->ifindex = 7;
	e->cpu = 1;
	e->pid = 2570;
	memcpy(e->ifname, "eth0", 5);
	memcpy(e->comm, "ping", 5);
}

static struct event_ctx plain_ctx(void)
{
	return (struct event_ctx){.snaplen = PKTREC_MAX_SNAP, .want_hop = true};
}

/* The EPB comment pkt-record writes for a decoded event. */
static const char *comment_of(const struct event_out *out)
{
	static char buf[1024];

	if (trace_comment_format(buf, sizeof(buf), &out->hop) < 0)
		buf[0] = '\0';
	return buf;
}

static size_t event_bytes(const struct pktrec_event *e)
{
	return PKTREC_EVENT_SIZE(e->snap_len);
}

TEST(event_synthetic_l2_header)
{
	struct event_ctx ctx = plain_ctx();
	struct pktrec_event e;
	struct event_out out;
	uint8_t want[PKTREC_ETH_HLEN] = {0};

	make_event(&e, HOOK_NET_DEV_START_XMIT, ICMP, 20, 0x2a);
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), 0, "decoded");
	want[12] = 0x08; /* zero MACs, the ethertype from skb->protocol */
	ASSERT_MEMEQ(out.frame, want, sizeof(want), "synthetic header");
	ASSERT_MEMEQ(out.frame + PKTREC_ETH_HLEN, e.data, e.snap_len, "snapshot behind it");
	ASSERT_EQ(out.caplen, e.snap_len + 14, "captured length");
	ASSERT_EQ(out.wirelen, e.orig_len + 14, "wire length");
	ASSERT_TRUE(strstr(comment_of(&out), " l2=synth"), "l2=synth in the comment");
	ASSERT_EQ(out.dir, PCAPNG_DIR_OUTBOUND, "transmit hook: outbound");

	/* what bpf/l2.h builds is what is written */
	uint8_t frame[PKTREC_ETH_HLEN + PKTREC_MAX_SNAP];
	memcpy(frame + PKTREC_ETH_HLEN, e.data, e.snap_len);
	l2_synth_header(frame, e.protocol, e.snap_len);
	ASSERT_MEMEQ(out.frame, frame, out.caplen, "l2.h's frame == the written frame");

	/* skb->protocol says nothing: the IP version decides */
	e.protocol = 0;
	e.data[0] = 0x60;
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), 0, "decoded");
	ASSERT_EQ(out.frame[12] << 8 | out.frame[13], 0x86dd, "IPv6 from the version nibble");
	e.protocol = 0x0003; /* ETH_P_ALL */
	e.data[0] = 0x45;
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), 0, "decoded");
	ASSERT_EQ(out.frame[12] << 8 | out.frame[13], 0x0800, "IPv4 from the version nibble");
	e.protocol = 0x0806; /* a real protocol wins over the nibble */
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), 0, "decoded");
	ASSERT_EQ(out.frame[12] << 8 | out.frame[13], 0x0806, "skb->protocol kept");
	e.protocol = 0;
	e.snap_len = 0;
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), 0, "decoded");
	ASSERT_EQ(out.frame[12] << 8 | out.frame[13], 0, "nothing to guess from");
	ASSERT_EQ(out.caplen, 14, "header only");
}

TEST(event_mac_header_kept)
{
	struct event_ctx ctx = plain_ctx();
	struct pktrec_event e;
	struct event_out out;

	make_event(&e, HOOK_NETIF_RECEIVE_SKB, ICMP, 0, 0x2a);
	/* a real Ethernet header in front of the IP packet */
	memmove(e.data + 14, e.data, e.snap_len);
	memset(e.data, 0x02, 12);
	e.data[12] = 0x08;
	e.data[13] = 0x00;
	e.snap_len += 14;
	e.orig_len += 14;
	e.flags = PKTREC_F_MAC_SET;
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), 0, "decoded");
	ASSERT_MEMEQ(out.frame, e.data, e.snap_len, "frame is the snapshot");
	ASSERT_EQ(out.caplen, e.snap_len, "captured length");
	ASSERT_EQ(out.wirelen, e.orig_len, "wire length");
	ASSERT_EQ(out.dir, PCAPNG_DIR_INBOUND, "receive hook: inbound");
	ASSERT_TRUE(!strstr(comment_of(&out), "l2=synth"), "no l2=synth");
	ASSERT_TRUE(!strstr(comment_of(&out), "proto="), "ethertype agrees with skb->protocol");
	ASSERT_STREQ(comment_of(&out),
		     "hook=net:netif_receive_skb netns=4026532328 if=eth0 ifindex=7 "
		     "skb=0xffff888012345678 track=0x2a cpu=1 pid=2570 comm=ping",
		     "comment");
	ASSERT_U64_EQ(out.wall_ns, 1000, "no clock offset");
	ctx.mono_to_real = 5000;
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), 0, "decoded");
	ASSERT_U64_EQ(out.wall_ns, 6000, "monotonic + offset");

	/* the kernel thought otherwise than the MAC header says */
	e.protocol = 0x86dd;
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), 0, "decoded");
	ASSERT_TRUE(strstr(comment_of(&out), " proto=0x86dd"), "skb->protocol in the comment");

	ctx.want_hop = false; /* the live view needs none */
	memset(&out.hop, 0, sizeof(out.hop));
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), 0, "decoded");
	ASSERT_STREQ(out.hop.hook, "", "no hop filled");
}

TEST(event_snaplen_and_lengths)
{
	struct event_ctx ctx = plain_ctx();
	struct pktrec_event e;
	struct event_out out;

	make_event(&e, HOOK_NETIF_RX, UDP, 100, 1);
	e.orig_len = 1500; /* only the head of a large packet was snapped */
	ctx.snaplen = 64;
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), 0, "decoded");
	ASSERT_EQ(out.caplen, 64, "cut at the snaplen, synthetic header included");
	ASSERT_EQ(out.wirelen, 1514, "wire length: the packet's + the header");

	/* a wire length below what was captured is raised to it */
	e.orig_len = 10;
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), 0, "decoded");
	ASSERT_EQ(out.wirelen, out.caplen, "wire length >= captured length");

	/* --headers-only: cut after the ICMP header; the wire length stays */
	make_event(&e, HOOK_NETIF_RX, ICMP, 40, 1);
	ctx.snaplen = PKTREC_MAX_SNAP;
	ctx.headers_only = true;
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), 0, "decoded");
	ASSERT_EQ(out.caplen, 14 + 20 + 8, "Ethernet + IPv4 + ICMP header");
	ASSERT_EQ(out.wirelen, e.orig_len + 14, "wire length unchanged");
}

static const char *fake_reason_name(uint32_t reason)
{
	return reason == 5 ? "NETFILTER_DROP" : NULL;
}

TEST(event_drop_reason)
{
	struct event_ctx ctx = plain_ctx();
	struct pktrec_event e;
	struct event_out out;

	ctx.drop_reason_name = fake_reason_name;
	make_event(&e, HOOK_KFREE_SKB, ICMP, 0, 3);
	e.flags |= PKTREC_F_HAS_DROP;
	e.drop_reason = 5;
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), 0, "decoded");
	ASSERT_STREQ(out.drop, "NETFILTER_DROP", "named by the kernel's enum");
	ASSERT_TRUE(strstr(comment_of(&out), " drop=NETFILTER_DROP"), "drop= in the comment");
	ASSERT_EQ(out.dir, PCAPNG_DIR_UNKNOWN, "a free has no direction");

	e.drop_reason = 0x63;
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), 0, "decoded");
	ASSERT_STREQ(out.drop, "0x63", "unknown value in hex");

	ctx.drop_reason_name = NULL; /* no BTF names at all */
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), 0, "decoded");
	ASSERT_STREQ(out.drop, "0x63", "still in hex");

	e.flags &= (uint8_t)~PKTREC_F_HAS_DROP; /* kernel without drop reasons */
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), 0, "decoded");
	ASSERT_TRUE(out.drop == NULL, "no reason");
	ASSERT_TRUE(!strstr(comment_of(&out), "drop="), "no drop= in the comment");
}

/* the filter of the test: ICMP only (IPv4 protocol byte behind the Ethernet header) */
static bool icmp_only(const uint8_t *frame, uint32_t caplen, uint32_t wirelen)
{
	(void)wirelen;
	return caplen > 23 && frame[23] == ICMP;
}

TEST(event_user_filter_tracks_matched_packets)
{
	struct event_ctx ctx = plain_ctx();
	struct pktrec_event e;
	struct event_out out;

	ctx.filter_match = icmp_only;
	ctx.matched = trackset_new();
	ASSERT_TRUE(ctx.matched, "trackset_new");

	make_event(&e, HOOK_NET_DEV_START_XMIT, UDP, 0, 0x100);
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), EVENT_FILTERED, "UDP: out");
	ASSERT_EQ(trackset_count(ctx.matched), 0, "not tracked");

	make_event(&e, HOOK_NET_DEV_START_XMIT, ICMP, 0, 0x200);
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), 0, "ICMP: in");
	ASSERT_EQ(trackset_count(ctx.matched), 1, "tracked from now on");

	/* the same packet, no longer matching (NAT, encapsulation): kept */
	make_event(&e, HOOK_NETIF_RECEIVE_SKB, UDP, 0, 0x200);
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), 0, "tracked: in");

	/* its free is kept and ends the tracking */
	make_event(&e, HOOK_CONSUME_SKB, UDP, 0, 0x200);
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), 0, "its free: in");
	ASSERT_EQ(trackset_count(ctx.matched), 0, "forgotten at the free");
	make_event(&e, HOOK_NETIF_RECEIVE_SKB, UDP, 0, 0x200);
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), EVENT_FILTERED,
		  "after its free the id must match again");

	/* a matching free is recorded but not tracked: nothing follows it */
	make_event(&e, HOOK_KFREE_SKB, ICMP, 0, 0x300);
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), 0, "matching free: in");
	ASSERT_EQ(trackset_count(ctx.matched), 0, "a free starts no tracking");

	trackset_free(ctx.matched);
}

TEST(event_rejects_malformed)
{
	struct event_ctx ctx = plain_ctx();
	struct pktrec_event e;
	struct event_out out;

	make_event(&e, HOOK_NETIF_RX, ICMP, 0, 1);
	ASSERT_EQ(event_decode(&ctx, &e, offsetof(struct pktrec_event, data) - 1, &out), -EINVAL,
		  "shorter than the header");
	ASSERT_EQ(
	    event_decode(&ctx, &e, offsetof(struct pktrec_event, data) + e.snap_len - 1, &out),
	    -EINVAL, "snapshot longer than the event");
	e.hook = HOOK_MAX;
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), -EINVAL, "unknown hook");
	ASSERT_TRUE(!event_valid(&e, event_bytes(&e)), "event_valid agrees");
}

TEST(trackset_ages_out_and_deletes)
{
	const uint64_t sec = 1000000000ull;
	struct trackset *t = trackset_new();

	ASSERT_TRUE(t, "trackset_new");
	for (uint64_t id = 1; id <= 1024; id++)
		ASSERT_OK(trackset_add(t, id, 0), "add");
	ASSERT_EQ(trackset_count(t), 1024, "all there");
	ASSERT_TRUE(trackset_has(t, 7, 29 * sec), "seen again at 29 s");
	ASSERT_TRUE(!trackset_has(t, 5000, 29 * sec), "never added");
	/* the next add sweeps: every id not seen for 30 s goes, id 7 stays */
	ASSERT_OK(trackset_add(t, 5000, 31 * sec), "add that sweeps");
	ASSERT_EQ(trackset_count(t), 2, "aged ids swept");
	ASSERT_TRUE(trackset_has(t, 7, 31 * sec), "recently seen id kept");
	ASSERT_TRUE(!trackset_has(t, 8, 31 * sec), "aged id gone");
	trackset_del(t, 7);
	trackset_del(t, 7); /* twice: no harm */
	ASSERT_TRUE(!trackset_has(t, 7, 31 * sec), "deleted");
	ASSERT_OK(trackset_add(t, 5000, 31 * sec), "adding twice");
	ASSERT_EQ(trackset_count(t), 1, "once in the set");
	trackset_free(t);
}

/* A CAUSE hook's event: no frame, the pktrec_cause in data[] (bpf/pktrec.h). */
static void make_cause(struct pktrec_event *e, int hook, const struct pktrec_cause *c,
		       uint64_t track)
{
	memset(e, 0, sizeof(*e));
	e->hook = (uint8_t)hook;
	e->ts_ns = 2000;
	e->track = track;
	e->netns = 4026532328ull;
	e->cpu = 0;
	e->pid = 42;
	memcpy(e->comm, "ping", 5);
	e->snap_len = sizeof(*c);
	memcpy(e->data, c, sizeof(*c));
}

TEST(event_cause_fib_lookup)
{
	struct event_ctx ctx = plain_ctx();
	struct pktrec_event e;
	struct event_out out;
	struct pktrec_cause c = {
	    .table = 254,
	    .err = 0,
	    .oif = 3,
	    .family = 2,
	    .gw_family = 2,
	    .l4proto = 17,
	    .sport = 5353,
	    .dport = 53,
	    .flags = PKTREC_C_FIB | PKTREC_C_OIF | PKTREC_C_GW | PKTREC_C_ADDRS | PKTREC_C_PORTS |
		     PKTREC_C_L4PROTO,
	};

	memcpy(c.saddr, "\x0a\x00\x00\x01", 4);
	memcpy(c.daddr, "\x0a\x00\x01\x02", 4);
	memcpy(c.gw, "\x0a\x00\x00\xfe", 4);
	make_cause(&e, HOOK_FIB_TABLE_LOOKUP, &c, 0);
	memcpy(e.ifname, "eth1", 5);
	e.ifindex = 3;
	ASSERT_EQ(event_decode(&ctx, &e, PKTREC_CAUSE_EVENT_SIZE, &out), 0, "decoded");
	ASSERT_TRUE(out.is_event && out.hop.is_event, "an event, no packet");
	ASSERT_EQ(out.caplen, 0, "no frame");
	ASSERT_STREQ(comment_of(&out),
		     "hook=fib:fib_table_lookup netns=4026532328 if=eth1 ifindex=3 cpu=0 pid=42 "
		     "comm=ping fib_table=254 fib_err=0 fib_oif=3 fib_gw=10.0.0.254 saddr=10.0.0.1 "
		     "daddr=10.0.1.2 l4proto=17 sport=5353 dport=53",
		     "fib comment");
	/* a failed lookup: the error, no result; no device */
	c.err = -101;
	c.flags = PKTREC_C_FIB | PKTREC_C_ADDRS | PKTREC_C_L4PROTO;
	c.l4proto = 1;
	make_cause(&e, HOOK_FIB_TABLE_LOOKUP, &c, 0);
	ASSERT_EQ(event_decode(&ctx, &e, PKTREC_CAUSE_EVENT_SIZE, &out), 0, "decoded");
	ASSERT_STREQ(comment_of(&out),
		     "hook=fib:fib_table_lookup netns=4026532328 cpu=0 pid=42 comm=ping "
		     "fib_table=254 fib_err=-101 saddr=10.0.0.1 daddr=10.0.1.2 l4proto=1",
		     "failed lookup");
	/* a cause event cut short is not one */
	ASSERT_EQ(event_decode(&ctx, &e, offsetof(struct pktrec_event, data) + 8, &out), -EINVAL,
		  "short cause");
}

TEST(event_cause_neigh_qdisc_xmit_tcp)
{
	struct event_ctx ctx = plain_ctx();
	struct pktrec_event e;
	struct event_out out;
	struct pktrec_cause c = {
	    .family = 10, .state = 0x20, .flags = PKTREC_C_NEIGH | PKTREC_C_DEAD};

	memcpy(c.daddr, "\xfd\x00\0\0\0\0\0\0\0\0\0\0\0\0\0\x09", 16);
	make_cause(&e, HOOK_NEIGH_EVENT_SEND_DEAD, &c, 0);
	ASSERT_EQ(event_decode(&ctx, &e, PKTREC_CAUSE_EVENT_SIZE, &out), 0, "neigh");
	ASSERT_STREQ(out.keys, "neigh=fd00::9 neigh_state=NUD_FAILED neigh_dead=1", "neigh keys");

	memset(&c, 0, sizeof(c));
	c.state = 0x04 | 0x10;
	c.family = 2;
	c.flags = PKTREC_C_NEIGH;
	memcpy(c.daddr, "\xc0\xa8\x01\x07", 4);
	make_cause(&e, HOOK_NEIGH_UPDATE, &c, 0);
	ASSERT_EQ(event_decode(&ctx, &e, PKTREC_CAUSE_EVENT_SIZE, &out), 0, "neigh_update");
	ASSERT_STREQ(out.keys, "neigh=192.168.1.7 neigh_state=NUD_STALE|NUD_PROBE", "two bits");

	memset(&c, 0, sizeof(c));
	c.flags = PKTREC_C_QDISC;
	memcpy(c.qdisc, "fq_codel", 9);
	make_cause(&e, HOOK_QDISC_ENQUEUE, &c, 0x77);
	ASSERT_EQ(event_decode(&ctx, &e, PKTREC_CAUSE_EVENT_SIZE, &out), 0, "qdisc");
	ASSERT_STREQ(comment_of(&out),
		     "hook=qdisc:qdisc_enqueue netns=4026532328 track=0x77 cpu=0 pid=42 comm=ping "
		     "qdisc=fq_codel",
		     "qdisc names its packet's track");
	c.qdisc[0] = '\0';
	c.handle = 0x80010000u;
	make_cause(&e, HOOK_QDISC_DEQUEUE, &c, 0);
	ASSERT_EQ(event_decode(&ctx, &e, PKTREC_CAUSE_EVENT_SIZE, &out), 0, "qdisc handle");
	ASSERT_STREQ(out.keys, "qdisc=8001:0000", "no name: the handle");

	memset(&c, 0, sizeof(c));
	c.rc = -105;
	c.flags = PKTREC_C_RC;
	make_cause(&e, HOOK_NET_DEV_XMIT, &c, 0x9);
	ASSERT_EQ(event_decode(&ctx, &e, PKTREC_CAUSE_EVENT_SIZE, &out), 0, "xmit");
	ASSERT_STREQ(out.keys, "rc=-105", "driver return code");
	ASSERT_TRUE(out.hop.has_track && out.hop.track == 0x9, "track of the packet sent");

	memset(&c, 0, sizeof(c));
	c.family = 2;
	c.state = 1;
	c.sport = 80;
	c.dport = 40000;
	c.flags = PKTREC_C_TCP_STATE | PKTREC_C_ADDRS | PKTREC_C_PORTS;
	memcpy(c.saddr, "\x0a\x00\x00\x01", 4);
	memcpy(c.daddr, "\x0a\x00\x00\x02", 4);
	make_cause(&e, HOOK_TCP_RECEIVE_RESET, &c, 0);
	ASSERT_EQ(event_decode(&ctx, &e, PKTREC_CAUSE_EVENT_SIZE, &out), 0, "rst received");
	ASSERT_STREQ(out.keys,
		     "saddr=10.0.0.1 daddr=10.0.0.2 sport=80 dport=40000 tcp_state=TCP_ESTABLISHED",
		     "receive reset keys");
}

TEST(event_cause_skb_hooks)
{
	struct event_ctx ctx = plain_ctx();
	struct pktrec_event e;
	struct event_out out;

	make_event(&e, HOOK_ICMP_SEND, UDP, 4, 0x2a);
	e.drop_reason = 3 << 8 | 3;
	e.location = 0xffffffff81000000ull; /* not a kfree_skb: never a loc= */
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), 0, "icmp_send");
	ASSERT_TRUE(!out.is_event && out.caplen > PKTREC_ETH_HLEN, "a packet");
	ASSERT_STREQ(
	    comment_of(&out),
	    "hook=icmp:icmp_send netns=4026532328 if=eth0 ifindex=7 skb=0xffff888012345678 "
	    "track=0x2a cpu=1 pid=2570 comm=ping l2=synth icmp=3/3",
	    "icmp_send on the packet's track");

	make_event(&e, HOOK_TCP_SEND_RESET, 6, 4, 0x2b);
	e.drop_reason = 0; /* no socket */
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), 0, "reset");
	ASSERT_STREQ(out.keys, "tcp_state=-", "no socket");
	e.drop_reason = 10 + 1;
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), 0, "reset");
	ASSERT_STREQ(out.keys, "tcp_state=TCP_LISTEN", "listener");

	make_event(&e, HOOK_UDP_FAIL_QUEUE_RCV_SKB, UDP, 4, 0x2c);
	e.drop_reason = (uint32_t)-12;
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), 0, "udp fail");
	ASSERT_STREQ(out.keys, "rc=-12", "rc signed");

	make_event(&e, HOOK_SOCK_RCVQUEUE_FULL, UDP, 4, 0x2d);
	e.drop_reason = 2304;
	e.location = 2048;
	ASSERT_EQ(event_decode(&ctx, &e, event_bytes(&e), &out), 0, "rcvqueue full");
	ASSERT_STREQ(out.keys, "rmem=2304 rcvbuf=2048", "rmem rcvbuf");
}
