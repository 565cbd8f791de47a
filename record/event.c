// SPDX-License-Identifier: MIT
/* A ring event -> the frame, its metadata and its comment (see event.h). */
#include "event.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "anonymize.h" /* pkt_headers_len */
#include "trace.h"
#include "hooks.h"
#include "ksyms.h"
#include "pcapng.h"
#include "record.h"

bool event_valid(const void *data, size_t size)
{
	const struct pktrec_event *e = data;

	/* the kernel side reserves PKTREC_EVENT_SIZE(snaplen): data[] is cut there */
	if (size < offsetof(struct pktrec_event, data) ||
	    e->snap_len > size - offsetof(struct pktrec_event, data) || e->hook >= HOOK_MAX)
		return false;
	/* a CAUSE event carries a whole struct pktrec_cause */
	return pkt_hooks[e->hook].kind != PKT_HOOK_KIND_CAUSE ||
	       e->snap_len == sizeof(struct pktrec_cause);
}

/* ------------------------------------------------------------ the optional hooks' keys */

struct keybuf {
	char *buf;
	size_t cap, len;
};

static void kb_add(struct keybuf *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void kb_add(struct keybuf *k, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (k->len >= k->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(k->buf + k->len, k->cap - k->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= k->cap - k->len) {
		k->buf[k->len] = '\0'; /* a pair that does not fit is left out whole */
		return;
	}
	k->len += (size_t)n;
}

/* include/net/tcp_states.h */
static const char *const tcp_states[] = {
    [1] = "TCP_ESTABLISHED",	 [2] = "TCP_SYN_SENT",	 [3] = "TCP_SYN_RECV",
    [4] = "TCP_FIN_WAIT1",	 [5] = "TCP_FIN_WAIT2",	 [6] = "TCP_TIME_WAIT",
    [7] = "TCP_CLOSE",		 [8] = "TCP_CLOSE_WAIT", [9] = "TCP_LAST_ACK",
    [10] = "TCP_LISTEN",	 [11] = "TCP_CLOSING",	 [12] = "TCP_NEW_SYN_RECV",
    [13] = "TCP_BOUND_INACTIVE",
};

static void kb_tcp_state(struct keybuf *k, bool has, unsigned state)
{
	if (!has)
		kb_add(k, " tcp_state=-");
	else if (state < sizeof(tcp_states) / sizeof(tcp_states[0]) && tcp_states[state])
		kb_add(k, " tcp_state=%s", tcp_states[state]);
	else
		kb_add(k, " tcp_state=TCP_%u", state);
}

/* include/uapi/linux/neighbour.h: NUD_* bits, joined with '|' */
static void kb_nud(struct keybuf *k, unsigned state)
{
	static const char *const names[8] = {"INCOMPLETE", "REACHABLE", "STALE", "DELAY",
					     "PROBE",	   "FAILED",	"NOARP", "PERMANENT"};
	const char *sep = " neigh_state=";

	if (!state) {
		kb_add(k, "%sNUD_NONE", sep);
		return;
	}
	for (int i = 0; i < 8; i++)
		if (state & 1u << i) {
			kb_add(k, "%sNUD_%s", sep, names[i]);
			sep = "|";
		}
}

static void kb_addr(struct keybuf *k, const char *key, int family, const uint8_t *a)
{
	char s[INET6_ADDRSTRLEN];

	if (inet_ntop(family == 10 ? AF_INET6 : AF_INET, a, s, sizeof(s)))
		kb_add(k, " %s=%s", key, s);
}

static void cause_keys(const struct pktrec_event *e, const struct pktrec_cause *c, struct keybuf *k)
{
	bool v46 = c->family == 2 || c->family == 10;

	if (c->flags & PKTREC_C_FIB) {
		kb_add(k, " fib_table=%" PRIu32 " fib_err=%" PRId32, c->table, c->err);
		if (c->flags & PKTREC_C_OIF)
			kb_add(k, " fib_oif=%" PRIu32, c->oif);
		if ((c->flags & PKTREC_C_GW) && (c->gw_family == 2 || c->gw_family == 10))
			kb_addr(k, "fib_gw", c->gw_family, c->gw);
	}
	if (c->flags & PKTREC_C_NEIGH) {
		if (v46)
			kb_addr(k, "neigh", c->family, c->daddr);
		kb_nud(k, c->state);
		if (c->flags & PKTREC_C_DEAD)
			kb_add(k, " neigh_dead=1");
	}
	if ((c->flags & PKTREC_C_ADDRS) && v46) {
		kb_addr(k, "saddr", c->family, c->saddr);
		kb_addr(k, "daddr", c->family, c->daddr);
	}
	if ((c->flags & PKTREC_C_L4PROTO) && c->l4proto) /* 0: the lookup did not say */
		kb_add(k, " l4proto=%u", c->l4proto);
	if (c->flags & PKTREC_C_PORTS)
		kb_add(k, " sport=%u dport=%u", c->sport, c->dport);
	if (e->hook == HOOK_TCP_RECEIVE_RESET || e->hook == HOOK_TCP_RETRANSMIT_SKB ||
	    e->hook == HOOK_TCP_SEND_RESET)
		kb_tcp_state(k, c->flags & PKTREC_C_TCP_STATE, c->state);
	if (c->flags & PKTREC_C_RC)
		kb_add(k, " rc=%" PRId32, c->rc);
	if (c->flags & PKTREC_C_QDISC) {
		char kind[sizeof(c->qdisc) + 1];
		bool ok = c->qdisc[0] != '\0';

		memcpy(kind, c->qdisc, sizeof(c->qdisc));
		kind[sizeof(c->qdisc)] = '\0';
		for (char *p = kind; *p; p++)
			ok = ok && *p > 0x20 && *p < 0x7f && *p != '%' && *p != '=';
		if (ok)
			kb_add(k, " qdisc=%s", kind);
		else
			kb_add(k, " qdisc=%04x:%04x", c->handle >> 16, c->handle & 0xffff);
	}
}

int event_hook_keys(const struct pktrec_event *e, char *buf, size_t cap)
{
	struct keybuf k = {buf, cap, 0};

	if (!cap)
		return 0;
	buf[0] = '\0';
	if (e->hook >= HOOK_MAX)
		return 0;
	if (pkt_hooks[e->hook].kind == PKT_HOOK_KIND_CAUSE) {
		struct pktrec_cause c;

		if (e->snap_len != sizeof(c))
			return 0;
		memcpy(&c, e->data, sizeof(c));
		cause_keys(e, &c, &k);
	} else {
		/* CAUSE_SKB: the values ride in drop_reason and location (pktrec.bpf.c) */
		switch (e->hook) {
		case HOOK_ICMP_SEND:
			kb_add(&k, " icmp=%u/%u", e->drop_reason >> 8 & 0xff,
			       e->drop_reason & 0xff);
			break;
		case HOOK_TCP_SEND_RESET:
			kb_tcp_state(&k, e->drop_reason != 0, e->drop_reason - 1);
			break;
		case HOOK_UDP_FAIL_QUEUE_RCV_SKB:
			kb_add(&k, " rc=%" PRId32, (int32_t)e->drop_reason);
			break;
		case HOOK_SOCK_RCVQUEUE_FULL:
			kb_add(&k, " rmem=%" PRIu32 " rcvbuf=%" PRIu32, e->drop_reason,
			       (uint32_t)e->location);
			break;
		default:
			break;
		}
	}
	/* without the leading space */
	if (k.len) {
		memmove(buf, buf + 1, k.len);
		k.len--;
	}
	return (int)k.len;
}

static int pcapng_dir_of(enum pkt_hook_dir dir)
{
	return dir == PKT_HOOK_DIR_TX	? PCAPNG_DIR_OUTBOUND
	       : dir == PKT_HOOK_DIR_RX ? PCAPNG_DIR_INBOUND
					: PCAPNG_DIR_UNKNOWN;
}

/* The frame as written: the snapshot, behind a synthetic Ethernet header where needed. */
static void build_frame(const struct event_ctx *ctx, const struct pktrec_event *e,
			struct event_out *out)
{
	uint32_t snap = e->snap_len > PKTREC_MAX_SNAP ? PKTREC_MAX_SNAP : e->snap_len;
	bool synth = e->flags & PKTREC_F_L2_SYNTH;

	if (synth) {
		memcpy(out->frame + PKTREC_ETH_HLEN, e->data, snap);
		l2_synth_header(out->frame, e->protocol, snap);
	} else {
		memcpy(out->frame, e->data, snap);
	}
	l2_frame_lengths(synth, snap, e->orig_len, ctx->snaplen, &out->caplen, &out->wirelen);
}

/* The user-space filter and the set of ids that matched once. true: keep. */
static bool filter_keeps(const struct event_ctx *ctx, const struct pktrec_event *e,
			 const struct event_out *out)
{
	bool is_free = pkt_hook_kind_is_free(pkt_hooks[e->hook].kind);

	if (!ctx->filter_match)
		return true;
	if (out->is_event) /* kept when it names no sk_buff, or a matched one */
		return !e->track || trackset_has(ctx->matched, e->track, e->ts_ns);
	if (trackset_has(ctx->matched, e->track, e->ts_ns)) {
		if (is_free)
			trackset_del(ctx->matched, e->track);
		return true;
	}
	if (!ctx->filter_match(out->frame, out->caplen, out->wirelen))
		return false;
	/* out of memory: this hop is kept, later ones must match again */
	if (!is_free)
		(void)trackset_add(ctx->matched, e->track, e->ts_ns);
	return true;
}

/* A string into a fixed field, cut to fit, NUL-terminated. */
static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * The hop pkt-record writes: the comment's keys and the packet
 * (docs/format.md). Every field is set, and the text fields only up to
 * their end: clearing the whole hop (700 bytes) cost more than filling it.
 */
static void fill_hop(const struct event_ctx *ctx, const struct pktrec_event *e,
		     struct event_out *out)
{
	struct trace_hop *h = &out->hop;

	copy_str(h->hook, sizeof(h->hook), pkt_hooks[e->hook].name);
	h->netns = e->netns;
	memcpy(h->ifname, out->ifname, sizeof(out->ifname));
	h->ifindex = e->ifindex;
	h->skb = e->skb;
	h->track = e->track;
	h->cpu = e->cpu;
	h->pid = e->pid;
	memcpy(h->comm, e->comm, PKTREC_COMM_LEN);
	h->comm[PKTREC_COMM_LEN] = '\0';
	h->drop[0] = '\0';
	if (out->drop)
		copy_str(h->drop, sizeof(h->drop), out->drop);
	h->l2_synth = !!(e->flags & PKTREC_F_L2_SYNTH);
	h->has_proto = false;
	h->proto = 0;
	/* a MAC header whose ethertype is not skb->protocol: say what the kernel thought */
	if (!h->l2_synth && out->caplen >= PKTREC_ETH_HLEN && e->protocol > 0x0600) {
		uint16_t et = (uint16_t)(out->frame[12] << 8 | out->frame[13]);

		if (et != e->protocol && et != 0x8100 && et != 0x88a8) {
			h->has_proto = true;
			h->proto = e->protocol;
		}
	}
	/* where kfree_skb was called, named from kallsyms (other hooks use the word otherwise) */
	h->loc[0] = '\0';
	if (e->hook == HOOK_KFREE_SKB && e->location &&
	    ksyms_format(ctx->ksyms, e->location, h->loc, sizeof(h->loc)) <= 0)
		h->loc[0] = '\0';
	h->has_head = e->head != 0;
	h->head = e->head;
	h->has_netns = true;
	h->has_track = true;
	copy_str(h->extra, sizeof(h->extra), out->keys);
	h->ours = true;
	h->is_event = false;
	h->ts_ns = out->wall_ns;
	h->dir = (uint8_t)out->dir;
	h->has_packetid = true;
	h->packetid = e->track;
	h->data = out->frame;
	h->caplen = out->caplen;
	h->origlen = out->wirelen;
	if (out->is_event) {
		h->is_event = true;
		h->has_track = e->track != 0;
		h->has_head = false;
		h->has_packetid = false;
		h->data = NULL;
	}
}

int event_decode(const struct event_ctx *ctx, const void *data, size_t size, struct event_out *out)
{
	const struct pktrec_event *e = data;

	if (!event_valid(data, size))
		return -EINVAL;
	out->is_event = pkt_hooks[e->hook].kind == PKT_HOOK_KIND_CAUSE;
	if (out->is_event) {
		out->caplen = out->wirelen = 0;
	} else {
		build_frame(ctx, e, out);
	}
	if (!filter_keeps(ctx, e, out))
		return EVENT_FILTERED;

	/* after the filter, which may look at payload bytes; the wire length stays */
	if (ctx->headers_only && !out->is_event) {
		uint32_t hlen;

		if (pkt_headers_len(out->frame, out->caplen, PCAPNG_LINKTYPE_ETHERNET, &hlen))
			hlen = out->caplen < PKTREC_ETH_HLEN ? out->caplen : PKTREC_ETH_HLEN;
		if (hlen < out->caplen)
			out->caplen = hlen;
	}

	out->drop = NULL;
	if (e->flags & PKTREC_F_HAS_DROP) {
		out->drop = ctx->drop_reason_name ? ctx->drop_reason_name(e->drop_reason) : NULL;
		if (!out->drop) {
			snprintf(out->drop_buf, sizeof(out->drop_buf), "0x%x", e->drop_reason);
			out->drop = out->drop_buf;
		}
	}
	out->wall_ns = (uint64_t)((int64_t)e->ts_ns + ctx->mono_to_real);
	out->dir = pcapng_dir_of(pkt_hooks[e->hook].dir);
	memcpy(out->ifname, e->ifname, PKTREC_IFNAMSIZ);
	out->ifname[PKTREC_IFNAMSIZ] = '\0';
	event_hook_keys(e, out->keys, sizeof(out->keys));
	if (ctx->want_hop)
		fill_hop(ctx, e, out);
	return 0;
}
