// SPDX-License-Identifier: MIT
#include "test.h"
#include "graph.h"

#include <stdlib.h>
#include <unistd.h>

static const struct graph_hop request[] = {
    {1000, NULL, 4026532300, "pkt-a-1", "eth0", "net:net_dev_start_xmit"},
    {2000, NULL, 4026531833, "host", "veth-a", "net:netif_receive_skb"},
    {2500, NULL, 4026531833, "host", "br0", "net:netif_receive_skb"},
    {2600, NULL, 4026531833, "host", "br0", "skb:kfree_skb"}, /* same place: no edge */
    {30000, NULL, 4026531833, "host", "veth-b", "net:net_dev_start_xmit"},
    {40000, NULL, 4026532400, "", "eth0", "net:netif_receive_skb"},
};

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

TEST(graph_dot_boxes_nodes_edges)
{
	struct graph_path path = {"request", request, sizeof(request) / sizeof(request[0])};
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	ASSERT_TRUE(m != NULL, "memstream");
	ASSERT_OK(graph_write_dot(m, "ping \"1\"", &path, 1, false), "write dot");
	fclose(m);
	ASSERT_EQ(count(text, "subgraph cluster_"), 3, "one box per namespace");
	ASSERT_TRUE(strstr(text, "label=\"pkt-a-1 (4026532300)\"") != NULL, "named box");
	ASSERT_TRUE(strstr(text, "label=\"netns 4026532400\"") != NULL, "unnamed box: the inode");
	ASSERT_EQ(count(text, " -> "), 4, "one edge per move between interfaces");
	ASSERT_TRUE(strstr(text, "label=\"request 1  +1000 ns\"") != NULL, "first edge numbered");
	ASSERT_TRUE(strstr(text, "label=\"request 3  +27.4 us\"") != NULL,
		    "latency from the last hop at the previous interface");
	ASSERT_TRUE(strstr(text, "label=\"ping \\\"1\\\"\"") != NULL, "title quoted");
	free(text);

	text = NULL;
	m = open_memstream(&text, &len);
	ASSERT_TRUE(m != NULL, "memstream");
	ASSERT_OK(graph_write_dot(m, NULL, &path, 1, true), "numeric");
	fclose(m);
	ASSERT_TRUE(strstr(text, "pkt-a-1") == NULL, "-n shows no names");
	free(text);
}

TEST(graph_file_suffixes)
{
	struct graph_path path = {"reply", request, 3};
	char err[256], dir[] = "/tmp/pkt-graph-XXXXXX", file[300];

	ASSERT_TRUE(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(file, sizeof(file), "%s/p.png", dir);
	ASSERT_EQ(graph_write_file(file, "t", &path, 1, false, err, sizeof(err)), -22,
		  "only .svg and .dot");
	snprintf(file, sizeof(file), "%s/p.dot", dir);
	ASSERT_OK(graph_write_file(file, "t", &path, 1, false, err, sizeof(err)), "dot file");
	ASSERT_EQ(access(file, R_OK), 0, "dot file written");
	if (access("/usr/bin/dot", X_OK) == 0) {
		char buf[4096] = {0};
		FILE *f;

		snprintf(file, sizeof(file), "%s/p.svg", dir);
		ASSERT_OK(graph_write_file(file, "t", &path, 1, false, err, sizeof(err)), err);
		f = fopen(file, "r");
		ASSERT_TRUE(f != NULL, "svg written");
		ASSERT_TRUE(fread(buf, 1, sizeof(buf) - 1, f) > 0, "svg read");
		fclose(f);
		ASSERT_TRUE(strstr(buf, "<svg") != NULL, "an SVG document");
	}
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ASSERT_EQ(system(cmd), 0, "clean up");
}
