// SPDX-License-Identifier: MIT
/*
 * pkt-record's reader without the kernel: the EPBs of a recording are
 * turned back into ring events (struct pktrec_event), then replayed through
 * what pkt-record does per event (event_decode, recout_write: comment, EPB,
 * zstd) into OUT. A repeatable measure of the reader's cost per event:
 *
 *   valgrind --tool=callgrind --toggle-collect=replay_events \
 *     build/reader-replay IN.pcapng.zst OUT [MAX_EVENTS [ZSTD_LEVEL]]
 *
 * counts only the replay (the file is read and converted before it). It
 * prints events, bytes written and bytes per event. Event blocks (CAUSE
 * hooks) and loc= are left out: neither is on the flood's path.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "event.h"
#include "hooks.h"
#include "pcapng.h"
#include "record.h"
#include "trace.h"

#define MAX_REASONS 256

static char *reasons[MAX_REASONS];
static unsigned n_reasons;

static const char *reason_name(uint32_t r)
{
	return r < n_reasons ? reasons[r] : NULL;
}

static uint32_t reason_index(const char *name)
{
	for (unsigned i = 0; i < n_reasons; i++)
		if (!strcmp(reasons[i], name))
			return i;
	if (n_reasons == MAX_REASONS)
		return MAX_REASONS;
	reasons[n_reasons] = strdup(name);
	return reasons[n_reasons] ? n_reasons++ : MAX_REASONS;
}

struct replay {
	uint8_t *events; /* fixed-size slots of PKTREC_EVENT_SIZE(PKTREC_MAX_SNAP) */
	uint32_t *sizes; /* the ring record's size of each */
	size_t n, cap;
};

#define SLOT PKTREC_EVENT_SIZE(PKTREC_MAX_SNAP)

/* One EPB of ours back to the ring event pkt-record read. false: not one. */
static bool to_event(const struct pcapng_record *rec, struct pktrec_event *e, uint32_t *size)
{
	struct trace_hop hop;
	int hook;
	uint32_t off = 0, snap;

	memset(&hop, 0, sizeof(hop));
	if (rec->kind != PCAPNG_REC_PACKET || !rec->has_comment ||
	    trace_comment_parse(rec->comment, &hop))
		return false;
	hook = pkt_hook_index(hop.hook);
	if (hook < 0)
		return false;
	memset(e, 0, offsetof(struct pktrec_event, data));
	e->ts_ns = rec->ts_ns;
	e->skb = hop.skb;
	e->track = hop.track;
	e->netns = hop.netns;
	e->ifindex = hop.ifindex;
	e->pid = hop.pid;
	e->cpu = hop.cpu;
	e->hook = (uint8_t)hook;
	e->head = hop.head;
	if (strcmp(hop.ifname, "-"))
		memcpy(e->ifname, hop.ifname, strnlen(hop.ifname, sizeof(e->ifname)));
	if (strcmp(hop.comm, "-"))
		memcpy(e->comm, hop.comm, strnlen(hop.comm, sizeof(e->comm)));
	if (hop.drop[0]) {
		e->flags |= PKTREC_F_HAS_DROP;
		e->drop_reason = reason_index(hop.drop);
	}
	e->protocol = rec->caplen >= 14 ? (uint16_t)(rec->data[12] << 8 | rec->data[13]) : 0;
	if (hop.has_proto)
		e->protocol = hop.proto;
	if (hop.l2_synth) {
		e->flags |= PKTREC_F_L2_SYNTH;
		off = PKTREC_ETH_HLEN;
	}
	snap = rec->caplen > off ? rec->caplen - off : 0;
	if (snap > PKTREC_MAX_SNAP)
		snap = PKTREC_MAX_SNAP;
	e->snap_len = (uint16_t)snap;
	e->orig_len = rec->origlen > off ? rec->origlen - off : 0;
	e->len = e->orig_len;
	memcpy(e->data, rec->data + off, snap);
	*size = PKTREC_EVENT_SIZE(snap);
	return true;
}

static int load(struct replay *r, const char *path, size_t max)
{
	struct pcapng_reader *rd;
	struct pcapng_record *rec = malloc(sizeof(*rec));
	char err[256];
	int rc;

	if (!rec || pcapng_reader_open_path(&rd, path, err, sizeof(err))) {
		fprintf(stderr, "reader-replay: %s\n", rec ? err : "out of memory");
		free(rec);
		return -1;
	}
	while (r->n < max && (rc = pcapng_next(rd, rec)) == 0) {
		if (r->n == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 65536;
			uint8_t *ev = realloc(r->events, cap * SLOT);
			uint32_t *sz = ev ? realloc(r->sizes, cap * sizeof(*sz)) : NULL;

			if (ev)
				r->events = ev;
			if (!sz) {
				fprintf(stderr, "reader-replay: out of memory\n");
				break;
			}
			r->sizes = sz;
			r->cap = cap;
		}
		if (to_event(rec, (struct pktrec_event *)(r->events + r->n * SLOT),
			     &r->sizes[r->n]))
			r->n++;
	}
	pcapng_reader_close(rd);
	free(rec);
	return 0;
}

/* What pkt-record's on_event does per event with a file (record/pkt-record.c). */
__attribute__((noinline)) static int replay_events(const struct replay *r, const char *out_path,
						   int level, uint64_t *bytes)
{
	struct event_ctx ctx = {
	    .snaplen = 128,
	    .want_hop = true,
	    .drop_reason_name = reason_name,
	};
	struct recout_cfg cfg = {
	    .path = out_path,
	    .zstd_level = level,
	    .force = true,
	    .snaplen = 128,
	    .hostname = "replay",
	};
	struct event_out *ev = malloc(sizeof(*ev));
	struct recout *o;
	char err[512];
	uint64_t t0 = r->n ? ((const struct pktrec_event *)r->events)->ts_ns : 0;

	if (!ev || recout_open(&o, &cfg, t0, err, sizeof(err))) {
		fprintf(stderr, "reader-replay: %s\n", ev ? err : "out of memory");
		free(ev);
		return -1;
	}
	for (size_t i = 0; i < r->n; i++) {
		if (event_decode(&ctx, r->events + i * SLOT, r->sizes[i], ev))
			continue;
		if (recout_write(o, &ev->hop, err, sizeof(err))) {
			fprintf(stderr, "reader-replay: %s\n", err);
			recout_abort(o);
			free(ev);
			return -1;
		}
	}
	free(ev);
	if (recout_close(o, t0, bytes, err, sizeof(err))) {
		fprintf(stderr, "reader-replay: %s\n", err);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct replay r = {0};
	struct timespec a, b, ta, tb;
	uint64_t bytes = 0;
	int level = 1;

	if (argc < 3) {
		fprintf(stderr,
			"usage: reader-replay IN.pcapng[.zst] OUT [MAX_EVENTS [ZSTD_LEVEL]]\n");
		return 2;
	}
	if (load(&r, argv[1], argc > 3 ? strtoull(argv[3], NULL, 0) : SIZE_MAX))
		return 1;
	if (argc > 4)
		level = atoi(argv[4]);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ta);
	if (replay_events(&r, argv[2], level, &bytes))
		return 1;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &tb);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	double ts = (double)(tb.tv_sec - ta.tv_sec) + (double)(tb.tv_nsec - ta.tv_nsec) / 1e9;
	double per = r.n ? 1e9 / (double)r.n : 0.0;
	/* the reader's own thread, and the process (with zstd's worker, when it has one) */
	printf("events %zu bytes %" PRIu64 " bytes/event %.2f cpu %.3f s (%.0f ns/event), "
	       "reader thread %.0f ns/event\n",
	       r.n, bytes, r.n ? (double)bytes / (double)r.n : 0.0, s, s * per, ts * per);
	free(r.events);
	free(r.sizes);
	for (unsigned i = 0; i < n_reasons; i++)
		free(reasons[i]);
	return 0;
}
