/* SPDX-License-Identifier: MIT */
/*
 * pcapng blocks: a writer of whole blocks and a validating streaming reader.
 *
 * Reader model after libpcap's sf-pcapng.c: every block is checked (length
 * >= minimum, multiple of 4, trailer == header, below PCAPNG_MAX_BLOCK)
 * before any field is read, and every field goes through a bounds-checked
 * cursor.  Both byte orders, any number of sections, interfaces with their
 * own link types and timestamp resolutions.
 *
 * The same reader opens classic pcap (libpcap savefiles: both byte orders,
 * micro- and nanosecond magics, the modified "Kuznetzov" format) and
 * presents it as one section with one interface (its link type and snaplen,
 * 10^6 or 10^9 units per second) followed by packet records whose
 * block_type is 0. Records are bounded like blocks (at most the larger of
 * 262144 bytes and the file's snaplen); a corrupt record header ends the
 * file: classic pcap has no marker pcapng_resync could find again.
 *
 * Library code: never prints, never exits. Returns 0 / -errno and fills the
 * error buffer.
 */
#ifndef PKT_PCAPNG_H
#define PKT_PCAPNG_H

#include <stddef.h>
#include <stdint.h>
#include "zio.h"

#define PCAPNG_MAX_BLOCK (16u * 1024 * 1024) /* same bound as libpcap/wireshark */
#define PCAPNG_ERRLEN	 256

/* Block types */
#define PCAPNG_BT_SHB	    0x0A0D0D0Au
#define PCAPNG_BT_IDB	    0x00000001u
#define PCAPNG_BT_PB	    0x00000002u /* obsolete Packet Block */
#define PCAPNG_BT_SPB	    0x00000003u
#define PCAPNG_BT_NRB	    0x00000004u
#define PCAPNG_BT_ISB	    0x00000005u
#define PCAPNG_BT_EPB	    0x00000006u
#define PCAPNG_BT_DSB	    0x0000000Au
#define PCAPNG_BT_CB_COPY   0x00000BADu
#define PCAPNG_BT_CB_NOCOPY 0x40000BADu

#define PCAPNG_BYTE_ORDER_MAGIC 0x1A2B3C4Du

/*
 * pkt-record's event block (docs/format.md): a Custom Block that may be
 * copied (0x00000BAD), private enterprise number PCAPNG_PEN_PKTREC, then
 * the custom data: u32 PCAPNG_PKTREC_EVENT, a timestamp in nanoseconds
 * since the epoch (high, low 32-bit words), and options: opt_comment with
 * the event's key=value text. Wireshark shows it as a custom block and
 * counts no packet; libpcap skips it.
 */
#define PCAPNG_PEN_PKTREC   32473u /* IANA's PEN for documentation (RFC 5612) until one is ours */
#define PCAPNG_PKTREC_EVENT 1u

/* epb_flags direction bits (bits 0-1) */
#define PCAPNG_DIR_UNKNOWN  0
#define PCAPNG_DIR_INBOUND  1
#define PCAPNG_DIR_OUTBOUND 2

#define PCAPNG_LINKTYPE_ETHERNET 1

/* ------------------------------------------------------------------ writer */

struct pcapng_shb_info {
	const char *userappl; /* shb_userappl, e.g. "pkt-record 0.1.0" */
	const char *os;	      /* shb_os */
	const char *hardware; /* shb_hardware */
	const char *comment;  /* optional opt_comment */
};

struct pcapng_idb_info {
	uint16_t linktype;	 /* PCAPNG_LINKTYPE_ETHERNET for pkt-record */
	uint32_t snaplen;	 /* if_snaplen and the IDB's SnapLen field */
	const char *name;	 /* if_name, e.g. "eth0@4026532328" */
	const char *description; /* if_description, optional */
	uint8_t tsresol;	 /* if_tsresol; 9 = nanoseconds (0 = omit: microseconds) */
};

struct pcapng_epb_info {
	uint32_t if_id;
	uint64_t ts; /* in the interface's tsresol units */
	const void *data;
	uint32_t caplen;
	uint32_t origlen;
	const char *comment; /* opt_comment or NULL */
	size_t comment_len;  /* its length when known (0: strlen) */
	int has_flags;
	uint32_t flags; /* epb_flags */
	int has_packetid;
	uint64_t packetid; /* epb_packetid */
	int has_dropcount;
	uint64_t dropcount; /* epb_dropcount */
};

/* pkt-record's event block: an event with no packet (see PCAPNG_PEN_PKTREC) */
struct pcapng_event_info {
	uint64_t ts_ns;	     /* nanoseconds since the epoch */
	const char *comment; /* the key=value text */
};

struct pcapng_isb_info {
	uint32_t if_id;
	uint64_t ts; /* timestamp of the ISB itself */
	int has_starttime;
	uint64_t starttime; /* isb_starttime */
	int has_endtime;
	uint64_t endtime; /* isb_endtime */
	int has_ifrecv;
	uint64_t ifrecv; /* isb_ifrecv */
	int has_ifdrop;
	uint64_t ifdrop; /* isb_ifdrop */
	int has_osdrop;
	uint64_t osdrop; /* isb_osdrop */
	const char *comment;
};

struct pcapng_writer;

/* Writes the SHB at once. Does not own out: the caller closes it. */
int pcapng_writer_open(struct pcapng_writer **w, struct zout *out,
		       const struct pcapng_shb_info *shb, char *err, size_t errlen);
/* Writes an IDB; *if_id receives its index in the current section. */
int pcapng_write_idb(struct pcapng_writer *w, const struct pcapng_idb_info *idb, uint32_t *if_id);
int pcapng_write_epb(struct pcapng_writer *w, const struct pcapng_epb_info *epb);
int pcapng_write_isb(struct pcapng_writer *w, const struct pcapng_isb_info *isb);
int pcapng_write_event(struct pcapng_writer *w, const struct pcapng_event_info *ev);
uint32_t pcapng_writer_if_count(const struct pcapng_writer *w);
const char *pcapng_writer_error(const struct pcapng_writer *w);
/* Frees the writer; does not close out. Safe on NULL. */
void pcapng_writer_free(struct pcapng_writer *w);

/*
 * Serialize one block into buf (cap bytes). Returns the block length, or
 * -ENOSPC if it does not fit, -EINVAL on bad input. Used by the writer and by
 * tests that build files by hand.
 */
int pcapng_build_shb(void *buf, size_t cap, const struct pcapng_shb_info *shb);
int pcapng_build_idb(void *buf, size_t cap, const struct pcapng_idb_info *idb);
int pcapng_build_epb(void *buf, size_t cap, const struct pcapng_epb_info *epb);
int pcapng_build_isb(void *buf, size_t cap, const struct pcapng_isb_info *isb);
int pcapng_build_event(void *buf, size_t cap, const struct pcapng_event_info *ev);

/* ------------------------------------------------------------------ reader */

struct pcapng_interface {
	uint32_t section; /* index of the section it belongs to */
	uint16_t linktype;
	uint32_t snaplen;
	char name[128];		   /* if_name, "" if absent */
	char description[256];	   /* if_description, "" if absent */
	uint64_t ts_units_per_sec; /* from if_tsresol (default 10^6) */
	int64_t ts_offset_sec;	   /* if_tsoffset */
};

/* What pcapng_next() returns */
enum pcapng_rec_kind {
	PCAPNG_REC_PACKET = 1, /* EPB, SPB or PB */
	PCAPNG_REC_SECTION,    /* a new SHB began */
	PCAPNG_REC_INTERFACE,  /* an IDB was added */
	PCAPNG_REC_STATS,      /* ISB */
	PCAPNG_REC_OTHER,      /* NRB, DSB, custom or unknown block (skipped) */
	PCAPNG_REC_EVENT,      /* pkt-record's event block: ts_ns, has_comment, comment */
};

#define PCAPNG_MAX_COMMENT 1024

struct pcapng_record {
	enum pcapng_rec_kind kind;
	uint32_t block_type;
	uint64_t offset; /* byte offset of the block in the (decompressed) stream */
	uint32_t block_len;
	uint32_t section; /* section index, 0-based */
	int big_endian;	  /* byte order of the current section */

	/* PCAPNG_REC_PACKET (and STATS for if_id / ts) */
	uint32_t if_id;	 /* interface index within the section */
	int has_ts;	 /* SPB has no timestamp */
	uint64_t ts_ns;	 /* timestamp converted to ns since epoch */
	uint64_t ts_raw; /* raw 64-bit timestamp in interface units */
	uint32_t caplen;
	uint32_t origlen;
	const uint8_t *data; /* valid until the next pcapng_next() call */
	int has_flags;
	uint32_t flags;
	int has_packetid;
	uint64_t packetid;
	int has_dropcount;
	uint64_t dropcount;
	/* first opt_comment, NUL-terminated, truncated to PCAPNG_MAX_COMMENT-1 */
	int has_comment;
	char comment[PCAPNG_MAX_COMMENT];

	/* PCAPNG_REC_STATS; starttime/endtime converted to ns like ts_ns */
	int has_ifrecv, has_ifdrop, has_osdrop, has_starttime, has_endtime;
	uint64_t ifrecv, ifdrop, osdrop, starttime, endtime;

	/* PCAPNG_REC_SECTION: SHB options */
	char shb_userappl[128];
	char shb_os[128];
	char shb_hardware[128];
};

struct pcapng_reader;

/*
 * Takes ownership of in (closed by pcapng_reader_close, or at once if the
 * open fails). Reads and validates the first SHB; the first pcapng_next()
 * still returns it as PCAPNG_REC_SECTION. A file cut inside its first SHB
 * opens fine and pcapng_next() reports PCAPNG_TRUNCATED.
 */
int pcapng_reader_open(struct pcapng_reader **r, struct zin *in, char *err, size_t errlen);
/* Opens a path ("-" is stdin), plain or zstd. An error message names the path. */
int pcapng_reader_open_path(struct pcapng_reader **r, const char *path, char *err, size_t errlen);

/*
 * Next record.
 *   0                  a record was filled
 *   PCAPNG_EOF         clean end of input
 *   PCAPNG_TRUNCATED   input ended inside a block: everything before it was
 *                      returned; pcapng_reader_error() says where (warning)
 *   < 0                -errno for a corrupt block / I/O error; the message
 *                      names the byte offset. -EBADMSG for corrupt data.
 */
#define PCAPNG_EOF	 1
#define PCAPNG_TRUNCATED 2
int pcapng_next(struct pcapng_reader *r, struct pcapng_record *rec);

/*
 * After a -EBADMSG, look for the next plausible block (a valid header whose
 * trailer matches) and continue from there. Returns 0 when resynchronized
 * (*skipped = bytes skipped), PCAPNG_EOF if none was found, < 0 on I/O error.
 */
int pcapng_resync(struct pcapng_reader *r, uint64_t *skipped);

/* Interface by index in the current section (NULL if unknown). */
const struct pcapng_interface *pcapng_interface(const struct pcapng_reader *r, uint32_t if_id);
uint32_t pcapng_interface_count(const struct pcapng_reader *r);
const char *pcapng_reader_error(const struct pcapng_reader *r);
uint64_t pcapng_reader_offset(const struct pcapng_reader *r);
void pcapng_reader_close(struct pcapng_reader *r);

/* Parse a buffer in memory (for fuzzing and tests): same as a reader on a pipe. */
int pcapng_reader_open_mem(struct pcapng_reader **r, const void *buf, size_t len, char *err,
			   size_t errlen);

#endif
