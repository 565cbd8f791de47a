// SPDX-License-Identifier: MIT
/*
 * Fuzz the EPB comment grammar and the IDB name split: the input becomes a
 * NUL-terminated string in an exact-size heap buffer. A comment that parses
 * must survive a format/parse round trip with the same leading keys.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "comment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The formatter writes an empty value as "-" (a key never has an empty value). */
static int same_value(const char *a, const char *b)
{
	return !strcmp(a, b) || (!a[0] && !strcmp(b, "-")) || (!b[0] && !strcmp(a, "-"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct pkt_comment c, again;
	char buf[2048], name[PKT_IFNAME_LEN], small[8];
	uint64_t netns;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (pkt_comment_parse(s, &c) == 0) {
		if (pkt_comment_format(buf, sizeof(buf), &c) >= 0) {
			if (pkt_comment_parse(buf, &again) != 0 || again.netns != c.netns ||
			    again.track != c.track || !same_value(again.hook, c.hook) ||
			    !same_value(again.ifname, c.ifname))
				abort(); /* round trip broke: a real bug */
		}
	}
	pkt_ifname_split(s, name, sizeof(name), &netns);
	pkt_ifname_split(s, small, sizeof(small), &netns);
	pkt_comment_unescape(buf, sizeof(buf), s, size);
	pkt_comment_unescape(small, sizeof(small), s, size);
	pkt_comment_escape(buf, sizeof(buf), s);
	pkt_comment_escape(small, sizeof(small), s);
	free(s);
	return 0;
}
