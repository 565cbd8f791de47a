// SPDX-License-Identifier: MIT
/*
 * Fuzz the trace format's text parts (common/trace.c): the EPB comment
 * grammar, its rewrite for exports, the IDB name split and description
 * parse, the section header's host=. The input becomes a NUL-terminated string in an exact-size
 * heap buffer. A comment that parses must survive a format/parse round trip with the same leading
 * keys, and formatting must be stable after one round.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t flip(void *ctx, uint64_t addr)
{
	(void)ctx;
	return ~addr;
}

/* The formatter writes an empty value as "-" (a key never has an empty value). */
static int same_value(const char *a, const char *b)
{
	return !strcmp(a, b) || (!a[0] && !strcmp(b, "-")) || (!b[0] && !strcmp(a, "-"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct trace_hop c, again;
	char buf[2048], buf2[2048], name[PKT_IFNAME_LEN], small[8];
	const char *host;
	uint32_t ifindex;
	uint64_t netns;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (trace_comment_parse(s, &c) == 0) {
		if (trace_comment_format(buf, sizeof(buf), &c) >= 0) {
			if (trace_comment_parse(buf, &again) != 0 || again.netns != c.netns ||
			    again.track != c.track || !same_value(again.hook, c.hook) ||
			    !same_value(again.ifname, c.ifname))
				abort(); /* round trip broke: a real bug */
			if (trace_comment_format(buf2, sizeof(buf2), &again) < 0 ||
			    strcmp(buf, buf2))
				abort(); /* formatting is not stable */
		}
	}
	/* an event's comment: the same round trip */
	if (trace_event_parse(s, &c) == 0) {
		if (!c.is_event)
			abort();
		if (trace_comment_format(buf, sizeof(buf), &c) >= 0) {
			if (trace_event_parse(buf, &again) != 0 || again.netns != c.netns ||
			    again.has_track != c.has_track || again.track != c.track ||
			    !same_value(again.hook, c.hook))
				abort(); /* round trip broke: a real bug */
			if (trace_comment_format(buf2, sizeof(buf2), &again) < 0 ||
			    strcmp(buf, buf2))
				abort(); /* formatting is not stable */
		}
	}
	trace_comment_rewrite(s, buf, sizeof(buf), TRACE_REWRITE_KEEP_KNOWN, flip, NULL);
	trace_comment_rewrite(s, small, sizeof(small), 0, NULL, NULL);
	if (trace_if_description_parse(s, &netns, &ifindex, &host) == 0 &&
	    (host < s || host >= s + size))
		abort(); /* the host must point into the input */
	memset(&c, 0, sizeof(c));
	trace_hop_identify(&c, s, s, 3);
	trace_if_name_split(s, name, sizeof(name), &netns);
	trace_if_name_split(s, small, sizeof(small), &netns);
	/* the SHB comment's host name: escaped into host=, it reads back the same */
	if (trace_section_host(s, buf, sizeof(buf)) == 0 && !buf[0])
		abort(); /* an empty name is no name */
	trace_section_host(s, small, sizeof(small));
	if (size < 500 && !memchr(s, '\0', size) && size) {
		memcpy(buf2, "host=", 5);
		if (trace_escape(buf2 + 5, sizeof(buf2) - 5, s) >= 0 &&
		    (trace_section_host(buf2, buf, sizeof(buf)) != 0 || strcmp(buf, s)))
			abort(); /* the writer's host= does not read back */
	}
	trace_unescape(buf, sizeof(buf), s, size);
	trace_unescape(small, sizeof(small), s, size);
	trace_escape(buf, sizeof(buf), s);
	trace_escape(small, sizeof(small), s);
	free(s);
	return 0;
}
