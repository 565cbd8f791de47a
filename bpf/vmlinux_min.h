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

struct in6_addr {
	__u8 s6_addr[16]; /* the kernel's is a union of arrays: read with bpf_core_read */
};

/* addresses and ports: in anonymous unions/structs in the kernel, found by name */
struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	volatile unsigned char skc_state;
	possible_net_t skc_net;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
};

typedef struct {
	int counter;
} atomic_t;

struct sock {
	struct sock_common __sk_common;
	struct {
		atomic_t rmem_alloc;
	} sk_backlog;
	int sk_rcvbuf;
};

/* ---- the optional hooks' arguments (hooks.def: icmp_send ... qdisc_dequeue) ---- */

struct flowi_common {
	int flowic_oif;
	int flowic_iif;
	__u8 flowic_proto;
};

union flowi_uli {
	struct {
		__be16 dport;
		__be16 sport;
	} ports;
};

struct flowi4 {
	struct flowi_common __fl_common;
	__be32 saddr;
	__be32 daddr;
	union flowi_uli uli;
};

struct flowi6 {
	struct flowi_common __fl_common;
	struct in6_addr daddr;
	struct in6_addr saddr;
	union flowi_uli uli;
};

struct fib_nh_common {
	struct net_device *nhc_dev;
	__u8 nhc_gw_family;
	union {
		__be32 ipv4;
		struct in6_addr ipv6;
	} nhc_gw;
};

struct fib6_nh {
	struct fib_nh_common nh_common;
};

struct fib6_result {
	struct fib6_nh *nh;
};

struct fib6_table {
	__u32 tb6_id;
};

struct neigh_table {
	int family;
	unsigned int key_len;
};

struct neighbour {
	struct neigh_table *tbl;
	__u8 nud_state;
	struct net_device *dev;
	__u8 primary_key[0];
};

struct netdev_queue {
	struct net_device *dev;
};

struct Qdisc_ops {
	char id[16];
};

struct Qdisc {
	const struct Qdisc_ops *ops;
	__u32 handle;
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
