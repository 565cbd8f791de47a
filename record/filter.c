// SPDX-License-Identifier: MIT
/*
 * The pcap-filter expression, compiled by libpcap for DLT_EN10MB and run on
 * each event's snapshot in user space. Kept apart from the libbpf code:
 * <pcap/bpf.h> and <linux/bpf.h> both define struct bpf_insn.
 */
#include <stdio.h>
#include <string.h>
#include <pcap/pcap.h>
#include "record.h"

static struct bpf_program prog;
static bool compiled;

int filter_compile(const char *expr, uint32_t snaplen, char *err, size_t errlen)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, (int)snaplen);

	if (!p) {
		snprintf(err, errlen, "pcap_open_dead failed");
		return -1;
	}
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "%s", pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	pcap_close(p);
	compiled = true;
	return 0;
}

bool filter_match(const uint8_t *pkt, uint32_t caplen, uint32_t origlen)
{
	struct pcap_pkthdr hdr;

	if (!compiled)
		return true;
	memset(&hdr, 0, sizeof(hdr));
	hdr.caplen = caplen;
	hdr.len = origlen;
	return pcap_offline_filter(&prog, &hdr, pkt) != 0;
}

/*
 * Copy the compiled program (struct bpf_insn: u16 code, u8 jt, u8 jf, u32 k;
 * the layout of bpf/cbpf.h's struct cbpf_insn) into dst for the kernel.
 * Returns the instruction count, or -1 when there is none or it exceeds max.
 */
int filter_export(void *dst, size_t max)
{
	if (!compiled || prog.bf_len == 0 || prog.bf_len > max)
		return -1;
	memcpy(dst, prog.bf_insns, prog.bf_len * sizeof(prog.bf_insns[0]));
	return (int)prog.bf_len;
}

void filter_free(void)
{
	if (compiled)
		pcap_freecode(&prog);
	compiled = false;
}
