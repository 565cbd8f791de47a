/* SPDX-License-Identifier: MIT */
/*
 * A ring event -> what pkt-record writes for it: the frame (behind a
 * synthetic Ethernet header where the sk_buff had none, cut at the
 * snaplen), its lengths, direction, wall-clock time, drop reason and the
 * hop to write (common/trace.h), and whether the user-space filter keeps it. Pure: no globals,
 * no I/O; the caller writes the result (file or live line).
 */
#ifndef PKT_RECORD_EVENT_H
#define PKT_RECORD_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "pktrec.h"
#include "trace.h"
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#include "l2.h"

struct trackset;
struct ksyms;

/* What decoding needs besides the event; fixed for a recording. */
struct event_ctx {
	uint32_t snaplen;     /* -s: frame bytes kept, synthetic header included */
	bool headers_only;    /* cut after the innermost header (after the filter) */
	bool want_hop;	      /* fill out->hop, what the file gets (the live view needs none) */
	int64_t mono_to_real; /* CLOCK_MONOTONIC (event time) -> CLOCK_REALTIME */
	/*
	 * The pcap filter, when it runs in user space (NULL: none, or in the
	 * kernel): true keeps the frame. A packet that matched once is kept at
	 * every later hop: its id goes into matched until its skb is freed.
	 */
	bool (*filter_match)(const uint8_t *frame, uint32_t caplen, uint32_t wirelen);
	struct trackset *matched;
	/* enum skb_drop_reason value -> name without SKB_DROP_REASON_; NULL if unknown */
	const char *(*drop_reason_name)(uint32_t reason);
	/* names kfree_skb's caller in the comment (loc=); NULL: left out */
	const struct ksyms *ksyms;
};

struct event_out {
	uint8_t frame[PKTREC_ETH_HLEN + PKTREC_MAX_SNAP];
	uint32_t caplen, wirelen;
	uint64_t wall_ns;
	int dir;	  /* PCAPNG_DIR_*: epb_flags direction of the hook */
	const char *drop; /* NULL, or the drop reason: a name or "0x..." */
	char drop_buf[24];
	char ifname[PKTREC_IFNAMSIZ + 1];
	bool is_event; /* a CAUSE hook's event: no frame (caplen 0), written as an event block */
	char keys[PKT_EXTRA_LEN]; /* the hook's own keys (icmp=3/3, fib_table=254 ...), or "" */
	struct trace_hop hop;	  /* with want_hop: the comment's keys and the packet, to write */
};

#define EVENT_FILTERED 1 /* event_decode(): the user-space filter rejected it */

/*
 * The keys of an optional hook (docs/format.md) into buf: from the
 * pktrec_cause of a CAUSE event, from the drop_reason and location words of
 * a CAUSE_SKB hit. Returns the length (0: none).
 */
int event_hook_keys(const struct pktrec_event *e, char *buf, size_t cap);

/* size bytes from the ring hold a whole event (its snapshot cut at snap_len) */
bool event_valid(const void *data, size_t size);

/*
 * Decode one ring event into out. Returns 0 (write it), EVENT_FILTERED,
 * or -EINVAL when the bytes are not a whole event.
 */
int event_decode(const struct event_ctx *ctx, const void *data, size_t size, struct event_out *out);

#endif
