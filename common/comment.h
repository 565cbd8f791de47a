/* SPDX-License-Identifier: MIT */
/*
 * The EPB comment grammar of pkt-record (docs/format.md):
 *
 *   hook=net:netif_rx netns=4026532328 if=eth0 ifindex=7 skb=0xffff... \
 *   track=0x2a cpu=1 pid=2570 comm=ping [drop=NETFILTER_DROP] [l2=synth] ...
 *
 * Space-separated key=value pairs, the first nine always in this order.
 * Values are percent-escaped: '%', ' ', '=', and bytes outside 0x21..0x7e
 * become %XX, so a value never contains a space.
 */
#ifndef PKT_COMMENT_H
#define PKT_COMMENT_H

#include <stddef.h>
#include <stdint.h>

#define PKT_HOOK_LEN   48
#define PKT_IFNAME_LEN 32 /* IFNAMSIZ is 16; room for odd foreign names */
#define PKT_COMM_LEN   32
#define PKT_DROP_LEN   64
#define PKT_EXTRA_LEN  256

struct pkt_comment {
	char hook[PKT_HOOK_LEN];     /* "net:netif_rx" */
	uint64_t netns;		     /* namespace inode */
	char ifname[PKT_IFNAME_LEN]; /* "eth0" */
	uint32_t ifindex;
	uint64_t skb;	/* kernel address */
	uint64_t track; /* tracking id */
	uint32_t cpu;
	uint32_t pid;
	char comm[PKT_COMM_LEN];
	char drop[PKT_DROP_LEN];   /* optional: drop reason name, "" if absent */
	int l2_synth;		   /* optional: l2=synth */
	char extra[PKT_EXTRA_LEN]; /* other optional pairs, verbatim, space-separated */
};

/* Format c into buf. Returns length written (excluding NUL) or -ENOSPC. */
int pkt_comment_format(char *buf, size_t cap, const struct pkt_comment *c);

/*
 * Parse a comment. Returns 0 when the nine leading keys were found in order
 * (a pkt-record comment), -EINVAL otherwise (c is then zeroed except fields
 * that parsed). Never reads past the NUL.
 */
int pkt_comment_parse(const char *s, struct pkt_comment *c);

/* Percent-escape src into dst (NUL-terminated). Returns length or -ENOSPC. */
int pkt_comment_escape(char *dst, size_t cap, const char *src);
/* Undo pkt_comment_escape; malformed escapes are kept literally. Returns length or -ENOSPC. */
int pkt_comment_unescape(char *dst, size_t cap, const char *src, size_t srclen);

/* Split "eth0@4026532328" into name and netns; returns 0 if it had that form. */
int pkt_ifname_split(const char *idb_name, char *name, size_t cap, uint64_t *netns);

#endif
