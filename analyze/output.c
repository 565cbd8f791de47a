// SPDX-License-Identifier: MIT
/* pkt-analyze printers: text tables (80 columns) and JSON Lines. */
#include "analyze.h"
#include "graph.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "hooks.h"
#include "pcapng.h"

#define TEXT_WIDTH 80

#define C_BOLD	"\033[1m"
#define C_RED	"\033[31m"
#define C_GREEN "\033[32m"
#define C_DIM	"\033[2m"
#define C_OFF	"\033[0m"

static const char *col(const struct output *o, const char *code)
{
	return o->color ? code : "";
}

/* ------------------------------------------------------------ JSON */

/*
 * JSON Lines run to a line per hit, millions of them: the hot paths write with
 * the unlocked stdio calls and format numbers by hand, not with printf.
 */
static void put_str(FILE *f, const char *s)
{
	while (*s)
		putc_unlocked(*s++, f);
}

static void put_u64(FILE *f, uint64_t v)
{
	char b[20];
	size_t n = sizeof(b);

	do {
		b[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n < sizeof(b))
		putc_unlocked(b[n++], f);
}

static void put_i64(FILE *f, int64_t v)
{
	if (v < 0) {
		putc_unlocked('-', f);
		put_u64(f, -(uint64_t)v);
	} else {
		put_u64(f, (uint64_t)v);
	}
}

void json_string(FILE *f, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	putc_unlocked('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			putc_unlocked(c, f);
			continue;
		}
		switch (c) {
		case '"':
			put_str(f, "\\\"");
			break;
		case '\\':
			put_str(f, "\\\\");
			break;
		case '\n':
			put_str(f, "\\n");
			break;
		case '\r':
			put_str(f, "\\r");
			break;
		case '\t':
			put_str(f, "\\t");
			break;
		default: {
			/* Control bytes and non-UTF-8 bytes: escape, so every line is valid JSON.
			 */
			put_str(f, "\\u00");
			putc_unlocked(hex[c >> 4], f);
			putc_unlocked(hex[c & 15], f);
		}
		}
	}
	putc_unlocked('"', f);
}

/* ,"key": */
static void json_key(FILE *f, const char *key)
{
	put_str(f, ",\"");
	put_str(f, key);
	put_str(f, "\":");
}

static void json_key_str(FILE *f, const char *key, const char *val)
{
	json_key(f, key);
	if (val)
		json_string(f, val);
	else
		put_str(f, "null");
}

static void json_key_u64(FILE *f, const char *key, int present, uint64_t v)
{
	json_key(f, key);
	if (present)
		put_u64(f, v);
	else
		put_str(f, "null");
}

/* "host": the file's host, where the run has several (or a --host named one) */
static void json_host(const struct output *o, FILE *f, uint32_t source)
{
	if (hosts_shown(o->hosts))
		json_key_str(f, "host", hosts_name(o->hosts, source));
}

static const char *dir_name(uint8_t dir)
{
	switch (dir) {
	case PCAPNG_DIR_INBOUND:
		return "in";
	case PCAPNG_DIR_OUTBOUND:
		return "out";
	default:
		return NULL;
	}
}

static void json_addrs(FILE *f, const struct pkt_l3l4 *l)
{
	char a[PKT_ADDRSTRLEN], b[PKT_ADDRSTRLEN];

	pkt_addr_str(l, 0, a, sizeof(a));
	pkt_addr_str(l, 1, b, sizeof(b));
	json_key_str(f, "src", a[0] ? a : NULL);
	json_key_str(f, "dst", b[0] ? b : NULL);
	if ((l->ip_proto == 6 || l->ip_proto == 17) && (l->has_l4 || l->sport || l->dport) &&
	    !l->is_arp && !l->is_fragment) {
		json_key_u64(f, "sport", 1, l->sport);
		json_key_u64(f, "dport", 1, l->dport);
	}
}

/*
 * The optional hooks' keys (docs/format.md: icmp=, fib_table=, ...) among a
 * comment's optional pairs, each as a JSON key of its own name: numbers as
 * numbers, the rest as strings. Unknown pairs stay out (they may hold anything).
 */
static void json_hook_keys(FILE *f, const char *extra)
{
	for (unsigned k = TRACE_KEY_ICMP; k < TRACE_KEY_COUNT; k++) {
		const char *v;
		size_t len;
		char buf[PKT_EXTRA_LEN];

		if (!trace_extra_get(extra, (enum trace_key)k, &v, &len))
			continue;
		if (trace_unescape(buf, sizeof(buf), v, len) < 0)
			continue;
		enum trace_value_type t = trace_keys[k].type;
		char *end = NULL;
		long long n = (t == TRACE_VAL_DEC || t == TRACE_VAL_SDEC) && buf[0]
				  ? strtoll(buf, &end, 10)
				  : 0;

		if (end && !*end) {
			fputc(',', f);
			json_string(f, trace_keys[k].name);
			fprintf(f, ":%lld", n);
		} else {
			json_key_str(f, trace_keys[k].name, buf);
		}
	}
}

static void json_event(struct output *o, const struct event *ev, uint64_t event_no,
		       uint64_t packet_id)
{
	FILE *f = o->f;
	char skb[24];

	put_str(f, "{\"type\":\"event\",\"n\":");
	put_u64(f, event_no);
	json_key_u64(f, "ts_ns", 1, ev->ts_ns);
	json_key_str(f, "file", ev->file);
	json_key_u64(f, "offset", 1, ev->offset);
	json_host(o, f, ev->source);
	json_key_str(f, "hook", ev->ours ? ev->c->hook : NULL);
	json_key_u64(f, "netns", 1, ev->has_netns ? ev->c->netns : 0);
	/* an event block: no packet, so none of the packet's keys */
	json_key_str(f, "netns_name",
		     ev->has_netns ? nsnames_get(o->names, ev->source, ev->c->netns) : NULL);
	json_key_str(f, "ifname", ev->c->ifname);
	json_key_u64(f, "ifindex", ev->ours, ev->c->ifindex);
	json_key_str(f, "dir", dir_name(ev->dir));
	json_key_u64(f, "track", ev->has_track, ev->track);
	if (ev->ours && !ev->is_cause_event) {
		static const char hex[] = "0123456789abcdef";
		uint64_t v = ev->c->skb;
		size_t n = sizeof(skb) - 1;

		skb[n] = '\0';
		do {
			skb[--n] = hex[v & 15];
			v >>= 4;
		} while (v);
		skb[--n] = 'x';
		skb[--n] = '0';
		json_key_str(f, "skb", skb + n);
	} else {
		json_key_str(f, "skb", NULL);
	}
	json_key_u64(f, "cpu", ev->ours, ev->c->cpu);
	json_key_u64(f, "pid", ev->ours, ev->c->pid);
	json_key_str(f, "comm", ev->ours ? ev->c->comm : NULL);
	json_key_str(f, "drop", ev->c->drop[0] ? ev->c->drop : NULL);
	if (ev->c->l2_synth)
		put_str(f, ",\"l2_synth\":true");
	json_key_u64(f, "len", 1, ev->origlen);
	json_key_u64(f, "caplen", 1, ev->caplen);
	json_key_u64(f, "linktype", 1, ev->linktype);
	json_key_str(f, "proto", pkt_proto_name(ev->pi));
	json_addrs(f, pkt_innermost(ev->pi));
	if (ev->pi->encap)
		json_key_str(f, "encap", ev->pi->encap);
	json_key_str(f, "summary", ev->summary);
	if (packet_id)
		json_key_u64(f, "packet", 1, packet_id);
	if (ev->is_cause_event)
		put_str(f, ",\"no_packet\":true");
	if (ev->ours)
		json_hook_keys(f, ev->c->extra);
	put_str(f, "}\n");
}

/* ------------------------------------------------------------ text helpers */

static void fmt_offset(const struct output *o, uint64_t ts, char *buf, size_t cap)
{
	int64_t d = (int64_t)(ts - o->base_ts);
	uint64_t a = d < 0 ? (uint64_t)-d : (uint64_t)d;

	snprintf(buf, cap, "%c%" PRIu64 ".%06" PRIu64 "s", d < 0 ? '-' : '+', a / 1000000000,
		 a % 1000000000 / 1000);
}

/* Human duration: 850ns, 12.3us, 1.234ms, 2.500s */
static void fmt_dur(int64_t ns, char *buf, size_t cap)
{
	const char *sign = ns < 0 ? "-" : "";
	uint64_t a = ns < 0 ? (uint64_t)-ns : (uint64_t)ns;

	if (a < 1000)
		snprintf(buf, cap, "%s%" PRIu64 "ns", sign, a);
	else if (a < 1000000)
		snprintf(buf, cap, "%s%.1fus", sign, (double)a / 1e3);
	else if (a < 1000000000)
		snprintf(buf, cap, "%s%.3fms", sign, (double)a / 1e6);
	else
		snprintf(buf, cap, "%s%.3fs", sign, (double)a / 1e9);
}

/* Hook without the tracepoint category and the "_entry" suffix: fits the column. */
static void short_hook(const char *hook, char *buf, size_t cap)
{
	const char *colon = strchr(hook, ':');
	const char *name = colon ? colon + 1 : hook;
	size_t n = strlen(name);

	if (!hook[0]) {
		snprintf(buf, cap, "-");
		return;
	}
	if (n > 6 && !strcmp(name + n - 6, "_entry"))
		n -= 6;
	snprintf(buf, cap, "%.*s", (int)n, name);
}

/* The namespace's name from the file, unless -n or the file gives none: then its inode. */
static const char *netns_name(const struct output *o, uint32_t source, int has, uint64_t netns)
{
	return has && !o->numeric ? nsnames_get(o->names, source, netns) : NULL;
}

static void fmt_netns(const struct output *o, uint32_t source, int has, uint64_t netns, char *buf,
		      size_t cap)
{
	const char *name = netns_name(o, source, has, netns);

	if (hosts_shown(o->hosts)) {
		/* HOST:NETNS where files of several hosts merge */
		int n = snprintf(buf, cap, "%s:", hosts_name(o->hosts, source));

		if (n < 0 || (size_t)n >= cap)
			return;
		buf += n;
		cap -= (size_t)n;
	}
	if (name)
		snprintf(buf, cap, "%s", name);
	else if (has && netns)
		snprintf(buf, cap, "%" PRIu64, netns);
	else
		snprintf(buf, cap, "-");
}

/* Print s indented, cut to the text width. */
static void print_fitted(struct output *o, const char *indent, const char *s)
{
	int room = TEXT_WIDTH - (int)strlen(indent);
	int n = (int)strlen(s);

	if (n > room && room > 3)
		fprintf(o->f, "%s%.*s...\n", indent, room - 3, s);
	else
		fprintf(o->f, "%s%s\n", indent, s);
}

/* s over as many lines as it takes, broken at spaces: first after lead, then after indent. */
static void print_wrapped(struct output *o, const char *lead, const char *indent, const char *s)
{
	const char *pre = lead;

	while (*s) {
		int room = TEXT_WIDTH - (int)strlen(pre), n = (int)strlen(s);

		if (n > room && room > 10) {
			int cut = room;

			while (cut > room / 2 && s[cut] != ' ')
				cut--;
			n = s[cut] == ' ' ? cut : room;
		}
		fprintf(o->f, "%s%.*s\n", pre, n, s);
		s += n;
		while (*s == ' ')
			s++;
		pre = indent;
	}
}

static int same_addrs(const struct pkt_l3l4 *a, const struct pkt_l3l4 *b)
{
	return a->family == b->family && !memcmp(a->src, b->src, 16) &&
	       !memcmp(a->dst, b->dst, 16) && a->sport == b->sport && a->dport == b->dport;
}

/* The hops of branch bi (-1: the path), one line each, latency from the previous shown. */
static void print_branch_hops(struct output *o, const struct flow_packet *p, int bi,
			      const char *indent)
{
	const struct flow_hop *prev = NULL;

	for (size_t i = 0; i < p->nhops; i++) {
		const struct flow_hop *h = &p->hops[i];

		if (bi < 0 ? !flow_hop_on_path(p, h) : h->branch != bi)
			continue;
		char off[32], ns[64], hook[PKT_HOOK_LEN], lat[24] = "";
		const char *dir = dir_name(h->dir);

		fmt_offset(o, h->ts_ns, off, sizeof(off));
		fmt_netns(o, h->source, h->has_netns, h->netns, ns, sizeof(ns));
		short_hook(h->hook, hook, sizeof(hook));
		if (!h->hook[0] && hosts_shown(o->hosts))
			snprintf(hook, sizeof(hook), "wire"); /* a capture point of its own */
		if (prev) {
			lat[0] = '+';
			fmt_dur((int64_t)(h->ts_ns - prev->ts_ns), lat + 1, sizeof(lat) - 1);
		}
		char line[200];
		int n = snprintf(line, sizeof(line), "%s%-11s %-10s %-15.15s %-20.20s %-3s %s",
				 indent, off, ns, h->ifname, hook, dir ? dir : "", lat);

		while (n > 0 && n < (int)sizeof(line) && line[n - 1] == ' ')
			line[--n] = '\0';
		fprintf(o->f, "%s\n", line);
		/* NAT or a tunnel changed what the packet looks like at this hop */
		if (prev && (!same_addrs(h->l, prev->l) || h->encap != prev->encap))
			print_fitted(o, "      = ", h->summary ? h->summary : p->summary);
		if (flow_hop_is_drop(h))
			fprintf(o->f, "      %sdropped: %s%s\n", col(o, C_RED),
				h->drop[0] ? h->drop : "(no reason given)", col(o, C_OFF));
		else if (h->kind == PKT_HOOK_KIND_DELIVER)
			fprintf(o->f, "      read by %s %u\n", h->comm[0] ? h->comm : "pid",
				h->pid);
		prev = h;
	}
}

/* The path, each copy's hops under it, then the fate. */
static void print_hops(struct output *o, const struct flow_packet *p)
{
	print_branch_hops(o, p, -1, "    ");
	for (int i = 0; i < p->nbranches; i++) {
		const struct flow_branch *b = p->branches[i];

		if (b->main)
			continue;
		fprintf(o->f, "    %s of the data (track 0x%" PRIx64 "):\n",
			b->how == FLOW_BRANCH_CLONE ? "clone" : "copy", b->track);
		print_branch_hops(o, p, i, "      ");
	}
	char detail[256];

	fprintf(o->f, "    %s=> %s%s\n",
		p->fate == FLOW_FATE_DROPPED ? col(o, C_RED) : col(o, C_GREEN),
		flow_fate_detail(p, detail, sizeof(detail)), col(o, C_OFF));
	struct why_verdict v;

	if (why_build(p, o->names, o->numeric, &v))
		print_wrapped(o, "    why: ", "         ", v.line);
}

static void print_packet_head(struct output *o, const char *role, const struct flow_packet *p)
{
	char head[64];

	if (p->nbranches > 1)
		snprintf(head, sizeof(head), "  %-8s track 0x%" PRIx64 "+%d: ", role, p->track,
			 p->nbranches - 1);
	else if (p->has_track)
		snprintf(head, sizeof(head), "  %-8s track 0x%" PRIx64 ": ", role, p->track);
	else
		snprintf(head, sizeof(head), "  %-8s #%" PRIu64 ": ", role, p->id);
	char line[256];

	if (hosts_shown(o->hosts) && p->has_track) /* a track id is its file's: name its host */
		snprintf(head + strlen(head) - 2, sizeof(head) - strlen(head) + 2,
			 "@%s: ", hosts_name(o->hosts, p->source));
	snprintf(line, sizeof(line), "%s%s", head, p->summary);
	print_fitted(o, "", line);
}

static const char *kind_title(const char *kind)
{
	static const struct {
		const char *kind, *title;
	} titles[] = {
	    {"icmp-echo", "ICMP echo"},
	    {"icmpv6-echo", "ICMPv6 echo"},
	    {"arp", "ARP"},
	    {"ndp", "ICMPv6 neighbor discovery"},
	    {"tcp-handshake", "TCP handshake"},
	    {"tcp-data", "TCP data/ACK"},
	    {"dns", "DNS"},
	    {"udp", "UDP request/response"},
	};

	for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++)
		if (!strcmp(kind, titles[i].kind))
			return titles[i].title;
	return kind;
}

/* ------------------------------------------------------------ callbacks */

void out_events_header(struct output *o)
{
	if (o->format != FMT_TEXT)
		return;
	fprintf(o->f, "%s%-11s %-10s %6s %-15s %-18s %-3s %s%s\n", col(o, C_BOLD), "TIME", "NETNS",
		"PID", "INTERFACE", "HOOK", "DIR", "ADDRESSES", col(o, C_OFF));
}

void out_event(struct output *o, const struct event *ev, uint64_t event_no, uint64_t packet_id)
{
	if (!o->have_base) {
		o->base_ts = ev->ts_ns;
		o->have_base = 1;
	}
	if (o->mode != MODE_EVENTS && !(o->mode == MODE_PAIRS && o->format == FMT_JSON))
		return;
	if (o->only != ONLY_ALL && o->only != ONLY_EVENTS)
		return;
	if (o->format == FMT_JSON) {
		json_event(o, ev, event_no, packet_id);
		return;
	}
	char off[32], ns[64], hook[PKT_HOOK_LEN], pid[16];
	const char *dir = dir_name(ev->dir);

	fmt_offset(o, ev->ts_ns, off, sizeof(off));
	fmt_netns(o, ev->source, ev->has_netns, ev->c->netns, ns, sizeof(ns));
	short_hook(ev->ours ? ev->c->hook : "", hook, sizeof(hook));
	if (ev->ours)
		snprintf(pid, sizeof(pid), "%u", ev->c->pid);
	else
		snprintf(pid, sizeof(pid), "-");
	fprintf(o->f, "%-11s %-10s %6s %-15.15s %-18.18s %-3s %s", off, ns, pid, ev->c->ifname,
		hook, dir ? dir : "", ev->summary);
	if (ev->c->drop[0])
		fprintf(o->f, " %sdrop=%s%s", col(o, C_RED), ev->c->drop, col(o, C_OFF));
	/* a cause hit's own keys (icmp=3/3 ...); an event block has them as its summary */
	if (ev->ours && !ev->is_cause_event && ev->c->extra[0] &&
	    pkt_hook_kind_is_cause(pkt_hook_kind(ev->c->hook)))
		fprintf(o->f, " %s", ev->c->extra);
	fputc('\n', o->f);
}

static void json_hop(const struct output *o, FILE *f, const struct flow_hop *h,
		     const struct flow_hop *prev)
{
	put_str(f, "{\"ts_ns\":");
	put_u64(f, h->ts_ns);
	put_str(f, ",\"delta_ns\":");
	put_i64(f, prev ? (int64_t)(h->ts_ns - prev->ts_ns) : (int64_t)0);
	json_key_str(f, "hook", h->hook[0] ? h->hook : NULL);
	json_host(o, f, h->source);
	json_key_u64(f, "netns", 1, h->has_netns ? h->netns : 0);
	json_key_str(f, "netns_name",
		     h->has_netns ? nsnames_get(o->names, h->source, h->netns) : NULL);
	json_key_str(f, "ifname", h->ifname);
	json_key_str(f, "dir", dir_name(h->dir));
	json_key_str(f, "drop", flow_hop_is_drop(h) ? (h->drop[0] ? h->drop : "unknown") : NULL);
	json_addrs(f, h->l);
	json_key_u64(f, "event", 1, h->event_no);
	if (h->comm[0]) {
		json_key_u64(f, "pid", 1, h->pid);
		json_key_str(f, "comm", h->comm);
	}
	putc_unlocked('}', f);
}

/* The hops of branch bi (-1: the path) as a JSON array. */
static void json_hops(const struct output *o, FILE *f, const struct flow_packet *p, int bi)
{
	const struct flow_hop *prev = NULL;

	putc_unlocked('[', f);
	for (size_t i = 0; i < p->nhops; i++) {
		const struct flow_hop *h = &p->hops[i];

		if (bi < 0 ? !flow_hop_on_path(p, h) : h->branch != bi)
			continue;
		if (prev)
			putc_unlocked(',', f);
		json_hop(o, f, h, prev);
		prev = h;
	}
	putc_unlocked(']', f);
}

static const char *end_name(enum flow_end end)
{
	static const char *const names[] = {"open", "delivered", "dropped", "consumed",
					    "continued"};

	return end < sizeof(names) / sizeof(names[0]) ? names[end] : "open";
}

/* The answer that explained a request (an ICMP error or a reset) as a JSON object. */
static void json_answer(FILE *f, const struct why_verdict *v)
{
	const struct flow_answer *a = v->answer;

	put_str(f, "{\"type\":");
	json_string(f, a->is_reset ? "tcp-rst" : a->family == 6 ? "icmpv6" : "icmp");
	json_key_str(f, "name", v->answer_name);
	json_key_u64(f, "icmp_type", !a->is_reset, a->type);
	json_key_u64(f, "icmp_code", !a->is_reset, a->code);
	json_key_u64(f, "netns", a->has_netns, a->netns);
	json_key_str(f, "netns_name", v->answer_netns_name);
	json_key_str(f, "ifname", a->ifname[0] ? a->ifname : NULL);
	json_key_str(f, "hook", a->hook[0] ? a->hook : NULL);
	json_key_u64(f, "packet", 1, a->packet_id);
	putc_unlocked('}', f);
}

static void json_key_addr(FILE *f, const char *key, const struct cause_addr *a)
{
	char s[PKT_ADDRSTRLEN];

	json_key_str(f, key, cause_addr_str(a, s, sizeof(s)));
}

/* What the cause hooks said (why.h, struct why_note): docs/format.md, "cause". */
static void json_note(FILE *f, const struct why_verdict *v)
{
	const struct why_note *n = v->has_note ? &v->note : NULL;
	char tb[16];

	json_key(f, "route");
	if (n && n->has_route) {
		const struct cause *e = &n->route;

		put_str(f, "{\"table\":");
		if (e->has_table)
			put_u64(f, e->table);
		else
			put_str(f, "null");
		json_key_str(f, "table_name",
			     e->has_table ? why_table_name(e->table, tb, sizeof(tb)) : NULL);
		json_key(f, "fib_err");
		put_i64(f, e->err);
		json_key_str(f, "error", why_route_error(e));
		json_key_addr(f, "saddr", &e->saddr);
		json_key_addr(f, "daddr", &e->daddr);
		json_key_u64(f, "netns", 1, e->netns);
		json_key_str(f, "netns_name", v->route_netns_name);
		json_key_str(f, "hook", e->hook);
		json_key_u64(f, "ts_ns", 1, e->ts_ns);
		putc_unlocked('}', f);
	} else {
		put_str(f, "null");
	}
	json_key(f, "neighbour");
	if (n && n->has_neigh) {
		const struct cause *e = &n->neigh;

		put_str(f, "{\"hook\":");
		json_string(f, e->hook);
		json_key_addr(f, "addr", &e->neigh);
		json_key_str(f, "state", e->neigh_state[0] ? e->neigh_state : NULL);
		put_str(f, e->dead ? ",\"dead\":true" : ",\"dead\":false");
		json_key_str(f, "ifname", e->ifname[0] ? e->ifname : NULL);
		json_key_u64(f, "netns", 1, e->netns);
		json_key_str(f, "netns_name", v->neigh_netns_name);
		json_key_u64(f, "ts_ns", 1, e->ts_ns);
		putc_unlocked('}', f);
	} else {
		put_str(f, "null");
	}
	json_key(f, "icmp_sent");
	if (n && n->icmp_sent) {
		put_str(f, "{\"name\":");
		json_string(f, v->icmp_sent_name);
		json_key_u64(f, "icmp_type", 1, n->icmp_type);
		json_key_u64(f, "icmp_code", 1, n->icmp_code);
		json_key_u64(f, "netns", n->icmp_has_netns, n->icmp_netns);
		json_key_str(f, "netns_name", v->icmp_sent_netns_name);
		json_key_str(f, "ifname",
			     n->icmp_ifname && n->icmp_ifname[0] ? n->icmp_ifname : NULL);
		putc_unlocked('}', f);
	} else {
		put_str(f, "null");
	}
	put_str(f, n && n->reset_sent ? ",\"reset_sent\":true" : ",\"reset_sent\":false");
	json_key_u64(f, "rmem", n && n->has_rmem, n ? n->rmem : 0);
	json_key_u64(f, "rcvbuf", n && n->has_rmem, n ? n->rcvbuf : 0);
	json_key(f, "rc");
	if (n && n->has_rc)
		put_i64(f, n->rc);
	else
		put_str(f, "null");
}

/* The verdict's fields (docs/format.md, "cause"), after an opening brace and a first key. */
static void json_verdict_fields(FILE *f, const struct why_verdict *v)
{
	json_key_str(f, "reason", v->reason);
	json_key_str(f, "function", v->function[0] ? v->function : NULL);
	json_key_u64(f, "netns", v->has_netns, v->netns);
	json_key_str(f, "netns_name", v->netns_name);
	json_key_str(f, "ifname", v->ifname[0] ? v->ifname : NULL);
	json_key_str(f, "hook", v->hook[0] ? v->hook : NULL);
	put_str(f, ",\"answer\":");
	if (v->answer)
		json_answer(f, v);
	else
		put_str(f, "null");
	json_note(f, v);
}

/*
 * Why a dropped packet or a request without reply got nowhere: one line
 * (why) and the same as an object (cause), from why.c.
 */
static void json_why(const struct output *o, FILE *f, const struct flow_packet *p)
{
	struct why_verdict v;

	if (!why_build(p, o->names, o->numeric, &v))
		return;
	json_key_str(f, "why", v.line);
	put_str(f, ",\"cause\":{\"kind\":");
	json_string(f, v.kind);
	json_key_str(f, "fate", flow_fate_name(p->fate));
	json_verdict_fields(f, &v);
	putc_unlocked('}', f);
}

/* JSON packet lines are written at release: pairing has settled (unanswered, why). */
static void json_packet(struct output *o, const struct flow_packet *p)
{
	if (o->only != ONLY_ALL && o->only != ONLY_PACKETS)
		return;
	FILE *f = o->f;
	const struct pkt_l3l4 *l = pkt_innermost(&p->pi);

	put_str(f, "{\"type\":\"packet\",\"id\":");
	put_u64(f, p->id);
	json_host(o, f, p->source);
	json_key_u64(f, "track", p->has_track, p->track);
	put_str(f, ",\"tracks\":[");
	for (int i = 0, n = 0; i < p->nbranches; i++) {
		if (!p->branches[i]->has_track)
			continue;
		if (n++)
			putc_unlocked(',', f);
		put_u64(f, p->branches[i]->track);
	}
	put_str(f, "]");
	json_key_u64(f, "first_ts_ns", 1, p->first_ts);
	json_key_u64(f, "last_ts_ns", 1, p->last_ts);
	json_key_u64(f, "duration_ns", 1, p->last_ts - p->first_ts);
	json_key_str(f, "proto", pkt_proto_name(&p->pi));
	json_addrs(f, l);
	json_key_str(f, "summary", p->summary);
	json_key_str(f, "fate", flow_fate_name(p->fate));
	char detail[256];

	json_key_str(f, "fate_detail", flow_fate_detail(p, detail, sizeof(detail)));
	if (p->fate == FLOW_FATE_DELIVERED && p->fate_hop >= 0 &&
	    p->hops[p->fate_hop].kind == PKT_HOOK_KIND_DELIVER) {
		json_key_u64(f, "delivered_pid", 1, p->hops[p->fate_hop].pid);
		json_key_str(f, "delivered_comm", p->hops[p->fate_hop].comm);
	}
	json_why(o, f, p);
	if (p->answers)
		json_key_u64(f, "answers", 1, p->answers);
	put_str(f, p->dropped ? ",\"dropped\":true" : ",\"dropped\":false");
	json_key_str(f, "drop", p->dropped ? p->drop : NULL);
	size_t npath = 0;

	for (size_t i = 0; i < p->nhops; i++)
		npath += flow_hop_on_path(p, &p->hops[i]);
	json_key_u64(f, "nhops", 1, npath);
	put_str(f, ",\"hops\":");
	json_hops(o, f, p, -1);
	put_str(f, ",\"branches\":[");
	for (int i = 0, n = 0; i < p->nbranches; i++) {
		const struct flow_branch *b = p->branches[i];

		if (b->main)
			continue;
		put_str(f, n++ ? ",{\"how\":" : "{\"how\":");
		json_string(f, flow_branch_how_name(b->how));
		json_host(o, f, b->source);
		json_key_u64(f, "track", b->has_track, b->track);
		json_key_str(f, "end", end_name(b->end));
		put_str(f, ",\"hops\":");
		json_hops(o, f, p, i);
		putc_unlocked('}', f);
	}
	put_str(f, "]}\n");
}

void out_packet(struct output *o, const struct flow_packet *p)
{
	(void)o;
	(void)p; /* written at release (json_packet), once pairing has settled */
}

/* A packet's path (its original sk_buff's hops) for the graph; returns the count. */
static size_t graph_hops(const struct output *o, const struct flow_packet *p, struct graph_hop *out,
			 size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nhops && n < cap; i++) {
		const struct flow_hop *h = &p->hops[i];

		if (!flow_hop_on_path(p, h))
			continue;
		out[n++] = (struct graph_hop){
		    .ts_ns = h->ts_ns,
		    .netns = h->has_netns ? h->netns : 0,
		    .netns_name = h->has_netns ? nsnames_get(o->names, h->source, h->netns) : NULL,
		    .ifname = h->ifname,
		    .hook = h->hook,
		};
	}
	return n;
}

/* --graph: the first pair (or, failing one, the first packet) drawn once. */
static void draw_graph(struct output *o, const char *title, const struct flow_packet *req,
		       const struct flow_packet *rep)
{
	struct graph_hop *hops = calloc(req->nhops + (rep ? rep->nhops : 0) + 1, sizeof(*hops));
	struct graph_path paths[2];
	size_t n1, n2 = 0;
	char err[256];

	o->graph_done = 1;
	if (!hops) {
		fputs("pkt-analyze: --graph: out of memory\n", stderr);
		o->graph_error = 1;
		return;
	}
	n1 = graph_hops(o, req, hops, req->nhops);
	paths[0] = (struct graph_path){rep ? "request" : "packet", hops, n1};
	if (rep) {
		n2 = graph_hops(o, rep, hops + n1, rep->nhops);
		paths[1] = (struct graph_path){"reply", hops + n1, n2};
	}
	if (graph_write_file(o->graph_path, title, paths, rep ? 2 : 1, o->numeric, err,
			     sizeof(err)) < 0) {
		fprintf(stderr, "pkt-analyze: --graph: %s\n", err);
		o->graph_error = 1;
	}
	free(hops);
}

void out_pair(struct output *o, const struct flow_pair *pr)
{
	if (o->graph_path && !o->graph_done) {
		char title[FLOW_SUMMARY_LEN + 32];

		snprintf(title, sizeof(title), "%s: %s", pr->kind, pr->request->summary);
		draw_graph(o, title, pr->request, pr->reply);
	}
	if (o->mode != MODE_PAIRS)
		return;
	if (o->only != ONLY_ALL && o->only != ONLY_PAIRS)
		return;
	FILE *f = o->f;

	if (o->format == FMT_JSON) {
		fprintf(f, "{\"type\":\"pair\"");
		json_key_str(f, "kind", pr->kind);
		json_key_u64(f, "request", pr->request->has_track, pr->request->track);
		json_key_u64(f, "reply", pr->reply->has_track, pr->reply->track);
		if (hosts_shown(o->hosts)) { /* whose files the track ids are */
			json_key_str(f, "request_host", hosts_name(o->hosts, pr->request->source));
			json_key_str(f, "reply_host", hosts_name(o->hosts, pr->reply->source));
		}
		fprintf(f,
			",\"request_packet\":%" PRIu64 ",\"reply_packet\":%" PRIu64
			",\"rtt_ns\":%" PRId64,
			pr->request->id, pr->reply->id, pr->rtt_ns);
		json_addrs(f, pkt_innermost(&pr->request->pi));
		json_key_str(f, "request_summary", pr->request->summary);
		json_key_str(f, "reply_summary", pr->reply->summary);
		fprintf(f, ",\"request_dropped\":%s,\"reply_dropped\":%s",
			pr->request->dropped ? "true" : "false",
			pr->reply->dropped ? "true" : "false");
		json_key_str(f, "request_fate", flow_fate_name(pr->request->fate));
		json_key_str(f, "reply_fate", flow_fate_name(pr->reply->fate));
		char detail[256];

		json_key_str(f, "reply_fate_detail",
			     flow_fate_detail(pr->reply, detail, sizeof(detail)));
		put_str(f, "}\n");
		return;
	}
	char rtt[24];

	fmt_dur(pr->rtt_ns, rtt, sizeof(rtt));
	fprintf(f, "%s%s%s  rtt %s%s%s\n", col(o, C_BOLD), kind_title(pr->kind), col(o, C_OFF),
		col(o, C_GREEN), rtt, col(o, C_OFF));
	print_packet_head(o, "request", pr->request);
	print_hops(o, pr->request);
	print_packet_head(o, "reply", pr->reply);
	print_hops(o, pr->reply);
	fputc('\n', f);
}

void out_unanswered(struct output *o, const struct flow_packet *req, const char *kind)
{
	/* its own line type: not a pair (the request's packet line tells its fate) */
	if (o->mode != MODE_PAIRS || o->only != ONLY_ALL)
		return;
	FILE *f = o->f;

	if (o->format == FMT_JSON) {
		const struct flow_hop *last = req->nhops ? &req->hops[req->nhops - 1] : NULL;

		fprintf(f, "{\"type\":\"unanswered\"");
		json_key_str(f, "kind", kind);
		json_key_u64(f, "request", req->has_track, req->track);
		if (hosts_shown(o->hosts))
			json_key_str(f, "request_host", hosts_name(o->hosts, req->source));
		fprintf(f, ",\"request_packet\":%" PRIu64 ",\"ts_ns\":%" PRIu64, req->id,
			req->first_ts);
		json_addrs(f, pkt_innermost(&req->pi));
		json_key_str(f, "summary", req->summary);
		fprintf(f, ",\"dropped\":%s", req->dropped ? "true" : "false");
		json_key_str(f, "drop", req->dropped ? req->drop : NULL);
		if (last) {
			json_key_str(f, "last_ifname", last->ifname);
			json_key_str(f, "last_hook", last->hook[0] ? last->hook : NULL);
			fprintf(f, ",\"last_netns\":%" PRIu64, last->has_netns ? last->netns : 0);
		}
		fputs("}\n", f);
		return;
	}
	fprintf(f, "%s%s%s  %sno reply%s\n", col(o, C_BOLD), kind_title(kind), col(o, C_OFF),
		col(o, C_RED), col(o, C_OFF));
	print_packet_head(o, "request", req);
	print_hops(o, req);
	fputc('\n', f);
}

void out_why_route(struct output *o, const struct cause *e)
{
	struct why_verdict v;

	if (o->mode != MODE_WHY)
		return;
	why_build_route(e, o->names, o->numeric, &v);
	if (why_groups_add(&o->why, &v, 0) < 0)
		o->why_error = 1;
}

void out_release(struct output *o, const struct flow_packet *p)
{
	/* no pair came first: the first packet that went somewhere */
	if (o->graph_path && !o->graph_done && p->nhops > 1 && !p->requests_answered && !p->replies)
		draw_graph(o, p->summary, p, NULL);
	if (o->mode == MODE_WHY) {
		struct why_verdict v;

		if (why_build(p, o->names, o->numeric, &v) &&
		    why_groups_add(&o->why, &v, p->id) < 0)
			o->why_error = 1;
		return;
	}
	if (o->mode != MODE_PAIRS)
		return;
	if (o->format == FMT_JSON) {
		json_packet(o, p);
		return;
	}
	/*
	 * Dropped packets outside any pair, and requests an ICMP error or a
	 * reset answered, still deserve a block in the text view.
	 */
	if (!(p->dropped || p->has_answer) || p->requests_answered || p->replies || p->unanswered ||
	    p->answers)
		return;
	fprintf(o->f, "%s%s%s\n", col(o, C_BOLD),
		p->has_answer ? "Answered by an error" : "Dropped packet", col(o, C_OFF));
	print_packet_head(o, "packet", p);
	print_hops(o, p);
	fputc('\n', o->f);
}

/* "clock_offsets":{"HOST":{"offset_ns":N,"uncertainty_ns":N,...},...} */
static void json_clock_offsets(const struct output *o, FILE *f)
{
	size_t n = hosts_count(o->hosts);

	if (n < 2)
		return;
	put_str(f, ",\"clock_offsets\":{");
	for (size_t i = 0; i < n; i++) {
		const struct host_clock *c = hosts_clock(o->hosts, i);
		const struct clock_estimate *e = &c->est;

		if (i)
			putc_unlocked(',', f);
		json_string(f, c->name);
		if (c->reference) {
			put_str(f, ":{\"offset_ns\":0,\"uncertainty_ns\":0,\"reference\":true}");
			continue;
		}
		if (!c->measured) {
			/* no packet seen both here and on a measured host */
			put_str(f, ":{\"offset_ns\":null,\"uncertainty_ns\":null,\"samples\":0}");
			continue;
		}
		put_str(f, ":{\"offset_ns\":");
		put_i64(f, e->offset_ns);
		put_str(f, ",\"uncertainty_ns\":");
		if (e->two_way)
			put_i64(f, e->uncertainty_ns);
		else
			put_str(f, "null,\"one_way\":true");
		if (e->has_min) {
			put_str(f, ",\"offset_min_ns\":");
			put_i64(f, e->min_ns);
		}
		if (e->has_max) {
			put_str(f, ",\"offset_max_ns\":");
			put_i64(f, e->max_ns);
		}
		if (e->two_way) {
			put_str(f, ",\"round_trip_ns\":");
			put_i64(f, e->round_trip_ns);
		}
		fprintf(f, ",\"drift_ppm\":%.3f", e->drift * 1e6);
		json_key_u64(f, "samples_sent", 1, e->fwd);
		json_key_u64(f, "samples_received", 1, e->back);
		json_key_str(f, "via", c->via);
		putc_unlocked('}', f);
	}
	putc_unlocked('}', f);
}

/* One line per host: its clock's offset from the first file's host's. */
static void text_clock_offsets(const struct output *o, FILE *f)
{
	size_t n = hosts_count(o->hosts);
	char a[24], b[24];

	for (size_t i = 0; i < n && n > 1; i++) {
		const struct host_clock *c = hosts_clock(o->hosts, i);
		const struct clock_estimate *e = &c->est;

		fprintf(f, "  clock of %s: ", c->name);
		if (c->reference) {
			fprintf(f, "the reference\n");
		} else if (!c->measured) {
			fprintf(f, "offset unknown (no packet seen on it and another host)\n");
		} else if (e->two_way) {
			fmt_dur(e->offset_ns, a, sizeof(a));
			fmt_dur(e->uncertainty_ns, b, sizeof(b));
			fprintf(f, "%s%s +- %s (%" PRIu64 "+%" PRIu64 " packets both ways%s%s)\n",
				e->offset_ns >= 0 ? "+" : "", a, b, e->fwd, e->back,
				c->via ? ", via " : "", c->via ? c->via : "");
		} else {
			fmt_dur(e->has_max ? e->max_ns : e->min_ns, a, sizeof(a));
			fprintf(f, "%s %s (one-way traffic only: %" PRIu64 " packets; assumed)\n",
				e->has_max ? "at most" : "at least", a, e->fwd + e->back);
		}
	}
}

/* --why: one line (text) or one JSON object per cause and place. */
static void out_why_groups(struct output *o)
{
	FILE *f = o->f;

	why_groups_sort(&o->why);
	for (const struct why_group *g = o->why.head; g; g = g->next) {
		const struct why_verdict *v = &g->v;

		if (o->format == FMT_JSON) {
			put_str(f, "{\"type\":\"why\",\"kind\":");
			json_string(f, v->kind);
			json_verdict_fields(f, v);
			json_key_u64(f, "count", 1, g->count);
			json_key_u64(f, "first_ts_ns", 1, g->first_ts);
			json_key_u64(f, "last_ts_ns", 1, g->last_ts);
			json_key_str(f, "example", v->line);
			json_key_u64(f, "example_packet", g->packet_id != 0, g->packet_id);
			put_str(f, "}\n");
			continue;
		}
		char first[32], last[32];

		fmt_offset(o, g->first_ts, first, sizeof(first));
		fmt_offset(o, g->last_ts, last, sizeof(last));
		char count[24];

		snprintf(count, sizeof(count), "%8" PRIu64 "x ", g->count);
		print_wrapped(o, count, "          ", v->line);
		if (g->packet_id)
			fprintf(f, "          %s: first %s, last %s (packet #%" PRIu64 ")\n",
				v->kind, first, last, g->packet_id);
		else /* a verdict without a packet (no-route) */
			fprintf(f, "          %s: first %s, last %s\n", v->kind, first, last);
	}
	if (o->format == FMT_TEXT && !o->why.head && !o->quiet)
		fputs("No drops, no request without a reply.\n", f);
	why_groups_free(&o->why);
}

void out_summary(struct output *o, const struct totals *t, const struct flow_stats *fs)
{
	FILE *f = o->f;

	if (o->mode == MODE_NONE)
		return;
	if (o->mode == MODE_WHY)
		out_why_groups(o);
	if (o->format == FMT_JSON) {
		if (o->mode == MODE_EVENTS || o->only != ONLY_ALL)
			return;
		fprintf(f,
			"{\"type\":\"summary\",\"files\":%" PRIu64 ",\"events\":%" PRIu64
			",\"packets\":%" PRIu64 ",\"pairs\":%" PRIu64 ",\"unanswered\":%" PRIu64
			",\"dropped\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"warnings\":%" PRIu64
			",\"filtered\":%" PRIu64,
			t->files, t->events, fs->packets, fs->pairs, fs->unanswered, fs->dropped,
			t->lost, t->warnings, t->filtered);
		/* only with event blocks: a packet capture's summary is unchanged */
		if (t->cause_events)
			fprintf(f, ",\"cause_events\":%" PRIu64, t->cause_events);
		fprintf(f, ",\"packets_in_flight_max\":%" PRIu64, fs->in_flight_max);
		json_key_u64(f, "first_ts_ns", t->have_ts, t->first_ts);
		json_key_u64(f, "last_ts_ns", t->have_ts, t->last_ts);
		json_clock_offsets(o, f);
		fputs("}\n", f);
		return;
	}
	if (o->mode == MODE_EVENTS || (o->quiet && o->mode != MODE_STATS))
		return;
	char span[24] = "0ns";

	if (t->have_ts)
		fmt_dur((int64_t)(t->last_ts - t->first_ts), span, sizeof(span));
	fprintf(f, "%sSummary%s: %" PRIu64 " events in %" PRIu64 " packets over %s", col(o, C_BOLD),
		col(o, C_OFF), t->events, fs->packets, span);
	if (t->filtered)
		fprintf(f, " (%" PRIu64 " filtered out)", t->filtered);
	if (t->cause_events)
		fprintf(f, ", %" PRIu64 " events with no packet", t->cause_events);
	fprintf(f,
		"\n  %" PRIu64 " pairs, %" PRIu64 " unanswered, %" PRIu64 " dropped, %" PRIu64
		" lost, %" PRIu64 " warnings\n",
		fs->pairs, fs->unanswered, fs->dropped, t->lost, t->warnings);
	text_clock_offsets(o, f);
}
