// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * make bench's floor: one tp_btf program per hook of hooks.def, the same
 * kind of program pkt-record attaches, that only counts its hits. What any
 * BPF recorder on those hooks pays before it does any work (trampoline,
 * program entry, one per-CPU counter).
 */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "pktrec.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline int count(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&hits, &zero);

	if (n)
		*n += 1;
	return 0;
}

#define HOOK(id, group, tp, dir, dflt, kind, entry)                                                \
	SEC("tp_btf/" #tp)                                                                         \
	int BPF_PROG(tp)                                                                           \
	{                                                                                          \
		return count();                                                                    \
	}
#include "hooks.def"
#undef HOOK
