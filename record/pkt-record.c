// SPDX-License-Identifier: MIT
/*
 * pkt-record: follow every packet through the Linux network stack into
 * pcapng. Loads bpf/pktrec.bpf.c (tp_btf programs on the net: and skb:
 * tracepoints), reads events from a BPF ring buffer, and writes them as
 * pcapng EPBs (see docs/format.md) or prints one line per event.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/membarrier.h>
#include <bpf/libbpf.h>
#include "anonymize.h"
#include "cli.h"
#include "hooks.h"
#include "trace.h"
#include "pcapng.h"
#include "event.h"
#include "ksyms.h"
#include "tracker.h"
#include "record.h"
#include "cbpf.h"
#include "load.h"
#include "netinfo.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#define NSEC		  1000000000ULL
#define KFILTER_MAX_STEPS 8000 /* filter_verifier_steps() the kernel side takes */

static struct opts {
	const char *output; /* NULL: live print */
	int zstd_level;
	bool force;
	const char *ifnames[PKTREC_MAX_IFNAMES];
	int n_ifnames;
	const char *netns_args[PKTREC_MAX_NETNS];
	uint64_t netns[PKTREC_MAX_NETNS];
	uint32_t n_netns;
	uint32_t hook_mask;
	uint32_t snaplen;
	uint64_t count;
	double duration;
	uint64_t rotate_mb;
	unsigned rotate_files;
	bool quiet, verbose, list_events;
	bool numeric;	   /* -n: the live print shows namespace inodes, not names */
	bool events_given; /* -e: a missing hook is an error, not skipped */
	bool headers_only; /* cut each snapshot after the innermost header */
	uint64_t buffer_mb;
	int nice; /* --nice: the recorder's scheduling priority */
	char *filter;
	const char *user; /* -Z: run as this user once set up */
	uid_t uid;
	gid_t gid;
} opt = {
    .zstd_level = CLI_ZSTD_LEVEL_DEFAULT,
    .snaplen = PKTREC_DEF_SNAP,
    .buffer_mb = 32,
    .nice = -10,
};

/* runtime state */
static volatile sig_atomic_t exiting;
static struct {
	int64_t mono_to_real;
	char hostname[256];
	struct recout *out;
	struct netinfo *netinfo; /* namespace names and interface relations, for IDBs */
	struct trackset *matched;
	struct ksyms *ksyms; /* names kfree_skb's callers (loc=), NULL when kallsyms cannot */
	struct event_ctx event_ctx;
	bool have_filter;
	bool kfilter;	    /* the filter runs in the kernel (else in on_event) */
	uint64_t kfiltered; /* rejected by the kernel's filter (from the BPF counters) */
	bool stop;	    /* -c reached or write error */
	int write_error;
	char errmsg[512];
	uint64_t recorded, filtered, skipped;
	uint64_t poll_batch;
	/* no filter: the tracking ids are given here (tracker.h) */
	struct tracker *tracker;
} g;

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("pkt-record: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'pkt-record --help' for more information.\n", stderr);
	exit(2);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("pkt-record: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void usage(void)
{
	printf(
	    "Usage: pkt-record [-o FILE] [options] [pcap-filter expression]\n"
	    "\n"
	    "Record every hop of every packet through the kernel's network stack\n"
	    "(net: and skb: tracepoints, via eBPF) into pcapng, or print them live.\n"
	    "\n"
	    "  -o, -w FILE           write pcapng to FILE ('-' = stdout); without it, print\n"
	    "                        one line per event\n"
	    "      --compress MODE   none | zstd | zstd:N (default zstd "
	    "level " CLI_ZSTD_LEVEL_DEFAULT_STR ")\n"
	    "      --force           overwrite an existing output file (never through a\n"
	    "                        symbolic link)\n"
	    "  -i IFNAME             only this interface name, any namespace (repeatable, max %d)\n"
	    "      --netns NS        only this network namespace: inode, /run/netns name or path\n"
	    "                        (repeatable, max %d: any of them)\n"
	    "  -e, --events LIST     comma-separated hooks (see --list-events); 'default'\n"
	    "                        and 'all' stand for those sets, e.g. -e default,netif_rx\n"
	    "      --list-events     list the hooks and whether this kernel has them\n"
	    "  -s, --snaplen BYTES   header bytes per event from the MAC header (default %d,\n"
	    "                        max %d; 0 = max)\n"
	    "      --headers-only    no payload: cut each snapshot after the innermost\n"
	    "                        header (TCP/UDP/ICMP, else L3, else Ethernet);\n"
	    "                        the filter still sees the whole snapshot\n"
	    "  -c, --count N         stop after N events recorded\n"
	    "  -G, --duration SECS   stop after SECS seconds\n"
	    "  -C MB                 rotate when a file reaches MB megabytes (uncompressed):\n"
	    "                        FILE, FILE.1, FILE.2, ...\n"
	    "  -W N                  with -C: at most N files, reusing the oldest\n"
	    "      --buffer-size MB  BPF ring buffer size (default 32)\n"
	    "      --nice N          run at this nice value, -20..19 (default -10):\n"
	    "                        the traffic recorded must not starve the reader\n"
	    "                        of the CPU it needs (0 = leave it as it is)\n"
	    "  -Z USER               once the hooks are attached and the file is open,\n"
	    "                        run as USER (its groups, gid, uid); the file is\n"
	    "                        given to USER and rotated files are created by\n"
	    "                        USER, who must be able to write the directory\n"
	    "  -n, --numeric         live print: namespace inodes ([4026531840] eth0)\n"
	    "                        instead of names (eth0@host, eth0@pkt-a); the\n"
	    "                        file carries both either way\n"
	    "  -q                    quiet: no start message, status or summary\n"
	    "  -v                    verbose: libbpf messages and hook details\n"
	    "  -h, --help            this help\n"
	    "      --version         version\n"
	    "\n"
	    "A packet that matched the filter once stays recorded at every later hop.\n"
	    "Needs CAP_BPF and CAP_PERFMON (root) and a kernel with BTF.\n"
	    "\n"
	    "Files are created with mode 0600 whatever the umask.\n"
	    "\n"
	    "Exit status: 0 recording ended normally, 1 error (privileges, BTF, hook,\n"
	    "filter, output, -Z user), 2 usage error.\n",
	    PKTREC_MAX_IFNAMES, PKTREC_MAX_NETNS, PKTREC_DEF_SNAP, PKTREC_MAX_SNAP);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!opt.verbose && level != LIBBPF_WARN)
		return 0;
	if (!opt.verbose)
		return 0; /* no libbpf noise unless -v; we print our own one-line errors */
	return vfprintf(stderr, fmt, ap);
}

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

/* bpf_ktime_get_ns() is CLOCK_MONOTONIC: offset to CLOCK_REALTIME, best of a few samples. */
static int64_t mono_to_real_offset(void)
{
	int64_t best = 0;
	uint64_t best_gap = UINT64_MAX;

	for (int i = 0; i < 5; i++) {
		uint64_t r1 = now_ns(CLOCK_REALTIME), m = now_ns(CLOCK_MONOTONIC);
		uint64_t r2 = now_ns(CLOCK_REALTIME);
		if (r2 - r1 < best_gap) {
			best_gap = r2 - r1;
			best = (int64_t)(r1 + (r2 - r1) / 2) - (int64_t)m;
		}
	}
	return best;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 0);
	if (errno || *end)
		return -1;
	*v = x;
	return 0;
}

static void parse_events(const char *list)
{
	char *copy = strdup(list), *save = NULL, *tok;

	if (!copy)
		die("out of memory");
	opt.hook_mask = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if (!*tok)
			continue;
		if (!strcmp(tok, "all")) {
			opt.hook_mask |= PKTREC_HOOKS_ALL;
			continue;
		}
		if (!strcmp(tok, "default")) {
			opt.hook_mask |= PKTREC_HOOKS_DEFAULT;
			continue;
		}
		int h = pkt_hook_index(tok);
		if (h < 0)
			die("unknown hook '%s' (see --list-events)", tok);
		opt.hook_mask |= 1u << h;
	}
	free(copy);
	if (!opt.hook_mask)
		die("no hook selected with -e");
}

static int list_events(void)
{
	char err[256];
	bool btf = btfinfo_load(err, sizeof(err)) == 0;

	printf("%-30s %-8s %s\n", "HOOK", "DEFAULT", "THIS KERNEL");
	for (unsigned i = 0; i < pkt_hooks_count; i++) {
		const char *state = !btf				     ? "unknown (no BTF)"
				    : btfinfo_tp_nargs(pkt_hooks[i].tp) >= 0 ? "available"
									     : "missing";
		printf("%-30s %-8s %s\n", pkt_hooks[i].name, pkt_hooks[i].dflt ? "yes" : "no",
		       state);
	}
	return 0;
}

static void resolve_netns(void)
{
	uint64_t v;
	struct stat st;
	char path[PATH_MAX];

	for (uint32_t i = 0; i < opt.n_netns; i++) {
		const char *arg = opt.netns_args[i];

		if (parse_u64(arg, &v) == 0) {
			opt.netns[i] = v;
			continue;
		}
		if (strchr(arg, '/'))
			snprintf(path, sizeof(path), "%s", arg);
		else
			snprintf(path, sizeof(path), "/run/netns/%s", arg);
		if (stat(path, &st) < 0)
			die("--netns %s: %s: %s", arg, path, strerror(errno));
		opt.netns[i] = st.st_ino;
	}
}

static void check_caps(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		die("capget: %s", strerror(errno));
#define HAS(c) (data[(c) / 32].effective & (1u << ((c) % 32)))
	if (HAS(CAP_SYS_ADMIN))
		return;
	bool bpf = HAS(CAP_BPF), perf = HAS(CAP_PERFMON);
	if (!bpf && !perf)
		die("missing CAP_BPF and CAP_PERFMON: run as root");
	if (!bpf)
		die("missing CAP_BPF: run as root");
	if (!perf)
		die("missing CAP_PERFMON: run as root");
#undef HAS
}

static void compile_filter(void)
{
	char err[512];

	if (!opt.filter) {
		/* no filter: every hit is recorded and the ids are given in user space */
		g.tracker = tracker_new();
		if (!g.tracker)
			die("out of memory");
		return;
	}
	if (filter_compile(opt.filter, opt.snaplen, err, sizeof(err)))
		die("bad filter expression '%s': %s", opt.filter, err);
	g.have_filter = true;
	g.matched = trackset_new();
	if (!g.matched)
		die("out of memory");
}

static int on_event(void *ctx, void *data, size_t size)
{
	const struct pktrec_event *e = data;
	struct event_out ev;
	int rc;

	(void)ctx;
	if (!event_valid(data, size))
		return 0;
	if (g.tracker) {
		/* no filter: ids are given here (tracker.h), on a copy (the ring is read-only) */
		static struct pktrec_event copy;

		if (size > sizeof(copy))
			size = sizeof(copy);
		memcpy(&copy, data, size);
		tracker_assign(g.tracker, &copy);
		data = &copy;
		e = &copy;
	}
	if (g.stop) {
		g.skipped++;
		return 0;
	}
	rc = event_decode(&g.event_ctx, data, size, &ev);
	if (rc == EVENT_FILTERED) {
		g.filtered++;
		goto next;
	}
	if (rc < 0)
		return 0;

	if (!g.out) {
		char nsname[64]; /* NETNS_NAME_LEN (names.h) */

		if (!opt.numeric &&
		    (!g.netinfo || netinfo_ns_name(g.netinfo, e->netns, now_ns(CLOCK_MONOTONIC),
						   nsname, sizeof(nsname)) <= 0))
			snprintf(nsname, sizeof(nsname), "%" PRIu64, (uint64_t)e->netns);
		live_print(e, ev.frame, ev.caplen, ev.wall_ns, ev.drop, ev.keys,
			   opt.numeric ? NULL : nsname);
	} else {
		rc = recout_write(g.out, &ev.hop, g.errmsg, sizeof(g.errmsg));
		if (rc) {
			g.write_error = rc;
			g.stop = true;
			return 0;
		}
	}
	g.recorded++;
	if (opt.count && g.recorded >= opt.count)
		g.stop = true;
next:
	/* Give the main loop a chance to flush and check timers under a flood. */
	if (++g.poll_batch >= 16384) {
		g.poll_batch = 0;
		return -EAGAIN;
	}
	return 0;
}

/* -Z USER: look the user up before anything is loaded. */
static void resolve_user(void)
{
	struct passwd *pw;

	if (!opt.user)
		return;
	errno = 0;
	pw = getpwnam(opt.user);
	if (!pw) {
		if (errno && errno != ENOENT && errno != ESRCH)
			die("-Z %s: cannot look the user up: %s", opt.user, strerror(errno));
		die("-Z %s: no such user", opt.user);
	}
	opt.uid = pw->pw_uid;
	opt.gid = pw->pw_gid;
}

static bool gid_in(gid_t gid, const gid_t *set, int n)
{
	for (int i = 0; i < n; i++)
		if (set[i] == gid)
			return true;
	return false;
}

/*
 * -Z: supplementary groups, then gid, then uid (each checked), then prove it
 * cannot be undone: real, effective and saved ids are USER's, the groups are
 * USER's, root cannot be regained and no capability is left.
 */
static int drop_privileges(char *err, size_t errlen)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (initgroups(opt.user, opt.gid) < 0) {
		snprintf(err, errlen, "-Z %s: setting its groups: %s", opt.user, strerror(errno));
		return -1;
	}
	if (setgid(opt.gid) < 0) {
		snprintf(err, errlen, "-Z %s: setgid(%u): %s", opt.user, (unsigned)opt.gid,
			 strerror(errno));
		return -1;
	}
	if (setuid(opt.uid) < 0) {
		snprintf(err, errlen, "-Z %s: setuid(%u): %s", opt.user, (unsigned)opt.uid,
			 strerror(errno));
		return -1;
	}
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru != opt.uid ||
	    eu != opt.uid || su != opt.uid || rg != opt.gid || eg != opt.gid || sg != opt.gid) {
		snprintf(err, errlen, "-Z %s: user or group ids not changed", opt.user);
		return -1;
	}
	/* the supplementary groups are all USER's */
	int n = getgroups(0, NULL), want_n = 32, got = -1;
	gid_t *have = NULL, *want = NULL;
	bool groups_ok = false;
	for (int tries = 0; tries < 4 && got < 0; tries++) {
		gid_t *w = realloc(want, (size_t)want_n * sizeof(*want));
		if (!w)
			break;
		want = w;
		got = getgrouplist(opt.user, opt.gid, want, &want_n); /* -1: want_n is the size */
	}
	if (got >= 0 && n >= 0 && (have = calloc((size_t)n + 1, sizeof(*have))) &&
	    getgroups(n, have) == n) {
		groups_ok = true;
		for (int i = 0; i < n; i++)
			groups_ok = groups_ok && gid_in(have[i], want, want_n);
	}
	free(have);
	free(want);
	if (!groups_ok) {
		snprintf(err, errlen, "-Z %s: supplementary groups not changed", opt.user);
		return -1;
	}
	if (opt.uid == 0)
		return 0; /* -Z root: nothing was given up */

	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct caps[2];
	memset(caps, 0, sizeof(caps));
	if (syscall(SYS_capget, &hdr, caps) < 0) {
		snprintf(err, errlen, "-Z %s: capget: %s", opt.user, strerror(errno));
		return -1;
	}
	if (caps[0].effective || caps[1].effective || caps[0].permitted || caps[1].permitted) {
		snprintf(err, errlen, "-Z %s: capabilities left after setuid", opt.user);
		return -1;
	}
	if (setuid(0) == 0 || seteuid(0) == 0 ||
	    (opt.gid != 0 && (setgid(0) == 0 || setegid(0) == 0))) {
		snprintf(err, errlen, "-Z %s: root privileges could be regained", opt.user);
		return -1;
	}
	return 0;
}

/*
 * Before dropping for good, find out in a child that does drop whether
 * recording can go on as USER: the BPF counters can be read (kernels before
 * 6.5 want CAP_BPF for any bpf() call when kernel.unprivileged_bpf_disabled
 * is set), and with -C the user can create the next files in the output's
 * directory. On failure the parent is still root and cleans up.
 */
static int probe_as_user(const struct loader *ld, char *err, size_t errlen)
{
	int pfd[2], status = 0;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "-Z %s: pipe: %s", opt.user, strerror(errno));
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "-Z %s: fork: %s", opt.user, strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		char msg[512] = "";
		uint64_t h, l, f;
		int r;

		close(pfd[0]);
		if (drop_privileges(msg, sizeof(msg)) == 0) {
			if ((r = loader_read_stats(ld, &h, &l, &f)))
				snprintf(
				    msg, sizeof(msg),
				    "-Z %s: the BPF counters cannot be read without privileges "
				    "on this kernel (%s; see kernel.unprivileged_bpf_disabled)",
				    opt.user, strerror(-r));
		}
		if (!msg[0] && opt.rotate_mb) {
			char *copy = strdup(opt.output);
			const char *dir = copy ? dirname(copy) : ".";
			if (access(dir, W_OK | X_OK) < 0)
				snprintf(msg, sizeof(msg),
					 "-Z %s with -C: user %s cannot create files in %s, where "
					 "the rotated files go: %s",
					 opt.user, opt.user, dir, strerror(errno));
			free(copy);
		}
		if (msg[0]) {
			if (write(pfd[1], msg, strlen(msg)) < 0)
				_exit(2);
			_exit(1);
		}
		_exit(0);
	}
	close(pfd[1]);
	size_t got = 0;
	for (;;) {
		ssize_t n = read(pfd[0], err + got, errlen - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got >= errlen - 1)
			break;
	}
	err[got] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			snprintf(err, errlen, "-Z %s: waitpid: %s", opt.user, strerror(errno));
			return -1;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (!err[0])
		snprintf(err, errlen, "-Z %s: cannot run as the user", opt.user);
	return -1;
}

static void parse_args(int argc, char **argv)
{
	enum {
		OPT_COMPRESS = 256,
		OPT_FORCE,
		OPT_NETNS,
		OPT_LIST,
		OPT_BUFSZ,
		OPT_VERSION,
		OPT_HDRS,
		OPT_NICE,
	};
	static const struct option longopts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"compress", required_argument, NULL, OPT_COMPRESS},
	    {"force", no_argument, NULL, OPT_FORCE},
	    {"interface", required_argument, NULL, 'i'},
	    {"netns", required_argument, NULL, OPT_NETNS},
	    {"events", required_argument, NULL, 'e'},
	    {"list-events", no_argument, NULL, OPT_LIST},
	    {"snaplen", required_argument, NULL, 's'},
	    {"count", required_argument, NULL, 'c'},
	    {"duration", required_argument, NULL, 'G'},
	    {"buffer-size", required_argument, NULL, OPT_BUFSZ},
	    {"headers-only", no_argument, NULL, OPT_HDRS},
	    {"nice", required_argument, NULL, OPT_NICE},
	    {"numeric", no_argument, NULL, 'n'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {0},
	};
	const char *events = NULL;
	uint64_t v;
	int c;

	opt.hook_mask = PKTREC_HOOKS_DEFAULT;

	while ((c = getopt_long(argc, argv, "+o:w:i:e:s:c:G:C:W:Z:nqvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
		case 'w':
			opt.output = optarg;
			break;
		case OPT_COMPRESS: {
			char msg[160];

			if (cli_parse_compress(optarg, &opt.zstd_level, msg, sizeof(msg)))
				die_usage("%s", msg);
		} break;
		case OPT_FORCE:
			opt.force = true;
			break;
		case 'i':
			if (opt.n_ifnames >= PKTREC_MAX_IFNAMES)
				die_usage("at most %d -i options", PKTREC_MAX_IFNAMES);
			if (!*optarg || strlen(optarg) >= PKTREC_IFNAMSIZ)
				die_usage("-i: bad interface name '%s'", optarg);
			opt.ifnames[opt.n_ifnames++] = optarg;
			break;
		case OPT_NETNS:
			if (opt.n_netns >= PKTREC_MAX_NETNS)
				die_usage("at most %d --netns options", PKTREC_MAX_NETNS);
			opt.netns_args[opt.n_netns++] = optarg;
			break;
		case 'e':
			events = optarg;
			break;
		case OPT_LIST:
			opt.list_events = true;
			break;
		case 's':
			if (parse_u64(optarg, &v))
				die_usage("-s: bad snaplen '%s'", optarg);
			if (v > PKTREC_MAX_SNAP)
				fprintf(stderr, "pkt-record: snaplen limited to %d\n",
					PKTREC_MAX_SNAP);
			if (v == 0 || v > PKTREC_MAX_SNAP)
				v = PKTREC_MAX_SNAP;
			if (v < 14)
				die_usage("-s: snaplen must be at least 14");
			opt.snaplen = (uint32_t)v;
			break;
		case 'c':
			if (parse_u64(optarg, &v) || v == 0)
				die_usage("-c: bad count '%s'", optarg);
			opt.count = v;
			break;
		case 'G': {
			char *end;
			errno = 0;
			double d = strtod(optarg, &end);
			if (errno || *end || !(d > 0))
				die_usage("-G: bad duration '%s'", optarg);
			opt.duration = d;
			break;
		}
		case 'C':
			if (parse_u64(optarg, &v) || v == 0)
				die_usage("-C: bad size '%s'", optarg);
			opt.rotate_mb = v;
			break;
		case 'W':
			if (parse_u64(optarg, &v) || v == 0 || v > 100000)
				die_usage("-W: bad file count '%s'", optarg);
			opt.rotate_files = (unsigned)v;
			break;
		case OPT_BUFSZ:
			if (parse_u64(optarg, &v) || v == 0 || v > 1024)
				die_usage("--buffer-size: expected 1..1024 MB, got '%s'", optarg);
			opt.buffer_mb = v;
			break;
		case OPT_HDRS:
			opt.headers_only = true;
			break;
		case OPT_NICE: {
			char *end;
			long n;

			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || n < -20 || n > 19)
				die_usage("--nice: expected -20..19, got '%s'", optarg);
			opt.nice = (int)n;
		} break;
		case 'Z':
			if (!*optarg)
				die_usage("-Z: empty user name");
			opt.user = optarg;
			break;
		case 'n':
			opt.numeric = true;
			break;
		case 'q':
			opt.quiet = true;
			break;
		case 'v':
			opt.verbose = true;
			break;
		case 'h':
			usage();
			exit(0);
		case OPT_VERSION:
			printf("pkt-record %s\n", PKT_VERSION);
			exit(0);
		default:
			fputs("Try 'pkt-record --help' for more information.\n", stderr);
			exit(2);
		}
	}
	if (optind < argc) {
		size_t len = 0;
		for (int i = optind; i < argc; i++)
			len += strlen(argv[i]) + 1;
		opt.filter = calloc(1, len + 1);
		if (!opt.filter)
			die("out of memory");
		for (int i = optind; i < argc; i++) {
			if (i > optind)
				strcat(opt.filter, " ");
			strcat(opt.filter, argv[i]);
		}
	}
	if (opt.rotate_files && !opt.rotate_mb)
		die_usage("-W needs -C");
	if (opt.rotate_mb && (!opt.output || !strcmp(opt.output, "-")))
		die_usage("-C needs -o FILE (not stdout)");
	if (events) {
		parse_events(events);
		opt.events_given = true;
	}
}

static void print_status(uint64_t lost, bool final)
{
	if (opt.quiet || !isatty(STDERR_FILENO))
		return;
	if (final) {
		fputs("\r\033[K", stderr);
		return;
	}
	fprintf(stderr, "\rpkt-record: %" PRIu64 " events, %" PRIu64 " lost", g.recorded, lost);
	if (g.out)
		fprintf(stderr, ", %" PRIu64 " bytes", recout_bytes_out(g.out));
	fputs("\033[K", stderr);
}

/*
 * Everything that can be checked before the output exists and before
 * anything is loaded; errors end the program here (nothing to undo yet).
 */
static void prepare(void)
{
	char err[512];

	resolve_user();
	check_caps();
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
		die("this kernel has no BTF (/sys/kernel/btf/vmlinux missing): "
		    "CONFIG_DEBUG_INFO_BTF=y is needed");
	if (btfinfo_load(err, sizeof(err)))
		die("%s", err);
	for (int i = 0; i < HOOK_MAX; i++) {
		if ((opt.hook_mask & (1u << i)) && btfinfo_tp_nargs(pkt_hooks[i].tp) < 0) {
			if (opt.events_given)
				die("hook %s: this kernel has no such tracepoint",
				    pkt_hooks[i].name);
			/* a default hook this kernel lacks: record with the others */
			opt.hook_mask &= ~(1u << i);
			if (opt.verbose)
				fprintf(stderr, "pkt-record: skipping %s: not in this kernel\n",
					pkt_hooks[i].name);
		}
	}
	resolve_netns();
	compile_filter();
	/* loc= in the file's comments: only drops have a location */
	if (opt.output && (opt.hook_mask & (1u << HOOK_KFREE_SKB)) &&
	    ksyms_load(&g.ksyms, "/proc/kallsyms", err, sizeof(err)) && opt.verbose)
		fprintf(stderr, "pkt-record: %s: drops without loc=\n", err);
	if (gethostname(g.hostname, sizeof(g.hostname) - 1) < 0)
		strcpy(g.hostname, "localhost");
	g.mono_to_real = mono_to_real_offset();

	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* An interface's namespace name and relations, for its IDB (record/netinfo.c). */
static int describe_iface(void *ctx, uint64_t netns, uint32_t ifindex, char *buf, size_t cap)
{
	return netinfo_describe(ctx, netns, ifindex, now_ns(CLOCK_MONOTONIC), buf, cap);
}

/* The output file, before anything is loaded: a bad path is reported first. */
static int open_output(char *err, size_t errlen)
{
	char nerr[160];

	/*
	 * Names travel in the file and show in the live print (which scans
	 * names alone, at its first event): without them all still works.
	 */
	if ((opt.output || !opt.numeric) && netinfo_new(&g.netinfo, "/proc", "/run/netns"))
		g.netinfo = NULL;
	if (!opt.output)
		return 0;
	if (g.netinfo && netinfo_scan(g.netinfo, nerr, sizeof(nerr)) < 0 && opt.verbose)
		fprintf(stderr, "pkt-record: interface relations left out: %s\n", nerr);
	struct recout_cfg cfg = {
	    .path = opt.output,
	    .zstd_level = opt.zstd_level,
	    .force = opt.force,
	    .rotate_bytes = opt.rotate_mb * 1000000ULL,
	    .rotate_files = opt.rotate_files,
	    .snaplen = opt.snaplen,
	    .hostname = g.hostname,
	    .filter = opt.filter,
	    .describe = g.netinfo ? describe_iface : NULL,
	    .describe_ctx = g.netinfo,
	};
	return recout_open(&g.out, &cfg, now_ns(CLOCK_REALTIME), err, errlen);
}

/*
 * What the BPF side is given (load.c). The pcap filter goes into the
 * kernel when the verifier can take it; the rest runs in user space.
 */
static void bpf_config(struct load_cfg *cfg)
{
	static struct cbpf_insn kprog[CBPF_MAX_INSNS];

	_Static_assert(sizeof(struct cbpf_insn) == 8, "struct bpf_insn of libpcap");
	*cfg = (struct load_cfg){
	    .snaplen = opt.snaplen,
	    .hook_mask = opt.hook_mask,
	    .n_netns = opt.n_netns,
	    .ifnames = opt.ifnames,
	    .n_ifnames = opt.n_ifnames,
	    .ring_bytes = opt.buffer_mb * 1024 * 1024,
	    .verbose = opt.verbose,
	};
	memcpy(cfg->netns, opt.netns, sizeof(cfg->netns));
	cfg->user_track = g.tracker != NULL;
	if (!g.have_filter)
		return;

	uint64_t steps = filter_verifier_steps();
	int len = filter_export(kprog, CBPF_MAX_INSNS);

	if (opt.verbose)
		fprintf(stderr,
			"pkt-record: filter: %d instructions, %" PRIu64
			" path steps for the verifier (the kernel side takes %d)\n",
			len, steps, KFILTER_MAX_STEPS);
	/*
	 * Measured on 6.18: 5,360 loads (2 s a load of the 8 programs);
	 * 60,371 is refused after 6 s a load.
	 */
	if (len > 0 && steps <= KFILTER_MAX_STEPS) {
		cfg->kfilter = kprog;
		cfg->kfilter_len = (uint32_t)len;
		cfg->kfilter_extent = cbpf_read_extent(kprog, (uint32_t)len);
	}
}

/* What on_event needs, once the filter's place is known. */
static void event_setup(bool kfilter)
{
	g.kfilter = kfilter;
	g.event_ctx = (struct event_ctx){
	    .snaplen = opt.snaplen,
	    .headers_only = opt.headers_only,
	    .want_hop = g.out != NULL,
	    .mono_to_real = g.mono_to_real,
	    .filter_match = g.have_filter && !kfilter ? filter_match : NULL,
	    .matched = g.matched,
	    .drop_reason_name = btfinfo_drop_reason,
	    .ksyms = g.ksyms,
	};
}

/* -Z: everything that needs privileges is done (BPF loaded and attached, file open). */
static int become_user(const struct loader *ld, char *err, size_t errlen)
{
	uint64_t h, l, f;
	int r;

	if (probe_as_user(ld, err, errlen))
		return -1;
	/* the file is USER's: it can read it, and reopen it when -W wraps around */
	if (g.out && (r = recout_chown(g.out, opt.uid, opt.gid))) {
		snprintf(err, errlen, "-Z %s: cannot give %s to the user: %s", opt.user, opt.output,
			 strerror(-r));
		return -1;
	}
	if (drop_privileges(err, errlen))
		return -1;
	if ((r = loader_read_stats(ld, &h, &l, &f))) {
		snprintf(err, errlen, "-Z %s: reading the BPF counters: %s", opt.user,
			 strerror(-r));
		return -1;
	}
	if (opt.verbose)
		fprintf(stderr, "pkt-record: running as %s (uid %u, gid %u)\n", opt.user,
			(unsigned)opt.uid, (unsigned)opt.gid);
	return 0;
}

static void announce(const struct loader *ld)
{
	char names[512] = "";
	int n = 0;

	if (opt.quiet)
		return;
	for (int i = 0; i < HOOK_MAX; i++) {
		if (!(ld->recording & (1u << i)))
			continue;
		n++;
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			 names[0] ? " " : "", pkt_hooks[i].name);
	}
	fprintf(stderr, "pkt-record: recording on %d hook%s (%s)%s%s%s to %s\n", n,
		n == 1 ? "" : "s", names, opt.filter ? ", filter '" : "",
		opt.filter ? opt.filter : "", opt.filter ? "'" : "",
		!opt.output		  ? "stdout (live)"
		: strcmp(opt.output, "-") ? opt.output
					  : "stdout");
}

/* Read events until a signal, -c, -G or a write error; flush and show status each second. */
static int run(struct ring_buffer *rb, const struct loader *ld, char *err, size_t errlen)
{
	uint64_t start = now_ns(CLOCK_MONOTONIC), last_tick = start;
	uint64_t deadline = opt.duration > 0 ? start + (uint64_t)(opt.duration * 1e9) : 0;
	uint64_t hits = 0, lost = 0;

	if (!g.out)
		live_header(opt.numeric);
	if (opt.verbose && g.have_filter)
		fprintf(stderr, "pkt-record: the filter runs %s\n",
			g.kfilter ? "in the kernel" : "in user space");
	while (!exiting && !g.stop) {
		int n = ring_buffer__poll(rb, 20);
		/* the kernel wakes us only past a fill level: take what is there */
		if (n == 0)
			n = ring_buffer__consume(rb);
		if (n < 0 && n != -EINTR && n != -EAGAIN) {
			snprintf(err, errlen, "reading the ring buffer: %s", strerror(-n));
			return -1;
		}
		uint64_t now = now_ns(CLOCK_MONOTONIC);
		if (now - last_tick >= NSEC) {
			last_tick = now;
			if (loader_read_stats(ld, &hits, &lost, &g.kfiltered) && opt.verbose)
				fprintf(stderr, "pkt-record: reading the BPF counters failed\n");
			if (g.out) {
				recout_set_lost(g.out, lost);
				if (recout_flush(g.out, g.errmsg, sizeof(g.errmsg))) {
					g.write_error = -EIO;
					break;
				}
			} else {
				fflush(stdout);
			}
			print_status(lost, false);
		}
		if (deadline && now >= deadline)
			break;
	}
	return 0;
}

/* Stop the hooks, then take what is still in the ring buffer. */
static void stop_and_drain(struct ring_buffer *rb, struct loader *ld, uint64_t *hits,
			   uint64_t *lost)
{
	loader_detach(ld);
	/*
	 * A program that entered before its link went away may still run on
	 * another CPU: wait for an RCU grace period (what the kernel's own
	 * tracepoint_synchronize_unregister() does), then drain until every hit
	 * is accounted for (recorded, lost, filtered or not written after the
	 * stop), or give up after ~100 ms (membarrier refused under nohz_full).
	 */
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) < 0 && opt.verbose)
		fprintf(stderr, "pkt-record: membarrier: %s\n", strerror(errno));
	for (int tries = 0;; tries++) {
		int n;
		/* on_event returns -EAGAIN every 16384 events to let the loop breathe */
		while ((n = ring_buffer__consume(rb)) == -EAGAIN)
			;
		if (n < 0 && opt.verbose)
			fprintf(stderr, "pkt-record: reading the ring buffer: %s\n", strerror(-n));
		int r = loader_read_stats(ld, hits, lost, &g.kfiltered);
		if (r)
			fprintf(stderr, "pkt-record: reading the BPF counters: %s\n", strerror(-r));
		if (r || n < 0 || g.recorded + *lost + g.filtered + g.skipped >= *hits ||
		    tries >= 100)
			break;
		usleep(1000);
	}
	print_status(*lost, true);
	fflush(stdout);
}

/* Close the file (ISBs, last frame) and print the summary. Returns the exit status. */
static int finish(uint64_t hits, uint64_t lost)
{
	char err[512];
	uint64_t bytes = 0;
	int rc = 0;

	if (g.out) {
		recout_set_lost(g.out, lost);
		if (!g.write_error) {
			if (recout_close(g.out, now_ns(CLOCK_REALTIME), &bytes, err, sizeof(err))) {
				fprintf(stderr, "pkt-record: %s\n", err);
				rc = 1;
			}
		} else {
			/* stop writing; the file is cut back to the last flush and stays valid */
			recout_close_after_error(g.out, &bytes);
			fprintf(stderr, "pkt-record: write error: %s\n", g.errmsg);
			rc = 1;
		}
		g.out = NULL;
	}
	if (opt.quiet)
		return rc;
	if (opt.output)
		fprintf(stderr,
			"pkt-record: %" PRIu64 " events recorded, %" PRIu64 " lost, %" PRIu64
			" bytes written to %s\n",
			g.recorded, lost, bytes, strcmp(opt.output, "-") ? opt.output : "stdout");
	else
		fprintf(stderr, "pkt-record: %" PRIu64 " events recorded, %" PRIu64 " lost\n",
			g.recorded, lost);
	if (opt.verbose)
		fprintf(stderr,
			"pkt-record: %" PRIu64 " hits, %" PRIu64 " filtered out, %" PRIu64
			" not written after the stop (%" PRIu64 " filtered in the kernel)\n",
			hits + g.kfiltered, g.filtered + g.kfiltered, g.skipped, g.kfiltered);
	return rc;
}

/*
 * The reader and libzstd's worker must keep up with the kernel: a host
 * busy with the very traffic recorded shares its CPUs fairly with them, and
 * every millisecond they wait fills the ring (a 2-CPU flood lost 2.4% of
 * its events at nice 0, none at -10 with the 32 MB ring). Set before any
 * thread is made: on Linux the nice value is a thread's, and new threads
 * take their creator's.
 */
static void set_priority(void)
{
	if (!opt.nice)
		return;
	if (setpriority(PRIO_PROCESS, 0, opt.nice) < 0 && opt.verbose)
		fprintf(stderr,
			"pkt-record: cannot run at nice %d (%s): events may be lost under load\n",
			opt.nice, strerror(errno));
}

/* parse -> open -> configure -> load -> attach -> run -> clean up */
int main(int argc, char **argv)
{
	struct loader ld = {0};
	struct load_cfg cfg;
	struct ring_buffer *rb = NULL;
	uint64_t hits = 0, lost = 0;
	char err[512];
	int rc = 1;

	parse_args(argc, argv);
	libbpf_set_print(libbpf_print);
	if (opt.list_events)
		return list_events();
	set_priority();
	prepare();
	if (open_output(err, sizeof(err)))
		goto cleanup;
	bpf_config(&cfg);
	if (loader_load(&ld, &cfg, err, sizeof(err)))
		goto cleanup;
	event_setup(ld.kfilter);
	rb = ring_buffer__new(loader_ring_fd(&ld), on_event, NULL, NULL);
	if (!rb) {
		snprintf(err, sizeof(err), "cannot create the ring buffer: %s", strerror(errno));
		goto cleanup;
	}
	if (loader_attach(&ld, &cfg, err, sizeof(err)))
		goto cleanup;
	if (opt.user && become_user(&ld, err, sizeof(err)))
		goto cleanup;
	announce(&ld);
	if (run(rb, &ld, err, sizeof(err)))
		goto cleanup;
	stop_and_drain(rb, &ld, &hits, &lost);
	rc = finish(hits, lost);
	goto out;

cleanup:
	fprintf(stderr, "pkt-record: %s\n", err);
	recout_abort(g.out);
	g.out = NULL;
out:
	ring_buffer__free(rb);
	loader_destroy(&ld);
	trackset_free(g.matched);
	tracker_free(g.tracker);
	ksyms_free(g.ksyms);
	netinfo_free(g.netinfo);
	filter_free();
	btfinfo_free();
	free(opt.filter);
	return rc;
}
