// SPDX-License-Identifier: MIT
#include "test.h"
#include "trace.h"

TEST(if_attrs_format_and_parse)
{
	char buf[256];
	struct trace_if_attrs veth = {.netns_name = "pkt a%1",
				      .netns_kind = "netns",
				      .kind = "veth",
				      .link_ifindex = 268,
				      .link_netns = 4026531833};
	struct trace_if_attrs port = {.kind = "veth", .link_ifindex = 2, .master = 7};
	struct trace_if_attrs vx = {.kind = "vxlan",
				    .link_ifindex = 2,
				    .link_netns = 4026532300,
				    .vni = 42,
				    .has_vni = true};
	struct trace_if_attrs plain = {0}, back;

	ASSERT_OK(trace_if_attrs_format(buf, sizeof(buf), &veth), "veth");
	ASSERT_STREQ(buf, "netns_name=pkt%20a%251 netns_kind=netns kind=veth peer=268@4026531833",
		     "name escaped, peer in another netns");
	trace_if_attrs_parse(buf, &back);
	ASSERT_STREQ(back.netns_name, "pkt a%1", "name round trip");
	ASSERT_EQ(back.link_ifindex, 268, "peer ifindex");
	ASSERT_U64_EQ(back.link_netns, 4026531833ull, "peer netns");
	ASSERT_OK(trace_if_attrs_format(buf, sizeof(buf), &port), "bridge port");
	ASSERT_STREQ(buf, "kind=veth peer=2@? master=7", "peer namespace unknown, bridge master");
	ASSERT_OK(trace_if_attrs_format(buf, sizeof(buf), &vx), "vxlan");
	ASSERT_STREQ(buf, "kind=vxlan link=2@4026532300 vni=42", "underlay and vni");
	trace_if_attrs_parse(buf, &back);
	ASSERT_TRUE(back.has_vni && back.vni == 42 && !strcmp(back.kind, "vxlan"), "vxlan back");
	ASSERT_EQ(trace_if_attrs_format(buf, sizeof(buf), &plain), 0, "nothing known");
	ASSERT_EQ(trace_if_attrs_format(buf, 10, &veth), -28, "too small a buffer is -ENOSPC");
}

TEST(if_description_with_attrs)
{
	char buf[256];
	uint64_t netns;
	uint32_t ifindex;
	const char *host;
	struct trace_if_attrs a;

	ASSERT_OK(trace_if_description(buf, sizeof(buf), 4026532328ull, 7, "node 1",
				       "netns_name=pkt-a-1 kind=veth peer=9@4026531833"),
		  "build");
	ASSERT_STREQ(
	    buf,
	    "netns 4026532328 ifindex 7 netns_name=pkt-a-1 kind=veth peer=9@4026531833 host node 1",
	    "words between ifindex and host");
	ASSERT_OK(trace_if_description_parse(buf, &netns, &ifindex, &host), "parse");
	ASSERT_STREQ(host, "node 1", "host is the rest, spaces and all");
	ASSERT_EQ(ifindex, 7, "ifindex");
	trace_if_attrs_parse(buf, &a);
	ASSERT_STREQ(a.netns_name, "pkt-a-1", "name");
	ASSERT_TRUE(trace_if_description_parse("netns 1 ifindex 2 junk host h", &netns, &ifindex,
					       &host) < 0,
		    "a word that is no key=value");
	trace_if_attrs_parse("netns 1 ifindex 2 host kind=veth", &a);
	ASSERT_STREQ(a.kind, "", "no keys in the host name");
}
