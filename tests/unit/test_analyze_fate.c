// SPDX-License-Identifier: MIT
/*
 * Fates that pairing settles (analyze/packets.c, analyze/pairs.c): an
 * answered request was delivered, a reply back in its asker's namespace was
 * delivered there, in-flight is only for what nothing answered at the end,
 * and a drop stays a drop.
 */
#include "test.h"
#include "flow.h"

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
	int finished[16];    /* the packet callback came */
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
	snprintf(g->detail[p->id], sizeof(g->detail[0]), "%s", p->fate_detail);
	g->unanswered[p->id] = p->unanswered;
	g->answered[p->id] = p->requests_answered;
	g->reader[p->id] = p->fate_hop >= 0 && p->hops[p->fate_hop].kind == PKT_HOOK_KIND_DELIVER
			       ? p->hops[p->fate_hop].pid
			       : 0;
}

static struct flow *new_flow(struct got *g)
{
	struct flow_callbacks cb = {on_packet, on_pair, NULL, on_release, g};

	memset(g, 0, sizeof(*g));
	return flow_new(NULL, &cb);
}

static struct pkt_info echo(int reply, uint16_t seq)
{
	struct pkt_info pi;

	memset(&pi, 0, sizeof(pi));
	pi.outer.family = 4;
	pi.outer.src[0] = pi.outer.dst[0] = 10;
	pi.outer.src[3] = reply ? 2 : 1;
	pi.outer.dst[3] = reply ? 1 : 2;
	pi.outer.ip_proto = 1;
	pi.outer.ip_id = (uint16_t)(seq * 7 + reply);
	pi.outer.has_l4 = 1;
	pi.outer.icmp_type = reply ? 0 : 8;
	pi.outer.icmp_id = 9;
	pi.outer.icmp_seq = seq;
	return pi;
}

/* TCP from 10.0.0.1:40000 to 10.0.0.2:80 (or back): flags, seq, ack, payload length. */
static struct pkt_info tcp(int back, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t len)
{
	struct pkt_info pi;

	memset(&pi, 0, sizeof(pi));
	pi.outer.family = 4;
	pi.outer.src[0] = pi.outer.dst[0] = 10;
	pi.outer.src[3] = back ? 2 : 1;
	pi.outer.dst[3] = back ? 1 : 2;
	pi.outer.ip_proto = 6;
	pi.outer.ip_id = (uint16_t)(seq + back);
	pi.outer.has_l4 = 1;
	pi.outer.sport = back ? 80 : 40000;
	pi.outer.dport = back ? 40000 : 80;
	pi.outer.tcp_flags = flags;
	pi.outer.tcp_seq = seq;
	pi.outer.tcp_ack = ack;
	pi.outer.l4_payload_len = len;
	return pi;
}

struct kh {
	uint64_t ts, track, netns;
	uint64_t head; /* 0: the track's own buffer */
	const char *hook, *ifname, *drop, *comm;
	uint32_t pid;
};

static void add(struct flow *f, const struct kh *k, const struct pkt_info *pi, uint64_t *id)
{
	struct flow_event ev = {
	    .ts_ns = k->ts,
	    .has_track = 1,
	    .track = k->track,
	    .has_skb = 1,
	    .skb = 0xa000 + k->track * 0x100,
	    .has_head = 1,
	    .head = k->head ? k->head : 0x50000 + k->track * 0x1000,
	    .hook = k->hook,
	    .has_netns = 1,
	    .netns = k->netns,
	    .ifname = k->ifname ? k->ifname : "eth0",
	    .dir = !strcmp(k->hook, TX) ? 2 : 1,
	    .drop = k->drop ? k->drop : "",
	    .pid = k->pid,
	    .comm = k->comm ? k->comm : "",
	    .len = 84,
	    .pi = pi,
	};

	flow_add_event(f, &ev, id);
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
	flow_free(f);
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
	flow_free(f);
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
	flow_free(f);
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
	flow_free(f);
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
	flow_free(f);
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
	flow_free(f);
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
	flow_free(f);
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
	flow_free(f);
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
	flow_free(f);
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
	flow_free(f);
}
