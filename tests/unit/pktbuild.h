/* SPDX-License-Identifier: MIT */
/* Packet builder for the unit tests: big-endian appends into a fixed buffer. */
#ifndef PKT_TEST_PKTBUILD_H
#define PKT_TEST_PKTBUILD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct pb {
	uint8_t b[512];
	size_t n;
};

static inline void put8(struct pb *p, unsigned v)
{
	p->b[p->n++] = (uint8_t)v;
}

static inline void put16(struct pb *p, unsigned v)
{
	put8(p, v >> 8);
	put8(p, v);
}

static inline void put32(struct pb *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p, v & 0xffff);
}

static inline void putn(struct pb *p, const void *d, size_t n)
{
	memcpy(p->b + p->n, d, n);
	p->n += n;
}

/* IPv4 header, no options, DF, TTL 64; total length covers l4len bytes. */
static inline void pb_ip4(struct pb *p, unsigned proto, uint32_t src, uint32_t dst, unsigned l4len,
			  unsigned id, unsigned csum)
{
	put8(p, 0x45);
	put8(p, 0);
	put16(p, 20 + l4len);
	put16(p, id);
	put16(p, 0x4000);
	put8(p, 64);
	put8(p, proto);
	put16(p, csum);
	put32(p, src);
	put32(p, dst);
}

/* IPv6 header, hop limit 64, plen bytes of payload after it. */
static inline void pb_ip6(struct pb *p, unsigned nh, unsigned plen, const uint8_t src[16],
			  const uint8_t dst[16])
{
	put32(p, 0x60000000);
	put16(p, plen);
	put8(p, nh);
	put8(p, 64);
	putn(p, src, 16);
	putn(p, dst, 16);
}

#endif
