/* SPDX-License-Identifier: MIT */
/*
 * Chores both tools share on their command lines: the --compress option
 * (one syntax, one default level) and the pcap-filter expression (compiled
 * by libpcap for a link type, run on snapshots in user space).
 *
 * Library code: never prints, never exits; returns 0 or -errno and fills
 * the message buffer, which the tool prints.
 *
 * No <pcap/pcap.h> here: its struct bpf_insn collides with <linux/bpf.h>
 * in pkt-record's libbpf code.
 */
#ifndef PKT_CLI_H
#define PKT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * zstd level of "--compress zstd" in both tools. 1, not zstd's own default
 * 3: pkt-record compresses on the traced machine while it is busy (zstd is
 * about a third of its reader's time), and level 3 costs 1.8x the CPU for
 * files 4-5% smaller (docs/pkt-record.8).
 */
#define CLI_ZSTD_LEVEL_DEFAULT 1
/* the same, for help texts */
#define CLI_STR_(x)		   #x
#define CLI_STR(x)		   CLI_STR_(x)
#define CLI_ZSTD_LEVEL_DEFAULT_STR CLI_STR(CLI_ZSTD_LEVEL_DEFAULT)

/* "none" (0), "zstd" (CLI_ZSTD_LEVEL_DEFAULT) or "zstd:N" (1..22) into *level. */
int cli_parse_compress(const char *arg, int *level, char *err, size_t errlen);

struct cli_filter;
struct bpf_program;

/*
 * Compile a pcap-filter expression for pcapng link type `linktype` and
 * snapshots of up to `snaplen` bytes. -EINVAL with libpcap's message for a
 * bad expression (or one that does not apply to the link type), -ENOMEM.
 */
int cli_filter_compile(struct cli_filter **f, const char *expr, uint32_t linktype, uint32_t snaplen,
		       char *err, size_t errlen);
/* Does the snapshot match? origlen: the packet's real length (at least caplen is assumed). */
bool cli_filter_match(const struct cli_filter *f, const uint8_t *pkt, uint32_t caplen,
		      uint32_t origlen);
/* The compiled classic-BPF program (pkt-record hands it to the kernel). */
const struct bpf_program *cli_filter_program(const struct cli_filter *f);
/* Safe on NULL. */
void cli_filter_free(struct cli_filter *f);

#endif
