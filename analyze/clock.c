// SPDX-License-Identifier: MIT
/* Clocks of several hosts: the stitch key and the offset estimator (clock.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "flow.h"

/* An IPv4 id, a TCP segment or an echo: one packet among many. */
static int distinctive(const struct pkt_l3l4 *l)
{
	if (!l->family || l->is_arp)
		return 0;
	if (l->family == 4 && l->ip_id)
		return 1;
	if (l->ip_proto == 6 && l->has_l4)
		return 1;
	return (l->ip_proto == 1 || l->ip_proto == 58) && l->has_l4 &&
	       (l->icmp_type == 0 || l->icmp_type == 8 || l->icmp_type == 128 ||
		l->icmp_type == 129);
}

int clock_stitch_keys(const struct pkt_info *pi, uint64_t keys[CLOCK_MAX_KEYS])
{
	const struct pkt_l3l4 *in = pkt_innermost(pi);
	int n = 0;

	if (distinctive(in))
		keys[n++] = fp_exact(in);
	if (pi->has_inner && pi->encap && distinctive(&pi->outer))
		keys[n++] = fp_exact(&pi->outer);
	return n;
}

/* The smallest delay each way among samples [from, to) of the sorted array. */
static void min_delays(const struct clock_sample *s, size_t from, size_t to, int *has_f,
		       int64_t *min_f, int *has_b, int64_t *min_b)
{
	*has_f = *has_b = 0;
	for (size_t i = from; i < to; i++) {
		if (!s[i].back && (!*has_f || s[i].delay_ns < *min_f)) {
			*min_f = s[i].delay_ns;
			*has_f = 1;
		} else if (s[i].back && (!*has_b || s[i].delay_ns < *min_b)) {
			*min_b = s[i].delay_ns;
			*has_b = 1;
		}
	}
}

static int by_ts(const void *a, const void *b)
{
	const struct clock_sample *x = a, *y = b;

	return x->ts_ns < y->ts_ns ? -1 : x->ts_ns > y->ts_ns;
}

int clock_estimate(const struct clock_sample *in, size_t n, struct clock_estimate *e)
{
	int has_f, has_b;
	int64_t min_f = 0, min_b = 0;
	struct clock_sample *s;

	if (!e || (n && !in))
		return -EINVAL;
	memset(e, 0, sizeof(*e));
	if (!n)
		return 0;
	s = malloc(n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memcpy(s, in, n * sizeof(*s));
	qsort(s, n, sizeof(*s), by_ts);
	e->known = 1;
	e->mid_ts = s[0].ts_ns + (s[n - 1].ts_ns - s[0].ts_ns) / 2;
	for (size_t i = 0; i < n; i++)
		s[i].back ? e->back++ : e->fwd++;
	min_delays(s, 0, n, &has_f, &min_f, &has_b, &min_b);
	/* theta <= min d (sent by the reference), theta >= -min e (sent by the other) */
	e->has_max = has_f;
	e->max_ns = min_f;
	e->has_min = has_b;
	e->min_ns = -min_b;
	if (has_f && has_b) {
		e->two_way = 1;
		e->round_trip_ns = min_f + min_b;
		e->offset_ns = (min_f - min_b) / 2;
		/* negative: samples that contradict each other (reused content, a clock step) */
		e->uncertainty_ns = e->round_trip_ns < 0 ? -e->round_trip_ns : e->round_trip_ns;
		e->uncertainty_ns = (e->uncertainty_ns + 1) / 2;
	} else {
		/* one way: the bound, as if the packets took no time */
		e->offset_ns = has_f ? min_f : -min_b;
	}
	if (e->two_way && s[n - 1].ts_ns - s[0].ts_ns >= CLOCK_DRIFT_SPAN_NS) {
		uint64_t half = e->mid_ts;
		size_t k = 0;
		int f1, b1, f2, b2;
		int64_t mf1 = 0, mb1 = 0, mf2 = 0, mb2 = 0;

		while (k < n && s[k].ts_ns < half)
			k++;
		min_delays(s, 0, k, &f1, &mf1, &b1, &mb1);
		min_delays(s, k, n, &f2, &mf2, &b2, &mb2);
		if (f1 && b1 && f2 && b2) {
			double t1 = (double)(s[0].ts_ns + (half - s[0].ts_ns) / 2);
			double t2 = (double)(half + (s[n - 1].ts_ns - half) / 2);
			double o1 = (double)(mf1 - mb1) / 2, o2 = (double)(mf2 - mb2) / 2;

			e->drift = (o2 - o1) / (t2 - t1);
			e->offset_ns = (int64_t)(o1 + e->drift * ((double)e->mid_ts - t1));
		}
	}
	free(s);
	return 0;
}

int64_t clock_offset_at(const struct clock_estimate *e, uint64_t ts)
{
	if (!e || !e->known)
		return 0;
	return e->offset_ns + (int64_t)(e->drift * ((double)(int64_t)(ts - e->mid_ts)));
}
