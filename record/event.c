// SPDX-License-Identifier: MIT
/* A ring event -> the frame, its metadata and its comment (see event.h). */
#include "event.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "anonymize.h" /* pkt_headers_len */
#include "trace.h"
#include "hooks.h"
#include "ksyms.h"
#include "pcapng.h"
#include "record.h"

bool event_valid(const void *data, size_t size)
{
	const struct pktrec_event *e = data;

	/* the kernel side reserves PKTREC_EVENT_SIZE(snaplen): data[] is cut there */
	return size >= offsetof(struct pktrec_event, data) &&
	       e->snap_len <= size - offsetof(struct pktrec_event, data) && e->hook < HOOK_MAX;
}

static int pcapng_dir_of(enum pkt_hook_dir dir)
{
	return dir == PKT_HOOK_DIR_TX	? PCAPNG_DIR_OUTBOUND
	       : dir == PKT_HOOK_DIR_RX ? PCAPNG_DIR_INBOUND
					: PCAPNG_DIR_UNKNOWN;
}

/* The frame as written: the snapshot, behind a synthetic Ethernet header where needed. */
static void build_frame(const struct event_ctx *ctx, const struct pktrec_event *e,
			struct event_out *out)
{
	uint32_t snap = e->snap_len > PKTREC_MAX_SNAP ? PKTREC_MAX_SNAP : e->snap_len;
	bool synth = e->flags & PKTREC_F_L2_SYNTH;

	if (synth) {
		memcpy(out->frame + PKTREC_ETH_HLEN, e->data, snap);
		l2_synth_header(out->frame, e->protocol, snap);
	} else {
		memcpy(out->frame, e->data, snap);
	}
	l2_frame_lengths(synth, snap, e->orig_len, ctx->snaplen, &out->caplen, &out->wirelen);
}

/* The user-space filter and the set of ids that matched once. true: keep. */
static bool filter_keeps(const struct event_ctx *ctx, const struct pktrec_event *e,
			 const struct event_out *out)
{
	bool is_free = pkt_hook_kind_is_free(pkt_hooks[e->hook].kind);

	if (!ctx->filter_match)
		return true;
	if (trackset_has(ctx->matched, e->track, e->ts_ns)) {
		if (is_free)
			trackset_del(ctx->matched, e->track);
		return true;
	}
	if (!ctx->filter_match(out->frame, out->caplen, out->wirelen))
		return false;
	/* out of memory: this hop is kept, later ones must match again */
	if (!is_free)
		(void)trackset_add(ctx->matched, e->track, e->ts_ns);
	return true;
}

/* The hop pkt-record writes: the comment's keys and the packet (docs/format.md). */
static void fill_hop(const struct event_ctx *ctx, const struct pktrec_event *e,
		     struct event_out *out)
{
	const char *hook = pkt_hooks[e->hook].name;
	size_t hook_len = strlen(hook); /* no printf per event: it showed */
	struct trace_hop *h = &out->hop;

	memset(h, 0, sizeof(*h));
	memcpy(h->hook, hook, hook_len < sizeof(h->hook) ? hook_len : sizeof(h->hook) - 1);
	h->netns = e->netns;
	memcpy(h->ifname, out->ifname, sizeof(out->ifname));
	h->ifindex = e->ifindex;
	h->skb = e->skb;
	h->track = e->track;
	h->cpu = e->cpu;
	h->pid = e->pid;
	memcpy(h->comm, e->comm, PKTREC_COMM_LEN);
	h->comm[PKTREC_COMM_LEN] = '\0';
	if (out->drop)
		snprintf(h->drop, sizeof(h->drop), "%s", out->drop);
	h->l2_synth = !!(e->flags & PKTREC_F_L2_SYNTH);
	/* a MAC header whose ethertype is not skb->protocol: say what the kernel thought */
	if (!h->l2_synth && out->caplen >= PKTREC_ETH_HLEN && e->protocol > 0x0600) {
		uint16_t et = (uint16_t)(out->frame[12] << 8 | out->frame[13]);

		if (et != e->protocol && et != 0x8100 && et != 0x88a8) {
			h->has_proto = true;
			h->proto = e->protocol;
		}
	}
	/* where kfree_skb was called, named from kallsyms */
	if (e->location && ksyms_format(ctx->ksyms, e->location, h->loc, sizeof(h->loc)) <= 0)
		h->loc[0] = '\0';
	h->has_head = e->head != 0;
	h->head = e->head;
	h->has_netns = true;
	h->has_track = true;
	h->ours = true;
	h->ts_ns = out->wall_ns;
	h->dir = (uint8_t)out->dir;
	h->has_packetid = true;
	h->packetid = e->track;
	h->data = out->frame;
	h->caplen = out->caplen;
	h->origlen = out->wirelen;
}

int event_decode(const struct event_ctx *ctx, const void *data, size_t size, struct event_out *out)
{
	const struct pktrec_event *e = data;

	if (!event_valid(data, size))
		return -EINVAL;
	build_frame(ctx, e, out);
	if (!filter_keeps(ctx, e, out))
		return EVENT_FILTERED;

	/* after the filter, which may look at payload bytes; the wire length stays */
	if (ctx->headers_only) {
		uint32_t hlen;

		if (pkt_headers_len(out->frame, out->caplen, PCAPNG_LINKTYPE_ETHERNET, &hlen))
			hlen = out->caplen < PKTREC_ETH_HLEN ? out->caplen : PKTREC_ETH_HLEN;
		if (hlen < out->caplen)
			out->caplen = hlen;
	}

	out->drop = NULL;
	if (e->flags & PKTREC_F_HAS_DROP) {
		out->drop = ctx->drop_reason_name ? ctx->drop_reason_name(e->drop_reason) : NULL;
		if (!out->drop) {
			snprintf(out->drop_buf, sizeof(out->drop_buf), "0x%x", e->drop_reason);
			out->drop = out->drop_buf;
		}
	}
	out->wall_ns = (uint64_t)((int64_t)e->ts_ns + ctx->mono_to_real);
	out->dir = pcapng_dir_of(pkt_hooks[e->hook].dir);
	memcpy(out->ifname, e->ifname, PKTREC_IFNAMSIZ);
	out->ifname[PKTREC_IFNAMSIZ] = '\0';
	if (ctx->want_hop)
		fill_hop(ctx, e, out);
	return 0;
}
