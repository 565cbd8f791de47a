/* SPDX-License-Identifier: MIT */
/*
 * pkt-record's BPF side: open bpf/pktrec.bpf.c's skeleton, configure it,
 * load it (the tracking-cleanup hook chosen from the kernel's BTF first;
 * the in-kernel filter left to user space where the verifier refuses it),
 * attach, read the counters, detach.
 */
#ifndef PKT_RECORD_LOAD_H
#define PKT_RECORD_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "pktrec.h"
#include "cbpf.h"

/* How tracking entries are cleared where an sk_buff is really freed (pktrec.bpf.c). */
enum cleanup_hook {
	CLEANUP_FENTRY,
	CLEANUP_KPROBE,
	CLEANUP_NONE, /* entries expire, a changed skb->head starts a new id */
};

struct load_cfg {
	uint32_t snaplen;
	uint32_t hook_mask;		  /* hooks to record, bit per enum pktrec_hook */
	uint64_t netns[PKTREC_MAX_NETNS]; /* --netns: only these namespaces */
	uint32_t n_netns;		  /* 0: any namespace */
	const char *const *ifnames;
	int n_ifnames;
	uint64_t ring_bytes; /* at least this big (a power of two) */
	/* the pcap filter for the kernel side; NULL: none, or it runs in user space */
	const struct cbpf_insn *kfilter;
	uint32_t kfilter_len, kfilter_extent;
	/* no filter: the reader gives the tracking ids; no map, no free hooks (tracker.h) */
	bool user_track;
	bool verbose;
};

#define LOAD_CLEANUP_PROGS 2 /* kfree_skbmem, napi_skb_cache_put */

struct loader {
	struct pktrec_bpf *skel;
	struct bpf_link *hook_links[HOOK_MAX];
	struct bpf_link *cleanup_links[LOAD_CLEANUP_PROGS];
	enum cleanup_hook cleanup;
	bool kfilter;	      /* the pcap filter runs in the kernel */
	bool has_drop_reason; /* kfree_skb's reason is read */
	uint32_t recording;   /* hooks attached for recording */
};

/*
 * Open, configure and load. On success l->kfilter says where the filter
 * runs. The kernel's BTF (btfinfo_load()) must be loaded.
 */
int loader_load(struct loader *l, const struct load_cfg *cfg, char *err, size_t errlen);
/* Attach every loaded program; a missing cleanup hook only weakens tracking. */
int loader_attach(struct loader *l, const struct load_cfg *cfg, char *err, size_t errlen);
/* The ring buffer's map fd. */
int loader_ring_fd(const struct loader *l);
/* Sums of the per-CPU, per-hook counters: 0, or -errno with the outputs left as they were. */
int loader_read_stats(const struct loader *l, uint64_t *hits, uint64_t *lost, uint64_t *kfiltered);
/* Stop the hooks (the loaded object stays, for the counters). */
void loader_detach(struct loader *l);
void loader_destroy(struct loader *l);
const char *cleanup_hook_name(enum cleanup_hook c);

#endif
