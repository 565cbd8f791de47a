// SPDX-License-Identifier: MIT
/*
 * Fuzz the anonymizer with a fixed key: the input as an Ethernet frame, as a
 * raw IP packet, as the link type its first byte picks, and as an EPB
 * comment. Each packet run is on an exact-size heap copy so ASan catches
 * any access past caplen; the result must be deterministic and no longer
 * than the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "anonymize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pkt_anon *anon;

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
out:
	free(x);
	free(y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t linktypes[] = {1, 101, 12, 14, 113, 276, 0, 108};
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
		run_packet(data + 1, size - 1, linktypes[data[0] % 8]);

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
