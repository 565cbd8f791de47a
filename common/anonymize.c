// SPDX-License-Identifier: MIT
/*
 * Packet anonymizer: see anonymize.h for the policy. The walker below is
 * deliberately separate from dissect.c: it needs writable offsets, and its
 * one invariant is different: the snapshot is cut at the end of the last
 * byte it has vetted, so anything it does not understand is dropped, never
 * copied through. Every access is checked against the end of the layer,
 * which is never past caplen.
 */
#include "anonymize.h"
#include "trace.h"
#include "netproto.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* nested tunnels / ICMP errors we follow: at least every tunnel the dissector shows */
#define MAX_DEPTH   (MAX_ENCAP_DEPTH + 2)
#define MAX_ND_OPTS 64

/* Domains of the PRF, so one address never feeds two mappings the same input. */
enum {
	DOM_IP4 = '4',
	DOM_IP6 = '6',
	DOM_MAC = 'm',
	DOM_SNODE_MAC = 'n',
	DOM_SKB = 's',
};

#define CACHE_SIZE 4096 /* direct-mapped: an IPv6 pseudonym costs 128 SipHash calls */

struct cache_ent {
	uint8_t dom;
	uint8_t in[16];
	uint8_t out[16];
};

struct pkt_anon {
	uint8_t k_addr[16]; /* IP address PRF */
	uint8_t k_misc[16]; /* MAC and skb pseudonyms */
	struct cache_ent cache[CACHE_SIZE];
};

/* ---- SipHash-2-4, from the paper's reference description ---- */

static uint64_t rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = rotl64(v1, 13);                                                               \
		v1 ^= v0;                                                                          \
		v0 = rotl64(v0, 32);                                                               \
		v2 += v3;                                                                          \
		v3 = rotl64(v3, 16);                                                               \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = rotl64(v3, 21);                                                               \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = rotl64(v1, 17);                                                               \
		v1 ^= v2;                                                                          \
		v2 = rotl64(v2, 32);                                                               \
	} while (0)

uint64_t pkt_siphash24(const uint8_t key[16], const void *msg, size_t len)
{
	const uint8_t *m = msg;
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v0 = k0 ^ 0x736f6d6570736575ull;
	uint64_t v1 = k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ull;
	uint64_t v3 = k1 ^ 0x7465646279746573ull;
	size_t i, full = len & ~(size_t)7;
	uint64_t b = (uint64_t)len << 56;

	for (i = 0; i < full; i += 8) {
		uint64_t w = le64(m + i);

		v3 ^= w;
		SIPROUND;
		SIPROUND;
		v0 ^= w;
	}
	for (size_t j = 0; j < (len & 7); j++)
		b |= (uint64_t)m[full + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- prefix-preserving permutation ---- */

static int bit_at(const uint8_t *a, unsigned i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

static int first_bits_ones(const uint8_t *a, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (!bit_at(a, i))
			return 0;
	return 1;
}

static const uint8_t snode_prefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};

/*
 * Bits the mapping keeps as they are. May look only at the first i bits of
 * a: that is what keeps the mapping a prefix-preserving permutation.
 */
static int keep_bit(int dom, const uint8_t *a, unsigned i)
{
	switch (dom) {
	case DOM_IP4:
		/* address class (multicast stays multicast), and multicast groups whole */
		if (i < 4)
			return first_bits_ones(a, i);
		return (a[0] >> 4) == 0xe;
	case DOM_IP6:
		if (i < 8) /* ff00::/8 multicast, fe80::/10 link-local, fc00::/7 ULA */
			return first_bits_ones(a, i);
		if (a[0] == 0xfe)
			return i < 10;
		if (a[0] != 0xff)
			return 0;
		if (i < 16) /* multicast flags and scope */
			return 1;
		if (a[1] & 0x60) /* P or R flag: a unicast prefix / RP address inside */
			return 0;
		if (i >= 104 && !memcmp(a, snode_prefix, sizeof(snode_prefix)))
			return 0; /* solicited-node: low 24 bits are a host's */
		return 1;
	case DOM_MAC:
		return i == 6 || i == 7; /* U/L and I/G bits */
	default:
		return 0;
	}
}

static int prf_bit(const struct pkt_anon *a, int dom, const uint8_t *in, unsigned i)
{
	uint8_t msg[2 + 16];
	unsigned nbytes = (i + 7) / 8;

	msg[0] = (uint8_t)dom;
	msg[1] = (uint8_t)i;
	memcpy(msg + 2, in, nbytes);
	if (i % 8)
		msg[2 + nbytes - 1] &= (uint8_t)(0xff << (8 - i % 8));
	return (int)(pkt_siphash24(dom == DOM_IP4 || dom == DOM_IP6 ? a->k_addr : a->k_misc, msg,
				   2 + nbytes) &
		     1);
}

static void pp_map(const struct pkt_anon *a, int dom, const uint8_t *in, uint8_t *out,
		   unsigned nbits)
{
	uint8_t res[16] = {0};

	for (unsigned i = 0; i < nbits; i++) {
		int b = bit_at(in, i);

		if (!keep_bit(dom, in, i))
			b ^= prf_bit(a, dom, in, i);
		res[i / 8] |= (uint8_t)(b << (7 - i % 8));
	}
	memcpy(out, res, (nbits + 7) / 8);
}

static int in_set(const uint8_t *x, const uint8_t (*set)[16], size_t n, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(x, set[i], len))
			return 1;
	return 0;
}

/*
 * Fixed points (0.0.0.0, ::1...) map to themselves; any other address that
 * the permutation would send onto one walks the permutation's cycle until
 * it leaves the set ("cycle walking"): still a bijection.
 */
static void map_fixed(const struct pkt_anon *a, int dom, const uint8_t *in, uint8_t *out,
		      size_t len, const uint8_t (*fixed)[16], size_t nfixed)
{
	uint8_t cur[16];

	memcpy(out, in, len);
	if (in_set(in, fixed, nfixed, len))
		return;
	memcpy(cur, in, len);
	/* At most nfixed steps land in the set before the cycle leaves it. */
	for (size_t k = 0; k <= nfixed; k++) {
		pp_map(a, dom, cur, out, (unsigned)len * 8);
		if (!in_set(out, fixed, nfixed, len))
			return;
		memcpy(cur, out, len);
	}
}

static const uint8_t ip4_fixed[][16] = {{0, 0, 0, 0}, {127, 0, 0, 1}, {255, 255, 255, 255}};
static const uint8_t ip6_fixed[][16] = {{0}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
static const uint8_t mac_fixed[][16] = {{0}};

static size_t cache_index(int dom, const uint8_t *in, size_t len)
{
	uint32_t h = 2166136261u ^ (uint32_t)dom; /* FNV-1a: spreading only, not security */

	for (size_t i = 0; i < len; i++)
		h = (h ^ in[i]) * 16777619u;
	return h % CACHE_SIZE;
}

static void map_addr_(struct pkt_anon *a, int dom, const uint8_t *in, uint8_t *out, size_t len)
{
	struct cache_ent *e = &a->cache[cache_index(dom, in, len)];

	if (e->dom == dom && !memcmp(e->in, in, len)) {
		memcpy(out, e->out, len);
		return;
	}
	switch (dom) {
	case DOM_IP4:
		map_fixed(a, dom, in, out, 4, ip4_fixed, 3);
		break;
	case DOM_IP6:
		map_fixed(a, dom, in, out, 16, ip6_fixed, 2);
		break;
	default: /* DOM_MAC, unicast only */
		map_fixed(a, dom, in, out, 6, mac_fixed, 1);
		break;
	}
	e->dom = (uint8_t)dom;
	memset(e->in, 0, sizeof(e->in));
	memcpy(e->in, in, len);
	memcpy(e->out, out, len);
}

/* in and out may be the same buffer. */
static void map_addr(struct pkt_anon *a, int dom, const uint8_t *in_, uint8_t *out_, size_t len)
{
	uint8_t in[16], out[16];

	memcpy(in, in_, len);
	map_addr_(a, dom, in, out, len);
	memcpy(out_, out, len);
}

int pkt_anon_ip4(struct pkt_anon *a, const uint8_t in[4], uint8_t out[4])
{
	if (!a || !in || !out)
		return -EINVAL;
	map_addr(a, DOM_IP4, in, out, 4);
	return 0;
}

int pkt_anon_ip6(struct pkt_anon *a, const uint8_t in[16], uint8_t out[16])
{
	if (!a || !in || !out)
		return -EINVAL;
	map_addr(a, DOM_IP6, in, out, 16);
	return 0;
}

int pkt_anon_mac(struct pkt_anon *a, const uint8_t in[6], uint8_t out[6])
{
	if (!a || !in || !out)
		return -EINVAL;
	if (in[0] & 1) { /* group address: not a host, kept (broadcast included) */
		uint8_t m[6];

		memcpy(m, in, 6);
		if (m[0] == 0x33 && m[1] == 0x33 && m[2] == 0xff) /* but solicited-node */
			pp_map(a, DOM_SNODE_MAC, in + 3, m + 3, 24);
		memmove(out, m, 6);
		return 0;
	}
	map_addr(a, DOM_MAC, in, out, 6);
	return 0;
}

/* 4-round Feistel network on the low 48 bits: a permutation, so no two skbs collide. */
uint64_t pkt_anon_skb(struct pkt_anon *a, uint64_t skb)
{
	uint32_t l = (uint32_t)(skb >> 24) & 0xffffff, r = (uint32_t)skb & 0xffffff;

	if (!a)
		return 0;
	for (uint8_t round = 0; round < 4; round++) {
		uint8_t msg[5] = {DOM_SKB, round, (uint8_t)(r >> 16), (uint8_t)(r >> 8),
				  (uint8_t)r};
		uint32_t f = (uint32_t)pkt_siphash24(a->k_misc, msg, sizeof(msg)) & 0xffffff;
		uint32_t t = l ^ f;

		l = r;
		r = t;
	}
	return (skb & 0xffff000000000000ull) | (uint64_t)l << 24 | r;
}

int pkt_anon_new(struct pkt_anon **ap, const uint8_t key[PKT_ANON_KEY_LEN])
{
	uint8_t k[PKT_ANON_KEY_LEN];
	struct pkt_anon *a;

	if (!ap)
		return -EINVAL;
	*ap = NULL;
	if (key) {
		memcpy(k, key, sizeof(k));
	} else {
		size_t got = 0;

		while (got < sizeof(k)) {
			ssize_t n = getrandom(k + got, sizeof(k) - got, 0);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			got += (size_t)n;
		}
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		explicit_bzero(k, sizeof(k));
		return -ENOMEM;
	}
	memcpy(a->k_addr, k, 16);
	memcpy(a->k_misc, k + 16, 16);
	explicit_bzero(k, sizeof(k));
	/* dom 0 marks an empty cache slot: no domain is 0 */
	*ap = a;
	return 0;
}

void pkt_anon_free(struct pkt_anon *a)
{
	if (!a)
		return;
	explicit_bzero(a, sizeof(*a)); /* the cache is as secret as the key */
	free(a);
}

/* ---- the header walker ---- */

struct walk {
	struct pkt_anon *a; /* NULL: measure only (pkt_headers_len), d is never written */
	uint8_t *d;
};

static int have(size_t off, size_t n, size_t end)
{
	return off <= end && n <= end - off;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t min_sz(size_t x, size_t y)
{
	return x < y ? x : y;
}

/* Set [off, off+n) to v, clipped at end. */
static void fill(struct walk *w, size_t off, size_t n, size_t end, uint8_t v)
{
	if (!w->a || off >= end)
		return;
	memset(w->d + off, v, min_sz(n, end - off));
}

enum addr_kind { A_IP4, A_IP6, A_MAC };

/* Rewrite an address, or zero what the snapshot holds of a partial one. */
static void anon_addr(struct walk *w, size_t off, size_t end, enum addr_kind k)
{
	static const size_t lens[] = {4, 16, 6};
	size_t len = lens[k];
	uint8_t *p = w->d + off;

	if (!w->a)
		return;
	if (!have(off, len, end)) {
		fill(w, off, len, end, 0);
		return;
	}
	if (k == A_IP4)
		pkt_anon_ip4(w->a, p, p);
	else if (k == A_IP6)
		pkt_anon_ip6(w->a, p, p);
	else
		pkt_anon_mac(w->a, p, p);
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += rd16(p + i);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* What an L4 checksum needs from its IP header. */
struct l3 {
	int family;	/* 4 or 6 */
	size_t hdr;	/* offset of the IP header */
	int len_known;	/* l4_len comes from the header */
	size_t l4_len;	/* L4 bytes the IP header announces */
	int more_frags; /* first fragment: the segment is not all here */
	int embedded;	/* header quoted in an ICMP error */
};

/*
 * L4 checksum at l4 + csum_off: recomputed when the whole segment survives
 * the cut at keep, else zeroed (see anonymize.h).
 */
static void fix_l4_csum(struct walk *w, const struct l3 *l, uint8_t proto, size_t l4,
			size_t csum_off, size_t keep)
{
	uint8_t *p = w->d + l4;

	if (!w->a)
		return;
	if (!have(l4, csum_off + 2, keep)) {
		fill(w, l4 + csum_off, 2, keep, 0);
		return;
	}
	wr16(p + csum_off, 0);
	if (l->embedded || !l->len_known || l->more_frags || !have(l4, l->l4_len, keep))
		return;
	if (l->l4_len < csum_off + 2)
		return;
	uint32_t s = 0;

	if (proto != 1) { /* pseudo-header; ICMPv4 has none */
		const uint8_t *ip = w->d + l->hdr;

		if (l->family == 4)
			s = sum16(ip + 12, 8, 0);
		else
			s = sum16(ip + 8, 32, 0);
		s += proto;
		s += (uint32_t)(l->l4_len & 0xffff) + (uint32_t)(l->l4_len >> 16);
	}
	s = sum16(p, l->l4_len, s);
	uint16_t c = fold(s);

	if (proto == 17 && c == 0) /* UDP sends a computed 0 as ffff */
		c = 0xffff;
	wr16(p + csum_off, c);
}

static size_t w_eth(struct walk *w, size_t off, size_t end, int depth);
static size_t w_l3(struct walk *w, size_t off, size_t end, uint16_t type, int depth, int embedded);
static size_t w_ip4(struct walk *w, size_t off, size_t end, int depth, int embedded);
static size_t w_ip6(struct walk *w, size_t off, size_t end, int depth, int embedded);

/* IPv4 or IPv6 by the version nibble; anything else is cut here. */
static size_t w_ip_by_version(struct walk *w, size_t off, size_t end, int depth)
{
	if (!have(off, 1, end))
		return end;
	if (w->d[off] >> 4 == 4)
		return w_ip4(w, off, end, depth, 0);
	if (w->d[off] >> 4 == 6)
		return w_ip6(w, off, end, depth, 0);
	return off;
}

/* MPLS labels carry no address: kept; the payload is guessed like the dissector does. */
static size_t w_mpls(struct walk *w, size_t off, size_t end, int depth)
{
	for (int i = 0; i < MAX_MPLS_LABELS; i++, off += 4) {
		if (!have(off, 4, end))
			return end;
		if (w->d[off + 2] & 0x01) /* bottom of stack */
			return w_ip_by_version(w, off + 4, end, depth);
	}
	return off;
}

/* A PPP protocol field (1 byte when compressed), then IPv4/IPv6/MPLS. */
static size_t w_ppp_payload(struct walk *w, size_t off, size_t end, int depth)
{
	uint16_t proto;

	if (!have(off, 1, end))
		return end;
	if (w->d[off] & 1) {
		proto = w->d[off];
		off += 1;
	} else {
		if (!have(off, 2, end))
			return end;
		proto = rd16(w->d + off);
		off += 2;
	}
	if (proto == PPP_IPV4)
		return w_ip4(w, off, end, depth, 0);
	if (proto == PPP_IPV6)
		return w_ip6(w, off, end, depth, 0);
	if (proto == PPP_MPLS || proto == PPP_MPLSMC)
		return w_mpls(w, off, end, depth);
	return off;
}

/* PPPoE session: the 6-byte header (session id, length) is kept. */
static size_t w_pppoe(struct walk *w, size_t off, size_t end, int depth)
{
	if (!have(off, 6, end))
		return end;
	if (w->d[off] != 0x11 || w->d[off + 1] != 0)
		return off;
	return w_ppp_payload(w, off + 6, end, depth);
}

/* Geneve: options (metadata of any kind) are blanked, the inner packet walked. */
static size_t w_geneve(struct walk *w, size_t off, size_t end, int depth)
{
	if (!have(off, 8, end))
		return end;
	size_t hlen = 8 + (size_t)(w->d[off] & 0x3f) * 4;
	uint16_t proto = rd16(w->d + off + 2);

	fill(w, off + 8, hlen - 8, end, 0);
	if ((w->d[off] >> 6) != 0 || !have(off, hlen, end))
		return min_sz(off + hlen, end);
	if (proto == ETH_P_TEB)
		return w_eth(w, off + hlen, end, depth + 1);
	if (proto == ETH_P_IPV4 || proto == ETH_P_IPV6)
		return w_l3(w, off + hlen, end, proto, depth + 1, 0);
	return off + hlen;
}

static size_t w_tcp(struct walk *w, const struct l3 *l, size_t off, size_t end)
{
	if (l->embedded) /* ports and sequence number: what errors quote */
		return min_sz(off + 8, end);
	if (!have(off, 20, end)) {
		fill(w, off + 16, 2, end, 0); /* checksum */
		return end;
	}
	size_t hlen = (size_t)(w->d[off + 12] >> 4) * 4;

	if (hlen < 20)
		hlen = 20;
	size_t keep = min_sz(off + hlen, end);

	/*
	 * Options are kept (MSS, window scale, SACK, timestamps help debugging),
	 * except MPTCP ADD_ADDR which carries an address, bytes after the end of
	 * list and malformed tails: those become NOPs / zeros.
	 */
	for (size_t o = off + 20; o < keep;) {
		uint8_t kind = w->d[o];

		if (kind == 0) {
			fill(w, o + 1, keep - o - 1, keep, 0);
			break;
		}
		if (kind == 1) {
			o++;
			continue;
		}
		if (o + 1 >= keep || w->d[o + 1] < 2) {
			fill(w, o, keep - o, keep, 1);
			break;
		}
		size_t olen = w->d[o + 1];

		if (kind == 30 && (o + 2 >= keep || (w->d[o + 2] >> 4) == 3))
			fill(w, o, olen, keep, 1);
		o += olen;
	}
	fix_l4_csum(w, l, 6, off, 16, keep);
	return keep;
}

static size_t w_udp(struct walk *w, const struct l3 *l, size_t off, size_t end, int depth)
{
	if (!have(off, 8, end)) {
		fill(w, off + 6, 2, end, 0);
		return end;
	}
	if (l->embedded) {
		if (w->a)
			wr16(w->d + off + 6, 0);
		return off + 8;
	}
	size_t keep = off + 8;
	uint16_t dport = rd16(w->d + off + 2);

	if ((dport == VXLAN_PORT || dport == VXLAN_LINUX_PORT) && depth < MAX_DEPTH) {
		if (!have(off + 8, 8, end)) /* partial VXLAN header: flags and VNI only */
			keep = end;
		else if (w->d[off + 8] & 0x08)
			keep = w_eth(w, off + 16, end, depth + 1);
	} else if (dport == GENEVE_PORT && depth < MAX_DEPTH) {
		keep = w_geneve(w, off + 8, end, depth);
	} else if (dport == MPLS_UDP_PORT && depth < MAX_DEPTH) {
		keep = w_mpls(w, off + 8, end, depth + 1);
	}
	fix_l4_csum(w, l, 17, off, 6, keep);
	return keep;
}

static int icmp4_is_error(uint8_t type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

static size_t w_icmp4(struct walk *w, const struct l3 *l, size_t off, size_t end, int depth)
{
	uint8_t type;
	size_t keep;

	if (!have(off, 1, end))
		return end;
	type = w->d[off];
	if (type == 5) /* redirect: the new gateway */
		anon_addr(w, off + 4, end, A_IP4);
	if (!have(off, 8, end)) {
		fill(w, off + 2, 2, end, 0);
		return end;
	}
	keep = off + 8;
	if (icmp4_is_error(type) && !l->embedded && depth < MAX_DEPTH)
		keep = w_l3(w, off + 8, end, ETH_P_IPV4, depth + 1, 1);
	fix_l4_csum(w, l, 1, off, 2, keep);
	return keep;
}

/* ND options (RFC 4861 and friends): addresses rewritten, unknown bodies zeroed. */
static size_t w_nd_opts(struct walk *w, size_t o, size_t end)
{
	for (int n = 0; n < MAX_ND_OPTS && o < end; n++) {
		if (!have(o, 2, end)) /* a lone type byte */
			return end;
		uint8_t type = w->d[o];
		size_t olen = (size_t)w->d[o + 1] * 8;

		if (olen == 0) /* invalid, and would loop: stop here */
			return o;
		switch (type) {
		case 1: /* source link-layer address */
		case 2: /* target link-layer address */
			if (olen == 8)
				anon_addr(w, o + 2, end, A_MAC);
			else
				fill(w, o + 2, olen - 2, end, 0);
			break;
		case 3: /* prefix information: the prefix, as an address */
			if (olen == 32)
				anon_addr(w, o + 16, end, A_IP6);
			else
				fill(w, o + 2, olen - 2, end, 0);
			break;
		case 5: /* MTU */
			if (olen != 8)
				fill(w, o + 2, olen - 2, end, 0);
			break;
		case 25: { /* RDNSS: reserved, lifetime, then addresses */
			size_t p = o + 8;

			for (; p + 16 <= o + olen; p += 16)
				anon_addr(w, p, end, A_IP6);
			fill(w, p, o + olen - p, end, 0); /* a malformed tail */
			break;
		}
		default: /* redirected header, DNSSL names, route info...: blank */
			fill(w, o + 2, olen - 2, end, 0);
			break;
		}
		if (!have(o, olen, end))
			return end;
		o += olen;
	}
	return o;
}

static size_t w_icmp6(struct walk *w, const struct l3 *l, size_t off, size_t end, int depth)
{
	uint8_t type;
	size_t keep;

	if (!have(off, 1, end))
		return end;
	type = w->d[off];
	if (!have(off, 8, end)) {
		fill(w, off + 2, 2, end, 0);
		return end;
	}
	keep = off + 8;
	if (l->embedded) {
		if (w->a)
			wr16(w->d + off + 2, 0);
		return keep;
	}
	if (type >= 1 && type <= 4) { /* errors quote the offending packet */
		if (depth < MAX_DEPTH)
			keep = w_l3(w, off + 8, end, ETH_P_IPV6, depth + 1, 1);
	} else if (type >= 133 && type <= 137) {
		/* fixed part: RS 8, RA 16, NS/NA 24 (target), redirect 40 (target, dest) */
		static const size_t fixed[] = {8, 16, 24, 24, 40};
		size_t flen = fixed[type - 133];

		if (type >= 135)
			anon_addr(w, off + 8, end, A_IP6);
		if (type == 137)
			anon_addr(w, off + 24, end, A_IP6);
		if (!have(off, flen, end))
			keep = end;
		else
			keep = w_nd_opts(w, off + flen, end);
	}
	fix_l4_csum(w, l, 58, off, 2, keep);
	return keep;
}

static size_t w_gre(struct walk *w, size_t off, size_t end, int depth)
{
	if (!have(off, 4, end))
		return end;
	uint16_t flags = rd16(w->d + off), proto = rd16(w->d + off + 2);
	size_t hlen = 4;

	if (flags & 0x8000) /* checksum over the inner packet we rewrite */
		fill(w, off + 4, 2, end, 0);
	if ((flags & 0x7) || (flags & 0x4000)) /* PPTP's GRE v1, RFC 1701 routing */
		return off + 4;
	hlen += (flags & 0x8000) ? 4 : 0;
	hlen += (flags & 0x2000) ? 4 : 0;
	hlen += (flags & 0x1000) ? 4 : 0;
	if (!have(off, hlen, end))
		return end;
	if (depth >= MAX_DEPTH)
		return off + hlen;
	if (proto == ETH_P_CMD) { /* Cisco MetaData: the next ethertype first */
		if (!have(off, hlen + CMD_HDR_LEN, end))
			return end;
		proto = rd16(w->d + off + hlen);
		hlen += CMD_HDR_LEN;
		if (proto == ETH_P_CMD)
			return off + hlen;
	}
	if (proto == ETH_P_ERSPAN && (flags & 0x1000)) { /* type II: 8-byte header */
		if (!have(off, hlen + 8, end) || (w->d[off + hlen] >> 4) != 1)
			return min_sz(off + hlen, end);
		hlen += 8;
		proto = ETH_P_TEB;
	} else if (proto == ETH_P_ERSPAN) { /* type I: the frame follows GRE */
		proto = ETH_P_TEB;
	} else if (proto == ETH_P_ERSPAN3) { /* 12 bytes, 8 more with the O bit */
		if (!have(off, hlen + 12, end) || (w->d[off + hlen] >> 4) != 2)
			return min_sz(off + hlen, end);
		hlen += w->d[off + hlen + 11] & 0x01 ? 20 : 12;
		proto = ETH_P_TEB;
	}
	if (proto == ETH_P_MPLS || proto == ETH_P_MPLSMC)
		return w_mpls(w, off + hlen, end, depth + 1);
	if (proto == ETH_P_TEB)
		return w_eth(w, off + hlen, end, depth + 1);
	if (proto == ETH_P_IPV4 || proto == ETH_P_IPV6)
		return w_l3(w, off + hlen, end, proto, depth + 1, 0);
	return off + hlen;
}

static size_t w_l4(struct walk *w, const struct l3 *l, uint8_t proto, size_t off, size_t end,
		   int depth)
{
	switch (proto) {
	case 6:
		return w_tcp(w, l, off, end);
	case 17:
		return w_udp(w, l, off, end, depth);
	case 1:
		return l->family == 4 ? w_icmp4(w, l, off, end, depth) : off;
	case 58:
		return l->family == 6 ? w_icmp6(w, l, off, end, depth) : off;
	default:
		break;
	}
	if (l->embedded || depth >= MAX_DEPTH)
		return off;
	switch (proto) {
	case 47:
		return w_gre(w, off, end, depth);
	case 4:
		return w_l3(w, off, end, ETH_P_IPV4, depth + 1, 0);
	case 41:
		return w_l3(w, off, end, ETH_P_IPV6, depth + 1, 0);
	default:
		return off; /* unknown L4: keep the L3 header only */
	}
}

static size_t w_ip4(struct walk *w, size_t off, size_t end, int depth, int embedded)
{
	uint8_t *p = w->d + off;

	if (!have(off, 1, end))
		return end;
	if ((p[0] >> 4) != 4)
		return off;
	size_t ihl = (size_t)(p[0] & 0x0f) * 4;

	if (ihl < 20) /* bogus: nothing after the version byte is vetted */
		return off + 1;
	anon_addr(w, off + 12, end, A_IP4);
	anon_addr(w, off + 16, end, A_IP4);
	fill(w, off + 20, ihl - 20, end, 1); /* options (record route...): NOPs */
	if (!have(off, ihl, end)) {
		fill(w, off + 10, 2, end, 0); /* cannot recompute: do not leak the old one */
		return end;
	}
	if (w->a) {
		wr16(p + 10, 0);
		wr16(p + 10, fold(sum16(p, ihl, 0)));
	}

	size_t totlen = rd16(p + 2);
	size_t l3end = end;
	struct l3 l = {.family = 4, .hdr = off, .embedded = embedded};

	if (totlen >= ihl) {
		l.len_known = 1;
		l.l4_len = totlen - ihl;
		if (off + totlen < end)
			l3end = off + totlen; /* Ethernet padding is not ours */
	}
	uint16_t frag = rd16(p + 6);

	if (frag & 0x1fff) /* non-first fragment: no L4 header */
		return off + ihl;
	l.more_frags = !!(frag & 0x2000);
	return w_l4(w, &l, p[9], off + ihl, l3end, depth);
}

static size_t w_ip6(struct walk *w, size_t off, size_t end, int depth, int embedded)
{
	uint8_t *p = w->d + off;

	if (!have(off, 1, end))
		return end;
	if ((p[0] >> 4) != 6)
		return off;
	anon_addr(w, off + 8, end, A_IP6);
	anon_addr(w, off + 24, end, A_IP6);
	if (!have(off, 40, end))
		return end;

	size_t plen = rd16(p + 4);
	size_t l3end = end;
	struct l3 l = {.family = 6, .hdr = off, .embedded = embedded};

	if (plen && off + 40 + plen < end)
		l3end = off + 40 + plen;
	uint8_t nh = p[6];
	size_t o = off + 40, ext = 0;

	for (int i = 0; i < MAX_IPV6_EXT; i++) {
		if (nh != 0 && nh != 60 && nh != 43 && nh != 44 && nh != 51)
			break;
		if (!have(o, 2, l3end))
			return l3end;
		size_t hlen;
		uint8_t next = w->d[o];

		if (nh == 44)
			hlen = 8;
		else if (nh == 51)
			hlen = ((size_t)w->d[o + 1] + 2) * 4;
		else
			hlen = ((size_t)w->d[o + 1] + 1) * 8;
		if (nh == 0 || nh == 60) /* options (home address...): Pad1 fill */
			fill(w, o + 2, hlen - 2, l3end, 0);
		else if (nh == 43) /* keep type and segments left, blank the addresses */
			fill(w, o + 4, hlen - 4, l3end, 0);
		if (!have(o, hlen, l3end))
			return l3end;
		if (nh == 44) {
			uint16_t fo = rd16(w->d + o + 2);

			if (fo & 0xfff8)
				return o + hlen;
			l.more_frags = fo & 1;
		}
		o += hlen;
		ext += hlen;
		nh = next;
	}
	if (nh == 0 || nh == 60 || nh == 43 || nh == 44 || nh == 51 || nh == 59)
		return o;
	if (plen && plen >= ext) {
		l.len_known = 1;
		l.l4_len = plen - ext;
	}
	return w_l4(w, &l, nh, o, l3end, depth);
}

static size_t w_arp(struct walk *w, size_t off, size_t end)
{
	uint8_t *p = w->d + off;

	if (!have(off, 8, end))
		return end;
	if (!w->a) /* measuring: the whole ARP message, whatever its address sizes */
		return min_sz(off + 8 + 2 * ((size_t)p[4] + p[5]), end);
	/* Only 6-byte hardware / IPv4 addresses we know how to map; cut the others. */
	if (rd16(p + 2) != ETH_P_IPV4 || p[4] != 6 || p[5] != 4)
		return off + 8;
	anon_addr(w, off + 8, end, A_MAC);
	anon_addr(w, off + 14, end, A_IP4);
	anon_addr(w, off + 18, end, A_MAC);
	anon_addr(w, off + 24, end, A_IP4);
	return min_sz(off + 28, end);
}

static size_t w_l3(struct walk *w, size_t off, size_t end, uint16_t type, int depth, int embedded)
{
	switch (type) {
	case ETH_P_IPV4:
		return w_ip4(w, off, end, depth, embedded);
	case ETH_P_IPV6:
		return w_ip6(w, off, end, depth, embedded);
	case ETH_P_ARP:
		return embedded ? off : w_arp(w, off, end);
	case ETH_P_MPLS:
	case ETH_P_MPLSMC:
		return embedded ? off : w_mpls(w, off, end, depth);
	case ETH_P_PPPOES:
		return embedded ? off : w_pppoe(w, off, end, depth);
	default:
		return off;
	}
}

static size_t w_eth(struct walk *w, size_t off, size_t end, int depth)
{
	anon_addr(w, off, end, A_MAC);
	anon_addr(w, off + 6, end, A_MAC);
	if (!have(off, 14, end))
		return end;
	uint16_t type = rd16(w->d + off + 12);
	size_t o = off + 14;

	for (int tags = 0; tags < MAX_VLAN_TAGS; tags++) {
		if (type != ETH_P_8021Q && type != ETH_P_8021AD && type != ETH_P_QINQ1)
			break;
		if (!have(o, 4, end))
			return end;
		type = rd16(w->d + o + 2);
		o += 4;
	}
	return w_l3(w, o, end, type, depth, 0);
}

/* Raw IP: the version nibble tells. */
static size_t w_raw(struct walk *w, size_t off, size_t end)
{
	if (!have(off, 1, end))
		return end;
	uint8_t v = w->d[off] >> 4;

	if (v == 4)
		return w_ip4(w, off, end, 0, 0);
	if (v == 6)
		return w_ip6(w, off, end, 0, 0);
	return off;
}

/* Linux cooked capture: the link-layer address field is 8 bytes at addr_off. */
static size_t w_sll(struct walk *w, size_t end, size_t hdr, size_t addr_off, size_t halen_off,
		    size_t proto_off)
{
	if (have(addr_off, 8, end) && have(halen_off, 1, end) && w->d[halen_off] == 6) {
		anon_addr(w, addr_off, end, A_MAC);
		fill(w, addr_off + 6, 2, end, 0);
	} else {
		fill(w, addr_off, 8, end, 0);
	}
	if (!have(0, hdr, end))
		return end;
	return w_l3(w, hdr, end, rd16(w->d + proto_off), 0, 0);
}

static size_t w_null(struct walk *w, size_t end, int both_orders)
{
	if (!have(0, 4, end))
		return end;
	const uint8_t *p = w->d;
	uint32_t be = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	uint32_t le = (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
	uint32_t af = both_orders && le < be ? le : be;

	if (af == 2)
		return w_ip4(w, 4, end, 0, 0);
	if (af == 10 || af == 24 || af == 28 || af == 30)
		return w_ip6(w, 4, end, 0, 0);
	return 4;
}

/* Walk from the link-layer header: where the vetted headers end, or -EPROTONOSUPPORT. */
static int walk_link(struct walk *w, size_t end, uint32_t linktype, size_t *keep)
{
	switch (linktype) {
	case 1:
		*keep = w_eth(w, 0, end, 0);
		break;
	case 101:
	case 12:
	case 14:
		*keep = w_raw(w, 0, end);
		break;
	case 113: /* type 2, hatype 2, halen 2, addr 8, protocol 2 */
		*keep = w_sll(w, end, 16, 6, 5, 14);
		break;
	case 276: /* protocol 2, reserved 2, ifindex 4, hatype 2, pkttype 1, halen 1, addr 8 */
		*keep = w_sll(w, end, 20, 12, 11, 0);
		break;
	case 228: /* LINKTYPE_IPV4 */
		*keep = w_ip4(w, 0, end, 0, 0);
		break;
	case 229: /* LINKTYPE_IPV6 */
		*keep = w_ip6(w, 0, end, 0, 0);
		break;
	case 9:	 /* PPP: address 0xff and control 0x03 may be omitted */
	case 50: /* PPP in HDLC-like framing */
		*keep = have(0, 2, end) && w->d[0] == 0xff && w->d[1] == 0x03
			    ? w_ppp_payload(w, 2, end, 0)
			    : w_ppp_payload(w, 0, end, 0);
		break;
	case 104: /* Cisco HDLC: address, control, ethertype */
		*keep = have(0, 4, end) ? w_l3(w, 4, end, rd16(w->d + 2), 0, 0) : end;
		break;
	case 0:
		*keep = w_null(w, end, 1);
		break;
	case 108:
		*keep = w_null(w, end, 0);
		break;
	default:
		return -EPROTONOSUPPORT;
	}
	if (*keep > end) /* cannot happen: every walker clips at end */
		*keep = end;
	return 0;
}

int pkt_anon_packet(struct pkt_anon *a, uint8_t *data, uint32_t caplen, uint32_t linktype,
		    uint32_t *new_caplen)
{
	struct walk w = {a, data};
	size_t end = caplen, keep;

	if (!a || !new_caplen || (!data && caplen))
		return -EINVAL;
	*new_caplen = 0;
	if (!caplen)
		return 0;
	if (walk_link(&w, end, linktype, &keep)) {
		memset(data, 0, caplen);
		return -EPROTONOSUPPORT;
	}
	memset(data + keep, 0, end - keep);
	*new_caplen = (uint32_t)keep;
	return 0;
}

int pkt_headers_len(const uint8_t *data, uint32_t caplen, uint32_t linktype, uint32_t *hdr_len)
{
	/* a == NULL: the walker only reads (see struct walk) */
	struct walk w = {NULL, (uint8_t *)data};
	size_t keep = 0;
	int rc;

	if (!hdr_len || (!data && caplen))
		return -EINVAL;
	*hdr_len = 0;
	if (!caplen)
		return 0;
	rc = walk_link(&w, caplen, linktype, &keep);
	if (rc)
		return rc;
	*hdr_len = (uint32_t)keep;
	return 0;
}

/* ---- EPB comments ---- */

static uint64_t skb_pseudonym(void *ctx, uint64_t addr)
{
	return pkt_anon_skb(ctx, addr);
}

static int anon_comment(struct pkt_anon *a, const char *in, char *out, size_t cap, unsigned flags)
{
	int r;

	if (!out)
		return -EINVAL;
	if (!cap)
		return -ENOSPC;
	out[0] = '\0';
	if (!a || !in)
		return -EINVAL;
	/* the key table says which values are kernel addresses (skb=, head=) */
	r = trace_comment_rewrite(in, out, cap, flags, skb_pseudonym, a);
	if (r)
		out[0] = '\0';
	return r;
}

int pkt_anon_comment(struct pkt_anon *a, const char *in, char *out, size_t cap)
{
	return anon_comment(a, in, out, cap, 0);
}

int pkt_anon_comment_export(struct pkt_anon *a, const char *in, char *out, size_t cap)
{
	return anon_comment(a, in, out, cap, TRACE_REWRITE_KEEP_KNOWN);
}
