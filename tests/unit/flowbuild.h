/* SPDX-License-Identifier: MIT */
/*
 * Event builders for the analysis unit tests (test_analyze_*.c): dissected
 * packets (struct pkt_info) between 10.0.0.A and 10.0.0.B, and one recorded
 * hit (struct flow_event) described by a struct kh, given to analyze/flow.h.
 */
#ifndef PKT_TEST_FLOWBUILD_H
#define PKT_TEST_FLOWBUILD_H

#include <stdint.h>
#include <string.h>

#include "flow.h"

/* 10.0.0.a -> 10.0.0.b */
static inline void fb_ip4(struct pkt_l3l4 *l, uint8_t a, uint8_t b)
{
	l->family = 4;
	l->src[0] = 10;
	l->src[3] = a;
	l->dst[0] = 10;
	l->dst[3] = b;
}

/* An ICMP echo request (reply = 0) or reply. */
static inline struct pkt_info fb_echo(uint8_t src, uint8_t dst, int reply, uint16_t id,
				      uint16_t seq, uint16_t ip_id)
{
	struct pkt_info pi;

	memset(&pi, 0, sizeof(pi));
	fb_ip4(&pi.outer, src, dst);
	pi.outer.ip_proto = 1;
	pi.outer.ip_id = ip_id;
	pi.outer.has_l4 = 1;
	pi.outer.icmp_type = reply ? 0 : 8;
	pi.outer.icmp_id = id;
	pi.outer.icmp_seq = seq;
	return pi;
}

/* A TCP segment: flags, sequence, acknowledgement, payload length. */
static inline struct pkt_info fb_tcp(uint8_t src, uint8_t dst, uint16_t sport, uint16_t dport,
				     uint8_t flags, uint32_t seq, uint32_t ack, uint16_t len,
				     uint16_t ip_id)
{
	struct pkt_info pi;

	memset(&pi, 0, sizeof(pi));
	fb_ip4(&pi.outer, src, dst);
	pi.outer.ip_proto = 6;
	pi.outer.ip_id = ip_id;
	pi.outer.has_l4 = 1;
	pi.outer.sport = sport;
	pi.outer.dport = dport;
	pi.outer.tcp_flags = flags;
	pi.outer.tcp_seq = seq;
	pi.outer.tcp_ack = ack;
	pi.outer.l4_payload_len = len;
	return pi;
}

/*
 * One hit of pkt-record: id, sk_buff, data buffer (0: not known), hook,
 * place, process. Left out: no track id (no_track), interface "eth0",
 * direction inbound, 84 bytes, no drop, no process name.
 */
struct kh {
	uint64_t ts, track, skb, head, netns;
	const char *hook, *ifname, *drop, *comm, *summary, *loc;
	uint32_t pid, len;
	uint8_t dir;
	int no_track;
};

static inline struct flow_event fb_event(const struct kh *k, const struct pkt_info *pi)
{
	return (struct flow_event){
	    .ts_ns = k->ts,
	    .has_track = !k->no_track,
	    .track = k->track,
	    .has_skb = k->skb != 0,
	    .skb = k->skb,
	    .has_head = k->head != 0,
	    .head = k->head,
	    .hook = k->hook,
	    .has_netns = 1,
	    .netns = k->netns,
	    .ifname = k->ifname ? k->ifname : "eth0",
	    .dir = k->dir ? k->dir : 1,
	    .drop = k->drop ? k->drop : "",
	    .loc = k->loc,
	    .pid = k->pid,
	    .comm = k->comm ? k->comm : "",
	    .len = k->len ? k->len : 84,
	    .pi = pi,
	    .summary = k->summary,
	};
}

static inline int fb_add(struct flow *f, const struct kh *k, const struct pkt_info *pi,
			 uint64_t *id)
{
	struct flow_event ev = fb_event(k, pi);

	return flow_add_event(f, &ev, id);
}

#endif
