// SPDX-License-Identifier: MIT
/*
 * Fuzz pkt-analyze's packet grouping, fates and pairing (analyze/packets.c,
 * analyze/pairs.c) with the
 * dissector in front: the input is a sequence of hits, each
 *   u8 flags (bit 0: has track id, bits 1-2: direction, bit 3: drop, bit 4: the
 *      sk_buff address is known, bit 5: consume_skb, bits 3 and 5: a read
 *      (skb_copy_datagram_iovec), bit 7: second input)
 *   u8 track id (sk_buff address: its top 6 bits, so addresses come back under
 *      other ids; data buffer: its low 4 bits, so ids share buffers like clones),
 *   u16 time step in 100 us units (crosses every window; its low bit: no
 *      summary given, bit 1: the data buffer is known), u8 interface and
 *      process, u8 length, then that many bytes of Ethernet frame.
 * Callbacks read every field they are given, so ASan sees stale pointers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "flow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t sink;

static void touch_packet(const struct flow_packet *p)
{
	char detail[256];

	for (size_t i = 0; i < p->nhops; i++)
		sink += p->hops[i].ts_ns + (uint8_t)p->hops[i].ifname[0] + p->hops[i].l->sport +
			(uint8_t)p->hops[i].comm[0] + (uint64_t)flow_hop_on_path(p, &p->hops[i]);
	for (int i = 0; i < p->nbranches; i++)
		sink += p->branches[i]->track + (uint64_t)p->branches[i]->end +
			p->branches[i]->last_hop;
	sink += p->id + (uint8_t)p->summary[0] + (uint64_t)p->ntuples + (uint64_t)p->fate +
		(uint8_t)flow_fate_detail(p, detail, sizeof(detail))[0];
}

static void on_packet(const struct flow_packet *p, void *ctx)
{
	(void)ctx;
	touch_packet(p);
}

static void on_pair(const struct flow_pair *pr, void *ctx)
{
	(void)ctx;
	touch_packet(pr->request);
	touch_packet(pr->reply);
	sink += (uint64_t)pr->rtt_ns + (uint8_t)pr->kind[0];
}

static void on_unanswered(const struct flow_packet *req, const char *kind, void *ctx)
{
	(void)ctx;
	touch_packet(req);
	sink += (uint8_t)kind[0];
}

static void on_release(const struct flow_packet *p, void *ctx)
{
	(void)ctx;
	touch_packet(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ifnames[] = {"eth0", "veth0", "br0", "eth1"};
	struct flow_callbacks cb = {on_packet, on_pair, on_unanswered, on_release, NULL};
	struct flow *f = flow_new(NULL, &cb);
	uint64_t ts = 1000000000ull;
	size_t off = 0;

	if (!f)
		return 0;
	while (size - off >= 6) {
		const uint8_t *h = data + off;
		size_t len = h[5];

		off += 6;
		if (len > size - off)
			len = size - off;
		uint8_t *pkt = malloc(len ? len : 1);

		if (!pkt)
			break;
		memcpy(pkt, data + off, len);
		off += len;
		ts += (uint64_t)(h[2] << 8 | h[3]) * 100000;

		struct pkt_info pi;
		char summary[FLOW_SUMMARY_LEN];

		pkt_dissect(pkt, len, 1, &pi);
		pkt_summary(&pi, summary, sizeof(summary));
		struct flow_event ev = {
		    .ts_ns = ts,
		    .source = h[0] >> 7,
		    .has_track = h[0] & 1,
		    .track = h[1],
		    .has_skb = (h[0] >> 4) & 1,
		    .skb = 0xffff888000000000ull | (uint64_t)(h[1] >> 2) << 8,
		    .has_head = (h[3] >> 1) & 1,
		    .head = 0xffff888100000000ull | (uint64_t)(h[1] & 0x0f) << 12,
		    .hook = (h[0] & 0x28) == 0x28 ? "skb:skb_copy_datagram_iovec"
			    : (h[0] & 8)	  ? "skb:kfree_skb"
			    : (h[0] & 0x20)	  ? "skb:consume_skb"
						  : "net:netif_rx",
		    .has_netns = 1,
		    .netns = h[4] >> 2,
		    .ifname = ifnames[h[4] & 3],
		    .dir = (uint8_t)((h[0] >> 1) & 3),
		    .drop = (h[0] & 0x28) == 8 ? "NETFILTER_DROP" : "",
		    .pid = h[4],
		    .comm = (h[4] & 0x80) ? "ping" : "",
		    .len = (uint32_t)len,
		    .pi = &pi,
		    .summary = (h[3] & 1) ? NULL : summary,
		};
		int err = flow_add_event(f, &ev, NULL);

		free(pkt);
		if (err)
			break;
	}
	if (data[0] & 0x40) /* sometimes free mid-way, without finishing */
		flow_free(f);
	else {
		flow_finish(f);
		flow_free(f);
	}
	return 0;
}
