// SPDX-License-Identifier: MIT
/*
 * pcapng output of pkt-record: one file (or a rotation of files), with its
 * safety (0600, no symbolic links), flushes and the cut after a write error.
 * The blocks themselves (one IDB per (netns, ifindex, ifname) as first seen
 * in each file, EPBs, ISBs when a file is closed) are the trace writer's
 * (common/trace.c). Conventions: docs/format.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "trace.h"
#include "zio.h"
#include "record.h"

/*
 * A flush point (and the size a full disk cuts the file back to) at least
 * every this many bytes of pcapng, besides the one a second: a flood that
 * fills a disk within the first second would otherwise leave an empty file.
 * zstd: 8 MiB is ~0.5 MB on disk; a flush a MiB cost 1.3% more instructions.
 */
#define RECOUT_FLUSH_PLAIN (1u << 20)
#define RECOUT_FLUSH_ZSTD  (8u << 20)

struct recout {
	struct recout_cfg cfg;
	char *path_cur;
	struct zout *z;
	struct trace_writer *w;
	unsigned file_idx; /* index of the current file in the rotation */
	unsigned files;	   /* files opened so far */
	bool wrapped;
	bool section_started;
	int fd_keep;	     /* dup of the current file's fd (-1 for stdout): to cut it back */
	off_t good_off;	     /* file size after the last successful flush */
	uint64_t flushed_in; /* zout_bytes_in() at that flush */
	uint64_t bytes_done; /* bytes written to files already closed */
	uint64_t file_start_ns, last_ts;
	uint64_t lost, lost_at_file_start;
};

static char *file_name(const struct recout *o, unsigned idx)
{
	char *p;

	if (idx == 0)
		return strdup(o->cfg.path);
	if (asprintf(&p, "%s.%u", o->cfg.path, idx) < 0)
		return NULL;
	return p;
}

static int open_file(struct recout *o, uint64_t start_ns, char *err, size_t errlen)
{
	char zerr[ZIO_ERRLEN];
	int fd, rc;

	free(o->path_cur);
	o->path_cur = NULL;
	if (!strcmp(o->cfg.path, "-")) {
		o->path_cur = strdup("-");
		fd = STDOUT_FILENO;
	} else {
		o->path_cur = file_name(o, o->file_idx);
		if (!o->path_cur)
			return -ENOMEM;
		/*
		 * Files we rotate over (-W) are ours to reuse. O_NOFOLLOW: never
		 * write through a symbolic link, even with --force (with O_EXCL a
		 * link, dangling or not, is EEXIST; with O_TRUNC it is ELOOP).
		 */
		int excl = (o->cfg.force || o->wrapped) ? O_TRUNC : O_EXCL;
		fd = open(o->path_cur,
			  O_WRONLY | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC | excl, 0600);
		if (fd < 0) {
			struct stat lst;
			rc = -errno;
			if ((rc == -EEXIST || rc == -ELOOP) && lstat(o->path_cur, &lst) == 0 &&
			    S_ISLNK(lst.st_mode))
				snprintf(err, errlen,
					 "%s is a symbolic link: refusing to write through it "
					 "(even with --force)",
					 o->path_cur);
			else if (rc == -EEXIST)
				snprintf(err, errlen, "%s exists (use --force)", o->path_cur);
			else
				snprintf(err, errlen, "%s: %s", o->path_cur, strerror(-rc));
			return rc;
		}
		/*
		 * Packet data is private: 0600 whatever the umask (which may have
		 * taken bits away) and for a file replaced with --force (which
		 * keeps its old mode). Only regular files: --force -o /dev/null.
		 */
		struct stat st;
		if (fstat(fd, &st) < 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", o->path_cur, strerror(-rc));
			close(fd);
			return rc;
		}
		if (S_ISREG(st.st_mode) && (st.st_mode & 07777) != 0600 && fchmod(fd, 0600) < 0 &&
		    (st.st_mode & 077)) {
			rc = -errno;
			snprintf(err, errlen, "%s: cannot make it private (mode 0600): %s",
				 o->path_cur, strerror(-rc));
			close(fd);
			return rc;
		}
	}
	if (!o->path_cur)
		return -ENOMEM;
	o->fd_keep = fd == STDOUT_FILENO ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 3);
	o->good_off = 0;
	o->flushed_in = 0;
	/*
	 * zstd was two thirds of the reader's instructions, and under a flood
	 * the reader falls behind and the ring loses events: with a second
	 * CPU, zstd compresses in a thread of its own (loss 16% -> 2% in A/B
	 * floods, docs/performance.md).
	 */
	unsigned zflags = fd == STDOUT_FILENO ? ZOUT_KEEP_FD : ZOUT_FSYNC;
	cpu_set_t cpus;
	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_COUNT(&cpus) > 1)
		zflags |= ZOUT_THREAD;
	rc = zout_open_fd(&o->z, fd, o->cfg.zstd_level, zflags, zerr, sizeof(zerr));
	if (rc) {
		snprintf(err, errlen, "%s: %s", o->path_cur, zerr);
		if (fd != STDOUT_FILENO)
			close(fd);
		if (o->fd_keep >= 0)
			close(o->fd_keep);
		o->fd_keep = -1;
		return rc;
	}
	o->files++;
	o->section_started = false;
	o->file_start_ns = start_ns;
	o->lost_at_file_start = o->lost;
	return 0;
}

/* SHB: written with the first packet (or at close) so that a failed setup leaves an empty file. */
static int start_section(struct recout *o, char *err, size_t errlen)
{
	char terr[PCAPNG_ERRLEN] = "";
	struct trace_section sec = {
	    .app = "pkt-record",
	    .hardware = true,
	    .host = o->cfg.hostname,
	    .filter = o->cfg.filter,
	    .snaplen = o->cfg.snaplen,
	    .describe = o->cfg.describe,
	    .describe_ctx = o->cfg.describe_ctx,
	};
	int rc;

	if (o->section_started)
		return 0;
	rc = trace_writer_open(&o->w, o->z, &sec, terr, sizeof(terr));
	if (rc) {
		snprintf(err, errlen, "%s: %s", o->path_cur, terr[0] ? terr : strerror(-rc));
		return rc;
	}
	o->section_started = true;
	return 0;
}

int recout_open(struct recout **out, const struct recout_cfg *cfg, uint64_t start_ns, char *err,
		size_t errlen)
{
	struct recout *o = calloc(1, sizeof(*o));
	int rc;

	*out = NULL;
	if (!o)
		return -ENOMEM;
	o->cfg = *cfg;
	o->fd_keep = -1;
	rc = open_file(o, start_ns, err, errlen);
	if (rc)
		goto fail;
	*out = o;
	return 0;
fail:
	free(o->path_cur);
	free(o);
	return rc;
}

static int write_isbs(struct recout *o, uint64_t end_ns, char *err, size_t errlen)
{
	struct trace_isb_opts isb = {
	    .ts_ns = end_ns,
	    .recording = true,
	    .start_ns = o->file_start_ns,
	    .lost = o->lost - o->lost_at_file_start,
	};

	if (trace_writer_stats(o->w, &isb)) {
		snprintf(err, errlen, "%s: %s", o->path_cur, trace_writer_error(o->w));
		return -EIO;
	}
	return 0;
}

static int close_file(struct recout *o, uint64_t end_ns, char *err, size_t errlen)
{
	char zerr[ZIO_ERRLEN] = "";
	int rc = 0, rc2;

	if (!o->z)
		return 0;
	if (!o->section_started)
		rc = start_section(o, err, errlen);
	if (!rc)
		rc = write_isbs(o, end_ns, err, errlen);
	trace_writer_free(o->w);
	o->w = NULL;
	zout_flush(o->z); /* count the last frame; errors are reported by zout_close */
	o->bytes_done += zout_bytes_out(o->z);
	rc2 = zout_close(o->z, zerr, sizeof(zerr));
	o->z = NULL;
	if (o->fd_keep >= 0)
		close(o->fd_keep);
	o->fd_keep = -1;
	if (rc2 && !rc) {
		snprintf(err, errlen, "%s: %s", o->path_cur, zerr[0] ? zerr : strerror(-rc2));
		rc = rc2;
	}
	return rc;
}

static int rotate(struct recout *o, uint64_t now_ns, char *err, size_t errlen)
{
	int rc = close_file(o, now_ns, err, errlen);

	if (rc)
		return rc;
	o->file_idx++;
	if (o->cfg.rotate_files && o->file_idx >= o->cfg.rotate_files) {
		o->file_idx = 0;
		o->wrapped = true;
	}
	return open_file(o, now_ns, err, errlen);
}

int recout_write(struct recout *o, const struct trace_hop *hop, char *err, size_t errlen)
{
	int rc;

	if (!o->z)
		return -EBADF;
	if (o->cfg.rotate_bytes && o->section_started &&
	    zout_bytes_in(o->z) >= o->cfg.rotate_bytes) {
		rc = rotate(o, hop->ts_ns, err, errlen);
		if (rc)
			return rc;
	}
	if (!o->section_started) {
		rc = start_section(o, err, errlen);
		if (rc)
			return rc;
	}
	rc = hop->is_event ? trace_writer_event(o->w, hop) : trace_writer_hop(o->w, hop);
	if (rc) {
		snprintf(err, errlen, "%s: %s", o->path_cur, trace_writer_error(o->w));
		return rc;
	}
	o->last_ts = hop->ts_ns;
	if (zout_bytes_in(o->z) - o->flushed_in >=
	    (o->cfg.zstd_level ? RECOUT_FLUSH_ZSTD : RECOUT_FLUSH_PLAIN))
		return recout_flush(o, err, errlen);
	return 0;
}

int recout_flush(struct recout *o, char *err, size_t errlen)
{
	int rc;

	if (!o->z)
		return 0;
	rc = zout_flush(o->z);
	if (rc) {
		const char *m = zout_error(o->z);
		snprintf(err, errlen, "%s: %s", o->path_cur, m && m[0] ? m : strerror(-rc));
		return rc;
	}
	o->flushed_in = zout_bytes_in(o->z);
	if (o->fd_keep >= 0) {
		off_t off = lseek(o->fd_keep, 0, SEEK_CUR);
		if (off >= 0)
			o->good_off = off;
	}
	return 0;
}

int recout_chown(struct recout *o, uid_t uid, gid_t gid)
{
	struct stat st;

	if (!o || o->fd_keep < 0)
		return 0; /* stdout */
	if (fstat(o->fd_keep, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return 0; /* a FIFO or a device is not ours to give away */
	if (fchown(o->fd_keep, uid, gid) < 0)
		return -errno;
	return 0;
}

void recout_set_lost(struct recout *o, uint64_t lost)
{
	o->lost = lost;
}

int recout_close(struct recout *o, uint64_t end_ns, uint64_t *bytes, char *err, size_t errlen)
{
	int rc;

	if (!o)
		return 0;
	rc = close_file(o, end_ns, err, errlen);
	if (bytes)
		*bytes = o->bytes_done;
	free(o->path_cur);
	free(o);
	return rc;
}

int recout_close_after_error(struct recout *o, uint64_t *bytes)
{
	char zerr[ZIO_ERRLEN];
	int rc = 0;

	if (!o)
		return 0;
	trace_writer_free(o->w);
	o->w = NULL;
	if (o->z) {
		zout_close(o->z, zerr, sizeof(zerr));
		o->z = NULL;
	}
	if (o->fd_keep >= 0) {
		/* a partly written block or frame would make the end unreadable */
		if (ftruncate(o->fd_keep, o->good_off) < 0)
			rc = -errno;
		close(o->fd_keep);
		o->fd_keep = -1;
	}
	o->bytes_done += (uint64_t)o->good_off;
	if (bytes)
		*bytes = o->bytes_done;
	free(o->path_cur);
	free(o);
	return rc;
}

void recout_abort(struct recout *o)
{
	char zerr[ZIO_ERRLEN];

	if (!o)
		return;
	trace_writer_free(o->w);
	zout_close(o->z, zerr, sizeof(zerr));
	if (o->fd_keep >= 0)
		close(o->fd_keep);
	if (o->files == 1 && !o->section_started && strcmp(o->cfg.path, "-"))
		unlink(o->path_cur);
	free(o->path_cur);
	free(o);
}

uint64_t recout_bytes_out(const struct recout *o)
{
	return o ? o->bytes_done + (o->z ? zout_bytes_out(o->z) : 0) : 0;
}

unsigned recout_files(const struct recout *o)
{
	return o ? o->files : 0;
}
