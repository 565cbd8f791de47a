/* SPDX-License-Identifier: MIT */
/*
 * The reading side of pkt-analyze: what depends only on one input file
 * (decompression, block reading and checking, the comment grammar, the
 * snapshot's dissection) done ahead of the analysis, on a thread of its
 * own per input, in batches handed over through a small bounded queue.
 *
 * Items come out in file order, one per record that matters to the
 * analysis, with every error, resynchronization and end of the file as an
 * item too: the consumer (main.c) does everything that touches shared state
 * (names, hosts, counters, warnings) as it takes them, so the output is the
 * same whichever thread read the file. Without a thread the same batches
 * are filled on the consumer's thread when it needs one.
 */
#ifndef PKT_READER_H
#define PKT_READER_H

#include <stddef.h>
#include <stdint.h>
#include "dissect.h"
#include "pcapng.h"
#include "trace.h"

/* An interface's name and description as items give them: the sizes of pcapng's. */
#define READER_IF_NAME_LEN	  sizeof(((struct pcapng_interface *)0)->name)
#define READER_IF_DESCRIPTION_LEN sizeof(((struct pcapng_interface *)0)->description)

enum reader_kind {
	READER_PACKET,	     /* a packet block: hop, snapshot, comment */
	READER_EVENT,	     /* pkt-record's event block: hop (event_ok: its text was one) */
	READER_SECTION,	     /* a section header: text = its comment, or none */
	READER_STATS,	     /* an ISB: ifdrop, osdrop */
	READER_TRUNCATED,    /* the file ends inside a block: text says where; last item */
	READER_CORRUPT,	     /* a corrupt block: text; resynchronization items follow */
	READER_RESYNCED,     /* after CORRUPT: skipped bytes, resumed at offset */
	READER_RESYNC_NONE,  /* after CORRUPT: no valid block after at; last item */
	READER_ERROR,	     /* I/O error or a corrupt block with no way on: text; last item */
	READER_END,	     /* the end of the file (or of what could be read); last item */
	READER_OUT_OF_MEMORY /* the reader could not go on; last item */
};

/*
 * A hop as items carry it to the analysis: struct trace_hop's numbers, and
 * its strings as pointers ("" when absent) to copies that live as long as
 * the item. trace_hop's fixed arrays are 560 of its 640 bytes, mostly empty
 * (drop, loc, extra), and every byte of an item is written on the reader's
 * CPU and read on the analysis's.
 */
struct reader_hop {
	const char *hook, *ifname, *comm, *drop, *loc, *extra;
	uint64_t netns, skb, track, head;
	uint32_t ifindex, cpu, pid;
	uint16_t proto;
	uint8_t dir;
	bool l2_synth, has_head, has_proto, is_event;
	bool ours, has_netns, has_track;
	/*
	 * hook, ifname, comm, drop and loc are the reader's own copies, the
	 * same address for the same string until reader_close: the analysis
	 * may know them by their address (flow_event.names_stable).
	 */
	bool names_stable;
	uint64_t ts_ns;
	/* EVENT with event_ok: the whole hop (the causes and --write take it) */
	const struct trace_hop *event;
};

/*
 * The comment keys of h, and what trace_hop_identify() says of them, into
 * v: its strings point into h (v is valid as long as h is; not names_stable).
 */
void reader_hop_keys(struct reader_hop *v, const struct trace_hop *h);

/*
 * One record of an input, decoded. Strings and bytes: reader_text(),
 * reader_bytes() (a message that found no memory is NULL).
 */
struct reader_item {
	enum reader_kind kind;
	uint64_t offset; /* block offset in the (decompressed) file; RESYNCED: resumed at */
	uint32_t section, if_id;
	/* PACKET */
	bool has_ts;  /* SPB: no timestamp */
	bool has_itf; /* its interface is known */
	bool has_flags, has_packetid, has_dropcount, has_comment;
	bool dissected; /* pi is the snapshot's dissection (reader_open's dissect) */
	int dissect_rc; /* pkt_dissect's return */
	bool event_ok;	/* EVENT: trace_event_decode() took its text */
	uint16_t linktype;
	uint32_t snaplen;
	uint32_t caplen, origlen; /* caplen 0 when its bytes could not be kept (memory) */
	uint32_t flags;
	uint64_t packetid, dropcount;
	/* STATS */
	bool has_ifdrop, has_osdrop;
	uint64_t ifdrop, osdrop;
	/* RESYNCED, RESYNC_NONE */
	uint64_t skipped;
	/* offsets into the batch's bytes; SIZE_MAX: none */
	size_t data, comment, text;
	/*
	 * PACKET: its interface's name and description,
	 * kept by the reader until reader_close (one copy per interface, not
	 * one per item).
	 */
	const char *if_name, *if_description;
	struct reader_hop c; /* PACKET, EVENT */
	struct pkt_info pi;  /* PACKET with dissected */
};

struct reader;

/*
 * Read r ahead (r stays the caller's: close it after reader_close). threaded:
 * on a thread of its own, else on the caller's thread as items are taken.
 * dissect: dissect every snapshot (not when the consumer rewrites it first).
 * comments: keep a packet's comment text (else its comment is SIZE_MAX; the
 * hop is decoded from it either way). Returns 0, or -errno (memory, thread)
 * with nothing started.
 */
int reader_open(struct reader **rd, struct pcapng_reader *r, bool threaded, bool dissect,
		bool comments);
/*
 * The next item, valid until the next call: the caller may change it and
 * its bytes in place (--anonymize rewrites them). After an item that is a
 * last one (see enum reader_kind) it must not be called again.
 */
struct reader_item *reader_next(struct reader *rd);
/* The string or the bytes at an offset of the current item; NULL for SIZE_MAX. */
const char *reader_text(const struct reader *rd, size_t off);
uint8_t *reader_bytes(const struct reader *rd, size_t off);
/* Stops the thread (at any point) and frees everything but the pcapng reader. NULL: nothing. */
void reader_close(struct reader *rd);

#endif
