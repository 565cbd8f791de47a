// SPDX-License-Identifier: MIT
/*
 * Fuzz the pcapng reader (and, through it, zin: zstd input is detected by
 * its magic). Reads every record, touches every byte the reader hands out
 * so ASan sees out-of-bounds data pointers, and resynchronizes after
 * corrupt blocks like pkt-analyze does, with a bound on the attempts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pcapng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* exact-size heap copy: any read past the end is caught */
	uint8_t *copy = malloc(size ? size : 1);
	struct pcapng_reader *r;
	struct pcapng_record rec;
	char err[PCAPNG_ERRLEN];
	unsigned sum = 0;
	int rc, resyncs = 0;
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
				sum += (unsigned)strlen(rec.comment) + (unsigned)strlen(rec.shb_os) +
				       (unsigned)strlen(rec.shb_userappl) +
				       (unsigned)strlen(rec.shb_hardware);
				ifc = pcapng_interface(r, rec.if_id);
				if (rec.kind == PCAPNG_REC_PACKET && rec.has_ts && !ifc)
					abort(); /* a packet must have its interface */
				if (ifc)
					sum += (unsigned)strlen(ifc->name) +
					       (unsigned)strlen(ifc->description);
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
