// SPDX-License-Identifier: MIT
/*
 * make bench's floor: attach tests/bench/floor.bpf.c's counting programs
 * to the hooks named (group:tracepoint,... as perf -e takes them), say
 * "attached", wait for SIGINT or SIGTERM, print the hits counted.
 *
 *   bench-floor net:net_dev_start_xmit,net:netif_receive_skb,skb:kfree_skb
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "floor.skel.h"
#include "hooklist.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct floor_bpf *skel;
	struct bpf_program *prog;
	int attached = 0, ncpu, rc = 1;
	__u64 *vals = NULL, sum = 0;
	__u32 zero = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: bench-floor GROUP:TRACEPOINT[,...]\n");
		return 2;
	}
	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "bench-floor: cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	bpf_object__for_each_program(prog, skel->obj)
	{
		if (bpf_program__set_autoload(prog, listed(argv[1], bpf_program__name(prog)))) {
			fprintf(stderr, "bench-floor: %s: cannot select it\n",
				bpf_program__name(prog));
			goto out;
		}
	}
	if (floor_bpf__load(skel)) {
		fprintf(stderr, "bench-floor: cannot load the BPF programs: %s\n", strerror(errno));
		goto out;
	}
	bpf_object__for_each_program(prog, skel->obj)
	{
		if (!bpf_program__autoload(prog))
			continue;
		if (!bpf_program__attach(prog)) {
			fprintf(stderr, "bench-floor: cannot attach %s: %s\n",
				bpf_program__name(prog), strerror(errno));
			goto out;
		}
		attached++;
	}
	if (!attached) {
		fprintf(stderr, "bench-floor: no known hook in '%s'\n", argv[1]);
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("attached %d\n", attached);
	fflush(stdout);
	while (!stop)
		pause();

	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0) {
		fprintf(stderr, "bench-floor: cannot count the CPUs\n");
		goto out;
	}
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals || bpf_map_lookup_elem(bpf_map__fd(skel->maps.hits), &zero, vals)) {
		fprintf(stderr, "bench-floor: reading the counter: %s\n", strerror(errno));
		goto out;
	}
	for (int i = 0; i < ncpu; i++)
		sum += vals[i];
	printf("hits %llu\n", (unsigned long long)sum);
	rc = 0;
out:
	free(vals);
	floor_bpf__destroy(skel); /* links are destroyed with the object */
	return rc;
}
