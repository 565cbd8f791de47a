// SPDX-License-Identifier: MIT
/*
 * Header-snapshot dissector. Every read goes through a cursor that knows the
 * end of the captured bytes, so a truncated or hostile snapshot can only stop
 * the dissection early, never make it read outside the buffer.
 */
#include "dissect.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ETH_P_IPV4   0x0800
#define ETH_P_ARP    0x0806
#define ETH_P_8021Q  0x8100
#define ETH_P_8021AD 0x88a8
#define ETH_P_QINQ1  0x9100
#define ETH_P_IPV6   0x86dd
#define ETH_P_TEB    0x6558

#define VXLAN_PORT	 4789
#define VXLAN_LINUX_PORT 8472 /* Linux's default when no dstport is given */
#define DNS_PORT	 53
#define MAX_VLAN_TAGS	 4
#define MAX_IPV6_EXT	 16

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
	int depth; /* 0 outer, 1 inner: only one level of encapsulation is reported */
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
	if (!cur_has(&c, 0, 12))
		return;
	l->has_dns = 1;
	l->dns_id = rd16(c.p);
	l->dns_is_response = !!(c.p[2] & 0x80);
}

/* Start an inner layer (encapsulated packet) if none has been started yet. */
static int begin_inner(struct dissector *d, const char *encap, uint32_t key)
{
	if (d->depth)
		return 0;
	d->pi->encap = encap;
	d->pi->encap_key = key;
	d->pi->has_inner = 1;
	d->depth = 1;
	return 1;
}

static void dissect_eth_frame(struct dissector *d, struct cursor c, int outermost);

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

	if (l->dport == VXLAN_PORT || l->dport == VXLAN_LINUX_PORT) {
		/* flags byte with the I bit, 3 reserved, 24-bit VNI, 1 reserved */
		if (cur_has(&payload, 0, 8) && (payload.p[0] & 0x08) && !d->depth) {
			uint32_t vni = rd32(payload.p + 4) >> 8;

			if (begin_inner(d, "vxlan", vni))
				dissect_eth_frame(d, cur_sub(&payload, 8), 0);
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
	if (l->tcp_hlen >= 20)
		dissect_dns(l, cur_sub(&c, l->tcp_hlen + 2u)); /* DNS over TCP: 2-byte length */
}

static void dissect_icmp(struct pkt_l3l4 *l, struct cursor c, int v6)
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
}

static void dissect_gre(struct dissector *d, struct cursor c)
{
	if (!cur_has(&c, 0, 4))
		return;
	uint16_t flags = rd16(c.p);
	uint16_t proto = rd16(c.p + 2);
	size_t off = 4;
	uint32_t key = 0;

	if ((flags & 0x7) != 0) /* version 1 is PPTP's enhanced GRE: not followed */
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
	if (proto != ETH_P_IPV4 && proto != ETH_P_IPV6 && proto != ETH_P_TEB)
		return;
	if (!begin_inner(d, "gre", key))
		return;
	if (proto == ETH_P_TEB)
		dissect_eth_frame(d, cur_sub(&c, off), 0);
	else
		dissect_l3(d, cur_sub(&c, off), proto);
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
		dissect_icmp(l, c, 0);
		break;
	case 58:
		dissect_icmp(l, c, 1);
		break;
	case 47:
		if (!d->depth)
			dissect_gre(d, c);
		break;
	case 4:
		if (begin_inner(d, "ipip", 0))
			dissect_l3(d, c, ETH_P_IPV4);
		break;
	case 41:
		if (begin_inner(d, l->family == 4 ? "sit" : "ip6ip6", 0))
			dissect_l3(d, c, ETH_P_IPV6);
		break;
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
	/* Only Ethernet/IPv4 ARP carries addresses we report. */
	if (hlen != 6 || plen != 4 || rd16(c.p + 2) != ETH_P_IPV4 || !cur_has(&c, 8, 20))
		return;
	const uint8_t *a = c.p + 8;

	l->family = 4;
	memcpy(l->src, a + 6, 4);
	memcpy(l->dst, a + 16, 4);
	if (d->depth == 0) {
		memcpy(d->pi->arp_sha, a, 6);
		memcpy(d->pi->arp_spa, a + 6, 4);
		memcpy(d->pi->arp_tha, a + 10, 6);
		memcpy(d->pi->arp_tpa, a + 16, 4);
	}
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

static void dissect_proto(struct dissector *d, struct cursor c, uint16_t proto)
{
	d->pi->ethertype = proto;
	dissect_l3(d, c, proto);
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
	return (int)sb.len;
}
