/* SPDX-License-Identifier: MIT */
/*
 * Namespace names as the recordings carry them (netns_name= in interface
 * descriptions, docs/format.md), per input file: what pkt-analyze shows
 * instead of inodes, and the topology of --topology.
 */
#ifndef PKT_NSNAMES_H
#define PKT_NSNAMES_H

#include <stdbool.h>
#include <stdint.h>

struct topology;
struct nsnames;

/* topo: also collect every interface for --topology (NULL: names only) */
struct nsnames *nsnames_new(struct topology *topo);
/*
 * An interface block of file `source`: IFNAME@NETNS and its description.
 * Cheap when the description names nothing new. Returns 0 or -ENOMEM.
 */
int nsnames_note(struct nsnames *nn, uint32_t source, const char *if_name, const char *desc);
/* The name of a namespace of file `source`, NULL if the file gave none. */
const char *nsnames_get(const struct nsnames *nn, uint32_t source, uint64_t netns);
void nsnames_free(struct nsnames *nn);

#endif
