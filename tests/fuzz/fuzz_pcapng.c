// SPDX-License-Identifier: MIT
/*
 * Fuzz the pcapng reader (and, through it, zin: zstd input is detected by
 * its magic) and the trace decoder on its packets. Reads every record, touches every byte the
 * reader hands out so ASan sees out-of-bounds data pointers, and resynchronizes after corrupt
 * blocks like pkt-analyze does, with a bound on the attempts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pcapng.h"
#include "trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Writer/reader agreement: an EPB rebuilt from what the reader returned must
 * read back with the same fields (in a section with one nanosecond IDB).
 */
static void rewrite_epb(const struct pcapng_record *rec)
{
	static uint8_t buf[PCAPNG_MAX_BLOCK / 64];
	struct pcapng_shb_info shb = {"fuzz", NULL, NULL, NULL};
	struct pcapng_idb_info idb = {1, 0, "f", NULL, 9};
	struct pcapng_epb_info epb = {0};
	struct pcapng_reader *r;
	struct pcapng_record back;
	char err[PCAPNG_ERRLEN];
	int n, len = 0;

	n = pcapng_build_shb(buf, sizeof(buf), &shb);
	if (n < 0)
		abort();
	len = n;
	n = pcapng_build_idb(buf + len, sizeof(buf) - (size_t)len, &idb);
	if (n < 0)
		abort();
	len += n;
	epb.ts = rec->ts_raw;
	epb.data = rec->data;
	epb.caplen = rec->caplen;
	epb.origlen = rec->origlen;
	epb.comment = rec->has_comment ? rec->comment : NULL;
	epb.has_flags = rec->has_flags;
	epb.flags = rec->flags;
	epb.has_packetid = rec->has_packetid;
	epb.packetid = rec->packetid;
	epb.has_dropcount = rec->has_dropcount;
	epb.dropcount = rec->dropcount;
	n = pcapng_build_epb(buf + len, sizeof(buf) - (size_t)len, &epb);
	if (n == -ENOSPC)
		return; /* a big packet: not this buffer's business */
	if (n < 0)
		abort();
	len += n;
	if (pcapng_reader_open_mem(&r, buf, (size_t)len, err, sizeof(err)))
		abort();
	for (int i = 0; i < 3; i++)
		if (pcapng_next(r, &back))
			abort();
	if (back.kind != PCAPNG_REC_PACKET || back.ts_raw != rec->ts_raw ||
	    back.caplen != rec->caplen || back.origlen != rec->origlen ||
	    memcmp(back.data, rec->data, rec->caplen) || back.has_flags != rec->has_flags ||
	    back.flags != rec->flags || back.has_packetid != rec->has_packetid ||
	    back.packetid != rec->packetid || back.has_dropcount != rec->has_dropcount ||
	    back.dropcount != rec->dropcount ||
	    (rec->has_comment && rec->comment[0] && strcmp(back.comment, rec->comment)))
		abort();
	if (pcapng_next(r, &back) != PCAPNG_EOF)
		abort();
	pcapng_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* exact-size heap copy: any read past the end is caught */
	uint8_t *copy = malloc(size ? size : 1);
	struct pcapng_reader *r;
	struct pcapng_record rec;
	char err[PCAPNG_ERRLEN];
	unsigned sum = 0;
	int rc, resyncs = 0, rewrites = 0;
	uint64_t last_off = 0;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (pcapng_reader_open_mem(&r, copy, size, err, sizeof(err)) == 0) {
		for (;;) {
			rc = pcapng_next(r, &rec);
			if (rc == 0) {
				const struct pcapng_interface *ifc;

				/* offsets only move forward */
				if (rec.offset < last_off)
					abort();
				last_off = rec.offset;
				for (uint32_t i = 0; i < rec.caplen; i++)
					sum += rec.data[i];
				sum += (unsigned)strlen(rec.comment) +
				       (unsigned)strlen(rec.shb_os) +
				       (unsigned)strlen(rec.shb_userappl) +
				       (unsigned)strlen(rec.shb_hardware);
				if (rec.kind == PCAPNG_REC_PACKET && rewrites++ < 4)
					rewrite_epb(&rec);
				ifc = pcapng_interface(r, rec.if_id);
				if (rec.kind == PCAPNG_REC_PACKET && rec.has_ts && !ifc)
					abort(); /* a packet must have its interface */
				if (ifc)
					sum += (unsigned)strlen(ifc->name) +
					       (unsigned)strlen(ifc->description);
				if (rec.kind == PCAPNG_REC_PACKET) {
					/* the trace decoder on whatever the reader hands out */
					struct trace_hop hop;

					trace_hop_decode(&hop, &rec, ifc);
					if (hop.data != rec.data || hop.caplen != rec.caplen ||
					    !memchr(hop.ifname, '\0', sizeof(hop.ifname)))
						abort();
					sum += (unsigned)strlen(hop.hook) + hop.ours;
				}
				if (rec.kind == PCAPNG_REC_EVENT) {
					/* an event block: text, never a packet */
					struct trace_hop hop;
					char back[PCAPNG_MAX_COMMENT];

					if (!rec.has_comment || !rec.comment[0] || rec.caplen)
						abort();
					if (trace_event_decode(&hop, &rec) == 0) {
						if (!hop.is_event || hop.data || hop.caplen)
							abort();
						if (trace_comment_format(back, sizeof(back), &hop) <
						    0)
							back[0] = '\0';
						sum += (unsigned)strlen(back);
					}
				}
				continue;
			}
			if (rc == PCAPNG_EOF || rc == PCAPNG_TRUNCATED)
				break;
			if (!pcapng_reader_error(r)[0])
				abort(); /* errors always say why */
			if (rc != -EBADMSG || ++resyncs > 64)
				break;
			if (pcapng_resync(r, NULL) != 0)
				break;
		}
		pcapng_reader_close(r);
	}
	free(copy);
	/* keep the sum alive */
	return sum == 0xdeadbeef ? 0 : 0;
}
