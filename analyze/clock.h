/* SPDX-License-Identifier: MIT */
/*
 * Clocks of several hosts (pkt-analyze FILE... from several machines): the
 * key that finds one packet in every file, and the offset of one host's clock
 * from another's, estimated from packets seen on both.
 *
 * A packet sent by host A at t1 (A's clock) and received by host B at t2
 * (B's clock) gives d = t2 - t1 = theta + delay, theta = B's clock - A's;
 * one sent by B at t3 and received by A at t4 gives e = t4 - t3 = -theta +
 * delay'. Delays are never negative, so theta lies in [-min e, min d]: the
 * estimate is its middle, ((t2 - t1) + (t3 - t4)) / 2 as NTP has it with the
 * minimum-delay samples of each way, and the uncertainty half its width
 * (half the smallest round trip). With samples of one way only, one bound.
 *
 * Pure: no I/O, no printing (unit-tested).
 */
#ifndef PKT_CLOCK_H
#define PKT_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include "dissect.h"

#define CLOCK_MAX_KEYS 2

/*
 * The keys one packet is found by in every file: the invariant fields of the
 * innermost IP/L4 header (addresses, IP id, ports, TCP seq/ack/flags/length,
 * ICMP type/id/seq: analyze/packets.c's content key), and for a tunnel
 * (VXLAN, Geneve, GRE...) also the outer header's. Only headers distinctive
 * enough to name one packet among many count: an IPv4 id, a TCP segment, an
 * echo. Returns the number of keys (0: nothing distinctive).
 */
int clock_stitch_keys(const struct pkt_info *pi, uint64_t keys[CLOCK_MAX_KEYS]);

/* One packet seen on both hosts: its one-way delay as the two clocks say. */
struct clock_sample {
	uint64_t ts_ns;	  /* when it was sent, on the reference host's clock (raw) */
	int64_t delay_ns; /* receive time - send time, each on its host's clock */
	int back;	  /* 0: sent by the reference host, 1: sent by the other */
};

struct clock_estimate {
	int known;		/* some sample */
	int two_way;		/* samples both ways: offset and uncertainty */
	int64_t offset_ns;	/* other host's clock - reference host's, at mid_ts */
	int64_t uncertainty_ns; /* two-way: the offset is within +- this */
	int has_min, has_max;	/* bounds on the offset (one-way: one of them) */
	int64_t min_ns, max_ns;
	int64_t round_trip_ns; /* smallest delay one way + smallest the other */
	double drift;	       /* offset change per ns (0 unless measured) */
	uint64_t mid_ts;       /* the offset is at this reference time */
	uint64_t fwd, back;    /* samples each way */
};

/*
 * Estimate from n samples (any order). Drift is measured when the samples
 * span at least CLOCK_DRIFT_SPAN_NS and each half of that span has samples
 * both ways: the offset of each half at its middle, a line through both.
 * Returns 0, -EINVAL for NULL arguments.
 */
#define CLOCK_DRIFT_SPAN_NS (60ull * 1000000000ull)
int clock_estimate(const struct clock_sample *s, size_t n, struct clock_estimate *e);

/* The offset to subtract from the other host's timestamp ts (its own clock). */
int64_t clock_offset_at(const struct clock_estimate *e, uint64_t ts);

#endif
