/* SPDX-License-Identifier: MIT */
#include "test.h"
#include "trace.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

TEST(comment_format_matches_grammar)
{
	struct trace_hop c = {.netns = 4026532328ull,
			      .ifindex = 7,
			      .skb = 0xffff888012345600ull,
			      .track = 0x2a,
			      .cpu = 1,
			      .pid = 2570};
	char buf[512];

	snprintf(c.hook, sizeof(c.hook), "net:netif_rx");
	snprintf(c.ifname, sizeof(c.ifname), "eth0");
	snprintf(c.comm, sizeof(c.comm), "ping");
	ASSERT_OK(trace_comment_format(buf, sizeof(buf), &c), "format");
	ASSERT_STREQ(buf,
		     "hook=net:netif_rx netns=4026532328 if=eth0 ifindex=7 skb=0xffff888012345600 "
		     "track=0x2a cpu=1 pid=2570 comm=ping",
		     "formatted comment");
}

TEST(comment_roundtrip_with_escapes_and_options)
{
	struct trace_hop c = {
	    .netns = 1, .ifindex = 2, .skb = 3, .track = 4, .cpu = 5, .pid = 6, .l2_synth = 1};
	struct trace_hop back;
	char buf[512];

	snprintf(c.hook, sizeof(c.hook), "skb:kfree_skb");
	snprintf(c.ifname, sizeof(c.ifname), "my if=%%x");
	snprintf(c.comm, sizeof(c.comm), "Web Content");
	snprintf(c.drop, sizeof(c.drop), "NETFILTER_DROP");
	snprintf(c.extra, sizeof(c.extra), "vlan=10");
	ASSERT_OK(trace_comment_format(buf, sizeof(buf), &c), "format");
	ASSERT_TRUE(strstr(buf, "comm=Web%20Content") != NULL, "space escaped");
	ASSERT_TRUE(strstr(buf, "if=my%20if%3D%25x") != NULL, "= and % escaped");
	ASSERT_OK(trace_comment_parse(buf, &back), "parse");
	ASSERT_STREQ(back.hook, "skb:kfree_skb", "hook");
	ASSERT_STREQ(back.ifname, "my if=%x", "ifname");
	ASSERT_STREQ(back.comm, "Web Content", "comm");
	ASSERT_STREQ(back.drop, "NETFILTER_DROP", "drop");
	ASSERT_STREQ(back.extra, "vlan=10", "extra");
	ASSERT_EQ(back.l2_synth, 1, "l2 synth");
	ASSERT_U64_EQ(back.netns, 1, "netns");
	ASSERT_U64_EQ(back.track, 4, "track");
	ASSERT_EQ(back.pid, 6, "pid");
}

TEST(comment_parse_rejects_foreign_text)
{
	struct trace_hop c;

	ASSERT_TRUE(trace_comment_parse("Captured by dumpcap", &c) < 0, "free text");
	ASSERT_TRUE(trace_comment_parse("", &c) < 0, "empty");
	ASSERT_TRUE(trace_comment_parse("netns=1 hook=x", &c) < 0, "wrong order");
	ASSERT_TRUE(trace_comment_parse("hook=a netns=-1 if=a ifindex=1 skb=0x1 track=0x1 cpu=0 "
					"pid=0 comm=x",
					&c) < 0,
		    "negative netns");
	ASSERT_TRUE(trace_comment_parse("hook=a netns=1 if=a ifindex=99999999999 skb=0x1 track=0x1 "
					"cpu=0 pid=0 comm=x",
					&c) < 0,
		    "ifindex overflow");
	ASSERT_TRUE(trace_comment_parse("hook=a netns=1 if=a ifindex=1 skb=1 track=0x1 cpu=0 pid=0 "
					"comm=x",
					&c) < 0,
		    "skb without 0x");
}

/* Leading keys written other than pkt-record writes them parse as before (the general loop). */
TEST(comment_parse_leading_in_other_forms)
{
	struct trace_hop c;

	ASSERT_OK(
	    trace_comment_parse("  hook=a  netns=18446744073709551615 if=a%20b ifindex=4294967295 "
				"skb=0XFFFF888000000001 track=0x00000000000000002a cpu=1 "
				"pid=4000000000 comm=x=y drop=NO_SOCKET",
				&c),
	    "blanks, the largest numbers, 0X, leading zeros");
	ASSERT_U64_EQ(c.netns, UINT64_MAX, "netns");
	ASSERT_STREQ(c.ifname, "a b", "if");
	ASSERT_EQ(c.ifindex, UINT32_MAX, "ifindex");
	ASSERT_U64_EQ(c.skb, 0xffff888000000001ull, "skb");
	ASSERT_U64_EQ(c.track, 0x2a, "track");
	ASSERT_EQ(c.pid, 4000000000u, "pid");
	ASSERT_STREQ(c.comm, "x=y", "comm");
	ASSERT_STREQ(c.drop, "NO_SOCKET", "drop");
	ASSERT_OK(trace_comment_parse("hook=a netns=1 if=a ifindex=1 skb=0x1 track=0x1 cpu=0 pid=0 "
				      "comm=x%3Dy head=0x1 head=0x2 loc=f+0x1",
				      &c),
		  "head twice");
	ASSERT_STREQ(c.comm, "x=y", "escaped comm");
	ASSERT_U64_EQ(c.head, 1, "the first head");
	ASSERT_STREQ(c.extra, "head=0x2", "the second head kept verbatim");
	ASSERT_OK(trace_comment_parse("hook=a netns=1 if=a ifindex=1 skb=0x1 track=0x1 cpu=0 pid=0 "
				      "comm=0123456789abcdefghij head=0x00000000000000001",
				      &c),
		  "a long comm, a head of 17 digits");
	ASSERT_EQ(strlen(c.comm) + 1 < sizeof(c.comm) || c.comm[sizeof(c.comm) - 1] == '\0', 1,
		  "comm ends");
	ASSERT_TRUE(c.has_head && c.head == 1, "head of 17 digits");
	ASSERT_TRUE(trace_comment_parse("hook=a netns=18446744073709551616 if=a ifindex=1 skb=0x1 "
					"track=0x1 cpu=0 pid=0 comm=x",
					&c) < 0,
		    "netns overflow");
	ASSERT_TRUE(trace_comment_parse("hook=a netns=1 if=a ifindex=4294967296 skb=0x1 track=0x1 "
					"cpu=0 pid=0 comm=x",
					&c) < 0,
		    "ifindex one past");
	ASSERT_TRUE(trace_comment_parse("hook=a netns=1x if=a ifindex=1 skb=0x1 track=0x1 cpu=0 "
					"pid=0 comm=x",
					&c) < 0,
		    "a letter after digits");
	ASSERT_TRUE(trace_comment_parse("hook=a netns=1 if=a ifindex=1 skb=0x track=0x1 cpu=0 "
					"pid=0 comm=x",
					&c) < 0,
		    "0x alone");
	ASSERT_TRUE(trace_comment_parse("hook=a netns=1 if=a ifindex=1 skb=0x1 track=0x1 cpu=0 "
					"pid=0",
					&c) < 0,
		    "comm missing");
}

/* 16-digit addresses are read 8 digits at a time: every digit, case and bad byte still counts */
TEST(comment_parse_sixteen_digit_addresses)
{
	struct trace_hop c;

	ASSERT_OK(trace_comment_parse("hook=a netns=1 if=a ifindex=1 skb=0x0123456789abcdef "
				      "track=0x1 cpu=0 pid=0 comm=a head=0xfedcba9876543210",
				      &c),
		  "lowercase");
	ASSERT_EQ(c.skb, 0x0123456789abcdefull, "skb");
	ASSERT_EQ(c.head, 0xfedcba9876543210ull, "head");
	ASSERT_OK(trace_comment_parse("hook=a netns=1 if=a ifindex=1 skb=0xFFFF8881037E86A0 "
				      "track=0x1 cpu=0 pid=0 comm=a head=0xAbCdEf0123456789",
				      &c),
		  "uppercase");
	ASSERT_EQ(c.skb, 0xffff8881037e86a0ull, "skb, uppercase");
	ASSERT_EQ(c.head, 0xabcdef0123456789ull, "head, mixed case");
	ASSERT_OK(trace_comment_parse("hook=a netns=1 if=a ifindex=1 skb=0x0123456789abcdef "
				      "track=0x1 cpu=0 pid=0 comm=a head=0x0123456789abcdef",
				      &c),
		  "head at the end");
	ASSERT_EQ(c.head, 0x0123456789abcdefull, "head at the end");
	/* a byte out of the digits, in each half, at either end of it */
	static const char *const bad[] = {
	    "g123456789abcdef", "0123456g89abcdef", "01234567g9abcdef", "0123456789abcdeg",
	    "0123456789abcde:", "01234567/9abcdef", "1123456789abcdef0"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char buf[256];

		snprintf(buf, sizeof(buf),
			 "hook=a netns=1 if=a ifindex=1 skb=0x%s track=0x1 cpu=0 pid=0 comm=a",
			 bad[i]);
		ASSERT_TRUE(trace_comment_parse(buf, &c) < 0, bad[i]);
		snprintf(buf, sizeof(buf),
			 "hook=a netns=1 if=a ifindex=1 skb=0x1 track=0x1 cpu=0 pid=0 comm=a "
			 "head=0x%s",
			 bad[i]);
		ASSERT_OK(trace_comment_parse(buf, &c), "a bad head= goes to extra");
		ASSERT_TRUE(!c.has_head && strstr(c.extra, bad[i]), bad[i]);
	}
}

TEST(comment_format_reports_nospace)
{
	struct trace_hop c = {0};
	char buf[16];

	snprintf(c.hook, sizeof(c.hook), "net:netif_rx");
	ASSERT_EQ(trace_comment_format(buf, sizeof(buf), &c), -ENOSPC, "short buffer");
}

TEST(ifname_split)
{
	char name[32];
	uint64_t ns;

	ASSERT_OK(trace_if_name_split("eth0@4026532328", name, sizeof(name), &ns), "split");
	ASSERT_STREQ(name, "eth0", "name");
	ASSERT_U64_EQ(ns, 4026532328ull, "netns");
	ASSERT_TRUE(trace_if_name_split("en0", name, sizeof(name), &ns) < 0, "no @");
	ASSERT_STREQ(name, "en0", "name kept");
	ASSERT_TRUE(trace_if_name_split("a@b@x", name, sizeof(name), &ns) < 0, "bad netns");
}

TEST(trace_optional_keys_head_loc_proto)
{
	struct trace_hop c = {.netns = 1, .ifindex = 2, .skb = 0xffff888000001000ull, .track = 4};
	struct trace_hop back;
	char buf[512], again[512];

	snprintf(c.hook, sizeof(c.hook), "skb:kfree_skb");
	snprintf(c.drop, sizeof(c.drop), "NO_SOCKET");
	c.has_head = true;
	c.head = 0xffff888000abc000ull;
	snprintf(c.loc, sizeof(c.loc), "ip_rcv_finish_core+0x1a4");
	c.has_proto = true;
	c.proto = 0x86dd;
	ASSERT_OK(trace_comment_format(buf, sizeof(buf), &c), "format");
	ASSERT_STREQ(buf,
		     "hook=skb:kfree_skb netns=1 if=- ifindex=2 skb=0xffff888000001000 track=0x4 "
		     "cpu=0 pid=0 comm=- drop=NO_SOCKET head=0xffff888000abc000 "
		     "loc=ip_rcv_finish_core+0x1a4 proto=0x86dd",
		     "optional keys in the table's order");
	ASSERT_OK(trace_comment_parse(buf, &back), "parse");
	ASSERT_TRUE(back.has_head, "head");
	ASSERT_U64_EQ(back.head, 0xffff888000abc000ull, "head value");
	ASSERT_STREQ(back.loc, "ip_rcv_finish_core+0x1a4", "loc");
	ASSERT_TRUE(back.has_proto && back.proto == 0x86dd, "proto");
	ASSERT_STREQ(back.extra, "", "nothing left over");
	ASSERT_OK(trace_comment_format(again, sizeof(again), &back), "format again");
	ASSERT_STREQ(again, buf, "byte for byte");

	/* out of form: kept verbatim, not lost, not misread */
	ASSERT_OK(trace_comment_parse("hook=a netns=1 if=a ifindex=1 skb=0x1 track=0x1 cpu=0 pid=0 "
				      "comm=x head=zz loc=nosymbol l2=real proto=0x800 x=1",
				      &back),
		  "odd optional values");
	ASSERT_TRUE(!back.has_head && !back.loc[0] && !back.l2_synth && !back.has_proto,
		    "none taken");
	ASSERT_STREQ(back.extra, "head=zz loc=nosymbol l2=real proto=0x800 x=1", "all in extra");
}

TEST(trace_key_table)
{
	ASSERT_EQ(trace_key_lookup("skb", 3), TRACE_KEY_SKB, "skb");
	ASSERT_EQ(trace_key_lookup("head", 4), TRACE_KEY_HEAD, "head");
	ASSERT_EQ(trace_key_lookup("loc", 3), TRACE_KEY_LOC, "loc");
	ASSERT_EQ(trace_key_lookup("sk", 2), TRACE_KEY_UNKNOWN, "prefix");
	ASSERT_EQ(trace_key_lookup("future", 6), TRACE_KEY_UNKNOWN, "unknown");
	for (unsigned k = 0; k < TRACE_KEY_COUNT; k++) {
		ASSERT_EQ(trace_keys[k].leading, k < TRACE_LEADING_KEYS, trace_keys[k].name);
		ASSERT_EQ(trace_keys[k].name_len, strlen(trace_keys[k].name), trace_keys[k].name);
	}
	ASSERT_EQ(trace_keys[TRACE_KEY_SKB].anon, TRACE_ANON_PSEUDONYM, "skb is an address");
	ASSERT_EQ(trace_keys[TRACE_KEY_HEAD].anon, TRACE_ANON_PSEUDONYM, "head is an address");
	ASSERT_EQ(trace_keys[TRACE_KEY_LOC].anon, TRACE_ANON_KEEP, "loc is a symbol");
}

static uint64_t fake_pseudonym(void *ctx, uint64_t addr)
{
	(void)ctx;
	return addr ^ 0xffffull;
}

TEST(trace_comment_rewrite_keeps_known_and_hides_addresses)
{
	static const char in[] = "hook=a netns=1 if=a ifindex=1 skb=0xffff888000001000 track=0x1 "
				 "cpu=0 pid=0 comm=x drop=NO_SOCKET future=10.0.0.1 "
				 "head=0xffff888000abc000 loc=f+0x1 proto=0x0800";
	char out[512];

	ASSERT_OK(trace_comment_rewrite(in, out, sizeof(out), 0, NULL, NULL), "copy");
	ASSERT_STREQ(out, in, "no pseudonym, no filter: the same");
	ASSERT_OK(trace_comment_rewrite(in, out, sizeof(out), TRACE_REWRITE_KEEP_KNOWN,
					fake_pseudonym, NULL),
		  "export");
	ASSERT_STREQ(out,
		     "hook=a netns=1 if=a ifindex=1 skb=0xffff88800000efff track=0x1 cpu=0 pid=0 "
		     "comm=x drop=NO_SOCKET head=0xffff888000ab3fff loc=f+0x1 proto=0x0800",
		     "unknown key dropped, skb and head pseudonymized");
	ASSERT_OK(trace_comment_rewrite("hook=a netns=1 if=a ifindex=1 skb=0x1 track=0x1 cpu=0 "
					"pid=0 comm=x l2=10.0.0.1 proto=host%20a loc=f+0x1",
					out, sizeof(out), TRACE_REWRITE_KEEP_KNOWN, NULL, NULL),
		  "optional keys out of form");
	ASSERT_STREQ(out,
		     "hook=a netns=1 if=a ifindex=1 skb=0x1 track=0x1 cpu=0 pid=0 comm=x loc=f+0x1",
		     "dropped from the export");
	ASSERT_EQ(trace_comment_rewrite("hook=a netns=10.0.0.1 if=a ifindex=1 skb=0x1 track=0x1 "
					"cpu=0 pid=0 comm=x",
					out, sizeof(out), TRACE_REWRITE_KEEP_KNOWN, NULL, NULL),
		  -EINVAL, "a leading key out of form: not our grammar");
	ASSERT_EQ(trace_comment_rewrite("Captured by dumpcap", out, sizeof(out), 0, NULL, NULL),
		  -EINVAL, "free text");
	ASSERT_STREQ(out, "", "out empty on error");
	ASSERT_EQ(trace_comment_rewrite(in, out, 20, 0, NULL, NULL), -ENOSPC, "short buffer");
	ASSERT_EQ(trace_comment_rewrite("hook=a netns=1 if=a ifindex=1 skb=0x1 track=0x1 cpu=0 "
					"pid=0 comm=x head=nothex",
					out, sizeof(out), 0, fake_pseudonym, NULL),
		  -EINVAL, "an address that is not one");
}

TEST(trace_if_description_both_ways)
{
	char buf[128];
	uint64_t netns;
	uint32_t ifindex;
	const char *host;

	ASSERT_OK(trace_if_description(buf, sizeof(buf), 4026532328ull, 7, "node-1", NULL),
		  "build");
	ASSERT_STREQ(buf, "netns 4026532328 ifindex 7 host node-1", "description");
	ASSERT_OK(trace_if_description_parse(buf, &netns, &ifindex, &host), "parse");
	ASSERT_U64_EQ(netns, 4026532328ull, "netns");
	ASSERT_EQ(ifindex, 7, "ifindex");
	ASSERT_STREQ(host, "node-1", "host");
	ASSERT_TRUE(trace_if_description_parse("Ethernet adapter", &netns, &ifindex, &host) < 0,
		    "free text");
	ASSERT_TRUE(trace_if_description_parse("netns 1 ifindex 2 host ", &netns, &ifindex, &host) <
			0,
		    "no host");
	ASSERT_TRUE(trace_if_description_parse("netns 1 ifindex 99999999999 host h", &netns,
					       &ifindex, &host) < 0,
		    "ifindex overflow");
	ASSERT_OK(trace_if_name(buf, sizeof(buf), "", 5), "no device");
	ASSERT_STREQ(buf, "-@5", "no device is -");
	ASSERT_EQ(trace_if_name(buf, 4, "eth0", 5), -ENOSPC, "short buffer");
}

/* ------------------------------------------------ hop -> blocks -> reader -> hop */

static void fill_hop(struct trace_hop *h, int i)
{
	static const uint8_t frame[60] = {[12] = 0x08, [13] = 0x00, [14] = 0x45};

	memset(h, 0, sizeof(*h));
	snprintf(h->hook, sizeof(h->hook), i % 2 ? "net:netif_receive_skb" : "net:net_dev_queue");
	h->netns = 4026531840ull + (uint64_t)(i % 3);
	snprintf(h->ifname, sizeof(h->ifname), i == 4 ? "" : i % 3 ? "veth%d" : "my if", i % 3);
	h->ifindex = (uint32_t)(2 + i % 3);
	h->skb = 0xffff888012345600ull + (uint64_t)i * 0x100;
	h->track = 0x2a + (uint64_t)i;
	h->cpu = (uint32_t)i;
	h->pid = i ? 2570 : 0;
	snprintf(h->comm, sizeof(h->comm), i ? "Web Content" : "");
	if (i == 3) {
		snprintf(h->drop, sizeof(h->drop), "NETFILTER_DROP");
		snprintf(h->loc, sizeof(h->loc), "nf_hook_slow+0x9c");
		h->has_head = true;
		h->head = 0xffff888100000000ull;
	}
	h->l2_synth = i == 2;
	if (i == 5) {
		h->has_proto = true;
		h->proto = 0x0806;
		snprintf(h->extra, sizeof(h->extra), "future=1 other=a%%20b");
	}
	h->ts_ns = 1700000000123456789ull + (uint64_t)i * 1000;
	h->dir = i % 2 ? PCAPNG_DIR_INBOUND : PCAPNG_DIR_OUTBOUND;
	h->has_packetid = true;
	h->packetid = h->track;
	h->data = frame;
	h->caplen = (uint32_t)(20 + i);
	h->origlen = 1500;
}

/* Write through zout into a temp file and open a reader on it; -1 on failure. */
static int reopen(struct zout **z, char *path, struct pcapng_reader **r, char *err, size_t errlen)
{
	if (zout_close(*z, err, errlen) < 0)
		return -1;
	*z = NULL;
	return pcapng_reader_open_path(r, path, err, errlen);
}

TEST(trace_roundtrip_hops_and_foreign_packets)
{
	char path[] = "/tmp/pkt-trace-XXXXXX", err[PCAPNG_ERRLEN];
	struct trace_section sec = {.app = "pkt-record",
				    .hardware = true,
				    .host = "node 1",
				    .filter = "icmp",
				    .snaplen = 262144};
	struct trace_writer *w;
	struct trace_iface *foreign;
	struct pcapng_reader *r;
	struct pcapng_record rec;
	struct zout *z;
	struct trace_hop in, out;
	char want[1024], got[1024];
	int fd = mkstemp(path), hops = 0, foreign_seen = 0, isbs = 0;
	static const uint8_t frame[42] = {[12] = 0x08, [13] = 0x06};

	ASSERT_TRUE(fd >= 0, "mkstemp");
	ASSERT_OK(zout_open_fd(&z, fd, 3, 0, err, sizeof(err)), err);
	ASSERT_OK(trace_writer_open(&w, z, &sec, err, sizeof(err)), err);
	for (int i = 0; i < 6; i++) {
		fill_hop(&in, i);
		ASSERT_OK(trace_writer_hop(w, &in), trace_writer_error(w));
	}
	/* another writer's interface and comment, as pkt-analyze --write passes them on */
	struct pcapng_idb_info idb = {
	    .linktype = 1, .snaplen = 65535, .name = "en0", .description = "Wi-Fi", .tsresol = 9};
	struct pcapng_epb_info epb = {.ts = 1700000001000000000ull,
				      .data = frame,
				      .caplen = 42,
				      .origlen = 42,
				      .comment = "Captured by dumpcap"};
	ASSERT_OK(trace_writer_iface(w, &idb, &foreign), trace_writer_error(w));
	ASSERT_OK(trace_writer_packet(w, foreign, &epb), trace_writer_error(w));
	struct trace_isb_opts isb = {.ts_ns = 1700000002000000000ull,
				     .recording = true,
				     .start_ns = 1700000000000000000ull,
				     .lost = 7};
	ASSERT_OK(trace_writer_stats(w, &isb), trace_writer_error(w));
	trace_writer_free(w);
	ASSERT_OK(reopen(&z, path, &r, err, sizeof(err)), err);
	unlink(path);

	while (pcapng_next(r, &rec) == 0) {
		const struct pcapng_interface *itf = pcapng_interface(r, rec.if_id);

		if (rec.kind == PCAPNG_REC_SECTION) {
			ASSERT_STREQ(rec.shb_userappl, "pkt-record " PKT_VERSION, "shb_userappl");
			ASSERT_TRUE(rec.shb_os[0] && rec.shb_hardware[0], "os and hardware");
		} else if (rec.kind == PCAPNG_REC_STATS) {
			ASSERT_TRUE(rec.has_ifrecv && rec.has_starttime && rec.has_endtime, "isb");
			ASSERT_U64_EQ(rec.ifdrop, rec.if_id == 0 ? 7 : 0, "lost on the first");
			isbs++;
		} else if (rec.kind == PCAPNG_REC_PACKET && hops < 6) {
			fill_hop(&in, hops);
			trace_hop_decode(&out, &rec, itf);
			ASSERT_TRUE(out.ours, "our grammar");
			ASSERT_TRUE(rec.has_comment, "comment written");
			ASSERT_OK(trace_comment_format(want, sizeof(want), &in), "format in");
			ASSERT_STREQ(rec.comment, want, "the comment as formatted");
			ASSERT_OK(trace_comment_format(got, sizeof(got), &out), "format out");
			ASSERT_STREQ(got, want, "byte-identical comment from the decoded hop");
			ASSERT_STREQ(out.ifname, in.ifname, "ifname");
			/* an empty comm is written "-" and read back as such (the reports show it)
			 */
			ASSERT_STREQ(out.comm, in.comm[0] ? in.comm : "-", "comm");
			ASSERT_U64_EQ(out.netns, in.netns, "netns");
			ASSERT_U64_EQ(out.ts_ns, in.ts_ns, "ts");
			ASSERT_EQ(out.dir, in.dir, "direction");
			ASSERT_TRUE(out.has_packetid && out.packetid == in.packetid, "packet id");
			ASSERT_EQ(out.caplen, in.caplen, "caplen");
			ASSERT_EQ(out.origlen, in.origlen, "origlen");
			ASSERT_MEMEQ(out.data, in.data, in.caplen, "data");
			ASSERT_TRUE(itf && itf->linktype == 1 && itf->snaplen == 262144, "idb");
			trace_if_name(want, sizeof(want), in.ifname, in.netns);
			ASSERT_STREQ(itf->name, want, "if_name IFNAME@NETNS");
			trace_if_description(want, sizeof(want), in.netns, in.ifindex, "node 1",
					     NULL);
			ASSERT_STREQ(itf->description, want, "if_description");
			hops++;
		} else if (rec.kind == PCAPNG_REC_PACKET) {
			trace_hop_decode(&out, &rec, itf);
			ASSERT_TRUE(!out.ours && !out.has_netns && !out.has_track, "foreign");
			ASSERT_STREQ(out.ifname, "en0", "interface from the IDB");
			ASSERT_STREQ(rec.comment, "Captured by dumpcap", "comment verbatim");
			ASSERT_STREQ(itf->description, "Wi-Fi", "description verbatim");
			ASSERT_EQ(out.dir, PCAPNG_DIR_UNKNOWN, "no flags");
			foreign_seen++;
		}
	}
	/* hops 0 and 3 share (netns, ifindex, ifname), so do 2 and 5; plus en0 */
	ASSERT_EQ(pcapng_interface_count(r), 5, "one IDB per interface, reused");
	ASSERT_EQ(hops, 6, "every hop read back");
	ASSERT_EQ(foreign_seen, 1, "the foreign packet");
	ASSERT_EQ(isbs, 5, "an ISB per interface");
	pcapng_reader_close(r);
}

/* The optional hooks' keys: in extra, both ways, and an event's comment (no skb). */
TEST(trace_event_comment_roundtrip)
{
	static const char hit[] =
	    "hook=icmp:icmp_send netns=4026532328 if=eth0 ifindex=7 skb=0xffff888012345600 "
	    "track=0x2a cpu=1 pid=2570 comm=nc icmp=3/3";
	static const char ev[] = "hook=fib:fib_table_lookup netns=4026532328 if=eth1 ifindex=3 "
				 "cpu=0 pid=42 comm=ping fib_table=254 fib_err=-101 fib_oif=3 "
				 "fib_gw=10.0.0.254 saddr=10.0.0.1 daddr=fd00::1 l4proto=17 "
				 "sport=5353 dport=53";
	static const char xmit[] =
	    "hook=net:net_dev_xmit netns=1 if=veth0 ifindex=4 track=0x2b cpu=0 pid=0 comm=- rc=0";
	struct trace_hop h;
	char buf[1024];
	const char *v;
	size_t len;

	ASSERT_EQ(trace_comment_parse(hit, &h), 0, "a hit with a hook key");
	ASSERT_STREQ(h.extra, "icmp=3/3", "in extra");
	ASSERT_TRUE(!h.is_event, "a hit");
	ASSERT_TRUE(trace_comment_format(buf, sizeof(buf), &h) > 0, "format");
	ASSERT_STREQ(buf, hit, "byte for byte");

	ASSERT_EQ(trace_event_parse(ev, &h), 0, "an event");
	ASSERT_TRUE(h.is_event && !h.has_track, "no track");
	ASSERT_STREQ(h.hook, "fib:fib_table_lookup", "hook");
	ASSERT_U64_EQ(h.netns, 4026532328ull, "netns");
	ASSERT_STREQ(h.ifname, "eth1", "if");
	ASSERT_EQ(h.ifindex, 3, "ifindex");
	ASSERT_EQ(h.pid, 42, "pid");
	ASSERT_TRUE(trace_comment_format(buf, sizeof(buf), &h) > 0, "format");
	ASSERT_STREQ(buf, ev, "event byte for byte");
	ASSERT_EQ(trace_extra_get(h.extra, TRACE_KEY_FIB_ERR, &v, &len), 1, "fib_err");
	ASSERT_TRUE(len == 4 && !memcmp(v, "-101", 4), "signed value");
	ASSERT_EQ(trace_extra_get(h.extra, TRACE_KEY_DADDR, &v, &len), 1, "daddr");
	ASSERT_TRUE(len == 7 && !memcmp(v, "fd00::1", 7), "v6 address");
	ASSERT_EQ(trace_extra_get(h.extra, TRACE_KEY_NEIGH, &v, &len), 0, "absent key");
	ASSERT_EQ(trace_comment_parse(ev, &h), -EINVAL, "no skb: not a hit's comment");

	ASSERT_EQ(trace_event_parse(xmit, &h), 0, "an event naming its packet");
	ASSERT_TRUE(h.has_track && h.track == 0x2b, "track");
	ASSERT_TRUE(trace_comment_format(buf, sizeof(buf), &h) > 0, "format");
	ASSERT_STREQ(buf, xmit, "xmit byte for byte");

	ASSERT_EQ(trace_event_parse("netns=1 cpu=0", &h), -EINVAL, "no hook");
	ASSERT_EQ(trace_event_parse("hook=a:b netns=1 netns=2", &h), -EINVAL, "twice");
	ASSERT_EQ(trace_event_parse("hook=a:b netns=x", &h), -EINVAL, "bad netns");

	/* --write --anonymize: the new keys are kept, their addresses are not */
	ASSERT_OK(trace_comment_rewrite(
		      "hook=icmp:icmp_send netns=1 if=eth0 ifindex=7 skb=0x1 track=0x2 cpu=1 pid=2 "
		      "comm=x icmp=3/3 rc=-12 saddr=10.0.0.1 rmem=9",
		      buf, sizeof(buf), TRACE_REWRITE_KEEP_KNOWN, NULL, NULL),
		  "rewrite");
	ASSERT_STREQ(buf,
		     "hook=icmp:icmp_send netns=1 if=eth0 ifindex=7 skb=0x1 track=0x2 cpu=1 pid=2 "
		     "comm=x icmp=3/3 rc=-12 rmem=9",
		     "kept");
}
