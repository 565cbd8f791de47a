// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ceiling builds of the recorder's kernel side (issue 17), measurement only: each
 * does part of a hit's work on the default hooks, its reader
 * (tests/bench/ceil.c) drains the ring and drops what it reads.
 *
 *   mode 1 (a): reserve one full-size record per hit, a few stores, submit
 *   mode 2 (b): the whole ~240-byte record (header, 128-byte snapshot by
 *               bpf_probe_read_kernel, bpf_ktime_get_ns) into a per-CPU
 *               staging area; one bpf_ringbuf_output of it per 16 hits
 *   mode 3 (c): (b) without the clock
 *   mode 4 (d): (b)'s record, but reserved and submitted per hit
 *
 * clock_loop / empty_loop (BPF_PROG_TYPE_SYSCALL, run by
 * BPF_PROG_TEST_RUN): bpf_loop calling bpf_ktime_get_ns() or nothing.
 */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "pktrec.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define RB_NO_WAKEUP 1
#define SNAP	     128
#define REC_SIZE     PKTREC_EVENT_SIZE(SNAP)
#define BATCH	     16

const volatile __u32 mode = 1;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 32 * 1024 * 1024);
} events SEC(".maps");

struct stage {
	__u32 n;
	__u32 pad;
	__u64 lost;
	__u8 buf[BATCH * REC_SIZE];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stage);
} stage SEC(".maps");

/* what pktrec.bpf.c's handle() writes, without the tracking and the filter */
static __always_inline void fill(struct pktrec_event *e, struct sk_buff *skb, int hook,
				 bool is_free, bool clock)
{
	struct net_device *dev = skb->dev;
	unsigned char *head = skb->head;
	__u64 doff = skb->data - head, start = doff;
	__u16 mac = skb->mac_header;

	if (is_free && dev && ((__u64)dev >> 56) != 0xff)
		dev = NULL;
	if (dev) {
		e->netns = dev->nd_net.net->ns.inum;
		e->ifindex = dev->ifindex;
		__builtin_memcpy(e->ifname, dev->name, sizeof(e->ifname));
	} else {
		e->netns = 0;
		e->ifindex = 0;
		__builtin_memset(e->ifname, 0, sizeof(e->ifname));
	}
	if (hook != HOOK_NET_DEV_START_XMIT && mac != (__u16)~0U && mac + 14u <= skb->tail)
		start = mac;
	struct task_struct *task = bpf_get_current_task_btf();

	e->pid = (__u32)task->pid;
	__builtin_memcpy(e->comm, task->comm, sizeof(e->comm));
	e->ts_ns = clock ? bpf_ktime_get_ns() : 0;
	e->skb = (__u64)skb;
	e->head = (__u64)head;
	e->track = 0;
	e->cpu = bpf_get_smp_processor_id();
	e->drop_reason = 0;
	e->location = 0;
	e->hook = hook;
	e->flags = 0;
	e->protocol = skb->protocol;
	e->len = skb->len;
	e->orig_len = skb->len;
	e->snap_len = SNAP;
	if (bpf_probe_read_kernel(e->data, SNAP, head + start))
		e->snap_len = 0;
}

static __always_inline int hit(struct sk_buff *skb, int hook)
{
	bool is_free = hook == HOOK_KFREE_SKB;
	__u32 zero = 0;

	if (!skb)
		return 0;
	if (mode == 1 || mode == 4) {
		struct pktrec_event *e = bpf_ringbuf_reserve(&events, REC_SIZE, 0);

		if (!e) {
			struct stage *st = bpf_map_lookup_elem(&stage, &zero);

			if (st)
				st->lost++;
			return 0;
		}
		if (mode == 1) {
			e->skb = (__u64)skb;
			e->hook = hook;
			e->snap_len = 0;
			e->cpu = 0;
		} else {
			fill(e, skb, hook, is_free, true);
		}
		bpf_ringbuf_submit(e, RB_NO_WAKEUP);
		return 0;
	}
	struct stage *st = bpf_map_lookup_elem(&stage, &zero);

	if (!st)
		return 0;
	__u32 i = st->n & (BATCH - 1);

	fill((struct pktrec_event *)(st->buf + i * REC_SIZE), skb, hook, is_free, mode == 2);
	if (i + 1 < BATCH) {
		st->n = i + 1;
		return 0;
	}
	st->n = 0;
	if (bpf_ringbuf_output(&events, st->buf, sizeof(st->buf), RB_NO_WAKEUP))
		st->lost += BATCH;
	return 0;
}

/* the default hooks, each with the argument that is its sk_buff */
#define SKB_ARG(tp, id, arg)                                                                       \
	SEC("tp_btf/" #tp)                                                                         \
	int BPF_PROG(tp)                                                                           \
	{                                                                                          \
		return hit((struct sk_buff *)ctx[arg], HOOK_##id);                                 \
	}
SKB_ARG(net_dev_start_xmit, NET_DEV_START_XMIT, 0)
SKB_ARG(netif_receive_skb, NETIF_RECEIVE_SKB, 0)
SKB_ARG(kfree_skb, KFREE_SKB, 0)
SKB_ARG(icmp_send, ICMP_SEND, 0)
SKB_ARG(tcp_send_reset, TCP_SEND_RESET, 1)
SKB_ARG(udp_fail_queue_rcv_skb, UDP_FAIL_QUEUE_RCV_SKB, 2)
SKB_ARG(sock_rcvqueue_full, SOCK_RCVQUEUE_FULL, 1)

/* one bpf_ktime_get_ns() in isolation */
__u64 loops = 1;
__u64 elapsed_ns;
__u64 sink;

static long clock_cb(__u64 i, void *acc)
{
	*(__u64 *)acc += bpf_ktime_get_ns();
	return 0;
}

static long empty_cb(__u64 i, void *acc)
{
	*(__u64 *)acc += i;
	return 0;
}

SEC("syscall")
int clock_loop(void *ctx)
{
	__u64 acc = 0, t0 = bpf_ktime_get_ns();

	bpf_loop(loops, clock_cb, &acc, 0);
	elapsed_ns = bpf_ktime_get_ns() - t0;
	sink = acc;
	return 0;
}

SEC("syscall")
int empty_loop(void *ctx)
{
	__u64 acc = 0, t0 = bpf_ktime_get_ns();

	bpf_loop(loops, empty_cb, &acc, 0);
	elapsed_ns = bpf_ktime_get_ns() - t0;
	sink = acc;
	return 0;
}
