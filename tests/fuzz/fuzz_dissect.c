// SPDX-License-Identifier: MIT
/*
 * Fuzz the header dissector: first byte picks the link type, the rest is the
 * snapshot. The snapshot is copied into an exact-size heap buffer so ASan
 * catches any read past its end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dissect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the first eight keep the meaning the older corpus entries were made with */
	static const uint32_t linktypes[] = {1,	  101, 12, 14, 113, 276, 0,   108,
					     228, 229, 9,  50, 104, 226, 129, 1};
	struct pkt_info pi;
	char summary[512], addr[PKT_ADDRSTRLEN];

	if (size < 1)
		return 0;
	uint32_t linktype = linktypes[data[0] % 16];
	size_t n = size - 1;
	uint8_t *copy = malloc(n ? n : 1);

	if (!copy)
		return 0;
	memcpy(copy, data + 1, n);
	if (pkt_dissect(copy, n, linktype, &pi) == 0) {
		const struct pkt_l3l4 *l = pkt_innermost(&pi);

		pkt_summary(&pi, summary, sizeof(summary));
		pkt_summary(&pi, summary, 7); /* truncating output must stay in bounds */
		pkt_addr_str(l, 0, addr, sizeof(addr));
		pkt_addr_str(l, 1, addr, sizeof(addr));
		(void)pkt_proto_name(&pi);
	}
	free(copy);
	return 0;
}
