// SPDX-License-Identifier: MIT
/*
 * Ceiling builds of the recorder's kernel side (tests/bench/ceil.bpf.c),
 * measurement only, not part of the product. Attach mode MODE's programs to the hooks named, say
 * "attached", drain the ring and drop what it reads until SIGINT/SIGTERM,
 * then print "events N lost M".
 *
 *   ceil MODE GROUP:TRACEPOINT[,...]     MODE: a b c d (ceil.bpf.c)
 *   ceil clock [LOOPS [ROUNDS]]          ns per bpf_ktime_get_ns()
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <linux/types.h>
#include "pktrec.h"
#include "ceil.skel.h"
#include "hooklist.h"

/* ceil.bpf.c's staging area: only its counters are read */
struct stage {
	__u32 n;
	__u32 pad;
	__u64 lost;
	__u8 buf[16 * PKTREC_EVENT_SIZE(128)];
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static unsigned long long drained;

static int on_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	drained += size / PKTREC_EVENT_SIZE(128);
	return 0;
}

static int run_loop(struct ceil_bpf *skel, struct bpf_program *prog, __u64 *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts))
		return -errno;
	*ns = skel->bss->elapsed_ns;
	return 0;
}

/* ns per call: (clock loop - empty loop) / loops, median over rounds */
static int clock_cost(__u64 loops, int rounds)
{
	struct ceil_bpf *skel = ceil_bpf__open();
	struct bpf_program *prog;
	double per[64];
	int rc = 1;

	if (!skel)
		return 1;
	bpf_object__for_each_program(prog, skel->obj)
	{
		const char *name = bpf_program__name(prog);

		bpf_program__set_autoload(prog, !strcmp(name, "clock_loop") ||
						    !strcmp(name, "empty_loop"));
	}
	skel->data->loops = loops;
	if (ceil_bpf__load(skel)) {
		fprintf(stderr, "ceil: load: %s\n", strerror(errno));
		goto out;
	}
	if (rounds > 64)
		rounds = 64;
	for (int r = 0; r < rounds; r++) {
		__u64 c, e;

		if (run_loop(skel, skel->progs.clock_loop, &c) ||
		    run_loop(skel, skel->progs.empty_loop, &e)) {
			fprintf(stderr, "ceil: test run: %s\n", strerror(errno));
			goto out;
		}
		per[r] = ((double)c - (double)e) / (double)loops;
		printf("round %d: clock loop %llu ns, empty loop %llu ns: %.2f ns a call\n", r,
		       (unsigned long long)c, (unsigned long long)e, per[r]);
	}
	for (int i = 1; i < rounds; i++)
		for (int j = i; j > 0 && per[j] < per[j - 1]; j--) {
			double t = per[j];
			per[j] = per[j - 1];
			per[j - 1] = t;
		}
	printf(
	    "bpf_ktime_get_ns: median %.2f ns a call (min %.2f, max %.2f) over %d rounds of %llu\n",
	    per[rounds / 2], per[0], per[rounds - 1], rounds, (unsigned long long)loops);
	rc = 0;
out:
	ceil_bpf__destroy(skel);
	return rc;
}

int main(int argc, char **argv)
{
	struct ring_buffer *rb = NULL;
	struct ceil_bpf *skel;
	struct bpf_program *prog;
	int rc = 1, ncpu, mode;

	if (argc >= 2 && !strcmp(argv[1], "clock"))
		return clock_cost(argc > 2 ? strtoull(argv[2], NULL, 0) : 4000000,
				  argc > 3 ? atoi(argv[3]) : 11);
	if (argc != 3 || strlen(argv[1]) != 1 || argv[1][0] < 'a' || argv[1][0] > 'd') {
		fprintf(
		    stderr,
		    "usage: ceil a|b|c|d GROUP:TRACEPOINT[,...] | ceil clock [LOOPS [ROUNDS]]\n");
		return 2;
	}
	mode = argv[1][0] - 'a' + 1;
	skel = ceil_bpf__open();
	if (!skel)
		return 1;
	skel->rodata->mode = (__u32)mode;
	bpf_object__for_each_program(prog, skel->obj)
	{
		if (bpf_program__set_autoload(prog, listed(argv[2], bpf_program__name(prog)))) {
			fprintf(stderr, "ceil: cannot select %s\n", bpf_program__name(prog));
			goto out;
		}
	}
	if (ceil_bpf__load(skel) || ceil_bpf__attach(skel)) {
		fprintf(stderr, "ceil: load/attach: %s\n", strerror(errno));
		goto out;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_record, NULL, NULL);
	if (!rb) {
		fprintf(stderr, "ceil: ring: %s\n", strerror(errno));
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("attached mode %c\n", argv[1][0]);
	fflush(stdout);
	/* the programs never wake the reader: it polls every 20 ms, as pkt-record can */
	while (!stop) {
		/* poll() returns on its time-out without reading: read anyway */
		int n = ring_buffer__poll(rb, 20);

		if (n >= 0)
			n = ring_buffer__consume(rb);
		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "ceil: poll: %s\n", strerror(-n));
			goto out;
		}
	}
	ring_buffer__consume(rb);

	ncpu = libbpf_num_possible_cpus();
	struct stage *vals = calloc((size_t)ncpu, sizeof(*vals));
	__u32 zero = 0;
	unsigned long long lost = 0;

	if (!vals || bpf_map_lookup_elem(bpf_map__fd(skel->maps.stage), &zero, vals)) {
		free(vals);
		goto out;
	}
	for (int i = 0; i < ncpu; i++)
		lost += vals[i].lost;
	free(vals);
	printf("events %llu lost %llu\n", drained, lost);
	rc = 0;
out:
	ring_buffer__free(rb);
	ceil_bpf__destroy(skel);
	return rc;
}
