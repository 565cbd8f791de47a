// SPDX-License-Identifier: MIT
/*
 * Fuzz the anonymizer with a fixed key: the input as an Ethernet frame, as a
 * raw IP packet, as the link type its first byte picks, and as an EPB
 * comment. Each packet run is on an exact-size heap copy so ASan catches
 * any access past caplen; the result must be deterministic and no longer
 * than the input, and every address pkt_dissect() finds in the output must
 * be the pseudonym of the one it found at the same place in the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "anonymize.h"
#include "dissect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pkt_anon *anon;

static void same_ip(const struct pkt_l3l4 *in, const struct pkt_l3l4 *out)
{
	uint8_t e[16];

	if (!in->family || in->family != out->family)
		return;
	for (int dst = 0; dst < 2; dst++) {
		const uint8_t *a = dst ? in->dst : in->src, *b = dst ? out->dst : out->src;

		if (in->family == 4)
			pkt_anon_ip4(anon, a, e);
		else
			pkt_anon_ip6(anon, a, e);
		if (memcmp(e, b, in->family == 4 ? 4 : 16))
			__builtin_trap();
	}
	if (in->has_nd_target && out->has_nd_target) {
		pkt_anon_ip6(anon, in->nd_target, e);
		if (memcmp(e, out->nd_target, 16))
			__builtin_trap();
	}
}

static void same_mac(const uint8_t *in, const uint8_t *out)
{
	uint8_t e[6];

	pkt_anon_mac(anon, in, e);
	if (memcmp(e, out, 6))
		__builtin_trap();
}

/* What the analyzer would show of the anonymized packet is anonymized. */
static void check_dissect(const uint8_t *orig, size_t size, const uint8_t *x, uint32_t nx,
			  uint32_t linktype)
{
	struct pkt_info a, b;

	if (pkt_dissect(orig, size, linktype, &a) || pkt_dissect(x, nx, linktype, &b))
		return;
	if (a.has_eth && b.has_eth) {
		same_mac(a.eth_src, b.eth_src);
		same_mac(a.eth_dst, b.eth_dst);
	}
	if (a.is_arp && b.is_arp && a.outer.family == 4 && b.outer.family == 4) {
		same_mac(a.arp_sha, b.arp_sha);
		same_mac(a.arp_tha, b.arp_tha);
	}
	same_ip(&a.outer, &b.outer);
	if (a.has_inner && b.has_inner)
		same_ip(&a.inner, &b.inner);
}

static void run_packet(const uint8_t *data, size_t size, uint32_t linktype)
{
	uint8_t *x = malloc(size ? size : 1), *y = malloc(size ? size : 1);
	uint32_t nx = 0, ny = 0;
	int rx, ry;

	if (!x || !y)
		goto out;
	memcpy(x, data, size);
	memcpy(y, data, size);
	rx = pkt_anon_packet(anon, x, (uint32_t)size, linktype, &nx);
	ry = pkt_anon_packet(anon, y, (uint32_t)size, linktype, &ny);
	if (nx > size || rx != ry || nx != ny || memcmp(x, y, size))
		__builtin_trap();
	for (size_t i = nx; i < size; i++) /* the dropped tail is wiped */
		if (x[i])
			__builtin_trap();
	if (rx == 0)
		check_dissect(data, size, x, nx, linktype);
out:
	free(x);
	free(y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the first eight keep the meaning the older corpus entries were made with */
	static const uint32_t linktypes[] = {1,	  101, 12, 14, 113, 276, 0, 108,
					     228, 229, 9,  50, 104, 1,	 1, 1};
	static const uint8_t key[PKT_ANON_KEY_LEN] = {0x6b, 0x65, 0x79};
	char out[1024], small[24];
	char *s;

	if (!anon && pkt_anon_new(&anon, key))
		return 0;
	if (size > 0xffff) /* snapshots are small; keep the fuzzer fast */
		return 0;
	run_packet(data, size, 1);
	run_packet(data, size, 101);
	if (size)
		run_packet(data + 1, size - 1, linktypes[data[0] % 16]);

	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (pkt_anon_comment(anon, s, out, sizeof(out)) == 0 && strlen(out) >= sizeof(out))
		__builtin_trap();
	pkt_anon_comment(anon, s, small, sizeof(small));
	free(s);
	return 0;
}
