// SPDX-License-Identifier: MIT
/* zout / zin: plain and zstd round trips, frames, truncation, pipes, errors. */
#include "test.h"
#include "zio.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

/* A temporary file, unlinked at once; the fd stays usable. */
static int tmpfd(void)
{
	char path[] = "/tmp/pkt-zio-XXXXXX";
	int fd = mkstemp(path);

	if (fd >= 0)
		unlink(path);
	return fd;
}

static void fill_pattern(uint8_t *p, size_t n, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		/* half-compressible: runs plus noise */
		p[i] = (i & 64) ? (uint8_t)(x >> 24) : (uint8_t)(i / 7);
	}
}

/* Read the whole fd content into a malloc'd buffer. */
static uint8_t *slurp(int fd, size_t *len)
{
	struct stat st;
	uint8_t *b;

	if (fstat(fd, &st) < 0)
		return NULL;
	b = malloc((size_t)st.st_size + 1);
	if (!b)
		return NULL;
	if (pread(fd, b, (size_t)st.st_size, 0) != st.st_size) {
		free(b);
		return NULL;
	}
	*len = (size_t)st.st_size;
	return b;
}

/* Decode everything from a zin; returns bytes or the negative error. */
static ssize_t drain_zin(struct zin *in, uint8_t *dst, size_t cap, size_t chunk)
{
	size_t got = 0;

	for (;;) {
		size_t want = cap - got < chunk ? cap - got : chunk;
		ssize_t n = zin_read(in, dst + got, want);

		if (n < 0)
			return got ? -(ssize_t)got - 1000000000 : n; /* encodes "data then error" */
		if (n == 0)
			return (ssize_t)got;
		got += (size_t)n;
		if (got == cap)
			return (ssize_t)got;
	}
}

static unsigned roundtrip_flags; /* added to ZOUT_KEEP_FD */

static void roundtrip(int *failed__, int level, size_t total, size_t wchunk, size_t rchunk,
		      int flushes)
{
	char err[ZIO_ERRLEN] = "";
	struct zout *out;
	struct zin *in;
	uint8_t *src = malloc(total), *dst = malloc(total + 16), *file;
	size_t flen = 0;
	int fd = tmpfd();
	ssize_t n;

	ASSERT_TRUE(src && dst && fd >= 0, "setup");
	fill_pattern(src, total, (unsigned)total);
	ASSERT_OK(zout_open_fd(&out, fd, level, ZOUT_KEEP_FD | roundtrip_flags, err, sizeof(err)),
		  err);
	for (size_t off = 0; off < total; off += wchunk) {
		size_t n1 = total - off < wchunk ? total - off : wchunk;

		ASSERT_OK(zout_write(out, src + off, n1), "zout_write");
		if (flushes && (off / wchunk) % (size_t)flushes == 0)
			ASSERT_OK(zout_flush(out), "zout_flush");
	}
	ASSERT_U64_EQ(zout_bytes_in(out), total, "bytes in");
	ASSERT_OK(zout_close(out, err, sizeof(err)), err);
	file = slurp(fd, &flen);
	ASSERT_TRUE(file, "slurp");
	if (!level)
		ASSERT_TRUE(flen == total && !memcmp(file, src, total),
			    "plain output is the input");

	/* through the fd */
	ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0, "lseek");
	ASSERT_OK(zin_open_fd(&in, fd, err, sizeof(err)), err);
	ASSERT_EQ(zin_is_zstd(in), level > 0, "zstd detected");
	n = drain_zin(in, dst, total + 16, rchunk);
	ASSERT_EQ(n, (ssize_t)total, zin_error(in));
	ASSERT_MEMEQ(dst, src, total, "fd round trip");
	ASSERT_U64_EQ(zin_offset(in), total, "zin_offset");
	zin_close(in);

	/* through memory */
	memset(dst, 0, total);
	ASSERT_OK(zin_open_mem(&in, file, flen, err, sizeof(err)), err);
	n = drain_zin(in, dst, total + 16, rchunk);
	ASSERT_EQ(n, (ssize_t)total, zin_error(in));
	ASSERT_MEMEQ(dst, src, total, "mem round trip");
	zin_close(in);
	close(fd);
	free(file);
	free(src);
	free(dst);
}

TEST(zio_plain_roundtrip)
{
	roundtrip(failed__, 0, 1000, 100, 7, 0);
	if (*failed__)
		return;
	roundtrip(failed__, 0, 3u << 20, 4096, 65536, 0);
	if (*failed__)
		return;
	roundtrip(failed__, 0, 600000, 300000, 1 << 20, 1); /* writes larger than the buffer */
}

TEST(zio_zstd_roundtrip)
{
	roundtrip(failed__, 3, 1000, 100, 7, 0);
	if (*failed__)
		return;
	roundtrip(failed__, 1, 5u << 20, 8192, 100000, 0);
	if (*failed__)
		return;
	roundtrip(failed__, 19, 200000, 1000, 1, 0);
}

TEST(zio_zstd_flushes)
{
	/* a flush every 3 writes: flush points inside one frame, read back whole */
	roundtrip(failed__, 3, 300000, 1000, 4096, 3);
}

/* Count zstd frames in a buffer (skips over each with ZSTD_findFrameCompressedSize). */
static int count_frames(const uint8_t *b, size_t len)
{
	int n = 0;

	while (len) {
		size_t fs = ZSTD_findFrameCompressedSize(b, len);

		if (ZSTD_isError(fs))
			return -1;
		b += fs;
		len -= fs;
		n++;
	}
	return n;
}

static void flush_points(int *failed__, unsigned flags)
{
	char err[ZIO_ERRLEN];
	struct zout *out;
	uint8_t data[5000], dst[8000], *file;
	size_t flen;
	uint64_t after_flush;
	struct zin *in;
	int fd = tmpfd();

	fill_pattern(data, sizeof(data), 1);
	ASSERT_OK(zout_open_fd(&out, fd, 3, ZOUT_KEEP_FD | flags, err, sizeof(err)), err);
	ASSERT_OK(zout_write(out, data, sizeof(data)), "write");
	/* nothing on disk before a flush: the file only ever ends at a flush point */
	ASSERT_U64_EQ(zout_bytes_out(out), 0, "nothing written before a flush");
	ASSERT_OK(zout_flush(out), "flush");
	after_flush = zout_bytes_out(out);
	ASSERT_TRUE(after_flush > 0, "flush wrote the data");
	ASSERT_OK(zout_flush(out), "empty flush");
	ASSERT_U64_EQ(zout_bytes_out(out), after_flush, "an empty flush writes nothing");
	ASSERT_OK(zout_write(out, data, 100), "write");
	ASSERT_OK(zout_flush(out), "flush");
	ASSERT_OK(zout_write(out, data, 200), "write");
	ASSERT_OK(zout_close(out, err, sizeof(err)), err);
	file = slurp(fd, &flen);
	ASSERT_TRUE(file != NULL, "slurp");
	/* one frame: Wireshark's reader mishandles a frame that starts mid-buffer */
	ASSERT_EQ(count_frames(file, flen), 1, "one frame for the whole stream");
	/* what the first flush wrote decodes to every byte given before it */
	ASSERT_OK(zin_open_mem(&in, file, (size_t)after_flush, err, sizeof(err)), err);
	/* drain_zin's code for "5000 bytes, then an error" */
	ASSERT_EQ(drain_zin(in, dst, sizeof(dst), 4096), -(ssize_t)sizeof(data) - 1000000000,
		  "all bytes before the flush, then the cut");
	ASSERT_TRUE(strstr(zin_error(in), "ends inside a frame") != NULL, zin_error(in));
	ASSERT_MEMEQ(dst, data, sizeof(data), "decoded bytes are right");
	zin_close(in);
	free(file);
	close(fd);
}

TEST(zio_flush_points_in_one_frame)
{
	flush_points(failed__, 0);
}

/* zstd's worker thread: the same stream, the same flush points, errors at the same calls */
TEST(zio_zstd_thread)
{
	char err[ZIO_ERRLEN] = "";
	uint8_t data[4096];
	struct zout *out;
	int fd;

	flush_points(failed__, ZOUT_THREAD);
	if (*failed__)
		return;
	roundtrip_flags = ZOUT_THREAD;
	roundtrip(failed__, 1, 5u << 20, 300, 100000, 997);
	if (!*failed__)
		roundtrip(failed__, 1, 6u << 20, 65536, 65536, 0);
	roundtrip_flags = 0;
	if (*failed__)
		return;
	fd = open("/dev/full", O_WRONLY);
	if (fd < 0)
		return; /* no /dev/full */
	memset(data, 'x', sizeof(data));
	ASSERT_OK(zout_open_fd(&out, fd, 1, ZOUT_THREAD, err, sizeof(err)), err);
	ASSERT_OK(zout_write(out, data, sizeof(data)), "buffered write succeeds");
	ASSERT_EQ(zout_flush(out), -ENOSPC, "flush reports ENOSPC");
	ASSERT_EQ(zout_close(out, err, sizeof(err)), -ENOSPC, "close reports it");
}

/* zout_space: a block built in place reads back like one given to zout_write */
TEST(zio_space_in_place)
{
	char err[ZIO_ERRLEN] = "";
	uint8_t src[3000], dst[400000];
	size_t total = 0;

	fill_pattern(src, sizeof(src), 9);
	for (int level = 0; level <= 1; level++) {
		struct zout *out;
		struct zin *in;
		int fd = tmpfd();

		ASSERT_TRUE(fd >= 0, "tmpfd");
		ASSERT_OK(zout_open_fd(&out, fd, level, ZOUT_KEEP_FD, err, sizeof(err)), err);
		ASSERT_TRUE(zout_space(out, 64u << 20) == NULL, "too large: NULL, zout_write it");
		total = 0;
		for (int i = 0; i < 100; i++) {
			size_t n = 1 + (size_t)i * 29;
			uint8_t *room = zout_space(out, n + 8);

			ASSERT_TRUE(room != NULL, "room");
			memcpy(room, src, n);
			ASSERT_OK(zout_space_used(out, n), "used");
			ASSERT_OK(zout_write(out, src, 7), "write between");
			total += n + 7;
		}
		ASSERT_U64_EQ(zout_bytes_in(out), total, "bytes in");
		ASSERT_OK(zout_close(out, err, sizeof(err)), err);
		ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0, "lseek");
		ASSERT_OK(zin_open_fd(&in, fd, err, sizeof(err)), err);
		ASSERT_EQ(drain_zin(in, dst, sizeof(dst), 65536), (ssize_t)total, zin_error(in));
		zin_close(in);
		close(fd);
		for (size_t i = 0, off = 0; i < 100; i++) {
			size_t n = 1 + i * 29;

			ASSERT_MEMEQ(dst + off, src, n, "in place");
			ASSERT_MEMEQ(dst + off + n, src, 7, "written");
			off += n + 7;
		}
	}
}

TEST(zio_large_frame_is_bounded)
{
	/* incompressible data beyond 4 MiB is flushed and written without a flush call */
	char err[ZIO_ERRLEN];
	struct zout *out;
	size_t n = 6u << 20;
	uint8_t *data = malloc(n);
	uint32_t x = 7;
	int fd = tmpfd();

	ASSERT_TRUE(data, "malloc");
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (uint8_t)(x >> 23);
	}
	ASSERT_OK(zout_open_fd(&out, fd, 1, 0, err, sizeof(err)), err);
	for (size_t off = 0; off < n; off += 65536)
		ASSERT_OK(zout_write(out, data + off, 65536), "write");
	ASSERT_TRUE(zout_bytes_out(out) > 0, "data was written before any flush");
	ASSERT_OK(zout_close(out, err, sizeof(err)), err);
	free(data);
}

TEST(zio_truncated_zstd_tail)
{
	char err[ZIO_ERRLEN];
	struct zout *out;
	uint8_t data[20000], dst[40000], *file;
	size_t flen, first;
	struct zin *in;
	ssize_t n;
	int fd = tmpfd();

	fill_pattern(data, sizeof(data), 3);
	ASSERT_OK(zout_open_fd(&out, fd, 3, ZOUT_KEEP_FD, err, sizeof(err)), err);
	ASSERT_OK(zout_write(out, data, 10000), "write");
	ASSERT_OK(zout_flush(out), "flush");
	first = zout_bytes_out(out);
	ASSERT_OK(zout_write(out, data + 10000, 10000), "write");
	ASSERT_OK(zout_close(out, err, sizeof(err)), err);
	file = slurp(fd, &flen);
	ASSERT_TRUE(file && flen > first + 10, "data after the first flush");

	/* cut right after the first flush (kill -9): its 10000 bytes, then the cut */
	ASSERT_OK(zin_open_mem(&in, file, first, err, sizeof(err)), err);
	n = drain_zin(in, dst, sizeof(dst), 4096);
	ASSERT_EQ(n, -10000 - 1000000000, zin_error(in));
	ASSERT_MEMEQ(dst, data, 10000, "decoded bytes are right");
	zin_close(in);

	/* cut after the second flush point: the first 10000 bytes (and maybe more), then -EPIPE */
	ASSERT_OK(zin_open_mem(&in, file, flen - 5, err, sizeof(err)), err);
	{
		size_t got = 0;

		for (;;) {
			n = zin_read(in, dst + got, 3000);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		ASSERT_EQ(n, -EPIPE, "truncated frame is -EPIPE");
		ASSERT_TRUE(got >= 10000 && got < 20000, "decodable bytes returned first");
		ASSERT_MEMEQ(dst, data, got, "decoded bytes are right");
		ASSERT_TRUE(strstr(zin_error(in),
				   "zstd stream ends inside a frame at compressed offset") != NULL,
			    zin_error(in));
		ASSERT_EQ(zin_read(in, dst, 10), -EPIPE, "error is sticky");
	}
	zin_close(in);
	free(file);
	close(fd);
}

TEST(zio_reads_concatenated_frames)
{
	/* other writers (zstd -c a b, pzstd) make several frames: one stream to us */
	char err[ZIO_ERRLEN];
	uint8_t data[30000], dst[40000], *file;
	size_t flen;
	struct zin *in;
	int fd = tmpfd();

	fill_pattern(data, sizeof(data), 5);
	for (int i = 0; i < 3; i++) {
		struct zout *out;

		ASSERT_OK(zout_open_fd(&out, fd, 1 + i, ZOUT_KEEP_FD, err, sizeof(err)), err);
		ASSERT_OK(zout_write(out, data + i * 10000, 10000), "write");
		ASSERT_OK(zout_close(out, err, sizeof(err)), err);
	}
	file = slurp(fd, &flen);
	ASSERT_TRUE(file != NULL, "slurp");
	ASSERT_EQ(count_frames(file, flen), 3, "three frames");
	ASSERT_OK(zin_open_mem(&in, file, flen, err, sizeof(err)), err);
	ASSERT_EQ(drain_zin(in, dst, sizeof(dst), 7000), 30000, zin_error(in));
	ASSERT_MEMEQ(dst, data, sizeof(data), "all frames decoded in order");
	zin_close(in);
	free(file);
	close(fd);
}

TEST(zio_skippable_and_garbage)
{
	char err[ZIO_ERRLEN];
	uint8_t buf[256], dst[64];
	size_t c;
	struct zin *in;
	ssize_t n;
	/* skippable frame: magic 0x184D2A50, 4-byte length, payload */
	uint8_t skip[12] = {0x50, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 1, 2, 3, 4};

	memcpy(buf, skip, sizeof(skip));
	c = ZSTD_compress(buf + 12, sizeof(buf) - 12, "hello", 5, 1);
	ASSERT_TRUE(!ZSTD_isError(c), "compress");
	memcpy(buf + 12 + c, skip, sizeof(skip));
	c += 24;
	ASSERT_OK(zin_open_mem(&in, buf, c, err, sizeof(err)), err);
	ASSERT_TRUE(zin_is_zstd(in), "skippable frame first is zstd");
	n = drain_zin(in, dst, sizeof(dst), 64);
	ASSERT_EQ(n, 5, zin_error(in));
	ASSERT_MEMEQ(dst, "hello", 5, "content");
	zin_close(in);

	/* garbage after a valid frame: data, then -EBADMSG naming the offset */
	memcpy(buf + c, "\x28\xb5\x2f\xfd\xff\xff\xff\xff\xff\xff", 10);
	ASSERT_OK(zin_open_mem(&in, buf, c + 10, err, sizeof(err)), err);
	n = zin_read(in, dst, sizeof(dst));
	ASSERT_EQ(n, 5, "data before the garbage");
	n = zin_read(in, dst, sizeof(dst));
	ASSERT_TRUE(n == -EBADMSG || n == -EPIPE, zin_error(in));
	ASSERT_TRUE(strstr(zin_error(in), "compressed offset") != NULL, zin_error(in));
	zin_close(in);
}

TEST(zio_short_and_empty_input)
{
	char err[ZIO_ERRLEN];
	struct zin *in;
	uint8_t dst[8];

	ASSERT_OK(zin_open_mem(&in, "", 0, err, sizeof(err)), err);
	ASSERT_EQ(zin_is_zstd(in), 0, "empty is plain");
	ASSERT_EQ(zin_read(in, dst, 8), 0, "empty reads EOF");
	zin_close(in);
	ASSERT_OK(zin_open_mem(&in, "\x28\xb5", 2, err, sizeof(err)), err);
	ASSERT_EQ(zin_is_zstd(in), 0, "2 bytes are plain");
	ASSERT_EQ(zin_read(in, dst, 8), 2, "both bytes");
	ASSERT_EQ(zin_read(in, dst, 8), 0, "then EOF");
	zin_close(in);
	ASSERT_TRUE(zin_open_path(&in, "/nonexistent/x.pcapng", err, sizeof(err)) == -ENOENT,
		    "missing file");
	ASSERT_TRUE(strstr(err, "/nonexistent/x.pcapng") != NULL, err);
}

/* zstd through a pipe written a few bytes at a time: the peek must not lose data */
TEST(zio_pipe_peek)
{
	char err[ZIO_ERRLEN];
	uint8_t src[3000], comp[4000], dst[4000];
	int p[2];
	size_t c;
	pid_t pid;
	struct zin *in;
	ssize_t n;
	int status;

	fill_pattern(src, sizeof(src), 9);
	c = ZSTD_compress(comp, sizeof(comp), src, sizeof(src), 3);
	ASSERT_TRUE(!ZSTD_isError(c), "compress");
	ASSERT_OK(pipe(p), "pipe");
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		for (size_t off = 0; off < c; off += 3) {
			if (write(p[1], comp + off, c - off < 3 ? c - off : 3) < 0)
				_exit(1);
			if (off < 12)
				usleep(2000);
		}
		_exit(0);
	}
	close(p[1]);
	ASSERT_OK(zin_open_fd(&in, p[0], err, sizeof(err)), err);
	ASSERT_TRUE(zin_is_zstd(in), "zstd on a pipe");
	n = drain_zin(in, dst, sizeof(dst), 1000);
	ASSERT_EQ(n, (ssize_t)sizeof(src), zin_error(in));
	ASSERT_MEMEQ(dst, src, sizeof(src), "pipe content");
	zin_close(in);
	close(p[0]);
	waitpid(pid, &status, 0);
}

TEST(zio_write_error_enospc)
{
	char err[ZIO_ERRLEN] = "";
	struct zout *out;
	uint8_t data[4096];
	int fd = open("/dev/full", O_WRONLY);
	int rc;

	if (fd < 0)
		return; /* no /dev/full: nothing to test here */
	memset(data, 'x', sizeof(data));
	for (int level = 0; level <= 3; level += 3) {
		int f = level ? open("/dev/full", O_WRONLY) : fd;

		ASSERT_OK(zout_open_fd(&out, f, level, 0, err, sizeof(err)), err);
		ASSERT_OK(zout_write(out, data, sizeof(data)), "buffered write succeeds");
		rc = zout_flush(out);
		ASSERT_EQ(rc, -ENOSPC, "flush reports ENOSPC");
		ASSERT_TRUE(strstr(zout_error(out), "No space left on device") != NULL,
			    zout_error(out));
		ASSERT_EQ(zout_write(out, data, 10), -ENOSPC, "no writes after an error");
		ASSERT_EQ(zout_close(out, err, sizeof(err)), -ENOSPC, "close reports it");
		ASSERT_TRUE(strstr(err, "No space") != NULL, err);
	}
	ASSERT_EQ(zout_open_fd(&out, 1, 99, ZOUT_KEEP_FD, err, sizeof(err)), -EINVAL, "bad level");
	ASSERT_EQ(zout_close(NULL, err, sizeof(err)), 0, "close NULL");
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/*
 * A pipe to a slow reader while a timer interrupts write() (no SA_RESTART):
 * writes come back short or with EINTR, and zout must still deliver every
 * byte in order.
 */
TEST(zio_short_writes_and_eintr)
{
	struct sigaction sa, old;
	struct itimerval it = {{0, 500}, {0, 500}}, off = {{0, 0}, {0, 0}};
	char err[ZIO_ERRLEN];
	size_t total = 8u << 20;
	uint8_t *src = malloc(total);
	struct zout *out;
	int p[2], status;
	pid_t pid;

	ASSERT_TRUE(src != NULL, "malloc");
	fill_pattern(src, total, 5);
	ASSERT_OK(pipe(p), "pipe");
	pid = fork();
	if (pid == 0) {
		/* child: read slowly, compare with the expected bytes */
		uint8_t buf[4096];
		size_t got = 0;
		ssize_t n;

		close(p[1]);
		while ((n = read(p[0], buf, sizeof(buf))) > 0) {
			if (got + (size_t)n > total || memcmp(buf, src + got, (size_t)n))
				_exit(2);
			got += (size_t)n;
			if ((got & 0xffff) < (size_t)n)
				usleep(200);
		}
		_exit(got == total ? 0 : 3);
	}
	close(p[0]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: write() sees EINTR / short counts */
	sigaction(SIGALRM, &sa, &old);
	setitimer(ITIMER_REAL, &it, NULL);
	ASSERT_OK(zout_open_fd(&out, p[1], 0, 0, err, sizeof(err)), err);
	for (size_t o = 0; o < total; o += 1u << 20)
		ASSERT_OK(zout_write(out, src + o, 1u << 20), zout_error(out));
	ASSERT_OK(zout_close(out, err, sizeof(err)), err);
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	waitpid(pid, &status, 0);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "reader got every byte in order");
	ASSERT_TRUE(alarms > 0, "writes were interrupted");
	free(src);
}
