// SPDX-License-Identifier: MIT
/*
 * Plain / zstd byte streams for pcapng (see zio.h).
 *
 * Output: zstd data is compressed into a memory buffer and written only at a
 * flush point (ZSTD_e_flush: every byte given so far is decodable from what
 * was written), so the file on disk always ends where a decoder can stop
 * cleanly (kill -9 leaves a readable file up to the last flush). The whole
 * stream is ONE frame, ended at close: Wireshark's zstd reader (3.6 to at
 * least 4.0) looks for the next frame's magic at the start of its read
 * buffer instead of at the current position, so a file of several frames
 * is "damaged" for it as soon as a frame begins in the middle of a 128 KiB
 * read. A single frame cut after a flush reads cleanly there, as in zstd.
 *
 * Input: the first 4 bytes are peeked (kept in the input buffer, so pipes
 * work) to detect the zstd magic; zstd input is decoded frame after frame,
 * skippable frames included.
 */
#include "zio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define ZOUT_PLAIN_BUF (256u * 1024)	  /* plain: write when this much is buffered */
#define ZOUT_BUF_MAX   (4u * 1024 * 1024) /* zstd: flush and write beyond this */
/*
 * zstd: input gathered before the compressor sees it. With a worker thread
 * each ZSTD_compressStream2() call takes a lock and hands data over: once
 * per pcapng block (a few hundred bytes) that was a fifth of the reader's
 * instructions.
 */
#define ZOUT_STAGE (64u * 1024)
#define ZIN_BUF	   (128u * 1024)
#define ZSTD_MAGIC 0xFD2FB528u

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

/* ------------------------------------------------------------------ output */

struct zout {
	int fd;
	unsigned flags;
	int level;
	ZSTD_CCtx *cctx;
	uint8_t *buf; /* plain bytes or compressed data waiting for a flush point */
	size_t len, cap;
	uint8_t *stage; /* zstd: input not given to the compressor yet */
	size_t stage_len;
	int frame_open; /* zstd: a frame has begun and is not ended yet */
	int unflushed;	/* zstd: input given since the last flush point */
	int err;	/* sticky -errno after a failure */
	uint64_t bytes_in, bytes_out;
	char msg[ZIO_ERRLEN];
};

int zout_open_fd(struct zout **out, int fd, int zstd_level, unsigned flags, char *err,
		 size_t errlen)
{
	struct zout *z;

	*out = NULL;
	if (fd < 0 || zstd_level < 0 || zstd_level > ZSTD_maxCLevel()) {
		set_err(err, errlen, "invalid zstd level %d (0..%d)", zstd_level, ZSTD_maxCLevel());
		return -EINVAL;
	}
	z = calloc(1, sizeof(*z));
	if (!z)
		goto nomem;
	z->fd = fd;
	z->flags = flags;
	z->level = zstd_level;
	z->cap = zstd_level ? ZSTD_CStreamOutSize() * 2 : ZOUT_PLAIN_BUF;
	z->buf = malloc(z->cap);
	if (!z->buf)
		goto nomem;
	if (zstd_level) {
		size_t rc;

		z->stage = malloc(ZOUT_STAGE);
		z->cctx = z->stage ? ZSTD_createCCtx() : NULL;
		if (!z->cctx)
			goto nomem;
		rc = ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel, zstd_level);
		if (!ZSTD_isError(rc))
			/* a checksum per frame lets readers detect corruption */
			rc = ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_checksumFlag, 1);
		/* refused by a library without threads: then it compresses here, as without the
		 * flag */
		if (!ZSTD_isError(rc) && (flags & ZOUT_THREAD) &&
		    ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_nbWorkers, 1)))
			z->flags &= ~ZOUT_THREAD;
		if (ZSTD_isError(rc)) {
			set_err(err, errlen, "zstd: cannot set level %d: %s", zstd_level,
				ZSTD_getErrorName(rc));
			ZSTD_freeCCtx(z->cctx);
			free(z->stage);
			free(z->buf);
			free(z);
			return -EINVAL;
		}
	}
	*out = z;
	return 0;
nomem:
	if (z) {
		free(z->stage);
		free(z->buf);
		free(z);
	}
	set_err(err, errlen, "out of memory");
	return -ENOMEM;
}

static int zout_fail(struct zout *z, int e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int zout_fail(struct zout *z, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(z->msg, sizeof(z->msg), fmt, ap);
	va_end(ap);
	z->err = e;
	return e;
}

/* Write all of buf: retry on EINTR and short writes. */
static int write_all(struct zout *z, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(z->fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return zout_fail(z, -errno, "write failed after %llu bytes: %s",
					 (unsigned long long)z->bytes_out, strerror(errno));
		}
		if (w == 0)
			return zout_fail(z, -EIO, "write returned 0 after %llu bytes",
					 (unsigned long long)z->bytes_out);
		p += w;
		n -= (size_t)w;
		z->bytes_out += (uint64_t)w;
	}
	return 0;
}

static int drain(struct zout *z)
{
	int rc;

	if (!z->len)
		return 0;
	rc = write_all(z, z->buf, z->len);
	z->len = 0;
	return rc;
}

/* Make room for at least `need` more bytes in the output buffer. */
static int reserve(struct zout *z, size_t need)
{
	size_t ncap;
	uint8_t *nb;

	if (z->cap - z->len >= need)
		return 0;
	ncap = z->cap * 2;
	while (ncap - z->len < need)
		ncap *= 2;
	nb = realloc(z->buf, ncap);
	if (!nb)
		return zout_fail(z, -ENOMEM, "out of memory for %zu bytes of output buffer", ncap);
	z->buf = nb;
	z->cap = ncap;
	return 0;
}

/* Run the compressor; with ZSTD_e_flush or ZSTD_e_end, until it is all out. */
static int compress(struct zout *z, const void *src, size_t len, ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = {src, len, 0};
	size_t chunk = ZSTD_CStreamOutSize();

	for (;;) {
		ZSTD_outBuffer ob;
		size_t rc;
		int e = reserve(z, chunk);

		if (e)
			return e;
		ob.dst = z->buf + z->len;
		ob.size = z->cap - z->len;
		ob.pos = 0;
		rc = ZSTD_compressStream2(z->cctx, &ob, &in, mode);
		z->len += ob.pos;
		if (ZSTD_isError(rc))
			return zout_fail(z, -EIO, "zstd compression failed: %s",
					 ZSTD_getErrorName(rc));
		if (mode == ZSTD_e_continue ? in.pos == in.size : rc == 0)
			return 0;
	}
}

/* Give the staged input to the compressor, with mode. */
static int compress_stage(struct zout *z, ZSTD_EndDirective mode)
{
	int rc = compress(z, z->stage, z->stage_len, mode);

	z->stage_len = 0;
	return rc;
}

/*
 * Make everything given so far decodable (ZSTD_e_flush ends a block, not
 * the frame; end_frame ends the frame) and write everything buffered.
 */
static int zout_commit(struct zout *z, int end_frame)
{
	int rc;

	if (z->cctx && (z->unflushed || (end_frame && z->frame_open))) {
		rc = compress_stage(z, end_frame ? ZSTD_e_end : ZSTD_e_flush);
		if (rc)
			return rc;
		z->unflushed = 0;
		if (end_frame)
			z->frame_open = 0;
	}
	return drain(z);
}

/* zstd: len more bytes of input were staged or compressed */
static int zstd_took(struct zout *z, size_t len)
{
	z->frame_open = 1;
	z->unflushed = 1;
	z->bytes_in += len;
	/* bound memory: past this much, flush and write without waiting */
	if (z->len > ZOUT_BUF_MAX)
		return zout_commit(z, 0);
	return 0;
}

int zout_write(struct zout *z, const void *buf, size_t len)
{
	int rc;

	if (!z)
		return -EINVAL;
	if (z->err)
		return z->err;
	if (!len)
		return 0;
	if (!z->cctx) {
		if (z->len + len > z->cap) {
			rc = drain(z);
			if (rc)
				return rc;
		}
		if (len >= z->cap) {
			rc = write_all(z, buf, len);
			if (rc)
				return rc;
		} else {
			memcpy(z->buf + z->len, buf, len);
			z->len += len;
		}
		z->bytes_in += len;
		return 0;
	}
	if (len >= ZOUT_STAGE) { /* staged input first: the stream keeps its order */
		rc = compress_stage(z, ZSTD_e_continue);
		if (!rc)
			rc = compress(z, buf, len, ZSTD_e_continue);
		if (rc)
			return rc;
	} else {
		if (len > ZOUT_STAGE - z->stage_len) {
			rc = compress_stage(z, ZSTD_e_continue);
			if (rc)
				return rc;
		}
		memcpy(z->stage + z->stage_len, buf, len);
		z->stage_len += len;
	}
	return zstd_took(z, len);
}

void *zout_space(struct zout *z, size_t len)
{
	if (!z || z->err)
		return NULL;
	if (!z->cctx) {
		if (len > z->cap - z->len && (len > z->cap || drain(z)))
			return NULL;
		return z->buf + z->len;
	}
	if (len > ZOUT_STAGE)
		return NULL;
	if (len > ZOUT_STAGE - z->stage_len && compress_stage(z, ZSTD_e_continue))
		return NULL;
	return z->stage + z->stage_len;
}

int zout_space_used(struct zout *z, size_t len)
{
	if (!z)
		return -EINVAL;
	if (z->err)
		return z->err;
	if (!z->cctx) {
		z->len += len;
		z->bytes_in += len;
		return 0;
	}
	z->stage_len += len;
	return zstd_took(z, len);
}

int zout_flush(struct zout *z)
{
	if (!z)
		return -EINVAL;
	if (z->err)
		return z->err;
	return zout_commit(z, 0);
}

int zout_close(struct zout *z, char *err, size_t errlen)
{
	int rc;

	if (!z)
		return 0;
	rc = z->err ? z->err : zout_commit(z, 1);
	if (!rc && (z->flags & ZOUT_FSYNC)) {
		struct stat st;

		/* only regular files: fsync on a pipe or tty is EINVAL */
		if (fstat(z->fd, &st) == 0 && S_ISREG(st.st_mode) && fsync(z->fd) < 0)
			rc = zout_fail(z, -errno, "fsync failed: %s", strerror(errno));
	}
	if (!(z->flags & ZOUT_KEEP_FD) && close(z->fd) < 0 && !rc)
		rc = zout_fail(z, -errno, "close failed: %s", strerror(errno));
	if (rc)
		set_err(err, errlen, "%s", z->msg);
	ZSTD_freeCCtx(z->cctx);
	free(z->stage);
	free(z->buf);
	free(z);
	return rc;
}

uint64_t zout_bytes_in(const struct zout *z)
{
	return z ? z->bytes_in : 0;
}

uint64_t zout_bytes_out(const struct zout *z)
{
	return z ? z->bytes_out : 0;
}

const char *zout_error(const struct zout *z)
{
	return z ? z->msg : "";
}

/* ------------------------------------------------------------------- input */

struct zin {
	int fd; /* -1 for memory input */
	int own_fd;
	int zstd;
	ZSTD_DCtx *dctx;
	const uint8_t *in; /* compressed (or plain) input not yet consumed */
	size_t ipos, ilen;
	uint8_t *ibuf;	    /* owned buffer behind `in` for fd input */
	int in_eof;	    /* no more raw input */
	int in_frame;	    /* zstd: inside a frame (decoder wants more) */
	uint64_t raw_off;   /* raw bytes consumed before in[0] */
	uint64_t frame_off; /* compressed offset where the current frame began */
	uint64_t out_off;   /* decompressed bytes returned */
	int err;	    /* sticky -errno */
	char msg[ZIO_ERRLEN];
};

static int zin_fail(struct zin *z, int e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int zin_fail(struct zin *z, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(z->msg, sizeof(z->msg), fmt, ap);
	va_end(ap);
	z->err = e;
	return e;
}

/* Refill the raw buffer (fd input); keeps unconsumed bytes. */
static int zin_fill(struct zin *z)
{
	ssize_t n;

	if (z->in_eof)
		return 0;
	if (z->ipos) {
		memmove(z->ibuf, z->ibuf + z->ipos, z->ilen - z->ipos);
		z->raw_off += z->ipos;
		z->ilen -= z->ipos;
		z->ipos = 0;
	}
	for (;;) {
		n = read(z->fd, z->ibuf + z->ilen, ZIN_BUF - z->ilen);
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
	if (n < 0)
		return zin_fail(z, -errno, "read failed at input offset %llu: %s",
				(unsigned long long)(z->raw_off + z->ilen), strerror(errno));
	if (n == 0)
		z->in_eof = 1;
	z->ilen += (size_t)n;
	return (int)(n > 0);
}

static int zin_setup(struct zin *z, char *err, size_t errlen)
{
	/* peek: gather up to 4 bytes (pipes may deliver fewer per read) */
	while (z->ilen - z->ipos < 4 && !z->in_eof) {
		int rc = zin_fill(z);

		if (rc < 0) {
			set_err(err, errlen, "%s", z->msg);
			return rc;
		}
	}
	if (z->ilen - z->ipos >= 4) {
		const uint8_t *p = z->in + z->ipos;
		uint32_t m = p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;

		/* a skippable frame may come first too */
		z->zstd = m == ZSTD_MAGIC || (m & 0xFFFFFFF0u) == 0x184D2A50u;
	}
	if (z->zstd) {
		z->dctx = ZSTD_createDCtx();
		if (!z->dctx) {
			set_err(err, errlen, "out of memory");
			return -ENOMEM;
		}
	}
	return 0;
}

int zin_open_fd(struct zin **in, int fd, char *err, size_t errlen)
{
	struct zin *z;
	int rc;

	*in = NULL;
	z = calloc(1, sizeof(*z));
	if (z)
		z->ibuf = malloc(ZIN_BUF);
	if (!z || !z->ibuf) {
		free(z);
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	z->fd = fd;
	z->in = z->ibuf;
	rc = zin_setup(z, err, errlen);
	if (rc) {
		zin_close(z);
		return rc;
	}
	*in = z;
	return 0;
}

int zin_open_mem(struct zin **in, const void *buf, size_t len, char *err, size_t errlen)
{
	struct zin *z;
	int rc;

	*in = NULL;
	z = calloc(1, sizeof(*z));
	if (!z) {
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	z->fd = -1;
	z->in = buf;
	z->ilen = len;
	z->in_eof = 1;
	rc = zin_setup(z, err, errlen);
	if (rc) {
		zin_close(z);
		return rc;
	}
	*in = z;
	return 0;
}

int zin_open_path(struct zin **in, const char *path, char *err, size_t errlen)
{
	int fd, rc;

	*in = NULL;
	if (!strcmp(path, "-"))
		return zin_open_fd(in, STDIN_FILENO, err, errlen);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		set_err(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return rc;
	}
	rc = zin_open_fd(in, fd, err, errlen);
	if (rc) {
		close(fd);
		return rc;
	}
	(*in)->own_fd = 1;
	return 0;
}

static ssize_t read_plain(struct zin *z, uint8_t *buf, size_t len)
{
	size_t have = z->ilen - z->ipos;
	ssize_t n;

	if (have) {
		if (have > len)
			have = len;
		memcpy(buf, z->in + z->ipos, have);
		z->ipos += have;
		return (ssize_t)have;
	}
	if (z->in_eof)
		return 0;
	/* buffer empty: read straight into the caller's memory */
	for (;;) {
		n = read(z->fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
	if (n < 0)
		return zin_fail(z, -errno, "read failed at offset %llu: %s",
				(unsigned long long)z->out_off, strerror(errno));
	if (n == 0)
		z->in_eof = 1;
	z->raw_off += (uint64_t)n;
	return n;
}

static ssize_t read_zstd(struct zin *z, uint8_t *buf, size_t len)
{
	ZSTD_outBuffer out = {buf, len, 0};

	for (;;) {
		ZSTD_inBuffer ib = {z->in + z->ipos, z->ilen - z->ipos, 0};
		size_t rc;

		if (ib.size == 0 && !z->in_eof && z->fd >= 0) {
			int frc = zin_fill(z);

			if (frc < 0)
				return out.pos ? (ssize_t)out.pos : frc;
			continue;
		}
		if (!z->in_frame) {
			/*
			 * Between frames with no input left: done. (An empty call
			 * would return the next header's size hint, not 0.)
			 */
			if (!ib.size)
				return (ssize_t)out.pos;
			z->frame_off = z->raw_off + z->ipos;
		}
		rc = ZSTD_decompressStream(z->dctx, &out, &ib);
		z->ipos += ib.pos;
		if (ZSTD_isError(rc)) {
			if (out.pos)
				return (ssize_t)out.pos; /* report the error on the next call */
			return zin_fail(z, -EBADMSG,
					"zstd: %s in the frame at compressed offset %llu",
					ZSTD_getErrorName(rc), (unsigned long long)z->frame_off);
		}
		/* rc == 0: a frame is complete and fully flushed */
		z->in_frame = rc != 0;
		if (out.pos == out.size)
			return (ssize_t)out.pos;
		if (z->ipos == z->ilen && z->in_eof) {
			if (out.pos)
				return (ssize_t)out.pos;
			if (!z->in_frame)
				return 0;
			return zin_fail(z, -EPIPE,
					"zstd stream ends inside a frame at compressed offset %llu "
					"(the frame began at %llu)",
					(unsigned long long)(z->raw_off + z->ilen),
					(unsigned long long)z->frame_off);
		}
		if (out.pos && z->ipos == z->ilen)
			return (ssize_t)out.pos; /* don't block on a pipe with data in hand */
	}
}

ssize_t zin_read(struct zin *z, void *buf, size_t len)
{
	ssize_t n;

	if (!z)
		return -EINVAL;
	if (z->err)
		return z->err;
	if (!len)
		return 0;
	n = z->zstd ? read_zstd(z, buf, len) : read_plain(z, buf, len);
	if (n > 0)
		z->out_off += (uint64_t)n;
	return n;
}

int zin_is_zstd(const struct zin *z)
{
	return z ? z->zstd : 0;
}

uint64_t zin_offset(const struct zin *z)
{
	return z ? z->out_off : 0;
}

const char *zin_error(const struct zin *z)
{
	return z ? z->msg : "";
}

void zin_close(struct zin *z)
{
	if (!z)
		return;
	if (z->own_fd && z->fd >= 0)
		close(z->fd);
	ZSTD_freeDCtx(z->dctx);
	free(z->ibuf);
	free(z);
}
