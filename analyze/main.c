// SPDX-License-Identifier: MIT
/*
 * pkt-analyze: read pcapng captures (pkt-record's or anyone's), rebuild each
 * packet's path and pair requests with replies.
 *
 * Several inputs are merged by timestamp so that captures of several hosts or
 * rotated files line up; each input holds one event read ahead.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze.h"
#include "causes.h"
#include "topology.h"
#include "hosts.h"
#include "reader.h"
#include "anonymize.h"
#include "cli.h"
#include "pcapng.h"
#include "zio.h"

#ifndef PKT_VERSION
#define PKT_VERSION "unknown"
#endif

#define EXIT_USAGE 2

struct input {
	const char *path;
	uint32_t index;
	struct pcapng_reader *r;
	struct reader *rd; /* r read ahead, decoded */
	struct event ev;
	int has_ev;
	int done;
	uint64_t last_ts;
	/* interfaces of section noted_section already given to nsnames_note */
	uint8_t *noted;
	size_t noted_n;
	uint32_t noted_section;
};

/* First hit on this interface of this section: nsnames_note once, not per hit. */
static int first_on_iface(struct input *in, uint32_t section, uint32_t if_id)
{
	if (section != in->noted_section && in->noted_n)
		memset(in->noted, 0, in->noted_n);
	in->noted_section = section;
	if (if_id >= in->noted_n) {
		size_t n = (size_t)if_id * 2 + 16;
		uint8_t *a = realloc(in->noted, n);

		if (!a)
			return 1; /* noted again later: harmless */
		memset(a + in->noted_n, 0, n - in->noted_n);
		in->noted = a;
		in->noted_n = n;
	}
	if (in->noted[if_id])
		return 0;
	in->noted[if_id] = 1;
	return 1;
}

/* Per (input, section, interface): the output IDB and the loss counters. */
struct iface_slot {
	struct ht_node node;
	uint32_t source, section, if_id;
	struct trace_iface *out; /* its IDB in the --write file, once written */
	uint64_t ifdrop, osdrop;
};

/* -Y compiled for one link type of the inputs */
struct filter {
	struct ht_node node;
	uint32_t linktype;
	struct cli_filter *f; /* NULL: the expression does not apply to this link type */
};

/* A recording host seen with --anonymize: its pseudonym is anonN. */
struct anon_host {
	struct ht_node node;
	size_t n;
	char name[];
};

struct app {
	struct output out;
	struct nsnames *names; /* from the files' interface blocks */
	struct topology *topo; /* --topology */
	int topology;
	struct totals tot;
	int quiet;
	int exit_code;
	const char *filter_expr;
	struct hashtab filters; /* of struct filter, by link type */
	const char *write_path;
	int compress_level; /* -1: from the name, 0: none, 1..22 zstd */
	struct zout *wout;
	struct trace_writer *writer;
	int write_failed;
	struct hashtab ifaces; /* of struct iface_slot */
	struct flow *flow;
	struct hosts *hosts;   /* whose each file is, and the clocks (--host) */
	struct causes *causes; /* events with no packet, by time, for the verdicts */
	uint64_t packet_window_ns, pair_window_ns;
	long threads; /* --threads: 1 reads on the analysis' thread; 0: by the CPUs online */
	/* --anonymize */
	int anonymize;
	const char *anon_key_path;
	struct pkt_anon *anon;
	uint64_t anon_unvetted;			  /* hits left out: link type not understood */
	uint32_t anon_unvetted_linktype;	  /* the first such link type */
	int anon_unvetted_more;			  /* and others */
	size_t anon_host_count, anon_netns_count; /* pseudonyms given: anonN, nsN */
	struct hashtab anon_hosts;		  /* of struct anon_host */
};

__attribute__((format(printf, 2, 3))) static void warnx_(struct app *a, const char *fmt, ...)
{
	va_list ap;

	a->tot.warnings++;
	if (a->quiet)
		return;
	fflush(stdout);
	fputs("pkt-analyze: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

__attribute__((format(printf, 2, 3))) static void errorx(struct app *a, const char *fmt, ...)
{
	va_list ap;

	a->exit_code = 1;
	fflush(stdout);
	fputs("pkt-analyze: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pkt-analyze [options] FILE...\n"
		"Reconstruct packet paths and request/reply pairs from pcapng captures\n"
		"(pkt-record's, or any writer's; plain or zstd; \"-\" is stdin).\n"
		"\n"
		"Output (default: each request/reply pair, hop by hop):\n"
		"      --format text|json   text tables (default) or JSON Lines\n"
		"      --only events|packets|pairs\n"
		"                           with --format json: only that line type (one\n"
		"                           table each, docs/clickhouse.sql)\n"
		"      --events             the raw event list, one line per hit\n"
		"      --stats              the summary only\n"
		"      --why                only the verdicts (drops, requests without reply):\n"
		"                           grouped by cause and place, with counts\n"
		"      --topology           the recorded namespaces, interfaces and links\n"
		"      --graph FILE.svg|FILE.dot\n"
		"                           draw the first pair's path across namespaces\n"
		"                           (Graphviz; or the first packet's without a pair)\n"
		"  -n, --numeric            namespace inodes, not names\n"
		"      --host NAME=FILE     FILE was recorded on host NAME (repeatable; default:\n"
		"                           the host name in the file, else the first file's);\n"
		"                           files of several hosts merge into one path per\n"
		"                           packet, clocks corrected (a first pass estimates\n"
		"                           each host's offset: summary clock_offsets)\n"
		"  -q, --quiet              no warnings, no summary in text output\n"
		"Selection and export:\n"
		"  -Y, --filter EXPR        analyze only hits matching a pcap-filter expression\n"
		"      --write OUT          export the selected hits as pcapng (\"-\": stdout)\n"
		"      --compress none|zstd|zstd:N\n"
		"                           compression of --write (default: zstd if OUT ends\n"
		"                           in .zst, else none)\n"
		"      --anonymize          rewrite IP and MAC addresses (prefix-preserving),\n"
		"                           drop payloads, skb addresses and host names in\n"
		"                           all output: the --write file and the report\n"
		"      --anonymize-key FILE the key (32 bytes, or 64 hex digits) for a mapping\n"
		"                           that is the same on every run (default: random)\n"
		"Tuning:\n"
		"      --window SECONDS     a packet idle this long is complete (default 2)\n"
		"      --pair-window SECONDS\n"
		"                           how long a request waits for its reply (default 3)\n"
		"      --threads N          at most N threads: the analysis, and a reader per\n"
		"                           input file ahead of it (default: one per file, when\n"
		"                           more than one CPU is online); 1: one thread\n"
		"  -h, --help               this help\n"
		"      --version            print the version\n"
		"\n"
		"Exit status: 0 success (also with a truncated file), 1 unreadable, corrupt\n"
		"input or I/O error, 2 usage error.\n");
}

/* ------------------------------------------------------------ interfaces */

static uint64_t iface_slot_hash(uint32_t source, uint32_t section, uint32_t if_id)
{
	return ht_hash_add(ht_hash_add(ht_hash64(source), section), if_id);
}

static struct iface_slot *iface_slot(struct app *a, uint32_t source, uint32_t section,
				     uint32_t if_id)
{
	uint64_t h = iface_slot_hash(source, section, if_id);

	for (struct ht_node *n = ht_find_first(&a->ifaces, h); n; n = ht_find_next(n)) {
		struct iface_slot *s = ht_entry(n, struct iface_slot, node);

		if (s->source == source && s->section == section && s->if_id == if_id)
			return s;
	}
	struct iface_slot *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->source = source;
	s->section = section;
	s->if_id = if_id;
	ht_insert(&a->ifaces, &s->node, h);
	return s;
}

static void iface_slot_add_lost(struct ht_node *n, void *ctx)
{
	const struct iface_slot *s = ht_entry(n, struct iface_slot, node);

	*(uint64_t *)ctx += s->ifdrop + s->osdrop;
}

static void iface_slot_free(struct ht_node *n, void *ctx)
{
	(void)ctx;
	free(ht_entry(n, struct iface_slot, node));
}

/* ------------------------------------------------------------ filter */

static struct filter *filter_for(struct app *a, uint32_t linktype)
{
	uint64_t h = ht_hash64(linktype);
	char err[512];

	for (struct ht_node *n = ht_find_first(&a->filters, h); n; n = ht_find_next(n)) {
		struct filter *flt = ht_entry(n, struct filter, node);

		if (flt->linktype == linktype)
			return flt;
	}
	struct filter *flt = calloc(1, sizeof(*flt));

	if (!flt)
		return NULL;
	flt->linktype = linktype;
	if (cli_filter_compile(&flt->f, a->filter_expr, linktype, 262144, err, sizeof(err)) < 0)
		warnx_(a, "filter: %s (link type %u): hits on it are left out", err, linktype);
	ht_insert(&a->filters, &flt->node, h);
	return flt;
}

static void filter_free(struct ht_node *n, void *ctx)
{
	struct filter *flt = ht_entry(n, struct filter, node);

	(void)ctx;
	cli_filter_free(flt->f);
	free(flt);
}

static int filter_match(struct app *a, const struct event *ev)
{
	if (!a->filter_expr)
		return 1;
	struct filter *flt = filter_for(a, ev->linktype);

	return flt && flt->f && cli_filter_match(flt->f, ev->data, ev->caplen, ev->origlen);
}

/* ------------------------------------------------------------ reading */

/* Copy a string, cut to fit (foreign names may be longer than ours). */
static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* What the decoder made of the hop, where the printers and the flow look for it. */
static void event_meta(struct event *ev)
{
	ev->ours = ev->c->ours;
	ev->has_netns = ev->c->has_netns;
	ev->has_track = ev->c->has_track;
	ev->track = ev->c->track;
}

static void anon_description(struct app *a, const char *in, char *out, size_t cap);

/*
 * An event block (an event with no packet) as an event with no frame: 0
 * when it is one of ours, -1 when its text is not an event's (skipped).
 */
static int event_from_event_block(struct app *a, struct input *in, struct event *ev,
				  struct reader_item *it)
{
	if (!it->event_ok)
		return -1;
	ev->c = &it->c;
	ev->is_cause_event = 1;
	ev->source = in->index;
	ev->file = in->path;
	ev->offset = it->offset;
	/* on the first file's host's clock, as a packet's hit */
	ev->ts_ns = hosts_correct(a->hosts, in->index, it->c.ts_ns);
	ev->section = it->section;
	ev->if_id = 0;
	ev->linktype = 0;
	ev->snaplen = 0;
	ev->caplen = ev->origlen = 0;
	ev->data = NULL;
	ev->has_flags = 0;
	ev->flags = 0;
	ev->dir = PCAPNG_DIR_UNKNOWN;
	ev->has_packetid = 0;
	ev->packetid = 0;
	ev->has_dropcount = 0;
	ev->dropcount = 0;
	ev->has_comment = 1;
	ev->comment = reader_text(in->rd, it->comment);
	ev->if_rawname = "";
	ev->if_description = "";
	memset(&it->pi, 0, sizeof(it->pi));
	ev->pi = &it->pi;
	/* its keys are its summary */
	copy_str(ev->summary, sizeof(ev->summary), ev->c->extra);
	ev->has_summary = 1;
	event_meta(ev);
	return 0;
}

static void event_from_record(struct app *a, struct input *in, struct event *ev,
			      struct reader_item *it)
{
	/* Every field is set here or by event_meta and event_dissect: no memset of 2 KB a hit. */
	ev->c = &it->c; /* decoded by the reader */
	ev->is_cause_event = 0;
	ev->source = in->index;
	ev->file = in->path;
	ev->offset = it->offset;
	/* on the first file's host's clock (SPB: no timestamp) */
	ev->ts_ns = it->has_ts ? hosts_correct(a->hosts, in->index, ev->c->ts_ns) : in->last_ts;
	in->last_ts = ev->ts_ns;
	ev->section = it->section;
	ev->if_id = it->if_id;
	ev->linktype = it->linktype;
	ev->snaplen = it->snaplen;
	ev->if_rawname = it->if_name;
	ev->if_description = it->if_description;
	/* names the file gives its namespaces; out of memory: inodes are shown */
	if (a->names && it->has_itf && first_on_iface(in, it->section, it->if_id)) {
		if (!a->anon) {
			(void)nsnames_note(a->names, in->index, it->if_name, it->if_description);
		} else {
			char d[READER_IF_DESCRIPTION_LEN];

			anon_description(a, it->if_description, d,
					 sizeof(d)); /* nsK, never names */
			(void)nsnames_note(a->names, in->index, it->if_name, d);
		}
	}
	ev->caplen = it->caplen;
	ev->origlen = it->origlen;
	ev->data = reader_bytes(in->rd, it->data);
	ev->has_flags = it->has_flags;
	ev->flags = it->flags;
	ev->dir = ev->c->dir;
	ev->has_packetid = it->has_packetid;
	ev->packetid = it->packetid;
	ev->has_dropcount = it->has_dropcount;
	ev->dropcount = it->dropcount;
	ev->has_comment = it->has_comment;
	/* not kept (reader_open's comments) when nothing reads it again */
	ev->comment = it->comment != SIZE_MAX ? reader_text(in->rd, it->comment) : "";
	ev->has_summary = 0;
	event_meta(ev);
}

/*
 * Dissect the snapshot (after the filter, and after --anonymize rewrote it).
 * The summary only where a line per hit shows it: packet tracking makes its
 * own for the hops that need one.
 */
static void event_dissect(struct app *a, struct event *ev, struct reader_item *it)
{
	int rc;

	ev->has_summary = 0;
	ev->pi = &it->pi;
	/* the reader's, on the same bytes, unless --anonymize rewrote them since */
	if (it->dissected && !a->anon)
		rc = it->dissect_rc;
	else
		rc = pkt_dissect(ev->data, ev->caplen, ev->linktype, ev->pi);
	if (rc == 0) {
		if (a->out.mode == MODE_EVENTS ||
		    (a->out.mode == MODE_PAIRS && a->out.format == FMT_JSON)) {
			pkt_summary(ev->pi, ev->summary, sizeof(ev->summary));
			ev->has_summary = 1;
		}
	} else {
		snprintf(ev->summary, sizeof(ev->summary), "link type %u", ev->linktype);
		ev->has_summary = 1;
	}
}

/* ------------------------------------------------------------ anonymize */

/*
 * if_description for the anonymized export. pkt-record's "netns N ifindex N
 * host NAME" keeps its netns and ifindex, the host name becomes anon1, anon2...
 * (in order of appearance: hosts stay apart when files of several hosts are
 * merged). Any other description is free text from another writer and may
 * hold anything: out is "" (dropped).
 */
/* The pseudonym number of a host name or a namespace (key), 1-based per kind, stable in a run. */
static size_t anon_number(struct app *a, const char *key, size_t *counter)
{
	uint64_t h = ht_hash_str(0, key);
	size_t len = strlen(key);
	struct anon_host *ah;

	for (struct ht_node *n = ht_find_first(&a->anon_hosts, h); n; n = ht_find_next(n))
		if (!strcmp(ht_entry(n, struct anon_host, node)->name, key))
			return ht_entry(n, struct anon_host, node)->n;
	ah = malloc(sizeof(*ah) + len + 1);
	if (!ah)
		return 0;
	memcpy(ah->name, key, len + 1);
	ah->n = ++*counter;
	ht_insert(&a->anon_hosts, &ah->node, h);
	return ah->n;
}

static void anon_description(struct app *a, const char *in, char *out, size_t cap)
{
	uint64_t netns;
	uint32_t ifindex;
	const char *host;
	char pseudonym[32], key[300], attrs[384];
	struct trace_if_attrs at;

	out[0] = '\0';
	if (trace_if_description_parse(in, &netns, &ifindex, &host) < 0)
		return;
	snprintf(key, sizeof(key), "host:%s", host);
	snprintf(pseudonym, sizeof(pseudonym), "anon%zu", anon_number(a, key, &a->anon_host_count));
	/* names are host data: a namespace's becomes nsK; its kind and the links stay */
	trace_if_attrs_parse(in, &at);
	if (at.netns_name[0]) {
		snprintf(key, sizeof(key), "netns:%s:%" PRIu64, pseudonym, netns);
		snprintf(at.netns_name, sizeof(at.netns_name), "ns%zu",
			 anon_number(a, key, &a->anon_netns_count));
	}
	if (trace_if_attrs_format(attrs, sizeof(attrs), &at) < 0)
		attrs[0] = '\0';
	if (trace_if_description(out, cap, netns, ifindex, pseudonym, attrs) < 0)
		out[0] = '\0';
}

/*
 * --anonymize one hit, after the filter saw the original: rewrite the
 * snapshot (payload dropped, caplen shrinks, the original length stays), the
 * comment (skb pseudonym; a comment not in our grammar is dropped), and what
 * was derived from the comment. Returns -1 when the hit must be left out: a
 * link type the anonymizer cannot vet.
 */
static int event_anonymize(struct app *a, struct event *ev)
{
	uint32_t caplen = 0;

	if (pkt_anon_packet(a->anon, ev->data, ev->caplen, ev->linktype, &caplen) < 0) {
		if (!a->anon_unvetted++)
			a->anon_unvetted_linktype = ev->linktype;
		else if (ev->linktype != a->anon_unvetted_linktype)
			a->anon_unvetted_more = 1;
		return -1;
	}
	ev->caplen = caplen;
	if (ev->has_comment) {
		if (pkt_anon_comment_export(a->anon, ev->comment, ev->anon_comment,
					    sizeof(ev->anon_comment)) == 0) {
			ev->comment = ev->anon_comment;
		} else {
			ev->has_comment = 0;
			ev->comment = "";
		}
		struct trace_hop *h = &ev->anon_hop;

		h->has_packetid = ev->has_packetid;
		h->packetid = ev->packetid;
		trace_hop_identify(h, ev->has_comment ? ev->comment : NULL, ev->if_rawname,
				   ev->if_id);
		reader_hop_keys(ev->c, h);
		event_meta(ev);
	}
	return 0;
}

static void free_anon_host(struct ht_node *n, void *ctx)
{
	(void)ctx;
	free(ht_entry(n, struct anon_host, node));
}

/* --anonymize-key FILE: exactly 32 bytes, or 64 hex digits (blanks around them ignored). */
static int load_anon_key(const char *path, uint8_t key[PKT_ANON_KEY_LEN], char *err, size_t errlen)
{
	uint8_t buf[2 * PKT_ANON_KEY_LEN + 64];
	size_t n = 0, b = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (n < sizeof(buf)) {
		ssize_t r = read(fd, buf + n, sizeof(buf) - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n == PKT_ANON_KEY_LEN) {
		memcpy(key, buf, PKT_ANON_KEY_LEN);
		rc = 0;
		goto out;
	}
	while (n > b && isspace(buf[n - 1]))
		n--;
	while (b < n && isspace(buf[b]))
		b++;
	if (n - b == 2 * PKT_ANON_KEY_LEN) {
		rc = 0;
		for (size_t i = 0; i < PKT_ANON_KEY_LEN && !rc; i++) {
			char hex[3] = {(char)buf[b + 2 * i], (char)buf[b + 2 * i + 1], '\0'};

			if (!isxdigit((unsigned char)hex[0]) || !isxdigit((unsigned char)hex[1]))
				rc = -1;
			else
				key[i] = (uint8_t)strtoul(hex, NULL, 16);
		}
	}
	if (rc)
		snprintf(err, errlen, "%s: not a key (32 bytes, or 64 hex digits)", path);
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

/* Read until the next selected hit of this input; returns 1 when one is ready. */
static int input_fill(struct app *a, struct input *in)
{
	while (!in->done) {
		struct reader_item *it = reader_next(in->rd);
		const char *text = reader_text(in->rd, it->text);

		switch (it->kind) {
		case READER_PACKET:
			event_from_record(a, in, &in->ev, it);
			/* -Y sees the original: filters name the real addresses. */
			if (!filter_match(a, &in->ev)) {
				a->tot.filtered++;
				continue;
			}
			if (a->anon && event_anonymize(a, &in->ev) < 0)
				continue;
			event_dissect(a, &in->ev, it);
			in->has_ev = 1;
			return 1;
		case READER_EVENT:
			/*
			 * No packet for -Y to match: kept whatever the filter.
			 * Left out of an anonymized export: its addresses are
			 * text the anonymizer does not rewrite.
			 */
			if (a->anon || event_from_event_block(a, in, &in->ev, it) < 0)
				continue;
			in->has_ev = 1;
			return 1;
		case READER_SECTION:
			hosts_section(a->hosts, in->index, text);
			continue;
		case READER_STATS: {
			/* ISB counters are totals since the start: keep the last. */
			struct iface_slot *s = iface_slot(a, in->index, it->section, it->if_id);

			if (s && it->has_ifdrop)
				s->ifdrop = it->ifdrop;
			if (s && it->has_osdrop)
				s->osdrop = it->osdrop;
			continue;
		}
		case READER_CORRUPT:
			errorx(a, "%s: %s", in->path, text ? text : "out of memory");
			continue;
		case READER_RESYNCED:
			warnx_(a,
			       "%s: skipped %" PRIu64
			       " bytes of corrupt data, resumed at offset %" PRIu64,
			       in->path, it->skipped, it->offset);
			continue;
		case READER_RESYNC_NONE:
			warnx_(a,
			       "%s: no valid block after offset %" PRIu64 ", %" PRIu64
			       " bytes skipped",
			       in->path, it->offset, it->skipped);
			break;
		case READER_TRUNCATED:
			warnx_(a, "%s: %s (analyzed up to the cut)", in->path,
			       text ? text : "truncated");
			break;
		case READER_ERROR:
			errorx(a, "%s: %s", in->path, text ? text : "out of memory");
			break;
		case READER_OUT_OF_MEMORY:
			errorx(a, "%s: out of memory", in->path);
			break;
		case READER_END:
			break;
		}
		in->done = 1; /* the input's last item */
	}
	in->has_ev = 0;
	return 0;
}

/* ------------------------------------------------------------ export */

static int writer_open(struct app *a)
{
	char err[256];
	int level = a->compress_level;
	size_t n = strlen(a->write_path);
	int fd;

	if (level < 0)
		level =
		    n > 4 && !strcmp(a->write_path + n - 4, ".zst") ? CLI_ZSTD_LEVEL_DEFAULT : 0;
	if (!strcmp(a->write_path, "-"))
		fd = STDOUT_FILENO;
	else
		fd = open(a->write_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		errorx(a, "%s: %s", a->write_path, strerror(errno));
		return -1;
	}
	if (zout_open_fd(&a->wout, fd, level, fd == STDOUT_FILENO ? ZOUT_KEEP_FD : 0, err,
			 sizeof(err)) < 0) {
		errorx(a, "%s: %s", a->write_path, err);
		if (fd != STDOUT_FILENO)
			close(fd);
		return -1;
	}
	/* Our own SHB, not the input's: the recording host's name never gets here. */
	struct trace_section sec = {
	    .app = "pkt-analyze",
	    .comment = a->anon ? "exported by pkt-analyze --write --anonymize: addresses "
				 "rewritten, payloads dropped"
			       : "exported by pkt-analyze --write",
	};

	if (trace_writer_open(&a->writer, a->wout, &sec, err, sizeof(err)) < 0) {
		errorx(a, "%s: %s", a->write_path, err);
		zout_close(a->wout, NULL, 0);
		a->wout = NULL;
		return -1;
	}
	return 0;
}

static void write_event(struct app *a, const struct event *ev)
{
	if (!a->writer || a->write_failed)
		return;
	if (ev->is_cause_event) {
		if (trace_writer_event(a->writer, ev->c->event) < 0)
			goto fail;
		return;
	}
	struct iface_slot *s = iface_slot(a, ev->source, ev->section, ev->if_id);

	if (!s)
		return;
	if (!s->out) {
		/* Interface names (netns inodes) are kept, also with --anonymize. */
		char desc[READER_IF_DESCRIPTION_LEN];

		if (a->anon)
			anon_description(a, ev->if_description, desc, sizeof(desc));
		else
			copy_str(desc, sizeof(desc), ev->if_description);
		struct pcapng_idb_info idb = {
		    .linktype = (uint16_t)ev->linktype,
		    .snaplen = ev->snaplen,
		    .name = ev->if_rawname[0] ? ev->if_rawname : NULL,
		    .description = desc[0] ? desc : NULL,
		    .tsresol = 9,
		};

		if (trace_writer_iface(a->writer, &idb, &s->out) < 0)
			goto fail;
	}
	struct pcapng_epb_info epb = {
	    .ts = ev->ts_ns,
	    .data = ev->data,
	    .caplen = ev->caplen,
	    .origlen = ev->origlen,
	    .comment = ev->has_comment ? ev->comment : NULL,
	    .has_flags = ev->has_flags,
	    .flags = ev->flags,
	    .has_packetid = ev->has_packetid,
	    .packetid = ev->packetid,
	    .has_dropcount = ev->has_dropcount,
	    .dropcount = ev->dropcount,
	};

	if (trace_writer_packet(a->writer, s->out, &epb) < 0)
		goto fail;
	return;
fail:
	errorx(a, "%s: %s", a->write_path, trace_writer_error(a->writer));
	a->write_failed = 1;
}

/* The recorder's loss counters go with the interface's IDB in the export. */
static void iface_slot_carry_lost(struct ht_node *n, void *ctx)
{
	struct iface_slot *s = ht_entry(n, struct iface_slot, node);

	(void)ctx;
	if (s->out) {
		s->out->ifdrop = s->ifdrop;
		s->out->osdrop = s->osdrop;
	}
}

static void writer_close(struct app *a)
{
	char err[256] = "";

	if (!a->wout)
		return;
	/* Carry the recorder's loss counters over, so --stats on the export still says lost. */
	if (a->writer && !a->write_failed) {
		struct trace_isb_opts isb = {.ts_ns = a->tot.last_ts};

		ht_for_each(&a->ifaces, iface_slot_carry_lost, NULL);
		if (trace_writer_stats(a->writer, &isb) < 0)
			errorx(a, "%s: %s", a->write_path, trace_writer_error(a->writer));
	}
	trace_writer_free(a->writer);
	a->writer = NULL;
	if (zout_close(a->wout, err, sizeof(err)) < 0)
		errorx(a, "%s: %s", a->write_path, err[0] ? err : "write failed");
	a->wout = NULL;
}

/* ------------------------------------------------------------ flow callbacks */

/* head=0x... among the comment's optional pairs (docs/format.md): 1 if found. */
static void cb_packet(const struct flow_packet *p, void *ctx)
{
	out_packet(&((struct app *)ctx)->out, p);
}

static void cb_pair(const struct flow_pair *pr, void *ctx)
{
	out_pair(&((struct app *)ctx)->out, pr);
}

static void cb_unanswered(const struct flow_packet *req, const char *kind, void *ctx)
{
	out_unanswered(&((struct app *)ctx)->out, req, kind);
}

static void cb_release(const struct flow_packet *p, void *ctx)
{
	out_release(&((struct app *)ctx)->out, p);
}

/* ------------------------------------------------------------ main */

/*
 * A reader ahead of the analysis per input, on threads of their own up to
 * --threads (the analysis is one of them); with one CPU online a thread
 * would only take turns with the analysis. The same items either way.
 */
static void start_readers(struct app *a, struct input *inputs, int ninputs)
{
	long threads = a->threads;

	if (!threads)
		threads = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? (long)ninputs + 1 : 1;
	for (int i = 0; i < ninputs; i++) {
		struct input *in = &inputs[i];
		bool threaded = threads > 1;
		bool dissect = !a->anon; /* --anonymize rewrites the bytes before dissecting */
		/* a comment's text is read again only to rewrite or export it */
		bool comments = a->anon || a->write_path;

		if (in->done)
			continue;
		if (reader_open(&in->rd, in->r, threaded, dissect, comments) < 0 &&
		    (!threaded || reader_open(&in->rd, in->r, false, dissect, comments) < 0)) {
			errorx(a, "%s: out of memory", in->path);
			in->done = 1;
			continue;
		}
		threads -= threaded;
	}
}

static int parse_seconds(const char *s, uint64_t *ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 86400.0 * 365)
		return -1;
	*ns = (uint64_t)(v * 1e9);
	return 0;
}

enum {
	OPT_FORMAT = 256,
	OPT_STATS,
	OPT_EVENTS,
	OPT_WRITE,
	OPT_COMPRESS,
	OPT_VERSION,
	OPT_WINDOW,
	OPT_PAIR_WINDOW,
	OPT_ANONYMIZE,
	OPT_ANONYMIZE_KEY,
	OPT_ONLY,
	OPT_TOPOLOGY,
	OPT_GRAPH,
	OPT_HOST,
	OPT_WHY,
	OPT_THREADS,
};

static int bad_usage(const char *fmt, const char *arg)
{
	fputs("pkt-analyze: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nTry 'pkt-analyze --help'.\n", stderr);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, OPT_FORMAT},
	    {"only", required_argument, NULL, OPT_ONLY},
	    {"numeric", no_argument, NULL, 'n'},
	    {"topology", no_argument, NULL, OPT_TOPOLOGY},
	    {"graph", required_argument, NULL, OPT_GRAPH},
	    {"host", required_argument, NULL, OPT_HOST},
	    {"stats", no_argument, NULL, OPT_STATS},
	    {"why", no_argument, NULL, OPT_WHY},
	    {"events", no_argument, NULL, OPT_EVENTS},
	    {"filter", required_argument, NULL, 'Y'},
	    {"write", required_argument, NULL, OPT_WRITE},
	    {"compress", required_argument, NULL, OPT_COMPRESS},
	    {"window", required_argument, NULL, OPT_WINDOW},
	    {"pair-window", required_argument, NULL, OPT_PAIR_WINDOW},
	    {"threads", required_argument, NULL, OPT_THREADS},
	    {"anonymize", no_argument, NULL, OPT_ANONYMIZE},
	    {"anonymize-key", required_argument, NULL, OPT_ANONYMIZE_KEY},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {NULL, 0, NULL, 0},
	};
	struct app a;
	int c;

	memset(&a, 0, sizeof(a));
	a.out.f = stdout;
	a.out.format = FMT_TEXT;
	a.out.mode = MODE_PAIRS;
	a.compress_level = -1;
	a.hosts = hosts_new();
	a.out.hosts = a.hosts;
	if (ht_init(&a.ifaces, 0) < 0 || ht_init(&a.filters, 0) < 0 ||
	    ht_init(&a.anon_hosts, 0) < 0 || !a.hosts) {
		fputs("pkt-analyze: out of memory\n", stderr);
		return 1;
	}
	while ((c = getopt_long(argc, argv, "Y:qhn", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			a.out.numeric = 1;
			break;
		case OPT_TOPOLOGY:
			a.topology = 1;
			break;
		case OPT_GRAPH:
			a.out.graph_path = optarg;
			break;
		case OPT_HOST: {
			char msg[300];

			if (hosts_option(a.hosts, optarg, msg, sizeof(msg)) < 0)
				return bad_usage("%s", msg);
			break;
		}
		case OPT_FORMAT:
			if (!strcmp(optarg, "text"))
				a.out.format = FMT_TEXT;
			else if (!strcmp(optarg, "json"))
				a.out.format = FMT_JSON;
			else
				return bad_usage("--format: '%s' is not text or json", optarg);
			break;
		case OPT_ONLY:
			if (!strcmp(optarg, "events"))
				a.out.only = ONLY_EVENTS;
			else if (!strcmp(optarg, "packets"))
				a.out.only = ONLY_PACKETS;
			else if (!strcmp(optarg, "pairs"))
				a.out.only = ONLY_PAIRS;
			else
				return bad_usage("--only: '%s' is not events, packets or pairs",
						 optarg);
			break;
		case OPT_STATS:
			a.out.mode = MODE_STATS;
			break;
		case OPT_EVENTS:
			a.out.mode = MODE_EVENTS;
			break;
		case OPT_WHY:
			a.out.mode = MODE_WHY;
			break;
		case 'Y':
			a.filter_expr = optarg;
			break;
		case OPT_WRITE:
			a.write_path = optarg;
			break;
		case OPT_COMPRESS: {
			char msg[160];

			if (cli_parse_compress(optarg, &a.compress_level, msg, sizeof(msg)) < 0)
				return bad_usage("%s", msg);
			break;
		}
		case OPT_WINDOW:
			if (parse_seconds(optarg, &a.packet_window_ns))
				return bad_usage(
				    "--window: '%s' is not a positive number of seconds", optarg);
			break;
		case OPT_PAIR_WINDOW:
			if (parse_seconds(optarg, &a.pair_window_ns))
				return bad_usage(
				    "--pair-window: '%s' is not a positive number of seconds",
				    optarg);
			break;
		case OPT_THREADS: {
			char *end;

			errno = 0;
			a.threads = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || a.threads < 1 || a.threads > 1024)
				return bad_usage("--threads: '%s' is not a number from 1 to 1024",
						 optarg);
			break;
		}
		case OPT_ANONYMIZE:
			a.anonymize = 1;
			break;
		case OPT_ANONYMIZE_KEY:
			a.anon_key_path = optarg;
			break;
		case 'q':
			a.quiet = 1;
			a.out.quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("pkt-analyze %s\n", PKT_VERSION);
			return 0;
		default:
			fputs("Try 'pkt-analyze --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return bad_usage("%s", "no input file");
	if (a.compress_level >= 0 && !a.write_path)
		return bad_usage("%s", "--compress applies to --write");
	if (a.anon_key_path && !a.anonymize)
		return bad_usage("%s", "--anonymize-key applies to --anonymize");
	if (a.out.only != ONLY_ALL && a.out.format != FMT_JSON)
		return bad_usage("%s", "--only applies to --format json");
	if (a.out.only != ONLY_ALL && a.out.mode != MODE_PAIRS)
		return bad_usage("%s", "--only cannot go with --stats, --events or --why");
	if (a.filter_expr) {
		/* Check the expression once, on Ethernet, before reading anything. */
		struct cli_filter *f;
		char err[512];

		if (cli_filter_compile(&f, a.filter_expr, PCAPNG_LINKTYPE_ETHERNET, 262144, err,
				       sizeof(err)) < 0) {
			fprintf(stderr, "pkt-analyze: -Y: %s\n", err);
			return EXIT_USAGE;
		}
		cli_filter_free(f);
	}
	if (a.anonymize) {
		uint8_t key[PKT_ANON_KEY_LEN];
		char err[512];
		int rc;

		if (a.anon_key_path && load_anon_key(a.anon_key_path, key, err, sizeof(err))) {
			explicit_bzero(key, sizeof(key));
			return bad_usage("--anonymize-key: %s", err);
		}
		rc = pkt_anon_new(&a.anon, a.anon_key_path ? key : NULL);
		explicit_bzero(key, sizeof(key));
		if (rc < 0) {
			errorx(&a, "--anonymize: no key: %s", strerror(-rc));
			return 1;
		}
	}
	if (a.write_path && !strcmp(a.write_path, "-"))
		a.out.mode = MODE_NONE; /* stdout carries the pcapng */
	a.out.color = a.out.format == FMT_TEXT && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");

	int ninputs = argc - optind, stdin_used = 0;
	struct input *inputs = calloc((size_t)ninputs, sizeof(*inputs));

	if (!inputs) {
		errorx(&a, "out of memory");
		return 1;
	}
	for (int i = 0; i < ninputs; i++) {
		struct input *in = &inputs[i];
		char err[PCAPNG_ERRLEN];

		in->path = argv[optind + i];
		in->index = (uint32_t)i;
		if (!strcmp(in->path, "-") && stdin_used++) {
			errorx(&a, "-: standard input can be read only once");
			in->done = 1;
			continue;
		}
		if (pcapng_reader_open_path(&in->r, in->path, err, sizeof(err)) < 0) {
			errorx(&a, "%s", err); /* the message names the path already */
			in->r = NULL;
			in->done = 1;
			continue;
		}
		a.tot.files++;
	}
	{
		char msg[300];
		int rc = hosts_prepare(a.hosts, (const char *const *)argv + optind,
				       (uint32_t)ninputs, msg, sizeof(msg));

		if (rc == -EINVAL)
			return bad_usage("%s", msg);
		if (rc < 0) {
			errorx(&a, "%s", msg);
			return 1;
		}
		if (hosts_note(a.hosts)[0])
			warnx_(&a, "%s", hosts_note(a.hosts));
		/* host names are host data: anonK, the same pseudonyms as in the export's IDBs */
		for (size_t i = 0; a.anon && i < hosts_count(a.hosts); i++) {
			char key[300], pseudonym[32];

			snprintf(key, sizeof(key), "host:%s", hosts_clock(a.hosts, i)->name);
			snprintf(pseudonym, sizeof(pseudonym), "anon%zu",
				 anon_number(&a, key, &a.anon_host_count));
			if (hosts_rename(a.hosts, i, pseudonym) < 0) {
				errorx(&a, "out of memory");
				return 1;
			}
		}
	}
	if (a.write_path && writer_open(&a) < 0) {
		for (int i = 0; i < ninputs; i++)
			pcapng_reader_close(inputs[i].r);
		free(inputs);
		return 1;
	}

	struct flow_config cfg = {
	    .packet_window_ns = a.packet_window_ns,
	    .pair_window_ns = a.pair_window_ns,
	    .no_summaries = a.out.mode == MODE_STATS && !a.out.graph_path,
	};
	struct flow_callbacks cb = {
	    .packet = cb_packet,
	    .pair = cb_pair,
	    .unanswered = cb_unanswered,
	    .release = cb_release,
	    .ctx = &a,
	};

	if (a.topology) {
		a.topo = topology_new();
		if (!a.topo) {
			fputs("pkt-analyze: out of memory\n", stderr);
			return 1;
		}
		a.out.mode = MODE_NONE; /* the topology instead of pairs */
	}
	a.names = nsnames_new(a.topo);
	a.out.names = a.names; /* NULL (out of memory): inodes are shown */
	/* as long as a packet and its reply wait: what a verdict may look back on */
	a.causes = causes_new((a.packet_window_ns ? a.packet_window_ns : 2000000000ULL) +
				  (a.pair_window_ns ? a.pair_window_ns : 3000000000ULL),
			      65536);
	if (!a.causes) {
		fputs("pkt-analyze: out of memory\n", stderr);
		return 1;
	}
	cfg.causes = a.causes;
	a.flow = flow_new(&cfg, &cb);
	if (!a.flow) {
		errorx(&a, "out of memory");
		return 1;
	}
	if (a.out.mode == MODE_EVENTS)
		out_events_header(&a.out);
	start_readers(&a, inputs, ninputs);
	for (int i = 0; i < ninputs; i++)
		if (!inputs[i].done)
			input_fill(&a, &inputs[i]);

	/* Merge by time: always take the input whose next hit is the oldest. */
	for (;;) {
		struct input *next = NULL;

		for (int i = 0; i < ninputs; i++)
			if (inputs[i].has_ev && (!next || inputs[i].ev.ts_ns < next->ev.ts_ns))
				next = &inputs[i];
		if (!next)
			break;
		struct event *ev = &next->ev;
		struct flow_event fe = {
		    .ts_ns = ev->ts_ns,
		    .source = ev->source,
		    .has_track = ev->has_track,
		    .track = ev->track,
		    .has_skb = ev->ours,
		    .skb = ev->c->skb,
		    .hook = ev->ours ? ev->c->hook : "",
		    .has_netns = ev->has_netns,
		    .netns = ev->c->netns,
		    .ifname = ev->c->ifname,
		    .dir = ev->dir,
		    .drop = ev->c->drop,
		    .loc = ev->c->loc,
		    .pid = ev->ours ? ev->c->pid : 0,
		    .comm = ev->ours ? ev->c->comm : "",
		    .len = ev->origlen,
		    .pi = ev->pi,
		    .summary = ev->has_summary ? ev->summary : NULL,
		    .extra = ev->ours ? ev->c->extra : NULL,
		    /* the reader's names, or literals ("") where they are not shown */
		    .names_stable = ev->c->names_stable,
		};
		uint64_t packet_id = 0;
		uint64_t event_no = a.tot.events;

		fe.has_head = ev->ours && ev->c->has_head;
		fe.head = ev->c->head;

		if (!a.tot.have_ts) {
			a.tot.first_ts = a.tot.last_ts = ev->ts_ns;
			a.tot.have_ts = 1;
		}
		if (ev->ts_ns < a.tot.first_ts)
			a.tot.first_ts = ev->ts_ns;
		if (ev->ts_ns > a.tot.last_ts)
			a.tot.last_ts = ev->ts_ns;
		if (ev->is_cause_event) {
			/* no packet: kept by time for the verdicts, never a hop */
			if (causes_add(a.causes, ev->source, ev->c->event) == -ENOMEM) {
				errorx(&a, "out of memory");
				break;
			}
			write_event(&a, ev);
			out_event(&a.out, ev, a.tot.cause_events++, 0);
			for (struct cause e; causes_take_failure(a.causes, false, &e);)
				out_why_route(&a.out, &e);
			input_fill(&a, next);
			continue;
		}
		a.tot.events++;
		write_event(&a, ev);
		if (a.out.mode == MODE_EVENTS && a.out.format == FMT_TEXT) {
			/* The plain event list needs no packet tracking. */
			out_event(&a.out, ev, event_no, 0);
		} else {
			if (flow_add_event(a.flow, &fe, &packet_id) < 0) {
				errorx(&a, "out of memory");
				break;
			}
			out_event(&a.out, ev, event_no, packet_id);
		}
		input_fill(&a, next);
	}
	flow_finish(a.flow);
	for (struct cause e; causes_take_failure(a.causes, true, &e);)
		out_why_route(&a.out, &e);
	if (a.anon_unvetted)
		warnx_(&a,
		       "--anonymize: %" PRIu64 " hit%s left out: the anonymizer cannot vet "
		       "link type %u%s",
		       a.anon_unvetted, a.anon_unvetted == 1 ? "" : "s", a.anon_unvetted_linktype,
		       a.anon_unvetted_more ? " and others" : "");
	ht_for_each(&a.ifaces, iface_slot_add_lost, &a.tot.lost);
	out_summary(&a.out, &a.tot, flow_stats(a.flow));
	if (a.topo && topology_print(a.topo, stdout, a.out.numeric) < 0)
		errorx(&a, "standard output: %s", strerror(errno));
	if (a.out.graph_path && !a.out.graph_done && !a.out.graph_error)
		errorx(&a, "--graph %s: no packet with a path to draw", a.out.graph_path);
	if (a.out.graph_error)
		a.exit_code = 1;
	if (a.out.why_error)
		errorx(&a, "%s", "--why: out of memory");
	writer_close(&a);
	if (fflush(stdout) != 0 || ferror(stdout))
		errorx(&a, "standard output: %s", strerror(errno));

	flow_free(a.flow);
	causes_free(a.causes);
	for (int i = 0; i < ninputs; i++) {
		reader_close(inputs[i].rd); /* stops its thread first */
		pcapng_reader_close(inputs[i].r);
		free(inputs[i].noted);
	}
	free(inputs);
	ht_for_each(&a.filters, filter_free, NULL);
	ht_destroy(&a.filters);
	ht_for_each(&a.ifaces, iface_slot_free, NULL);
	ht_destroy(&a.ifaces);
	pkt_anon_free(a.anon);
	nsnames_free(a.names);
	topology_free(a.topo);
	hosts_free(a.hosts);
	ht_for_each(&a.anon_hosts, free_anon_host, NULL);
	ht_destroy(&a.anon_hosts);
	return a.exit_code;
}
