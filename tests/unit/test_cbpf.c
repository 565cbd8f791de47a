// SPDX-License-Identifier: MIT
/*
 * bpf/cbpf.h, the classic-BPF interpreter pkt-record runs in the kernel,
 * against libpcap's own pcap_offline_filter(): the same verdict (the same
 * return value) for many filters on many packets, whole, mutated and cut.
 */
#include "test.h"

#include <linux/types.h>
#include <stdbool.h>
#include <stdlib.h>
#include <pcap/pcap.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#include "../../bpf/cbpf.h"

/* Frames to start from: Ethernet + IPv4/TCP, IPv4/UDP(DNS), IPv4/ICMP, IPv6/TCP, ICMPv6, ARP, VLAN
 */
static const uint8_t tmpl_tcp4[] = {
    0x02, 0,	0,    0,    0,	  2,	0x02, 0,    0,	  0, 0, 1,   0x08, 0x00, 0x45,
    0x00, 0x00, 0x3c, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0, 0, 198, 18,   1,	 2,
    198,  18,	1,    3,    0xc3, 0x50, 0x00, 0x50, 0,	  0, 0, 1,   0,	   0,	 0,
    0,	  0xa0, 0x02, 0xfa, 0xf0, 0,	0,    0,    0,	  2, 4, 5,   0xb4};
static const uint8_t tmpl_udp4[] = {
    0x02, 0,	0,    0, 0, 2, 0x02, 0,	 0,    0,    0, 1,  0x08, 0x00, 0x46,
    0x00, 0x00, 0x30, 0, 1, 0, 0,    64, 17,   0,    0, 10, 0,	  0,	1,
    10,	  0,	0,    2, 1, 1, 0,    0,	 0x30, 0x39, 0, 53, 0,	  0x18, 0,
    0,	  0x12, 0x34, 1, 0, 0, 1,    0,	 0,    0,    0, 0,  0};
static const uint8_t tmpl_icmp4[] = {0x02, 0,	 0,    0,    0, 2,  0x02, 0,   0,    0, 0,  1,
				     0x08, 0x00, 0x45, 0,    0, 84, 0,	  2,   0x40, 0, 64, 1,
				     0,	   0,	 198,  18,   1, 2,  198,  18,  1,    3, 8,  0,
				     0,	   0,	 0x22, 0xb5, 0, 1,  'a',  'b', 'c'};
static const uint8_t tmpl_tcp6[] = {
    0x02, 0, 0,	 0,    0, 2, 0x02, 0, 0, 0,    0,    1,	   0x86, 0xdd, 0x60, 0, 0,    0,    0,
    20,	  6, 64, 0xfd, 0, 0, 20,   0, 1, 0,    0,    0,	   0,	 0,    0,    0, 0,    0,    2,
    0xfd, 0, 0,	 20,   0, 1, 0,	   0, 0, 0,    0,    0,	   0,	 0,    0,    3, 0x01, 0xbb, 0x9c,
    0x40, 0, 0,	 0,    9, 0, 0,	   0, 0, 0x50, 0x12, 0xff, 0xff, 0,    0,    0, 0};
static const uint8_t tmpl_icmp6[] = {
    0x33, 0x33, 0xff, 0, 0, 3, 0x02, 0, 0,    0, 0, 1, 0x86, 0xdd, 0x60, 0, 0, 0,    0, 8, 58,
    255,  0xfe, 0x80, 0, 0, 0, 0,    0, 0,    0, 0, 0, 0,    0,	   0,	 0, 1, 0xff, 2, 0, 0,
    0,	  0,	0,    0, 0, 0, 0,    1, 0xff, 0, 0, 3, 135,  0,	   0,	 0, 0, 0,    0, 0};
static const uint8_t tmpl_arp[] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0,   0,  0, 0, 1, 0x08, 0x06, 0, 1, 8, 0,	  6,  4, 0,
    1,	  0x02, 0,    0,    0,	  0,	1,    198, 18, 1, 2, 0, 0,    0,    0, 0, 0, 198, 18, 1, 3};
static const uint8_t tmpl_vlan[] = {0x02, 0,	0,    0,    0,	  2,	0x02, 0,  0, 0,	 0,   1,
				    0x81, 0x00, 0x00, 0x64, 0x08, 0x00, 0x45, 0,  0, 28, 0,   3,
				    0,	  0,	64,   1,    0,	  0,	198,  18, 1, 2,	 198, 18,
				    1,	  3,	0,    0,    0,	  0,	0,    7,  0, 9};

static const struct {
	const uint8_t *b;
	size_t len;
} templates[] = {
    {tmpl_tcp4, sizeof(tmpl_tcp4)},   {tmpl_udp4, sizeof(tmpl_udp4)},
    {tmpl_icmp4, sizeof(tmpl_icmp4)}, {tmpl_tcp6, sizeof(tmpl_tcp6)},
    {tmpl_icmp6, sizeof(tmpl_icmp6)}, {tmpl_arp, sizeof(tmpl_arp)},
    {tmpl_vlan, sizeof(tmpl_vlan)},
};

static const char *const filters[] = {
    "icmp",
    "tcp port 80",
    "tcp port 49232 or port 443",
    "host 198.18.1.2",
    "src host 198.18.1.2 and dst host 198.18.1.3",
    "udp and dst port 53",
    "ip6 and tcp",
    "icmp6 and ip6[40] == 135",
    "arp",
    "vlan and icmp",
    "vlan 100",
    "tcp[tcpflags] & tcp-syn != 0",
    "tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)",
    "ip[2:2] > 40",
    "len > 60",
    "greater 50",
    "less 50",
    "ether host 02:00:00:00:00:01",
    "ether broadcast or ether multicast",
    "net 10.0.0.0/8 or icmp6",
    "not ip",
    "ip proto 47 or ip proto 17",
    "portrange 1000-50000",
    "udp[8:2] == 0x1234",
    "ip[0] & 0xf != 5",
    "tcp[13] = 2 and ip[6:2] & 0x1fff = 0",
    "(tcp or udp) and (src port 22 or dst port 443)",
    "ip[1] / 4 > 2",
    "ip[1] % 3 = 1",
    "ip[8] * 2 > 100",
    "ip[8] ^ 3 = 67",
    "ip[8] << 2 > 200",
    "ip[8] >> 1 = 32",
    "ip[8] - 1 = 63",
    "ip[8] + ip[9] > 70",
    "ip[8] & ip[9] != 0",
    "ip[8] | 1 = 65",
    "ip6 net fd00:0:14::/48",
    "ip host 198.18.1.3 and not tcp",
    "icmp[icmptype] == icmp-echo and icmp[4:2] == 0x22b5",
    "tcp[((tcp[12] & 0xf0) >> 2):2] = 0x0204",
};

static uint32_t rnd_state = 12345;
static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

TEST(cbpf_same_verdict_as_libpcap)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 256);
	uint8_t buf[CBPF_BUF_SIZE];
	long checked = 0, accepted = 0;

	ASSERT_TRUE(p != NULL, "pcap_open_dead");
	for (size_t f = 0; f < sizeof(filters) / sizeof(filters[0]); f++) {
		struct bpf_program prog;
		char what[200];

		if (pcap_compile(p, &prog, filters[f], 1, PCAP_NETMASK_UNKNOWN) < 0) {
			snprintf(what, sizeof(what), "pcap_compile '%s': %s", filters[f],
				 pcap_geterr(p));
			ASSERT_TRUE(0, what);
		}
		ASSERT_TRUE(prog.bf_len <= CBPF_MAX_INSNS, filters[f]);
		for (int i = 0; i < 3000; i++) {
			size_t t = (size_t)rnd() % (sizeof(templates) / sizeof(templates[0]));
			uint32_t len = (uint32_t)templates[t].len, caplen, wirelen;
			struct pcap_pkthdr hdr;
			uint32_t ours, theirs;

			memset(buf, 0, sizeof(buf));
			memcpy(buf, templates[t].b, len);
			/* mutate a few bytes in most rounds, cut the capture in some */
			for (int m = (int)(rnd() % 4); i % 5 && m > 0; m--)
				buf[rnd() % len] = (uint8_t)rnd();
			caplen = i % 7 == 0 ? (uint32_t)(rnd() % (len + 1)) : len;
			wirelen = len + (i % 3 == 0 ? rnd() % 1500 : 0);
			memset(&hdr, 0, sizeof(hdr));
			hdr.caplen = caplen;
			hdr.len = wirelen;
			theirs = (uint32_t)pcap_offline_filter(&prog, &hdr, buf);
			ours = cbpf_run((const volatile struct cbpf_insn *)prog.bf_insns,
					prog.bf_len, buf, caplen, wirelen);
			if (ours != theirs) {
				snprintf(what, sizeof(what),
					 "filter '%s' template %zu caplen %u: ours %u, libpcap %u",
					 filters[f], t, caplen, ours, theirs);
				pcap_freecode(&prog);
				pcap_close(p);
				ASSERT_TRUE(0, what);
			}
			checked++;
			accepted += theirs != 0;
		}
		pcap_freecode(&prog);
	}
	pcap_close(p);
	/* the corpus must exercise both verdicts, or the comparison proves little */
	ASSERT_TRUE(accepted > checked / 20 && accepted < checked - checked / 20,
		    "both verdicts well represented");
}

TEST(cbpf_hand_written_edge_cases)
{
	uint8_t buf[CBPF_BUF_SIZE] = {0x11, 0x22, 0x33, 0x44, 0x55};
	/* A = P[3:2] would read past caplen 4: reject */
	const struct cbpf_insn past_end[] = {{0x28, 0, 0, 3}, {0x16, 0, 0, 0}};
	/* A = 7; A /= X (X = 0): reject */
	const struct cbpf_insn div0[] = {{0x00, 0, 0, 7}, {0x3c, 0, 0, 0}, {0x06, 0, 0, 1}};
	/* ja beyond the end: reject, no run-away */
	const struct cbpf_insn ja_out[] = {{0x05, 0, 0, 1000}, {0x06, 0, 0, 1}};
	/* ld #len; st M[3]; ldx M[3]; txa; ret a */
	const struct cbpf_insn len_mem[] = {
	    {0x80, 0, 0, 0}, {0x02, 0, 0, 3}, {0x61, 0, 0, 3}, {0x87, 0, 0, 0}, {0x16, 0, 0, 0}};
	/* X = 4*(P[0]&0xf) = 4; A = P[X+0] = 0x55; ret A */
	const struct cbpf_insn msh[] = {{0xb1, 0, 0, 0}, {0x50, 0, 0, 0}, {0x16, 0, 0, 0}};
	/* falling off the end without a ret: reject */
	const struct cbpf_insn no_ret[] = {{0x00, 0, 0, 7}};

	ASSERT_EQ(cbpf_run(past_end, 2, buf, 4, 4), 0, "load past the capture");
	ASSERT_EQ(cbpf_run(past_end, 2, buf, 5, 5), 0x4455, "load inside the capture");
	ASSERT_EQ(cbpf_run(div0, 3, buf, 5, 5), 0, "division by zero");
	ASSERT_EQ(cbpf_run(ja_out, 2, buf, 5, 5), 0, "jump out of the program");
	ASSERT_EQ(cbpf_run(len_mem, 5, buf, 5, 1234), 1234, "wire length through memory");
	ASSERT_EQ(cbpf_run(msh, 3, buf, 5, 5), 0x55, "ldx msh then ind load");
	ASSERT_EQ(cbpf_run(no_ret, 1, buf, 5, 5), 0, "no ret");
	ASSERT_EQ(cbpf_run(msh, 3, buf, CBPF_BUF_SIZE + 1, 5), 0,
		  "buffer length beyond the buffer");
}

TEST(cbpf_read_extent_bounds_what_the_verdict_depends_on)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 256);
	uint8_t buf[CBPF_BUF_SIZE];
	int bounded = 0;

	ASSERT_TRUE(p != NULL, "pcap_open_dead");
	for (size_t f = 0; f < sizeof(filters) / sizeof(filters[0]); f++) {
		struct bpf_program prog;
		uint32_t extent;
		char what[200];

		ASSERT_TRUE(pcap_compile(p, &prog, filters[f], 1, PCAP_NETMASK_UNKNOWN) == 0,
			    filters[f]);
		extent = cbpf_read_extent((const struct cbpf_insn *)prog.bf_insns, prog.bf_len);
		if (!strcmp(filters[f], "icmp"))
			ASSERT_EQ(extent, 24, "icmp reads the ethertype and the IP protocol");
		if (extent == 0xffffffff) {
			pcap_freecode(&prog);
			continue;
		}
		bounded++;
		/* bytes past the extent never change libpcap's verdict */
		for (int i = 0; i < 2000; i++) {
			size_t t = (size_t)rnd() % (sizeof(templates) / sizeof(templates[0]));
			uint32_t len = (uint32_t)templates[t].len;
			struct pcap_pkthdr hdr = {.caplen = len, .len = len};
			int before, after;

			if (extent >= len)
				continue;
			memset(buf, 0, sizeof(buf));
			memcpy(buf, templates[t].b, len);
			before = pcap_offline_filter(&prog, &hdr, buf);
			for (uint32_t k = extent; k < len; k++)
				buf[k] = (uint8_t)rnd();
			after = pcap_offline_filter(&prog, &hdr, buf);
			if (before != after) {
				snprintf(what, sizeof(what), "'%s': extent %u, verdict %d then %d",
					 filters[f], extent, before, after);
				pcap_freecode(&prog);
				pcap_close(p);
				ASSERT_TRUE(0, what);
			}
		}
		pcap_freecode(&prog);
	}
	pcap_close(p);
	ASSERT_TRUE(bounded >= 10, "enough filters with a bounded extent to prove anything");
}

TEST(cbpf_read_mask_bounds_what_the_verdict_depends_on)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 256);
	uint8_t buf[CBPF_BUF_SIZE], mask[CBPF_BUF_SIZE];
	int bounded = 0;

	ASSERT_TRUE(p != NULL, "pcap_open_dead");
	for (size_t f = 0; f < sizeof(filters) / sizeof(filters[0]); f++) {
		struct bpf_program prog;
		const struct cbpf_insn *insns;
		char what[200];

		ASSERT_TRUE(pcap_compile(p, &prog, filters[f], 1, PCAP_NETMASK_UNKNOWN) == 0,
			    filters[f]);
		insns = (const struct cbpf_insn *)prog.bf_insns;
		if (cbpf_read_mask(insns, prog.bf_len, mask, sizeof(mask))) {
			ASSERT_EQ(cbpf_read_extent(insns, prog.bf_len), 0xffffffff,
				  "no mask only where the extent is unbounded too");
			pcap_freecode(&prog);
			continue;
		}
		bounded++;
		if (!strcmp(filters[f], "icmp")) {
			int marked = 0;

			for (size_t k = 0; k < sizeof(mask); k++)
				marked += mask[k] != 0;
			ASSERT_EQ(marked, 3, "icmp reads three bytes");
			ASSERT_TRUE(mask[12] && mask[13] && mask[23],
				    "the ethertype and the protocol");
		}
		/* bytes outside the mask never change libpcap's verdict, whole or cut */
		for (int i = 0; i < 2000; i++) {
			size_t t = (size_t)rnd() % (sizeof(templates) / sizeof(templates[0]));
			uint32_t len = (uint32_t)templates[t].len;
			struct pcap_pkthdr hdr = {.caplen = len, .len = len};
			int before, after;

			if (i % 4 == 0)
				hdr.caplen = (uint32_t)rnd() % (len + 1);
			memset(buf, 0, sizeof(buf));
			memcpy(buf, templates[t].b, len);
			before = pcap_offline_filter(&prog, &hdr, buf);
			for (uint32_t k = 0; k < len; k++)
				if (!mask[k])
					buf[k] = (uint8_t)rnd();
			after = pcap_offline_filter(&prog, &hdr, buf);
			if (before != after) {
				snprintf(what, sizeof(what), "'%s': verdict %d then %d", filters[f],
					 before, after);
				pcap_freecode(&prog);
				pcap_close(p);
				ASSERT_TRUE(0, what);
			}
		}
		pcap_freecode(&prog);
	}
	pcap_close(p);
	ASSERT_TRUE(bounded >= 10, "enough filters with a mask to prove anything");
}
