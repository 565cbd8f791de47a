/* SPDX-License-Identifier: MIT */
/*
 * The tracking rules (docs/format.md, "Tracking ids"), one home for both
 * sides that give ids: bpf/pktrec.bpf.c with a pcap filter, the reader's
 * record/tracker.c without one. Fixed-width types only, like pktrec.h.
 */
#ifndef PKTREC_TRACK_RULES_H
#define PKTREC_TRACK_RULES_H

#include "pktrec.h"

#ifndef __bpf__
#include <stdbool.h>
#endif
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* Where a tracking id's last hit was: the BPF map's value, the reader's slot. */
struct pktrec_track {
	__u64 id; /* 0: ended (the sk_buff was freed); ids start at 1 */
	__u64 last_ts;
	__u64 head; /* skb->head when the id was given */
	__u64 netns;
	__u32 ifindex;
	__u32 hook;
	__u64 fp; /* the first 8 bytes of its IP header, what forwarding keeps (0: none) */
};

/*
 * The IP header's first 8 bytes (b) less what forwarding changes (ECN; for
 * IPv6 also the hop limit): 0 when not IP, never 0 for IP.
 */
static __always_inline __u64 pktrec_ip_fingerprint(__u8 b[8])
{
	__u64 fp = 0;

	if (b[0] >> 4 == 4) {
		b[1] &= 0xfc;
	} else if (b[0] >> 4 == 6) {
		b[1] &= 0xcf;
		b[7] = 0;
	} else {
		return 0;
	}
	__builtin_memcpy(&fp, b, sizeof(fp));
	return fp ? fp : 1;
}

/*
 * Is this hit plausibly the same packet as the id's last hit (was)? One skb
 * keeps its head; it enters a device (queue/rx entry hooks) at most once in
 * a row, and the core receives it (netif_receive_skb) at most once in a row
 * on one device; and it is queued or sent only in the namespace where it
 * was last seen (it changes namespace on receive: veth, tunnels); once a
 * process read it, no device sees it again. The caller checks the time-out.
 */
static __always_inline bool pktrec_same_packet(const struct pktrec_track *was, __u64 head,
					       __u64 netns, __u32 ifindex, __u32 hook, __u64 fp)
{
	if (was->head != head)
		return false;
	/*
	 * Slab reuse hands a new sk_buff the freed one's address and often its
	 * head too (a TCP segment silently freed by __kfree_skb, then an ACK):
	 * the IP header's first bytes tell them apart, and forwarding keeps them.
	 */
	if (fp && was->fp && fp != was->fp)
		return false;
	if (was->netns == netns && was->ifindex == ifindex &&
	    ((PKTREC_HOOKS_ENTRY >> hook & 1) ||
	     (hook == HOOK_NETIF_RECEIVE_SKB && was->hook == hook)))
		return false;
	if ((PKTREC_HOOKS_TX >> hook & 1) && was->netns != netns)
		return false;
	/*
	 * Data a process has read is not sent or received again: the next
	 * device hit at that address is a new packet. Without a free hook
	 * nothing else tells (a TCP segment nc read, then an echo reply in the
	 * same sk_buff and data buffer: the read's snapshot is payload, so no
	 * fingerprint either).
	 */
	if ((PKTREC_HOOKS_DELIVER >> was->hook & 1) && (PKTREC_HOOKS_DEVICE >> hook & 1))
		return false;
	return true;
}

#endif
