// SPDX-License-Identifier: MIT
/*
 * Header-snapshot dissector. Every read goes through a cursor that knows the
 * end of the captured bytes, so a truncated or hostile snapshot can only stop
 * the dissection early, never make it read outside the buffer.
 */
#include "dissect.h"
#include "netproto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DNS_HEADER_LEN 12

/* A bounded view of the captured bytes. */
struct cursor {
	const uint8_t *p;
	size_t len;
};

static int cur_has(const struct cursor *c, size_t off, size_t n)
{
	return off <= c->len && n <= c->len - off;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Sub-view from off to the end (empty if off is past the end). */
static struct cursor cur_sub(const struct cursor *c, size_t off)
{
	struct cursor s = {c->p, 0};

	if (off <= c->len) {
		s.p = c->p + off;
		s.len = c->len - off;
	}
	return s;
}

struct dissector {
	struct pkt_info *pi;
	/* tunnels entered: 0 fills pi->outer, deeper levels pi->inner (the innermost wins) */
	int depth;
	int in_quote; /* dissecting an ICMP error's quote: no quote of its own */
};

static void dissect_l3(struct dissector *d, struct cursor c, uint16_t ethertype);
static void dissect_ip_payload(struct dissector *d, struct pkt_l3l4 *l, struct cursor c,
			       uint16_t ip_payload_len);

static struct pkt_l3l4 *cur_layer(struct dissector *d)
{
	return d->depth ? &d->pi->inner : &d->pi->outer;
}

static void dissect_dns(struct pkt_l3l4 *l, struct cursor c)
{
	if (l->sport != DNS_PORT && l->dport != DNS_PORT)
		return;
	if (!cur_has(&c, 0, DNS_HEADER_LEN))
		return;
	l->has_dns = 1;
	l->dns_id = rd16(c.p);
	l->dns_is_response = !!(c.p[2] & 0x80);
}

/* The enclosing inner layer while a nested tunnel is dissected. */
struct inner_save {
	struct pkt_l3l4 layer;
	int encap_depth; /* 0: there was none */
};

/*
 * Enter a tunnel: its packet becomes the inner layer (a tunnel inside a
 * tunnel replaces it, so pi->inner is always the innermost). encap and key
 * name the outermost tunnel. Returns 0 past MAX_ENCAP_DEPTH.
 */
static int begin_inner(struct dissector *d, const char *encap, uint32_t key,
		       struct inner_save *saved)
{
	if (d->depth >= MAX_ENCAP_DEPTH)
		return 0;
	if (!d->depth) {
		d->pi->encap = encap;
		d->pi->encap_key = key;
	}
	saved->layer = d->pi->inner;
	saved->encap_depth = d->pi->encap_depth;
	memset(&d->pi->inner, 0, sizeof(d->pi->inner));
	d->pi->has_inner = 1;
	d->depth++;
	d->pi->encap_depth = d->depth;
	return 1;
}

/* Leave a tunnel: if nothing was found inside, the enclosing layer stays innermost. */
static void end_inner(struct dissector *d, const struct inner_save *saved)
{
	if (saved->encap_depth && !d->pi->inner.family && !d->pi->inner.is_arp) {
		d->pi->inner = saved->layer;
		d->pi->encap_depth = saved->encap_depth;
	}
}

static void dissect_eth_frame(struct dissector *d, struct cursor c, int outermost);
static void dissect_mpls(struct dissector *d, struct cursor c);

/* A tunnel's payload by its protocol type: Ethernet (TEB) or a layer 3 packet. */
static void dissect_tunneled(struct dissector *d, struct cursor c, uint16_t proto)
{
	if (proto == ETH_P_TEB)
		dissect_eth_frame(d, c, 0);
	else
		dissect_l3(d, c, proto);
}

/*
 * Geneve (RFC 8926): version 0, options of 4-byte words, then the packet the
 * protocol type names (Ethernet, IPv4 or IPv6).
 */
static void dissect_geneve(struct dissector *d, struct cursor c)
{
	struct inner_save saved;

	if (!cur_has(&c, 0, 8) || (c.p[0] >> 6) != 0)
		return;
	size_t off = 8 + (size_t)(c.p[0] & 0x3f) * 4;
	uint16_t proto = rd16(c.p + 2);
	uint32_t vni = rd32(c.p + 4) >> 8;

	if (proto != ETH_P_TEB && proto != ETH_P_IPV4 && proto != ETH_P_IPV6)
		return;
	if (!cur_has(&c, off, 0) || !begin_inner(d, "geneve", vni, &saved))
		return;
	dissect_tunneled(d, cur_sub(&c, off), proto);
	end_inner(d, &saved);
}

static void dissect_udp(struct dissector *d, struct pkt_l3l4 *l, struct cursor c,
			uint16_t ip_payload_len)
{
	if (!cur_has(&c, 0, 8)) {
		l->l4_truncated = 1;
		return;
	}
	l->has_l4 = 1;
	l->sport = rd16(c.p);
	l->dport = rd16(c.p + 2);
	uint16_t udp_len = rd16(c.p + 4);

	if (udp_len >= 8)
		l->l4_payload_len = (uint16_t)(udp_len - 8);
	else if (ip_payload_len >= 8)
		l->l4_payload_len = (uint16_t)(ip_payload_len - 8);
	struct cursor payload = cur_sub(&c, 8);
	struct inner_save saved;

	if (l->dport == VXLAN_PORT || l->dport == VXLAN_LINUX_PORT) {
		/* flags byte with the I bit, 3 reserved, 24-bit VNI, 1 reserved */
		if (cur_has(&payload, 0, 8) && (payload.p[0] & 0x08)) {
			uint32_t vni = rd32(payload.p + 4) >> 8;

			if (begin_inner(d, "vxlan", vni, &saved)) {
				dissect_eth_frame(d, cur_sub(&payload, 8), 0);
				end_inner(d, &saved);
			}
		}
		return;
	}
	if (l->dport == GENEVE_PORT) {
		dissect_geneve(d, payload);
		return;
	}
	if (l->dport == MPLS_UDP_PORT) {
		if (begin_inner(d, "mpls-udp", 0, &saved)) {
			dissect_mpls(d, payload);
			end_inner(d, &saved);
		}
		return;
	}
	dissect_dns(l, payload);
}

static void dissect_tcp(struct pkt_l3l4 *l, struct cursor c, uint16_t ip_payload_len)
{
	if (!cur_has(&c, 0, 20)) {
		/* Ports and sequence number are often still there: take them. */
		if (cur_has(&c, 0, 4)) {
			l->sport = rd16(c.p);
			l->dport = rd16(c.p + 2);
		}
		l->l4_truncated = 1;
		return;
	}
	l->has_l4 = 1;
	l->sport = rd16(c.p);
	l->dport = rd16(c.p + 2);
	l->tcp_seq = rd32(c.p + 4);
	l->tcp_ack = rd32(c.p + 8);
	l->tcp_hlen = (uint8_t)((c.p[12] >> 4) * 4);
	l->tcp_flags = c.p[13];
	if (l->tcp_hlen >= 20 && ip_payload_len >= l->tcp_hlen)
		l->l4_payload_len = (uint16_t)(ip_payload_len - l->tcp_hlen);
	/* DNS over TCP: a 2-byte message length, then the message (RFC 1035 4.2.2) */
	if (l->tcp_hlen >= 20 && cur_has(&c, l->tcp_hlen, 2) &&
	    rd16(c.p + l->tcp_hlen) >= DNS_HEADER_LEN)
		dissect_dns(l, cur_sub(&c, l->tcp_hlen + 2u));
}

static int icmp_is_error(uint8_t type, int v6)
{
	if (v6)
		return type >= 1 && type <= 4;
	return type == 3 || type == 11 || type == 12;
}

/*
 * An ICMP error quotes the packet it is about after its 8-byte header: that
 * packet's IP header and transport header, read as a packet of its own.
 */
static void dissect_icmp_quote(struct dissector *d, struct cursor c, int v6)
{
	struct pkt_info q;
	struct dissector qd = {.pi = &q, .depth = 0, .in_quote = 1};

	if (d->in_quote || !cur_has(&c, 8, 1))
		return;
	memset(&q, 0, sizeof(q));
	dissect_l3(&qd, cur_sub(&c, 8), v6 ? ETH_P_IPV6 : ETH_P_IPV4);
	if (!q.outer.family)
		return;
	d->pi->has_quote = 1;
	d->pi->quote = q.outer;
}

static void dissect_icmp(struct dissector *d, struct pkt_l3l4 *l, struct cursor c, int v6)
{
	if (!cur_has(&c, 0, 4)) {
		l->l4_truncated = 1;
		return;
	}
	l->has_l4 = 1;
	l->icmp_type = c.p[0];
	l->icmp_code = c.p[1];
	int echo = v6 ? (l->icmp_type == 128 || l->icmp_type == 129)
		      : (l->icmp_type == 8 || l->icmp_type == 0);

	if (echo && cur_has(&c, 4, 4)) {
		l->icmp_id = rd16(c.p + 4);
		l->icmp_seq = rd16(c.p + 6);
	}
	/* Neighbor solicitation / advertisement: 4 bytes reserved/flags, then target. */
	if (v6 && (l->icmp_type == 135 || l->icmp_type == 136) && cur_has(&c, 8, 16)) {
		l->has_nd_target = 1;
		memcpy(l->nd_target, c.p + 8, 16);
	}
	if (icmp_is_error(l->icmp_type, v6))
		dissect_icmp_quote(d, c, v6);
}

/*
 * Where the mirrored Ethernet frame starts in an ERSPAN payload: type I has no
 * header (GRE without sequence number), type II an 8-byte one, type III 12
 * bytes and an 8-byte platform header when its O bit is set. Returns 0 and
 * *off, or -1 when it is not an ERSPAN header we know.
 */
static int erspan_frame_off(struct cursor c, uint16_t proto, int gre_has_seq, size_t *off)
{
	if (proto == ETH_P_ERSPAN && !gre_has_seq) {
		*off = 0;
		return 0;
	}
	if (proto == ETH_P_ERSPAN) {
		*off = 8;
		return cur_has(&c, 0, 8) && (c.p[0] >> 4) == 1 ? 0 : -1;
	}
	if (!cur_has(&c, 0, 12) || (c.p[0] >> 4) != 2)
		return -1;
	*off = c.p[11] & 0x01 ? 20 : 12;
	return 0;
}

static void dissect_gre(struct dissector *d, struct cursor c)
{
	struct inner_save saved;

	if (!cur_has(&c, 0, 4))
		return;
	uint16_t flags = rd16(c.p);
	uint16_t proto = rd16(c.p + 2);
	size_t off = 4;
	uint32_t key = 0;
	const char *encap = "gre";

	/* version 1 is PPTP's enhanced GRE, routing (RFC 1701) is obsolete: not followed */
	if ((flags & 0x7) != 0 || (flags & 0x4000))
		return;
	if (flags & 0x8000) /* checksum present */
		off += 4;
	if (flags & 0x2000) { /* key present */
		if (!cur_has(&c, off, 4))
			return;
		key = rd32(c.p + off);
		off += 4;
	}
	if (flags & 0x1000) /* sequence number present */
		off += 4;
	if (!cur_has(&c, off, 0))
		return;
	if (proto == ETH_P_ERSPAN || proto == ETH_P_ERSPAN3) {
		size_t frame_off;

		if (erspan_frame_off(cur_sub(&c, off), proto, !!(flags & 0x1000), &frame_off))
			return;
		off += frame_off;
		proto = ETH_P_TEB;
		encap = "erspan";
	}
	if (proto == ETH_P_CMD) { /* its next ethertype first, one header followed */
		if (!cur_has(&c, off, CMD_HDR_LEN))
			return;
		proto = rd16(c.p + off);
		off += CMD_HDR_LEN;
	}
	if (proto != ETH_P_IPV4 && proto != ETH_P_IPV6 && proto != ETH_P_TEB &&
	    proto != ETH_P_MPLS && proto != ETH_P_MPLSMC)
		return;
	if (!begin_inner(d, encap, key, &saved))
		return;
	dissect_tunneled(d, cur_sub(&c, off), proto);
	end_inner(d, &saved);
}

static void dissect_ip_payload(struct dissector *d, struct pkt_l3l4 *l, struct cursor c,
			       uint16_t ip_payload_len)
{
	switch (l->ip_proto) {
	case 6:
		dissect_tcp(l, c, ip_payload_len);
		break;
	case 17:
		dissect_udp(d, l, c, ip_payload_len);
		break;
	case 1:
		dissect_icmp(d, l, c, 0);
		break;
	case 58:
		dissect_icmp(d, l, c, 1);
		break;
	case 47:
		dissect_gre(d, c);
		break;
	case 4:
	case 41: {
		/* read l before begin_inner: when l is an inner layer, it starts over */
		struct inner_save saved;
		const char *encap = l->ip_proto == 4 ? "ipip" : l->family == 4 ? "sit" : "ip6ip6";
		uint16_t type = l->ip_proto == 4 ? ETH_P_IPV4 : ETH_P_IPV6;

		if (begin_inner(d, encap, 0, &saved)) {
			dissect_l3(d, c, type);
			end_inner(d, &saved);
		}
		break;
	}
	default:
		break;
	}
}

static void dissect_ipv4(struct dissector *d, struct cursor c)
{
	struct pkt_l3l4 *l = cur_layer(d);

	if (!cur_has(&c, 0, 20) || (c.p[0] >> 4) != 4)
		return;
	size_t ihl = (size_t)(c.p[0] & 0x0f) * 4;

	if (ihl < 20)
		return;
	l->family = 4;
	l->ip_len = rd16(c.p + 2);
	l->ip_id = rd16(c.p + 4);
	uint16_t frag = rd16(c.p + 6);

	l->ttl = c.p[8];
	l->ip_proto = c.p[9];
	memcpy(l->src, c.p + 12, 4);
	memcpy(l->dst, c.p + 16, 4);
	if (frag & 0x1fff) {
		l->is_fragment = 1;
		return;
	}
	if (!cur_has(&c, ihl, 0)) {
		l->l4_truncated = 1;
		return;
	}
	/* Do not read Ethernet padding as payload: stop at the IP total length. */
	struct cursor payload = cur_sub(&c, ihl);

	if (l->ip_len >= ihl && payload.len > l->ip_len - ihl)
		payload.len = l->ip_len - ihl;
	uint16_t payload_len = l->ip_len >= ihl ? (uint16_t)(l->ip_len - ihl) : 0;

	dissect_ip_payload(d, l, payload, payload_len);
}

static int ipv6_is_ext(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51;
}

static void dissect_ipv6(struct dissector *d, struct cursor c)
{
	struct pkt_l3l4 *l = cur_layer(d);

	if (!cur_has(&c, 0, 40) || (c.p[0] >> 4) != 6)
		return;
	l->family = 6;
	uint16_t plen = rd16(c.p + 4);

	l->ip_len = (uint16_t)(plen + 40u);
	l->ttl = c.p[7];
	memcpy(l->src, c.p + 8, 16);
	memcpy(l->dst, c.p + 24, 16);
	uint8_t nh = c.p[6];
	size_t off = 40;
	size_t ext_len = 0;

	for (int i = 0; i < MAX_IPV6_EXT && ipv6_is_ext(nh); i++) {
		if (!cur_has(&c, off, 8)) {
			l->ip_proto = nh;
			l->l4_truncated = 1;
			return;
		}
		uint8_t next = c.p[off];
		size_t hlen;

		if (nh == 44) { /* fragment header: fixed 8 bytes */
			uint16_t fo = rd16(c.p + off + 2);

			l->ip_id = (uint16_t)rd32(c.p + off + 4);
			hlen = 8;
			if (fo & 0xfff8) {
				l->ip_proto = next;
				l->is_fragment = 1;
				return;
			}
		} else if (nh == 51) { /* AH counts in 4-byte units, minus 2 */
			hlen = ((size_t)c.p[off + 1] + 2) * 4;
		} else {
			hlen = ((size_t)c.p[off + 1] + 1) * 8;
		}
		off += hlen;
		ext_len += hlen;
		nh = next;
	}
	l->ip_proto = nh;
	if (ipv6_is_ext(nh) || nh == 59) /* too many headers, or no next header */
		return;
	if (!cur_has(&c, off, 0)) {
		l->l4_truncated = 1;
		return;
	}
	struct cursor payload = cur_sub(&c, off);
	size_t l4_len = plen >= ext_len ? plen - ext_len : 0;

	if (payload.len > l4_len && plen != 0) /* plen 0: jumbogram, keep what we have */
		payload.len = l4_len;
	dissect_ip_payload(d, l, payload, (uint16_t)l4_len);
}

static void dissect_arp(struct dissector *d, struct cursor c)
{
	struct pkt_l3l4 *l = cur_layer(d);

	if (!cur_has(&c, 0, 8))
		return;
	uint8_t hlen = c.p[4], plen = c.p[5];
	uint16_t op = rd16(c.p + 6);

	if (d->depth == 0) {
		d->pi->is_arp = 1;
		d->pi->arp_op = op;
	}
	l->is_arp = 1;
	l->arp_op = op;
	/* IPv4 addresses are reported whatever the hardware (ARCNET's are 1 byte). */
	if (plen != 4 || rd16(c.p + 2) != ETH_P_IPV4 || !cur_has(&c, 8, 2 * ((size_t)hlen + 4)))
		return;
	const uint8_t *a = c.p + 8;

	l->family = 4;
	memcpy(l->src, a + hlen, 4);
	memcpy(l->dst, a + 2 * (size_t)hlen + 4, 4);
	if (d->depth == 0 && hlen == 6) {
		memcpy(d->pi->arp_sha, a, 6);
		memcpy(d->pi->arp_spa, a + 6, 4);
		memcpy(d->pi->arp_tha, a + 10, 6);
		memcpy(d->pi->arp_tpa, a + 16, 4);
	}
}

/* IPv4 or IPv6 by the version nibble, where nothing else says which. */
static void dissect_ip_by_version(struct dissector *d, struct cursor c)
{
	if (!cur_has(&c, 0, 1))
		return;
	if (c.p[0] >> 4 == 4)
		dissect_ipv4(d, c);
	else if (c.p[0] >> 4 == 6)
		dissect_ipv6(d, c);
}

/*
 * An MPLS label stack (RFC 3032): 4-byte entries up to the one with the
 * bottom-of-stack bit; what follows has no type field, so IPv4/IPv6 is
 * guessed from the first nibble (as Wireshark and tcpdump do).
 */
static void dissect_mpls(struct dissector *d, struct cursor c)
{
	size_t off = 0;

	for (int i = 0; i < MAX_MPLS_LABELS; i++, off += 4) {
		if (!cur_has(&c, off, 4))
			return;
		uint32_t entry = rd32(c.p + off);

		if (!d->pi->mpls_count++)
			d->pi->mpls_label = entry >> 12;
		if (entry & 0x100) {
			dissect_ip_by_version(d, cur_sub(&c, off + 4));
			return;
		}
	}
}

/* A PPP protocol field (1 byte when compressed: odd first byte), then IPv4/IPv6/MPLS. */
static void dissect_ppp_payload(struct dissector *d, struct cursor c)
{
	uint16_t proto;
	size_t off;

	if (!cur_has(&c, 0, 1))
		return;
	if (c.p[0] & 1) {
		proto = c.p[0];
		off = 1;
	} else {
		if (!cur_has(&c, 0, 2))
			return;
		proto = rd16(c.p);
		off = 2;
	}
	if (proto == PPP_IPV4)
		dissect_ipv4(d, cur_sub(&c, off));
	else if (proto == PPP_IPV6)
		dissect_ipv6(d, cur_sub(&c, off));
	else if (proto == PPP_MPLS || proto == PPP_MPLSMC)
		dissect_mpls(d, cur_sub(&c, off));
}

/* PPPoE session stage (RFC 2516): version/type 0x11, code 0, session id, length, PPP. */
static void dissect_pppoe(struct dissector *d, struct cursor c)
{
	if (!cur_has(&c, 0, 6) || c.p[0] != 0x11 || c.p[1] != 0)
		return;
	d->pi->has_pppoe = 1;
	d->pi->pppoe_session = rd16(c.p + 2);
	struct cursor payload = cur_sub(&c, 6);
	uint16_t len = rd16(c.p + 4);

	if (payload.len > len) /* Ethernet padding is not PPP */
		payload.len = len;
	dissect_ppp_payload(d, payload);
}

static void dissect_l3(struct dissector *d, struct cursor c, uint16_t ethertype)
{
	switch (ethertype) {
	case ETH_P_IPV4:
		dissect_ipv4(d, c);
		break;
	case ETH_P_IPV6:
		dissect_ipv6(d, c);
		break;
	case ETH_P_ARP:
		dissect_arp(d, c);
		break;
	case ETH_P_MPLS:
	case ETH_P_MPLSMC:
		dissect_mpls(d, c);
		break;
	case ETH_P_PPPOES:
		dissect_pppoe(d, c);
		break;
	default:
		break;
	}
}

static void dissect_eth_frame(struct dissector *d, struct cursor c, int outermost)
{
	struct pkt_info *pi = d->pi;

	if (!cur_has(&c, 0, 14))
		return;
	uint16_t type = rd16(c.p + 12);
	size_t off = 14;
	int tags = 0;
	uint16_t vlan = 0;
	uint64_t stack = 0;

	while ((type == ETH_P_8021Q || type == ETH_P_8021AD || type == ETH_P_QINQ1) &&
	       tags < MAX_VLAN_TAGS) {
		if (!cur_has(&c, off, 4))
			break;
		if (tags == 0)
			vlan = rd16(c.p + off) & 0x0fff;
		if (tags < 5)
			stack |= (uint64_t)(rd16(c.p + off) & 0x0fff) << (12 * tags);
		type = rd16(c.p + off + 2);
		off += 4;
		tags++;
	}
	if (outermost) {
		pi->has_eth = 1;
		memcpy(pi->eth_dst, c.p, 6);
		memcpy(pi->eth_src, c.p + 6, 6);
		pi->ethertype = type;
		pi->vlan_id = vlan;
		pi->vlan_count = tags;
		pi->vlan_stack = stack;
	}
	if (type < 0x0600) /* 802.3 length field: LLC follows, nothing we dissect */
		return;
	dissect_l3(d, cur_sub(&c, off), type);
}

/* Raw IP: the version nibble tells IPv4 from IPv6. */
static void dissect_raw_ip(struct dissector *d, struct cursor c)
{
	if (!cur_has(&c, 0, 1))
		return;
	uint8_t v = c.p[0] >> 4;

	d->pi->ethertype = v == 6 ? ETH_P_IPV6 : v == 4 ? ETH_P_IPV4 : 0;
	if (d->pi->ethertype)
		dissect_l3(d, c, d->pi->ethertype);
}

/* PPP in HDLC-like framing: address 0xff and control 0x03 may be omitted. */
static void dissect_ppp_frame(struct dissector *d, struct cursor c)
{
	if (cur_has(&c, 0, 2) && c.p[0] == 0xff && c.p[1] == 0x03)
		c = cur_sub(&c, 2);
	dissect_ppp_payload(d, c);
	if (d->pi->outer.family)
		d->pi->ethertype = d->pi->outer.family == 6 ? ETH_P_IPV6 : ETH_P_IPV4;
}

static void dissect_proto(struct dissector *d, struct cursor c, uint16_t proto)
{
	d->pi->ethertype = proto;
	dissect_l3(d, c, proto);
}

/* Solaris IPNET: a 24-byte header whose second byte is the address family. */
static void dissect_ipnet(struct dissector *d, struct cursor c)
{
	if (!cur_has(&c, 0, 24))
		return;
	if (c.p[1] == 2)
		dissect_proto(d, cur_sub(&c, 24), ETH_P_IPV4);
	else if (c.p[1] == 26) /* Solaris AF_INET6 */
		dissect_proto(d, cur_sub(&c, 24), ETH_P_IPV6);
}

/*
 * Linux ARCNET: source, destination, 2-byte offset, protocol id. RFC 1201
 * protocol ids are followed by a split flag (4 more bytes in an exception
 * packet, flag 0xff) and a 2-byte sequence number; RFC 1051 ones are not.
 */
static void dissect_arcnet_linux(struct dissector *d, struct cursor c)
{
	size_t off = 5;
	uint16_t type;

	if (!cur_has(&c, 0, 5))
		return;
	switch (c.p[4]) {
	case 0xf0: /* RFC 1051 IPv4 */
		dissect_proto(d, cur_sub(&c, off), ETH_P_IPV4);
		return;
	case 0xf1: /* RFC 1051 ARP */
		dissect_proto(d, cur_sub(&c, off), ETH_P_ARP);
		return;
	case 0xd4:
		type = ETH_P_IPV4;
		break;
	case 0xd5:
		type = ETH_P_ARP;
		break;
	case 0xc4:
		type = ETH_P_IPV6;
		break;
	default:
		return;
	}
	if (!cur_has(&c, off, 1))
		return;
	off += c.p[off] == 0xff ? 1 + 4 : 1;
	dissect_proto(d, cur_sub(&c, off + 2), type);
}

/* BSD address families of IPv6 differ between systems. */
static uint16_t null_af_to_ethertype(uint32_t af)
{
	if (af == 2)
		return ETH_P_IPV4;
	if (af == 10 || af == 24 || af == 28 || af == 30)
		return ETH_P_IPV6;
	return 0;
}

int pkt_dissect(const uint8_t *data, size_t len, uint32_t linktype, struct pkt_info *out)
{
	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!data && len)
		return -EINVAL;

	struct dissector d = {.pi = out, .depth = 0};
	struct cursor c = {data, data ? len : 0};

	switch (linktype) {
	case 1: /* Ethernet */
		dissect_eth_frame(&d, c, 1);
		break;
	case 101: /* raw IP */
	case 12:
	case 14:
		dissect_raw_ip(&d, c);
		break;
	case 228: /* LINKTYPE_IPV4 */
		dissect_proto(&d, c, ETH_P_IPV4);
		break;
	case 229: /* LINKTYPE_IPV6 */
		dissect_proto(&d, c, ETH_P_IPV6);
		break;
	case 9:	 /* PPP */
	case 50: /* PPP in HDLC-like framing */
		dissect_ppp_frame(&d, c);
		break;
	case 226: /* Solaris IPNET */
		dissect_ipnet(&d, c);
		break;
	case 129: /* ARCNET with Linux's header */
		dissect_arcnet_linux(&d, c);
		break;
	case 104: /* Cisco HDLC: address, control, then an ethertype */
		if (cur_has(&c, 0, 4))
			dissect_proto(&d, cur_sub(&c, 4), rd16(c.p + 2));
		break;
	case 113: /* Linux cooked v1: 16-byte header, protocol last */
		if (cur_has(&c, 0, 16))
			dissect_proto(&d, cur_sub(&c, 16), rd16(c.p + 14));
		break;
	case 276: /* Linux cooked v2: 20-byte header, protocol first */
		if (cur_has(&c, 0, 20))
			dissect_proto(&d, cur_sub(&c, 20), rd16(c.p));
		break;
	case 0: /* null: AF in the writer's byte order; try both */
		if (cur_has(&c, 0, 4)) {
			uint32_t le = (uint32_t)c.p[0] | (uint32_t)c.p[1] << 8 |
				      (uint32_t)c.p[2] << 16 | (uint32_t)c.p[3] << 24;
			uint16_t type = null_af_to_ethertype(le);

			if (!type)
				type = null_af_to_ethertype(rd32(c.p));
			if (type)
				dissect_proto(&d, cur_sub(&c, 4), type);
		}
		break;
	case 108: /* OpenBSD loop: AF in network byte order */
		if (cur_has(&c, 0, 4)) {
			uint16_t type = null_af_to_ethertype(rd32(c.p));

			if (type)
				dissect_proto(&d, cur_sub(&c, 4), type);
		}
		break;
	default:
		return -EPROTONOSUPPORT;
	}
	return 0;
}

const struct pkt_l3l4 *pkt_innermost(const struct pkt_info *pi)
{
	if (pi->has_inner && (pi->inner.family || pi->inner.is_arp))
		return &pi->inner;
	return &pi->outer;
}

void pkt_addr_str(const struct pkt_l3l4 *l, int which_dst, char *buf, size_t cap)
{
	const uint8_t *a = which_dst ? l->dst : l->src;

	if (!cap)
		return;
	buf[0] = '\0';
	if (l->family == 4) {
		/* by hand: JSON output asks for two addresses per hit */
		char tmp[16];
		size_t n = 0;

		for (int i = 0; i < 4; i++) {
			if (i)
				tmp[n++] = '.';
			if (a[i] >= 100)
				tmp[n++] = (char)('0' + a[i] / 100);
			if (a[i] >= 10)
				tmp[n++] = (char)('0' + a[i] / 10 % 10);
			tmp[n++] = (char)('0' + a[i] % 10);
		}
		if (n >= cap)
			n = cap - 1; /* cut like snprintf */
		memcpy(buf, tmp, n);
		buf[n] = '\0';
	} else if (l->family == 6) {
		char tmp[INET6_ADDRSTRLEN];

		if (inet_ntop(AF_INET6, a, tmp, sizeof(tmp)))
			snprintf(buf, cap, "%s", tmp);
	}
}

static const char *l4_name(const struct pkt_l3l4 *l)
{
	if (l->is_arp)
		return "ARP";
	if (!l->is_fragment) {
		switch (l->ip_proto) {
		case 1:
			return "ICMP";
		case 58:
			return "ICMPv6";
		case 6:
			return "TCP";
		case 17:
			return "UDP";
		default:
			break;
		}
	}
	if (l->family == 4)
		return "IPv4";
	if (l->family == 6)
		return "IPv6";
	return NULL;
}

const char *pkt_proto_name(const struct pkt_info *pi)
{
	/* Per thread: the live printer and the analyzer may run in threads. */
	static __thread char hex[8];
	const char *name = l4_name(pkt_innermost(pi));

	if (!name && pi->is_arp)
		name = "ARP";
	if (name)
		return name;
	if (pi->ethertype == ETH_P_IPV4)
		return "IPv4";
	if (pi->ethertype == ETH_P_IPV6)
		return "IPv6";
	snprintf(hex, sizeof(hex), "0x%04x", pi->ethertype);
	return hex;
}

/* Appends to a buffer, snprintf-style: keeps counting past the end. */
struct sbuf {
	char *buf;
	size_t cap;
	size_t len;
};

__attribute__((format(printf, 2, 3))) static void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	char *dst = sb->len < sb->cap ? sb->buf + sb->len : NULL;
	size_t room = sb->len < sb->cap ? sb->cap - sb->len : 0;

	va_start(ap, fmt);
	int n = vsnprintf(dst, room, fmt, ap);

	va_end(ap);
	if (n > 0)
		sb->len += (size_t)n;
}

static void sb_mac(struct sbuf *sb, const uint8_t *m)
{
	sb_printf(sb, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void sb_endpoint(struct sbuf *sb, const struct pkt_l3l4 *l, int dst, int with_port)
{
	char a[PKT_ADDRSTRLEN];

	pkt_addr_str(l, dst, a, sizeof(a));
	if (!with_port)
		sb_printf(sb, "%s", a);
	else if (l->family == 6)
		sb_printf(sb, "[%s]:%u", a, dst ? l->dport : l->sport);
	else
		sb_printf(sb, "%s:%u", a, dst ? l->dport : l->sport);
}

static const char *icmp_type_name(uint8_t type, int v6)
{
	if (!v6) {
		switch (type) {
		case 0:
			return "echo-reply";
		case 3:
			return "unreachable";
		case 5:
			return "redirect";
		case 8:
			return "echo-request";
		case 11:
			return "time-exceeded";
		default:
			return NULL;
		}
	}
	switch (type) {
	case 1:
		return "unreachable";
	case 2:
		return "packet-too-big";
	case 3:
		return "time-exceeded";
	case 128:
		return "echo-request";
	case 129:
		return "echo-reply";
	case 133:
		return "router-solicitation";
	case 134:
		return "router-advertisement";
	case 135:
		return "neighbor-solicitation";
	case 136:
		return "neighbor-advertisement";
	case 143:
		return "mld2-report";
	default:
		return NULL;
	}
}

static void sb_tcp_flags(struct sbuf *sb, uint8_t f)
{
	char s[8];
	int n = 0;

	if (f & 0x02)
		s[n++] = 'S';
	if (f & 0x01)
		s[n++] = 'F';
	if (f & 0x04)
		s[n++] = 'R';
	if (f & 0x08)
		s[n++] = 'P';
	if (f & 0x10)
		s[n++] = '.';
	s[n] = '\0';
	sb_printf(sb, "[%s]", s);
}

static void sb_layer(struct sbuf *sb, const struct pkt_l3l4 *l, const struct pkt_info *pi,
		     int outer)
{
	if (l->is_arp) {
		if (l->family != 4) {
			sb_printf(sb, "ARP op=%u", l->arp_op);
			return;
		}
		if (l->arp_op == 1) {
			sb_printf(sb, "ARP who-has ");
			sb_endpoint(sb, l, 1, 0);
			sb_printf(sb, " tell ");
			sb_endpoint(sb, l, 0, 0);
		} else if (l->arp_op == 2) {
			sb_printf(sb, "ARP ");
			sb_endpoint(sb, l, 0, 0);
			sb_printf(sb, " is-at ");
			if (outer)
				sb_mac(sb, pi->arp_sha);
			else
				sb_printf(sb, "?");
		} else {
			sb_printf(sb, "ARP op=%u ", l->arp_op);
			sb_endpoint(sb, l, 0, 0);
			sb_printf(sb, " -> ");
			sb_endpoint(sb, l, 1, 0);
		}
		return;
	}
	int ports = (l->ip_proto == 6 || l->ip_proto == 17) && !l->is_fragment &&
		    (l->has_l4 || l->sport || l->dport);

	sb_endpoint(sb, l, 0, ports);
	sb_printf(sb, " -> ");
	sb_endpoint(sb, l, 1, ports);
	const char *name = l4_name(l);

	if (l->is_fragment) {
		sb_printf(sb, " %s fragment id=0x%04x proto=%u", name, l->ip_id, l->ip_proto);
		return;
	}
	if (l->ip_proto != 1 && l->ip_proto != 58 && l->ip_proto != 6 && l->ip_proto != 17) {
		sb_printf(sb, " %s proto=%u", name, l->ip_proto);
		return;
	}
	sb_printf(sb, " %s", name);
	if (!l->has_l4) {
		sb_printf(sb, " [truncated]");
		return;
	}
	if (l->ip_proto == 1 || l->ip_proto == 58) {
		const char *t = icmp_type_name(l->icmp_type, l->ip_proto == 58);

		if (t)
			sb_printf(sb, " %s", t);
		else
			sb_printf(sb, " type=%u", l->icmp_type);
		if (l->icmp_code)
			sb_printf(sb, " code=%u", l->icmp_code);
		if (l->icmp_id || l->icmp_seq)
			sb_printf(sb, " id=%u seq=%u", l->icmp_id, l->icmp_seq);
		if (l->has_nd_target) {
			struct pkt_l3l4 tmp = {.family = 6};
			char a[PKT_ADDRSTRLEN];

			memcpy(tmp.src, l->nd_target, 16);
			pkt_addr_str(&tmp, 0, a, sizeof(a));
			sb_printf(sb, " %s %s", l->icmp_type == 135 ? "who-has" : "tgt", a);
		}
	} else if (l->ip_proto == 6) {
		sb_printf(sb, " ");
		sb_tcp_flags(sb, l->tcp_flags);
		sb_printf(sb, " seq=%u", l->tcp_seq);
		if (l->tcp_flags & 0x10)
			sb_printf(sb, " ack=%u", l->tcp_ack);
		if (l->l4_payload_len)
			sb_printf(sb, " len=%u", l->l4_payload_len);
		if (l->has_dns) /* DNS over TCP */
			sb_printf(sb, " DNS %s id=0x%04x",
				  l->dns_is_response ? "response" : "query", l->dns_id);
	} else {
		if (l->has_dns)
			sb_printf(sb, " DNS %s id=0x%04x",
				  l->dns_is_response ? "response" : "query", l->dns_id);
		else
			sb_printf(sb, " len=%u", l->l4_payload_len);
	}
}

int pkt_summary(const struct pkt_info *pi, char *buf, size_t cap)
{
	struct sbuf sb = {buf, cap, 0};

	if (cap)
		buf[0] = '\0';
	if (pi->has_inner && (pi->inner.family || pi->inner.is_arp)) {
		/* The tunnel first, then what it carries: the inner packet is the one tracked. */
		char a[PKT_ADDRSTRLEN], b[PKT_ADDRSTRLEN];

		pkt_addr_str(&pi->outer, 0, a, sizeof(a));
		pkt_addr_str(&pi->outer, 1, b, sizeof(b));
		sb_printf(&sb, "%s %s -> %s", pi->encap ? pi->encap : "tunnel", a, b);
		if (pi->encap_key)
			sb_printf(&sb, " %s=%u",
				  pi->encap && !strcmp(pi->encap, "vxlan") ? "vni" : "key",
				  pi->encap_key);
		sb_printf(&sb, ": ");
		sb_layer(&sb, &pi->inner, pi, 0);
	} else if (pi->outer.family || pi->outer.is_arp) {
		sb_layer(&sb, &pi->outer, pi, 1);
		if (pi->encap)
			sb_printf(&sb, " (%s, inner truncated)", pi->encap);
	} else if (pi->has_eth) {
		sb_mac(&sb, pi->eth_src);
		sb_printf(&sb, " -> ");
		sb_mac(&sb, pi->eth_dst);
		sb_printf(&sb, " ethertype 0x%04x", pi->ethertype);
		if (pi->ethertype == ETH_P_IPV4 || pi->ethertype == ETH_P_IPV6)
			sb_printf(&sb, " [truncated]");
	} else if (pi->ethertype) {
		sb_printf(&sb, "%s [truncated]", pkt_proto_name(pi));
	} else {
		sb_printf(&sb, "[unknown or truncated]");
	}
	if (pi->vlan_count)
		sb_printf(&sb, " vlan=%u", pi->vlan_id);
	if (pi->mpls_count)
		sb_printf(&sb, " mpls=%u", pi->mpls_label);
	if (pi->has_pppoe)
		sb_printf(&sb, " pppoe=0x%04x", pi->pppoe_session);
	return (int)sb.len;
}
