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
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* option codes */
#define OPT_ENDOFOPT   0
#define OPT_COMMENT    1
#define SHB_HARDWARE   2
#define SHB_OS	       3
#define SHB_USERAPPL   4
#define IF_NAME	       2
#define IF_DESCRIPTION 3
#define IF_TSRESOL     9
#define IF_TSOFFSET    14
#define EPB_FLAGS      2
#define EPB_DROPCOUNT  4
#define EPB_PACKETID   5
#define ISB_STARTTIME  2
#define ISB_ENDTIME    3
#define ISB_IFRECV     4
#define ISB_IFDROP     5
#define ISB_OSDROP     7

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

/* An option's header and value at p, zero-padded: its size. Room is the caller's. */
static size_t put_opt(uint8_t *p, uint16_t code, const void *val, size_t len)
{
	uint16_t hdr[2] = {code, (uint16_t)len};
	size_t padded = pad4(len);

	memcpy(p, hdr, 4);
	memcpy(p + 4, val, len);
	memset(p + 4 + len, 0, padded - len);
	return 4 + padded;
}

/*
 * The same fields as the other blocks' cursor writes, but sized first and
 * then stored without a check per field: pkt-record writes one EPB per
 * event, and the checked cursor with strlen was a tenth of its own work.
 */
int pcapng_build_epb(void *buf, size_t cap, const struct pcapng_epb_info *epb)
{
	uint8_t *p = buf;
	size_t clen, total, pos, opt;
	uint32_t head[7], total32;

	if (!epb || (epb->caplen && !epb->data) || epb->caplen > PCAPNG_MAX_BLOCK)
		return -EINVAL;
	clen = !epb->comment ? 0 : epb->comment_len ? epb->comment_len : strlen(epb->comment);
	if (clen > OPT_MAX_LEN)
		return -EINVAL;
	opt = 28 + pad4(epb->caplen);
	total = opt + (clen ? 4 + pad4(clen) : 0) + (epb->has_flags ? 8 : 0) +
		(epb->has_dropcount ? 12 : 0) + (epb->has_packetid ? 12 : 0);
	total += (total != opt ? 4 : 0) + 4; /* opt_endofopt when any, the trailing length */
	if (total > cap)
		return -ENOSPC;
	if (total > PCAPNG_MAX_BLOCK)
		return -EINVAL;
	total32 = (uint32_t)total;
	head[0] = PCAPNG_BT_EPB;
	head[1] = total32;
	head[2] = epb->if_id;
	head[3] = (uint32_t)(epb->ts >> 32);
	head[4] = (uint32_t)epb->ts;
	head[5] = epb->caplen;
	head[6] = epb->origlen;
	memcpy(p, head, sizeof(head));
	if (epb->caplen)
		memcpy(p + 28, epb->data, epb->caplen);
	memset(p + 28 + epb->caplen, 0, pad4(epb->caplen) - epb->caplen);
	pos = opt;
	if (clen)
		pos += put_opt(p + pos, OPT_COMMENT, epb->comment, clen);
	if (epb->has_flags)
		pos += put_opt(p + pos, EPB_FLAGS, &epb->flags, 4);
	if (epb->has_dropcount)
		pos += put_opt(p + pos, EPB_DROPCOUNT, &epb->dropcount, 8);
	if (epb->has_packetid)
		pos += put_opt(p + pos, EPB_PACKETID, &epb->packetid, 8);
	if (pos != opt) {
		memset(p + pos, 0, 4);
		pos += 4;
	}
	memcpy(p + pos, &total32, 4);
	return (int)total32;
}

int pcapng_build_event(void *buf, size_t cap, const struct pcapng_event_info *ev)
{
	struct wcur c = {buf, 0, cap, 0};
	size_t opt;

	if (!ev || !ev->comment || !ev->comment[0])
		return -EINVAL;
	w_u32(&c, PCAPNG_BT_CB_COPY);
	w_u32(&c, 0);
	w_u32(&c, PCAPNG_PEN_PKTREC);
	w_u32(&c, PCAPNG_PKTREC_EVENT);
	w_ts(&c, ev->ts_ns);
	opt = c.pos;
	if (w_opt_str(&c, OPT_COMMENT, ev->comment))
		return -EINVAL;
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
		set_err(
		    w->msg, sizeof(w->msg), "cannot build %s: %s", what,
		    len == -ENOSPC
			? "block too large"
			: "invalid field (option over 65535 bytes or block over the maximum size)");
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

int pcapng_write_idb(struct pcapng_writer *w, const struct pcapng_idb_info *idb, uint32_t *if_id)
{
	int rc;

	if (!w || !idb)
		return -EINVAL;
	rc = w_reserve(w, 48 + str_opt_size(idb->name) + str_opt_size(idb->description));
	if (!rc)
		rc =
		    w_emit(w, pcapng_build_idb(w->buf, w->cap, idb), "interface description block");
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
	size_t need = 64 + pad4(epb->caplen) +
		      (epb->comment_len ? 4 + pad4(epb->comment_len) : str_opt_size(epb->comment));
	/* built where the stream takes its input: one copy less per packet */
	void *room = zout_space(w->out, need);
	if (room) {
		int len = pcapng_build_epb(room, need, epb);

		if (len < 0)
			return w_emit(w, len, "enhanced packet block"); /* says why */
		rc = zout_space_used(w->out, (size_t)len);
		if (rc)
			set_err(w->msg, sizeof(w->msg), "writing %s: %s", "enhanced packet block",
				zout_error(w->out));
		return rc;
	}
	rc = w_reserve(w, need);
	if (!rc)
		rc = w_emit(w, pcapng_build_epb(w->buf, w->cap, epb), "enhanced packet block");
	return rc;
}

int pcapng_write_event(struct pcapng_writer *w, const struct pcapng_event_info *ev)
{
	int rc;

	if (!w || !ev || !ev->comment)
		return -EINVAL;
	rc = w_reserve(w, 40 + str_opt_size(ev->comment));
	if (!rc)
		rc = w_emit(w, pcapng_build_event(w->buf, w->cap, ev), "event block");
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

#define WIN_CHUNK (64u * 1024)
#define WIN_MAX	  (PCAPNG_MAX_BLOCK + WIN_CHUNK)
/* memmove budget of one resync before it stops waiting for far trailers */
#define RESYNC_BUDGET (16ull * PCAPNG_MAX_BLOCK)

struct pcapng_reader {
	struct zin *in;
	uint8_t *win;	  /* window on the decompressed stream */
	size_t wcap;	  /* allocated */
	size_t wlen;	  /* valid bytes */
	size_t wpos;	  /* start of the next block in win */
	uint64_t woff;	  /* stream offset of win[0] */
	uint64_t moved;	  /* bytes moved by compaction (resync budget) */
	int in_eof;	  /* zin said end of input */
	int in_err;	  /* zin error (-EPIPE: zstd frame cut) */
	int state;	  /* sticky: PCAPNG_EOF, PCAPNG_TRUNCATED or a fatal -errno */
	int started;	  /* an SHB has been read */
	int swap;	  /* current section is in the other byte order */
	uint32_t section; /* current section index (valid once started) */
	struct pcapng_interface *ifs;
	uint32_t nif, ifcap;
	/* the last block that failed validation, for pcapng_resync */
	uint64_t bad_off;
	uint32_t bad_len; /* non-zero: its framing was valid, skip it whole */
	int have_bad;
	/* classic pcap: one section, one interface, fixed-size record headers */
	int classic;
	int classic_stage;	  /* next synthetic record: CLASSIC_SECTION, ... */
	uint32_t classic_hdr_len; /* 16, or 24 in the modified (Kuznetzov) format */
	uint32_t classic_max;	  /* largest captured length accepted */
	char msg[PCAPNG_ERRLEN];
};

static int rd_fail(struct pcapng_reader *r, int e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int rd_fail(struct pcapng_reader *r, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	return e;
}

static inline uint16_t bswap16_if(uint16_t v, int swap)
{
	return swap ? __builtin_bswap16(v) : v;
}

static inline uint32_t bswap32_if(uint32_t v, int swap)
{
	return swap ? __builtin_bswap32(v) : v;
}

static inline uint64_t bswap64_if(uint64_t v, int swap)
{
	return swap ? __builtin_bswap64(v) : v;
}

static uint32_t peek_u32(const uint8_t *p, int swap)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return bswap32_if(v, swap);
}

/*
 * Make at least `need` bytes available at wpos (need <= PCAPNG_MAX_BLOCK).
 * Returns 0, 1 when the input ended first, or a fatal -errno. The window only
 * grows when it is full of data actually read, so a hostile length costs
 * memory only if the input really holds that many bytes.
 */
static int fill(struct pcapng_reader *r, size_t need)
{
	while (r->wlen - r->wpos < need) {
		ssize_t n;

		if (r->in_eof || r->in_err)
			return 1;
		if (r->wlen == r->wcap) {
			if (r->wpos && (r->wpos >= r->wcap / 2 || r->wcap >= WIN_MAX)) {
				memmove(r->win, r->win + r->wpos, r->wlen - r->wpos);
				r->moved += r->wlen - r->wpos;
				r->woff += r->wpos;
				r->wlen -= r->wpos;
				r->wpos = 0;
			} else {
				size_t ncap = r->wcap ? r->wcap * 2 : WIN_CHUNK;
				uint8_t *nw;

				if (ncap > WIN_MAX)
					ncap = WIN_MAX;
				nw = realloc(r->win, ncap);
				if (!nw)
					return rd_fail(r, -ENOMEM,
						       "out of memory for a %zu-byte window", ncap);
				r->win = nw;
				r->wcap = ncap;
			}
		}
		n = zin_read(r->in, r->win + r->wlen, r->wcap - r->wlen);
		if (n == 0) {
			r->in_eof = 1;
		} else if (n < 0) {
			r->in_err = (int)n;
			if (n != -EPIPE) /* -EPIPE is a truncation, reported by the caller */
				return rd_fail(r, (int)n, "read error at offset %llu: %s",
					       (unsigned long long)(r->woff + r->wlen),
					       zin_error(r->in));
		} else {
			r->wlen += (size_t)n;
		}
	}
	return 0;
}

/* Bounds-checked reading of block fields. */
struct cur {
	const uint8_t *p;
	size_t len, pos;
	int swap;
};

static int c_u16(struct cur *c, uint16_t *v)
{
	if (c->len - c->pos < 2)
		return -1;
	memcpy(v, c->p + c->pos, 2);
	*v = bswap16_if(*v, c->swap);
	c->pos += 2;
	return 0;
}

static int c_u32(struct cur *c, uint32_t *v)
{
	if (c->len - c->pos < 4)
		return -1;
	memcpy(v, c->p + c->pos, 4);
	*v = bswap32_if(*v, c->swap);
	c->pos += 4;
	return 0;
}

static int c_u64(struct cur *c, uint64_t *v)
{
	if (c->len - c->pos < 8)
		return -1;
	memcpy(v, c->p + c->pos, 8);
	*v = bswap64_if(*v, c->swap);
	c->pos += 8;
	return 0;
}

/* A timestamp: high then low 32-bit word. */
static int c_ts(struct cur *c, uint64_t *v)
{
	uint32_t hi, lo;

	if (c_u32(c, &hi) || c_u32(c, &lo))
		return -1;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

static int c_bytes(struct cur *c, size_t n, const uint8_t **out)
{
	if (c->len - c->pos < n)
		return -1;
	*out = c->p + c->pos;
	c->pos += n;
	return 0;
}

struct opt {
	uint16_t code, len;
	struct cur val; /* cursor over the value, same byte order */
};

/* Next option: 1 = got one, 0 = end of options, < 0 = error (message set). */
static int next_opt(struct pcapng_reader *r, struct cur *c, uint64_t off, struct opt *o)
{
	const uint8_t *v;

	if (c->pos == c->len)
		return 0;
	if (c_u16(c, &o->code) || c_u16(c, &o->len))
		return rd_fail(
		    r, -EBADMSG, "block at offset %llu: %zu stray bytes after the options",
		    (unsigned long long)off, c->len - (c->pos > c->len ? c->len : c->pos));
	if (o->code == 0)
		return 0; /* opt_endofopt: whatever follows is ignored */
	if (c_bytes(c, pad4(o->len), &v))
		return rd_fail(r, -EBADMSG,
			       "block at offset %llu: option %u of length %u overruns the block",
			       (unsigned long long)off, o->code, o->len);
	o->val.p = v;
	o->val.len = o->len;
	o->val.pos = 0;
	o->val.swap = c->swap;
	return 1;
}

static void copy_str(char *dst, size_t cap, const struct opt *o)
{
	size_t n = o->len < cap - 1 ? o->len : cap - 1;

	memcpy(dst, o->val.p, n);
	dst[n] = '\0';
}

static void opt_comment(struct pcapng_record *rec, const struct opt *o)
{
	if (rec->has_comment)
		return; /* the first comment wins */
	rec->has_comment = 1;
	copy_str(rec->comment, sizeof(rec->comment), o);
}

/* Raw timestamp in interface units -> ns since the epoch, clamped. */
static uint64_t ts_to_ns(const struct pcapng_interface *ifc, uint64_t raw)
{
	/* nanoseconds and no offset (pkt-record's): as they are, without a 128-bit division */
	if (ifc->ts_units_per_sec == 1000000000 && !ifc->ts_offset_sec)
		return raw;
	/* 128 bits: raw * 1e9 cannot overflow, whatever the resolution */
	__int128 ns = (__int128)((unsigned __int128)raw * 1000000000u / ifc->ts_units_per_sec);

	ns += (__int128)ifc->ts_offset_sec * 1000000000;
	if (ns < 0)
		return 0;
	if (ns > (__int128)UINT64_MAX)
		return UINT64_MAX;
	return (uint64_t)ns;
}

static int parse_shb(struct pcapng_reader *r, struct cur *c, uint64_t off,
		     struct pcapng_record *rec)
{
	uint32_t magic;
	uint16_t major, minor;
	uint64_t seclen;
	struct opt o;
	int rc;

	if (c_u32(c, &magic) || c_u16(c, &major) || c_u16(c, &minor) || c_u64(c, &seclen))
		return rd_fail(r, -EBADMSG, "block at offset %llu: section header too short",
			       (unsigned long long)off);
	if (major != 1)
		return rd_fail(r, -EBADMSG,
			       "block at offset %llu: unsupported pcapng version %u.%u (need 1.x)",
			       (unsigned long long)off, major, minor);
	while ((rc = next_opt(r, c, off, &o)) > 0) {
		switch (o.code) {
		case OPT_COMMENT:
			opt_comment(rec, &o);
			break;
		case SHB_HARDWARE:
			copy_str(rec->shb_hardware, sizeof(rec->shb_hardware), &o);
			break;
		case SHB_OS:
			copy_str(rec->shb_os, sizeof(rec->shb_os), &o);
			break;
		case SHB_USERAPPL:
			copy_str(rec->shb_userappl, sizeof(rec->shb_userappl), &o);
			break;
		}
	}
	if (rc < 0)
		return rc;
	rec->kind = PCAPNG_REC_SECTION;
	return 0;
}

static int parse_idb(struct pcapng_reader *r, struct cur *c, uint64_t off,
		     struct pcapng_record *rec)
{
	struct pcapng_interface ifc;
	uint16_t linktype, reserved;
	int seen_tsresol = 0;
	struct opt o;
	int rc;

	memset(&ifc, 0, sizeof(ifc));
	if (c_u16(c, &linktype) || c_u16(c, &reserved) || c_u32(c, &ifc.snaplen))
		return rd_fail(r, -EBADMSG, "block at offset %llu: interface block too short",
			       (unsigned long long)off);
	ifc.section = r->section;
	ifc.linktype = linktype;
	ifc.ts_units_per_sec = 1000000;
	while ((rc = next_opt(r, c, off, &o)) > 0) {
		switch (o.code) {
		case IF_NAME:
			copy_str(ifc.name, sizeof(ifc.name), &o);
			break;
		case IF_DESCRIPTION:
			copy_str(ifc.description, sizeof(ifc.description), &o);
			break;
		case IF_TSRESOL: {
			uint8_t v, e;
			uint64_t u = 1;

			if (o.len != 1 || seen_tsresol)
				return rd_fail(r, -EBADMSG, "block at offset %llu: if_tsresol %s",
					       (unsigned long long)off,
					       seen_tsresol ? "given twice" : "length is not 1");
			seen_tsresol = 1;
			v = o.val.p[0];
			e = v & 0x7f;
			/* bit 7: power of 2, else power of 10; must fit 64 bits */
			if ((v & 0x80) ? e > 63 : e > 19)
				return rd_fail(
				    r, -EBADMSG,
				    "block at offset %llu: if_tsresol %s^-%u is out of range",
				    (unsigned long long)off, (v & 0x80) ? "2" : "10", e);
			if (v & 0x80)
				u = 1ull << e;
			else
				while (e--)
					u *= 10;
			ifc.ts_units_per_sec = u;
			break;
		}
		case IF_TSOFFSET: {
			uint64_t v;

			if (o.len == 8 && !c_u64(&o.val, &v))
				ifc.ts_offset_sec = (int64_t)v;
			break;
		}
		}
	}
	if (rc < 0)
		return rc;
	if (r->nif >= PCAPNG_MAX_IFACES)
		return rd_fail(r, -EBADMSG,
			       "block at offset %llu: more than %u interfaces in section %u",
			       (unsigned long long)off, PCAPNG_MAX_IFACES, r->section);
	if (r->nif == r->ifcap) {
		uint32_t ncap = r->ifcap ? r->ifcap * 2 : 8;
		struct pcapng_interface *n = realloc(r->ifs, ncap * sizeof(*n));

		if (!n)
			return rd_fail(r, -ENOMEM, "out of memory for %u interfaces", ncap);
		r->ifs = n;
		r->ifcap = ncap;
	}
	r->ifs[r->nif] = ifc;
	rec->kind = PCAPNG_REC_INTERFACE;
	rec->if_id = r->nif++;
	return 0;
}

static int check_if(struct pcapng_reader *r, uint64_t off, const char *what, uint32_t if_id)
{
	if (if_id < r->nif)
		return 0;
	return rd_fail(r, -EBADMSG,
		       "block at offset %llu: %s refers to interface %u, but section %u has %u",
		       (unsigned long long)off, what, if_id, r->section, r->nif);
}

/* Packet data of caplen bytes, padded to 4. */
static int packet_data(struct pcapng_reader *r, struct cur *c, uint64_t off,
		       struct pcapng_record *rec)
{
	size_t room = c->len - c->pos;

	if (rec->caplen > room)
		return rd_fail(r, -EBADMSG,
			       "block at offset %llu: captured length %u exceeds the %zu bytes of "
			       "room in the block",
			       (unsigned long long)off, rec->caplen, room);
	rec->data = c->p + c->pos;
	/* room is a multiple of 4 (block framing), so the padding fits too */
	c->pos += pad4(rec->caplen) <= room ? pad4(rec->caplen) : room;
	return 0;
}

static int packet_opts(struct pcapng_reader *r, struct cur *c, uint64_t off,
		       struct pcapng_record *rec)
{
	struct opt o;
	int rc;

	while ((rc = next_opt(r, c, off, &o)) > 0) {
		switch (o.code) {
		case OPT_COMMENT:
			opt_comment(rec, &o);
			break;
		case EPB_FLAGS:
			if (o.len == 4 && !c_u32(&o.val, &rec->flags))
				rec->has_flags = 1;
			break;
		case EPB_DROPCOUNT:
			/* PB uses code 3/4 differently; only EPB defines these two */
			if (rec->block_type == PCAPNG_BT_EPB && o.len == 8 &&
			    !c_u64(&o.val, &rec->dropcount))
				rec->has_dropcount = 1;
			break;
		case EPB_PACKETID:
			if (rec->block_type == PCAPNG_BT_EPB && o.len == 8 &&
			    !c_u64(&o.val, &rec->packetid))
				rec->has_packetid = 1;
			break;
		}
	}
	return rc;
}

static int parse_epb(struct pcapng_reader *r, struct cur *c, uint64_t off,
		     struct pcapng_record *rec)
{
	int rc;

	if (c_u32(c, &rec->if_id) || c_ts(c, &rec->ts_raw) || c_u32(c, &rec->caplen) ||
	    c_u32(c, &rec->origlen))
		return rd_fail(r, -EBADMSG, "block at offset %llu: packet block too short",
			       (unsigned long long)off);
	rc = check_if(r, off, "enhanced packet block", rec->if_id);
	if (!rc)
		rc = packet_data(r, c, off, rec);
	if (!rc)
		rc = packet_opts(r, c, off, rec);
	if (rc)
		return rc;
	rec->kind = PCAPNG_REC_PACKET;
	rec->has_ts = 1;
	rec->ts_ns = ts_to_ns(&r->ifs[rec->if_id], rec->ts_raw);
	return 0;
}

static int parse_pb(struct pcapng_reader *r, struct cur *c, uint64_t off, struct pcapng_record *rec)
{
	uint16_t if_id, drops;
	int rc;

	if (c_u16(c, &if_id) || c_u16(c, &drops) || c_ts(c, &rec->ts_raw) ||
	    c_u32(c, &rec->caplen) || c_u32(c, &rec->origlen))
		return rd_fail(r, -EBADMSG, "block at offset %llu: packet block too short",
			       (unsigned long long)off);
	rec->if_id = if_id;
	rc = check_if(r, off, "packet block", rec->if_id);
	if (!rc)
		rc = packet_data(r, c, off, rec);
	if (!rc)
		rc = packet_opts(r, c, off, rec);
	if (rc)
		return rc;
	if (drops != 0xFFFF) { /* 0xFFFF: counter not available */
		rec->has_dropcount = 1;
		rec->dropcount = drops;
	}
	rec->kind = PCAPNG_REC_PACKET;
	rec->has_ts = 1;
	rec->ts_ns = ts_to_ns(&r->ifs[rec->if_id], rec->ts_raw);
	return 0;
}

static int parse_spb(struct pcapng_reader *r, struct cur *c, uint64_t off,
		     struct pcapng_record *rec)
{
	size_t room;
	uint32_t snap;
	int rc;

	if (c_u32(c, &rec->origlen))
		return rd_fail(r, -EBADMSG, "block at offset %llu: simple packet block too short",
			       (unsigned long long)off);
	rc = check_if(r, off, "simple packet block", 0);
	if (rc)
		return rc;
	/* no caplen field: min(original length, snaplen of interface 0) */
	room = c->len - c->pos;
	snap = r->ifs[0].snaplen;
	rec->caplen = rec->origlen;
	if (snap && rec->caplen > snap)
		rec->caplen = snap;
	if (rec->caplen > room)
		return rd_fail(
		    r, -EBADMSG,
		    "block at offset %llu: simple packet block holds %zu bytes, needs %u",
		    (unsigned long long)off, room, rec->caplen);
	rec->data = c->p + c->pos;
	rec->if_id = 0;
	rec->kind = PCAPNG_REC_PACKET;
	return 0;
}

static int parse_isb(struct pcapng_reader *r, struct cur *c, uint64_t off,
		     struct pcapng_record *rec)
{
	const struct pcapng_interface *ifc;
	struct opt o;
	int rc;

	if (c_u32(c, &rec->if_id) || c_ts(c, &rec->ts_raw))
		return rd_fail(r, -EBADMSG, "block at offset %llu: statistics block too short",
			       (unsigned long long)off);
	rc = check_if(r, off, "interface statistics block", rec->if_id);
	if (rc)
		return rc;
	ifc = &r->ifs[rec->if_id];
	while ((rc = next_opt(r, c, off, &o)) > 0) {
		switch (o.code) {
		case OPT_COMMENT:
			opt_comment(rec, &o);
			break;
		case ISB_STARTTIME:
			if (o.len == 8 && !c_ts(&o.val, &rec->starttime)) {
				rec->has_starttime = 1;
				rec->starttime = ts_to_ns(ifc, rec->starttime);
			}
			break;
		case ISB_ENDTIME:
			if (o.len == 8 && !c_ts(&o.val, &rec->endtime)) {
				rec->has_endtime = 1;
				rec->endtime = ts_to_ns(ifc, rec->endtime);
			}
			break;
		case ISB_IFRECV:
			rec->has_ifrecv = o.len == 8 && !c_u64(&o.val, &rec->ifrecv);
			break;
		case ISB_IFDROP:
			rec->has_ifdrop = o.len == 8 && !c_u64(&o.val, &rec->ifdrop);
			break;
		case ISB_OSDROP:
			rec->has_osdrop = o.len == 8 && !c_u64(&o.val, &rec->osdrop);
			break;
		}
	}
	if (rc < 0)
		return rc;
	rec->kind = PCAPNG_REC_STATS;
	rec->has_ts = 1;
	rec->ts_ns = ts_to_ns(ifc, rec->ts_raw);
	return 0;
}

/*
 * A custom block: ours (PCAPNG_PEN_PKTREC, PCAPNG_PKTREC_EVENT) is an event;
 * any other is skipped by length, as Wireshark does with a PEN it does not know.
 */
static int parse_custom(struct pcapng_reader *r, struct cur *c, uint64_t off,
			struct pcapng_record *rec)
{
	uint32_t pen, what;
	struct opt o;
	int rc;

	rec->kind = PCAPNG_REC_OTHER;
	if (c_u32(c, &pen) || pen != PCAPNG_PEN_PKTREC)
		return 0;
	if (c_u32(c, &what) || what != PCAPNG_PKTREC_EVENT)
		return 0; /* a later kind of ours: skipped like a foreign one */
	if (c_ts(c, &rec->ts_raw))
		return rd_fail(r, -EBADMSG, "block at offset %llu: event block too short",
			       (unsigned long long)off);
	while ((rc = next_opt(r, c, off, &o)) > 0)
		if (o.code == OPT_COMMENT)
			opt_comment(rec, &o);
	if (rc)
		return rc;
	if (!rec->has_comment || !rec->comment[0])
		return rd_fail(r, -EBADMSG, "block at offset %llu: event block without its text",
			       (unsigned long long)off);
	rec->kind = PCAPNG_REC_EVENT;
	rec->has_ts = 1;
	rec->ts_ns = rec->ts_raw;
	return 0;
}

static uint32_t min_block_len(uint32_t type)
{
	switch (type) {
	case PCAPNG_BT_SHB:
		return 28; /* magic, version, section length */
	case PCAPNG_BT_IDB:
		return 20;
	case PCAPNG_BT_EPB:
	case PCAPNG_BT_PB:
		return 32;
	case PCAPNG_BT_SPB:
		return 16;
	case PCAPNG_BT_ISB:
		return 24;
	case PCAPNG_BT_CB_COPY:
	case PCAPNG_BT_CB_NOCOPY:
		return 16; /* private enterprise number */
	default:
		return 12;
	}
}

static int truncated(struct pcapng_reader *r, uint64_t off, size_t have, const char *want)
{
	const char *unit = r->classic ? "record" : "block";

	if (r->in_err == -EPIPE && have == 0)
		/* a zstd stream cut at a flush point: a recording that was killed */
		rd_fail(r, 0, "file ends at offset %llu between %ss, but %s (cut while recording?)",
			(unsigned long long)off, unit, zin_error(r->in));
	else if (r->in_err == -EPIPE)
		rd_fail(r, 0, "truncated %s at offset %llu (have %zu of %s bytes): %s", unit,
			(unsigned long long)off, have, want, zin_error(r->in));
	else
		rd_fail(r, 0, "truncated %s at offset %llu (have %zu of %s bytes)", unit,
			(unsigned long long)off, have, want);
	r->state = PCAPNG_TRUNCATED;
	return PCAPNG_TRUNCATED;
}

static int truncated_n(struct pcapng_reader *r, uint64_t off, size_t have, uint32_t want)
{
	char w[16];

	snprintf(w, sizeof(w), "%u", want);
	return truncated(r, off, have, w);
}

/* Validate the framing of the block at wpos: 0 and its length/order, or an error. */
static int frame_block(struct pcapng_reader *r, uint64_t off, uint32_t *type_out, uint32_t *len_out,
		       int *swap_out)
{
	uint32_t type, len, trailer, minlen;
	int swap = r->swap, rc;

	rc = fill(r, 8);
	if (rc < 0)
		return rc;
	if (rc) {
		size_t have = r->wlen - r->wpos;

		if (!have && !r->in_err) {
			r->state = PCAPNG_EOF;
			return PCAPNG_EOF;
		}
		return truncated(r, off, have, "at least 8");
	}
	type = peek_u32(r->win + r->wpos, 0);
	if (type == PCAPNG_BT_SHB) { /* palindrome: same in both orders */
		uint32_t magic;

		rc = fill(r, 12);
		if (rc < 0)
			return rc;
		if (rc)
			return truncated(r, off, r->wlen - r->wpos, "at least 12");
		magic = peek_u32(r->win + r->wpos + 8, 0);
		if (magic == PCAPNG_BYTE_ORDER_MAGIC)
			swap = 0;
		else if (magic == __builtin_bswap32(PCAPNG_BYTE_ORDER_MAGIC))
			swap = 1;
		else
			return rd_fail(r, -EBADMSG,
				       "block at offset %llu: section header with invalid "
				       "byte-order magic 0x%08x",
				       (unsigned long long)off, magic);
	} else {
		type = bswap32_if(type, swap);
	}
	len = peek_u32(r->win + r->wpos + 4, swap);
	minlen = min_block_len(type);
	if (len < 12)
		return rd_fail(r, -EBADMSG, "block at offset %llu: total length %u is less than 12",
			       (unsigned long long)off, len);
	if (len % 4)
		return rd_fail(r, -EBADMSG,
			       "block at offset %llu: total length %u is not a multiple of 4",
			       (unsigned long long)off, len);
	if (len > PCAPNG_MAX_BLOCK)
		return rd_fail(r, -EBADMSG,
			       "block at offset %llu: total length %u exceeds the maximum of %u",
			       (unsigned long long)off, len, PCAPNG_MAX_BLOCK);
	if (len < minlen)
		return rd_fail(r, -EBADMSG,
			       "block at offset %llu: total length %u is too small for block type "
			       "0x%08x (minimum %u)",
			       (unsigned long long)off, len, type, minlen);
	rc = fill(r, len);
	if (rc < 0)
		return rc;
	if (rc)
		return truncated_n(r, off, r->wlen - r->wpos, len);
	trailer = peek_u32(r->win + r->wpos + len - 4, swap);
	if (trailer != len)
		return rd_fail(
		    r, -EBADMSG,
		    "block at offset %llu: trailing length %u does not match the header's %u",
		    (unsigned long long)off, trailer, len);
	*type_out = type;
	*len_out = len;
	*swap_out = swap;
	return 0;
}

static int host_is_le(void)
{
	const uint16_t one = 1;

	return *(const uint8_t *)&one == 1;
}

/*
 * Clears a record without touching its texts beyond their first byte (the
 * section header's three are 384 bytes a block, for the rare block that
 * has them).
 */
static void rec_reset(struct pcapng_record *rec)
{
	memset(rec, 0, offsetof(struct pcapng_record, comment));
	rec->comment[0] = '\0';
	memset(&rec->has_ifrecv, 0,
	       offsetof(struct pcapng_record, shb_userappl) -
		   offsetof(struct pcapng_record, has_ifrecv));
	rec->shb_userappl[0] = rec->shb_os[0] = rec->shb_hardware[0] = '\0';
}

static int read_block(struct pcapng_reader *r, struct pcapng_record *rec)
{
	uint64_t off = r->woff + r->wpos;
	uint32_t type = 0, len = 0;
	struct cur c;
	int swap = 0, rc;

	if (r->state)
		return r->state;
	rc = frame_block(r, off, &type, &len, &swap);
	if (rc == PCAPNG_EOF || rc == PCAPNG_TRUNCATED)
		return rc;
	if (rc < 0) {
		if (rc != -EBADMSG)
			r->state = rc; /* I/O errors are final */
		r->have_bad = 1;
		r->bad_off = off;
		r->bad_len = 0;
		return rc;
	}
	rec_reset(rec);
	rec->block_type = type;
	rec->offset = off;
	rec->block_len = len;
	c.p = r->win + r->wpos + 8;
	c.len = len - 12;
	c.pos = 0;
	c.swap = swap;
	switch (type) {
	case PCAPNG_BT_SHB:
		rc = parse_shb(r, &c, off, rec);
		if (!rc) {
			/* a new section: new byte order, interfaces start over */
			r->section = r->started ? r->section + 1 : 0;
			r->started = 1;
			r->swap = swap;
			r->nif = 0;
		}
		break;
	case PCAPNG_BT_IDB:
		rc = parse_idb(r, &c, off, rec);
		break;
	case PCAPNG_BT_EPB:
		rc = parse_epb(r, &c, off, rec);
		break;
	case PCAPNG_BT_SPB:
		rc = parse_spb(r, &c, off, rec);
		break;
	case PCAPNG_BT_PB:
		rc = parse_pb(r, &c, off, rec);
		break;
	case PCAPNG_BT_ISB:
		rc = parse_isb(r, &c, off, rec);
		break;
	case PCAPNG_BT_CB_COPY:
	case PCAPNG_BT_CB_NOCOPY:
		rc = parse_custom(r, &c, off, rec);
		break;
	default: /* NRB, DSB, unknown: skipped by length */
		rec->kind = PCAPNG_REC_OTHER;
		break;
	}
	if (rc) {
		if (rc == -EBADMSG) {
			r->have_bad = 1;
			r->bad_off = off;
			r->bad_len = len; /* framing was fine: resync skips it whole */
		} else {
			r->state = rc;
		}
		return rc;
	}
	rec->section = r->section;
	rec->big_endian = host_is_le() ? r->swap : !r->swap;
	r->wpos += len;
	r->have_bad = 0;
	return 0;
}

static int classic_next(struct pcapng_reader *r, struct pcapng_record *rec);

int pcapng_next(struct pcapng_reader *r, struct pcapng_record *rec)
{
	if (!r || !rec)
		return -EINVAL;
	return r->classic ? classic_next(r, rec) : read_block(r, rec);
}

static int known_type(uint32_t t)
{
	switch (t) {
	case PCAPNG_BT_SHB:
	case PCAPNG_BT_IDB:
	case PCAPNG_BT_PB:
	case PCAPNG_BT_SPB:
	case PCAPNG_BT_NRB:
	case PCAPNG_BT_ISB:
	case PCAPNG_BT_EPB:
	case PCAPNG_BT_DSB:
	case PCAPNG_BT_CB_COPY:
	case PCAPNG_BT_CB_NOCOPY:
		return 1;
	default:
		return 0;
	}
}

/*
 * Is there a plausible block at wpos? 1 yes, 0 no, < 0 fatal. Needs a known
 * type, a sane length, a matching trailer and, for packets and statistics,
 * an interface that exists (an SHB may start a new section in either order).
 */
static int plausible(struct pcapng_reader *r, uint64_t move_start)
{
	uint32_t type, len, minlen;
	int swap = r->swap, rc;

	rc = fill(r, 12);
	if (rc)
		return rc < 0 ? rc : 0;
	type = peek_u32(r->win + r->wpos, 0);
	if (type == PCAPNG_BT_SHB) {
		uint32_t magic = peek_u32(r->win + r->wpos + 8, 0);

		if (magic == PCAPNG_BYTE_ORDER_MAGIC)
			swap = 0;
		else if (magic == __builtin_bswap32(PCAPNG_BYTE_ORDER_MAGIC))
			swap = 1;
		else
			return 0;
	} else {
		type = bswap32_if(type, swap);
	}
	if (!known_type(type))
		return 0;
	len = peek_u32(r->win + r->wpos + 4, swap);
	minlen = min_block_len(type);
	if (len < minlen || len % 4 || len > PCAPNG_MAX_BLOCK)
		return 0;
	if ((type == PCAPNG_BT_EPB || type == PCAPNG_BT_ISB) &&
	    peek_u32(r->win + r->wpos + 8, swap) >= r->nif)
		return 0;
	if (type == PCAPNG_BT_PB && (peek_u32(r->win + r->wpos + 8, swap) & 0xFFFF) >= r->nif)
		return 0; /* approximate: if_id is the first 16-bit half */
	/* bounded work: once compaction got expensive, only check what is buffered */
	if (len > r->wlen - r->wpos && r->moved - move_start > RESYNC_BUDGET)
		return 0;
	rc = fill(r, len);
	if (rc)
		return rc < 0 ? rc : 0;
	return peek_u32(r->win + r->wpos + len - 4, swap) == len;
}

int pcapng_resync(struct pcapng_reader *r, uint64_t *skipped)
{
	uint64_t start, move_start;
	int rc;

	if (skipped)
		*skipped = 0;
	if (!r)
		return -EINVAL;
	if (r->state == PCAPNG_EOF || r->state == PCAPNG_TRUNCATED)
		return PCAPNG_EOF;
	if (r->classic) {
		/* records carry no marker to find again: stop where the damage is */
		r->state = PCAPNG_EOF;
		return PCAPNG_EOF;
	}
	if (r->state)
		return r->state;
	start = r->woff + r->wpos;
	if (r->have_bad && r->bad_off == start && r->bad_len) {
		/* the block's framing was valid, only its content was not */
		r->wpos += r->bad_len;
		r->have_bad = 0;
		if (skipped)
			*skipped = r->bad_len;
		return 0;
	}
	r->have_bad = 0;
	move_start = r->moved;
	for (;;) {
		/* blocks are 4-byte aligned relative to the previous good one */
		if (fill(r, 4) || r->wlen - r->wpos < 4) {
			r->wpos = r->wlen;
			break;
		}
		r->wpos += 4;
		rc = plausible(r, move_start);
		if (rc < 0) {
			r->state = rc;
			return rc;
		}
		if (rc > 0) {
			if (skipped)
				*skipped = r->woff + r->wpos - start;
			return 0;
		}
		if (r->wlen - r->wpos < 12 && (r->in_eof || r->in_err)) {
			r->wpos = r->wlen;
			break;
		}
	}
	if (skipped)
		*skipped = r->woff + r->wpos - start;
	if (r->in_err && r->in_err != -EPIPE) {
		r->state = r->in_err;
		return r->in_err;
	}
	r->state = PCAPNG_EOF;
	return PCAPNG_EOF;
}

/* ------------------------------------------------------------ classic pcap */

/*
 * Classic pcap (libpcap's savefile, draft-ietf-opsawg-pcap): a 24-byte file
 * header, then records of a 16-byte header and the packet bytes. It is
 * presented like pcapng: a section, one interface, packet records.
 */
#define PCAP_MAGIC_USEC		  0xA1B2C3D4u
#define PCAP_MAGIC_NSEC		  0xA1B23C4Du
#define PCAP_MAGIC_MODIFIED	  0xA1B2CD34u /* Kuznetzov's patched libpcap: 24-byte records */
#define PCAP_FILE_HDR_LEN	  24u
#define PCAP_REC_HDR_LEN	  16u
#define PCAP_MODIFIED_REC_HDR_LEN 24u
/* libpcap's and Wireshark's bound for ordinary link types; a bigger snaplen raises it */
#define PCAP_MAX_RECORD	     262144u
#define PCAP_LINKTYPE(f)     ((f)&0x0000FFFFu)
#define PCAP_LT_RESERVED(f)  ((f)&0x03FF0000u)
#define PCAP_LT_FCS_PRESENT  0x04000000u
#define PCAP_PACKET_OUTGOING 4 /* Linux sll_pkttype in modified pcap records */

enum classic_stage { CLASSIC_SECTION, CLASSIC_INTERFACE, CLASSIC_PACKETS };

/* What a magic number says: timestamp units and record header size. */
struct classic_format {
	uint32_t magic;
	uint64_t units_per_sec;
	uint32_t rec_hdr_len;
};

/* The format of magic m (*swap: written in the other byte order), or NULL. */
static const struct classic_format *classic_format(uint32_t m, int *swap)
{
	static const struct classic_format formats[] = {
	    {PCAP_MAGIC_USEC, 1000000u, PCAP_REC_HDR_LEN},
	    {PCAP_MAGIC_NSEC, 1000000000u, PCAP_REC_HDR_LEN},
	    {PCAP_MAGIC_MODIFIED, 1000000u, PCAP_MODIFIED_REC_HDR_LEN},
	};

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (m == formats[i].magic || m == __builtin_bswap32(formats[i].magic)) {
			*swap = m != formats[i].magic;
			return &formats[i];
		}
	}
	return NULL;
}

/*
 * Validates the file header at offset 0 and sets up the one interface.
 * A file cut inside its header opens, and reading it reports the cut.
 */
static int classic_open(struct pcapng_reader *r, const struct classic_format *fmt, int swap)
{
	struct pcapng_interface ifc;
	uint16_t major, minor;
	uint32_t thiszone, sigfigs, field;
	struct cur c;
	int rc;

	r->classic_hdr_len = fmt->rec_hdr_len;
	r->classic = 1;
	r->swap = swap;
	rc = fill(r, PCAP_FILE_HDR_LEN);
	if (rc < 0)
		return rc;
	if (rc) {
		truncated(r, 0, r->wlen, "24");
		return 0;
	}
	c.p = r->win + 4;
	c.len = PCAP_FILE_HDR_LEN - 4;
	c.pos = 0;
	c.swap = swap;
	memset(&ifc, 0, sizeof(ifc));
	if (c_u16(&c, &major) || c_u16(&c, &minor) || c_u32(&c, &thiszone) || c_u32(&c, &sigfigs) ||
	    c_u32(&c, &ifc.snaplen) || c_u32(&c, &field))
		return rd_fail(r, -EBADMSG, "file header at offset 0 too short");
	if (major != 2)
		return rd_fail(r, -EBADMSG,
			       "file header at offset 4: unsupported pcap version %u.%u (need 2.x)",
			       major, minor);
	if (PCAP_LT_RESERVED(field))
		return rd_fail(r, -EBADMSG,
			       "file header at offset 20: link type field 0x%08x has reserved bits "
			       "set (0x%08x)",
			       field, PCAP_LT_RESERVED(field));
	/* thiszone and sigfigs are always 0 in practice; libpcap ignores them too */
	ifc.linktype = (uint16_t)PCAP_LINKTYPE(field);
	ifc.ts_units_per_sec = fmt->units_per_sec;
	r->classic_max = ifc.snaplen > PCAP_MAX_RECORD ? ifc.snaplen : PCAP_MAX_RECORD;
	if (r->classic_max > PCAPNG_MAX_BLOCK - PCAP_MODIFIED_REC_HDR_LEN)
		r->classic_max = PCAPNG_MAX_BLOCK - PCAP_MODIFIED_REC_HDR_LEN;
	r->ifs = calloc(1, sizeof(*r->ifs));
	if (!r->ifs)
		return rd_fail(r, -ENOMEM, "out of memory");
	r->ifs[0] = ifc;
	r->ifcap = 1;
	r->wpos = PCAP_FILE_HDR_LEN;
	r->classic_stage = CLASSIC_SECTION;
	return 0;
}

/* The next record of a classic pcap file, same contract as read_block. */
static int classic_next(struct pcapng_reader *r, struct pcapng_record *rec)
{
	uint64_t off = r->woff + r->wpos;
	uint32_t sec, frac, len;
	struct cur c;
	int rc;

	if (r->state)
		return r->state;
	rec_reset(rec);
	rec->big_endian = host_is_le() ? r->swap : !r->swap;
	if (r->classic_stage == CLASSIC_SECTION) {
		r->classic_stage = CLASSIC_INTERFACE;
		r->started = 1;
		rec->kind = PCAPNG_REC_SECTION;
		rec->block_len = PCAP_FILE_HDR_LEN;
		return 0;
	}
	if (r->classic_stage == CLASSIC_INTERFACE) {
		r->classic_stage = CLASSIC_PACKETS;
		r->nif = 1;
		rec->kind = PCAPNG_REC_INTERFACE;
		rec->block_len = PCAP_FILE_HDR_LEN;
		return 0;
	}
	rc = fill(r, r->classic_hdr_len);
	if (rc < 0) {
		r->state = rc;
		return rc;
	}
	if (rc) {
		size_t have = r->wlen - r->wpos;

		if (!have && !r->in_err) {
			r->state = PCAPNG_EOF;
			return PCAPNG_EOF;
		}
		return truncated_n(r, off, have, r->classic_hdr_len);
	}
	c.p = r->win + r->wpos;
	c.len = r->classic_hdr_len;
	c.pos = 0;
	c.swap = r->swap;
	if (c_u32(&c, &sec) || c_u32(&c, &frac) || c_u32(&c, &rec->caplen) ||
	    c_u32(&c, &rec->origlen))
		return rd_fail(r, -EBADMSG, "record at offset %llu: header too short",
			       (unsigned long long)off);
	if (rec->caplen > r->classic_max) {
		/* nothing to resynchronize on: the rest of the file is unreadable */
		r->state = -EBADMSG;
		return rd_fail(
		    r, -EBADMSG,
		    "record at offset %llu: captured length %u exceeds the maximum of %u",
		    (unsigned long long)off, rec->caplen, r->classic_max);
	}
	if (r->classic_hdr_len == PCAP_MODIFIED_REC_HDR_LEN) {
		/* ifindex (4), protocol (2), then the Linux packet type */
		uint8_t pkt_type = c.p[c.pos + 6];

		rec->has_flags = 1;
		rec->flags =
		    pkt_type == PCAP_PACKET_OUTGOING ? PCAPNG_DIR_OUTBOUND : PCAPNG_DIR_INBOUND;
	}
	len = r->classic_hdr_len + rec->caplen;
	rc = fill(r, len);
	if (rc < 0) {
		r->state = rc;
		return rc;
	}
	if (rc)
		return truncated_n(r, off, r->wlen - r->wpos, len);
	rec->kind = PCAPNG_REC_PACKET;
	rec->offset = off;
	rec->block_len = len;
	rec->data = r->win + r->wpos + r->classic_hdr_len;
	rec->has_ts = 1;
	rec->ts_raw = (uint64_t)sec * r->ifs[0].ts_units_per_sec + frac;
	rec->ts_ns = ts_to_ns(&r->ifs[0], rec->ts_raw);
	r->wpos += len;
	return 0;
}

int pcapng_reader_open(struct pcapng_reader **rp, struct zin *in, char *err, size_t errlen)
{
	const struct classic_format *classic;
	struct pcapng_reader *r;
	struct pcapng_record *rec;
	int rc, classic_swap;
	uint32_t m;

	*rp = NULL;
	if (!in) {
		set_err(err, errlen, "no input");
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	rec = malloc(sizeof(*rec));
	if (!r || !rec) {
		free(r);
		free(rec);
		zin_close(in);
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->in = in;
	rc = fill(r, 4);
	if (rc < 0)
		goto fail;
	if (rc) {
		static const uint8_t shb[4] = {0x0A, 0x0D, 0x0D, 0x0A};

		/* a cut zstd frame or the start of an SHB: truncated, not foreign */
		if (r->in_err == -EPIPE || (r->wlen && !memcmp(r->win, shb, r->wlen))) {
			truncated(r, 0, r->wlen, "at least 8");
			free(rec);
			*rp = r;
			return 0;
		}
		rc = rd_fail(r, -EBADMSG, "not a pcapng file (%s)",
			     r->wlen ? "too short" : "empty input");
		goto fail;
	}
	m = peek_u32(r->win, 0);
	classic = classic_format(m, &classic_swap);
	if (classic) {
		rc = classic_open(r, classic, classic_swap);
		if (rc < 0)
			goto fail;
		free(rec);
		*rp = r;
		return 0;
	}
	if (m != PCAPNG_BT_SHB) {
		rc = rd_fail(
		    r, -EBADMSG,
		    "not a pcapng file: it does not start with a section header block (0x%08x)",
		    __builtin_bswap32(m));
		goto fail;
	}
	/* parse the first SHB now to report errors early, then rewind to it */
	rc = read_block(r, rec);
	if (rc < 0)
		goto fail;
	if (rc == 0) {
		r->wpos = 0;
		r->started = 0;
		r->section = 0;
	}
	/* a cut inside the first SHB: the reader reports it as a truncation */
	free(rec);
	*rp = r;
	return 0;
fail:
	set_err(err, errlen, "%s", r->msg);
	free(rec);
	pcapng_reader_close(r);
	return rc;
}

int pcapng_reader_open_path(struct pcapng_reader **r, const char *path, char *err, size_t errlen)
{
	struct zin *in;
	int rc;

	*r = NULL;
	rc = zin_open_path(&in, path, err, errlen);
	if (rc)
		return rc;
	rc = pcapng_reader_open(r, in, err, errlen);
	if (rc && err && errlen) {
		char tmp[PCAPNG_ERRLEN];

		snprintf(tmp, sizeof(tmp), "%s", err);
		snprintf(err, errlen, "%s: %s", path, tmp);
	}
	return rc;
}

int pcapng_reader_open_mem(struct pcapng_reader **r, const void *buf, size_t len, char *err,
			   size_t errlen)
{
	struct zin *in;
	int rc;

	*r = NULL;
	rc = zin_open_mem(&in, buf, len, err, errlen);
	if (rc)
		return rc;
	return pcapng_reader_open(r, in, err, errlen);
}

const struct pcapng_interface *pcapng_interface(const struct pcapng_reader *r, uint32_t if_id)
{
	if (!r || if_id >= r->nif)
		return NULL;
	return &r->ifs[if_id];
}

uint32_t pcapng_interface_count(const struct pcapng_reader *r)
{
	return r ? r->nif : 0;
}

const char *pcapng_reader_error(const struct pcapng_reader *r)
{
	return r ? r->msg : "";
}

uint64_t pcapng_reader_offset(const struct pcapng_reader *r)
{
	return r ? r->woff + r->wpos : 0;
}

void pcapng_reader_close(struct pcapng_reader *r)
{
	if (!r)
		return;
	zin_close(r->in);
	free(r->win);
	free(r->ifs);
	free(r);
}
