/* SPDX-License-Identifier: MIT */
#include "test.h"
#include "comment.h"

#include <errno.h>

TEST(comment_format_matches_grammar)
{
	struct pkt_comment c = {.netns = 4026532328ull,
				.ifindex = 7,
				.skb = 0xffff888012345600ull,
				.track = 0x2a,
				.cpu = 1,
				.pid = 2570};
	char buf[512];

	snprintf(c.hook, sizeof(c.hook), "net:netif_rx");
	snprintf(c.ifname, sizeof(c.ifname), "eth0");
	snprintf(c.comm, sizeof(c.comm), "ping");
	ASSERT_OK(pkt_comment_format(buf, sizeof(buf), &c), "format");
	ASSERT_STREQ(buf,
		     "hook=net:netif_rx netns=4026532328 if=eth0 ifindex=7 skb=0xffff888012345600 "
		     "track=0x2a cpu=1 pid=2570 comm=ping",
		     "formatted comment");
}

TEST(comment_roundtrip_with_escapes_and_options)
{
	struct pkt_comment c = {
	    .netns = 1, .ifindex = 2, .skb = 3, .track = 4, .cpu = 5, .pid = 6, .l2_synth = 1};
	struct pkt_comment back;
	char buf[512];

	snprintf(c.hook, sizeof(c.hook), "skb:kfree_skb");
	snprintf(c.ifname, sizeof(c.ifname), "my if=%%x");
	snprintf(c.comm, sizeof(c.comm), "Web Content");
	snprintf(c.drop, sizeof(c.drop), "NETFILTER_DROP");
	snprintf(c.extra, sizeof(c.extra), "vlan=10");
	ASSERT_OK(pkt_comment_format(buf, sizeof(buf), &c), "format");
	ASSERT_TRUE(strstr(buf, "comm=Web%20Content") != NULL, "space escaped");
	ASSERT_TRUE(strstr(buf, "if=my%20if%3D%25x") != NULL, "= and % escaped");
	ASSERT_OK(pkt_comment_parse(buf, &back), "parse");
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
	struct pkt_comment c;

	ASSERT_TRUE(pkt_comment_parse("Captured by dumpcap", &c) < 0, "free text");
	ASSERT_TRUE(pkt_comment_parse("", &c) < 0, "empty");
	ASSERT_TRUE(pkt_comment_parse("netns=1 hook=x", &c) < 0, "wrong order");
	ASSERT_TRUE(pkt_comment_parse("hook=a netns=-1 if=a ifindex=1 skb=0x1 track=0x1 cpu=0 "
				      "pid=0 comm=x",
				      &c) < 0,
		    "negative netns");
	ASSERT_TRUE(pkt_comment_parse("hook=a netns=1 if=a ifindex=99999999999 skb=0x1 track=0x1 "
				      "cpu=0 pid=0 comm=x",
				      &c) < 0,
		    "ifindex overflow");
	ASSERT_TRUE(pkt_comment_parse("hook=a netns=1 if=a ifindex=1 skb=1 track=0x1 cpu=0 pid=0 "
				      "comm=x",
				      &c) < 0,
		    "skb without 0x");
}

TEST(comment_format_reports_nospace)
{
	struct pkt_comment c = {0};
	char buf[16];

	snprintf(c.hook, sizeof(c.hook), "net:netif_rx");
	ASSERT_EQ(pkt_comment_format(buf, sizeof(buf), &c), -ENOSPC, "short buffer");
}

TEST(ifname_split)
{
	char name[32];
	uint64_t ns;

	ASSERT_OK(pkt_ifname_split("eth0@4026532328", name, sizeof(name), &ns), "split");
	ASSERT_STREQ(name, "eth0", "name");
	ASSERT_U64_EQ(ns, 4026532328ull, "netns");
	ASSERT_TRUE(pkt_ifname_split("en0", name, sizeof(name), &ns) < 0, "no @");
	ASSERT_STREQ(name, "en0", "name kept");
	ASSERT_TRUE(pkt_ifname_split("a@b@x", name, sizeof(name), &ns) < 0, "bad netns");
}
