// SPDX-License-Identifier: MIT
/* Events with no packet, kept by time for the verdicts (causes.h). */
#include "causes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CAUSES_FAILED_MAX 64

/* A ring of events in the order they were added (the analyzer adds them by time). */
struct causes {
	struct cause *ring;
	size_t cap, head, n; /* oldest at head */
	uint64_t window_ns, newest_ts;
	/* failed socket route lookups not yet settled (causes_take_failure): a ring too */
	struct cause failed[CAUSES_FAILED_MAX];
	size_t fhead, fn;
	uint64_t failures_lost; /* more at once than the queue holds: the oldest went */
};

/* scanned back at most this many events for one question: bounded per packet */
#define CAUSES_SCAN_MAX 64

struct causes *causes_new(uint64_t window_ns, size_t max)
{
	struct causes *c;

	if (!max)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->ring = calloc(max, sizeof(*c->ring));
	if (!c->ring) {
		free(c);
		return NULL;
	}
	c->cap = max;
	c->window_ns = window_ns;
	return c;
}

void causes_free(struct causes *c)
{
	if (!c)
		return;
	free(c->ring);
	free(c);
}

size_t causes_count(const struct causes *c)
{
	return c ? c->n : 0;
}

int cause_addr_parse(const char *s, size_t len, struct cause_addr *a)
{
	char buf[INET6_ADDRSTRLEN + 1];

	memset(a, 0, sizeof(*a));
	if (!len || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, a->b) == 1) {
		a->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, a->b) == 1) {
		a->family = 6;
		return 0;
	}
	memset(a, 0, sizeof(*a));
	return -EINVAL;
}

const char *cause_addr_str(const struct cause_addr *a, char *buf, size_t cap)
{
	if (!a->family ||
	    !inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->b, buf, (socklen_t)cap))
		return NULL;
	return buf;
}

static bool same_addr(const struct cause_addr *x, const struct cause_addr *y)
{
	return x->family && x->family == y->family && !memcmp(x->b, y->b, x->family == 4 ? 4 : 16);
}

/* a decimal value, '-' allowed in front; 0 or -EINVAL */
static int get_num(const char *extra, enum trace_key k, int64_t *out)
{
	const char *v;
	size_t len, i = 0;
	int64_t n = 0;
	bool neg = false;

	if (!trace_extra_get(extra, k, &v, &len) || !len)
		return -EINVAL;
	if (v[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == len || len - i > 10)
		return -EINVAL;
	for (; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -EINVAL;
		n = n * 10 + (v[i] - '0');
	}
	*out = neg ? -n : n;
	return 0;
}

static void get_addr(const char *extra, enum trace_key k, struct cause_addr *a)
{
	const char *v;
	size_t len;

	if (!trace_extra_get(extra, k, &v, &len) || cause_addr_parse(v, len, a))
		memset(a, 0, sizeof(*a));
}

/* drop what is older than the window behind the newest */
static void expire(struct causes *c)
{
	while (c->n && c->ring[c->head].ts_ns + c->window_ns < c->newest_ts) {
		c->head = (c->head + 1) % c->cap;
		c->n--;
	}
}

static bool same_lookup(const struct cause *x, const struct cause *y)
{
	return x->source == y->source && x->netns == y->netns && same_addr(&x->daddr, &y->daddr);
}

/*
 * A route lookup: it settles a waiting failure of the same destination (the
 * next table answered, or failed in its turn and takes its place); a
 * socket's failed one waits (causes_take_failure).
 */
static void note_lookup(struct causes *c, const struct cause *e)
{
	for (size_t i = 0; i < c->fn; i++) {
		struct cause *w = &c->failed[(c->fhead + i) % CAUSES_FAILED_MAX];

		if (w->kind == CAUSE_FIB && same_lookup(w, e) &&
		    e->ts_ns <= w->ts_ns + CAUSES_SETTLE_NS)
			w->kind = CAUSE_OTHER; /* settled: skipped when taken */
	}
	if (!e->has_err || !e->err || !e->has_l4proto)
		return;
	/*
	 * A forwarding lookup (no l4proto) of the same destination that failed
	 * just before: this is the ICMP error's own lookup (icmp_route_lookup),
	 * not a socket's. The newest few events are enough: they are adjacent.
	 */
	for (size_t i = c->n, k = 0; i-- > 0 && k++ < 8;) {
		const struct cause *x = &c->ring[(c->head + i) % c->cap];

		if (x->ts_ns + CAUSES_SETTLE_NS < e->ts_ns)
			break;
		if (x->kind == CAUSE_FIB && !x->has_l4proto && x->has_err && x->err &&
		    x->source == e->source && same_addr(&x->daddr, &e->daddr))
			return;
	}
	if (c->fn == CAUSES_FAILED_MAX) {
		c->fhead = (c->fhead + 1) % CAUSES_FAILED_MAX;
		c->fn--;
		c->failures_lost++;
	}
	c->failed[(c->fhead + c->fn++) % CAUSES_FAILED_MAX] = *e;
}

int causes_take_failure(struct causes *c, bool flush, struct cause *out)
{
	while (c && c->fn) {
		struct cause *w = &c->failed[c->fhead];

		if (w->kind == CAUSE_FIB && !flush && w->ts_ns + CAUSES_SETTLE_NS > c->newest_ts)
			return 0;
		c->fhead = (c->fhead + 1) % CAUSES_FAILED_MAX;
		c->fn--;
		if (w->kind == CAUSE_FIB) {
			*out = *w;
			return 1;
		}
	}
	return 0;
}

int causes_add(struct causes *c, uint32_t source, const struct trace_hop *hop)
{
	struct cause *e;
	int64_t v;
	const char *s;
	size_t len;

	if (!c)
		return -ENOMEM;
	if (!hop->is_event)
		return -EINVAL;
	if (c->n == c->cap) { /* full: the oldest goes */
		c->head = (c->head + 1) % c->cap;
		c->n--;
	}
	e = &c->ring[(c->head + c->n) % c->cap];
	memset(e, 0, sizeof(*e));
	e->ts_ns = hop->ts_ns;
	e->source = source;
	e->netns = hop->netns;
	e->ifindex = hop->ifname[0] ? hop->ifindex : 0;
	memcpy(e->hook, hop->hook, sizeof(e->hook));
	e->hook[sizeof(e->hook) - 1] = '\0';
	memcpy(e->ifname, hop->ifname, sizeof(e->ifname));
	e->ifname[sizeof(e->ifname) - 1] = '\0';
	if (trace_extra_get(hop->extra, TRACE_KEY_FIB_TABLE, &s, &len)) {
		e->kind = CAUSE_FIB;
		if (!get_num(hop->extra, TRACE_KEY_FIB_TABLE, &v) && v >= 0 && v <= UINT32_MAX) {
			e->has_table = true;
			e->table = (uint32_t)v;
		}
		if (!get_num(hop->extra, TRACE_KEY_FIB_ERR, &v) && v >= INT32_MIN &&
		    v <= INT32_MAX) {
			e->has_err = true;
			e->err = (int32_t)v;
		}
		if (!get_num(hop->extra, TRACE_KEY_FIB_OIF, &v) && v >= 0 && v <= UINT32_MAX) {
			e->has_oif = true;
			e->oif = (uint32_t)v;
		}
		if (!get_num(hop->extra, TRACE_KEY_L4PROTO, &v) && v >= 0 && v <= 255) {
			e->has_l4proto = true;
			e->l4proto = (uint8_t)v;
		}
		if (!get_num(hop->extra, TRACE_KEY_SPORT, &v) && v >= 0 && v <= 65535)
			e->sport = (uint16_t)v;
		if (!get_num(hop->extra, TRACE_KEY_DPORT, &v) && v >= 0 && v <= 65535)
			e->dport = (uint16_t)v;
		get_addr(hop->extra, TRACE_KEY_DADDR, &e->daddr);
		get_addr(hop->extra, TRACE_KEY_SADDR, &e->saddr);
		get_addr(hop->extra, TRACE_KEY_FIB_GW, &e->gw);
		note_lookup(c, e);
	} else if (trace_extra_get(hop->extra, TRACE_KEY_NEIGH, &s, &len)) {
		e->kind = CAUSE_NEIGH;
		get_addr(hop->extra, TRACE_KEY_NEIGH, &e->neigh);
		if (trace_extra_get(hop->extra, TRACE_KEY_NEIGH_STATE, &s, &len) &&
		    len < sizeof(e->neigh_state)) {
			memcpy(e->neigh_state, s, len);
			e->neigh_state[len] = '\0';
		}
		e->dead = !get_num(hop->extra, TRACE_KEY_NEIGH_DEAD, &v) && v == 1;
	}
	c->n++;
	if (hop->ts_ns > c->newest_ts)
		c->newest_ts = hop->ts_ns;
	expire(c);
	return 0;
}

/*
 * The events at or before t_ns and at most window_ns older, newest first,
 * at most CAUSES_SCAN_MAX of them looked at: what every lookup walks.
 */
struct cause_walk {
	const struct causes *c;
	size_t k; /* 0: the newest */
	uint64_t t_ns, window_ns;
};

static const struct cause *walk_next(struct cause_walk *w)
{
	const struct causes *c = w->c;

	while (c && w->k < c->n && w->k < CAUSES_SCAN_MAX) {
		const struct cause *e = &c->ring[(c->head + c->n - 1 - w->k++) % c->cap];

		if (e->ts_ns > w->t_ns)
			continue;
		if (w->t_ns - e->ts_ns > w->window_ns)
			return NULL; /* older ones only from here on */
		return e;
	}
	return NULL;
}

static const struct cause *find(const struct causes *c, enum cause_kind kind, uint32_t source,
				uint64_t netns, const struct cause_addr *addr, uint64_t t_ns,
				uint64_t window_ns)
{
	struct cause_walk w = {c, 0, t_ns, window_ns};

	for (const struct cause *e; (e = walk_next(&w));) {
		if (e->kind != kind || e->source != source || e->netns != netns)
			continue;
		if (same_addr(kind == CAUSE_FIB ? &e->daddr : &e->neigh, addr))
			return e;
	}
	return NULL;
}

const struct cause *causes_find_fib(const struct causes *c, uint32_t source, uint64_t netns,
				    const struct cause_addr *daddr, uint64_t t_ns,
				    uint64_t window_ns)
{
	return find(c, CAUSE_FIB, source, netns, daddr, t_ns, window_ns);
}

const struct cause *causes_find_fib_failed(const struct causes *c, uint32_t source,
					   const struct cause_addr *daddr, uint64_t t_ns,
					   uint64_t window_ns)
{
	const struct cause *any = NULL, *fwd = NULL;
	struct cause_walk w = {c, 0, t_ns, window_ns};

	for (const struct cause *e; (e = walk_next(&w));) {
		if (e->kind == CAUSE_FIB && e->source == source && e->has_err && e->err &&
		    !e->ifname[0] && same_addr(&e->daddr, daddr)) {
			if (!e->has_l4proto)
				fwd = e; /* the oldest: the forwarding lookup, before the ICMP
					    error's */
			else if (!any)
				any = e; /* a socket's, or the ICMP error's own */
		}
	}
	return fwd ? fwd : any;
}

const struct cause *causes_find_neigh(const struct causes *c, uint32_t source, uint64_t netns,
				      const struct cause_addr *addr, uint64_t t_ns,
				      uint64_t window_ns)
{
	return find(c, CAUSE_NEIGH, source, netns, addr, t_ns, window_ns);
}
