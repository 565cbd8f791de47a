// SPDX-License-Identifier: MIT
/*
 * pkt-record's BPF side (load.h): open -> configure -> load -> attach,
 * in the manner of libbpf-bootstrap, with the two choices the kernel
 * makes for us: which hook clears tracking entries at the real free, and
 * whether the verifier takes the pcap filter.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "hooks.h"
#include "l2.h"
#include "load.h"
#include "record.h"
#include "pktrec.skel.h"

#define NSEC 1000000000ULL

/* the kernel functions where an sk_buff is really freed: the first one matters most */
static const char *const cleanup_funcs[LOAD_CLEANUP_PROGS] = {"kfree_skbmem", "napi_skb_cache_put"};
/* pktrec.bpf.c's programs on them, by kind */
static const char *const cleanup_progs[CLEANUP_NONE][LOAD_CLEANUP_PROGS] = {
    [CLEANUP_FENTRY] = {"free_skbmem", "free_napi_cache"},
    [CLEANUP_KPROBE] = {"kp_free_skbmem", "kp_free_napi_cache"},
};

const char *cleanup_hook_name(enum cleanup_hook c)
{
	static const char *const names[] = {
	    [CLEANUP_FENTRY] = "fentry",
	    [CLEANUP_KPROBE] = "kprobe",
	    [CLEANUP_NONE] = "none",
	};
	return c <= CLEANUP_NONE ? names[c] : "?";
}

/*
 * The first cleanup hook from `from` on that this kernel can have, told by
 * its BTF before anything is loaded: kfree_skbmem must be a BTF function
 * (pahole keeps only functions ftrace can patch, so neither inlined nor
 * notrace); kprobes also need a kernel built with them (register_kprobe
 * in BTF), and programs built for this architecture (vmlinux_min.h's
 * pt_regs).
 */
static enum cleanup_hook choose_cleanup(const struct bpf_object *obj, enum cleanup_hook from)
{
	for (enum cleanup_hook c = from; c < CLEANUP_NONE; c++) {
		if (!btfinfo_has_func(cleanup_funcs[0]))
			return CLEANUP_NONE;
		if (c == CLEANUP_KPROBE && !btfinfo_has_func("register_kprobe"))
			continue;
		if (bpf_object__find_program_by_name(obj, cleanup_progs[c][0]))
			return c;
	}
	return CLEANUP_NONE;
}

/*
 * The filter memo's masks (pktrec.bpf.c, struct filter_state): the bytes
 * the filter reads, in the snapshot's place in each frame layout; every
 * byte when it reads at computed offsets.
 */
static void set_memo_mask(struct pktrec_bpf *skel, const struct cbpf_insn *prog, uint32_t n)
{
	uint8_t frame[PKTREC_ETH_HLEN + PKTREC_MAX_SNAP];
	uint8_t direct[sizeof(skel->rodata->cbpf_memo_mask[0])] = {0};
	uint8_t synth[sizeof(direct)] = {0};

	if (cbpf_read_mask(prog, n, frame, sizeof(frame)))
		memset(frame, 0xff, sizeof(frame));
	/* snapshot byte j is frame byte j, or j + 14 behind a synthetic header */
	for (size_t j = 0; j < PKTREC_MAX_SNAP && j < sizeof(direct); j++) {
		direct[j] = frame[j];
		synth[j] = frame[j + PKTREC_ETH_HLEN];
	}
	memcpy((void *)skel->rodata->cbpf_memo_mask[0], direct, sizeof(direct));
	memcpy((void *)skel->rodata->cbpf_memo_mask[1], synth, sizeof(synth));
}

/* Set everything that must be known before load: tunables, programs to load, ring size. */
static int configure(struct pktrec_bpf *skel, const struct load_cfg *cfg, bool kfilter,
		     bool has_drop_reason, char *err, size_t errlen)
{
	uint64_t ring = 4096;
	int rc;

	skel->rodata->snaplen = cfg->snaplen;
	skel->rodata->event_size = PKTREC_EVENT_SIZE(cfg->snaplen);
	skel->rodata->record_mask = cfg->hook_mask;
	skel->rodata->has_drop_reason = has_drop_reason;
	skel->rodata->user_track = cfg->user_track;
	skel->rodata->have_task_btf =
	    btfinfo_has_enum_value("bpf_func_id", "BPF_FUNC_get_current_task_btf");
	skel->rodata->n_netns = cfg->n_netns;
	for (uint32_t i = 0; i < cfg->n_netns && i < PKTREC_MAX_NETNS; i++)
		skel->rodata->netns_list[i] = cfg->netns[i];
	/* udp_fail_queue_rcv_skb(rc, sk, skb) since 6.10; (rc, sk) before */
	skel->rodata->udp_fail_has_skb = btfinfo_tp_nargs("udp_fail_queue_rcv_skb") >= 3;
	skel->rodata->n_ifnames = (uint32_t)cfg->n_ifnames;
	for (int i = 0; i < cfg->n_ifnames; i++)
		strncpy((char *)skel->rodata->ifnames[i], cfg->ifnames[i], PKTREC_IFNAMSIZ - 1);
	if (kfilter) {
		memcpy((void *)skel->rodata->cbpf_prog, cfg->kfilter,
		       (size_t)cfg->kfilter_len * sizeof(cfg->kfilter[0]));
		skel->rodata->cbpf_len = cfg->kfilter_len;
		skel->rodata->cbpf_extent = cfg->kfilter_extent;
		set_memo_mask(skel, cfg->kfilter, cfg->kfilter_len);
	}

	for (int i = 0; i < HOOK_MAX; i++) {
		/* the stubs are named after their tracepoints (pktrec.bpf.c) */
		struct bpf_program *prog =
		    bpf_object__find_program_by_name(skel->obj, pkt_hooks[i].tp);
		/* the free hooks end tracking ids: they run when the kernel gives the ids */
		bool want = (cfg->hook_mask & (1u << i)) ||
			    (!cfg->user_track && pkt_hook_kind_is_free(pkt_hooks[i].kind) &&
			     btfinfo_tp_nargs(pkt_hooks[i].tp) >= 0);

		if (!prog) {
			snprintf(err, errlen, "hook %s has no BPF program", pkt_hooks[i].name);
			return -ENOENT;
		}
		rc = bpf_program__set_autoload(prog, want);
		if (rc) {
			snprintf(err, errlen, "hook %s: %s", pkt_hooks[i].name, strerror(-rc));
			return rc;
		}
	}

	while (ring < cfg->ring_bytes)
		ring <<= 1;
	/* wake the reader at 1/16 full (it also polls every 20 ms) */
	skel->rodata->wakeup_bytes = (uint32_t)(ring / 16);
	rc = bpf_map__set_max_entries(skel->maps.events, (uint32_t)ring);
	if (rc) {
		snprintf(err, errlen, "ring buffer size: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

/* Load the cleanup programs of kind c only (and only on functions the kernel has). */
static int select_cleanup(struct pktrec_bpf *skel, enum cleanup_hook c)
{
	for (int k = 0; k < CLEANUP_NONE; k++)
		for (int j = 0; j < LOAD_CLEANUP_PROGS; j++) {
			struct bpf_program *prog =
			    bpf_object__find_program_by_name(skel->obj, cleanup_progs[k][j]);
			int rc;

			if (!prog)
				continue;
			rc = bpf_program__set_autoload(
			    prog, (int)c == k && btfinfo_has_func(cleanup_funcs[j]));
			if (rc)
				return rc;
		}
	return 0;
}

int loader_load(struct loader *l, const struct load_cfg *cfg, char *err, size_t errlen)
{
	enum cleanup_hook from = CLEANUP_FENTRY;
	bool kfilter = cfg->kfilter && cfg->kfilter_len;
	int rc;

	l->has_drop_reason = btfinfo_tp_nargs("kfree_skb") >= 3;
	for (;;) {
		enum cleanup_hook c;

		l->skel = pktrec_bpf__open();
		if (!l->skel) {
			rc = -errno;
			snprintf(err, errlen, "cannot open the BPF object: %s", strerror(-rc));
			return rc;
		}
		rc = configure(l->skel, cfg, kfilter, l->has_drop_reason, err, errlen);
		if (rc)
			return rc;
		/* ids given in user space end by the reader's rules: nothing to clean up */
		c = cfg->user_track ? CLEANUP_NONE : choose_cleanup(l->skel->obj, from);
		rc = select_cleanup(l->skel, c);
		if (rc) {
			snprintf(err, errlen, "cleanup hook %s: %s", cleanup_hook_name(c),
				 strerror(-rc));
			return rc;
		}
		rc = pktrec_bpf__load(l->skel);
		if (!rc) {
			l->cleanup = c;
			l->kfilter = kfilter;
			return 0;
		}
		pktrec_bpf__destroy(l->skel);
		l->skel = NULL;
		/*
		 * Refused. What BTF cannot tell: whether this kernel lets tracing
		 * programs in (a security module refused fentry with EPERM on a
		 * test machine) and whether the verifier takes the filter.
		 * Without the cleanup hook first, then without the filter.
		 */
		if (c != CLEANUP_NONE) {
			from = c + 1;
			if (cfg->verbose)
				fprintf(
				    stderr,
				    "pkt-record: %s cleanup hook refused (%s), trying the next\n",
				    cleanup_hook_name(c), strerror(-rc));
			continue;
		}
		if (!kfilter)
			break;
		/* e.g. a filter too complex for the verifier: filter in user space */
		kfilter = false;
		from = CLEANUP_FENTRY;
		if (cfg->verbose)
			fprintf(stderr, "pkt-record: retrying with the filter in user space\n");
	}
	snprintf(err, errlen, "cannot load the BPF programs: %s%s", strerror(-rc),
		 cfg->verbose ? "" : " (-v for details)");
	return rc;
}

int loader_attach(struct loader *l, const struct load_cfg *cfg, char *err, size_t errlen)
{
	/* one by one: a clear message names the hook that failed */
	for (int i = 0; i < HOOK_MAX; i++) {
		struct bpf_program *prog =
		    bpf_object__find_program_by_name(l->skel->obj, pkt_hooks[i].tp);

		if (!prog || !bpf_program__autoload(prog))
			continue;
		l->hook_links[i] = bpf_program__attach(prog);
		if (!l->hook_links[i]) {
			int rc = -errno;

			snprintf(err, errlen, "cannot attach %s: %s", pkt_hooks[i].name,
				 strerror(-rc));
			return rc;
		}
		if (cfg->hook_mask & (1u << i))
			l->recording |= 1u << i;
	}
	for (int j = 0; l->cleanup != CLEANUP_NONE && j < LOAD_CLEANUP_PROGS; j++) {
		struct bpf_program *prog =
		    bpf_object__find_program_by_name(l->skel->obj, cleanup_progs[l->cleanup][j]);

		if (!prog || !bpf_program__autoload(prog))
			continue;
		l->cleanup_links[j] = bpf_program__attach(prog);
		if (l->cleanup_links[j])
			continue;
		/* optional; BTF cannot tell whether the JIT has trampolines for fentry */
		if (cfg->verbose)
			fprintf(stderr, "pkt-record: cleanup hook %s: %s\n",
				bpf_program__name(prog), strerror(errno));
		if (j == 0)
			l->cleanup = CLEANUP_NONE; /* the main one (kfree_skbmem) is missing */
	}
	/*
	 * Without a hook at the real free, an skb freed silently (TCP receive,
	 * GRO) leaves its entry: expire entries and compare skb->head.
	 */
	l->skel->data->track_timeout_ns = l->cleanup != CLEANUP_NONE ? 0 : NSEC;
	if (cfg->verbose)
		fprintf(stderr, "pkt-record: tracking ids: %s, drop reasons: %s\n",
			cfg->user_track		     ? "in user space"
			: l->cleanup != CLEANUP_NONE ? cleanup_hook_name(l->cleanup)
						     : "kernel, no cleanup hook (time-out)",
			l->has_drop_reason ? "yes" : "no");
	return 0;
}

int loader_ring_fd(const struct loader *l)
{
	return bpf_map__fd(l->skel->maps.events);
}

int loader_read_stats(const struct loader *l, uint64_t *hits, uint64_t *lost, uint64_t *kfiltered)
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(l->skel->maps.stats);
	uint64_t h = 0, lo = 0, f = 0;

	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;
	if (fd < 0)
		return -EBADF;
	struct pktrec_stats *v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint32_t k = 0; k < HOOK_MAX; k++) {
		if (bpf_map_lookup_elem(fd, &k, v)) {
			int rc = -errno;
			free(v);
			return rc;
		}
		for (int c = 0; c < ncpu; c++) {
			h += v[c].hits;
			lo += v[c].lost;
			f += v[c].filtered;
		}
	}
	free(v);
	*hits = h;
	*lost = lo;
	*kfiltered = f;
	return 0;
}

void loader_detach(struct loader *l)
{
	for (int i = 0; i < HOOK_MAX; i++) {
		bpf_link__destroy(l->hook_links[i]);
		l->hook_links[i] = NULL;
	}
	for (int j = 0; j < LOAD_CLEANUP_PROGS; j++) {
		bpf_link__destroy(l->cleanup_links[j]);
		l->cleanup_links[j] = NULL;
	}
}

void loader_destroy(struct loader *l)
{
	loader_detach(l);
	pktrec_bpf__destroy(l->skel);
	l->skel = NULL;
}
