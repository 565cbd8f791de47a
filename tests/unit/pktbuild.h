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

#endif
