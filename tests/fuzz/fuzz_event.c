// SPDX-License-Identifier: MIT
/*
 * Fuzz record/event.c's decoding of ring events: the input is the bytes
 * the ring hands over (any length), in an exact-size heap buffer. The first
 * byte picks the options (snaplen, --headers-only, user-space filter, a
 * kallsyms table for loc=).
 * What is decoded must stay within the frame and the snaplen.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "ksyms.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* keeps every frame whose first byte is odd: exercises both filter paths */
static bool odd_first_byte(const uint8_t *frame, uint32_t caplen, uint32_t wirelen)
{
	return caplen && caplen <= wirelen && (frame[0] & 1);
}

static const char *some_reason(uint32_t reason)
{
	return reason == 2 ? "NOT_SPECIFIED" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event_ctx ctx = {.want_hop = true, .drop_reason_name = some_reason};
	struct event_out out;
	char cbuf[1024];
	struct ksyms *ks = NULL;
	uint8_t opts;
	void *ev;
	int rc;

	if (size < 1)
		return 0;
	opts = data[0];
	data++;
	size--;
	ctx.snaplen = opts & 1 ? PKTREC_MAX_SNAP : 14 + (opts >> 4);
	ctx.headers_only = opts & 2;
	if (opts & 4) {
		ctx.filter_match = odd_first_byte;
		ctx.matched = trackset_new();
		if (!ctx.matched)
			return 0;
	}
	if (opts & 8) {
		static const char text[] = "ffffffff81000000 T _stext\n"
					   "ffffffff81001000 t kfree_skb_caller\n";

		if (ksyms_parse(&ks, text, sizeof(text) - 1))
			abort();
		ctx.ksyms = ks;
	}
	ev = malloc(size ? size : 1);
	if (!ev)
		abort();
	memcpy(ev, data, size);
	/* twice: the second sees the tracking set the first left */
	for (int i = 0; i < 2; i++) {
		rc = event_decode(&ctx, ev, size, &out);
		if (rc == 0 && (out.caplen > ctx.snaplen || out.caplen > sizeof(out.frame) ||
				out.wirelen < out.caplen || out.hop.caplen != out.caplen ||
				out.hop.data != (out.is_event ? NULL : out.frame) ||
				(out.is_event && (out.caplen || !out.hop.is_event)) ||
				trace_comment_format(cbuf, sizeof(cbuf), &out.hop) < 0))
			abort(); /* a frame beyond its bounds: a real bug */
		if (rc != 0 && rc != EVENT_FILTERED && rc != -EINVAL)
			abort();
	}
	free(ev);
	trackset_free(ctx.matched);
	ksyms_free(ks);
	return 0;
}
