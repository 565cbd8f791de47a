/* SPDX-License-Identifier: MIT */
/* pkt-analyze: shared state between the input side (main.c) and the printers (output.c). */
#ifndef PKT_ANALYZE_H
#define PKT_ANALYZE_H

#include <stdint.h>
#include <stdio.h>
#include "trace.h"
#include "dissect.h"
#include "flow.h"
#include "nsnames.h"
#include "hosts.h"
#include "why.h"
#include "reader.h"

enum out_format { FMT_TEXT, FMT_JSON };
/* MODE_WHY: --why, the verdicts grouped by cause and place */
enum out_mode { MODE_PAIRS, MODE_EVENTS, MODE_STATS, MODE_WHY, MODE_NONE };
/* --only: one JSON line type, so each loads into its own table (docs/clickhouse.sql) */
enum out_only { ONLY_ALL, ONLY_EVENTS, ONLY_PACKETS, ONLY_PAIRS };

/*
 * One hit, read and dissected, waiting for its turn in the merge by time.
 * The hop, the bytes, the comment and the dissection are the reader's item
 * (reader.h), valid until the input's next item is taken.
 */
struct event {
	uint32_t source;  /* input file index */
	const char *file; /* its path */
	uint64_t offset;  /* block offset in the (decompressed) file */
	uint64_t ts_ns;
	uint32_t linktype;
	uint32_t section, if_id;
	int ours;	      /* the comment followed pkt-record's grammar */
	int is_cause_event;   /* an event block: no packet (c.is_event), never a hop */
	struct reader_hop *c; /* from the comment, or filled from the IDB (its item's) */
	int has_netns;
	int has_track;
	uint64_t track;
	int has_flags;
	uint32_t flags;
	int has_packetid;
	uint64_t packetid;
	int has_dropcount;
	uint64_t dropcount;
	uint8_t dir;
	uint32_t caplen, origlen;
	uint8_t *data; /* caplen bytes */
	int has_comment;
	const char *comment;	   /* "" when it has none */
	char anon_comment[1024];   /* --anonymize: the comment rewritten */
	struct trace_hop anon_hop; /* --anonymize: anon_comment decoded, c's strings point here */
	/* its interface's name and description ("" unknown): valid while its input is open */
	const char *if_rawname;
	const char *if_description;
	uint32_t snaplen;
	struct pkt_info *pi;
	int has_summary; /* summary is filled in (only where it is shown) */
	char summary[FLOW_SUMMARY_LEN];
};

struct totals {
	uint64_t files, events, filtered, lost, warnings;
	uint64_t cause_events; /* event blocks: events with no packet (not in events) */
	uint64_t first_ts, last_ts;
	int have_ts;
};

struct output {
	FILE *f;
	enum out_format format;
	enum out_mode mode;
	enum out_only only;
	int color;
	int quiet;
	uint64_t base_ts; /* time offsets count from the first event */
	int have_base;
	const struct nsnames *names; /* namespace names from the files (NULL: none) */
	int numeric;		     /* -n: inodes, never names */
	const struct hosts *hosts;   /* whose each file is (shown with several hosts) */
	const char *graph_path;	     /* --graph FILE: draw the first pair (or packet) */
	int graph_done;
	int graph_error;       /* drawing failed: the exit status says so */
	struct why_groups why; /* --why: filled at release, written with the summary */
	int why_error;	       /* out of memory grouping them: the exit status says so */
};

/* output.c */
void out_event(struct output *o, const struct event *ev, uint64_t event_no, uint64_t packet_id);
void out_events_header(struct output *o);
void out_packet(struct output *o, const struct flow_packet *p);
void out_pair(struct output *o, const struct flow_pair *pr);
void out_unanswered(struct output *o, const struct flow_packet *req, const char *kind);
void out_release(struct output *o, const struct flow_packet *p);
/* --why: a socket's failed route lookup, no packet (causes_take_failure) */
void out_why_route(struct output *o, const struct cause *e);
void out_summary(struct output *o, const struct totals *t, const struct flow_stats *fs);
void json_string(FILE *f, const char *s);

#endif
