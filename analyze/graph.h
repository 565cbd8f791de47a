/* SPDX-License-Identifier: MIT */
/*
 * --graph: a packet's (or a pair's) path across namespaces, drawn with
 * Graphviz. Namespaces are boxes (clusters) labelled with their name, the
 * interfaces inside them are nodes, and each move from one interface to the
 * next is a numbered edge with the time it took.
 */
#ifndef PKT_GRAPH_H
#define PKT_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct graph_hop {
	uint64_t ts_ns;
	const char *host;	/* NULL or "" for a single-host analysis */
	uint64_t netns;		/* inode, 0 if unknown */
	const char *netns_name; /* NULL or "" if unnamed */
	const char *ifname;
	const char *hook; /* "net:netif_receive_skb" */
};

struct graph_path {
	const char *label; /* "request", "reply", a packet's summary */
	const struct graph_hop *hops;
	size_t nhops;
};

/* DOT text for the paths. numeric: inodes instead of names. Returns 0 or -EIO. */
int graph_write_dot(FILE *f, const char *title, const struct graph_path *paths, size_t npaths,
		    bool numeric);
/*
 * Write FILE.dot as DOT text, or FILE.svg rendered by Graphviz's dot.
 * Returns 0, -EINVAL (another suffix), -ENOENT (dot missing) or -EIO, with err.
 */
int graph_write_file(const char *path, const char *title, const struct graph_path *paths,
		     size_t npaths, bool numeric, char *err, size_t errlen);

#endif
