// SPDX-License-Identifier: MIT
/* record/ksyms.c: kallsyms text -> SYMBOL+0xOFF; and loc= in event comments. */
#include "test.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include "event.h"
#include "ksyms.h"

/* out of order, with data symbols, a module symbol, junk lines, no final newline */
static const char kallsyms_text[] = "ffffffff81003000 T kfree_skb_reason\n"
				    "ffffffff81000000 T _stext\n"
				    "ffffffff81001000 t helper_fn\n"
				    "ffffffff81002000 D some_data\n"
				    "\n"
				    "not a line\n"
				    "zzzzffff81000000 T bad_address\n"
				    "ffffffff81004000 X\n"
				    "ffffffffc0001000 t nft_do_chain\t[nf_tables]";

TEST(ksyms_resolves_text_addresses)
{
	struct ksyms *ks;
	char buf[64];

	ASSERT_OK(ksyms_parse(&ks, kallsyms_text, sizeof(kallsyms_text) - 1), "parse");
	ASSERT_EQ(ksyms_format(ks, 0xffffffff81001010ull, buf, sizeof(buf)), 14, "length");
	ASSERT_STREQ(buf, "helper_fn+0x10", "inside a function");
	ASSERT_TRUE(ksyms_format(ks, 0xffffffff81003000ull, buf, sizeof(buf)) > 0, "exact");
	ASSERT_STREQ(buf, "kfree_skb_reason+0x0", "at a symbol's start");
	ASSERT_TRUE(ksyms_format(ks, 0xffffffff81002500ull, buf, sizeof(buf)) > 0, "data");
	ASSERT_STREQ(buf, "helper_fn+0x1500", "data symbols are not code: skipped");
	ASSERT_TRUE(ksyms_format(ks, 0xffffffffc0001020ull, buf, sizeof(buf)) > 0, "module");
	ASSERT_STREQ(buf, "nft_do_chain+0x20", "module symbol, without the module");
	ASSERT_TRUE(ksyms_format(ks, 0xffffffff80ffffffull, buf, sizeof(buf)) == -ENOENT,
		    "below the first symbol");
	ASSERT_TRUE(ksyms_format(ks, 0xffffffff81001010ull, buf, 8) == -ENOSPC, "small buffer");
	ASSERT_TRUE(ksyms_format(NULL, 0xffffffff81001010ull, buf, sizeof(buf)) == -ENOENT,
		    "no symbols");
	/* the exact fit: "helper_fn+0x10" is 14 bytes and its NUL */
	ASSERT_EQ(ksyms_format(ks, 0xffffffff81001010ull, buf, 15), 14, "exact fit");
	ASSERT_EQ(ksyms_format(ks, 0xffffffff81001010ull, buf, 14), -ENOSPC, "one byte short");
	/* what snprintf("%s+0x%" PRIx64) wrote, for offsets of every width */
	for (uint64_t off = 1; off < 1ull << 30; off <<= 3) { /* below 2^64 - the symbol */
		char want[64];

		ASSERT_TRUE(ksyms_format(ks, 0xffffffffc0001000ull + off, buf, sizeof(buf)) > 0,
			    "off");
		snprintf(want, sizeof(want), "nft_do_chain+0x%" PRIx64, off);
		ASSERT_STREQ(buf, want, "offset digits");
	}
	ksyms_free(ks);
}

TEST(ksyms_zero_addresses_are_no_data)
{
	static const char restricted[] = "0000000000000000 T _stext\n"
					 "0000000000000000 t helper_fn\n";
	struct ksyms *ks = (struct ksyms *)1;

	ASSERT_EQ(ksyms_parse(&ks, restricted, sizeof(restricted) - 1), -ENODATA,
		  "kptr_restrict: nothing to resolve with");
	ASSERT_TRUE(ks == NULL, "no table");
	ASSERT_EQ(ksyms_parse(&ks, "", 0), -ENODATA, "empty text");
}

TEST(event_comment_names_the_drop_location)
{
	struct ksyms *ks;
	struct event_ctx ctx = {.snaplen = PKTREC_MAX_SNAP, .want_hop = true};
	char cbuf[1024];
	struct pktrec_event e;
	struct event_out out;
	size_t size = PKTREC_EVENT_SIZE(0);

	ASSERT_OK(ksyms_parse(&ks, kallsyms_text, sizeof(kallsyms_text) - 1), "parse");
	memset(&e, 0, sizeof(e));
	e.hook = HOOK_KFREE_SKB;
	e.flags = PKTREC_F_HAS_DROP | PKTREC_F_L2_SYNTH;
	e.drop_reason = 2;
	e.location = 0xffffffff81001010ull;
	ctx.ksyms = ks;
	ASSERT_EQ(event_decode(&ctx, &e, size, &out), 0, "decoded");
	ASSERT_OK(trace_comment_format(cbuf, sizeof(cbuf), &out.hop), "format");
	ASSERT_TRUE(strstr(cbuf, " drop=0x2 l2=synth loc=helper_fn+0x10"),
		    "loc= after the other optional keys");

	e.location = 0;
	ASSERT_EQ(event_decode(&ctx, &e, size, &out), 0, "decoded");
	ASSERT_OK(trace_comment_format(cbuf, sizeof(cbuf), &out.hop), "format");
	ASSERT_TRUE(!strstr(cbuf, "loc="), "no location: no loc=");
	e.location = 0xffffffff81001010ull;
	ctx.ksyms = NULL; /* kallsyms unreadable or restricted */
	ASSERT_EQ(event_decode(&ctx, &e, size, &out), 0, "decoded");
	ASSERT_OK(trace_comment_format(cbuf, sizeof(cbuf), &out.hop), "format");
	ASSERT_TRUE(!strstr(cbuf, "loc="), "no symbols: no loc=");
	ksyms_free(ks);
}
