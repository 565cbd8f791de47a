/* SPDX-License-Identifier: MIT */
/*
 * The few kernel types pktrec.bpf.c reads, written by hand for CO-RE (as
 * libbpf-tools do), so the build needs no /sys/kernel/btf/vmlinux.  Only the
 * fields used are declared; preserve_access_index makes every access a CO-RE
 * relocation that libbpf resolves against the running kernel's BTF at load
 * time (by name, also through the anonymous structs/unions the real
 * sk_buff nests its fields in).
 */
#ifndef PKTREC_VMLINUX_MIN_H
#define PKTREC_VMLINUX_MIN_H

typedef unsigned char __u8;
typedef signed char __s8;
typedef unsigned short __u16;
typedef short __s16;
typedef unsigned int __u32;
typedef int __s32;
typedef unsigned long long __u64;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
enum { false = 0, true = 1 };

/* uapi bits bpf_helpers.h and the maps below need */
enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_RINGBUF = 27,
};
enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
	BPF_EXIST = 2,
};

/*
 * Registers as bpf_tracing.h sees them for kprobes when built without the
 * kernel's headers (the uapi layout, which is what a kprobe's ctx is).
 */
#if defined(__TARGET_ARCH_x86)
struct pt_regs {
	unsigned long r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
	unsigned long rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, eflags, rsp, ss;
};
#define PKTREC_HAVE_KPROBE 1
#elif defined(__TARGET_ARCH_arm64)
struct user_pt_regs {
	__u64 regs[31];
	__u64 sp;
	__u64 pc;
	__u64 pstate;
};
#define PKTREC_HAVE_KPROBE 1
#endif

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct ns_common {
	unsigned int inum;
};

struct net {
	struct ns_common ns;
};

typedef struct {
	struct net *net;
} possible_net_t;

struct net_device {
	char name[16];
	int ifindex;
	unsigned short type;
	possible_net_t nd_net;
};

struct sock_common {
	possible_net_t skc_net;
};

struct sock {
	struct sock_common __sk_common;
};

struct nsproxy {
	struct net *net_ns;
};

struct task_struct {
	int pid;
	char comm[16];
	struct nsproxy *nsproxy;
};

struct sk_buff {
	struct net_device *dev;
	struct sock *sk;
	unsigned int len;
	unsigned int data_len;
	__be16 protocol;
	__u16 network_header;
	__u16 mac_header;
	unsigned int tail; /* sk_buff_data_t: an offset on 64-bit kernels */
	unsigned int end;
	unsigned char *head;
	unsigned char *data;
};

#pragma clang attribute pop

#endif
