// SPDX-License-Identifier: MIT
/*
 * The pcap-filter expression, compiled by libpcap for DLT_EN10MB and run on
 * each event's snapshot in user space. Kept apart from the libbpf code:
 * <pcap/bpf.h> and <linux/bpf.h> both define struct bpf_insn.
 */
#include <stdio.h>
#include <stdlib.h>
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

/*
 * How much work the kernel's verifier does on the in-kernel filter: the
 * program's instructions are known to it (.rodata), so it walks every path
 * through the filter's jumps, and the paths multiply with each or/and. The
 * sum of the lengths of all paths, saturated; pkt-record leaves filters
 * far beyond what the verifier accepts to user space at once instead of
 * waiting seconds for a refusal.
 */
uint64_t filter_verifier_steps(void)
{
	const uint64_t cap = 1ull << 40;
	uint64_t *paths, *steps, total;
	uint32_t n = prog.bf_len;

	if (!compiled || n == 0)
		return 0;
	paths = calloc(n + 1, sizeof(*paths));
	steps = calloc(n + 1, sizeof(*steps));
	if (!paths || !steps) {
		free(paths);
		free(steps);
		return cap;
	}
	/* jumps go forward only: fill from the end; index n = past the end (reject) */
	paths[n] = 1;
	steps[n] = 0;
	for (uint32_t i = n; i-- > 0;) {
		const struct bpf_insn *in = &prog.bf_insns[i];
		uint64_t p, st;

		if (BPF_CLASS(in->code) == BPF_RET) {
			p = 1;
			st = 0;
		} else if (BPF_CLASS(in->code) == BPF_JMP) {
			uint64_t t, f;

			if (BPF_OP(in->code) == BPF_JA) {
				t = f = (uint64_t)i + 1 + in->k;
			} else {
				t = (uint64_t)i + 1 + in->jt;
				f = (uint64_t)i + 1 + in->jf;
			}
			t = t > n ? n : t;
			f = f > n ? n : f;
			p = t == f ? paths[t] : paths[t] + paths[f];
			st = t == f ? steps[t] : steps[t] + steps[f];
		} else {
			p = paths[i + 1];
			st = steps[i + 1];
		}
		paths[i] = p > cap ? cap : p;
		st += paths[i];
		steps[i] = st > cap ? cap : st;
	}
	total = steps[0];
	free(paths);
	free(steps);
	return total;
}

void filter_free(void)
{
	if (compiled)
		pcap_freecode(&prog);
	compiled = false;
}
