// SPDX-License-Identifier: MIT
/*
 * pkt_headers_len(): where pkt-record --headers-only cuts a snapshot. Hand-
 * built packets, whole and cut at every length; the input is never written
 * and the cut is the anonymizer's (the same walker) except for ARP.
 */
#include "test.h"
#include "pktbuild.h"
#include "anonymize.h"

#include <errno.h>
#include <stdlib.h>

static void hpayload(struct pb *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(p, 0xc0 + (i % 16));
}

static void h_eth(struct pb *p, unsigned type)
{
	for (int i = 0; i < 12; i++)
		put8(p, 0x02 + i);
	put16(p, type);
}

static void h_ip4(struct pb *p, unsigned proto, unsigned l4len)
{
	pb_ip4(p, proto, 0xc6120201, 0xc6120202, l4len, 0x1234, 0);
}

static void h_ip6(struct pb *p, unsigned nh, unsigned plen)
{
	static const uint8_t src[16] = {0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd,
					0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd};
	static const uint8_t dst[16] = {0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe,
					0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe};

	pb_ip6(p, nh, plen, src, dst);
}

/* TCP with 12 bytes of options (data offset 8) */
static void h_tcp(struct pb *p, unsigned flags)
{
	static const uint8_t o[12] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7};

	put16(p, 41000);
	put16(p, 80);
	put32(p, 1000);
	put32(p, 0);
	put8(p, 8 << 4);
	put8(p, flags);
	put16(p, 65535);
	put16(p, 0x1111);
	put16(p, 0);
	memcpy(p->b + p->n, o, sizeof(o));
	p->n += sizeof(o);
}

static void h_icmp_echo(struct pb *p, unsigned type)
{
	put8(p, type);
	put8(p, 0);
	put16(p, 0);
	put16(p, 0x4242); /* id */
	put16(p, 7);	  /* seq */
}

/* pkt_headers_len on an exact-size heap copy (ASan sees any overrun); checks it is not written */
static int hlen(const uint8_t *pkt, size_t len, uint32_t lt, uint32_t *out)
{
	uint8_t *c = malloc(len ? len : 1);
	int r;

	if (!c)
		return -ENOMEM;
	memcpy(c, pkt, len);
	r = pkt_headers_len(c, (uint32_t)len, lt, out);
	if (memcmp(c, pkt, len))
		r = -EFAULT;
	free(c);
	return r;
}

static void build(struct pb *p, int which)
{
	p->n = 0;
	switch (which) {
	case 0: /* IPv4 TCP with options and payload */
		h_eth(p, 0x0800);
		h_ip4(p, 6, 32 + 100);
		h_tcp(p, 0x18);
		hpayload(p, 100);
		break;
	case 1: /* IPv4 UDP (DNS-like payload) */
		h_eth(p, 0x0800);
		h_ip4(p, 17, 8 + 40);
		put16(p, 53000);
		put16(p, 53);
		put16(p, 8 + 40);
		put16(p, 0);
		hpayload(p, 40);
		break;
	case 2: /* ICMP echo request with a 56-byte pattern */
		h_eth(p, 0x0800);
		h_ip4(p, 1, 64);
		h_icmp_echo(p, 8);
		hpayload(p, 56);
		break;
	case 3: /* ICMPv6 echo request */
		h_eth(p, 0x86dd);
		h_ip6(p, 58, 8 + 56);
		h_icmp_echo(p, 128);
		hpayload(p, 56);
		break;
	case 4: /* ICMP port unreachable quoting IPv4/UDP with payload */
		h_eth(p, 0x0800);
		h_ip4(p, 1, 8 + 20 + 8 + 20);
		put8(p, 3);
		put8(p, 3);
		put16(p, 0);
		put32(p, 0);
		h_ip4(p, 17, 28);
		put16(p, 40000);
		put16(p, 9);
		put16(p, 28);
		put16(p, 0);
		hpayload(p, 20);
		break;
	case 5: /* VXLAN: outer UDP, inner Ethernet/IPv4/TCP with payload */
		h_eth(p, 0x0800);
		h_ip4(p, 17, 8 + 8 + 14 + 20 + 32 + 40);
		put16(p, 50000);
		put16(p, 4789);
		put16(p, 8 + 8 + 14 + 20 + 32 + 40);
		put16(p, 0);
		put32(p, 0x08000000);
		put32(p, 42 << 8);
		h_eth(p, 0x0800);
		h_ip4(p, 6, 32 + 40);
		h_tcp(p, 0x18);
		hpayload(p, 40);
		break;
	case 6: /* ARP request with Ethernet padding */
		h_eth(p, 0x0806);
		put16(p, 1);
		put16(p, 0x0800);
		put8(p, 6);
		put8(p, 4);
		put16(p, 1);
		for (int i = 0; i < 20; i++)
			put8(p, 0x10 + i);
		hpayload(p, 18);
		break;
	case 7: /* 802.1Q-tagged IPv6 TCP */
		h_eth(p, 0x8100);
		put16(p, 100);
		put16(p, 0x86dd);
		h_ip6(p, 6, 32 + 30);
		h_tcp(p, 0x10);
		hpayload(p, 30);
		break;
	default: /* IPv4 SCTP: unknown L4 */
		h_eth(p, 0x0800);
		h_ip4(p, 132, 60);
		hpayload(p, 60);
		break;
	}
}

TEST(hdrlen_cut_after_innermost_header)
{
	static const uint32_t want[] = {
	    14 + 20 + 32,		    /* TCP with options */
	    14 + 20 + 8,		    /* UDP */
	    14 + 20 + 8,		    /* ICMP echo */
	    14 + 40 + 8,		    /* ICMPv6 echo */
	    14 + 20 + 8 + 20 + 8,	    /* ICMP error: quoted IP + 8 */
	    14 + 20 + 8 + 8 + 14 + 20 + 32, /* VXLAN inner TCP */
	    14 + 28,			    /* ARP, padding cut */
	    18 + 40 + 32,		    /* VLAN IPv6 TCP */
	    14 + 20,			    /* unknown L4: the IP header */
	};
	struct pb p;
	uint32_t n;

	for (int which = 0; which < (int)(sizeof(want) / sizeof(want[0])); which++) {
		build(&p, which);
		ASSERT_OK(hlen(p.b, p.n, 1, &n), "headers_len");
		if (n != want[which])
			printf("  packet %d\n", which);
		ASSERT_EQ(n, want[which], "cut");
	}
}

TEST(hdrlen_other_layers)
{
	struct pb p = {0};
	uint32_t n;

	/* unknown ethertype (LLDP): the Ethernet header */
	h_eth(&p, 0x88cc);
	hpayload(&p, 60);
	ASSERT_OK(hlen(p.b, p.n, 1, &n), "lldp");
	ASSERT_EQ(n, 14, "unknown ethertype: Ethernet header");

	/* ARP with 8-byte hardware addresses: whole message (the anonymizer would cut it) */
	p.n = 0;
	h_eth(&p, 0x0806);
	put16(&p, 6);
	put16(&p, 0x0800);
	put8(&p, 8);
	put8(&p, 4);
	put16(&p, 2);
	hpayload(&p, 2 * (8 + 4) + 10);
	ASSERT_OK(hlen(p.b, p.n, 1, &n), "arp hln 8");
	ASSERT_EQ(n, 14 + 8 + 24, "ARP: 8 + 2 * (hln + pln)");

	/* raw IP link type: the same cut without an Ethernet header */
	build(&p, 0);
	ASSERT_OK(hlen(p.b + 14, p.n - 14, 101, &n), "raw");
	ASSERT_EQ(n, 20 + 32, "raw IPv4 TCP");

	/* IPv4 non-first fragment: no L4 header in it */
	p.n = 0;
	h_eth(&p, 0x0800);
	h_ip4(&p, 17, 40);
	p.b[14 + 6] = 0x00;
	p.b[14 + 7] = 0x10;
	hpayload(&p, 40);
	ASSERT_OK(hlen(p.b, p.n, 1, &n), "fragment");
	ASSERT_EQ(n, 34, "fragment: the IP header");

	ASSERT_EQ(pkt_headers_len(p.b, (uint32_t)p.n, 999, &n), -EPROTONOSUPPORT, "link type");
	ASSERT_EQ(n, 0, "unknown link type: 0");
	ASSERT_EQ(pkt_headers_len(NULL, 10, 1, &n), -EINVAL, "NULL data");
	ASSERT_EQ(pkt_headers_len(p.b, 10, 1, NULL), -EINVAL, "NULL out");
	ASSERT_OK(pkt_headers_len(NULL, 0, 1, &n), "empty");
	ASSERT_EQ(n, 0, "empty: 0");
}

/* Cut at every length: never past the snapshot, all of it while inside the headers,
 * and the anonymizer's cut (same walker), ARP aside. */
TEST(hdrlen_truncated_at_every_length)
{
	struct pkt_anon *a;
	static const uint8_t key[PKT_ANON_KEY_LEN] = {9, 8, 7};
	struct pb p;
	uint8_t c[512];
	uint32_t n, full, an;

	ASSERT_OK(pkt_anon_new(&a, key), "anon");
	for (int which = 0; which < 9; which++) {
		build(&p, which);
		ASSERT_OK(hlen(p.b, p.n, 1, &full), "full");
		for (size_t len = 0; len <= p.n; len++) {
			ASSERT_OK(hlen(p.b, len, 1, &n), "headers_len");
			ASSERT_TRUE(n <= len, "never past the snapshot");
			if (len <= full && n != len) {
				printf("  packet %d len %zu: %u\n", which, len, n);
				ASSERT_TRUE(0, "a snapshot cut inside the headers is kept whole");
			}
			if (len >= full)
				ASSERT_EQ(n, full, "the cut does not move with more payload");
			if (which == 6)
				continue;
			memcpy(c, p.b, len);
			ASSERT_OK(pkt_anon_packet(a, c, (uint32_t)len, 1, &an), "anonymize");
			if (an != n)
				printf("  packet %d len %zu\n", which, len);
			ASSERT_EQ(an, n, "same cut as the anonymizer");
		}
	}
	pkt_anon_free(a);
}
