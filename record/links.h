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

#include "trace.h"

#define LINK_NAME_LEN 16

struct link_info {
	uint64_t netns;
	uint32_t ifindex;
	char name[LINK_NAME_LEN];
	/*
	 * The relations as the file says them: kind ("" for a plain device),
	 * master, link_ifindex/link_netns (veth peer, macvlan/ipvlan/VLAN parent
	 * or a tunnel's underlay; link_netns 0 when the other namespace has no
	 * id here), vni. netns_name and netns_kind are left empty (names.c).
	 */
	struct trace_if_attrs at;
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
