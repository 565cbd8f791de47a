/* SPDX-License-Identifier: MIT */
/*
 * How interfaces connect, read from rtnetlink (libmnl) in each namespace:
 * veth peers (ifindex@netns), bridge and bond masters, the parent of
 * macvlan/ipvlan/VLAN devices, and the underlay device of VXLAN/Geneve/GRE
 * tunnels. pkt-record writes these into the interface blocks so that
 * pkt-analyze --topology and --graph work on another machine (the words:
 * trace_if_attrs_format()).
 */
#ifndef PKT_LINKS_H
#define PKT_LINKS_H

#include <stddef.h>
#include <stdint.h>

#define LINK_NAME_LEN 16
#define LINK_KIND_LEN 16

struct link_info {
	uint64_t netns;
	uint32_t ifindex;
	char name[LINK_NAME_LEN];
	char kind[LINK_KIND_LEN]; /* "veth", "bridge", "vxlan", ... ("" for a plain device) */
	uint32_t master;	  /* bridge/bond master's ifindex in the same netns, 0 if none */
	/* veth peer, macvlan/ipvlan/VLAN parent, or a tunnel's underlay device */
	uint32_t link_ifindex;
	uint64_t link_netns; /* 0 when unknown (the peer's namespace has no id here) */
	uint32_t vni;	     /* VXLAN/Geneve network identifier, 0 if none */
	int has_vni;
};

/*
 * Every interface of the namespaces given as open nsfs fds (fds[i] is
 * namespace inodes[i]); link_netns is resolved among them. Calls fn for each
 * interface. Returns the number of interfaces, or -errno with err filled.
 * Enters each namespace with setns() on the calling thread and returns to
 * the namespace it started in.
 */
int links_scan(const int *fds, const uint64_t *inodes, size_t n,
	       void (*fn)(const struct link_info *li, void *ctx), void *ctx, char *err,
	       size_t errlen);

#endif
