/* SPDX-License-Identifier: MIT */
#include "test.h"
#include "cli.h"
#include "pktbuild.h"

#include <errno.h>

TEST(cli_parse_compress_one_default)
{
	char err[160];
	int level = -1;

	ASSERT_OK(cli_parse_compress("none", &level, err, sizeof(err)), "none");
	ASSERT_EQ(level, 0, "none is 0");
	ASSERT_OK(cli_parse_compress("zstd", &level, err, sizeof(err)), "zstd");
	ASSERT_EQ(level, CLI_ZSTD_LEVEL_DEFAULT, "zstd is the default level");
	ASSERT_EQ(CLI_ZSTD_LEVEL_DEFAULT, 1, "documented in pkt-record.8 and pkt-analyze.1");
	ASSERT_OK(cli_parse_compress("zstd:19", &level, err, sizeof(err)), "zstd:19");
	ASSERT_EQ(level, 19, "level 19");
	static const char *const bad[] = {"zstd:0",  "zstd:23", "zstd:", "zstd:3x",
					  "zstd:-1", "zstd: 3", "gzip",	 ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		level = 7;
		ASSERT_EQ(cli_parse_compress(bad[i], &level, err, sizeof(err)), -EINVAL, bad[i]);
		ASSERT_EQ(level, 7, "left alone");
		ASSERT_TRUE(strstr(err, bad[i]) != NULL, "message quotes the argument");
	}
}

/* Ethernet + IPv4 + ICMP echo request 10.0.0.1 -> 10.0.0.2 */
static size_t icmp_frame(struct pb *p, int with_ethernet)
{
	p->n = 0;
	if (with_ethernet) {
		static const uint8_t macs[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};

		putn(p, macs, sizeof(macs));
		put16(p, 0x0800);
	}
	pb_ip4(p, 1, 0x0a000001, 0x0a000002, 8, 1, 0);
	put8(p, 8);
	put8(p, 0);
	put16(p, 0);
	put32(p, 0x12340001);
	return p->n;
}

TEST(cli_filter_compile_and_match)
{
	struct cli_filter *f;
	struct pb p;
	char err[512];
	size_t n = icmp_frame(&p, 1);

	ASSERT_OK(cli_filter_compile(&f, "icmp and host 10.0.0.2", 1, 262144, err, sizeof(err)),
		  err);
	ASSERT_TRUE(cli_filter_match(f, p.b, (uint32_t)n, (uint32_t)n), "echo matches");
	ASSERT_TRUE(cli_filter_match(f, p.b, (uint32_t)n, 0), "origlen below caplen is caplen");
	p.b[14 + 9] = 17; /* now UDP */
	ASSERT_TRUE(!cli_filter_match(f, p.b, (uint32_t)n, (uint32_t)n), "udp does not");
	ASSERT_TRUE(cli_filter_program(f) != NULL, "program for the kernel");
	cli_filter_free(f);

	ASSERT_OK(cli_filter_compile(&f, "greater 100", 1, 262144, err, sizeof(err)), err);
	icmp_frame(&p, 1);
	ASSERT_TRUE(!cli_filter_match(f, p.b, (uint32_t)n, (uint32_t)n), "short packet");
	ASSERT_TRUE(cli_filter_match(f, p.b, (uint32_t)n, 1500), "the real length counts");
	cli_filter_free(f);

	/* raw IP (pcapng link type 101 is DLT_RAW) */
	n = icmp_frame(&p, 0);
	ASSERT_OK(cli_filter_compile(&f, "icmp", 101, 65535, err, sizeof(err)), err);
	ASSERT_TRUE(cli_filter_match(f, p.b, (uint32_t)n, (uint32_t)n), "raw IP echo");
	cli_filter_free(f);

	f = (struct cli_filter *)&p; /* must be reset on failure */
	ASSERT_EQ(cli_filter_compile(&f, "this is not a filter", 1, 262144, err, sizeof(err)),
		  -EINVAL, "bad expression");
	ASSERT_TRUE(f == NULL && err[0], "no filter, libpcap's message");
	ASSERT_EQ(cli_filter_compile(&f, "ether host 1:2:3:4:5:6", 101, 65535, err, sizeof(err)),
		  -EINVAL, "no MAC on raw IP");
	cli_filter_free(NULL);
}
