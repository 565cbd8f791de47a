/* SPDX-License-Identifier: MIT */
/* pkt-record internals shared by the files in record/. */
#ifndef PKT_RECORD_H
#define PKT_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>
#include "pktrec.h"

/* ---- kernel BTF facts (btfinfo.c) ---- */
int btfinfo_load(char *err, size_t errlen);
/* number of tracepoint arguments (without the ctx pointer), -1 if absent */
int btfinfo_tp_nargs(const char *tp);
bool btfinfo_has_func(const char *fn);
bool btfinfo_has_enum_value(const char *enum_name, const char *value);
/* drop reason name without the SKB_DROP_REASON_ prefix, NULL if unknown */
const char *btfinfo_drop_reason(uint32_t reason);
void btfinfo_free(void);

/* ---- set of tracking ids that matched the filter (trackset.c) ---- */
struct trackset;
struct trackset *trackset_new(void);
bool trackset_has(struct trackset *s, uint64_t id, uint64_t now);
int trackset_add(struct trackset *s, uint64_t id, uint64_t now);
void trackset_del(struct trackset *s, uint64_t id);
size_t trackset_count(const struct trackset *s);
void trackset_free(struct trackset *s);

/* ---- pcap-filter on snapshots (filter.c) ---- */
int filter_compile(const char *expr, uint32_t snaplen, char *err, size_t errlen);
bool filter_match(const uint8_t *pkt, uint32_t caplen, uint32_t origlen);
int filter_export(void *dst, size_t max);
uint64_t filter_verifier_steps(void);
void filter_free(void);

/* ---- live output (live.c) ---- */
void live_header(bool numeric);
/* nsname: the namespace's name (the interface shows as IFNAME@NAME); NULL: its inode */
void live_print(const struct pktrec_event *e, const uint8_t *pkt, uint32_t caplen, uint64_t wall_ns,
		const char *drop, const char *keys, const char *nsname);

/* ---- pcapng output with rotation (output.c) ---- */
struct recout_cfg {
	const char *path; /* "-" for stdout */
	int zstd_level;	  /* 0 = plain */
	bool force;
	uint64_t rotate_bytes; /* 0 = no rotation */
	unsigned rotate_files; /* 0 = unlimited */
	uint32_t snaplen;
	const char *hostname;
	const char *filter; /* the command line's, for the SHB comment (NULL: none) */
	/* names and relations of an interface for its IDB (trace_section.describe) */
	int (*describe)(void *ctx, uint64_t netns, uint32_t ifindex, char *buf, size_t cap);
	void *describe_ctx;
};

struct recout;
int recout_open(struct recout **o, const struct recout_cfg *cfg, uint64_t start_ns, char *err,
		size_t errlen);
struct trace_hop;
/* One hop as an EPB (its IDB first when new), rotating first when the file is full. */
int recout_write(struct recout *o, const struct trace_hop *hop, char *err, size_t errlen);
int recout_flush(struct recout *o, char *err, size_t errlen);
/*
 * -Z: give the current file to uid:gid (regular files only; stdout, FIFOs and
 * devices are left alone). Later files are created by whoever runs then.
 */
int recout_chown(struct recout *o, uid_t uid, gid_t gid);
/* lost: total events lost so far (for the ISBs) */
void recout_set_lost(struct recout *o, uint64_t lost);
/* Writes the ISBs and closes. Frees o. *bytes: total bytes written to all files. */
int recout_close(struct recout *o, uint64_t end_ns, uint64_t *bytes, char *err, size_t errlen);
/*
 * After a write error (disk full): close without writing more and cut the
 * file back to the end of the last successful flush, so it stays readable.
 */
int recout_close_after_error(struct recout *o, uint64_t *bytes);
/* Undo a file created but never written to (setup failed). */
void recout_abort(struct recout *o);
uint64_t recout_bytes_out(const struct recout *o);
unsigned recout_files(const struct recout *o);

#endif
