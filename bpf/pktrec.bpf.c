// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pktrec: one ring-buffer event per hit of the net: tracepoints (and
 * skb:kfree_skb), with a tracking id per sk_buff so that every hop of one
 * packet carries the same id.
 *
 * tp_btf programs: no tracefs; arguments typed from the kernel's BTF.
 */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "pktrec.h"
#include "track_rules.h"
#include "cbpf.h"
#include "l2.h"

#define ARPHRD_ETHER	1
#define ARPHRD_LOOPBACK 772
#define ETH_HLEN	PKTREC_ETH_HLEN

/* uapi enum values (linux/bpf.h), not in the CO-RE header */
#define RB_NO_WAKEUP	1
#define RB_FORCE_WAKEUP 2
#define RB_AVAIL_DATA	0

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Tunables, set by pkt-record before load. */
const volatile __u32 snaplen = PKTREC_DEF_SNAP;
/*
 * Bytes reserved in the ring per event: the header and snaplen bytes of
 * snapshot (PKTREC_EVENT_SIZE()), not the largest snapshot. At the default
 * snaplen the ring holds half as many events again before it loses one.
 */
const volatile __u32 event_size = sizeof(struct pktrec_event);
const volatile __u32 record_mask = 0;	     /* bit per enum pktrec_hook: emit events */
const volatile bool has_drop_reason = false; /* kfree_skb's 3rd argument is the reason */
const volatile __u32 n_netns = 0;	     /* 0: any namespace */
const volatile __u32 n_ifnames = 0;	     /* 0: any interface */
const volatile char ifnames[PKTREC_MAX_IFNAMES][PKTREC_IFNAMSIZ] = {};
const volatile __u64 netns_list[PKTREC_MAX_NETNS] = {}; /* --netns, n_netns of them */
/* the pcap filter, compiled by libpcap for Ethernet (0 = none, or run in user space) */
const volatile __u32 cbpf_len = 0;
const volatile struct cbpf_insn cbpf_prog[CBPF_MAX_INSNS] = {};
const volatile __u32 cbpf_extent = 0xffffffff; /* cbpf_read_extent() of the program */
/*
 * cbpf_read_mask() of the program over the snapshot's bytes, as the memo's
 * words: [0] where the frame is the snapshot, [1] behind a synthetic header
 * (the frame's bytes from 14 on)
 */
const volatile __u64 cbpf_memo_mask[2][(PKTREC_MAX_SNAP + 7) / 8] = {};
/*
 * Wake the reader when this much is waiting (0: at every event). The reader
 * also polls on a short timer, so nothing waits longer than that; under a
 * flood it saves a wake-up (an irq_work and a context switch) per event.
 */
const volatile __u32 wakeup_bytes = 0;
/*
 * bpf_get_current_task_btf() exists (5.11+): the task's pid and comm are
 * two direct loads instead of two helper calls (bpf_get_current_comm()
 * copies with strscpy: ~60 ns a hit in an A/B flood).
 */
const volatile bool have_task_btf = false;
/*
 * No pcap filter: the reader gives the tracking ids (record/tracker.c) and
 * this side keeps no state per sk_buff; the tracks map and the free hooks
 * are not used.
 */
const volatile bool user_track = false;

/*
 * Set by user space after attach: 0 when a cleanup hook at the real free
 * runs; otherwise expire entries after this long and treat a changed
 * skb->head as a new packet (weaker, see the cleanup hooks at the end).
 */
__u64 track_timeout_ns = 1000000000ULL;

/* hooks.def's columns (pktrec.h): constant per stub, so these fold away */
static __always_inline bool hook_is_tx(int hook)
{
	return PKTREC_HOOKS_TX >> hook & 1;
}

static __always_inline bool hook_is_free(int hook)
{
	return PKTREC_HOOKS_FREE >> hook & 1;
}

/*
 * skb address -> tracking id. A free ends the entry in place (id 0) and the
 * next packet to use the address takes the entry over: the slab hands the
 * same few sk_buffs out again and again, so under a flood no hit inserts
 * or deletes (each a bucket lock and LRU list work, where a lookup is
 * inlined and lockless). LRU eviction bounds the addresses kept.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct pktrec_track);
} tracks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 32 * 1024 * 1024); /* resized by --buffer-size */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HOOK_MAX);
	__type(key, __u32);
	__type(value, struct pktrec_stats);
} stats SEC(".maps");

/*
 * Per CPU: the frame the pcap filter sees (the snapshot at SNAP_AT, a
 * synthetic Ethernet header in front of it where there is none), and the
 * last verdict with what it depended on. A packet's next hits (queue then
 * xmit, rx then receive, the bridge, the veth peer) mostly see the same
 * bytes on the same CPU: a few word compares replace running the filter
 * again. Exact: the verdict of a classic BPF program depends only on the
 * bytes it can read (cbpf_extent), the captured length and the wire
 * length, and of those bytes only on the ones it loads (cbpf_memo_mask);
 * a frame's bytes are the snapshot's, behind the synthetic header (whose
 * only variable part is its ethertype) or not. The memo compares the
 * snapshot's words under the mask, 8-byte aligned at SNAP_AT: one load a
 * word, where the frame's words (at 14, or 0) took eight byte loads each.
 */
#define SNAP_AT	   16
#define MEMO_WORDS ((PKTREC_MAX_SNAP + 7) / 8)
struct filter_state {
	__u8 b[SNAP_AT + CBPF_BUF_SIZE];
	__u32 memo_valid, memo_buflen, memo_wirelen, memo_verdict;
	__u32 memo_l2; /* 0, or 1 << 16 | the synthetic header's ethertype */
	__u32 pad;
	__u64 memo_w[MEMO_WORDS];
};
_Static_assert(SNAP_AT >= ETH_HLEN && SNAP_AT % 8 == 0, "a synthetic header fits in front");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct filter_state);
} filter_state SEC(".maps");

/*
 * Look at the ring's fill level (for the wake-up) at one event in this
 * many per CPU: bpf_ringbuf_query() reads consumer_pos, a cache line the
 * reader keeps writing, so a look costs a miss.
 */
#define WAKEUP_QUERY_EVERY 8

struct cpu_state {
	__u64 track_ctr;    /* ids are (cpu << 48) | n: unique without atomics */
	__u32 until_query;  /* events before the next look at the fill level */
	__u32 above_wakeup; /* the last look found wakeup_bytes or more waiting */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_state);
} cpu_state SEC(".maps");

static __always_inline bool netns_matches(__u64 netns)
{
	for (__u32 i = 0; i < PKTREC_MAX_NETNS; i++) {
		if (i >= n_netns)
			break;
		if (netns_list[i] == netns)
			return true;
	}
	return false;
}

static __always_inline bool name_matches(const char *name)
{
	for (__u32 i = 0; i < PKTREC_MAX_IFNAMES; i++) {
		if (i >= n_ifnames)
			break;
		bool eq = true;
		for (int j = 0; j < PKTREC_IFNAMSIZ; j++) {
			if (name[j] != ifnames[i][j]) {
				eq = false;
				break;
			}
			if (!name[j])
				break;
		}
		if (eq)
			return true;
	}
	return false;
}

static __always_inline __u64 new_track_id(struct cpu_state *cs)
{
	cs->track_ctr += 1;
	return ((__u64)bpf_get_smp_processor_id() << 48) | (cs->track_ctr & 0xffffffffffffULL);
}

/*
 * Wake the reader when the backlog crosses wakeup_bytes, not at every
 * event above it: each wake-up is an irq_work, a self-IPI (a VM exit on a
 * guest). Looking every few events on each CPU sees the crossing soon
 * after it happens; the reader drains the ring whole before it sleeps and
 * polls on a short timer besides, so a late or missed look only delays it.
 */
static __always_inline __u64 wakeup_flag(struct cpu_state *cs)
{
	if (!wakeup_bytes)
		return 0; /* the kernel's default: wake when the reader has caught up */
	if (cs->until_query) {
		cs->until_query--;
		return RB_NO_WAKEUP;
	}
	cs->until_query = WAKEUP_QUERY_EVERY - 1;

	bool above = bpf_ringbuf_query(&events, RB_AVAIL_DATA) >= wakeup_bytes;
	bool crossed = above && !cs->above_wakeup;

	cs->above_wakeup = above;
	return crossed ? RB_FORCE_WAKEUP : RB_NO_WAKEUP;
}

/* Where the header snapshot starts and how long it is. */
struct snap_geom {
	unsigned char *head;
	__u64 start;	/* offset from head */
	__u32 n;	/* bytes to copy */
	__u32 orig_len; /* bytes on the wire from start on */
	__u32 len;	/* skb->len */
	bool synth;	/* start is the network header: no Ethernet header there */
	bool mac_ok;
};

static __always_inline void snap_geometry(struct sk_buff *skb, struct net_device *dev, int hook,
					  struct snap_geom *g)
{
	unsigned char *head = skb->head;
	unsigned char *data = skb->data;
	__u16 mac = skb->mac_header;
	__u16 nh = skb->network_header;
	__u32 tail = skb->tail;
	__u32 len = skb->len;
	__u16 type = dev ? dev->type : 0;
	bool eth = type == ARPHRD_ETHER || type == ARPHRD_LOOPBACK;
	bool mac_ok = mac != (__u16)~0U;
	__u64 doff = data - head;
	__u64 start;
	bool synth;

	if (hook_is_tx(hook)) {
		/* dev_queue_xmit: the link-layer header is pushed, data points at it */
		start = doff;
		synth = !eth;
	} else if (mac_ok && eth && (__u32)mac + ETH_HLEN <= tail) {
		start = mac;
		synth = false;
	} else if (hook == HOOK_KFREE_SKB && nh && nh != (__u16)~0U && nh < tail) {
		/* dropped somewhere in L3/L4: data may be past the IP header */
		start = nh;
		synth = true;
	} else {
		start = doff;
		synth = true;
	}
	g->head = head;
	g->start = start;
	g->synth = synth;
	g->mac_ok = mac_ok;
	g->len = len;
	if (start <= doff)
		g->orig_len = len + (__u32)(doff - start);
	else
		g->orig_len = len > (__u32)(start - doff) ? len - (__u32)(start - doff) : 0;

	__u64 n = 0;
	if (start < tail)
		n = tail - start;
	if (n > snaplen)
		n = snaplen;
	if (n > g->orig_len)
		n = g->orig_len;
	g->n = (__u32)n;
}

/*
 * Fallback mode: the fingerprint (track_rules.h) of the snapshot's network
 * header, 0 when it is not IP. Taken from snap (n bytes copied from the
 * snapshot's start) when it holds them, which spares a helper call, else
 * read from the sk_buff.
 */
static __always_inline __u64 ip_fingerprint(const struct snap_geom *g, const __u8 *snap, __u64 n)
{
	__u8 b[8];
	__u64 off = g->synth ? 0 : ETH_HLEN;

	if (snap && n >= off + sizeof(b))
		__builtin_memcpy(b, snap + off, sizeof(b));
	else if (bpf_probe_read_kernel(b, sizeof(b), g->head + g->start + off))
		return 0;
	return pktrec_ip_fingerprint(b);
}

/* Copy the snapshot into the event; returns the bytes copied. */
static __always_inline __u64 snap_copy(struct pktrec_event *e, const struct snap_geom *g)
{
	__u64 n = g->n;

	/* keep clang from folding the bound into 32-bit compares the verifier cannot follow */
	asm volatile("" : "+r"(n));
	if (n > event_size - offsetof(struct pktrec_event, data))
		n = event_size - offsetof(struct pktrec_event, data);
	if (n && bpf_probe_read_kernel(e->data, n, g->head + g->start))
		n = 0;
	return n;
}

/*
 * Run the pcap filter on the frame as pkt-record writes it: the snapshot,
 * behind a synthetic Ethernet header where there is none (zero MACs, the
 * ethertype from skb->protocol), cut at the snaplen. true = record it.
 */
static __always_inline bool filter_accepts(struct sk_buff *skb, const struct snap_geom *g)
{
	__u32 zero = 0;
	struct filter_state *fs = bpf_map_lookup_elem(&filter_state, &zero);
	__u64 n = g->n, copy;

	if (!fs)
		return true; /* cannot happen: record rather than lose */
	/*
	 * Only the bytes the program can read (cbpf_extent, rounded up to the
	 * memo's words): a frame's byte k is the snapshot's byte k, or k - 14
	 * behind a synthetic header. The lengths stay the snapshot's.
	 */
	copy = cbpf_extent < n ? (cbpf_extent + 7) & ~7ull : n;
	if (copy > n)
		copy = n;
	asm volatile("" : "+r"(copy));
	if (copy > PKTREC_MAX_SNAP)
		copy = PKTREC_MAX_SNAP;
	if (copy && bpf_probe_read_kernel(fs->b + SNAP_AT, copy, g->head + g->start))
		copy = n = 0;

	const __u64 *snap_w = (const __u64 *)(fs->b + SNAP_AT);
	__u32 base = SNAP_AT, l2 = 0, buflen, wirelen, ethertype = 0;

	if (g->synth) {
		ethertype =
		    l2_synth_ethertype(bpf_ntohs(skb->protocol), fs->b + SNAP_AT, (__u32)copy);
		l2 = 1u << 16 | ethertype;
		base = SNAP_AT - ETH_HLEN;
	}
	l2_frame_lengths(g->synth, (__u32)n, g->orig_len, snaplen, &buflen, &wirelen);

	/* the frame's bytes the verdict can depend on, and the snapshot's among them */
	__u32 cmp = cbpf_extent < buflen ? cbpf_extent : buflen;
	__u32 snap_cmp = base == SNAP_AT ? cmp : cmp > ETH_HLEN ? cmp - ETH_HLEN : 0;
	__u32 words = (snap_cmp + 7) / 8;

	if (fs->memo_valid && fs->memo_buflen == buflen && fs->memo_wirelen == wirelen &&
	    fs->memo_l2 == l2) {
		bool same = true;

		/* bytes past copy in the last word are stale, compared alike: a miss at worst */
		for (__u32 i = 0; i < MEMO_WORDS && i < words; i++) {
			if ((snap_w[i] ^ fs->memo_w[i]) & cbpf_memo_mask[g->synth][i]) {
				same = false;
				break;
			}
		}
		if (same)
			return fs->memo_verdict != 0;
	}
	if (g->synth)
		l2_put_header(fs->b + SNAP_AT - ETH_HLEN, (__u16)ethertype);
	__u32 verdict = cbpf_run(cbpf_prog, cbpf_len, fs->b + base, buflen, wirelen);

	for (__u32 i = 0; i < MEMO_WORDS && i < words; i++)
		fs->memo_w[i] = snap_w[i];
	fs->memo_buflen = buflen;
	fs->memo_wirelen = wirelen;
	fs->memo_l2 = l2;
	fs->memo_verdict = verdict;
	fs->memo_valid = 1;
	return verdict != 0;
}

/*
 * Entries with a live id (approximately: LRU eviction leaves it high).
 * With a pcap filter only matched packets are tracked, so while it is 0 a
 * hit cannot be a known packet and the map lookup is skipped: a filter
 * that matches nothing costs no map operation per hit. Changed only where
 * this CPU saw the id go from 0 to live or back; one sk_buff is handled
 * by one CPU at a time, so two CPUs do not end the same entry at once.
 */
__s64 tracked_live = 0;

static __always_inline void end_track(struct pktrec_track *tv)
{
	if (tv->id) {
		tv->id = 0;
		__sync_fetch_and_add(&tracked_live, -1);
	}
}

/* A free of an sk_buff we may be tracking: its entry ends (a lookup and a store, no lock). */
static __always_inline void forget(__u64 key)
{
	/*
	 * No live entry (a filter that has matched nothing): none to end. The
	 * unrecorded consume_skb of a filtered recording runs for every packet;
	 * this spares it the LRU map's hash lookup.
	 */
	if (!tracked_live)
		return;
	struct pktrec_track *tv = bpf_map_lookup_elem(&tracks, &key);

	if (tv)
		end_track(tv);
}

/*
 * Frees that bypass skb:kfree_skb / skb:consume_skb (__kfree_skb from TCP's
 * receive path, GRO's stolen heads, the NAPI skb cache) would leave a stale
 * entry whose address the next sk_buff reuses, merging two packets under one
 * id. These optional hooks clear the entry at the real free: fentry, or
 * kprobes where fentry programs cannot be loaded; user space loads them only
 * when the kernel's BTF has the functions, and goes on without them (then
 * with a time-out on tracking entries) if neither kind loads.
 *
 * Before the hook programs: libbpf loads programs in the object's order,
 * so a kernel that refuses these does it before the large ones have been
 * verified, and the retry without them costs one full load, not two.
 */
SEC("fentry/kfree_skbmem")
int BPF_PROG(free_skbmem, struct sk_buff *skb)
{
	forget((__u64)skb);
	return 0;
}

SEC("fentry/napi_skb_cache_put")
int BPF_PROG(free_napi_cache, struct sk_buff *skb)
{
	forget((__u64)skb);
	return 0;
}

#ifdef PKTREC_HAVE_KPROBE
SEC("kprobe/kfree_skbmem")
int BPF_KPROBE(kp_free_skbmem, struct sk_buff *skb)
{
	forget((__u64)skb);
	return 0;
}

SEC("kprobe/napi_skb_cache_put")
int BPF_KPROBE(kp_free_napi_cache, struct sk_buff *skb)
{
	forget((__u64)skb);
	return 0;
}
#endif

/*
 * Where the hit is: the device's namespace, index and name; without a
 * device, the socket's namespace, else the current task's (dev_scratch: a
 * UDP scratch word where skb->dev was, namespace 0).
 */
static __always_inline void hit_place(struct sk_buff *skb, struct net_device *dev, bool dev_scratch,
				      __u64 *netns, __u32 *ifindex, __u64 name[2])
{
	if (dev) {
		/*
		 * Two word loads: a copy of the char array compiles to sixteen byte
		 * loads, each a checked load through the BTF pointer.
		 */
		const __u64 *dev_name = (const __u64 *)dev->name;

		*netns = dev->nd_net.net->ns.inum;
		*ifindex = dev->ifindex;
		name[0] = dev_name[0];
		name[1] = dev_name[1];
	} else if (!dev_scratch) {
		struct sock *sk = skb->sk;
		if (sk)
			*netns = sk->__sk_common.skc_net.net->ns.inum;
		if (!*netns) {
			struct task_struct *task = (struct task_struct *)bpf_get_current_task();
			*netns = BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
		}
	}
}

/* a hit the pcap filter rejected in the kernel */
static __always_inline void count_filtered(int hook)
{
	__u32 hk = hook;
	struct pktrec_stats *st = bpf_map_lookup_elem(&stats, &hk);

	if (st)
		st->filtered++;
}

static __always_inline int handle(struct sk_buff *skb, int hook, __u32 reason, __u64 location)
{
	__u64 now = 0;
	__u64 key = (__u64)skb;
	bool is_free = hook_is_free(hook);
	__u64 name[PKTREC_IFNAMSIZ / 8] = {}; /* in words: copied as words */
	struct net_device *dev;
	__u64 netns = 0;
	__u32 ifindex = 0;

	if (!skb)
		return 0;
	if (!(record_mask & (1u << hook))) {
		if (is_free && !user_track)
			forget(key);
		return 0;
	}

	/*
	 * Direct loads through the BTF-typed pointers (tp_btf): the verifier
	 * makes them fault-safe, and each costs a load where BPF_CORE_READ
	 * costs a bpf_probe_read_kernel() call (a dozen per hit, a tenth of
	 * the flood's CPU time). Still CO-RE: vmlinux_min.h's structs carry
	 * preserve_access_index.
	 */
	dev = skb->dev;
	/*
	 * skb->dev shares its word with dev_scratch: UDP keeps lengths there
	 * while the sk_buff waits on a socket, so at a free it can be a
	 * non-canonical value. A load through it cannot crash (the verifier
	 * made it fault-safe), but each takes a general-protection fault and
	 * an exception-table search: recording consume_skb under a UDP flood
	 * spent a quarter of the CPU there. Kernel pointers have the top byte
	 * set; the scratch word's top byte is a flag (0 or 1). Such a free
	 * keeps namespace 0 (unknown): it runs in softirq, where neither the
	 * socket (UDP leaves skb->sk unset) nor the current task tells. A read
	 * (skb_copy_datagram_iovec) sees the same word while the sk_buff waits.
	 */
	bool dev_scratch =
	    (is_free || hook == HOOK_SKB_COPY_DATAGRAM_IOVEC) && dev && ((__u64)dev >> 56) != 0xff;

	if (dev_scratch)
		dev = NULL;

	/*
	 * The hit's place first, though the pcap filter does not need it:
	 * read after the filter (so never for a rejected hit) it saved a few
	 * loads a hit but doubled the filter's load time, the verifier
	 * walking the place's branches once per way out of the filter.
	 */
	hit_place(skb, dev, dev_scratch, &netns, &ifindex, name);
	if ((n_netns && !netns_matches(netns)) ||
	    (n_ifnames && !name_matches((const char *)name))) {
		if (is_free && !user_track)
			forget(key);
		return 0;
	}

	struct snap_geom g;
	struct pktrec_event *e = NULL;
	struct pktrec_track *tv = NULL;
	__u64 track = 0, headp = (__u64)skb->head, n = 0, fp = 0;
	__u64 timeout = track_timeout_ns;
	bool live = false, known = false, fresh = false, match = true;

	snap_geometry(skb, dev, hook, &g);
	/*
	 * The pcap filter first, before any tracking branch: the verifier then
	 * walks it from one state, not once per branch (a filter's load time
	 * grew threefold the other way round). A known packet is recorded
	 * whatever the verdict: its cost is paid only by packets that matched
	 * once. With no packet tracked, a rejected hit cannot be a known one:
	 * counted and done, no map operation and no clock read.
	 */
	if (!user_track && cbpf_len) {
		match = filter_accepts(skb, &g);
		if (!match && !tracked_live) {
			count_filtered(hook);
			return 0;
		}
	}
	if (user_track) {
		/*
		 * No filter: every hit is recorded and the reader gives the ids
		 * (record/tracker.c: track_rules.h's rules on skb=, head=, the
		 * snapshot, the device and the time): no map lookup or update.
		 */
		e = bpf_ringbuf_reserve(&events, event_size, 0);
		if (e)
			n = snap_copy(e, &g);
	} else {
		/* a rejected hit gets here only while some packet is tracked */
		tv = bpf_map_lookup_elem(&tracks, &key);
		live = tv && tv->id;
		/*
		 * With the filter in user space every hit is recorded: its ring
		 * slot comes first, and the snapshot copied there gives the
		 * fingerprint.
		 */
		if (!cbpf_len) {
			e = bpf_ringbuf_reserve(&events, event_size, 0);
			if (e)
				n = snap_copy(e, &g);
		}
		/* clock and fingerprint only for a live entry: a filter rejects the rest */
		if (live) {
			now = bpf_ktime_get_ns();
			if (timeout && !is_free)
				fp = ip_fingerprint(&g, e ? e->data : NULL, n);
			known =
			    !timeout || (now - tv->last_ts <= timeout &&
					 pktrec_same_packet(tv, headp, netns, ifindex, hook, fp));
		}
		/*
		 * With a pcap filter, only packets that matched are tracked: a known
		 * one is recorded at every hop even if it no longer matches (NAT,
		 * encapsulation); an unknown one must match here.
		 */
		if (!match && !known) {
			count_filtered(hook);
			if (live)
				end_track(tv); /* stale: another packet's */
			if (e)
				bpf_ringbuf_discard(e, 0); /* for the verifier: e is NULL */
			return 0;
		}
	}
	/* past the filter: the per-CPU id counter and wake-up state */
	__u32 zero = 0;
	struct cpu_state *cs = bpf_map_lookup_elem(&cpu_state, &zero);

	if (!cs) {
		/* cannot happen: a per-CPU array of one */
		if (e)
			bpf_ringbuf_discard(e, 0);
		return 0;
	}
	if (!live)
		now = bpf_ktime_get_ns();
	if (user_track) {
		/* the reader's */
	} else if (known) {
		track = tv->id;
		tv->last_ts = now;
		tv->netns = netns;
		tv->ifindex = ifindex;
		tv->hook = hook;
		if (fp)
			tv->fp = fp;
		if (is_free)
			end_track(tv);
	} else {
		if (timeout && !is_free && !fp)
			fp = ip_fingerprint(&g, e ? e->data : NULL, n);
		struct pktrec_track nv = {
		    .id = new_track_id(cs),
		    .last_ts = now,
		    .head = headp,
		    .netns = netns,
		    .ifindex = ifindex,
		    .hook = hook,
		    .fp = fp,
		};
		track = nv.id;
		fresh = true;
		/* a free has nothing left to track: an ended entry stays ended */
		if (!is_free && !live)
			__sync_fetch_and_add(&tracked_live, 1);
		if (!is_free && tv)
			*tv = nv; /* the address's entry, taken over */
		else if (!is_free)
			bpf_map_update_elem(&tracks, &key, &nv, BPF_ANY);
	}

	__u32 hk = hook;
	struct pktrec_stats *st = bpf_map_lookup_elem(&stats, &hk);
	if (st)
		st->hits++;

	if (cbpf_len) {
		e = bpf_ringbuf_reserve(&events, event_size, 0);
		if (e)
			n = snap_copy(e, &g);
	}
	if (!e) {
		if (st)
			st->lost++;
		return 0;
	}

	e->ts_ns = now;
	e->skb = key;
	e->head = headp;
	e->track = track;
	e->netns = netns;
	e->ifindex = ifindex;
	if (have_task_btf) {
		struct task_struct *task = bpf_get_current_task_btf();

		e->pid = (__u32)task->pid; /* thread id */
		__builtin_memcpy(e->comm, task->comm, sizeof(e->comm));
	} else {
		e->pid = (__u32)bpf_get_current_pid_tgid(); /* thread id */
		bpf_get_current_comm(e->comm, sizeof(e->comm));
	}
	e->cpu = bpf_get_smp_processor_id();
	e->drop_reason = reason;
	e->location = location;
	e->hook = hook;
	e->flags = fresh ? PKTREC_F_NEW_TRACK : 0;
	if (!dev)
		e->flags |= PKTREC_F_NO_DEV;
	if (hook == HOOK_KFREE_SKB && has_drop_reason)
		e->flags |= PKTREC_F_HAS_DROP;
	__builtin_memcpy(e->ifname, name, sizeof(name));

	if (g.mac_ok)
		e->flags |= PKTREC_F_MAC_SET;
	if (g.synth)
		e->flags |= PKTREC_F_L2_SYNTH;
	e->protocol = bpf_ntohs(skb->protocol);
	e->len = g.len;
	e->orig_len = g.orig_len;

	e->snap_len = n;

	bpf_ringbuf_submit(e, wakeup_flag(cs));
	return 0;
}

/*
 * One program per hook of hooks.def, named after its tracepoint (pkt-record
 * finds it by that name). SKB_HOOK: the tracepoint's first argument is the
 * sk_buff and that is all the hook reads.
 */
#define SKB_HOOK(id, tp)                                                                           \
	SEC("tp_btf/" #tp)                                                                         \
	int BPF_PROG(tp, struct sk_buff *skb)                                                      \
	{                                                                                          \
		return handle(skb, HOOK_##id, 0, 0);                                               \
	}

SKB_HOOK(NET_DEV_QUEUE, net_dev_queue)
SKB_HOOK(NET_DEV_START_XMIT, net_dev_start_xmit)
SKB_HOOK(NETIF_RX, netif_rx)
SKB_HOOK(NETIF_RECEIVE_SKB, netif_receive_skb)
SKB_HOOK(NAPI_GRO_RECEIVE_ENTRY, napi_gro_receive_entry)
SKB_HOOK(NETIF_RECEIVE_SKB_ENTRY, netif_receive_skb_entry)
SKB_HOOK(CONSUME_SKB, consume_skb)
/* a process reads the data (recvmsg): its pid and comm name who got it */
SKB_HOOK(SKB_COPY_DATAGRAM_IOVEC, skb_copy_datagram_iovec)

/*
 * kfree_skb(skb, location)                 before 5.17
 * kfree_skb(skb, location, reason)         5.17+
 * kfree_skb(skb, location, reason, rx_sk)  6.12+
 * The reason is read as the 3rd argument only when user space found it in
 * the kernel's BTF (has_drop_reason): the verifier drops the dead branch.
 * The location (where kfree_skb was called) goes to user space as an
 * address; pkt-record names it from /proc/kallsyms.
 */
SEC("tp_btf/kfree_skb")
int BPF_PROG(kfree_skb, struct sk_buff *skb, void *location)
{
	__u32 reason = 0;

	if (has_drop_reason)
		reason = (__u32)ctx[2];
	return handle(skb, HOOK_KFREE_SKB, reason, (__u64)location);
}

/* ------------------------------------------------------------------------
 * The optional hooks of hooks.def after skb_copy_datagram_iovec: what sent
 * an ICMP error or a reset, a full socket queue, route and neighbour
 * lookups, a driver's return code, a qdisc. None is a place a packet
 * passes (kinds CAUSE and CAUSE_SKB).
 *
 * CAUSE_SKB hooks go through handle() like any hit on the sk_buff (header
 * snapshot, tracking id); their own values ride in the event's drop_reason
 * and location words, which only kfree_skb uses otherwise (user space reads
 * them by hook: record/event.c).
 */

/* arguments this kernel's tracepoints have, told by user space from BTF */
const volatile bool udp_fail_has_skb = false; /* udp_fail_queue_rcv_skb(rc, sk, skb): 6.10+ */

#define AF_INET	 2
#define AF_INET6 10

/* a socket's state for tcp_state=, +1 (0: no socket) */
static __always_inline __u32 sk_state1(const struct sock *sk)
{
	return sk ? (__u32)BPF_CORE_READ(sk, __sk_common.skc_state) + 1 : 0;
}

static __always_inline void cause_sock(struct pktrec_cause *c, const struct sock *sk)
{
	if (!sk) {
		c->flags |= PKTREC_C_NO_SOCK;
		return;
	}
	c->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	c->flags |= PKTREC_C_TCP_STATE;
	__u16 fam = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (fam == AF_INET) {
		__be32 s = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__be32 d = BPF_CORE_READ(sk, __sk_common.skc_daddr);

		__builtin_memcpy(c->saddr, &s, 4);
		__builtin_memcpy(c->daddr, &d, 4);
	} else if (fam == AF_INET6) {
		bpf_core_read(c->saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(c->daddr, 16, &sk->__sk_common.skc_v6_daddr);
	} else {
		return;
	}
	c->family = (__u8)fam;
	c->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	c->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	c->flags |= PKTREC_C_ADDRS | PKTREC_C_PORTS;
}

/*
 * One CAUSE event: the hook's device (or none), namespace (the device's,
 * else netns_hint, else the current task's), the tracking id of skb when
 * it is tracked (a lookup: a cause never starts or ends an id), and c.
 */
static __always_inline int emit_cause(int hook, const struct net_device *dev, __u64 netns_hint,
				      const void *skb, const struct pktrec_cause *c)
{
	char name[PKTREC_IFNAMSIZ] = {};
	__u64 netns = netns_hint, track = 0;
	__u32 ifindex = 0;

	if (dev) {
		netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
		ifindex = BPF_CORE_READ(dev, ifindex);
		bpf_core_read(name, sizeof(name), &dev->name);
	}
	if (!netns) {
		struct task_struct *task = (struct task_struct *)bpf_get_current_task();
		netns = BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
	}
	if ((n_netns && !netns_matches(netns)) || (n_ifnames && !name_matches(name)))
		return 0;
	if (skb && !user_track) {
		__u64 key = (__u64)skb;
		struct pktrec_track *tv = bpf_map_lookup_elem(&tracks, &key);

		if (tv)
			track = tv->id;
	}
	/* with a filter in the kernel only matched packets are tracked */
	if (cbpf_len && skb && !track)
		return 0;

	__u32 hk = hook, zero = 0;
	struct pktrec_stats *st = bpf_map_lookup_elem(&stats, &hk);
	struct cpu_state *cs = bpf_map_lookup_elem(&cpu_state, &zero);

	if (!cs)
		return 0;
	if (st)
		st->hits++;
	struct pktrec_event *e = bpf_ringbuf_reserve(&events, PKTREC_CAUSE_EVENT_SIZE, 0);
	if (!e) {
		if (st)
			st->lost++;
		return 0;
	}
	e->ts_ns = bpf_ktime_get_ns();
	/* with user_track the reader names the id from the address, then clears it */
	e->skb = user_track ? (__u64)skb : 0;
	e->head = 0;
	e->track = track;
	e->netns = netns;
	e->ifindex = ifindex;
	e->pid = (__u32)bpf_get_current_pid_tgid();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->cpu = bpf_get_smp_processor_id();
	e->drop_reason = 0;
	e->location = 0;
	e->hook = hook;
	e->flags = dev ? 0 : PKTREC_F_NO_DEV;
	__builtin_memcpy(e->ifname, name, sizeof(name));
	e->protocol = 0;
	e->len = 0;
	e->orig_len = 0;
	e->snap_len = sizeof(*c);
	__builtin_memcpy(e->data, c, sizeof(*c));
	bpf_ringbuf_submit(e, wakeup_flag(cs));
	return 0;
}

#define WANT(id) (record_mask & (1u << HOOK_##id))

/* icmp_send(skb, type, code): the packet that caused the error (IPv4 only) */
SEC("tp_btf/icmp_send")
int BPF_PROG(icmp_send, struct sk_buff *skb, int type, int code)
{
	return handle(skb, HOOK_ICMP_SEND, ((__u32)type & 0xff) << 8 | ((__u32)code & 0xff), 0);
}

/*
 * tcp_send_reset(sk, skb[, reason]): skb is the segment that caused the
 * reset; NULL for a reset the socket sends on its own (then an event with
 * the socket's addresses). sk is NULL when no socket matched.
 */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(tcp_send_reset, const struct sock *sk, struct sk_buff *skb)
{
	if (skb)
		return handle(skb, HOOK_TCP_SEND_RESET, sk_state1(sk), 0);
	if (!WANT(TCP_SEND_RESET))
		return 0;
	struct pktrec_cause c = {};
	cause_sock(&c, sk);
	c.l4proto = 6;
	c.flags |= PKTREC_C_L4PROTO;
	return emit_cause(HOOK_TCP_SEND_RESET, NULL,
			  sk ? BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum) : 0, NULL, &c);
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(tcp_receive_reset, struct sock *sk)
{
	if (!WANT(TCP_RECEIVE_RESET))
		return 0;
	struct pktrec_cause c = {};
	cause_sock(&c, sk);
	return emit_cause(HOOK_TCP_RECEIVE_RESET, NULL,
			  sk ? BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum) : 0, NULL, &c);
}

/*
 * tcp_retransmit_skb(sk, skb[, err]): skb is the segment in the write queue,
 * whose headers are built on a clone: no header snapshot to take, the
 * socket says which connection.
 */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tcp_retransmit_skb, const struct sock *sk, struct sk_buff *skb)
{
	if (!WANT(TCP_RETRANSMIT_SKB))
		return 0;
	struct pktrec_cause c = {};
	cause_sock(&c, sk);
	return emit_cause(HOOK_TCP_RETRANSMIT_SKB, NULL,
			  sk ? BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum) : 0, skb, &c);
}

static __always_inline void cause_nhc(struct pktrec_cause *c, const struct fib_nh_common *nhc,
				      const struct net_device **dev)
{
	if (!nhc)
		return;
	*dev = BPF_CORE_READ(nhc, nhc_dev);
	if (*dev) {
		c->oif = BPF_CORE_READ(*dev, ifindex);
		c->flags |= PKTREC_C_OIF;
	}
	c->gw_family = BPF_CORE_READ(nhc, nhc_gw_family);
	if (c->gw_family == AF_INET || c->gw_family == AF_INET6) {
		bpf_core_read(c->gw, c->gw_family == AF_INET ? 4 : 16, &nhc->nhc_gw);
		c->flags |= PKTREC_C_GW;
	}
}

/* fib_table_lookup(tb_id, flp, nhc, err): an IPv4 route lookup and its result */
SEC("tp_btf/fib_table_lookup")
int BPF_PROG(fib_table_lookup, __u32 tb_id, const struct flowi4 *flp,
	     const struct fib_nh_common *nhc, int err)
{
	if (!WANT(FIB_TABLE_LOOKUP))
		return 0;
	struct pktrec_cause c = {.table = tb_id, .err = err, .family = AF_INET};
	const struct net_device *dev = NULL;
	__be32 s = BPF_CORE_READ(flp, saddr), d = BPF_CORE_READ(flp, daddr);

	c.flags = PKTREC_C_FIB | PKTREC_C_ADDRS | PKTREC_C_L4PROTO;
	__builtin_memcpy(c.saddr, &s, 4);
	__builtin_memcpy(c.daddr, &d, 4);
	c.l4proto = BPF_CORE_READ(flp, __fl_common.flowic_proto);
	if (c.l4proto == 6 || c.l4proto == 17 || c.l4proto == 132) {
		c.sport = bpf_ntohs(BPF_CORE_READ(flp, uli.ports.sport));
		c.dport = bpf_ntohs(BPF_CORE_READ(flp, uli.ports.dport));
		c.flags |= PKTREC_C_PORTS;
	}
	if (!err)
		cause_nhc(&c, nhc, &dev);
	return emit_cause(HOOK_FIB_TABLE_LOOKUP, dev, 0, NULL, &c);
}

/* fib6_table_lookup(net, res, table, flp) */
SEC("tp_btf/fib6_table_lookup")
int BPF_PROG(fib6_table_lookup, const struct net *net, const struct fib6_result *res,
	     struct fib6_table *table, const struct flowi6 *flp)
{
	if (!WANT(FIB6_TABLE_LOOKUP))
		return 0;
	struct pktrec_cause c = {.family = AF_INET6};
	const struct net_device *dev = NULL;
	const struct fib6_nh *nh = res ? BPF_CORE_READ(res, nh) : NULL;

	c.flags = PKTREC_C_FIB | PKTREC_C_ADDRS | PKTREC_C_L4PROTO;
	c.table = table ? BPF_CORE_READ(table, tb6_id) : 0;
	c.err = nh ? 0 : -113; /* -EHOSTUNREACH: no route */
	bpf_core_read(c.saddr, 16, &flp->saddr);
	bpf_core_read(c.daddr, 16, &flp->daddr);
	c.l4proto = BPF_CORE_READ(flp, __fl_common.flowic_proto);
	if (c.l4proto == 6 || c.l4proto == 17 || c.l4proto == 132) {
		c.sport = bpf_ntohs(BPF_CORE_READ(flp, uli.ports.sport));
		c.dport = bpf_ntohs(BPF_CORE_READ(flp, uli.ports.dport));
		c.flags |= PKTREC_C_PORTS;
	}
	if (nh)
		cause_nhc(&c, &nh->nh_common, &dev);
	return emit_cause(HOOK_FIB6_TABLE_LOOKUP, dev, net ? BPF_CORE_READ(net, ns.inum) : 0, NULL,
			  &c);
}

static __always_inline int neigh_event(int hook, const struct neighbour *n, __u8 state, bool dead)
{
	struct pktrec_cause c = {.state = state};
	int fam = BPF_CORE_READ(n, tbl, family);

	c.flags = PKTREC_C_NEIGH | (dead ? PKTREC_C_DEAD : 0);
	if (fam == AF_INET || fam == AF_INET6) {
		c.family = (__u8)fam;
		bpf_core_read(c.daddr, fam == AF_INET ? 4 : 16, &n->primary_key);
	}
	return emit_cause(hook, BPF_CORE_READ(n, dev), 0, NULL, &c);
}

/* neigh_update(n, lladdr, new, flags, nlmsg_pid): the state it goes to */
SEC("tp_btf/neigh_update")
int BPF_PROG(neigh_update, struct neighbour *n, const __u8 *lladdr, __u8 new_state)
{
	if (!WANT(NEIGH_UPDATE))
		return 0;
	return neigh_event(HOOK_NEIGH_UPDATE, n, new_state, false);
}

/* neigh_event_send_dead(n, rc): a packet waited for a neighbour entry that is gone */
SEC("tp_btf/neigh_event_send_dead")
int BPF_PROG(neigh_event_send_dead, struct neighbour *n)
{
	if (!WANT(NEIGH_EVENT_SEND_DEAD))
		return 0;
	return neigh_event(HOOK_NEIGH_EVENT_SEND_DEAD, n, BPF_CORE_READ(n, nud_state), true);
}

/*
 * net_dev_xmit(skb, rc, dev, skb_len): after the driver had it. The sk_buff
 * may be gone (freed, or handed to the veth peer): only its address is used,
 * to name its tracking id.
 */
SEC("tp_btf/net_dev_xmit")
int BPF_PROG(net_dev_xmit, struct sk_buff *skb, int rc, struct net_device *dev)
{
	if (!WANT(NET_DEV_XMIT))
		return 0;
	struct pktrec_cause c = {.rc = rc, .flags = PKTREC_C_RC};

	return emit_cause(HOOK_NET_DEV_XMIT, dev, 0, skb, &c);
}

/* udp_fail_queue_rcv_skb(rc, sk[, skb]): the socket refused the datagram */
SEC("tp_btf/udp_fail_queue_rcv_skb")
int BPF_PROG(udp_fail_queue_rcv_skb, int rc, struct sock *sk)
{
	if (udp_fail_has_skb) {
		struct sk_buff *skb = (struct sk_buff *)ctx[2];

		if (skb)
			return handle(skb, HOOK_UDP_FAIL_QUEUE_RCV_SKB, (__u32)rc, 0);
	}
	if (!WANT(UDP_FAIL_QUEUE_RCV_SKB))
		return 0;
	struct pktrec_cause c = {.rc = rc, .flags = PKTREC_C_RC};
	cause_sock(&c, sk);
	c.flags &= ~PKTREC_C_TCP_STATE;
	return emit_cause(HOOK_UDP_FAIL_QUEUE_RCV_SKB, NULL,
			  sk ? BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum) : 0, NULL, &c);
}

/* sock_rcvqueue_full(sk, skb): rmem= and rcvbuf= */
SEC("tp_btf/sock_rcvqueue_full")
int BPF_PROG(sock_rcvqueue_full, struct sock *sk, struct sk_buff *skb)
{
	__u32 rmem = (__u32)BPF_CORE_READ(sk, sk_backlog.rmem_alloc.counter);
	__u32 rcvbuf = (__u32)BPF_CORE_READ(sk, sk_rcvbuf);

	return handle(skb, HOOK_SOCK_RCVQUEUE_FULL, rmem, rcvbuf);
}

static __always_inline int qdisc_event(int hook, const struct Qdisc *q,
				       const struct netdev_queue *txq, const void *skb)
{
	struct pktrec_cause c = {.flags = PKTREC_C_QDISC};

	c.handle = BPF_CORE_READ(q, handle);
	bpf_core_read_str(c.qdisc, sizeof(c.qdisc), &q->ops->id);
	return emit_cause(hook, txq ? BPF_CORE_READ(txq, dev) : NULL, 0, skb, &c);
}

/* qdisc_enqueue(qdisc, txq, skb) */
SEC("tp_btf/qdisc_enqueue")
int BPF_PROG(qdisc_enqueue, struct Qdisc *q, const struct netdev_queue *txq, struct sk_buff *skb)
{
	if (!WANT(QDISC_ENQUEUE))
		return 0;
	return qdisc_event(HOOK_QDISC_ENQUEUE, q, txq, skb);
}

/* qdisc_dequeue(qdisc, txq, packets, skb): skb NULL when the queue was empty */
SEC("tp_btf/qdisc_dequeue")
int BPF_PROG(qdisc_dequeue, struct Qdisc *q, const struct netdev_queue *txq, int packets,
	     struct sk_buff *skb)
{
	if (!WANT(QDISC_DEQUEUE) || !skb)
		return 0;
	return qdisc_event(HOOK_QDISC_DEQUEUE, q, txq, skb);
}
