// SPDX-License-Identifier: MIT
/* Dissector tests on hand-built packets, whole and cut at every length. */
#include "test.h"
#include "pktbuild.h"
#include "dissect.h"

#include <errno.h>
#include <stdlib.h>

static void put_eth(struct pb *p, unsigned type)
{
	static const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 2}, src[6] = {0x02, 0, 0, 0, 0, 1};

	putn(p, dst, 6);
	putn(p, src, 6);
	put16(p, type);
}

/* IPv4 header; total length covers l4len bytes of payload. */
static void put_ip4(struct pb *p, unsigned proto, uint32_t src, uint32_t dst, unsigned l4len,
		    unsigned id)
{
	pb_ip4(p, proto, src, dst, l4len, id, 0);
}

static const uint8_t ip6_a[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t ip6_b[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

static void put_ip6(struct pb *p, unsigned nh, unsigned plen)
{
	pb_ip6(p, nh, plen, ip6_a, ip6_b);
}

static void put_icmp_echo(struct pb *p, unsigned type, unsigned id, unsigned seq)
{
	put8(p, type);
	put8(p, 0);
	put16(p, 0);
	put16(p, id);
	put16(p, seq);
}

static void put_tcp(struct pb *p, unsigned sport, unsigned dport, uint32_t seq, uint32_t ack,
		    unsigned flags)
{
	put16(p, sport);
	put16(p, dport);
	put32(p, seq);
	put32(p, ack);
	put8(p, 5 << 4);
	put8(p, flags);
	put16(p, 65535);
	put32(p, 0);
}

static void put_udp(struct pb *p, unsigned sport, unsigned dport, unsigned paylen)
{
	put16(p, sport);
	put16(p, dport);
	put16(p, 8 + paylen);
	put16(p, 0);
}

#define IP_A 0x0a000001u
#define IP_B 0x0a000002u

/* Dissect every prefix of a packet: none may crash (ASan checks the reads). */
static int all_prefixes_ok(const struct pb *p, uint32_t linktype)
{
	for (size_t n = 0; n <= p->n; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		struct pkt_info pi;
		char s[256];

		memcpy(copy, p->b, n);
		if (pkt_dissect(copy, n, linktype, &pi) != 0) {
			free(copy);
			return 0;
		}
		pkt_summary(&pi, s, sizeof(s));
		free(copy);
	}
	return 1;
}

TEST(dissect_icmp_echo)
{
	struct pb p = {.n = 0};
	struct pkt_info pi;
	char s[160];

	put_eth(&p, 0x0800);
	put_ip4(&p, 1, IP_A, IP_B, 8, 0x1234);
	put_icmp_echo(&p, 8, 42, 7);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.has_eth, 1, "eth");
	ASSERT_EQ(pi.outer.family, 4, "family");
	ASSERT_EQ(pi.outer.ip_proto, 1, "proto");
	ASSERT_EQ(pi.outer.ip_id, 0x1234, "ip id");
	ASSERT_EQ(pi.outer.icmp_type, 8, "type");
	ASSERT_EQ(pi.outer.icmp_id, 42, "id");
	ASSERT_EQ(pi.outer.icmp_seq, 7, "seq");
	ASSERT_STREQ(pkt_proto_name(&pi), "ICMP", "name");
	pkt_summary(&pi, s, sizeof(s));
	ASSERT_STREQ(s, "10.0.0.1 -> 10.0.0.2 ICMP echo-request id=42 seq=7", "summary");
	pkt_addr_str(&pi.outer, 1, s, sizeof(s));
	ASSERT_STREQ(s, "10.0.0.2", "dst");
	ASSERT_TRUE(all_prefixes_ok(&p, 1), "prefixes");
}

TEST(dissect_truncated_fills_what_fits)
{
	struct pb p = {.n = 0};
	struct pkt_info pi;
	char s[160];

	put_eth(&p, 0x0800);
	put_ip4(&p, 6, IP_A, IP_B, 20, 1);
	put_tcp(&p, 41000, 80, 1000, 0, 0x02);
	/* cut inside the TCP header, after the ports */
	ASSERT_EQ(pkt_dissect(p.b, 14 + 20 + 6, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.outer.family, 4, "L3 present");
	ASSERT_EQ(pi.outer.has_l4, 0, "no L4");
	ASSERT_EQ(pi.outer.l4_truncated, 1, "flagged");
	ASSERT_EQ(pi.outer.dport, 80, "ports kept");
	pkt_summary(&pi, s, sizeof(s));
	ASSERT_STREQ(s, "10.0.0.1:41000 -> 10.0.0.2:80 TCP [truncated]", "summary");
	/* cut inside the IP header: Ethernet only */
	ASSERT_EQ(pkt_dissect(p.b, 20, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.has_eth, 1, "eth");
	ASSERT_EQ(pi.outer.family, 0, "no L3");
	ASSERT_EQ(pkt_dissect(p.b, 3, 1, &pi), 0, "dissect tiny");
	ASSERT_EQ(pi.has_eth, 0, "no eth");
	ASSERT_EQ(pkt_dissect(NULL, 0, 1, &pi), 0, "empty");
	ASSERT_EQ(pkt_dissect(p.b, p.n, 9999, &pi), -EPROTONOSUPPORT, "linktype");
	ASSERT_TRUE(all_prefixes_ok(&p, 1), "prefixes");
}

TEST(dissect_tcp_syn_and_data)
{
	struct pb p = {.n = 0};
	struct pkt_info pi;
	char s[160];

	put_eth(&p, 0x0800);
	put_ip4(&p, 6, IP_A, IP_B, 20 + 5, 1);
	put_tcp(&p, 41000, 80, 1000, 77, 0x18);
	putn(&p, "hello", 5);
	put16(&p, 0); /* Ethernet padding: not payload */
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.outer.has_l4, 1, "l4");
	ASSERT_EQ(pi.outer.tcp_flags, 0x18, "flags");
	ASSERT_EQ(pi.outer.tcp_seq, 1000, "seq");
	ASSERT_EQ(pi.outer.tcp_ack, 77, "ack");
	ASSERT_EQ(pi.outer.l4_payload_len, 5, "payload");
	pkt_summary(&pi, s, sizeof(s));
	ASSERT_STREQ(s, "10.0.0.1:41000 -> 10.0.0.2:80 TCP [P.] seq=1000 ack=77 len=5", "summary");
}

TEST(dissect_udp_dns)
{
	struct pb p = {.n = 0};
	struct pkt_info pi;
	char s[160];

	put_eth(&p, 0x0800);
	put_ip4(&p, 17, IP_A, IP_B, 8 + 12, 1);
	put_udp(&p, 5353, 53, 12);
	put16(&p, 0xbeef);
	put16(&p, 0x0100);
	put32(&p, 0x00010000);
	put32(&p, 0);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.outer.has_dns, 1, "dns");
	ASSERT_EQ(pi.outer.dns_id, 0xbeef, "id");
	ASSERT_EQ(pi.outer.dns_is_response, 0, "query");
	ASSERT_EQ(pi.outer.l4_payload_len, 12, "len");
	pkt_summary(&pi, s, sizeof(s));
	ASSERT_STREQ(s, "10.0.0.1:5353 -> 10.0.0.2:53 UDP DNS query id=0xbeef", "summary");
	p.b[14 + 20 + 8 + 2] |= 0x80;
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.outer.dns_is_response, 1, "response");
	/* DNS header cut: UDP is still there, DNS is not */
	ASSERT_EQ(pkt_dissect(p.b, p.n - 1, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.outer.has_l4, 1, "udp");
	ASSERT_EQ(pi.outer.has_dns, 0, "no dns");
	ASSERT_TRUE(all_prefixes_ok(&p, 1), "prefixes");
}

TEST(dissect_arp)
{
	struct pb p = {.n = 0};
	struct pkt_info pi;
	char s[160];
	static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 1};

	put_eth(&p, 0x0806);
	put16(&p, 1);
	put16(&p, 0x0800);
	put8(&p, 6);
	put8(&p, 4);
	put16(&p, 1);
	putn(&p, mac, 6);
	put32(&p, IP_A);
	putn(&p, "\0\0\0\0\0\0", 6);
	put32(&p, IP_B);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.is_arp, 1, "arp");
	ASSERT_EQ(pi.arp_op, 1, "op");
	ASSERT_EQ(pi.outer.family, 4, "family 4");
	ASSERT_MEMEQ(pi.arp_sha, mac, 6, "sha");
	ASSERT_EQ(pi.arp_tpa[3], 2, "tpa");
	ASSERT_STREQ(pkt_proto_name(&pi), "ARP", "name");
	pkt_summary(&pi, s, sizeof(s));
	ASSERT_STREQ(s, "ARP who-has 10.0.0.2 tell 10.0.0.1", "summary");
	p.b[14 + 7] = 2;
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	pkt_summary(&pi, s, sizeof(s));
	ASSERT_STREQ(s, "ARP 10.0.0.1 is-at 02:00:00:00:00:01", "reply");
	ASSERT_TRUE(all_prefixes_ok(&p, 1), "prefixes");
}

TEST(dissect_vlan_qinq)
{
	struct pb p = {.n = 0};
	struct pkt_info pi;

	put_eth(&p, 0x88a8);
	put16(&p, 100);
	put16(&p, 0x8100);
	put16(&p, 200);
	put16(&p, 0x0800);
	put_ip4(&p, 1, IP_A, IP_B, 8, 1);
	put_icmp_echo(&p, 0, 1, 2);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.vlan_count, 2, "tags");
	ASSERT_EQ(pi.vlan_id, 100, "outer vlan");
	ASSERT_EQ(pi.ethertype, 0x0800, "ethertype");
	ASSERT_EQ(pi.outer.icmp_type, 0, "echo reply");
	ASSERT_EQ(pi.outer.icmp_seq, 2, "seq");
	ASSERT_TRUE(all_prefixes_ok(&p, 1), "prefixes");
}

TEST(dissect_ipv6_ext_headers)
{
	struct pb p = {.n = 0};
	struct pkt_info pi;

	put_eth(&p, 0x86dd);
	put_ip6(&p, 0, 8 + 24 + 8 + 8 + 20);
	/* hop-by-hop, 8 bytes */
	put8(&p, 43);
	put8(&p, 0);
	put16(&p, 0);
	put32(&p, 0);
	/* routing, 24 bytes */
	put8(&p, 44);
	put8(&p, 2);
	put16(&p, 0);
	put32(&p, 0);
	for (int i = 0; i < 4; i++)
		put32(&p, 0);
	/* fragment: first fragment, id 0x12345678 */
	put8(&p, 60);
	put8(&p, 0);
	put16(&p, 0x0001);
	put32(&p, 0x12345678);
	/* destination options */
	put8(&p, 6);
	put8(&p, 0);
	put16(&p, 0);
	put32(&p, 0);
	put_tcp(&p, 1, 2, 3, 4, 0x02);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.outer.family, 6, "v6");
	ASSERT_EQ(pi.outer.ip_proto, 6, "tcp after ext");
	ASSERT_EQ(pi.outer.ip_id, 0x5678, "frag id");
	ASSERT_EQ(pi.outer.is_fragment, 0, "first fragment");
	ASSERT_EQ(pi.outer.has_l4, 1, "l4");
	ASSERT_EQ(pi.outer.dport, 2, "dport");
	ASSERT_EQ(pi.outer.tcp_seq, 3, "seq");
	ASSERT_TRUE(all_prefixes_ok(&p, 1), "prefixes");
	/* a later fragment has no L4 */
	p.b[14 + 40 + 8 + 24 + 2] = 0x01;
	p.b[14 + 40 + 8 + 24 + 3] = 0x00;
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.outer.is_fragment, 1, "fragment");
	ASSERT_EQ(pi.outer.has_l4, 0, "no l4");
}

TEST(dissect_icmpv6_echo_and_nd)
{
	struct pb p = {.n = 0};
	struct pkt_info pi;
	char s[200];

	put_eth(&p, 0x86dd);
	put_ip6(&p, 58, 8);
	put_icmp_echo(&p, 128, 5, 6);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.outer.icmp_type, 128, "type");
	ASSERT_EQ(pi.outer.icmp_id, 5, "id");
	ASSERT_STREQ(pkt_proto_name(&pi), "ICMPv6", "name");
	pkt_summary(&pi, s, sizeof(s));
	ASSERT_STREQ(s, "fd00::1 -> fd00::2 ICMPv6 echo-request id=5 seq=6", "summary");

	p.n = 0;
	put_eth(&p, 0x86dd);
	put_ip6(&p, 58, 24);
	put8(&p, 135);
	put8(&p, 0);
	put16(&p, 0);
	put32(&p, 0);
	putn(&p, ip6_b, 16);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.outer.has_nd_target, 1, "target");
	ASSERT_MEMEQ(pi.outer.nd_target, ip6_b, 16, "target value");
	pkt_summary(&pi, s, sizeof(s));
	ASSERT_STREQ(s, "fd00::1 -> fd00::2 ICMPv6 neighbor-solicitation who-has fd00::2", "ns");
	ASSERT_TRUE(all_prefixes_ok(&p, 1), "prefixes");
}

TEST(dissect_vxlan)
{
	struct pb p = {.n = 0};
	struct pkt_info pi;
	char s[200];

	put_eth(&p, 0x0800);
	put_ip4(&p, 17, 0xc0a80001, 0xc0a80002, 8 + 8 + 14 + 20 + 8, 9);
	put_udp(&p, 40000, 4789, 8 + 14 + 20 + 8);
	put32(&p, 0x08000000);
	put32(&p, 42 << 8);
	put_eth(&p, 0x0800);
	put_ip4(&p, 1, IP_A, IP_B, 8, 3);
	put_icmp_echo(&p, 8, 1, 1);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_STREQ(pi.encap, "vxlan", "encap");
	ASSERT_EQ(pi.encap_key, 42, "vni");
	ASSERT_EQ(pi.has_inner, 1, "inner");
	ASSERT_EQ(pi.inner.icmp_type, 8, "inner icmp");
	ASSERT_TRUE(pkt_innermost(&pi) == &pi.inner, "innermost");
	ASSERT_STREQ(pkt_proto_name(&pi), "ICMP", "name");
	pkt_summary(&pi, s, sizeof(s));
	ASSERT_STREQ(s,
		     "vxlan 192.168.0.1 -> 192.168.0.2 vni=42: 10.0.0.1 -> 10.0.0.2 ICMP "
		     "echo-request id=1 seq=1",
		     "summary");
	ASSERT_TRUE(all_prefixes_ok(&p, 1), "prefixes");
}

TEST(dissect_gre)
{
	struct pb p = {.n = 0};
	struct pkt_info pi;

	/* GRE with key, carrying IPv6 */
	put_eth(&p, 0x0800);
	put_ip4(&p, 47, 0xc0a80001, 0xc0a80002, 8 + 40 + 8, 9);
	put16(&p, 0x2000);
	put16(&p, 0x86dd);
	put32(&p, 1234);
	put_ip6(&p, 58, 8);
	put_icmp_echo(&p, 129, 7, 8);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_STREQ(pi.encap, "gre", "encap");
	ASSERT_EQ(pi.encap_key, 1234, "key");
	ASSERT_EQ(pi.inner.family, 6, "inner v6");
	ASSERT_EQ(pi.inner.icmp_type, 129, "echo reply");
	ASSERT_TRUE(all_prefixes_ok(&p, 1), "prefixes");

	/* GRE TEB (gretap) carrying Ethernet + ARP */
	p.n = 0;
	put_eth(&p, 0x0800);
	put_ip4(&p, 47, 0xc0a80001, 0xc0a80002, 4 + 14 + 28, 9);
	put16(&p, 0);
	put16(&p, 0x6558);
	put_eth(&p, 0x0806);
	put16(&p, 1);
	put16(&p, 0x0800);
	put8(&p, 6);
	put8(&p, 4);
	put16(&p, 2);
	putn(&p, "\2\0\0\0\0\1", 6);
	put32(&p, IP_A);
	putn(&p, "\2\0\0\0\0\2", 6);
	put32(&p, IP_B);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.inner.is_arp, 1, "inner arp");
	ASSERT_EQ(pi.inner.arp_op, 2, "op");
	ASSERT_STREQ(pkt_proto_name(&pi), "ARP", "name");
	ASSERT_TRUE(all_prefixes_ok(&p, 1), "prefixes");
}

TEST(dissect_ipip_and_sit)
{
	struct pb p = {.n = 0};
	struct pkt_info pi;

	put_eth(&p, 0x0800);
	put_ip4(&p, 4, 0xc0a80001, 0xc0a80002, 20 + 8, 9);
	put_ip4(&p, 17, IP_A, IP_B, 8, 10);
	put_udp(&p, 1000, 2000, 0);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_STREQ(pi.encap, "ipip", "ipip");
	ASSERT_EQ(pi.inner.dport, 2000, "inner udp");
	ASSERT_EQ(pi.inner.ip_id, 10, "inner id");

	p.n = 0;
	put_eth(&p, 0x0800);
	put_ip4(&p, 41, 0xc0a80001, 0xc0a80002, 40 + 8, 9);
	put_ip6(&p, 58, 8);
	put_icmp_echo(&p, 128, 1, 1);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_STREQ(pi.encap, "sit", "sit");
	ASSERT_EQ(pi.inner.family, 6, "inner v6");
	ASSERT_TRUE(all_prefixes_ok(&p, 1), "prefixes");
}

TEST(dissect_linktypes)
{
	struct pb ip = {.n = 0}, p = {.n = 0};
	struct pkt_info pi;

	put_ip4(&ip, 1, IP_A, IP_B, 8, 1);
	put_icmp_echo(&ip, 8, 1, 1);
	ASSERT_EQ(pkt_dissect(ip.b, ip.n, 101, &pi), 0, "raw 101");
	ASSERT_EQ(pi.outer.icmp_type, 8, "raw");
	ASSERT_EQ(pkt_dissect(ip.b, ip.n, 12, &pi), 0, "raw 12");
	ASSERT_EQ(pi.outer.family, 4, "raw 12");
	ASSERT_EQ(pkt_dissect(ip.b, ip.n, 14, &pi), 0, "raw 14");
	ASSERT_EQ(pi.outer.family, 4, "raw 14");

	/* SLL: packet type, arphrd, addr len, 8 bytes addr, protocol */
	put16(&p, 0);
	put16(&p, 1);
	put16(&p, 6);
	put32(&p, 0);
	put32(&p, 0);
	put16(&p, 0x0800);
	putn(&p, ip.b, ip.n);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 113, &pi), 0, "sll");
	ASSERT_EQ(pi.outer.icmp_id, 1, "sll icmp");
	ASSERT_TRUE(all_prefixes_ok(&p, 113), "prefixes sll");

	/* SLL2: protocol, reserved, ifindex, arphrd, type, addr len, 8 bytes addr */
	p.n = 0;
	put16(&p, 0x0800);
	put16(&p, 0);
	put32(&p, 3);
	put16(&p, 1);
	put8(&p, 0);
	put8(&p, 6);
	put32(&p, 0);
	put32(&p, 0);
	putn(&p, ip.b, ip.n);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 276, &pi), 0, "sll2");
	ASSERT_EQ(pi.outer.icmp_type, 8, "sll2 icmp");
	ASSERT_TRUE(all_prefixes_ok(&p, 276), "prefixes sll2");

	/* null: AF_INET in little-endian, then AF_INET6 (30) in big-endian */
	p.n = 0;
	putn(&p, "\2\0\0\0", 4);
	putn(&p, ip.b, ip.n);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 0, &pi), 0, "null");
	ASSERT_EQ(pi.outer.family, 4, "null v4");
	p.n = 0;
	put32(&p, 30);
	put_ip6(&p, 59, 0);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 0, &pi), 0, "null v6");
	ASSERT_EQ(pi.outer.family, 6, "null v6");
	ASSERT_STREQ(pkt_proto_name(&pi), "IPv6", "no next header");
	ASSERT_TRUE(all_prefixes_ok(&p, 0), "prefixes null");
}

TEST(dissect_random_bytes_no_crash)
{
	uint8_t buf[256];
	uint32_t x = 12345;
	static const uint32_t linktypes[] = {0, 1, 12, 14, 101, 108, 113, 276};

	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(round % 256);
		struct pkt_info pi;
		char s[64];

		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245 + 12345;
			buf[i] = (uint8_t)(x >> 16);
		}
		/* bias towards protocols that go deep */
		if (n > 14) {
			buf[12] = 0x08;
			buf[13] = (round & 1) ? 0x00 : 0x06;
			buf[14] = (round & 2) ? 0x45 : 0x60;
		}
		pkt_dissect(buf, n, linktypes[round % 8], &pi);
		pkt_summary(&pi, s, sizeof(s));
		pkt_summary(&pi, s, 0);
	}
	ASSERT_TRUE(1, "survived");
}

/* ---- link types and encapsulations of captures written elsewhere ---- */

TEST(dissect_linktype_ipv4_ipv6_ppp_chdlc)
{
	struct pb ip = {.n = 0}, ip6 = {.n = 0}, p = {.n = 0};
	struct pkt_info pi;

	put_ip4(&ip, 1, IP_A, IP_B, 8, 1);
	put_icmp_echo(&ip, 8, 21, 3);
	put_ip6(&ip6, 58, 8);
	put_icmp_echo(&ip6, 128, 22, 4);
	ASSERT_EQ(pkt_dissect(ip.b, ip.n, 228, &pi), 0, "LINKTYPE_IPV4");
	ASSERT_EQ(pi.outer.family, 4, "v4");
	ASSERT_EQ(pi.outer.icmp_id, 21, "echo id");
	ASSERT_STREQ(pkt_proto_name(&pi), "ICMP", "name");
	ASSERT_EQ(pkt_dissect(ip6.b, ip6.n, 228, &pi), 0, "IPv6 bytes on LINKTYPE_IPV4");
	ASSERT_EQ(pi.outer.family, 0, "not taken for IPv4");
	ASSERT_EQ(pkt_dissect(ip6.b, ip6.n, 229, &pi), 0, "LINKTYPE_IPV6");
	ASSERT_EQ(pi.outer.family, 6, "v6");
	ASSERT_EQ(pi.outer.icmp_seq, 4, "echo seq");
	ASSERT_TRUE(all_prefixes_ok(&ip, 228) && all_prefixes_ok(&ip6, 229), "prefixes");

	/* PPP with address/control, then without, then a compressed protocol */
	put16(&p, 0xff03);
	put16(&p, 0x0021);
	putn(&p, ip.b, ip.n);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 9, &pi), 0, "ppp");
	ASSERT_EQ(pi.outer.icmp_id, 21, "ppp icmp");
	ASSERT_EQ(pi.ethertype, 0x0800, "ppp ethertype");
	ASSERT_TRUE(all_prefixes_ok(&p, 9), "prefixes ppp");
	p.n = 0;
	put16(&p, 0x0057);
	putn(&p, ip6.b, ip6.n);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 50, &pi), 0, "ppp hdlc");
	ASSERT_EQ(pi.outer.family, 6, "ppp v6");
	p.n = 0;
	put8(&p, 0x21);
	putn(&p, ip.b, ip.n);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 9, &pi), 0, "ppp compressed");
	ASSERT_EQ(pi.outer.family, 4, "ppp 1-byte protocol");

	/* Cisco HDLC: unicast address, control 0, ethertype */
	p.n = 0;
	put16(&p, 0x0f00);
	put16(&p, 0x86dd);
	putn(&p, ip6.b, ip6.n);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 104, &pi), 0, "chdlc");
	ASSERT_EQ(pi.outer.icmp_id, 22, "chdlc icmpv6");
	ASSERT_TRUE(all_prefixes_ok(&p, 104), "prefixes chdlc");
}

TEST(dissect_geneve)
{
	struct pb p = {.n = 0};
	struct pkt_info pi;
	char s[200];

	/* Geneve with one 8-byte option, carrying Ethernet + TCP SYN */
	put_eth(&p, 0x0800);
	put_ip4(&p, 17, 0xc0a80001, 0xc0a80002, 8 + 16 + 14 + 20 + 20, 9);
	put_udp(&p, 40000, 6081, 16 + 14 + 20 + 20);
	put8(&p, 2); /* version 0, 2 words of options */
	put8(&p, 0);
	put16(&p, 0x6558);
	put32(&p, 0x00abcd00); /* VNI 0xabcd */
	put32(&p, 0x01020304); /* option class, type, length */
	put32(&p, 0xdeadbeef);
	put_eth(&p, 0x0800);
	put_ip4(&p, 6, IP_A, IP_B, 20, 10);
	put_tcp(&p, 41000, 80, 1000, 0, 0x02);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_STREQ(pi.encap, "geneve", "encap");
	ASSERT_EQ(pi.encap_key, 0xabcd, "vni");
	ASSERT_EQ(pi.encap_depth, 1, "one tunnel");
	ASSERT_EQ(pi.outer.dport, 6081, "outer udp");
	ASSERT_EQ(pi.inner.sport, 41000, "inner tcp");
	ASSERT_EQ(pi.inner.tcp_flags, 0x02, "syn");
	ASSERT_EQ(pkt_innermost(&pi), &pi.inner, "innermost");
	pkt_summary(&pi, s, sizeof(s));
	ASSERT_STREQ(s,
		     "geneve 192.168.0.1 -> 192.168.0.2 key=43981: 10.0.0.1:41000 -> 10.0.0.2:80 "
		     "TCP [S] seq=1000",
		     "summary");
	ASSERT_TRUE(all_prefixes_ok(&p, 1), "prefixes");
	/* version 1 is not Geneve as we know it: the UDP packet is all there is */
	p.b[14 + 20 + 8] |= 0x40;
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.has_inner, 0, "no inner for version 1");

	/* Geneve carrying IPv4 directly */
	p.n = 0;
	put_eth(&p, 0x0800);
	put_ip4(&p, 17, 0xc0a80001, 0xc0a80002, 8 + 8 + 20 + 8, 9);
	put_udp(&p, 40000, 6081, 8 + 20 + 8);
	put16(&p, 0);
	put16(&p, 0x0800);
	put32(&p, 0x00000700);
	put_ip4(&p, 1, IP_B, IP_A, 8, 11);
	put_icmp_echo(&p, 0, 5, 6);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.encap_key, 7, "vni 7");
	ASSERT_EQ(pi.inner.icmp_type, 0, "echo reply");
	ASSERT_EQ(pi.inner.icmp_seq, 6, "seq");
	ASSERT_TRUE(all_prefixes_ok(&p, 1), "prefixes");
}

TEST(dissect_gre_in_gre)
{
	struct pb p = {.n = 0};
	struct pkt_info pi;
	size_t middle_end;

	/* outer GRE with checksum, key and sequence number, inner GRE plain */
	put_eth(&p, 0x0800);
	put_ip4(&p, 47, 0xc0a80001, 0xc0a80002, 16 + 20 + 4 + 20 + 8, 9);
	put16(&p, 0xb000);
	put16(&p, 0x0800);
	put32(&p, 0);	/* checksum, reserved */
	put32(&p, 555); /* key */
	put32(&p, 1);	/* sequence */
	put_ip4(&p, 47, 0xac100001, 0xac100002, 4 + 20 + 8, 10);
	put16(&p, 0);
	put16(&p, 0x0800);
	middle_end = p.n;
	put_ip4(&p, 1, IP_A, IP_B, 8, 11);
	put_icmp_echo(&p, 8, 99, 1);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_STREQ(pi.encap, "gre", "encap");
	ASSERT_EQ(pi.encap_key, 555, "outermost key");
	ASSERT_EQ(pi.encap_depth, 2, "two tunnels");
	ASSERT_EQ(pi.outer.src[0], 192, "outer is the outermost");
	ASSERT_EQ(pi.inner.src[0], 10, "inner is the innermost");
	ASSERT_EQ(pi.inner.icmp_id, 99, "innermost echo");
	ASSERT_TRUE(all_prefixes_ok(&p, 1), "prefixes");
	/* the innermost packet cut away: the middle one is the innermost seen */
	ASSERT_EQ(pkt_dissect(p.b, middle_end, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.inner.src[0], 172, "middle layer kept");
	ASSERT_EQ(pi.encap_depth, 1, "reached through one tunnel");
	ASSERT_EQ(pi.inner.ip_proto, 47, "middle is GRE");
	/* routing present (RFC 1701): not followed */
	p.b[14 + 20] |= 0x40;
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.has_inner, 0, "no inner with routing");
}

TEST(dissect_nesting_is_bounded)
{
	struct pb p = {.n = 0};
	struct pkt_info pi;

	/* 20 IPIP headers, then UDP: dissection stops at 8 tunnels */
	for (int i = 0; i < 20; i++)
		put_ip4(&p, 4, 0x0a000100u + (uint32_t)i, IP_B, (unsigned)(19 - i) * 20 + 28, 1);
	put_ip4(&p, 17, IP_A, IP_B, 8, 1);
	put_udp(&p, 1, 2, 0);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 101, &pi), 0, "dissect");
	ASSERT_EQ(pi.encap_depth, 8, "depth bound");
	ASSERT_EQ(pi.inner.src[3], 8, "the 9th header is the innermost dissected");
	ASSERT_TRUE(all_prefixes_ok(&p, 101), "prefixes");
}

TEST(dissect_erspan)
{
	struct pb p = {.n = 0};
	struct pkt_info pi;

	/* type II: GRE with a sequence number, an 8-byte ERSPAN header, Ethernet */
	put_eth(&p, 0x0800);
	put_ip4(&p, 47, 0xc0a80001, 0xc0a80002, 8 + 8 + 14 + 20 + 8, 9);
	put16(&p, 0x1000);
	put16(&p, 0x88be);
	put32(&p, 7);
	put32(&p, 0x10640001); /* version 1, vlan 100, session 1 */
	put32(&p, 0);
	put_eth(&p, 0x0800);
	put_ip4(&p, 1, IP_A, IP_B, 8, 11);
	put_icmp_echo(&p, 8, 42, 1);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "type II");
	ASSERT_STREQ(pi.encap, "erspan", "encap");
	ASSERT_EQ(pi.inner.icmp_id, 42, "mirrored echo");
	ASSERT_TRUE(all_prefixes_ok(&p, 1), "prefixes II");

	/* type III with the 8-byte platform subheader (O bit) */
	p.n = 0;
	put_eth(&p, 0x0800);
	put_ip4(&p, 47, 0xc0a80001, 0xc0a80002, 8 + 20 + 14 + 20 + 8, 9);
	put16(&p, 0x1000);
	put16(&p, 0x22eb);
	put32(&p, 8);
	put32(&p, 0x20000001); /* version 2 */
	put32(&p, 0);	       /* timestamp */
	put32(&p, 0x00000001); /* SGT, P, FT, HW ID, D, Gra, O */
	put32(&p, 0);
	put32(&p, 0);
	put_eth(&p, 0x0800);
	put_ip4(&p, 1, IP_A, IP_B, 8, 11);
	put_icmp_echo(&p, 8, 43, 1);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "type III");
	ASSERT_EQ(pi.inner.icmp_id, 43, "mirrored echo III");
	ASSERT_TRUE(all_prefixes_ok(&p, 1), "prefixes III");

	/* type I: no sequence number, no ERSPAN header */
	p.n = 0;
	put_eth(&p, 0x0800);
	put_ip4(&p, 47, 0xc0a80001, 0xc0a80002, 4 + 14 + 20 + 8, 9);
	put16(&p, 0);
	put16(&p, 0x88be);
	put_eth(&p, 0x0800);
	put_ip4(&p, 1, IP_A, IP_B, 8, 11);
	put_icmp_echo(&p, 8, 44, 1);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "type I");
	ASSERT_EQ(pi.inner.icmp_id, 44, "mirrored echo I");
}

TEST(dissect_mpls)
{
	struct pb p = {.n = 0};
	struct pkt_info pi;
	char s[160];

	/* two labels, then IPv4 guessed from its version nibble */
	put_eth(&p, 0x8847);
	put32(&p, 16u << 12 | 64);	   /* label 16, TTL 64 */
	put32(&p, 17u << 12 | 0x100 | 64); /* label 17, bottom of stack */
	put_ip4(&p, 1, IP_A, IP_B, 8, 1);
	put_icmp_echo(&p, 8, 31, 2);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.mpls_count, 2, "labels");
	ASSERT_EQ(pi.mpls_label, 16, "outermost label");
	ASSERT_EQ(pi.outer.icmp_id, 31, "echo under MPLS");
	ASSERT_EQ(pi.has_inner, 0, "MPLS on Ethernet is not a tunnel");
	pkt_summary(&pi, s, sizeof(s));
	ASSERT_STREQ(s, "10.0.0.1 -> 10.0.0.2 ICMP echo-request id=31 seq=2 mpls=16", "summary");
	ASSERT_TRUE(all_prefixes_ok(&p, 1), "prefixes");

	/* IPv6 under one label on multicast MPLS */
	p.n = 0;
	put_eth(&p, 0x8848);
	put32(&p, 20u << 12 | 0x100 | 1);
	put_ip6(&p, 58, 8);
	put_icmp_echo(&p, 129, 1, 1);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.outer.family, 6, "v6 under MPLS");

	/* no bottom of stack within 16 labels: nothing below is read */
	p.n = 0;
	put_eth(&p, 0x8847);
	for (int i = 0; i < 20; i++)
		put32(&p, 0x45000000);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.outer.family, 0, "no L3");
	ASSERT_EQ(pi.mpls_count, 16, "label bound");

	/* MPLS over UDP (RFC 7510) is a tunnel */
	p.n = 0;
	put_eth(&p, 0x0800);
	put_ip4(&p, 17, 0xc0a80001, 0xc0a80002, 8 + 4 + 20 + 8, 9);
	put_udp(&p, 50000, 6635, 4 + 20 + 8);
	put32(&p, 300u << 12 | 0x100 | 1);
	put_ip4(&p, 1, IP_A, IP_B, 8, 1);
	put_icmp_echo(&p, 8, 32, 1);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_STREQ(pi.encap, "mpls-udp", "encap");
	ASSERT_EQ(pi.inner.icmp_id, 32, "inner echo");
	ASSERT_EQ(pi.mpls_label, 300, "label");
	ASSERT_TRUE(all_prefixes_ok(&p, 1), "prefixes");
}

TEST(dissect_pppoe_session)
{
	struct pb p = {.n = 0};
	struct pkt_info pi;

	put_eth(&p, 0x8864);
	put8(&p, 0x11);
	put8(&p, 0);
	put16(&p, 0x1234);
	put16(&p, 2 + 20 + 8 + 12);
	put16(&p, 0x0021);
	put_ip4(&p, 17, IP_A, IP_B, 8 + 12, 1);
	put_udp(&p, 5353, 53, 12);
	put16(&p, 0xcafe);
	put16(&p, 0x0100);
	put32(&p, 0x00010000);
	put32(&p, 0);
	put32(&p, 0); /* Ethernet padding after the PPPoE length */
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.has_pppoe, 1, "pppoe");
	ASSERT_EQ(pi.pppoe_session, 0x1234, "session");
	ASSERT_EQ(pi.outer.has_dns, 1, "dns under PPPoE");
	ASSERT_EQ(pi.outer.dns_id, 0xcafe, "dns id");
	ASSERT_TRUE(all_prefixes_ok(&p, 1), "prefixes");
	/* discovery stage (code != 0) carries no IP */
	p.b[15] = 0x09;
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.outer.family, 0, "PADI is not IP");
	/* PPP IPv6 */
	p.n = 0;
	put_eth(&p, 0x8864);
	put8(&p, 0x11);
	put8(&p, 0);
	put16(&p, 1);
	put16(&p, 2 + 40 + 8);
	put16(&p, 0x0057);
	put_ip6(&p, 58, 8);
	put_icmp_echo(&p, 128, 3, 4);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.outer.icmp_seq, 4, "v6 echo under PPPoE");
}

TEST(dissect_dns_over_tcp)
{
	struct pb p = {.n = 0};
	struct pkt_info pi;
	char s[160];

	put_eth(&p, 0x0800);
	put_ip4(&p, 6, IP_A, IP_B, 20 + 2 + 12, 1);
	put_tcp(&p, 41000, 53, 1, 1, 0x18);
	put16(&p, 12); /* message length */
	put16(&p, 0x4242);
	put16(&p, 0x8180); /* a response */
	put32(&p, 0x00010000);
	put32(&p, 0);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.outer.has_dns, 1, "dns");
	ASSERT_EQ(pi.outer.dns_id, 0x4242, "id after the length prefix");
	ASSERT_EQ(pi.outer.dns_is_response, 1, "response");
	pkt_summary(&pi, s, sizeof(s));
	ASSERT_STREQ(
	    s, "10.0.0.1:41000 -> 10.0.0.2:53 TCP [P.] seq=1 ack=1 len=14 DNS response id=0x4242",
	    "summary");
	ASSERT_TRUE(all_prefixes_ok(&p, 1), "prefixes");
	/* a length prefix too short for a DNS header: not DNS */
	p.b[14 + 20 + 20 + 1] = 4;
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.outer.has_dns, 0, "no dns with a 4-byte message");
}

TEST(dissect_ipnet_arcnet_gre_metadata)
{
	struct pb ip = {.n = 0}, p = {.n = 0};
	struct pkt_info pi;

	put_ip4(&ip, 1, IP_A, IP_B, 8, 1);
	put_icmp_echo(&ip, 8, 51, 1);
	/* Solaris IPNET: version, family 2 (26 for IPv6), 22 more bytes */
	put8(&p, 1);
	put8(&p, 2);
	for (int i = 0; i < 22; i++)
		put8(&p, 0);
	putn(&p, ip.b, ip.n);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 226, &pi), 0, "ipnet");
	ASSERT_EQ(pi.outer.icmp_id, 51, "ipnet echo");
	ASSERT_TRUE(all_prefixes_ok(&p, 226), "prefixes ipnet");

	/* ARCNET (Linux): src, dst, offset, RFC 1201 IPv4, split flag, sequence */
	p.n = 0;
	putn(&p, "\x01\xfe\x00\x00\xd4\x00\x00\x07", 8);
	putn(&p, ip.b, ip.n);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 129, &pi), 0, "arcnet 1201");
	ASSERT_EQ(pi.outer.icmp_id, 51, "arcnet 1201 echo");
	ASSERT_TRUE(all_prefixes_ok(&p, 129), "prefixes arcnet");
	/* an exception packet: split flag 0xff and 4 more bytes */
	p.n = 0;
	putn(&p, "\x01\xfe\x00\x00\xd4\xff\xd4\xff\xff\xff\x00\x07", 12);
	putn(&p, ip.b, ip.n);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 129, &pi), 0, "arcnet exception");
	ASSERT_EQ(pi.outer.icmp_id, 51, "arcnet exception echo");
	/* RFC 1051: no split flag; ARP with 1-byte hardware addresses */
	p.n = 0;
	putn(&p, "\x01\xfe\x00\x00\xf1", 5);
	put16(&p, 7); /* ARCNET */
	put16(&p, 0x0800);
	put8(&p, 1);
	put8(&p, 4);
	put16(&p, 1);
	put8(&p, 0x01);
	put32(&p, IP_A);
	put8(&p, 0x00);
	put32(&p, IP_B);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 129, &pi), 0, "arcnet arp");
	ASSERT_EQ(pi.outer.is_arp, 1, "arp");
	ASSERT_EQ(pi.outer.family, 4, "IPv4 addresses of a 1-byte hardware ARP");
	ASSERT_EQ(pi.outer.dst[3], 2, "target");
	ASSERT_TRUE(all_prefixes_ok(&p, 129), "prefixes arcnet arp");

	/* GRE carrying Cisco MetaData: the next ethertype comes first */
	p.n = 0;
	put_eth(&p, 0x0800);
	put_ip4(&p, 47, 0xc0a80001, 0xc0a80002, 8 + 8 + ip.n, 9);
	put16(&p, 0x2000);
	put16(&p, 0x8909);
	put32(&p, 40);
	put16(&p, 0x0800);
	put32(&p, 0x01010001);
	put16(&p, 0);
	putn(&p, ip.b, ip.n);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "gre cmd");
	ASSERT_EQ(pi.inner.icmp_id, 51, "echo behind the metadata");
	ASSERT_TRUE(all_prefixes_ok(&p, 1), "prefixes gre cmd");
}

/* An ICMP error quotes the packet it is about: its IP header and first transport bytes. */
TEST(dissect_icmp_error_quote)
{
	struct pb p = {.n = 0};
	struct pkt_info pi;

	put_eth(&p, 0x0800);
	put_ip4(&p, 1, IP_B, IP_A, 8 + 20 + 8, 0x99);
	put8(&p, 3); /* destination unreachable, port */
	put8(&p, 3);
	put16(&p, 0);
	put32(&p, 0);
	put_ip4(&p, 17, IP_A, IP_B, 18, 0x1234); /* the datagram, as sent: 10 bytes of payload */
	put16(&p, 40000);
	put16(&p, 9999);
	put16(&p, 18);
	put16(&p, 0);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect");
	ASSERT_EQ(pi.outer.icmp_type, 3, "type");
	ASSERT_EQ(pi.outer.icmp_code, 3, "code");
	ASSERT_EQ(pi.has_quote, 1, "quote");
	ASSERT_EQ(pi.quote.family, 4, "quoted family");
	ASSERT_EQ(pi.quote.ip_proto, 17, "quoted UDP");
	ASSERT_EQ(pi.quote.ip_id, 0x1234, "quoted IP id");
	ASSERT_EQ(pi.quote.sport, 40000, "quoted source port");
	ASSERT_EQ(pi.quote.dport, 9999, "quoted destination port");
	ASSERT_TRUE(!memcmp(pi.quote.src, pi.outer.dst, 4),
		    "quoted source = the error's destination");
	ASSERT_TRUE(all_prefixes_ok(&p, 1), "prefixes");

	/* ICMPv6 time exceeded quoting an echo request: id and sequence */
	p.n = 0;
	put_eth(&p, 0x86dd);
	put_ip6(&p, 58, 8 + 40 + 8);
	put8(&p, 3);
	put8(&p, 0);
	put16(&p, 0);
	put32(&p, 0);
	put_ip6(&p, 58, 8);
	put_icmp_echo(&p, 128, 77, 5);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect v6");
	ASSERT_EQ(pi.has_quote, 1, "v6 quote");
	ASSERT_EQ(pi.quote.family, 6, "quoted v6");
	ASSERT_EQ(pi.quote.icmp_type, 128, "quoted echo request");
	ASSERT_EQ(pi.quote.icmp_id, 77, "quoted id");
	ASSERT_EQ(pi.quote.icmp_seq, 5, "quoted seq");
	ASSERT_TRUE(all_prefixes_ok(&p, 1), "v6 prefixes");

	/* an echo request's payload is no quote */
	p.n = 0;
	put_eth(&p, 0x0800);
	put_ip4(&p, 1, IP_A, IP_B, 8 + 28, 1);
	put_icmp_echo(&p, 8, 1, 1);
	put_ip4(&p, 17, IP_A, IP_B, 8, 2);
	put32(&p, 0);
	put32(&p, 0);
	ASSERT_EQ(pkt_dissect(p.b, p.n, 1, &pi), 0, "dissect echo");
	ASSERT_EQ(pi.has_quote, 0, "no quote in an echo");
}
