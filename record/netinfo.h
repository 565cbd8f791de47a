/* SPDX-License-Identifier: MIT */
/*
 * What pkt-record writes about each interface besides its name: the name of
 * its namespace (names.c) and its relations (links.c), as the key=value
 * words of the interface description (docs/format.md). Scanned at start and
 * again, at most once a second, when an unknown namespace or interface
 * shows up.
 */
#ifndef PKT_NETINFO_H
#define PKT_NETINFO_H

#include <stddef.h>
#include <stdint.h>

struct netinfo;

/* proc_root "/proc", netns_dir "/run/netns" (fake trees in tests). */
int netinfo_new(struct netinfo **out, const char *proc_root, const char *netns_dir);
/* Scan names and relations now. Returns 0 or -errno with err (names still work without links). */
int netinfo_scan(struct netinfo *ni, char *err, size_t errlen);
/*
 * "netns_name=pkt-a-1 netns_kind=netns kind=veth peer=268@4026531833 master=5"
 * for an interface; rescans (rate-limited by now_ns) when it is unknown.
 * Returns the length written (0: nothing known) or -ENOSPC.
 */
int netinfo_describe(struct netinfo *ni, uint64_t netns, uint32_t ifindex, uint64_t now_ns,
		     char *buf, size_t cap);
/*
 * The name of a namespace ("pkt-a-1", "docker:3f2a1b4c5d6e", "host"), for
 * the live print; rescans names only (rate-limited by now_ns) when it is
 * unknown. Returns 1 with buf filled, 0 when no name is known, -ENOSPC.
 */
int netinfo_ns_name(struct netinfo *ni, uint64_t netns, uint64_t now_ns, char *buf, size_t cap);
void netinfo_free(struct netinfo *ni);

#endif
