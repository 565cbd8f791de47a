// SPDX-License-Identifier: MIT
/* Verdicts for dropped packets and requests without reply (why.h). */
#include "why.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hooks.h"
#include "nsnames.h"
#include "trace.h"

/* ------------------------------------------------------------ rule tables */

/* What the packet was for, in a verdict's words. */
enum why_subject {
	WS_NONE,     /* the phrase says it all */
	WS_LISTENER, /* PROTO DST:PORT (a socket was wanted) */
	WS_DST,	     /* the destination address */
	WS_SRC,	     /* the source address */
};

/*
 * A kernel drop reason (enum skb_drop_reason, without SKB_DROP_REASON_) and
 * what it means. Reasons not listed are told as "dropped".
 */
struct drop_rule {
	const char *reason;
	const char *phrase; /* a printf format: %s is the subject, if any */
	enum why_subject subject;
	unsigned look; /* WL_*: the events (causes.h) that may explain it, asked at the drop */
};

#define WL_ROUTE 1u /* a failed route lookup of the destination */
#define WL_NEIGH 2u /* a failed neighbour entry of the next hop */

static const struct drop_rule drop_rules[] = {
    {"NO_SOCKET", "no listener on %s", WS_LISTENER, 0},
    {"SOCKET_RCVBUFF", "receive buffer full on %s", WS_LISTENER, 0},
    {"SOCKET_FILTER", "refused by the socket filter on %s", WS_LISTENER, 0},
    {"PROTO_MEM", "protocol memory exhausted on %s", WS_LISTENER, 0},
    {"NETFILTER_DROP", "dropped by netfilter", WS_NONE, 0},
    {"IP_INNOROUTES", "no route to %s", WS_DST, WL_ROUTE},
    {"IP_OUTNOROUTES", "no route to %s", WS_DST, WL_ROUTE},
    {"IPV6_NDISC_NS_OTHERHOST", "neighbour solicitation for another host", WS_NONE, 0},
    {"NEIGH_FAILED", "the next hop toward %s never answered ARP/NDP", WS_DST, WL_ROUTE | WL_NEIGH},
    {"NEIGH_QUEUEFULL", "the next hop toward %s is not answering ARP/NDP (queue full)", WS_DST,
     WL_ROUTE | WL_NEIGH},
    {"NEIGH_DEAD", "the neighbour entry toward %s went away", WS_DST, WL_ROUTE | WL_NEIGH},
    {"NEIGH_CREATEFAIL", "no neighbour entry for the next hop toward %s", WS_DST,
     WL_ROUTE | WL_NEIGH},
    {"IP_RPFILTER", "reverse-path filter: %s is not routed back this way", WS_SRC, 0},
    {"PKT_TOO_BIG", "too big for the path MTU toward %s", WS_DST, 0},
    {"QDISC_DROP", "dropped by the queueing discipline", WS_NONE, 0},
    {"FULL_RING", "the device's ring is full", WS_NONE, 0},
    {"TC_INGRESS", "dropped by a tc ingress filter", WS_NONE, 0},
    {"TC_EGRESS", "dropped by a tc egress filter", WS_NONE, 0},
    {"IP_INADDRERRORS", "bad destination address %s", WS_DST, 0},
    {"OTHERHOST", "not for this host (wrong MAC address)", WS_NONE, 0},
    {"UNICAST_IN_L2_MULTICAST", "unicast in L2 multicast", WS_NONE, 0},
    {"XFRM_POLICY", "refused by an IPsec policy", WS_NONE, 0},
    {"TCP_RESET", "reset by the peer", WS_NONE, 0},
};

static const struct drop_rule *drop_rule(const char *reason)
{
	for (size_t i = 0; i < sizeof(drop_rules) / sizeof(drop_rules[0]); i++)
		if (!strcmp(drop_rules[i].reason, reason))
			return &drop_rules[i];
	return NULL;
}

/* An ICMP or ICMPv6 error type (and code, -1: any) and what it says of the request. */
struct icmp_rule {
	uint8_t family; /* 4 ICMP, 6 ICMPv6 */
	uint8_t type;
	int code;
	const char *name;   /* as the answer is named: "port unreachable" */
	const char *phrase; /* what it says: "no listener on %s" (%s: the subject) */
	enum why_subject subject;
};

static const struct icmp_rule icmp_rules[] = {
    {4, 3, 0, "net unreachable", "no route to %s", WS_DST},
    {4, 3, 1, "host unreachable", "host %s unreachable", WS_DST},
    {4, 3, 2, "protocol unreachable", "protocol not supported by %s", WS_DST},
    {4, 3, 3, "port unreachable", "no listener on %s", WS_LISTENER},
    {4, 3, 4, "fragmentation needed", "too big for the path MTU toward %s", WS_DST},
    {4, 3, 6, "net unknown", "no route to %s", WS_DST},
    {4, 3, 7, "host unknown", "host %s unknown", WS_DST},
    {4, 3, 9, "net prohibited", "rejected on the way to %s", WS_DST},
    {4, 3, 10, "host prohibited", "rejected on the way to %s", WS_DST},
    {4, 3, 13, "administratively prohibited", "rejected on the way to %s", WS_DST},
    {4, 3, -1, "destination unreachable", "%s unreachable", WS_DST},
    {4, 11, 0, "time exceeded", "TTL expired on the way to %s", WS_DST},
    {4, 11, 1, "reassembly time exceeded", "fragments lost on the way to %s", WS_DST},
    {4, 12, -1, "parameter problem", "bad header toward %s", WS_DST},
    {6, 1, 0, "no route", "no route to %s", WS_DST},
    {6, 1, 1, "administratively prohibited", "rejected on the way to %s", WS_DST},
    {6, 1, 3, "address unreachable", "host %s unreachable", WS_DST},
    {6, 1, 4, "port unreachable", "no listener on %s", WS_LISTENER},
    {6, 1, 5, "source address failed policy", "rejected on the way to %s", WS_DST},
    {6, 1, 6, "reject route", "rejected on the way to %s", WS_DST},
    {6, 1, -1, "destination unreachable", "%s unreachable", WS_DST},
    {6, 2, -1, "packet too big", "too big for the path MTU toward %s", WS_DST},
    {6, 3, 0, "hop limit exceeded", "hop limit expired on the way to %s", WS_DST},
    {6, 3, 1, "reassembly time exceeded", "fragments lost on the way to %s", WS_DST},
    {6, 4, -1, "parameter problem", "bad header toward %s", WS_DST},
};

static const struct icmp_rule *icmp_rule(uint8_t family, uint8_t type, uint8_t code)
{
	for (size_t i = 0; i < sizeof(icmp_rules) / sizeof(icmp_rules[0]); i++) {
		const struct icmp_rule *r = &icmp_rules[i];

		if (r->family == family && r->type == type && (r->code < 0 || r->code == code))
			return r;
	}
	return NULL;
}

int why_is_icmp_error(const struct pkt_l3l4 *l)
{
	if (!l->has_l4)
		return 0;
	if (l->ip_proto == 1)
		return l->icmp_type == 3 || l->icmp_type == 11 || l->icmp_type == 12;
	return l->ip_proto == 58 && l->icmp_type >= 1 && l->icmp_type <= 4;
}

/* ------------------------------------------------------------ answers */

static const struct flow_hop *first_on_path(const struct flow_packet *p)
{
	for (size_t i = 0; i < p->nhops; i++)
		if (flow_hop_on_path(p, &p->hops[i]))
			return &p->hops[i];
	return NULL;
}

void why_note_answer(struct flow_packet *req, struct flow_packet *ans)
{
	const struct pkt_l3l4 *l = pkt_innermost(&ans->pi);
	const struct flow_hop *o = first_on_path(ans);
	struct flow_answer *a = &req->answer;

	memset(a, 0, sizeof(*a));
	a->packet_id = ans->id;
	a->is_reset = l->ip_proto == 6;
	a->family = l->ip_proto == 58 ? 6 : 4;
	a->type = l->icmp_type;
	a->code = l->icmp_code;
	a->ts_ns = ans->first_ts;
	a->ifname = "";
	a->hook = "";
	if (o) {
		a->source = o->source;
		a->has_netns = o->has_netns;
		a->netns = o->netns;
		a->ifname = o->ifname;
		a->hook = o->hook;
	}
	req->has_answer = 1;
	ans->answers = req->id;
}

/* ------------------------------------------------------------ notes */

/* how far back a drop looks for the lookup or neighbour event that explains it */
#define WHY_CAUSE_WINDOW_NS 2000000000ULL

static struct why_note *note_of(struct flow_packet *p)
{
	if (!p->note)
		p->note = calloc(1, sizeof(*p->note));
	return p->note;
}

/* a decimal key of extra; 0 or -EINVAL */
static int extra_num(const char *extra, enum trace_key k, long long lo, long long hi,
		     long long *out)
{
	const char *v;
	size_t len;
	char buf[24];
	char *end;

	if (!extra || !trace_extra_get(extra, k, &v, &len) || !len || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, v, len);
	buf[len] = '\0';
	errno = 0;
	long long n = strtoll(buf, &end, 10);

	if (errno || *end || n < lo || n > hi)
		return -EINVAL;
	*out = n;
	return 0;
}

int why_note_cause(struct flow_packet *p, const struct flow_event *ev, const char *hook,
		   const char *ifname)
{
	const char *x = ev->extra ? ev->extra : "", *v;
	size_t len;
	long long a, b;
	int id = -1;

	if (trace_extra_get(x, TRACE_KEY_ICMP, &v, &len)) { /* icmp=TYPE/CODE */
		unsigned t, c;
		char buf[16];

		if (len >= sizeof(buf))
			return 0;
		memcpy(buf, v, len);
		buf[len] = '\0';
		if (sscanf(buf, "%u/%u", &t, &c) != 2 || t > 255 || c > 255)
			return 0;
		struct why_note *n = note_of(p);

		if (!n)
			return -ENOMEM;
		n->icmp_sent = 1;
		n->icmp_type = (uint8_t)t;
		n->icmp_code = (uint8_t)c;
		n->icmp_source = ev->source;
		n->icmp_has_netns = ev->has_netns;
		n->icmp_netns = ev->netns;
		n->icmp_ifname = ifname;
		return 0;
	}
	if (!extra_num(x, TRACE_KEY_RMEM, 0, UINT32_MAX, &a) &&
	    !extra_num(x, TRACE_KEY_RCVBUF, 0, UINT32_MAX, &b)) {
		struct why_note *n = note_of(p);

		if (!n)
			return -ENOMEM;
		n->has_rmem = 1;
		n->rmem = (uint32_t)a;
		n->rcvbuf = (uint32_t)b;
		return 0;
	}
	/* rc= of net:net_dev_xmit is the driver's on every packet sent: only the socket's */
	if (!extra_num(x, TRACE_KEY_RC, INT32_MIN, INT32_MAX, &a)) {
		id = pkt_hook_index(hook);
		if (id != HOOK_UDP_FAIL_QUEUE_RCV_SKB)
			return 0;
		struct why_note *n = note_of(p);

		if (!n)
			return -ENOMEM;
		n->has_rc = 1;
		n->rc = (int32_t)a;
		return 0;
	}
	if (pkt_hook_index(hook) == HOOK_TCP_SEND_RESET) {
		struct why_note *n = note_of(p);

		if (!n)
			return -ENOMEM;
		n->reset_sent = 1;
	}
	return 0;
}

static int neigh_failed(const struct cause *n)
{
	return n->dead || strstr(n->neigh_state, "FAILED") != NULL;
}

int why_note_drop(struct flow_packet *p, const struct flow_hop *h, const struct causes *c)
{
	const struct pkt_l3l4 *l = h->l->family ? h->l : pkt_innermost(&p->pi);
	struct cause_addr d = {0};
	const struct drop_rule *dr = drop_rule(h->drop);
	unsigned look = dr ? dr->look : 0;

	/* only the reasons a lookup or a neighbour explains: a flood of full-queue drops asks
	 * nothing */
	if (!look || !h->has_netns || (l->family != 4 && l->family != 6))
		return 0;
	d.family = l->family;
	memcpy(d.b, l->dst, l->family == 4 ? 4 : 16);
	const struct cause *r =
	    causes_find_fib(c, h->source, h->netns, &d, h->ts_ns, WHY_CAUSE_WINDOW_NS);
	/* the next hop: the route's gateway, else the destination itself */
	const struct cause_addr *nh = r && r->has_err && !r->err && r->gw.family ? &r->gw : &d;
	const struct cause *n = look & WL_NEIGH ? causes_find_neigh(c, h->source, h->netns, nh,
								    h->ts_ns, WHY_CAUSE_WINDOW_NS)
						: NULL;
	int route = r && r->has_err && r->err, neigh = n && neigh_failed(n);
	const struct cause *rf = NULL;

	/* between the hit before the drop and the drop */
	uint64_t near = CAUSES_SETTLE_NS;

	if (h > p->hops && h->ts_ns - h[-1].ts_ns < near)
		near = h->ts_ns - h[-1].ts_ns;
	if (!route && (rf = causes_find_fib_failed(c, h->source, &d, h->ts_ns, near)))
		route = 1;

	if (!route && !neigh)
		return 0;
	struct why_note *w = note_of(p);

	if (!w)
		return -ENOMEM;
	if (route) {
		w->has_route = 1;
		w->route = rf ? *rf : *r;
		w->route.netns = h->netns; /* where it was dropped: that lookup's (rf) */
	}
	if (neigh) {
		w->has_neigh = 1;
		w->neigh = *n;
	}
	return 0;
}

const char *why_table_name(uint32_t table, char *buf, size_t cap)
{
	switch (table) {
	case 253:
		return "default";
	case 254:
		return "main";
	case 255:
		return "local";
	}
	snprintf(buf, cap, "%u", table);
	return buf;
}

const char *why_route_error(const struct cause *e)
{
	const char *s;

	if (!e->has_err || !e->err)
		return NULL;
	if (e->err == -EAGAIN) /* fib_lookup() turns the last table's miss into this */
		return "ENETUNREACH";
	s = e->err < 0 ? strerrorname_np(-e->err) : NULL;
	return s ? s : "error";
}

/* ------------------------------------------------------------ verdicts */

struct sbuf {
	char *s;
	size_t cap, len;
};

__attribute__((format(printf, 2, 3))) static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;

	if (b->len >= b->cap)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);

	va_end(ap);
	if (n > 0)
		b->len = b->len + (size_t)n < b->cap ? b->len + (size_t)n : b->cap;
}

static void sb_ns(struct sbuf *b, int has_netns, uint64_t netns, const char *name)
{
	if (name)
		sb_add(b, "%s", name);
	else if (has_netns)
		sb_add(b, "netns %" PRIu64, netns);
	else
		sb_add(b, "the capture point");
}

/* A rule's phrase with what the packet was for: "UDP 10.1.0.2:9999", "10.9.9.9". */
static void sb_phrase(struct sbuf *b, const char *phrase, const struct pkt_l3l4 *l,
		      enum why_subject s)
{
	char a[PKT_ADDRSTRLEN], subject[PKT_ADDRSTRLEN + 16];

	pkt_addr_str(l, s != WS_SRC, a, sizeof(a));
	if (s == WS_LISTENER && l->has_l4 && (l->ip_proto == 6 || l->ip_proto == 17))
		snprintf(subject, sizeof(subject), "%s %s%s%s:%u", l->ip_proto == 6 ? "TCP" : "UDP",
			 l->family == 6 ? "[" : "", a[0] ? a : "?", l->family == 6 ? "]" : "",
			 l->dport);
	else
		snprintf(subject, sizeof(subject), "%s", a[0] ? a : "?");
	sb_add(b, phrase, subject);
}

/* The kernel function of a loc= value: "nf_hook_slow" of "nf_hook_slow+0x8c". */
static void loc_function(const char *loc, char *out, size_t cap)
{
	size_t n = loc ? strcspn(loc, "+") : 0;

	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(out, loc, n);
	out[n] = '\0';
}

/* " in FUNC at IF@NS (HOOK)" */
static void sb_place(struct sbuf *b, const struct why_verdict *v)
{
	if (v->function[0])
		sb_add(b, " in %s", v->function);
	sb_add(b, " at ");
	if (v->ifname[0] && !v->has_netns && !v->netns_name)
		sb_add(b, "%s", v->ifname);	 /* a foreign capture: the interface is the place */
	else if (v->ifname[0] && !v->netns_name) /* as hops show it: eth0@4026532328 */
		sb_add(b, "%s@%" PRIu64, v->ifname, v->netns);
	else {
		if (v->ifname[0])
			sb_add(b, "%s@", v->ifname);
		sb_ns(b, v->has_netns, v->netns, v->netns_name);
	}
	if (v->hook[0])
		sb_add(b, " (%s)", v->hook);
}

static const char *ns_name(const struct nsnames *names, int numeric, uint32_t source, int has_netns,
			   uint64_t netns)
{
	if (!names || numeric || !has_netns)
		return NULL;
	return nsnames_get(names, source, netns);
}

/*
 * Where the packet ended: the drop (or fate) hop, and the last hook a device
 * or the stack saw it at before that (the free itself says no place).
 */
static void place(const struct flow_packet *p, struct why_verdict *v, const struct flow_hop **end)
{
	const struct flow_hop *h = p->fate_hop >= 0 ? &p->hops[p->fate_hop] : NULL;
	const struct flow_hop *seen = NULL;

	if (!h && p->nhops)
		h = &p->hops[p->nhops - 1];
	*end = h;
	if (!h)
		return;
	for (size_t i = (size_t)(h - p->hops) + 1; i-- > 0 && !seen;) {
		const struct flow_hop *x = &p->hops[i];

		if (x->branch == h->branch && x->kind != PKT_HOOK_KIND_FREE_DROP &&
		    x->kind != PKT_HOOK_KIND_FREE_CONSUME && x->hook[0])
			seen = x;
	}
	v->source = h->source;
	v->has_netns = h->has_netns;
	v->netns = h->netns;
	v->ifname = h->ifname;
	if (!v->ifname[0] && seen) { /* freed without a device: where it was last */
		v->ifname = seen->ifname;
		v->has_netns = seen->has_netns;
		v->netns = seen->netns;
	}
	v->hook = seen ? seen->hook : h->hook;
	loc_function(h->loc, v->function, sizeof(v->function));
}

static void sb_addr(struct sbuf *b, const struct cause_addr *a)
{
	char s[PKT_ADDRSTRLEN];
	const char *t = cause_addr_str(a, s, sizeof(s));

	sb_add(b, "%s", t ? t : "?");
}

/* "no route to D in table main of NS: ENETUNREACH" */
static void sb_route(struct sbuf *b, const struct cause *e, const char *ns_name)
{
	char tb[16];

	sb_add(b, "no route to ");
	sb_addr(b, &e->daddr);
	if (e->has_table)
		sb_add(b, " in table %s", why_table_name(e->table, tb, sizeof(tb)));
	sb_add(b, " of ");
	sb_ns(b, 1, e->netns, ns_name);
	sb_add(b, ": %s", why_route_error(e));
}

/* What the cause hooks add to the line: "; no route to ...", "; neighbour ...". */
static void sb_note(struct sbuf *b, const struct why_verdict *v)
{
	const struct why_note *n = &v->note;

	if (!v->has_note)
		return;
	if (n->has_rmem)
		sb_add(b, "; rmem %u of rcvbuf %u bytes", n->rmem, n->rcvbuf);
	if (n->has_rc)
		sb_add(b, "; queueing returned %d%s", n->rc, n->rc == -ENOMEM ? " (-ENOMEM)" : "");
	if (n->has_route && strcmp(v->kind, "no-route") != 0) {
		sb_add(b, "; ");
		sb_route(b, &n->route, v->route_netns_name);
	}
	if (n->has_neigh) {
		sb_add(b, "; neighbour ");
		sb_addr(b, &n->neigh.neigh);
		if (n->neigh.ifname[0])
			sb_add(b, " on %s", n->neigh.ifname);
		sb_add(b, " of ");
		sb_ns(b, 1, n->neigh.netns, v->neigh_netns_name);
		sb_add(b, ": %s",
		       n->neigh.dead ? "gone (neigh_event_send_dead)" : n->neigh.neigh_state);
	}
	/* the kernel sent an error no recorded packet shows (rate-limited on the wire, dropped) */
	if (n->icmp_sent && !(v->answer && !v->answer->is_reset)) {
		sb_add(b, "; ");
		sb_ns(b, n->icmp_has_netns, n->icmp_netns, v->icmp_sent_netns_name);
		sb_add(b, " sent ICMP %s", v->icmp_sent_name);
		if (n->icmp_ifname && n->icmp_ifname[0])
			sb_add(b, " (%s)", n->icmp_ifname);
		sb_add(b, ", not seen on its way back");
	}
	if (n->reset_sent && !(v->answer && v->answer->is_reset))
		sb_add(b, "; a RST was sent, not seen on its way back");
}

/* v's note and its names from p's */
static void set_note(const struct flow_packet *p, const struct nsnames *names, int numeric,
		     struct why_verdict *v)
{
	const struct why_note *n = p->note;

	if (!n)
		return;
	v->has_note = 1;
	v->note = *n;
	if (n->has_route)
		v->route_netns_name = ns_name(names, numeric, n->route.source, 1, n->route.netns);
	if (n->has_neigh)
		v->neigh_netns_name = ns_name(names, numeric, n->neigh.source, 1, n->neigh.netns);
	if (n->icmp_sent) {
		const struct icmp_rule *r = icmp_rule(4, n->icmp_type, n->icmp_code);

		v->icmp_sent_name = r ? r->name : "error";
		v->icmp_sent_netns_name =
		    ns_name(names, numeric, n->icmp_source, n->icmp_has_netns, n->icmp_netns);
	}
}

void why_build_route(const struct cause *e, const struct nsnames *names, int numeric,
		     struct why_verdict *v)
{
	struct sbuf b;

	memset(v, 0, sizeof(*v));
	b = (struct sbuf){v->line, sizeof(v->line), 0};
	v->kind = "no-route";
	v->source = e->source;
	v->has_netns = 1;
	v->netns = e->netns;
	v->netns_name = ns_name(names, numeric, e->source, 1, e->netns);
	v->ifname = "";
	v->hook = e->hook;
	v->ts_ns = e->ts_ns;
	v->has_note = 1;
	v->note.has_route = 1;
	v->note.route = *e;
	v->route_netns_name = v->netns_name;
	sb_route(&b, e, v->netns_name);
	sb_add(&b, " (a socket's lookup: no packet was sent");
	if (e->has_l4proto && (e->l4proto == 6 || e->l4proto == 17) && e->dport) {
		sb_add(&b, "; %s ", e->l4proto == 6 ? "TCP" : "UDP");
		sb_addr(&b, &e->saddr);
		sb_add(&b, ":%u -> ", e->sport);
		sb_addr(&b, &e->daddr);
		sb_add(&b, ":%u", e->dport);
	}
	sb_add(&b, ")");
}

static int build(const struct flow_packet *p, const struct nsnames *names, int numeric,
		 struct why_verdict *v);

int why_build(const struct flow_packet *p, const struct nsnames *names, int numeric,
	      struct why_verdict *v)
{
	if (!build(p, names, numeric, v))
		return 0;
	set_note(p, names, numeric, v);
	struct sbuf b = {v->line, sizeof(v->line), strlen(v->line)};

	sb_note(&b, v);
	return 1;
}

static int build(const struct flow_packet *p, const struct nsnames *names, int numeric,
		 struct why_verdict *v)
{
	const struct flow_hop *end = NULL;
	struct sbuf b;

	if (!p->dropped && !p->unanswered && !p->has_answer)
		return 0;
	memset(v, 0, sizeof(*v));
	b = (struct sbuf){v->line, sizeof(v->line), 0};
	v->ifname = "";
	v->hook = "";
	v->ts_ns = p->first_ts;
	place(p, v, &end);
	v->netns_name = ns_name(names, numeric, v->source, v->has_netns, v->netns);
	if (p->dropped)
		v->reason = end && end->drop[0] ? end->drop : "unknown";
	/* the request as it was when it ended (after NAT: the addresses it had there) */
	const struct pkt_l3l4 *l = end && end->l->family ? end->l : pkt_innermost(&p->pi);

	if (p->has_answer) {
		const struct flow_answer *a = &p->answer;
		const struct icmp_rule *r =
		    a->is_reset ? NULL : icmp_rule(a->family, a->type, a->code);

		v->answer = a;
		v->kind = a->is_reset ? "reset" : "icmp-error";
		v->answer_name = a->is_reset ? "RST" : r ? r->name : "error";
		v->answer_netns_name = ns_name(names, numeric, a->source, a->has_netns, a->netns);
		/* the kernel's own reason says more than the error's type (NEIGH_FAILED) */
		const struct drop_rule *dr = p->dropped ? drop_rule(v->reason) : NULL;

		if (a->is_reset)
			sb_add(&b, "connection refused");
		else if (dr)
			sb_phrase(&b, dr->phrase, l, dr->subject);
		else if (r)
			sb_phrase(&b, r->phrase, pkt_innermost(&p->pi), r->subject);
		else
			sb_add(&b, "ICMP type %u code %u", a->type, a->code);
		sb_add(&b, ": ");
		sb_ns(&b, a->has_netns, a->netns, v->answer_netns_name);
		sb_add(&b, " answered %s%s",
		       a->is_reset	? ""
		       : a->family == 6 ? "ICMPv6 "
					: "ICMP ",
		       v->answer_name);
		if (p->dropped) {
			sb_add(&b, " (the request: %s", v->reason);
			sb_place(&b, v);
			sb_add(&b, ")");
		}
		return 1;
	}
	if (p->dropped) {
		const struct drop_rule *r = drop_rule(v->reason);

		v->kind = "drop";
		if (r)
			sb_phrase(&b, r->phrase, l, r->subject);
		else
			sb_add(&b, "dropped");
		sb_add(&b, " (%s)", v->reason);
		sb_place(&b, v);
		return 1;
	}
	v->kind = "no-reply";
	sb_add(&b, "no reply; last seen");
	v->function[0] = '\0';
	sb_place(&b, v);
	return 1;
}

/* ------------------------------------------------------------ --why groups */

static uint64_t str_hash(uint64_t h, const char *s)
{
	return ht_hash_bytes(h, s ? s : "", s ? strlen(s) : 0);
}

static int str_eq(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

static uint64_t group_key(const struct why_verdict *v)
{
	uint64_t h = str_hash(0x77687900ull, v->kind);

	h = str_hash(h, v->reason);
	h = str_hash(h, v->function);
	h = str_hash(h, v->ifname);
	h = str_hash(h, v->hook);
	h = ht_hash_add(h, (uint64_t)v->source << 1 | (uint64_t)v->has_netns);
	h = ht_hash_add(h, v->netns);
	if (v->note.has_route)
		h = ht_hash_add(h,
				(uint64_t)v->note.route.table << 32 | (uint32_t)v->note.route.err);
	if (v->answer) {
		const struct flow_answer *a = v->answer;

		h = ht_hash_add(h, (uint64_t)a->is_reset << 24 | (uint64_t)a->family << 16 |
				       (uint64_t)a->type << 8 | a->code);
		h = ht_hash_add(h, a->netns);
	}
	return h;
}

static int group_eq(const struct why_verdict *x, const struct why_verdict *y)
{
	if (!str_eq(x->kind, y->kind) || !str_eq(x->reason, y->reason) ||
	    !str_eq(x->function, y->function) || !str_eq(x->ifname, y->ifname) ||
	    !str_eq(x->hook, y->hook) || x->source != y->source || x->has_netns != y->has_netns ||
	    x->netns != y->netns || !x->answer != !y->answer ||
	    x->note.has_route != y->note.has_route ||
	    (x->note.has_route && (x->note.route.table != y->note.route.table ||
				   x->note.route.err != y->note.route.err)))
		return 0;
	if (!x->answer)
		return 1;
	const struct flow_answer *a = x->answer, *b = y->answer;

	return a->is_reset == b->is_reset && a->family == b->family && a->type == b->type &&
	       a->code == b->code && a->netns == b->netns && a->has_netns == b->has_netns;
}

/* A group owns its verdict: the answer, copied (the packet's goes with it). */
struct why_group_answer {
	struct why_group g;
	struct flow_answer answer;
};

void why_groups_init(struct why_groups *g)
{
	memset(g, 0, sizeof(*g));
}

/* The group's example (its verdict, packet and first time) becomes v. */
static void set_example(struct why_group *x, const struct why_verdict *v, uint64_t packet_id)
{
	struct why_group_answer *ga = ht_entry(x, struct why_group_answer, g);

	x->v = *v;
	if (v->answer) {
		ga->answer = *v->answer;
		x->v.answer = &ga->answer;
	}
	x->packet_id = packet_id;
	x->first_ts = v->ts_ns;
}

static int group_before(const struct why_group *a, const struct why_group *b)
{
	return a->first_ts != b->first_ts ? a->first_ts < b->first_ts : a->packet_id < b->packet_id;
}

/*
 * In order of first time (then packet id): packets end in an order that
 * depends on the analyzer's windows, the report must not. Insertion sort of
 * the list: a report has a handful of groups.
 */
void why_groups_sort(struct why_groups *g)
{
	struct why_group *sorted = NULL, *x = g->head;

	while (x) {
		struct why_group *next = x->next, **at = &sorted;

		while (*at && !group_before(x, *at))
			at = &(*at)->next;
		x->next = *at;
		*at = x;
		x = next;
	}
	g->head = sorted;
	for (g->tail = sorted; g->tail && g->tail->next; g->tail = g->tail->next)
		;
}

int why_groups_add(struct why_groups *g, const struct why_verdict *v, uint64_t packet_id)
{
	uint64_t key = group_key(v);

	if (!g->by_key.buckets && ht_init(&g->by_key, 64) < 0)
		return -ENOMEM;
	for (struct ht_node *n = ht_find_first(&g->by_key, key); n; n = ht_find_next(n)) {
		struct why_group *x = ht_entry(n, struct why_group, node);

		if (x->key != key || !group_eq(&x->v, v))
			continue;
		x->count++;
		if (v->ts_ns < x->first_ts || (v->ts_ns == x->first_ts && packet_id < x->packet_id))
			set_example(x, v,
				    packet_id); /* the earliest, whatever order packets end in */
		if (v->ts_ns > x->last_ts)
			x->last_ts = v->ts_ns;
		return 0;
	}
	struct why_group_answer *ga = calloc(1, sizeof(*ga));

	if (!ga)
		return -ENOMEM;
	struct why_group *x = &ga->g;

	x->key = key;
	set_example(x, v, packet_id);
	x->count = 1;
	x->last_ts = v->ts_ns;
	ht_insert(&g->by_key, &x->node, key);
	if (g->tail)
		g->tail->next = x;
	else
		g->head = x;
	g->tail = x;
	g->n++;
	return 0;
}

void why_groups_free(struct why_groups *g)
{
	struct why_group *x = g->head;

	while (x) {
		struct why_group *next = x->next;

		free(ht_entry(x, struct why_group_answer, g));
		x = next;
	}
	ht_destroy(&g->by_key);
	memset(g, 0, sizeof(*g));
}
