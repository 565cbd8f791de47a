/* SPDX-License-Identifier: MIT */
/*
 * --topology: the namespaces, interfaces and links a recording saw, from
 * its interface blocks (names and relations written by pkt-record).
 */
#ifndef PKT_TOPOLOGY_H
#define PKT_TOPOLOGY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct topo_iface {
	const char *host;	/* "" when unknown */
	uint64_t netns;		/* inode */
	const char *netns_name; /* "" when unnamed */
	const char *ifname;
	uint32_t ifindex;      /* 0 when unknown */
	const char *kind;      /* "veth", "bridge", ... or "" */
	uint32_t link_ifindex; /* veth peer, parent or underlay; 0 if none */
	uint64_t link_netns;   /* 0 when unknown */
	uint32_t master;       /* bridge/bond master's ifindex, same netns */
	uint32_t vni;
	bool has_vni;
};

struct topology;

struct topology *topology_new(void);
/* Copies the strings. A second block for the same (host, netns, ifindex/name) is merged. */
int topology_add(struct topology *t, const struct topo_iface *ifc);
/*
 * Namespaces (by name, or inode with numeric), each with its interfaces,
 * their kind and links, resolved to IFNAME@NAMESPACE where the other end
 * was recorded too. Returns 0 or -EIO.
 */
int topology_print(const struct topology *t, FILE *f, bool numeric);
void topology_free(struct topology *t);

#endif
