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
#define PKTREC_MAX_NETNS   8 /* --netns may be given this many times */

/* hooks.def's kind column (hooks.def explains each) */
enum pkt_hook_kind {
	PKT_HOOK_KIND_UNKNOWN = 0, /* a hook name this build does not know */
	PKT_HOOK_KIND_TX,
	PKT_HOOK_KIND_RX,
	PKT_HOOK_KIND_FREE_DROP,
	PKT_HOOK_KIND_FREE_CONSUME,
	PKT_HOOK_KIND_DELIVER,
	PKT_HOOK_KIND_CAUSE,
	PKT_HOOK_KIND_CAUSE_SKB,
};

/* hooks.def's direction column */
enum pkt_hook_dir {
	PKT_HOOK_DIR_NONE = 0,
	PKT_HOOK_DIR_TX,
	PKT_HOOK_DIR_RX,
};

/* one value per line of hooks.def, in its order */
enum pktrec_hook {
#define HOOK(id, group, tp, dir, dflt, kind, entry) HOOK_##id,
#include "hooks.def"
#undef HOOK
	HOOK_MAX,
};

/*
 * Sets of hooks by hooks.def's columns, one bit per enum pktrec_hook: the
 * BPF side's predicates (the hook is a constant in each stub, so a test of
 * a bit folds away) and user space's hook masks alike.
 */
#define PKTREC_HOOK_BIT_IF(cond, id) ((cond) ? 1u << HOOK_##id : 0u)
enum pktrec_hook_sets {
	PKTREC_HOOKS_ALL = (1u << HOOK_MAX) - 1,
	PKTREC_HOOKS_DEFAULT = 0
#define HOOK(id, group, tp, dir, dflt, kind, entry) | PKTREC_HOOK_BIT_IF(dflt, id)
#include "hooks.def"
#undef HOOK
	,
	/* the first hook a device fires for a packet */
	PKTREC_HOOKS_ENTRY = 0
#define HOOK(id, group, tp, dir, dflt, kind, entry) | PKTREC_HOOK_BIT_IF(entry, id)
#include "hooks.def"
#undef HOOK
	,
	/* handed to a device to send: data points at the link-layer header */
	PKTREC_HOOKS_TX = 0
#define HOOK(id, group, tp, dir, dflt, kind, entry)                                                \
	| PKTREC_HOOK_BIT_IF(PKT_HOOK_KIND_##kind == PKT_HOOK_KIND_TX, id)
#include "hooks.def"
#undef HOOK
	,
	/* a device sends or receives it */
	PKTREC_HOOKS_DEVICE = 0
#define HOOK(id, group, tp, dir, dflt, kind, entry)                                                \
	| PKTREC_HOOK_BIT_IF(PKT_HOOK_KIND_##kind == PKT_HOOK_KIND_TX ||                           \
				 PKT_HOOK_KIND_##kind == PKT_HOOK_KIND_RX,                         \
			     id)
#include "hooks.def"
#undef HOOK
	,
	/* a process reads its data from a socket */
	PKTREC_HOOKS_DELIVER = 0
#define HOOK(id, group, tp, dir, dflt, kind, entry)                                                \
	| PKTREC_HOOK_BIT_IF(PKT_HOOK_KIND_##kind == PKT_HOOK_KIND_DELIVER, id)
#include "hooks.def"
#undef HOOK
	,
	/* the sk_buff is freed: its tracking entry ends */
	PKTREC_HOOKS_FREE = 0
#define HOOK(id, group, tp, dir, dflt, kind, entry)                                                \
	| PKTREC_HOOK_BIT_IF(PKT_HOOK_KIND_##kind == PKT_HOOK_KIND_FREE_DROP ||                    \
				 PKT_HOOK_KIND_##kind == PKT_HOOK_KIND_FREE_CONSUME,               \
			     id)
#include "hooks.def"
#undef HOOK
	,
};
/* a hook mask is 32 bits (record_mask, -e), and the sets are int enum constants */
_Static_assert(HOOK_MAX <= 31, "more hooks than bits in a hook mask");

/* pktrec_event.flags */
#define PKTREC_F_L2_SYNTH                                                                          \
	0x01 /* data starts at the network header: add a synthetic Ethernet header */
#define PKTREC_F_MAC_SET   0x02 /* skb->mac_header was set */
#define PKTREC_F_NO_DEV	   0x04 /* skb->dev was NULL */
#define PKTREC_F_HAS_DROP  0x08 /* drop_reason is valid */
#define PKTREC_F_NEW_TRACK 0x10 /* first hit of this tracking id */

/*
 * An event with no packet of its own (hooks.def kind CAUSE): a pktrec_event
 * with skb 0, track the tracking id of the sk_buff it concerns (0: none or
 * not tracked), snap_len = sizeof(struct pktrec_cause) and data[] holding
 * this. Each hook fills what it knows and says so in flags.
 */
#define PKTREC_C_FIB	   0x0001 /* table, err */
#define PKTREC_C_OIF	   0x0002 /* oif: the route's output device */
#define PKTREC_C_GW	   0x0004 /* gw (gw_family) */
#define PKTREC_C_ADDRS	   0x0008 /* saddr, daddr (family) */
#define PKTREC_C_PORTS	   0x0010 /* sport, dport, host byte order */
#define PKTREC_C_L4PROTO   0x0020 /* l4proto */
#define PKTREC_C_TCP_STATE 0x0040 /* state: a TCP state (enum in include/net/tcp_states.h) */
#define PKTREC_C_NEIGH	   0x0080 /* daddr (family) is the neighbour, state its NUD_* bits */
#define PKTREC_C_DEAD	   0x0100 /* neigh_event_send_dead: the neighbour entry is dead */
#define PKTREC_C_RC	   0x0200 /* rc */
#define PKTREC_C_QDISC	   0x0400 /* qdisc: the kind, or handle when the name is empty */
#define PKTREC_C_NO_SOCK   0x0800 /* the tracepoint had no socket: tcp_state=- */

struct pktrec_cause {
	__u8 saddr[16];
	__u8 daddr[16];
	__u8 gw[16];
	__u32 table;
	__s32 err;
	__s32 rc;
	__u32 oif;
	__u32 handle; /* qdisc handle (major << 16 | minor) */
	__u16 sport, dport;
	__u16 flags; /* PKTREC_C_* */
	__u8 family; /* of saddr/daddr: 2 (AF_INET) or 10 (AF_INET6) */
	__u8 gw_family;
	__u8 l4proto;
	__u8 state;
	__u8 pad[2];
	char qdisc[16];
};

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
	__u64 location; /* kfree_skb: the kernel text address it was called from, else 0 */
	__u64 head;	/* skb->head: the data buffer, shared by clones */
	__u8 data[PKTREC_MAX_SNAP];
};

/* the ring event of a CAUSE hook */
#define PKTREC_CAUSE_EVENT_SIZE                                                                    \
	((__builtin_offsetof(struct pktrec_event, data) + sizeof(struct pktrec_cause) + 7) & ~7u)
_Static_assert(sizeof(struct pktrec_cause) <= PKTREC_MAX_SNAP, "a cause fits in data[]");

/* bytes of a ring event carrying up to snap bytes of snapshot, a multiple of 8 */
#define PKTREC_EVENT_SIZE(snap) ((__builtin_offsetof(struct pktrec_event, data) + (snap) + 7) & ~7u)

/* Per-CPU counters, one slot per hook. */
struct pktrec_stats {
	__u64 hits;	/* events that passed the in-kernel filters */
	__u64 lost;	/* of those, events the ring buffer had no room for */
	__u64 filtered; /* hits the pcap filter rejected in the kernel (not in hits) */
};

#endif
