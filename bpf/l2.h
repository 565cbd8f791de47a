/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The synthetic Ethernet header pkt-record writes where an sk_buff has no
 * MAC header (docs/format.md, l2=synth): zero MACs and the ethertype from
 * skb->protocol. One builder for both sides: the BPF program frames the
 * snapshot this way before it runs the pcap filter, and pkt-record frames
 * it this way when it writes, so the filter sees the bytes of the file.
 *
 * Needs: __u8/__u16/__u32, bool and __always_inline defined by the includer.
 */
#ifndef PKTREC_L2_H
#define PKTREC_L2_H

#define PKTREC_ETH_HLEN 14

/*
 * Ethertype for the header: skb->protocol (host byte order), or, when it
 * says nothing (0, ETH_P_ALL on some transmit paths), the IP version in
 * the first byte of the network header.
 */
static __always_inline __u16 l2_synth_ethertype(__u16 protocol, const __u8 *l3, __u32 l3_len)
{
	if ((protocol == 0 || protocol == 0x0003 /* ETH_P_ALL */) && l3_len) {
		if (l3[0] >> 4 == 4)
			return 0x0800;
		if (l3[0] >> 4 == 6)
			return 0x86dd;
	}
	return protocol;
}

/* The synthetic header with this ethertype into frame[0..14): zero MAC addresses. */
static __always_inline void l2_put_header(__u8 *frame, __u16 ethertype)
{
	__builtin_memset(frame, 0, 12);
	frame[12] = ethertype >> 8;
	frame[13] = ethertype & 0xff;
}

/*
 * Write the header into frame[0..14), in front of the l3_len snapshot bytes
 * already at frame + PKTREC_ETH_HLEN.
 */
static __always_inline void l2_synth_header(__u8 *frame, __u16 protocol, __u32 l3_len)
{
	l2_put_header(frame, l2_synth_ethertype(protocol, frame + PKTREC_ETH_HLEN, l3_len));
}

/*
 * Captured and wire length of the frame as written: snap_len snapshot bytes
 * of a packet with orig_len bytes from the snapshot's start on, behind a
 * synthetic header when synth, cut at snaplen.
 */
static __always_inline void l2_frame_lengths(bool synth, __u32 snap_len, __u32 orig_len,
					     __u32 snaplen, __u32 *caplen, __u32 *wirelen)
{
	__u32 cap = snap_len, wire = orig_len;

	if (synth) {
		cap += PKTREC_ETH_HLEN;
		wire += PKTREC_ETH_HLEN;
	}
	if (cap > snaplen)
		cap = snaplen;
	if (wire < cap)
		wire = cap;
	*caplen = cap;
	*wirelen = wire;
}

#endif
