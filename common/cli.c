/* SPDX-License-Identifier: MIT */
/* Command-line chores of both tools: see cli.h. */
#include "cli.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_parse_compress(const char *arg, int *level, char *err, size_t errlen)
{
	char *end;
	long v;

	if (!strcmp(arg, "none")) {
		*level = 0;
		return 0;
	}
	if (!strcmp(arg, "zstd")) {
		*level = CLI_ZSTD_LEVEL_DEFAULT;
		return 0;
	}
	if (!strncmp(arg, "zstd:", 5)) {
		errno = 0;
		v = strtol(arg + 5, &end, 10);
		if (!errno && end != arg + 5 && !*end && arg[5] >= '0' && arg[5] <= '9' && v >= 1 &&
		    v <= 22) {
			*level = (int)v;
			return 0;
		}
	}
	snprintf(err, errlen, "--compress: expected none, zstd or zstd:1..22, got '%s'", arg);
	return -EINVAL;
}

struct cli_filter {
	struct bpf_program prog;
};

/* pcap's DLT numbers differ from pcapng's LINKTYPE numbers for raw IP only (here). */
static int linktype_to_dlt(uint32_t linktype)
{
	if (linktype == 101)
		return DLT_RAW;
	return (int)linktype;
}

int cli_filter_compile(struct cli_filter **fp, const char *expr, uint32_t linktype,
		       uint32_t snaplen, char *err, size_t errlen)
{
	struct cli_filter *f;
	pcap_t *p;

	*fp = NULL;
	f = calloc(1, sizeof(*f));
	p = pcap_open_dead(linktype_to_dlt(linktype), (int)snaplen);
	if (!f || !p) {
		free(f);
		if (p)
			pcap_close(p);
		snprintf(err, errlen, "libpcap: cannot compile filters (out of memory)");
		return -ENOMEM;
	}
	if (pcap_compile(p, &f->prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "%s", pcap_geterr(p));
		pcap_close(p);
		free(f);
		return -EINVAL;
	}
	pcap_close(p);
	*fp = f;
	return 0;
}

bool cli_filter_match(const struct cli_filter *f, const uint8_t *pkt, uint32_t caplen,
		      uint32_t origlen)
{
	/* filters read lengths and bytes, never the time */
	struct pcap_pkthdr hdr = {
	    .caplen = caplen,
	    .len = origlen < caplen ? caplen : origlen,
	};

	return pcap_offline_filter(&f->prog, &hdr, pkt) != 0;
}

const struct bpf_program *cli_filter_program(const struct cli_filter *f)
{
	return &f->prog;
}

void cli_filter_free(struct cli_filter *f)
{
	if (!f)
		return;
	pcap_freecode(&f->prog);
	free(f);
}
