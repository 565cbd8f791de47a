// SPDX-License-Identifier: MIT
/*
 * The live print (no -o): one line per event, tracepkt's columns and more.
 * Uses pkt_dissect()/pkt_summary() from common/dissect.c; a minimal summary
 * stands in where dissection gives none.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "dissect.h"
#include "hooks.h"
#include "record.h"

static void simple_summary(const uint8_t *p, uint32_t n, char *buf, size_t cap)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	uint16_t et;

	if (n < 14) {
		snprintf(buf, cap, "(%u bytes)", n);
		return;
	}
	et = (uint16_t)(p[12] << 8 | p[13]);
	p += 14;
	n -= 14;
	if (et == 0x0800 && n >= 20) {
		inet_ntop(AF_INET, p + 12, s, sizeof(s));
		inet_ntop(AF_INET, p + 16, d, sizeof(d));
		snprintf(buf, cap, "%s -> %s proto %u", s, d, p[9]);
	} else if (et == 0x86dd && n >= 40) {
		inet_ntop(AF_INET6, p + 8, s, sizeof(s));
		inet_ntop(AF_INET6, p + 24, d, sizeof(d));
		snprintf(buf, cap, "%s -> %s next %u", s, d, p[6]);
	} else if (et == 0x0806) {
		snprintf(buf, cap, "ARP");
	} else {
		snprintf(buf, cap, "ethertype 0x%04x", et);
	}
}

/*
 * Names (the default): the interface column says IFNAME@NETNS-NAME and
 * there is no namespace column; numeric (-n): tracepkt's [inode] column.
 */
void live_header(bool numeric)
{
	if (numeric)
		printf("%-18s %-12s %7s %-16s %-26s %s\n", "TIME", "NETWORK NS", "PID", "INTERFACE",
		       "HOOK", "PACKET");
	else
		printf("%-18s %7s %-32s %-26s %s\n", "TIME", "PID", "INTERFACE", "HOOK", "PACKET");
}

void live_print(const struct pktrec_event *e, const uint8_t *pkt, uint32_t caplen, uint64_t wall_ns,
		const char *drop, const char *keys, const char *nsname)
{
	char sum[256], tbuf[32], ns[24], ifname[PKTREC_IFNAMSIZ + 1], where[PKTREC_IFNAMSIZ + 96];
	time_t sec = (time_t)(wall_ns / 1000000000ULL);
	struct tm tm;

	localtime_r(&sec, &tm);
	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
	snprintf(tbuf + strlen(tbuf), sizeof(tbuf) - strlen(tbuf), ".%09" PRIu64,
		 (uint64_t)(wall_ns % 1000000000ULL));
	memcpy(ifname, e->ifname, PKTREC_IFNAMSIZ);
	ifname[PKTREC_IFNAMSIZ] = '\0';
	if (!ifname[0])
		strcpy(ifname, "-");

	sum[0] = '\0';
	struct pkt_info pi;
	memset(&pi, 0, sizeof(pi));
	if (!caplen) /* an event with no packet: its keys say it all */
		snprintf(sum, sizeof(sum), "(event)");
	else if (pkt_dissect(pkt, caplen, 1, &pi) >= 0)
		pkt_summary(&pi, sum, sizeof(sum));
	if (!sum[0])
		simple_summary(pkt, caplen, sum, sizeof(sum));

	if (nsname) {
		snprintf(where, sizeof(where), "%s@%s", ifname, nsname);
		printf("%-18s %7u %-32s", tbuf, e->pid, where);
	} else {
		snprintf(ns, sizeof(ns), "[%" PRIu64 "]", (uint64_t)e->netns);
		printf("%-18s %-12s %7u %-16s", tbuf, ns, e->pid, ifname);
	}
	printf(" %-26s %s track=0x%" PRIx64 "%s%s%s%s%s\n",
	       pkt_hooks[e->hook < HOOK_MAX ? e->hook : 0].name, sum, (uint64_t)e->track,
	       drop ? " drop=" : "", drop ? drop : "",
	       (e->flags & PKTREC_F_L2_SYNTH) ? " l2=synth" : "", keys && keys[0] ? " " : "",
	       keys ? keys : "");
}
