// SPDX-License-Identifier: MIT
/*
 * Fates that pairing settles (analyze/packets.c, analyze/pairs.c): an
 * answered request was delivered, a reply back in its asker's namespace was
 * delivered there, in-flight is only for what nothing answered at the end,
 * and a drop stays a drop.
 */
#include "test.h"
#include "flowbuild.h"
#include "why.h"

#define MS   1000000ull
#define T0   (1000ull * 1000 * MS)
#define NS_A 4026532001ull /* the asker */
#define NS_B 4026532002ull /* the answerer */
#define NS_R 4026531840ull /* the bridge between them */

#define RX   "net:netif_receive_skb"
#define TX   "net:net_dev_queue"
#define DROP "skb:kfree_skb"
#define READ "skb:skb_copy_datagram_iovec"

/* The fate as written: at release, once pairing has settled. */
struct got {
	int pairs;
	enum flow_fate fate[16];
	char detail[16][256];
	int unanswered[16], answered[16], is_drop_hop[16];
	uint32_t reader[16]; /* pid of the read the fate names, 0 if none */
	size_t nhops[16];
	/* the verdict (why.c), as pkt-analyze writes it at release */
	int has_why[16];
	struct why_verdict why[16];
	struct flow_answer answer[16];
	uint64_t answers[16];
	struct why_groups groups;
	int finished[16]; /* the packet callback came */
};

static void on_packet(const struct flow_packet *p, void *ctx)
{
	if (p->id < 16)
		((struct got *)ctx)->finished[p->id] = 1;
}

static void on_pair(const struct flow_pair *pr, void *ctx)
{
	(void)pr;
	((struct got *)ctx)->pairs++;
}

static void on_release(const struct flow_packet *p, void *ctx)
{
	struct got *g = ctx;

	if (p->id >= 16)
		return;
	g->fate[p->id] = p->fate;
	flow_fate_detail(p, g->detail[p->id], sizeof(g->detail[0]));
	g->unanswered[p->id] = p->unanswered;
	g->nhops[p->id] = p->nhops;
	g->answered[p->id] = p->requests_answered;
	g->reader[p->id] = p->fate_hop >= 0 && p->hops[p->fate_hop].kind == PKT_HOOK_KIND_DELIVER
			       ? p->hops[p->fate_hop].pid
			       : 0;
	g->answers[p->id] = p->answers;
	g->has_why[p->id] = why_build(p, NULL, 0, &g->why[p->id]);
	if (g->has_why[p->id]) {
		why_groups_add(&g->groups, &g->why[p->id], p->id);
		if (g->why[p->id].answer) { /* the packet goes: keep what the verdict points to */
			g->answer[p->id] = p->answer;
			g->why[p->id].answer = &g->answer[p->id];
		}
	}
}

static struct flow *new_flow(struct got *g)
{
	struct flow_callbacks cb = {on_packet, on_pair, NULL, on_release, g};

	memset(g, 0, sizeof(*g));
	return flow_new(NULL, &cb);
}

/* The flow, and the verdict groups its release callback filled. */
static void end_flow(struct flow *f, struct got *g)
{
	flow_free(f);
	why_groups_free(&g->groups);
}

/* 10.0.0.1 -> 10.0.0.2 echo id 9 (or its reply back). */
static struct pkt_info echo(int reply, uint16_t seq)
{
	return fb_echo(reply ? 2 : 1, reply ? 1 : 2, reply, 9, seq, (uint16_t)(seq * 7 + reply));
}

/* TCP from 10.0.0.1:40000 to 10.0.0.2:80 (or back): flags, seq, ack, payload length. */
static struct pkt_info tcp(int back, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t len)
{
	return fb_tcp(back ? 2 : 1, back ? 1 : 2, back ? 80 : 40000, back ? 40000 : 80, flags, seq,
		      ack, len, (uint16_t)(seq + back));
}

/* sk_buff and data buffer follow from the track id; transmit hooks are outbound. */
static void add(struct flow *f, const struct kh *k, const struct pkt_info *pi, uint64_t *id)
{
	struct kh h = *k;

	h.skb = 0xa000 + k->track * 0x100;
	h.head = k->head ? k->head : 0x50000 + k->track * 0x1000;
	h.dir = !strcmp(k->hook, TX) ? 2 : 1;
	fb_add(f, &h, pi, id);
}

/* A packet from A through the bridge to B (or back), hop every 10 us from t. */
static void cross(struct flow *f, uint64_t t, uint64_t track, int back, const struct pkt_info *pi,
		  uint64_t *id)
{
	add(f, &(struct kh){.ts = t, .track = track, .netns = back ? NS_B : NS_A, .hook = TX}, pi,
	    id);
	add(f,
	    &(struct kh){.ts = t + 10000,
			 .track = track,
			 .netns = NS_R,
			 .hook = RX,
			 .ifname = back ? "vb" : "va"},
	    pi, NULL);
	add(f,
	    &(struct kh){.ts = t + 20000,
			 .track = track,
			 .netns = NS_R,
			 .hook = TX,
			 .ifname = back ? "va" : "vb"},
	    pi, NULL);
	add(f,
	    &(struct kh){.ts = t + 30000, .track = track, .netns = back ? NS_A : NS_B, .hook = RX},
	    pi, NULL);
}

/*
 * ping A -> B, default hooks: the request is last seen received in B, the
 * reply freed NO_SOCKET in A after the raw socket's copy. Both delivered, a
 * second later in the recording (so neither is merely in flight).
 */
TEST(fate_answered_echo_request_delivered)
{
	struct got g;
	struct flow *f = new_flow(&g);
	struct pkt_info q = echo(0, 1), r = echo(1, 1), late = echo(0, 2);
	uint64_t idq, idr, idl;

	ASSERT_TRUE(f, "flow_new");
	cross(f, T0, 1, 0, &q, &idq);
	cross(f, T0 + 100000, 2, 1, &r, &idr);
	add(f,
	    &(struct kh){
		.ts = T0 + 140000, .track = 2, .netns = NS_A, .hook = DROP, .drop = "NO_SOCKET"},
	    &r, NULL);
	cross(f, T0 + 3000 * MS, 3, 0, &late, &idl); /* ends the recording later */
	flow_finish(f);
	ASSERT_EQ(g.pairs, 1, "paired");
	ASSERT_EQ(g.fate[idq], FLOW_FATE_DELIVERED, "the answered request");
	ASSERT_STREQ(g.detail[idq],
		     "delivered to netns 4026532002 (eth0), answered by the echo reply", "where");
	ASSERT_EQ(g.fate[idr], FLOW_FATE_DELIVERED, "the reply, back where its request was sent");
	ASSERT_STREQ(g.detail[idr],
		     "delivered to netns 4026532001 (eth0), where the echo request came from "
		     "(freed NO_SOCKET after any raw socket's copy)",
		     "where, and why nobody is named");
	ASSERT_EQ(g.reader[idr], 0, "no read recorded: no reader named");
	ASSERT_EQ(flow_stats(f)->dropped, 0, "no drop");
	end_flow(f, &g);
}

/* A read hit names the reader; pairing does not replace it. */
TEST(fate_answered_echo_reply_read_names_the_reader)
{
	struct got g;
	struct flow *f = new_flow(&g);
	struct pkt_info q = echo(0, 1), r = echo(1, 1);
	uint64_t idr;

	cross(f, T0, 1, 0, &q, NULL);
	cross(f, T0 + 100000, 2, 1, &r, &idr);
	add(f,
	    &(struct kh){.ts = T0 + 140000,
			 .track = 2,
			 .netns = NS_A,
			 .hook = READ,
			 .ifname = "-",
			 .comm = "ping",
			 .pid = 77},
	    &r, NULL);
	flow_finish(f);
	ASSERT_EQ(g.fate[idr], FLOW_FATE_DELIVERED, "read");
	ASSERT_STREQ(g.detail[idr], "delivered to ping 77", "the read says who");
	ASSERT_EQ(g.reader[idr], 77, "reader");
	end_flow(f, &g);
}

/*
 * A reply freed NO_SOCKET in a namespace its request only passed through
 * (first seen received there: the sender is elsewhere) stays unknown.
 */
TEST(fate_reply_elsewhere_than_the_asker_stays_unknown)
{
	struct got g;
	struct flow *f = new_flow(&g);
	struct pkt_info q = echo(0, 1), r = echo(1, 1), late = echo(0, 2);
	uint64_t idq, idr;

	add(f, &(struct kh){.ts = T0, .track = 1, .netns = NS_A, .hook = RX}, &q, &idq);
	add(f, &(struct kh){.ts = T0 + 10000, .track = 1, .netns = NS_B, .hook = RX}, &q, NULL);
	add(f, &(struct kh){.ts = T0 + 50000, .track = 2, .netns = NS_B, .hook = TX}, &r, &idr);
	add(f, &(struct kh){.ts = T0 + 60000, .track = 2, .netns = NS_A, .hook = RX}, &r, NULL);
	add(f,
	    &(struct kh){
		.ts = T0 + 70000, .track = 2, .netns = NS_A, .hook = DROP, .drop = "NO_SOCKET"},
	    &r, NULL);
	cross(f, T0 + 3000 * MS, 3, 0, &late, NULL);
	flow_finish(f);
	ASSERT_EQ(g.pairs, 1, "paired");
	ASSERT_EQ(g.fate[idq], FLOW_FATE_DELIVERED, "the request was answered");
	ASSERT_EQ(g.fate[idr], FLOW_FATE_UNKNOWN, "the reply: not where its sender is");
	ASSERT_TRUE(!strncmp(g.detail[idr], "unknown: freed NO_SOCKET at eth0@4026532001", 43),
		    "the raw-socket note stays");
	end_flow(f, &g);
}

/*
 * Unanswered requests: one whose last hop is right at the end of the
 * recording is in flight, one seen long before the end is unknown; an
 * answered one at the end is delivered.
 */
TEST(fate_unanswered_request_in_flight_only_at_the_end)
{
	struct got g;
	struct flow *f = new_flow(&g);
	struct pkt_info old = echo(0, 1), q = echo(0, 2), r = echo(1, 2), last = echo(0, 3);
	uint64_t idold, idq, idr, idlast;

	cross(f, T0, 1, 0, &old, &idold);
	cross(f, T0 + 1000 * MS, 2, 0, &q, &idq);
	cross(f, T0 + 1000 * MS + 100000, 3, 1, &r, &idr);
	cross(f, T0 + 1000 * MS + 200000, 4, 0, &last, &idlast);
	flow_finish(f);
	ASSERT_EQ(g.pairs, 1, "one answered");
	ASSERT_EQ(g.fate[idold], FLOW_FATE_UNKNOWN, "unanswered, a second before the end");
	ASSERT_TRUE(g.unanswered[idold], "unanswered");
	ASSERT_EQ(g.fate[idlast], FLOW_FATE_IN_FLIGHT, "unanswered, the recording ended after it");
	ASSERT_TRUE(g.unanswered[idlast], "unanswered too");
	ASSERT_STREQ(g.detail[idlast], "in-flight: the recording ended after eth0@4026532002",
		     "detail");
	ASSERT_EQ(g.fate[idq], FLOW_FATE_DELIVERED, "answered, though near the end");
	ASSERT_EQ(g.fate[idr], FLOW_FATE_DELIVERED, "its reply, back in A");
	end_flow(f, &g);
}

/*
 * An answered request whose last hop is a transmit (the answerer is beyond
 * the recorded devices) left the host: forwarded, even at the end.
 */
TEST(fate_answered_request_that_left_is_forwarded)
{
	struct got g;
	struct flow *f = new_flow(&g);
	struct pkt_info q = echo(0, 1), r = echo(1, 1);
	uint64_t idq;

	add(f, &(struct kh){.ts = T0, .track = 1, .netns = NS_A, .hook = TX}, &q, &idq);
	add(f, &(struct kh){.ts = T0 + 50000, .track = 2, .netns = NS_A, .hook = RX}, &r, NULL);
	flow_finish(f);
	ASSERT_EQ(g.pairs, 1, "paired");
	ASSERT_EQ(g.fate[idq], FLOW_FATE_FORWARDED, "left");
	ASSERT_STREQ(g.detail[idq],
		     "forwarded: left through eth0@4026532001, answered by the echo reply",
		     "detail");
	end_flow(f, &g);
}

/*
 * TCP: a data segment acknowledged by the peer is delivered, and so is the
 * ACK (back in the segment's namespace); a segment nobody acknowledged at
 * the end is in flight.
 */
TEST(fate_acknowledged_tcp_segment_delivered)
{
	struct got g;
	struct flow *f = new_flow(&g);
	struct pkt_info data = tcp(0, 0x18, 1001, 5001, 100), ack = tcp(1, 0x10, 5001, 1101, 0);
	struct pkt_info more = tcp(0, 0x18, 1101, 5001, 100);
	uint64_t idd, ida, idm;

	cross(f, T0, 1, 0, &data, &idd);
	cross(f, T0 + 100000, 2, 1, &ack, &ida);
	cross(f, T0 + 200000, 3, 0, &more, &idm);
	flow_finish(f);
	ASSERT_EQ(g.pairs, 1, "tcp-data pair");
	ASSERT_EQ(g.fate[idd], FLOW_FATE_DELIVERED, "acknowledged");
	ASSERT_STREQ(g.detail[idd], "delivered to netns 4026532002 (eth0), answered by an ACK",
		     "detail");
	ASSERT_EQ(g.fate[ida], FLOW_FATE_DELIVERED, "the ACK, back where the data came from");
	ASSERT_STREQ(g.detail[ida],
		     "delivered to netns 4026532001 (eth0), where the segment it acknowledges "
		     "came from",
		     "detail");
	ASSERT_EQ(g.fate[idm], FLOW_FATE_IN_FLIGHT, "not acknowledged, at the end");
	end_flow(f, &g);
}

/* A request whose path ends in a drop stays dropped, whatever answers it. */
TEST(fate_dropped_request_stays_dropped_when_paired)
{
	struct got g;
	struct flow *f = new_flow(&g);
	struct pkt_info q = echo(0, 1), r = echo(1, 1);
	uint64_t idq, idr;

	cross(f, T0, 1, 0, &q, &idq);
	add(f,
	    &(struct kh){.ts = T0 + 40000,
			 .track = 1,
			 .netns = NS_B,
			 .hook = DROP,
			 .drop = "NETFILTER_DROP"},
	    &q, NULL);
	cross(f, T0 + 100000, 2, 1, &r, &idr);
	flow_finish(f);
	ASSERT_EQ(g.pairs, 1, "paired all the same");
	ASSERT_EQ(g.answered[idq], 1, "answered");
	ASSERT_EQ(g.fate[idq], FLOW_FATE_DROPPED, "still dropped");
	ASSERT_STREQ(g.detail[idq], "dropped: NETFILTER_DROP at eth0@4026532002", "detail");
	ASSERT_EQ(flow_stats(f)->dropped, 1, "the summary counts it");
	end_flow(f, &g);
}

/*
 * Hits of cause hooks (hooks.def CAUSE_SKB, CAUSE: an ICMP error sent
 * because of the packet, a full queue, the driver's return code) name their
 * packet but are no place it passed: the same recording with and without
 * them gives the same paths, fates and pairs, and a cause on an unknown
 * track makes no packet.
 */
static void cause_scenario(struct got *g, int with_causes, uint64_t *idq, uint64_t *idr,
			   uint64_t *packets)
{
	struct flow *f = new_flow(g);
	struct pkt_info q = echo(0, 1), r = echo(1, 1), late = echo(0, 2), other = echo(0, 9);

	cross(f, T0, 1, 0, &q, idq);
	if (with_causes) {
		uint64_t id = 0;

		add(f,
		    &(struct kh){
			.ts = T0 + 35000, .track = 1, .netns = NS_B, .hook = "icmp:icmp_send"},
		    &q, &id);
		if (id != *idq)
			*packets = 1000; /* the cause must name its packet */
		add(f,
		    &(struct kh){.ts = T0 + 36000,
				 .track = 1,
				 .netns = NS_B,
				 .hook = "sock:sock_rcvqueue_full"},
		    &q, NULL);
		add(f,
		    &(struct kh){.ts = T0 + 37000,
				 .track = 1,
				 .netns = NS_R,
				 .hook = "net:net_dev_xmit",
				 .ifname = "vb"},
		    &q, NULL);
		/* a track nobody saw: no packet of its own */
		add(f,
		    &(struct kh){
			.ts = T0 + 38000, .track = 7, .netns = NS_B, .hook = "tcp:tcp_send_reset"},
		    &other, NULL);
	}
	cross(f, T0 + 100000, 2, 1, &r, idr);
	if (with_causes)
		add(f,
		    &(struct kh){.ts = T0 + 135000,
				 .track = 2,
				 .netns = NS_A,
				 .hook = "udp:udp_fail_queue_rcv_skb"},
		    &r, NULL);
	add(f,
	    &(struct kh){
		.ts = T0 + 140000, .track = 2, .netns = NS_A, .hook = DROP, .drop = "NO_SOCKET"},
	    &r, NULL);
	cross(f, T0 + 3000 * MS, 3, 0, &late, NULL);
	flow_finish(f);
	*packets += flow_stats(f)->packets;
	end_flow(f, g);
}

TEST(fate_cause_hops_change_nothing)
{
	struct got a, b;
	uint64_t qa = 0, ra = 0, qb = 0, rb = 0, pa = 0, pb = 0;

	cause_scenario(&a, 0, &qa, &ra, &pa);
	cause_scenario(&b, 1, &qb, &rb, &pb);
	ASSERT_EQ(pb, pa, "the same packets (and each cause named its own)");
	ASSERT_EQ(qb, qa, "request id");
	ASSERT_EQ(rb, ra, "reply id");
	ASSERT_EQ(b.pairs, a.pairs, "pairs");
	ASSERT_EQ(a.pairs, 1, "the echo is paired");
	ASSERT_EQ(b.nhops[qb], a.nhops[qa], "request path: no hop added");
	ASSERT_EQ(b.nhops[rb], a.nhops[ra], "reply path: no hop added");
	ASSERT_EQ(b.fate[qb], a.fate[qa], "request fate");
	ASSERT_EQ(b.fate[rb], a.fate[ra], "reply fate");
	ASSERT_STREQ(b.detail[qb], a.detail[qa], "request detail");
	ASSERT_STREQ(b.detail[rb], a.detail[ra], "reply detail");
}

/* ------------------------------------------------------------ verdicts (analyze/why.c) */

/* UDP from 10.0.0.1:40000 to 10.0.0.2:port. */
static struct pkt_info udp(uint16_t port)
{
	struct pkt_info pi = tcp(0, 0, 0, 0, 10);

	pi.outer.ip_proto = 17;
	pi.outer.dport = port;
	pi.outer.tcp_flags = 0;
	return pi;
}

/* An ICMP error from the last byte `from` to 10.0.0.1, quoting *about. */
static struct pkt_info icmp_error(uint8_t from, uint8_t type, uint8_t code,
				  const struct pkt_info *about)
{
	struct pkt_info pi = echo(1, 99);

	pi.outer.src[3] = from;
	pi.outer.icmp_type = type;
	pi.outer.icmp_code = code;
	pi.outer.icmp_id = pi.outer.icmp_seq = 0;
	pi.has_quote = 1;
	pi.quote = about->outer;
	return pi;
}

/* A packet A -> B freed in B with reason and loc, after its receive there. */
static void cross_and_drop(struct flow *f, uint64_t t, uint64_t track, const struct pkt_info *pi,
			   const char *reason, const char *loc, uint64_t *id)
{
	cross(f, t, track, 0, pi, id);
	add(f,
	    &(struct kh){.ts = t + 40000,
			 .track = track,
			 .netns = NS_B,
			 .hook = DROP,
			 .drop = reason,
			 .loc = loc},
	    pi, NULL);
}

/* B has no UDP socket on 9999: the datagram freed NO_SOCKET, B's port unreachable explains it. */
TEST(why_port_unreachable_explains_the_datagram)
{
	struct got g;
	struct flow *f = new_flow(&g);
	struct pkt_info q = udp(9999), e = icmp_error(2, 3, 3, &q), late = echo(0, 5);
	uint64_t idq, ide;

	cross_and_drop(f, T0, 1, &q, "NO_SOCKET", "__udp4_lib_rcv+0x5e1", &idq);
	cross(f, T0 + 100000, 2, 1, &e, &ide);
	cross(f, T0 + 3000 * MS, 3, 0, &late, NULL);
	flow_finish(f);
	ASSERT_EQ(g.pairs, 0, "an error is no reply");
	ASSERT_EQ(g.unanswered[idq], 0, "explained, not unanswered");
	ASSERT_TRUE(g.has_why[idq], "a verdict");
	ASSERT_STREQ(g.why[idq].kind, "icmp-error", "kind");
	ASSERT_STREQ(g.why[idq].reason, "NO_SOCKET", "the kernel's reason");
	ASSERT_STREQ(g.why[idq].function, "__udp4_lib_rcv", "loc= without the offset");
	ASSERT_STREQ(g.why[idq].ifname, "eth0", "interface");
	ASSERT_STREQ(g.why[idq].hook, RX, "last seen at the receive, not the free");
	ASSERT_U64_EQ(g.why[idq].netns, NS_B, "netns");
	ASSERT_TRUE(g.why[idq].answer != NULL, "the answer");
	ASSERT_U64_EQ(g.why[idq].answer->packet_id, ide, "the error's packet");
	ASSERT_U64_EQ(g.why[idq].answer->netns, NS_B, "sent from B");
	ASSERT_EQ(g.why[idq].answer->type, 3, "type");
	ASSERT_EQ(g.why[idq].answer->code, 3, "code");
	ASSERT_STREQ(g.why[idq].line,
		     "no listener on UDP 10.0.0.2:9999: netns 4026532002 answered ICMP port "
		     "unreachable (the request: NO_SOCKET in __udp4_lib_rcv at eth0@4026532002 "
		     "(net:netif_receive_skb))",
		     "line");
	ASSERT_U64_EQ(g.answers[ide], idq, "the error says what it answers");
	ASSERT_EQ(g.has_why[ide], 0, "the error needs no verdict of its own");
	why_groups_free(&g.groups);
	end_flow(f, &g);
}

/* A SYN to a closed port: the RST+ACK whose ACK is the SYN's sequence + 1 refuses it. */
TEST(why_reset_is_connection_refused)
{
	struct got g;
	struct flow *f = new_flow(&g);
	struct pkt_info syn = tcp(0, 0x02, 1000, 0, 0), rst = tcp(1, 0x14, 0, 1001, 0);
	struct pkt_info other = tcp(1, 0x14, 0, 7777, 0), late = echo(0, 5);
	uint64_t ids, idr, ido;

	cross_and_drop(f, T0, 1, &syn, "NO_SOCKET", "tcp_v4_rcv+0x88", &ids);
	cross(f, T0 + 100000, 2, 1, &rst, &idr);
	cross(f, T0 + 200000, 4, 1, &other, &ido); /* a reset of something else */
	cross(f, T0 + 3000 * MS, 3, 0, &late, NULL);
	flow_finish(f);
	ASSERT_TRUE(g.has_why[ids], "a verdict");
	ASSERT_STREQ(g.why[ids].kind, "reset", "kind");
	ASSERT_STREQ(g.why[ids].line,
		     "connection refused: netns 4026532002 answered RST (the request: NO_SOCKET in "
		     "tcp_v4_rcv at eth0@4026532002 (net:netif_receive_skb))",
		     "line");
	ASSERT_U64_EQ(g.why[ids].answer->packet_id, idr, "the reset that answered");
	ASSERT_EQ(g.why[ids].answer->is_reset, 1, "a reset");
	ASSERT_U64_EQ(g.answers[idr], ids, "the reset says what it answers");
	ASSERT_U64_EQ(g.answers[ido], 0, "the other reset answers nothing here");
	why_groups_free(&g.groups);
	end_flow(f, &g);
}

/* A router's time exceeded, quoting the echo request's id and sequence. */
TEST(why_time_exceeded_names_the_router)
{
	struct got g;
	struct flow *f = new_flow(&g);
	struct pkt_info q = echo(0, 1), e = icmp_error(254, 11, 0, &q), late = echo(0, 5);
	struct pkt_info wrong = echo(0, 2), e2 = icmp_error(254, 11, 0, &wrong);
	uint64_t idq, ide, ide2;

	add(f, &(struct kh){.ts = T0, .track = 1, .netns = NS_A, .hook = TX}, &q, &idq);
	add(f, &(struct kh){.ts = T0 + 10000, .track = 1, .netns = NS_R, .hook = RX}, &q, NULL);
	add(f,
	    &(struct kh){.ts = T0 + 20000,
			 .track = 1,
			 .netns = NS_R,
			 .hook = DROP,
			 .drop = "IP_INHDR",
			 .loc = "ip_forward+0x3c0"},
	    &q, NULL);
	add(f, &(struct kh){.ts = T0 + 30000, .track = 2, .netns = NS_R, .hook = TX}, &e, &ide);
	add(f, &(struct kh){.ts = T0 + 40000, .track = 2, .netns = NS_A, .hook = RX}, &e, NULL);
	/* an error about a request never seen explains nothing */
	add(f, &(struct kh){.ts = T0 + 50000, .track = 4, .netns = NS_A, .hook = RX}, &e2, &ide2);
	cross(f, T0 + 3000 * MS, 3, 0, &late, NULL);
	flow_finish(f);
	ASSERT_TRUE(g.has_why[idq], "a verdict");
	ASSERT_STREQ(g.why[idq].kind, "icmp-error", "kind");
	ASSERT_STREQ(g.why[idq].line,
		     "TTL expired on the way to 10.0.0.2: netns 4026531840 answered ICMP time "
		     "exceeded (the request: IP_INHDR in ip_forward at eth0@4026531840 "
		     "(net:netif_receive_skb))",
		     "line");
	ASSERT_U64_EQ(g.why[idq].answer->netns, NS_R, "the router answered");
	ASSERT_U64_EQ(g.answers[ide], idq, "answers the request");
	ASSERT_U64_EQ(g.answers[ide2], 0, "answers nothing recorded");
	why_groups_free(&g.groups);
	end_flow(f, &g);
}

/*
 * TCP segments freed QUEUE_PURGE when a socket closed: a FIN queued at the
 * receiver, and a sender's copy (a clone of the data buffer that went out)
 * are not drops; a segment purged before it was ever sent is.
 */
TEST(fate_tcp_queue_purge_after_sending_is_not_a_drop)
{
	struct got g;
	struct flow *f = new_flow(&g);
	struct pkt_info fin = tcp(0, 0x11, 2001, 5001, 0), data = tcp(0, 0x18, 1001, 5001, 100);
	struct pkt_info unsent = tcp(0, 0x18, 3001, 5001, 100), late = echo(0, 1);
	struct pkt_info ack = tcp(1, 0x10, 5001, 1101, 0);
	uint64_t idf, idd, idu, idc;

	cross(f, T0, 1, 0, &fin, &idf);
	add(f,
	    &(struct kh){
		.ts = T0 + 50000, .track = 1, .netns = NS_B, .hook = DROP, .drop = "QUEUE_PURGE"},
	    &fin, NULL);
	/* the data went out as track 2; the sender's original (same buffer) is purged */
	cross(f, T0 + 100000, 2, 0, &data, &idd);
	add(f,
	    &(struct kh){.ts = T0 + 200000,
			 .track = 3,
			 .head = 0x50000 + 2 * 0x1000,
			 .netns = NS_A,
			 .hook = DROP,
			 .drop = "QUEUE_PURGE"},
	    &data, &idc);
	cross(f, T0 + 150000, 6, 1, &ack, NULL); /* B acknowledges it */
	add(f,
	    &(struct kh){
		.ts = T0 + 300000, .track = 4, .netns = NS_A, .hook = DROP, .drop = "QUEUE_PURGE"},
	    &unsent, &idu);
	cross(f, T0 + 3000 * MS, 5, 0, &late, NULL);
	flow_finish(f);
	ASSERT_EQ(g.fate[idf], FLOW_FATE_DELIVERED, "the FIN got to B's socket");
	ASSERT_STREQ(g.detail[idf],
		     "delivered: received at eth0@4026532002; freed QUEUE_PURGE when its socket "
		     "closed",
		     "detail");
	ASSERT_EQ(idc, idd, "the sender's copy is a branch of the segment");
	ASSERT_EQ(g.fate[idd], FLOW_FATE_DELIVERED, "the segment that went out");
	ASSERT_TRUE(strstr(g.detail[idd], "QUEUE_PURGE") == NULL, "the copy's purge is no verdict");
	ASSERT_EQ(g.fate[idu], FLOW_FATE_DROPPED, "never sent: a real drop");
	ASSERT_STREQ(g.detail[idu], "dropped: QUEUE_PURGE at eth0@4026532001", "detail");
	ASSERT_EQ(flow_stats(f)->dropped, 1, "the summary counts the real one only");
	end_flow(f, &g);
}

/*
 * Drops by rule: the reason's words and subject, the function, the place;
 * --why groups them by cause and place, counted; a delivered packet has none.
 */
TEST(why_drop_rules_and_groups)
{
	struct got g;
	struct flow *f = new_flow(&g);
	struct pkt_info a = udp(7777), b = udp(7778), c = udp(6666), d = echo(0, 1), r = echo(1, 1),
			late = echo(0, 5);
	uint64_t ida, idb, idc, idd, idr;

	cross_and_drop(f, T0, 1, &a, "NETFILTER_DROP", "nf_hook_slow+0x8c", &ida);
	cross_and_drop(f, T0 + 1 * MS, 2, &b, "NETFILTER_DROP", "nf_hook_slow+0x8c", &idb);
	cross_and_drop(f, T0 + 2 * MS, 4, &c, "SOCKET_RCVBUFF", "udp_queue_rcv_one_skb+0x2b", &idc);
	cross(f, T0 + 3 * MS, 5, 0, &d, &idd);
	cross(f, T0 + 4 * MS, 6, 1, &r, &idr);
	cross(f, T0 + 3000 * MS, 3, 0, &late, NULL);
	flow_finish(f);
	ASSERT_STREQ(g.why[ida].line,
		     "dropped by netfilter (NETFILTER_DROP) in nf_hook_slow at eth0@4026532002 "
		     "(net:netif_receive_skb)",
		     "netfilter");
	ASSERT_STREQ(g.why[ida].kind, "drop", "kind");
	ASSERT_TRUE(g.why[ida].answer == NULL, "no answer");
	ASSERT_STREQ(g.why[idc].line,
		     "receive buffer full on UDP 10.0.0.2:6666 (SOCKET_RCVBUFF) in "
		     "udp_queue_rcv_one_skb at eth0@4026532002 (net:netif_receive_skb)",
		     "receive buffer");
	ASSERT_EQ(g.has_why[idd], 0, "an answered ping: no verdict");
	ASSERT_EQ(g.has_why[idr], 0, "its reply: none");
	/* the unanswered late ping is the third group: at the end of the recording */
	ASSERT_U64_EQ(g.groups.n, 3, "netfilter, receive buffer, the late ping");
	ASSERT_U64_EQ(g.groups.head->count, 2, "both netfilter drops in one group");
	ASSERT_U64_EQ(g.groups.head->first_ts, T0, "first");
	ASSERT_U64_EQ(g.groups.head->last_ts, T0 + 1 * MS, "last");
	ASSERT_STREQ(g.groups.head->next->v.reason, "SOCKET_RCVBUFF", "then the receive buffer");
	ASSERT_STREQ(g.groups.tail->v.kind, "no-reply", "the last ping got no reply");
	why_groups_free(&g.groups);
	end_flow(f, &g);
}

/*
 * The final ACK of a handshake answers nothing (the SYN-ACK is answered by
 * the handshake pair) and TCP frees it unrecorded: received in the
 * namespace that sends from its destination address, it is delivered. An
 * ACK last seen passing a bridge stays unknown.
 */
TEST(fate_final_handshake_ack_delivered)
{
	struct got g;
	struct flow *f = new_flow(&g);
	struct pkt_info syn = tcp(0, 0x02, 1000, 0, 0), synack = tcp(1, 0x12, 5000, 1001, 0);
	struct pkt_info ack = tcp(0, 0x10, 1001, 5001, 0), stray = tcp(0, 0x10, 1001, 5001, 0);
	struct pkt_info late = echo(0, 1);
	uint64_t ids, idsa, ida, idx;

	cross(f, T0, 1, 0, &syn, &ids);
	cross(f, T0 + 100000, 2, 1, &synack, &idsa);
	cross(f, T0 + 200000, 3, 0, &ack, &ida);
	stray.outer.ip_id = 77;
	add(f,
	    &(struct kh){
		.ts = T0 + 1000 * MS, .track = 4, .netns = NS_R, .hook = RX, .ifname = "va"},
	    &stray, &idx);
	cross(f, T0 + 3000 * MS, 5, 0, &late, NULL);
	flow_finish(f);
	ASSERT_EQ(g.fate[ids], FLOW_FATE_DELIVERED, "SYN answered");
	ASSERT_EQ(g.fate[idsa], FLOW_FATE_DELIVERED, "SYN-ACK back home");
	ASSERT_EQ(g.fate[ida], FLOW_FATE_DELIVERED, "the final ACK got to B's TCP");
	ASSERT_STREQ(g.detail[ida],
		     "delivered: received at eth0@4026532002, the namespace of its destination",
		     "detail");
	ASSERT_EQ(g.fate[idx], FLOW_FATE_UNKNOWN, "only seen on the bridge");
	ASSERT_EQ(flow_stats(f)->dropped, 0, "no drop");
	end_flow(f, &g);
}

/*
 * A TCP segment read at B is settled: it closes once the correlation window
 * has passed, not after the packet window (TCP frees it unrecorded). The
 * sender's copy of its data buffer, purged at close much later, is then a
 * packet of its own: not a drop, the data got to B.
 */
TEST(fate_settled_tcp_segment_closes_early_and_its_purged_copy_is_no_drop)
{
	struct got g;
	struct flow *f = new_flow(&g);
	struct pkt_info syn = tcp(1, 0x12, 5000, 1001, 0), data = tcp(0, 0x18, 1001, 5001, 100);
	struct pkt_info ack = tcp(1, 0x10, 5001, 1101, 0), late = echo(0, 1);
	uint64_t idd, idc;

	cross(f, T0, 1, 1, &syn, NULL); /* B sends from its address: B is an endpoint */
	cross(f, T0 + 100000, 2, 0, &data, &idd);
	add(f,
	    &(struct kh){.ts = T0 + 140000,
			 .track = 2,
			 .netns = NS_B,
			 .hook = READ,
			 .ifname = "-",
			 .comm = "srv",
			 .pid = 42},
	    &data, NULL);
	cross(f, T0 + 200000, 3, 1, &ack, NULL);
	cross(f, T0 + 300 * MS, 4, 0, &late, NULL);
	ASSERT_TRUE(g.finished[idd], "finished 300 ms on, not after the 2 s window");
	add(f,
	    &(struct kh){.ts = T0 + 500 * MS,
			 .track = 5,
			 .head = 0x50000 + 2 * 0x1000,
			 .netns = NS_A,
			 .hook = DROP,
			 .drop = "QUEUE_PURGE"},
	    &data, &idc);
	cross(f, T0 + 3000 * MS, 6, 0, &late, NULL);
	flow_finish(f);
	ASSERT_TRUE(idc != idd, "a packet of its own");
	ASSERT_STREQ(g.detail[idd], "delivered to srv 42", "the segment");
	ASSERT_EQ(g.fate[idc], FLOW_FATE_DELIVERED, "its data got to B");
	ASSERT_STREQ(g.detail[idc],
		     "delivered: its data was received at eth0@4026532002 before; freed "
		     "QUEUE_PURGE at close",
		     "detail");
	ASSERT_EQ(flow_stats(f)->dropped, 0, "no drop");
	end_flow(f, &g);
}

/*
 * What the cause hooks said: B's icmp_send on the datagram (the error
 * itself never seen: rate-limited on the wire) and the socket's queueing
 * failure name themselves in the verdict; a drop takes the failed route
 * lookup held in causes.h, wherever the recorder placed it.
 */
TEST(why_names_the_cause_hooks)
{
	struct got g;
	struct flow_callbacks cb = {on_packet, on_pair, NULL, on_release, &g};
	struct causes *c = causes_new(5000 * MS, 64);
	struct flow_config cfg = {.causes = c};
	struct flow *f;
	struct pkt_info q = udp(9999), r = udp(6666), n = echo(0, 1);
	uint64_t idq, idr, idn;
	struct trace_hop ev;

	memset(&g, 0, sizeof(g));
	ASSERT_TRUE(c, "causes_new");
	f = flow_new(&cfg, &cb);
	ASSERT_TRUE(f, "flow_new");
	/* 1: NO_SOCKET in B, B's icmp_send on it, no error packet recorded */
	cross(f, T0, 1, 0, &q, &idq);
	{
		struct kh k = {.ts = T0 + 35000,
			       .track = 1,
			       .netns = NS_B,
			       .hook = "icmp:icmp_send",
			       .skb = 0xa100,
			       .head = 0x51000,
			       .dir = 1};
		struct flow_event e = fb_event(&k, &q);

		e.extra = "icmp=3/3";
		ASSERT_OK(flow_add_event(f, &e, NULL), "icmp_send");
	}
	add(f,
	    &(struct kh){.ts = T0 + 40000,
			 .track = 1,
			 .netns = NS_B,
			 .hook = DROP,
			 .drop = "NO_SOCKET",
			 .loc = "__udp4_lib_rcv+0x5e1"},
	    &q, NULL);
	/* 2: SOCKET_RCVBUFF after udp_fail_queue_rcv_skb rc=-12 */
	cross(f, T0 + MS, 2, 0, &r, &idr);
	{
		struct kh k = {.ts = T0 + MS + 35000,
			       .track = 2,
			       .netns = NS_B,
			       .hook = "udp:udp_fail_queue_rcv_skb",
			       .skb = 0xa200,
			       .head = 0x52000,
			       .dir = 1};
		struct flow_event e = fb_event(&k, &r);

		e.extra = "rc=-12";
		ASSERT_OK(flow_add_event(f, &e, NULL), "udp_fail_queue_rcv_skb");
	}
	add(f,
	    &(struct kh){.ts = T0 + MS + 40000,
			 .track = 2,
			 .netns = NS_B,
			 .hook = DROP,
			 .drop = "SOCKET_RCVBUFF",
			 .loc = "udp_queue_rcv_one_skb+0x1"},
	    &r, NULL);
	/* 3: the bridge's forwarding lookup failed (placed in A by the recorder), then the drop */
	add(f, &(struct kh){.ts = T0 + 2 * MS, .track = 3, .netns = NS_A, .hook = TX}, &n, &idn);
	add(f, &(struct kh){.ts = T0 + 2 * MS + 10000, .track = 3, .netns = NS_R, .hook = RX}, &n,
	    NULL);
	memset(&ev, 0, sizeof(ev));
	ASSERT_OK(trace_event_parse("hook=fib:fib_table_lookup netns=4026532001 cpu=0 pid=1 comm=x "
				    "fib_table=254 fib_err=-11 saddr=10.0.0.1 daddr=10.0.0.2",
				    &ev),
		  "parse");
	ev.ts_ns = T0 + 2 * MS + 12000;
	ASSERT_OK(causes_add(c, 0, &ev), "lookup");
	add(f,
	    &(struct kh){.ts = T0 + 2 * MS + 15000,
			 .track = 3,
			 .netns = NS_R,
			 .hook = DROP,
			 .drop = "IP_INNOROUTES",
			 .loc = "ip_error+0x4"},
	    &n, NULL);
	flow_finish(f);

	ASSERT_TRUE(g.has_why[idq] && g.why[idq].has_note, "a verdict with a note");
	ASSERT_TRUE(g.why[idq].note.icmp_sent && g.why[idq].note.icmp_type == 3 &&
			g.why[idq].note.icmp_code == 3 && g.why[idq].note.icmp_netns == NS_B,
		    "the error B sent");
	ASSERT_STREQ(g.why[idq].line,
		     "no listener on UDP 10.0.0.2:9999 (NO_SOCKET) in __udp4_lib_rcv at "
		     "eth0@4026532002 (net:netif_receive_skb); netns 4026532002 sent ICMP port "
		     "unreachable (eth0), not seen on its way back",
		     "line");
	ASSERT_TRUE(g.has_why[idr] && g.why[idr].note.has_rc && g.why[idr].note.rc == -12, "rc");
	ASSERT_TRUE(strstr(g.why[idr].line, "; queueing returned -12 (-ENOMEM)") != NULL,
		    "rc line");
	ASSERT_TRUE(g.has_why[idn] && g.why[idn].note.has_route, "the failed lookup");
	ASSERT_EQ(g.why[idn].note.route.netns, NS_R, "placed where it was dropped");
	ASSERT_TRUE(
	    strstr(g.why[idn].line,
		   "; no route to 10.0.0.2 in table main of netns 4026531840: ENETUNREACH") != NULL,
	    "route line");
	end_flow(f, &g);
	causes_free(c);
	why_groups_free(&g.groups);
}
