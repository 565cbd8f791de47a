/* SPDX-License-Identifier: MIT */
/*
 * Shared between bpf/pktrec.bpf.c and pkt-record: hook ids, the fixed-width
 * event sent through the ring buffer, and the per-hook counters.
 * Fixed-width types only (no kernel or libc types) so both sides agree.
 */
#ifndef PKTREC_H
#define PKTREC_H

#define PKTREC_MAX_SNAP	   256 /* largest header snapshot, bytes */
#define PKTREC_DEF_SNAP	   128
#define PKTREC_IFNAMSIZ	   16
#define PKTREC_COMM_LEN	   16
#define PKTREC_MAX_IFNAMES 8 /* -i may be given this many times */

/* one value per line of hooks.def, in its order */
enum pktrec_hook {
#define HOOK(id, group, tp, dir, dflt, kind, entry) HOOK_##id,
#include "hooks.def"
#undef HOOK
	HOOK_MAX,
};

/* pktrec_event.flags */
#define PKTREC_F_L2_SYNTH                                                                          \
	0x01 /* data starts at the network header: add a synthetic Ethernet header */
#define PKTREC_F_MAC_SET   0x02 /* skb->mac_header was set */
#define PKTREC_F_NO_DEV	   0x04 /* skb->dev was NULL */
#define PKTREC_F_HAS_DROP  0x08 /* drop_reason is valid */
#define PKTREC_F_NEW_TRACK 0x10 /* first hit of this tracking id */

struct pktrec_event {
	__u64 ts_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 skb;   /* kernel address of the sk_buff */
	__u64 track; /* tracking id */
	__u64 netns; /* network namespace inode */
	__u32 ifindex;
	__u32 len; /* skb->len */
	__u32 pid; /* thread id (0 in idle) */
	__u32 cpu;
	__u32 drop_reason; /* enum skb_drop_reason for kfree_skb */
	__u16 protocol;	   /* skb->protocol, host byte order */
	__u16 snap_len;	   /* bytes valid in data[] */
	__u8 hook;	   /* enum pktrec_hook */
	__u8 flags;	   /* PKTREC_F_* */
	__u8 pad[2];
	__u32 orig_len; /* bytes on the wire from data[0] on (skb->len adjusted to the snapshot
			   start) */
	char ifname[PKTREC_IFNAMSIZ];
	char comm[PKTREC_COMM_LEN];
	__u64 head; /* skb->head: the data buffer, shared by clones */
	__u8 data[PKTREC_MAX_SNAP];
};

/* bytes of a ring event carrying up to snap bytes of snapshot, a multiple of 8 */
#define PKTREC_EVENT_SIZE(snap) ((__builtin_offsetof(struct pktrec_event, data) + (snap) + 7) & ~7u)

/* Per-CPU counters, one slot per hook. */
struct pktrec_stats {
	__u64 hits;	/* events that passed the in-kernel filters */
	__u64 lost;	/* of those, events the ring buffer had no room for */
	__u64 filtered; /* hits the pcap filter rejected in the kernel (not in hits) */
};

#endif
