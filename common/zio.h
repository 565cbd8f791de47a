/* SPDX-License-Identifier: MIT */
/*
 * Byte streams for pcapng files: plain or zstd, in both directions.
 *
 * The output side writes only at flush points: data is compressed into
 * memory and each flush (ZSTD_e_flush) makes everything so far decodable
 * and writes it, so a reader of a file cut by kill -9 decodes every byte up
 * to the last flush. The stream is one zstd frame, ended at close (several
 * frames trip Wireshark's reader: see zio.c). The input side detects zstd
 * by its magic number, also on pipes, and decodes any number of
 * concatenated frames (other writers make them).
 *
 * Library code: never prints, never exits. Functions return 0 (or a byte
 * count) on success and -errno on failure, with a message in the caller's
 * error buffer where one is given.
 */
#ifndef PKT_ZIO_H
#define PKT_ZIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ZIO_ERRLEN 256

/* ---- output ---- */

struct zout;

/*
 * Wrap an open file descriptor. zstd_level 0 writes plain bytes; 1..22 writes
 * zstd frames at that level. The stream owns fd from here on (closed by
 * zout_close) unless ZOUT_KEEP_FD is passed in flags (used for stdout).
 */
#define ZOUT_KEEP_FD 0x1
#define ZOUT_FSYNC   0x2 /* zout_close fsyncs a regular file before closing it */
/*
 * zstd: compress in a worker thread of libzstd's (one; ~7 MB more memory,
 * bounded by libzstd's job buffers), so that the caller only copies its
 * input. Same stream, same flush points; a library built without threads
 * compresses in the caller's thread.
 */
#define ZOUT_THREAD 0x4
int zout_open_fd(struct zout **out, int fd, int zstd_level, unsigned flags, char *err,
		 size_t errlen);

/* Append bytes. Callers pass whole pcapng blocks so flush points fall between blocks. */
int zout_write(struct zout *out, const void *buf, size_t len);

/*
 * Appending without a copy: room for len bytes at the end of the stream's
 * input buffer, or NULL when there is none (an error, or len too large:
 * then zout_write). zout_space_used() appends the len bytes written there
 * (at most what was asked for): a whole pcapng block, as with zout_write.
 */
void *zout_space(struct zout *out, size_t len);
int zout_space_used(struct zout *out, size_t len);

/* Write everything buffered; for zstd, make it decodable first (a flush point). */
int zout_flush(struct zout *out);

/* Flush, fsync when asked, close (unless ZOUT_KEEP_FD) and free. Safe on NULL. */
int zout_close(struct zout *out, char *err, size_t errlen);

/* Bytes handed to zout_write so far (uncompressed) and bytes written to the fd. */
uint64_t zout_bytes_in(const struct zout *out);
uint64_t zout_bytes_out(const struct zout *out);

/* Last error message (empty if none). */
const char *zout_error(const struct zout *out);

/* ---- input ---- */

struct zin;

/*
 * Wrap a file descriptor (file or pipe); reads the first bytes to detect zstd.
 * The caller keeps the fd (zin_close does not close it); zin_open_path's fd
 * is closed by zin_close.
 */
int zin_open_fd(struct zin **in, int fd, char *err, size_t errlen);
/* Read from a memory buffer (not copied; must outlive the stream). */
int zin_open_mem(struct zin **in, const void *buf, size_t len, char *err, size_t errlen);
/* Open a path ("-" is stdin). */
int zin_open_path(struct zin **in, const char *path, char *err, size_t errlen);

/*
 * Read up to len decompressed bytes. Returns bytes read (> 0), 0 at a clean
 * end of input, or -errno. A zstd stream that stops mid-frame returns what
 * could be decoded, then -EPIPE with zin_error() saying the frame was cut.
 */
ssize_t zin_read(struct zin *in, void *buf, size_t len);

/* Non-zero when the input is zstd-compressed. */
int zin_is_zstd(const struct zin *in);
/* Offset in the decompressed stream of the next byte zin_read returns. */
uint64_t zin_offset(const struct zin *in);
const char *zin_error(const struct zin *in);
void zin_close(struct zin *in);

#endif
