// SPDX-License-Identifier: MIT
/*
 * pcapng writer and validating reader (see pcapng.h and
 * draft-ietf-opsawg-pcapng).
 *
 * Writer: each block is serialized into one reusable buffer and handed to
 * zout_write whole, so zstd flush points always fall between blocks.
 *
 * Reader: blocks are read into a sliding window filled from zin; a block is
 * parsed in place (packet data points into the window). Every field is read
 * through a bounds-checked cursor; lengths declared by the input are checked
 * before anything is allocated for them, and the window never grows beyond
 * what the input actually delivered (at most PCAPNG_MAX_BLOCK + a chunk).
 */
#include "pcapng.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* option codes */
#define OPT_ENDOFOPT	0
#define OPT_COMMENT	1
#define SHB_HARDWARE	2
#define SHB_OS		3
#define SHB_USERAPPL	4
#define IF_NAME		2
#define IF_DESCRIPTION	3
#define IF_TSRESOL	9
#define IF_TSOFFSET	14
#define EPB_FLAGS	2
#define EPB_DROPCOUNT	4
#define EPB_PACKETID	5
#define ISB_STARTTIME	2
#define ISB_ENDTIME	3
#define ISB_IFRECV	4
#define ISB_IFDROP	5
#define ISB_OSDROP	7

#define PCAPNG_MAX_IFACES 65536u /* per section; more is hostile input */
#define OPT_MAX_LEN	  0xFFFFu

static inline size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static void set_err(char *dst, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *dst, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!dst || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(dst, len, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ writer */

/* Serialization cursor: stops (ovf set) instead of writing past cap. */
struct wcur {
	uint8_t *p;
	size_t pos, cap;
	int ovf;
};

static void w_bytes(struct wcur *c, const void *src, size_t n)
{
	if (c->ovf || n > c->cap - c->pos) {
		c->ovf = 1;
		return;
	}
	if (n)
		memcpy(c->p + c->pos, src, n);
	c->pos += n;
}

static void w_zero(struct wcur *c, size_t n)
{
	if (c->ovf || n > c->cap - c->pos) {
		c->ovf = 1;
		return;
	}
	memset(c->p + c->pos, 0, n);
	c->pos += n;
}

static void w_u16(struct wcur *c, uint16_t v)
{
	w_bytes(c, &v, 2);
}

static void w_u32(struct wcur *c, uint32_t v)
{
	w_bytes(c, &v, 4);
}

static void w_u64(struct wcur *c, uint64_t v)
{
	w_bytes(c, &v, 8);
}

/* Timestamps are two 32-bit words, high first, each in native order. */
static void w_ts(struct wcur *c, uint64_t ts)
{
	w_u32(c, (uint32_t)(ts >> 32));
	w_u32(c, (uint32_t)ts);
}

static void w_opt(struct wcur *c, uint16_t code, const void *val, size_t len)
{
	w_u16(c, code);
	w_u16(c, (uint16_t)len);
	w_bytes(c, val, len);
	w_zero(c, pad4(len) - len);
}

static int w_opt_str(struct wcur *c, uint16_t code, const char *s)
{
	size_t n;

	if (!s)
		return 0;
	n = strlen(s);
	if (n > OPT_MAX_LEN)
		return -EINVAL;
	if (n)
		w_opt(c, code, s, n);
	return 0;
}

static void w_opt_u64(struct wcur *c, uint16_t code, uint64_t v)
{
	w_opt(c, code, &v, 8);
}

static void w_opt_ts(struct wcur *c, uint16_t code, uint64_t ts)
{
	uint32_t v[2] = {(uint32_t)(ts >> 32), (uint32_t)ts};

	w_opt(c, code, v, 8);
}

/* Close a block: end-of-options if any were written, trailer, length. */
static int w_finish(struct wcur *c, size_t opt_start)
{
	uint32_t total;

	if (c->pos != opt_start && !c->ovf)
		w_u32(c, 0); /* opt_endofopt: code 0, length 0 */
	w_u32(c, 0);	     /* room for the trailing length */
	if (c->ovf)
		return -ENOSPC;
	if (c->pos > PCAPNG_MAX_BLOCK)
		return -EINVAL;
	total = (uint32_t)c->pos;
	memcpy(c->p + 4, &total, 4);
	memcpy(c->p + c->pos - 4, &total, 4);
	return (int)total;
}

int pcapng_build_shb(void *buf, size_t cap, const struct pcapng_shb_info *shb)
{
	struct wcur c = {buf, 0, cap, 0};
	size_t opt;

	w_u32(&c, PCAPNG_BT_SHB);
	w_u32(&c, 0);
	w_u32(&c, PCAPNG_BYTE_ORDER_MAGIC);
	w_u16(&c, 1);
	w_u16(&c, 0);
	w_u64(&c, UINT64_MAX); /* section length unknown: we stream */
	opt = c.pos;
	if (shb && (w_opt_str(&c, OPT_COMMENT, shb->comment) ||
		    w_opt_str(&c, SHB_HARDWARE, shb->hardware) || w_opt_str(&c, SHB_OS, shb->os) ||
		    w_opt_str(&c, SHB_USERAPPL, shb->userappl)))
		return -EINVAL;
	return w_finish(&c, opt);
}

int pcapng_build_idb(void *buf, size_t cap, const struct pcapng_idb_info *idb)
{
	struct wcur c = {buf, 0, cap, 0};
	size_t opt;

	if (!idb)
		return -EINVAL;
	w_u32(&c, PCAPNG_BT_IDB);
	w_u32(&c, 0);
	w_u16(&c, idb->linktype);
	w_u16(&c, 0);
	w_u32(&c, idb->snaplen);
	opt = c.pos;
	if (w_opt_str(&c, IF_NAME, idb->name) || w_opt_str(&c, IF_DESCRIPTION, idb->description))
		return -EINVAL;
	if (idb->tsresol)
		w_opt(&c, IF_TSRESOL, &idb->tsresol, 1);
	return w_finish(&c, opt);
}

int pcapng_build_epb(void *buf, size_t cap, const struct pcapng_epb_info *epb)
{
	struct wcur c = {buf, 0, cap, 0};
	size_t opt;

	if (!epb || (epb->caplen && !epb->data) || epb->caplen > PCAPNG_MAX_BLOCK)
		return -EINVAL;
	w_u32(&c, PCAPNG_BT_EPB);
	w_u32(&c, 0);
	w_u32(&c, epb->if_id);
	w_ts(&c, epb->ts);
	w_u32(&c, epb->caplen);
	w_u32(&c, epb->origlen);
	w_bytes(&c, epb->data, epb->caplen);
	w_zero(&c, pad4(epb->caplen) - epb->caplen);
	opt = c.pos;
	if (w_opt_str(&c, OPT_COMMENT, epb->comment))
		return -EINVAL;
	if (epb->has_flags)
		w_opt(&c, EPB_FLAGS, &epb->flags, 4);
	if (epb->has_dropcount)
		w_opt_u64(&c, EPB_DROPCOUNT, epb->dropcount);
	if (epb->has_packetid)
		w_opt_u64(&c, EPB_PACKETID, epb->packetid);
	return w_finish(&c, opt);
}

int pcapng_build_isb(void *buf, size_t cap, const struct pcapng_isb_info *isb)
{
	struct wcur c = {buf, 0, cap, 0};
	size_t opt;

	if (!isb)
		return -EINVAL;
	w_u32(&c, PCAPNG_BT_ISB);
	w_u32(&c, 0);
	w_u32(&c, isb->if_id);
	w_ts(&c, isb->ts);
	opt = c.pos;
	if (w_opt_str(&c, OPT_COMMENT, isb->comment))
		return -EINVAL;
	if (isb->has_starttime)
		w_opt_ts(&c, ISB_STARTTIME, isb->starttime);
	if (isb->has_endtime)
		w_opt_ts(&c, ISB_ENDTIME, isb->endtime);
	if (isb->has_ifrecv)
		w_opt_u64(&c, ISB_IFRECV, isb->ifrecv);
	if (isb->has_ifdrop)
		w_opt_u64(&c, ISB_IFDROP, isb->ifdrop);
	if (isb->has_osdrop)
		w_opt_u64(&c, ISB_OSDROP, isb->osdrop);
	return w_finish(&c, opt);
}

struct pcapng_writer {
	struct zout *out;
	uint8_t *buf; /* reused for every block; grows only for bigger blocks */
	size_t cap;
	uint32_t if_count;
	char msg[PCAPNG_ERRLEN];
};

static size_t str_opt_size(const char *s)
{
	return s ? 4 + pad4(strlen(s)) : 0;
}

static int w_reserve(struct pcapng_writer *w, size_t need)
{
	uint8_t *nb;
	size_t ncap;

	if (need <= w->cap)
		return 0;
	ncap = w->cap ? w->cap : 4096;
	while (ncap < need)
		ncap *= 2;
	nb = realloc(w->buf, ncap);
	if (!nb) {
		set_err(w->msg, sizeof(w->msg), "out of memory for a %zu-byte block", need);
		return -ENOMEM;
	}
	w->buf = nb;
	w->cap = ncap;
	return 0;
}

static int w_emit(struct pcapng_writer *w, int len, const char *what)
{
	int rc;

	if (len < 0) {
		set_err(w->msg, sizeof(w->msg), "cannot build %s: %s", what,
			len == -ENOSPC ? "block too large" : "invalid field (option over 65535 bytes or block over the maximum size)");
		return len;
	}
	rc = zout_write(w->out, w->buf, (size_t)len);
	if (rc)
		set_err(w->msg, sizeof(w->msg), "writing %s: %s", what, zout_error(w->out));
	return rc;
}

int pcapng_writer_open(struct pcapng_writer **wp, struct zout *out,
		       const struct pcapng_shb_info *shb, char *err, size_t errlen)
{
	struct pcapng_writer *w;
	size_t need = 64;
	int rc;

	*wp = NULL;
	w = calloc(1, sizeof(*w));
	if (!w) {
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	w->out = out;
	if (shb)
		need += str_opt_size(shb->comment) + str_opt_size(shb->hardware) +
			str_opt_size(shb->os) + str_opt_size(shb->userappl);
	rc = w_reserve(w, need < 65536 ? 65536 : need);
	if (!rc)
		rc = w_emit(w, pcapng_build_shb(w->buf, w->cap, shb), "section header block");
	if (rc) {
		set_err(err, errlen, "%s", w->msg);
		pcapng_writer_free(w);
		return rc;
	}
	*wp = w;
	return 0;
}

int pcapng_write_idb(struct pcapng_writer *w, const struct pcapng_idb_info *idb,
		     uint32_t *if_id)
{
	int rc;

	if (!w || !idb)
		return -EINVAL;
	rc = w_reserve(w, 48 + str_opt_size(idb->name) + str_opt_size(idb->description));
	if (!rc)
		rc = w_emit(w, pcapng_build_idb(w->buf, w->cap, idb), "interface description block");
	if (rc)
		return rc;
	if (if_id)
		*if_id = w->if_count;
	w->if_count++;
	return 0;
}

int pcapng_write_epb(struct pcapng_writer *w, const struct pcapng_epb_info *epb)
{
	int rc;

	if (!w || !epb)
		return -EINVAL;
	if (epb->if_id >= w->if_count) {
		set_err(w->msg, sizeof(w->msg),
			"enhanced packet block for interface %u, but only %u interfaces exist",
			epb->if_id, w->if_count);
		return -EINVAL;
	}
	rc = w_reserve(w, 64 + pad4(epb->caplen) + str_opt_size(epb->comment));
	if (!rc)
		rc = w_emit(w, pcapng_build_epb(w->buf, w->cap, epb), "enhanced packet block");
	return rc;
}

int pcapng_write_isb(struct pcapng_writer *w, const struct pcapng_isb_info *isb)
{
	int rc;

	if (!w || !isb)
		return -EINVAL;
	if (isb->if_id >= w->if_count) {
		set_err(w->msg, sizeof(w->msg),
			"statistics block for interface %u, but only %u interfaces exist",
			isb->if_id, w->if_count);
		return -EINVAL;
	}
	rc = w_reserve(w, 96 + str_opt_size(isb->comment));
	if (!rc)
		rc = w_emit(w, pcapng_build_isb(w->buf, w->cap, isb), "interface statistics block");
	return rc;
}

uint32_t pcapng_writer_if_count(const struct pcapng_writer *w)
{
	return w ? w->if_count : 0;
}

const char *pcapng_writer_error(const struct pcapng_writer *w)
{
	return w ? w->msg : "";
}

void pcapng_writer_free(struct pcapng_writer *w)
{
	if (!w)
		return;
	free(w->buf);
	free(w);
}

/* ------------------------------------------------------------------ reader */
/* READER_PLACEHOLDER */
int pcapng_reader_open(struct pcapng_reader **r, struct zin *in, char *err, size_t errlen)
{
	(void)in;
	*r = NULL;
	set_err(err, errlen, "pcapng reader not implemented yet");
	return -ENOSYS;
}

int pcapng_reader_open_path(struct pcapng_reader **r, const char *path, char *err, size_t errlen)
{
	(void)path;
	return pcapng_reader_open(r, NULL, err, errlen);
}

int pcapng_reader_open_mem(struct pcapng_reader **r, const void *buf, size_t len, char *err,
			   size_t errlen)
{
	(void)buf;
	(void)len;
	return pcapng_reader_open(r, NULL, err, errlen);
}

int pcapng_next(struct pcapng_reader *r, struct pcapng_record *rec)
{
	(void)r;
	(void)rec;
	return -ENOSYS;
}

int pcapng_resync(struct pcapng_reader *r, uint64_t *skipped)
{
	(void)r;
	(void)skipped;
	return -ENOSYS;
}

const struct pcapng_interface *pcapng_interface(const struct pcapng_reader *r, uint32_t if_id)
{
	(void)r;
	(void)if_id;
	return NULL;
}

uint32_t pcapng_interface_count(const struct pcapng_reader *r)
{
	(void)r;
	return 0;
}

const char *pcapng_reader_error(const struct pcapng_reader *r)
{
	(void)r;
	return "";
}

uint64_t pcapng_reader_offset(const struct pcapng_reader *r)
{
	(void)r;
	return 0;
}

void pcapng_reader_close(struct pcapng_reader *r)
{
	(void)r;
}
