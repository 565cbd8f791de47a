// SPDX-License-Identifier: MIT
#include "test.h"
#include "topology.h"

#include <stdlib.h>

/* A topology of these interfaces as --topology prints it (NULL on failure; free it). */
static char *printed(const struct topo_iface *ifs, size_t n, bool numeric)
{
	struct topology *t = topology_new();
	char *text = NULL;
	size_t len = 0;
	FILE *m;
	int rc = t ? 0 : -1;

	for (size_t i = 0; i < n && !rc; i++)
		rc = topology_add(t, &ifs[i]);
	m = rc ? NULL : open_memstream(&text, &len);
	if (m) {
		rc = topology_print(t, m, numeric);
		fclose(m);
	}
	topology_free(t);
	if (rc || !m) {
		free(text);
		return NULL;
	}
	return text;
}

TEST(topology_names_links_and_merge)
{
	struct topo_iface ifs[] = {
	    {"", 4026531833, "host", "pkbr1", 5, "bridge", 0, 0, 0, 0, false},
	    {"", 4026531833, "host", "pkva1", 6, "veth", 2, 4026532300, 5, 0, false},
	    {"", 4026532300, "pkt-a-1", "eth0", 2, "veth", 6, 4026531833, 0, 0, false},
	    {"", 4026532300, "pkt-a-1", "vx0", 3, "vxlan", 2, 4026532300, 0, 42, true},
	    {"", 4026532500, "", "eth0", 2, "veth", 9, 0, 0, 0, false},
	    /* the same interface again (another section): merged, not listed twice */
	    {"", 4026532300, "", "eth0", 2, "", 0, 0, 0, 0, false},
	};
	size_t n = sizeof(ifs) / sizeof(ifs[0]);
	char *text = printed(ifs, n, false);

	ASSERT_TRUE(text != NULL, "added and printed");
	ASSERT_STREQ(text,
		     "netns host (4026531833)\n"
		     "  pkbr1 (ifindex 5) bridge\n"
		     "  pkva1 (ifindex 6) veth, port of pkbr1, peer eth0@pkt-a-1\n"
		     "netns pkt-a-1 (4026532300)\n"
		     "  eth0 (ifindex 2) veth, peer pkva1@host\n"
		     "  vx0 (ifindex 3) vxlan, over eth0@pkt-a-1, vni 42\n"
		     "netns 4026532500\n"
		     "  eth0 (ifindex 2) veth, peer ifindex 9 (namespace unknown)\n",
		     "the topology, names resolved");
	free(text);

	text = printed(ifs, n, true);
	ASSERT_TRUE(text != NULL, "numeric");
	ASSERT_TRUE(strstr(text, "pkt-a-1") == NULL, "-n: no names");
	ASSERT_TRUE(strstr(text, "peer eth0@4026532300") != NULL, "-n: peers by inode");
	free(text);
}

/* A namespace is named by the first of its interfaces that gives a name, also when it gives it
 * late. */
TEST(topology_name_from_the_first_named_interface)
{
	struct topo_iface ifs[] = {
	    {"", 4026532600, "", "eth0", 2, "veth", 0, 0, 0, 0, false},
	    {"", 4026532600, "later-b", "eth1", 3, "veth", 0, 0, 0, 0, false},
	    {"h2", 4026532600, "other-host", "eth0", 2, "", 0, 0, 0, 0, false},
	    {"", 4026532600, "first-a", "eth0", 2, "", 0, 0, 0, 0, false},
	};
	char *text = printed(ifs, sizeof(ifs) / sizeof(ifs[0]), false);

	ASSERT_TRUE(text != NULL, "added and printed");
	ASSERT_STREQ(text,
		     "netns first-a (4026532600)\n"
		     "  eth0 (ifindex 2) veth\n"
		     "  eth1 (ifindex 3) veth\n"
		     "netns other-host (4026532600) on h2\n"
		     "  eth0 (ifindex 2)\n",
		     "the first interface's name, per host");
	free(text);
}
