/* SPDX-License-Identifier: MIT */
/*
 * User-space view of the hook table (bpf/hooks.def): names, directions,
 * defaults and kinds, for pkt-record (--list-events, -e, directions) and
 * pkt-analyze (what a hit means, from the hook name in its comment).
 */
#ifndef PKT_HOOKS_H
#define PKT_HOOKS_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "pktrec.h" /* enum pktrec_hook, pkt_hook_kind, pkt_hook_dir: shared with BPF */

struct pkt_hook_info {
	const char *name; /* "net:netif_rx" */
	const char *tp;	  /* tracepoint, "netif_rx" */
	enum pkt_hook_dir dir;
	bool dflt;
	enum pkt_hook_kind kind;
	bool entry; /* first hook of a device for a packet */
};

/* the table, indexed by enum pktrec_hook (bpf/pktrec.h) */
extern const struct pkt_hook_info pkt_hooks[];
extern const unsigned pkt_hooks_count;

/*
 * A hook by its full name ("net:netif_rx") or its tracepoint alone
 * ("netif_rx"); -1 if unknown. Returns the index into pkt_hooks.
 */
int pkt_hook_index(const char *name);
/* The kind of a hook named in a comment; PKT_HOOK_KIND_UNKNOWN if not ours. */
enum pkt_hook_kind pkt_hook_kind(const char *name);

static inline bool pkt_hook_kind_is_free(enum pkt_hook_kind k)
{
	return k == PKT_HOOK_KIND_FREE_DROP || k == PKT_HOOK_KIND_FREE_CONSUME;
}

/* explains a packet's fate, is no place it passed: never changes a path, a fate or a pair */
static inline bool pkt_hook_kind_is_cause(enum pkt_hook_kind k)
{
	return k == PKT_HOOK_KIND_CAUSE || k == PKT_HOOK_KIND_CAUSE_SKB;
}

#endif
