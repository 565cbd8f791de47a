/* SPDX-License-Identifier: MIT */
/*
 * Tracking ids given by the reader (no pcap filter: bpf/pktrec.bpf.c's
 * user_track). The kernel side keeps no state per sk_buff then; this table,
 * keyed by the sk_buff's address, applies the rules the kernel's fallback
 * mode applies (docs/format.md, "Tracking ids"): a hit continues the
 * address's id when it is plausibly the same packet (same data buffer, same
 * IP header fingerprint, a device order the kernel can make, within 1 s of
 * the last hit), else it starts a new id; a recorded free ends the id.
 */
#ifndef PKT_RECORD_TRACKER_H
#define PKT_RECORD_TRACKER_H

#include <stdint.h>
#include <linux/types.h>
#include "pktrec.h"

struct tracker;

struct tracker *tracker_new(void);
/*
 * Give e its tracking id: e->track and PKTREC_F_NEW_TRACK for a hit; for an
 * event (hooks.def kind CAUSE) e->skb names the sk_buff it concerns: e->track
 * becomes that sk_buff's id (0: not tracked) and e->skb 0, as the kernel
 * writes events when it tracks. e is the reader's copy of a ring event.
 */
void tracker_assign(struct tracker *t, struct pktrec_event *e);
void tracker_free(struct tracker *t);

#endif
