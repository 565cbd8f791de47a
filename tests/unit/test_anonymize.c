// SPDX-License-Identifier: MIT
/* Anonymizer tests on hand-built packets, whole and cut at every length. */
#include "test.h"
#include "pktbuild.h"
#include "anonymize.h"
#include "trace.h"
#include "dissect.h"

#include <errno.h>
#include <stdlib.h>

static void fill_payload(struct pb *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(p, 0xa0 + (i % 16));
}

/* Distinctive unicast addresses, so a search for them cannot hit by chance. */
static const uint8_t mac_a[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t mac_b[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};
static const uint8_t mac_c[6] = {0x0a, 0x58, 0x0a, 0xf4, 0x01, 0x07};
static const uint8_t mac_d[6] = {0x0a, 0x58, 0x0a, 0xf4, 0x02, 0x09};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t ip_a[4] = {192, 168, 77, 10};
static const uint8_t ip_b[4] = {172, 23, 45, 67};
static const uint8_t ip_c[4] = {10, 244, 1, 7};
static const uint8_t ip_d[4] = {10, 244, 2, 9};
static const uint8_t ip6_a[16] = {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0,    1,
				  0,	0,    0,    0,	  0,	0,    0xbe, 0xef};
static const uint8_t ip6_b[16] = {0x20, 0x01, 0x0d, 0xb8, 0x56, 0x78, 0,    2,
				  0,	0,    0,    0,	  0,	0,    0xca, 0xfe};

static const uint8_t key1[32] = {1,  2,	 3,  4,	 5,  6,	 7,  8,	 9,  10, 11, 12, 13, 14, 15, 16,
				 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t key2[32] = {32, 31, 30, 29};

static void put_eth(struct pb *p, const uint8_t *dst, const uint8_t *src, unsigned type)
{
	putn(p, dst, 6);
	putn(p, src, 6);
	put16(p, type);
}

static void put_ip4(struct pb *p, unsigned proto, const uint8_t *src, const uint8_t *dst,
		    unsigned l4len)
{
	/* checksum 0xbeef: wrong on purpose, must be recomputed */
	pb_ip4(p, proto, (uint32_t)src[0] << 24 | src[1] << 16 | src[2] << 8 | src[3],
	       (uint32_t)dst[0] << 24 | dst[1] << 16 | dst[2] << 8 | dst[3], l4len, 0x1234, 0xbeef);
}

static void put_ip6(struct pb *p, unsigned nh, unsigned plen, const uint8_t *src,
		    const uint8_t *dst)
{
	pb_ip6(p, nh, plen, src, dst);
}

static void put_tcp(struct pb *p, unsigned flags, int with_opts)
{
	put16(p, 41000);
	put16(p, 80);
	put32(p, 1000);
	put32(p, 0);
	put8(p, (with_opts ? 8 : 5) << 4);
	put8(p, flags);
	put16(p, 65535);
	put16(p, 0x1111); /* checksum */
	put16(p, 0);
	if (with_opts) { /* MSS, NOP, NOP, SACK-permitted... 12 bytes */
		static const uint8_t o[12] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7};

		putn(p, o, sizeof(o));
	}
}

static uint32_t sum16(const uint8_t *b, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	return s;
}

static int csum_ok(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

static int cpl(const uint8_t *x, const uint8_t *y, unsigned nbits)
{
	for (unsigned i = 0; i < nbits; i++)
		if (((x[i / 8] ^ y[i / 8]) >> (7 - i % 8)) & 1)
			return (int)i;
	return (int)nbits;
}

static int contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t len)
{
	for (size_t i = 0; i + len <= n; i++)
		if (!memcmp(hay + i, needle, len))
			return 1;
	return 0;
}

/* Run the anonymizer on an exact-size heap copy (so ASan sees any overrun). */
static int anon_copy(struct pkt_anon *a, const uint8_t *pkt, size_t len, uint32_t lt, uint8_t *out,
		     uint32_t *newlen)
{
	uint8_t *c = malloc(len ? len : 1);
	int r;

	if (!c)
		return -ENOMEM;
	memcpy(c, pkt, len);
	r = pkt_anon_packet(a, c, (uint32_t)len, lt, newlen);
	memcpy(out, c, len);
	free(c);
	return r;
}

TEST(anon_siphash_reference_vectors)
{
	uint8_t k[16], m[15];

	for (int i = 0; i < 16; i++)
		k[i] = (uint8_t)i;
	for (int i = 0; i < 15; i++)
		m[i] = (uint8_t)i;
	/* the paper's appendix example, and the first of the reference vectors */
	ASSERT_U64_EQ(pkt_siphash24(k, m, 15), 0xa129ca6149be45e5ull, "15-byte message");
	ASSERT_U64_EQ(pkt_siphash24(k, m, 0), 0x726fdb47dd0e0e31ull, "empty message");
	ASSERT_U64_EQ(pkt_siphash24(k, m, 8), 0x93f5f5799a932462ull, "8-byte message");
}

TEST(anon_consistent_per_key)
{
	struct pkt_anon *a, *b;
	uint8_t o1[16], o2[16], o3[16];

	ASSERT_OK(pkt_anon_new(&a, key1), "new");
	ASSERT_OK(pkt_anon_new(&b, key2), "new 2");
	pkt_anon_ip4(a, ip_a, o1);
	pkt_anon_ip4(a, ip_b, o3);
	pkt_anon_ip4(a, ip_a, o2);
	ASSERT_MEMEQ(o1, o2, 4, "same IPv4 twice");
	ASSERT_TRUE(memcmp(o1, ip_a, 4) != 0, "IPv4 changed");
	ASSERT_TRUE(memcmp(o1, o3, 4) != 0, "two IPv4 stay two");
	pkt_anon_ip4(b, ip_a, o2);
	ASSERT_TRUE(memcmp(o1, o2, 4) != 0, "other key, other IPv4");

	pkt_anon_ip6(a, ip6_a, o1);
	pkt_anon_ip6(a, ip6_a, o2);
	ASSERT_MEMEQ(o1, o2, 16, "same IPv6 twice");
	ASSERT_TRUE(memcmp(o1, ip6_a, 16) != 0, "IPv6 changed");
	pkt_anon_ip6(b, ip6_a, o2);
	ASSERT_TRUE(memcmp(o1, o2, 16) != 0, "other key, other IPv6");

	pkt_anon_mac(a, mac_a, o1);
	pkt_anon_mac(a, mac_a, o2);
	ASSERT_MEMEQ(o1, o2, 6, "same MAC twice");
	ASSERT_TRUE(memcmp(o1, mac_a, 6) != 0, "MAC changed");
	ASSERT_EQ(o1[0] & 3, mac_a[0] & 3, "I/G and U/L bits kept");
	pkt_anon_mac(b, mac_a, o2);
	ASSERT_TRUE(memcmp(o1, o2, 6) != 0, "other key, other MAC");

	/* the cache must not change answers: flood it, then ask again */
	pkt_anon_ip4(a, ip_a, o1);
	for (uint32_t i = 0; i < 20000; i++) {
		uint8_t x[4] = {(uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8),
				(uint8_t)i};

		pkt_anon_ip4(a, x, o3);
	}
	pkt_anon_ip4(a, ip_a, o2);
	ASSERT_MEMEQ(o1, o2, 4, "same after cache eviction");

	ASSERT_TRUE(pkt_anon_skb(a, 0xffff888012345600ull) ==
			pkt_anon_skb(a, 0xffff888012345600ull),
		    "skb consistent");
	pkt_anon_free(a);
	pkt_anon_free(b);
}

static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

TEST(anon_prefix_preserving)
{
	struct pkt_anon *a;
	uint8_t x[16], y[16], ox[16], oy[16];
	uint32_t seed = 42;

	ASSERT_OK(pkt_anon_new(&a, key1), "new");
	/* a /24 (plus one bit: .10 and .20 agree on bit 24) and a /48 */
	static const uint8_t n1[4] = {192, 168, 77, 20};

	pkt_anon_ip4(a, ip_a, ox);
	pkt_anon_ip4(a, n1, oy);
	ASSERT_EQ(cpl(ox, oy, 32), cpl(ip_a, n1, 32), "192.168.77.10 vs .20");
	ASSERT_EQ(cpl(ip_a, n1, 32), 27, "the test's own arithmetic");
	memcpy(x, ip6_a, 16);
	memcpy(y, ip6_a, 16);
	y[6] = 0x80; /* same /48, differ at bit 48 */
	pkt_anon_ip6(a, x, ox);
	pkt_anon_ip6(a, y, oy);
	ASSERT_EQ(cpl(ox, oy, 128), 48, "IPv6 /48 kept exactly");

	for (int t = 0; t < 300; t++) {
		unsigned k = lcg(&seed) % 32;

		for (int i = 0; i < 4; i++)
			x[i] = y[i] = (uint8_t)lcg(&seed);
		x[0] = (uint8_t)((x[0] & 0x7f) | 0x01); /* unicast, not a fixed point */
		memcpy(y, x, 4);
		y[k / 8] ^= (uint8_t)(0x80 >> (k % 8));
		for (unsigned i = k + 1; i < 32; i++) /* random tail after the split */
			if (lcg(&seed) & 1)
				y[i / 8] ^= (uint8_t)(0x80 >> (i % 8));
		pkt_anon_ip4(a, x, ox);
		pkt_anon_ip4(a, y, oy);
		ASSERT_EQ(cpl(ox, oy, 32), (long long)k, "IPv4 random pair");
	}
	for (int t = 0; t < 100; t++) {
		unsigned k = lcg(&seed) % 128;

		for (int i = 0; i < 16; i++)
			x[i] = (uint8_t)lcg(&seed);
		x[0] = 0x20 | (x[0] & 0x1f); /* 2000::/3 */
		memcpy(y, x, 16);
		y[k / 8] ^= (uint8_t)(0x80 >> (k % 8));
		pkt_anon_ip6(a, x, ox);
		pkt_anon_ip6(a, y, oy);
		ASSERT_EQ(cpl(ox, oy, 128), (long long)k, "IPv6 random pair");
	}
	pkt_anon_free(a);
}

TEST(anon_special_addresses)
{
	struct pkt_anon *a;
	uint8_t o[16];
	static const uint8_t zero4[4], bc4[4] = {255, 255, 255, 255}, mdns[4] = {224, 0, 0, 251};
	static const uint8_t zmac[6], v4mc[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb};
	static const uint8_t all_nodes[16] = {0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	static const uint8_t snode[16] = {0xff, 2, 0, 0, 0,    0,    0,	   0,
					  0,	0, 0, 1, 0xff, 0x12, 0x34, 0x56};
	static const uint8_t ll[16] = {0xfe, 0x80, 0, 0,    0,	  0,	0,    0,
				       0x50, 0x54, 0, 0xff, 0xfe, 0x12, 0x34, 0x56};
	static const uint8_t smac[6] = {0x33, 0x33, 0xff, 0x12, 0x34, 0x56};

	ASSERT_OK(pkt_anon_new(&a, key1), "new");
	pkt_anon_ip4(a, zero4, o);
	ASSERT_MEMEQ(o, zero4, 4, "0.0.0.0");
	pkt_anon_ip4(a, bc4, o);
	ASSERT_MEMEQ(o, bc4, 4, "255.255.255.255");
	pkt_anon_ip4(a, mdns, o);
	ASSERT_MEMEQ(o, mdns, 4, "multicast group");
	pkt_anon_ip4(a, ip_c, o);
	ASSERT_TRUE(o[0] < 128, "class A stays class A");
	pkt_anon_ip6(a, all_nodes, o);
	ASSERT_MEMEQ(o, all_nodes, 16, "ff02::1");
	pkt_anon_ip6(a, snode, o);
	ASSERT_MEMEQ(o, snode, 13, "solicited-node prefix");
	ASSERT_TRUE(memcmp(o + 13, snode + 13, 3) != 0, "solicited-node low bits anonymized");
	pkt_anon_ip6(a, ll, o);
	ASSERT_EQ(o[0], 0xfe, "link-local");
	ASSERT_EQ(o[1] & 0xc0, 0x80, "link-local /10");
	ASSERT_TRUE(memcmp(o, ll, 16) != 0, "link-local anonymized");
	pkt_anon_mac(a, zmac, o);
	ASSERT_MEMEQ(o, zmac, 6, "zero MAC");
	pkt_anon_mac(a, bcast, o);
	ASSERT_MEMEQ(o, bcast, 6, "broadcast MAC");
	pkt_anon_mac(a, v4mc, o);
	ASSERT_MEMEQ(o, v4mc, 6, "multicast MAC");
	pkt_anon_mac(a, smac, o);
	ASSERT_MEMEQ(o, smac, 3, "33:33:ff kept");
	ASSERT_TRUE(memcmp(o + 3, smac + 3, 3) != 0, "solicited-node MAC anonymized");

	uint64_t s = pkt_anon_skb(a, 0xffff888012345600ull);

	ASSERT_TRUE(s != 0xffff888012345600ull, "skb changed");
	ASSERT_TRUE((s >> 48) == 0xffff, "skb still reads like a kernel pointer");
	ASSERT_TRUE(pkt_anon_skb(a, 0xffff888012345700ull) != s, "two skbs stay two");
	pkt_anon_free(a);
}

/* eth + IPv4 + TCP with options + 100 bytes of payload */
static void build_tcp(struct pb *p, unsigned flags, size_t payload)
{
	put_eth(p, mac_b, mac_a, 0x0800);
	put_ip4(p, 6, ip_a, ip_b, (unsigned)(32 + payload));
	put_tcp(p, flags, 1);
	fill_payload(p, payload);
}

TEST(anon_ipv4_tcp_rewrite_checksum_and_cut)
{
	struct pkt_anon *a;
	struct pb p = {0};
	uint8_t out[512], e[16];
	uint32_t n;

	ASSERT_OK(pkt_anon_new(&a, key1), "new");
	build_tcp(&p, 0x18, 100);
	ASSERT_OK(anon_copy(a, p.b, p.n, 1, out, &n), "anon");
	ASSERT_EQ(n, 14 + 20 + 32, "cut after the TCP options");
	pkt_anon_mac(a, mac_b, e);
	ASSERT_MEMEQ(out, e, 6, "eth dst");
	pkt_anon_mac(a, mac_a, e);
	ASSERT_MEMEQ(out + 6, e, 6, "eth src");
	pkt_anon_ip4(a, ip_a, e);
	ASSERT_MEMEQ(out + 26, e, 4, "ip src");
	pkt_anon_ip4(a, ip_b, e);
	ASSERT_MEMEQ(out + 30, e, 4, "ip dst");
	ASSERT_TRUE(csum_ok(sum16(out + 14, 20, 0)), "IPv4 header checksum valid");
	ASSERT_EQ(out[14 + 20 + 16] | out[14 + 20 + 17], 0, "TCP checksum zeroed (payload gone)");
	ASSERT_MEMEQ(out + 34, p.b + 34, 16, "TCP ports/seq/flags kept");
	ASSERT_MEMEQ(out + 54, p.b + 54, 12, "TCP options kept");
	for (size_t i = n; i < p.n; i++)
		ASSERT_EQ(out[i], 0, "tail zeroed");
	pkt_anon_free(a);
}

TEST(anon_tcp_syn_checksum_recomputed)
{
	struct pkt_anon *a;
	struct pb p = {0};
	uint8_t out[512];
	uint32_t n;

	ASSERT_OK(pkt_anon_new(&a, key1), "new");
	build_tcp(&p, 0x02, 0);
	ASSERT_OK(anon_copy(a, p.b, p.n, 1, out, &n), "anon");
	ASSERT_EQ(n, p.n, "nothing to cut");
	uint32_t s = sum16(out + 26, 8, 0) + 6 + 32;

	ASSERT_TRUE(csum_ok(sum16(out + 34, 32, s)), "TCP checksum valid over the new addresses");
	pkt_anon_free(a);
}

TEST(anon_payload_cut)
{
	struct pkt_anon *a;
	struct pb p = {0};
	uint8_t out[512];
	uint32_t n;
	static const char qname[] = "\x06secret\x07example\x03org";

	ASSERT_OK(pkt_anon_new(&a, key1), "new");
	/* DNS query: names must go */
	put_eth(&p, mac_b, mac_a, 0x0800);
	put_ip4(&p, 17, ip_a, ip_b, 8 + 12 + sizeof(qname) + 4);
	put16(&p, 53000);
	put16(&p, 53);
	put16(&p, 8 + 12 + sizeof(qname) + 4);
	put16(&p, 0x7777);
	put16(&p, 0x1234);
	put16(&p, 0x0100);
	put16(&p, 1);
	put16(&p, 0);
	put32(&p, 0);
	putn(&p, qname, sizeof(qname));
	put32(&p, 0x00010001);
	ASSERT_OK(anon_copy(a, p.b, p.n, 1, out, &n), "anon dns");
	ASSERT_EQ(n, 14 + 20 + 8, "cut after the UDP header");
	ASSERT_EQ(out[40] | out[41], 0, "UDP checksum zeroed");
	ASSERT_TRUE(!contains(out, p.n, (const uint8_t *)"secret", 6), "name gone");

	/* LLDP: Ethernet header only */
	p.n = 0;
	put_eth(&p, mac_b, mac_a, 0x88cc);
	fill_payload(&p, 60);
	ASSERT_OK(anon_copy(a, p.b, p.n, 1, out, &n), "anon lldp");
	ASSERT_EQ(n, 14, "non-IP: Ethernet header only");

	/* SCTP: L3 header only */
	p.n = 0;
	put_eth(&p, mac_b, mac_a, 0x0800);
	put_ip4(&p, 132, ip_a, ip_b, 60);
	fill_payload(&p, 60);
	ASSERT_OK(anon_copy(a, p.b, p.n, 1, out, &n), "anon sctp");
	ASSERT_EQ(n, 34, "unknown L4: IP header only");

	/* ICMP echo: 8 bytes */
	p.n = 0;
	put_eth(&p, mac_b, mac_a, 0x0800);
	put_ip4(&p, 1, ip_a, ip_b, 64);
	put8(&p, 8);
	put8(&p, 0);
	put16(&p, 0x5555);
	put16(&p, 42);
	put16(&p, 1);
	fill_payload(&p, 56);
	ASSERT_OK(anon_copy(a, p.b, p.n, 1, out, &n), "anon echo");
	ASSERT_EQ(n, 42, "ICMP: 8-byte header");
	ASSERT_EQ(out[38] << 8 | out[39], 42, "echo id kept");
	pkt_anon_free(a);
}

static void build_arp(struct pb *p, unsigned op)
{
	static const uint8_t zmac[6];

	put_eth(p, op == 1 ? bcast : mac_b, mac_a, 0x0806);
	put16(p, 1);
	put16(p, 0x0800);
	put8(p, 6);
	put8(p, 4);
	put16(p, op);
	putn(p, mac_a, 6);
	putn(p, ip_a, 4);
	putn(p, op == 1 ? zmac : mac_b, 6);
	putn(p, ip_b, 4);
	fill_payload(p, 18); /* Ethernet padding */
}

TEST(anon_arp)
{
	struct pkt_anon *a;
	struct pb p = {0};
	uint8_t out[512], e[16];
	static const uint8_t zmac[6];
	uint32_t n;

	ASSERT_OK(pkt_anon_new(&a, key1), "new");
	build_arp(&p, 1);
	ASSERT_OK(anon_copy(a, p.b, p.n, 1, out, &n), "anon");
	ASSERT_EQ(n, 14 + 28, "padding cut");
	ASSERT_MEMEQ(out, bcast, 6, "broadcast stays broadcast");
	pkt_anon_mac(a, mac_a, e);
	ASSERT_MEMEQ(out + 6, e, 6, "eth src");
	ASSERT_MEMEQ(out + 22, e, 6, "sha = same pseudonym as eth src");
	pkt_anon_ip4(a, ip_a, e);
	ASSERT_MEMEQ(out + 28, e, 4, "spa");
	ASSERT_MEMEQ(out + 32, zmac, 6, "tha zero stays zero");
	pkt_anon_ip4(a, ip_b, e);
	ASSERT_MEMEQ(out + 38, e, 4, "tpa");
	ASSERT_MEMEQ(out + 14, p.b + 14, 8, "ARP header kept");
	pkt_anon_free(a);
}

/* Neighbor solicitation for ip6_b from ip6_a with a source link-layer option. */
static void build_ns(struct pb *p)
{
	uint8_t snode[16] = {0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};
	uint8_t dmac[6] = {0x33, 0x33, 0xff};

	memcpy(snode + 13, ip6_b + 13, 3);
	memcpy(dmac + 3, ip6_b + 13, 3);
	put_eth(p, dmac, mac_a, 0x86dd);
	put_ip6(p, 58, 32, ip6_a, snode);
	put8(p, 135);
	put8(p, 0);
	put16(p, 0);
	put32(p, 0);
	putn(p, ip6_b, 16);
	put8(p, 1);
	put8(p, 1);
	putn(p, mac_a, 6);
}

TEST(anon_ipv6_neighbor_solicitation)
{
	struct pkt_anon *a;
	struct pb p = {0};
	uint8_t out[512], e[16];
	uint32_t n;

	ASSERT_OK(pkt_anon_new(&a, key1), "new");
	build_ns(&p);
	ASSERT_OK(anon_copy(a, p.b, p.n, 1, out, &n), "anon");
	ASSERT_EQ(n, p.n, "ND message kept whole");
	pkt_anon_ip6(a, ip6_a, e);
	ASSERT_MEMEQ(out + 22, e, 16, "src");
	ASSERT_MEMEQ(out + 38, p.b + 38, 13, "solicited-node prefix");
	ASSERT_TRUE(memcmp(out + 51, ip6_b + 13, 3) != 0, "solicited-node low bits changed");
	ASSERT_TRUE(memcmp(out + 3, ip6_b + 13, 3) != 0, "33:33:ff MAC low bits changed");
	pkt_anon_ip6(a, ip6_b, e);
	ASSERT_MEMEQ(out + 54 + 8, e, 16, "ND target");
	pkt_anon_mac(a, mac_a, e);
	ASSERT_MEMEQ(out + 54 + 26, e, 6, "source link-layer option");
	ASSERT_MEMEQ(out + 6, e, 6, "eth src, same pseudonym");
	uint32_t s = sum16(out + 22, 32, 0) + 58 + 32;

	ASSERT_TRUE(csum_ok(sum16(out + 54, 32, s)), "ICMPv6 checksum recomputed");
	pkt_anon_free(a);
}

/* VXLAN: outer eth/IPv4/UDP/VXLAN, inner eth/IPv4/TCP with payload */
static void build_vxlan(struct pb *p)
{
	put_eth(p, mac_b, mac_a, 0x0800);
	put_ip4(p, 17, ip_a, ip_b, 8 + 8 + 14 + 20 + 32 + 40);
	put16(p, 50000);
	put16(p, 4789);
	put16(p, 8 + 8 + 14 + 20 + 32 + 40);
	put16(p, 0x4242);
	put32(p, 0x08000000);
	put32(p, 42 << 8);
	put_eth(p, mac_d, mac_c, 0x0800);
	put_ip4(p, 6, ip_c, ip_d, 32 + 40);
	put_tcp(p, 0x18, 1);
	fill_payload(p, 40);
}

TEST(anon_vxlan_inner)
{
	struct pkt_anon *a;
	struct pb p = {0};
	uint8_t out[512], e[16];
	uint32_t n;
	size_t in = 14 + 20 + 8 + 8;

	ASSERT_OK(pkt_anon_new(&a, key1), "new");
	build_vxlan(&p);
	ASSERT_OK(anon_copy(a, p.b, p.n, 1, out, &n), "anon");
	ASSERT_EQ(n, in + 14 + 20 + 32, "cut after the inner TCP header");
	pkt_anon_ip4(a, ip_a, e);
	ASSERT_MEMEQ(out + 26, e, 4, "outer src");
	pkt_anon_mac(a, mac_c, e);
	ASSERT_MEMEQ(out + in + 6, e, 6, "inner eth src");
	pkt_anon_mac(a, mac_d, e);
	ASSERT_MEMEQ(out + in, e, 6, "inner eth dst");
	pkt_anon_ip4(a, ip_c, e);
	ASSERT_MEMEQ(out + in + 26, e, 4, "inner src");
	pkt_anon_ip4(a, ip_d, e);
	ASSERT_MEMEQ(out + in + 30, e, 4, "inner dst");
	ASSERT_TRUE(csum_ok(sum16(out + in + 14, 20, 0)), "inner IPv4 checksum");
	ASSERT_TRUE(csum_ok(sum16(out + 14, 20, 0)), "outer IPv4 checksum");
	ASSERT_MEMEQ(out + 42, p.b + 42, 8, "VXLAN header (VNI) kept");
	pkt_anon_free(a);
}

/* ICMP port unreachable quoting an IPv4/UDP packet */
static void build_icmp_err(struct pb *p)
{
	put_eth(p, mac_a, mac_b, 0x0800);
	put_ip4(p, 1, ip_b, ip_a, 8 + 20 + 8 + 20);
	put8(p, 3);
	put8(p, 3);
	put16(p, 0x9999);
	put32(p, 0);
	put_ip4(p, 17, ip_a, ip_b, 28);
	put16(p, 40000);
	put16(p, 9);
	put16(p, 28);
	put16(p, 0x7777);
	fill_payload(p, 20);
}

TEST(anon_icmp_error_embedded)
{
	struct pkt_anon *a;
	struct pb p = {0};
	uint8_t out[512], e[16];
	uint32_t n;

	ASSERT_OK(pkt_anon_new(&a, key1), "new");
	build_icmp_err(&p);
	ASSERT_OK(anon_copy(a, p.b, p.n, 1, out, &n), "anon");
	ASSERT_EQ(n, 14 + 20 + 8 + 20 + 8, "embedded header + 8 bytes kept");
	pkt_anon_ip4(a, ip_a, e);
	ASSERT_MEMEQ(out + 42 + 12, e, 4, "embedded src");
	ASSERT_MEMEQ(out + 30, e, 4, "outer dst, same pseudonym");
	pkt_anon_ip4(a, ip_b, e);
	ASSERT_MEMEQ(out + 42 + 16, e, 4, "embedded dst");
	ASSERT_TRUE(csum_ok(sum16(out + 42, 20, 0)), "embedded IPv4 checksum");
	ASSERT_EQ(out[62 + 6] | out[62 + 7], 0, "embedded UDP checksum zeroed");
	ASSERT_EQ(out[36] | out[37], 0, "ICMP checksum zeroed");
	ASSERT_EQ(out[62] << 8 | out[63], 40000, "embedded ports kept");
	pkt_anon_free(a);
}

/* IPv4 with a record-route option holding an address; GRE TEB inner frame */
static void build_rr_gre(struct pb *p)
{
	put_eth(p, mac_b, mac_a, 0x0800);
	put8(p, 0x48); /* IHL 8: 12 bytes of options */
	put8(p, 0);
	put16(p, 32 + 4 + 14 + 20 + 8);
	put32(p, 0);
	put8(p, 64);
	put8(p, 47);
	put16(p, 0);
	putn(p, ip_a, 4);
	putn(p, ip_b, 4);
	put8(p, 7); /* RR */
	put8(p, 11);
	put8(p, 12);
	putn(p, ip_c, 4);
	putn(p, ip_d, 4);
	put8(p, 0);
	put16(p, 0);
	put16(p, 0x6558);
	put_eth(p, mac_d, mac_c, 0x86dd);
	put_ip6(p, 17, 8, ip6_a, ip6_b);
	put16(p, 1);
	put16(p, 2);
	put16(p, 8);
	put16(p, 0);
}

TEST(anon_truncated_at_every_length)
{
	static const uint8_t *const addrs[] = {mac_a, mac_b, mac_c, mac_d, ip_a,
					       ip_b,  ip_c,  ip_d,  ip6_a, ip6_b};
	static const size_t alen[] = {6, 6, 6, 6, 4, 4, 4, 4, 16, 16};
	struct pkt_anon *a;
	uint8_t out[512];
	uint32_t n;

	ASSERT_OK(pkt_anon_new(&a, key1), "new");
	for (int which = 0; which < 6; which++) {
		struct pb p = {0};

		if (which == 0)
			build_vxlan(&p);
		else if (which == 1)
			build_ns(&p);
		else if (which == 2)
			build_arp(&p, 2);
		else if (which == 3)
			build_icmp_err(&p);
		else if (which == 4)
			build_rr_gre(&p);
		else
			build_tcp(&p, 0x02, 0);
		for (size_t len = 0; len <= p.n; len++) {
			for (uint32_t lt = 1; lt <= 101; lt += 100) {
				/* raw IP: the same packet without its Ethernet header */
				size_t skip = lt == 101 ? 14 : 0;

				if (len < skip)
					continue;
				memset(out, 0x5a, sizeof(out));
				ASSERT_OK(anon_copy(a, p.b + skip, len - skip, lt, out, &n),
					  "anon");
				ASSERT_TRUE(n <= len - skip, "never grows");
				for (size_t k = 0; k < sizeof(addrs) / sizeof(addrs[0]); k++)
					if (contains(out, len - skip, addrs[k], alen[k])) {
						printf("  packet %d len %zu linktype %u: address "
						       "%zu\n",
						       which, len, lt, k);
						ASSERT_TRUE(0, "an original address survived");
					}
			}
		}
	}
	pkt_anon_free(a);
}

TEST(anon_partial_address_zeroed)
{
	struct pkt_anon *a;
	struct pb p = {0};
	uint8_t out[512];
	uint32_t n;

	ASSERT_OK(pkt_anon_new(&a, key1), "new");
	build_tcp(&p, 0x02, 0);
	/* cut 2 bytes into the IPv4 source, then 3 bytes into the Ethernet source */
	ASSERT_OK(anon_copy(a, p.b, 14 + 12 + 2, 1, out, &n), "anon");
	ASSERT_EQ(n, 28, "all of it is header");
	ASSERT_EQ(out[26] | out[27], 0, "half an address is zeroed");
	ASSERT_EQ(out[24] | out[25], 0, "the old header checksum too");
	ASSERT_OK(anon_copy(a, p.b, 9, 1, out, &n), "anon");
	ASSERT_EQ(n, 9, "all of it is header");
	ASSERT_EQ(out[6] | out[7] | out[8], 0, "half a MAC is zeroed");
	pkt_anon_free(a);
}

TEST(anon_linktypes)
{
	struct pkt_anon *a;
	struct pb p = {0};
	uint8_t out[512], e[16];
	uint32_t n;

	ASSERT_OK(pkt_anon_new(&a, key1), "new");
	/* SLL2: protocol, reserved, ifindex, hatype, pkttype, halen, address */
	put16(&p, 0x0800);
	put16(&p, 0);
	put32(&p, 7);
	put16(&p, 1);
	put8(&p, 0);
	put8(&p, 6);
	putn(&p, mac_a, 6);
	put16(&p, 0);
	put_ip4(&p, 1, ip_a, ip_b, 8);
	put32(&p, 0x08000000);
	put32(&p, 0x00010001);
	ASSERT_OK(anon_copy(a, p.b, p.n, 276, out, &n), "sll2");
	ASSERT_EQ(n, p.n, "whole");
	pkt_anon_mac(a, mac_a, e);
	ASSERT_MEMEQ(out + 12, e, 6, "SLL2 address");
	pkt_anon_ip4(a, ip_a, e);
	ASSERT_MEMEQ(out + 20 + 12, e, 4, "src");
	ASSERT_TRUE(csum_ok(sum16(out + 40, 8, 0)), "whole ICMP message: checksum recomputed");

	memcpy(out, p.b, p.n);
	ASSERT_EQ(pkt_anon_packet(a, out, (uint32_t)p.n, 147, &n), -EPROTONOSUPPORT,
		  "unknown link type");
	ASSERT_EQ(n, 0, "nothing kept");
	ASSERT_TRUE(!contains(out, p.n, ip_a, 4), "and the buffer wiped");
	ASSERT_EQ(pkt_anon_packet(a, NULL, 0, 1, &n), 0, "empty");
	ASSERT_EQ(pkt_anon_packet(NULL, out, 4, 1, &n), -EINVAL, "no anonymizer");
	pkt_anon_free(a);
}

TEST(anon_comment_skb_only)
{
	struct pkt_anon *a, *b;
	char out[512], out2[512], out3[512];
	struct trace_hop c1, c2;
	static const char in[] =
	    "hook=net:netif_rx netns=4026532328 if=eth%200 ifindex=7 "
	    "skb=0xffff888012345600 track=0x2a cpu=1 pid=2570 comm=Web%20Content "
	    "drop=NETFILTER_DROP l2=synth future=x%3Dy";
	static const char in2[] = "hook=net:net_dev_queue netns=1 if=veth0 ifindex=3 "
				  "skb=0xffff888012345600 track=0x2a cpu=0 pid=0 comm=-";
	static const char in3[] = "hook=net:net_dev_queue netns=1 if=veth0 ifindex=3 "
				  "skb=0xffff888012345700 track=0x2b cpu=0 pid=0 comm=-";

	ASSERT_OK(pkt_anon_new(&a, key1), "new");
	ASSERT_OK(pkt_anon_new(&b, key2), "new 2");
	ASSERT_EQ(pkt_anon_comment(a, in, out, sizeof(out)), 0, "rewrite");
	const char *s = strstr(in, "skb="), *t = strstr(out, "skb=");

	ASSERT_TRUE(t != NULL && (size_t)(t - out) == (size_t)(s - in), "same prefix length");
	ASSERT_MEMEQ(out, in, (size_t)(s - in), "everything before skb identical");
	ASSERT_STREQ(strstr(out, " track="), strstr(in, " track="), "everything after identical");
	ASSERT_TRUE(strstr(out, "ffff888012345600") == NULL, "kernel address gone");
	ASSERT_OK(trace_comment_parse(out, &c1), "still parses");
	ASSERT_TRUE((c1.skb >> 48) == 0xffff, "pseudonym looks like a pointer");
	ASSERT_U64_EQ(c1.skb, pkt_anon_skb(a, 0xffff888012345600ull), "documented mapping");

	ASSERT_EQ(pkt_anon_comment(a, in2, out2, sizeof(out2)), 0, "rewrite 2");
	ASSERT_OK(trace_comment_parse(out2, &c2), "parses 2");
	ASSERT_U64_EQ(c2.skb, c1.skb, "same skb, same pseudonym");
	ASSERT_EQ(pkt_anon_comment(a, in3, out3, sizeof(out3)), 0, "rewrite 3");
	ASSERT_OK(trace_comment_parse(out3, &c2), "parses 3");
	ASSERT_TRUE(c2.skb != c1.skb, "other skb, other pseudonym");
	ASSERT_EQ(pkt_anon_comment(b, in2, out3, sizeof(out3)), 0, "other key");
	ASSERT_OK(trace_comment_parse(out3, &c2), "parses 4");
	ASSERT_TRUE(c2.skb != c1.skb, "other key, other pseudonym");

	ASSERT_EQ(pkt_anon_comment(a, "Captured by dumpcap from 10.0.0.1", out, sizeof(out)),
		  -EINVAL, "free text refused");
	ASSERT_STREQ(out, "", "and not copied");
	ASSERT_EQ(pkt_anon_comment(a, "netns=1 hook=x", out, sizeof(out)), -EINVAL, "order");
	ASSERT_EQ(pkt_anon_comment(a,
				   "hook=a netns=1 if=a ifindex=1 skb=0xzz track=0x1 cpu=0 "
				   "pid=0 comm=x",
				   out, sizeof(out)),
		  -EINVAL, "skb not hex");
	ASSERT_EQ(pkt_anon_comment(a,
				   "hook=a netns=1 if=a ifindex=1 skb=0x1 track=0x1 cpu=0 "
				   "pid=0 comm=x skb=0xffff888000000001",
				   out, sizeof(out)),
		  0, "repeated skb");
	ASSERT_TRUE(strstr(out, "ffff888000000001") == NULL, "repeated skb rewritten too");
	ASSERT_EQ(pkt_anon_comment(a, in, out, 40), -ENOSPC, "short buffer");
	ASSERT_STREQ(out, "", "nothing half-written");
	pkt_anon_free(a);
	pkt_anon_free(b);
}

TEST(anon_random_key)
{
	struct pkt_anon *a, *b;
	uint8_t o1[4], o2[4];

	ASSERT_EQ(pkt_anon_new(NULL, NULL), -EINVAL, "NULL");
	ASSERT_OK(pkt_anon_new(&a, NULL), "random 1");
	ASSERT_OK(pkt_anon_new(&b, NULL), "random 2");
	pkt_anon_ip4(a, ip_a, o1);
	pkt_anon_ip4(b, ip_a, o2);
	/* 2^-31 chance of a false failure (the first bit is kept) */
	ASSERT_TRUE(memcmp(o1, o2, 4) != 0, "two runs, two mappings");
	pkt_anon_free(a);
	pkt_anon_free(b);
	pkt_anon_free(NULL);
}

/*
 * Encapsulations of captures written elsewhere: Geneve, GRE in GRE, ERSPAN,
 * MPLS (on Ethernet and over UDP), PPPoE, and raw IPv4/IPv6/PPP link types.
 * The inner headers are walked (the innermost address the dissector finds
 * is the pseudonym of the original), and no original address survives at
 * any cut.
 */
static size_t build_encap(struct pb *p, int which, uint32_t *lt)
{
	*lt = 1;
	switch (which) {
	case 0: /* Geneve with an option, Ethernet, TCP */
		put_eth(p, mac_b, mac_a, 0x0800);
		put_ip4(p, 17, ip_a, ip_b, 8 + 16 + 14 + 20 + 32);
		put16(p, 50000);
		put16(p, 6081);
		put16(p, 8 + 16 + 14 + 20 + 32);
		put16(p, 0);
		put32(p, 0x02006558);
		put32(p, 0x00000700);
		putn(p, ip_a, 4); /* an option holding an address: blanked */
		putn(p, ip_b, 4);
		put_eth(p, mac_d, mac_c, 0x0800);
		put_ip4(p, 6, ip_c, ip_d, 32);
		put_tcp(p, 0x02, 1);
		break;
	case 1: /* GRE (checksum, key, sequence) in GRE */
		put_eth(p, mac_b, mac_a, 0x0800);
		put_ip4(p, 47, ip_a, ip_b, 16 + 20 + 4 + 20 + 32);
		put32(p, 0xb0000800);
		put32(p, 0);
		put32(p, 9);
		put32(p, 1);
		put_ip4(p, 47, ip_b, ip_a, 4 + 20 + 32);
		put32(p, 0x00000800);
		put_ip4(p, 6, ip_c, ip_d, 32);
		put_tcp(p, 0x02, 1);
		break;
	case 2: /* ERSPAN type II */
		put_eth(p, mac_b, mac_a, 0x0800);
		put_ip4(p, 47, ip_a, ip_b, 8 + 8 + 14 + 20 + 32);
		put32(p, 0x100088be);
		put32(p, 5);
		put32(p, 0x10640001);
		put32(p, 0);
		put_eth(p, mac_d, mac_c, 0x0800);
		put_ip4(p, 6, ip_c, ip_d, 32);
		put_tcp(p, 0x02, 1);
		break;
	case 3: /* MPLS, two labels */
		put_eth(p, mac_b, mac_a, 0x8847);
		put32(p, 16u << 12 | 64);
		put32(p, 17u << 12 | 0x100 | 64);
		put_ip4(p, 6, ip_c, ip_d, 32);
		put_tcp(p, 0x02, 1);
		break;
	case 4: /* MPLS over UDP, IPv6 inside */
		put_eth(p, mac_b, mac_a, 0x0800);
		put_ip4(p, 17, ip_a, ip_b, 8 + 4 + 40 + 8);
		put16(p, 50000);
		put16(p, 6635);
		put16(p, 8 + 4 + 40 + 8);
		put16(p, 0);
		put32(p, 300u << 12 | 0x100 | 1);
		put_ip6(p, 17, 8, ip6_a, ip6_b);
		put32(p, 0x00010002);
		put32(p, 0x00080000);
		break;
	case 5: /* PPPoE session */
		put_eth(p, mac_b, mac_a, 0x8864);
		put32(p, 0x11000001);
		put16(p, 2 + 20 + 32);
		put16(p, 0x0021);
		put_ip4(p, 6, ip_c, ip_d, 32);
		put_tcp(p, 0x02, 1);
		break;
	case 6: /* LINKTYPE_IPV4 */
		*lt = 228;
		put_ip4(p, 6, ip_c, ip_d, 32);
		put_tcp(p, 0x02, 1);
		break;
	case 7: /* LINKTYPE_IPV6 */
		*lt = 229;
		put_ip6(p, 17, 8, ip6_a, ip6_b);
		put32(p, 0x00010002);
		put32(p, 0x00080000);
		break;
	default: /* PPP */
		*lt = 9;
		put16(p, 0xff03);
		put16(p, 0x0021);
		put_ip4(p, 6, ip_c, ip_d, 32);
		put_tcp(p, 0x02, 1);
		break;
	}
	return p->n;
}

TEST(anon_new_encapsulations)
{
	static const uint8_t *const addrs[] = {mac_a, mac_b, mac_c, mac_d, ip_a,
					       ip_b,  ip_c,  ip_d,  ip6_a, ip6_b};
	static const size_t alen[] = {6, 6, 6, 6, 4, 4, 4, 4, 16, 16};
	struct pkt_anon *a;
	uint8_t out[512], e[16];
	uint32_t n, lt;

	ASSERT_OK(pkt_anon_new(&a, key1), "new");
	for (int which = 0; which < 9; which++) {
		struct pb p = {0};
		struct pkt_info before, after;
		const struct pkt_l3l4 *l;
		char what[48];

		build_encap(&p, which, &lt);
		snprintf(what, sizeof(what), "encapsulation %d", which);
		ASSERT_OK(anon_copy(a, p.b, p.n, lt, out, &n), what);
		ASSERT_OK(pkt_dissect(p.b, p.n, lt, &before), what);
		ASSERT_OK(pkt_dissect(out, n, lt, &after), what);
		l = pkt_innermost(&before);
		ASSERT_TRUE(l->family != 0, what);
		ASSERT_EQ(pkt_innermost(&after)->family, l->family, what);
		ASSERT_EQ(pkt_innermost(&after)->has_l4, 1, what);
		if (l->family == 4)
			pkt_anon_ip4(a, l->src, e);
		else
			pkt_anon_ip6(a, l->src, e);
		ASSERT_MEMEQ(pkt_innermost(&after)->src, e, l->family == 4 ? 4 : 16, what);
		for (size_t len = 0; len <= p.n; len++) {
			memset(out, 0x5a, sizeof(out));
			ASSERT_OK(anon_copy(a, p.b, len, lt, out, &n), what);
			ASSERT_TRUE(n <= len, "never grows");
			for (size_t k = 0; k < sizeof(addrs) / sizeof(addrs[0]); k++)
				if (contains(out, len, addrs[k], alen[k])) {
					printf("  %s len %zu: address %zu\n", what, len, k);
					ASSERT_TRUE(0, "an original address survived");
				}
		}
	}
	pkt_anon_free(a);
}
