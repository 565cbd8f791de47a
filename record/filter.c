// SPDX-License-Identifier: MIT
/*
 * The pcap-filter expression of pkt-record, compiled for Ethernet by the
 * shared helper (common/cli.c), run on each event's snapshot in user space
 * or exported to the kernel. Kept apart from the libbpf code: <pcap/bpf.h>
 * and <linux/bpf.h> both define struct bpf_insn.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>
#include "cli.h"
#include "pcapng.h"
#include "record.h"

static struct cli_filter *filter;

int filter_compile(const char *expr, uint32_t snaplen, char *err, size_t errlen)
{
	cli_filter_free(filter);
	return cli_filter_compile(&filter, expr, PCAPNG_LINKTYPE_ETHERNET, snaplen, err, errlen);
}

bool filter_match(const uint8_t *pkt, uint32_t caplen, uint32_t origlen)
{
	return !filter || cli_filter_match(filter, pkt, caplen, origlen);
}

/*
 * Copy the compiled program (struct bpf_insn: u16 code, u8 jt, u8 jf, u32 k;
 * the layout of bpf/cbpf.h's struct cbpf_insn) into dst for the kernel.
 * Returns the instruction count, or -1 when there is none or it exceeds max.
 */
int filter_export(void *dst, size_t max)
{
	const struct bpf_program *prog = filter ? cli_filter_program(filter) : NULL;

	if (!prog || prog->bf_len == 0 || prog->bf_len > max)
		return -1;
	memcpy(dst, prog->bf_insns, prog->bf_len * sizeof(prog->bf_insns[0]));
	return (int)prog->bf_len;
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
	const struct bpf_program *prog = filter ? cli_filter_program(filter) : NULL;
	uint64_t *paths, *steps, total;
	uint32_t n = prog ? prog->bf_len : 0;

	if (n == 0)
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
		const struct bpf_insn *in = &prog->bf_insns[i];
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
	cli_filter_free(filter);
	filter = NULL;
}
