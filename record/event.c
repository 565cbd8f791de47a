// SPDX-License-Identifier: MIT
/* A ring event -> the frame, its metadata and its comment (see event.h). */
#include "event.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "anonymize.h" /* pkt_headers_len */
#include "comment.h"
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
/*
 * Append "head=0x..." (skb->head, which clones share: docs/format.md) to the
 * comment's optional pairs. By hand: a printf per event showed in profiles.
 */
static void append_head(char *extra, size_t cap, uint64_t head)
{
	char buf[8 + 16 + 1];
	size_t n = 0, used = strlen(extra);
	int shift = 60;

	if (used)
		buf[n++] = ' ';
	memcpy(buf + n, "head=0x", 7);
	n += 7;
	while (shift > 0 && !((head >> shift) & 0xf))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		buf[n++] = "0123456789abcdef"[(head >> shift) & 0xf];
	if (used + n + 1 > cap)
		return; /* cannot happen: extra holds proto= and loc= before, far below its size */
	memcpy(extra + used, buf, n);
	extra[used + n] = '\0';
}

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

static void format_comment(const struct event_ctx *ctx, const struct pktrec_event *e,
			   struct event_out *out)
{
	const char *hook = pkt_hooks[e->hook].name;
	size_t hook_len = strlen(hook); /* no printf per event: it showed */
	struct pkt_comment c;

	memset(&c, 0, sizeof(c));
	memcpy(c.hook, hook, hook_len < sizeof(c.hook) ? hook_len : sizeof(c.hook) - 1);
	c.netns = e->netns;
	memcpy(c.ifname, out->ifname, sizeof(out->ifname));
	c.ifindex = e->ifindex;
	c.skb = e->skb;
	c.track = e->track;
	c.cpu = e->cpu;
	c.pid = e->pid;
	memcpy(c.comm, e->comm, PKTREC_COMM_LEN);
	c.comm[PKTREC_COMM_LEN] = '\0';
	if (out->drop)
		snprintf(c.drop, sizeof(c.drop), "%s", out->drop);
	c.l2_synth = !!(e->flags & PKTREC_F_L2_SYNTH);
	/* a MAC header whose ethertype is not skb->protocol: say what the kernel thought */
	if (!c.l2_synth && out->caplen >= PKTREC_ETH_HLEN && e->protocol > 0x0600) {
		uint16_t et = (uint16_t)(out->frame[12] << 8 | out->frame[13]);

		if (et != e->protocol && et != 0x8100 && et != 0x88a8)
			snprintf(c.extra, sizeof(c.extra), "proto=0x%04x", e->protocol);
	}
	/* where kfree_skb was called, named from kallsyms */
	char loc[128], loc_escaped[160];
	size_t used = strlen(c.extra);

	if (e->location && ksyms_format(ctx->ksyms, e->location, loc, sizeof(loc)) > 0 &&
	    pkt_comment_escape(loc_escaped, sizeof(loc_escaped), loc) >= 0)
		snprintf(c.extra + used, sizeof(c.extra) - used, "%sloc=%s", used ? " " : "",
			 loc_escaped);
	if (e->head)
		append_head(c.extra, sizeof(c.extra), e->head);
	if (pkt_comment_format(out->comment, sizeof(out->comment), &c) < 0)
		out->comment[0] = '\0';
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
	out->comment[0] = '\0';
	if (ctx->want_comment)
		format_comment(ctx, e, out);
	return 0;
}
