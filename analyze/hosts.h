/* SPDX-License-Identifier: MIT */
/*
 * Several hosts in one analysis (pkt-analyze FILE... from several machines).
 *
 * Each input file belongs to a host: the one --host NAME=FILE names, else
 * its section header's host= (pkt-record's), else the first file's host
 * (tcpdump, dumpcap, classic pcap name none: a capture point on the same
 * clock; the first file itself is then named after its file). Track ids are
 * per file; packet ids are global.
 *
 * Clocks: with files of two hosts or more, a first pass reads every file and
 * notes when each packet (clock.h's stitch keys) was sent and received on each
 * host; each host's offset from the first file's host is estimated from
 * the packets both saw (directly, or through a host that saw packets of
 * both), and the second pass reads timestamps corrected by it, so that one
 * packet's hops on several hosts line up in time and join into one path.
 *
 * Library code: never prints, never exits; errors go to the caller's buffer.
 */
#ifndef PKT_HOSTS_H
#define PKT_HOSTS_H

#include <stddef.h>
#include <stdint.h>
#include "clock.h"

struct hosts;

struct hosts *hosts_new(void);
void hosts_free(struct hosts *h);
/* --host NAME=FILE (repeatable). Returns 0, -EINVAL (message in err). */
int hosts_option(struct hosts *h, const char *arg, char *err, size_t errlen);
/*
 * The input files in order (source i is paths[i]); "-" is standard input.
 * Reads each file's first section header for its host name and, with two
 * hosts or more, the first pass. Returns 0, -EINVAL when a --host names no
 * input, -ENOMEM. A file that cannot be read is left to the main pass.
 * hosts_note() then holds a remark for the user, or "" (offsets not estimated).
 */
int hosts_prepare(struct hosts *h, const char *const *paths, uint32_t n, char *err, size_t errlen);
/* A section header of source read in the main pass (standard input: its host). */
void hosts_section(struct hosts *h, uint32_t source, const char *shb_comment);

/* Hosts are worth showing: files of several hosts, or a --host. */
int hosts_shown(const struct hosts *h);
/* The host of a source ("" before hosts_prepare). */
const char *hosts_name(const struct hosts *h, uint32_t source);
/* A timestamp of source on the first file's host's clock. */
uint64_t hosts_correct(const struct hosts *h, uint32_t source, uint64_t ts);

/* The hosts, in order of their first file, for the summary. */
size_t hosts_count(const struct hosts *h);
struct host_clock {
	const char *name;
	int reference;		   /* the first file's host: offset 0 */
	int measured;		   /* an estimate exists (else offsets unknown) */
	struct clock_estimate est; /* relative to the reference host */
	const char *via;	   /* the estimate goes through this host's, or NULL */
};
const struct host_clock *hosts_clock(const struct hosts *h, size_t i);
/* Rename host i (--anonymize: a pseudonym). Returns 0 or -ENOMEM. */
int hosts_rename(struct hosts *h, size_t i, const char *name);
/* Why no offsets were estimated ("" when they were, or one host only). */
const char *hosts_note(const struct hosts *h);

#endif
