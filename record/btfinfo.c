// SPDX-License-Identifier: MIT
/*
 * Facts about the running kernel read from its BTF in user space: which
 * tracepoints exist and with how many arguments, which functions fentry can
 * hook, and the names of enum skb_drop_reason.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "record.h"

static struct btf *vmlinux_btf;

int btfinfo_load(char *err, size_t errlen)
{
	if (vmlinux_btf)
		return 0;
	vmlinux_btf = btf__load_vmlinux_btf();
	if (!vmlinux_btf) {
		int e = errno ? errno : ENOENT;
		snprintf(err, errlen, "cannot read the kernel's BTF (/sys/kernel/btf/vmlinux): %s",
			 strerror(e));
		return -e;
	}
	return 0;
}

int btfinfo_tp_nargs(const char *tp)
{
	char name[128];
	const struct btf_type *t;
	int id;

	if (!vmlinux_btf)
		return -1;
	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(vmlinux_btf, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return -1;
	t = btf__type_by_id(vmlinux_btf, id);
	if (!t)
		return -1;
	t = btf__type_by_id(vmlinux_btf, t->type); /* pointer */
	if (!t || !btf_is_ptr(t))
		return -1;
	t = btf__type_by_id(vmlinux_btf, t->type); /* func proto */
	if (!t || !btf_is_func_proto(t))
		return -1;
	return btf_vlen(t) > 0 ? btf_vlen(t) - 1 : 0; /* minus the void *__data */
}

bool btfinfo_has_func(const char *fn)
{
	return vmlinux_btf && btf__find_by_name_kind(vmlinux_btf, fn, BTF_KIND_FUNC) > 0;
}

bool btfinfo_has_enum_value(const char *enum_name, const char *value)
{
	int id;
	const struct btf_type *t;

	if (!vmlinux_btf)
		return false;
	id = btf__find_by_name_kind(vmlinux_btf, enum_name, BTF_KIND_ENUM);
	if (id < 0 || !(t = btf__type_by_id(vmlinux_btf, id)))
		return false;
	const struct btf_enum *e = btf_enum(t);
	for (int i = 0; i < btf_vlen(t); i++, e++) {
		const char *n = btf__name_by_offset(vmlinux_btf, e->name_off);
		if (n && !strcmp(n, value))
			return true;
	}
	return false;
}

const char *btfinfo_drop_reason(uint32_t reason)
{
	static const char prefix[] = "SKB_DROP_REASON_";
	static int enum_id = -2;
	const struct btf_type *t;

	if (!vmlinux_btf)
		return NULL;
	if (enum_id == -2)
		enum_id = btf__find_by_name_kind(vmlinux_btf, "skb_drop_reason", BTF_KIND_ENUM);
	if (enum_id < 0)
		return NULL;
	t = btf__type_by_id(vmlinux_btf, enum_id);
	if (!t)
		return NULL;
	const struct btf_enum *e = btf_enum(t);
	for (int i = 0; i < btf_vlen(t); i++, e++) {
		if ((uint32_t)e->val != reason)
			continue;
		const char *n = btf__name_by_offset(vmlinux_btf, e->name_off);
		if (!n)
			return NULL;
		if (!strncmp(n, prefix, sizeof(prefix) - 1))
			n += sizeof(prefix) - 1;
		return n;
	}
	return NULL;
}

void btfinfo_free(void)
{
	btf__free(vmlinux_btf);
	vmlinux_btf = NULL;
}
