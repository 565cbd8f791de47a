// SPDX-License-Identifier: MIT
#include "test.h"
#include "links.h"

TEST(links_format_relations)
{
	char buf[128];
	struct link_info veth = {.netns = 4026532300,
				 .ifindex = 2,
				 .kind = "veth",
				 .link_ifindex = 268,
				 .link_netns = 4026531833};
	struct link_info port = {.ifindex = 9, .kind = "veth", .link_ifindex = 2, .master = 7};
	struct link_info vx = {.ifindex = 3,
			       .kind = "vxlan",
			       .link_ifindex = 2,
			       .link_netns = 4026532300,
			       .vni = 42,
			       .has_vni = 1};
	struct link_info plain = {.ifindex = 1};

	ASSERT_EQ(links_format(buf, sizeof(buf), &veth), 29, "veth length");
	ASSERT_STREQ(buf, "kind=veth peer=268@4026531833", "veth peer in another netns");
	ASSERT_OK(links_format(buf, sizeof(buf), &port), "bridge port");
	ASSERT_STREQ(buf, "kind=veth peer=2@? master=7", "peer namespace unknown, bridge master");
	ASSERT_OK(links_format(buf, sizeof(buf), &vx), "vxlan");
	ASSERT_STREQ(buf, "kind=vxlan link=2@4026532300 vni=42", "underlay and vni");
	ASSERT_EQ(links_format(buf, sizeof(buf), &plain), 0, "a plain device has no relation");
	ASSERT_STREQ(buf, "", "empty");
	ASSERT_EQ(links_format(buf, 10, &veth), -28, "too small a buffer is -ENOSPC");
}
