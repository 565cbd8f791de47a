// SPDX-License-Identifier: MIT
/* pcapng writer and reader: round trips, byte orders, invalid input, truncation. */
#include "test.h"
#include "pcapng.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------ helpers */

static const char *top_dir(void)
{
	const char *t = getenv("TOP_DIR");

	return t && *t ? t : ".";
}

/* A real Ethernet/IPv4/ICMP echo packet (98 bytes, like ping). */
static size_t make_icmp(uint8_t *p, int reply, uint16_t seq)
{
	static const uint8_t mac_a[6] = {0x02, 0x42, 0xac, 0x11, 0x00, 0x02};
	static const uint8_t mac_b[6] = {0x02, 0x42, 0x5e, 0x8a, 0x1f, 0x01};
	uint8_t src_ip[4] = {172, 17, 0, 1}, dst_ip[4] = {172, 17, 0, 2};
	uint32_t sum = 0;
	size_t i;

	memset(p, 0, 98);
	memcpy(p, reply ? mac_b : mac_a, 6);
	memcpy(p + 6, reply ? mac_a : mac_b, 6);
	p[12] = 0x08;
	p[13] = 0x00;
	/* IPv4 header */
	p[14] = 0x45;
	p[16] = 0;
	p[17] = 84;
	p[18] = (uint8_t)(seq >> 8);
	p[19] = (uint8_t)seq;
	p[20] = 0x40; /* DF */
	p[22] = 64;
	p[23] = 1; /* ICMP */
	memcpy(p + 26, reply ? dst_ip : src_ip, 4);
	memcpy(p + 30, reply ? src_ip : dst_ip, 4);
	for (i = 14; i < 34; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	p[24] = (uint8_t)(~sum >> 8);
	p[25] = (uint8_t)~sum;
	/* ICMP echo */
	p[34] = reply ? 0 : 8;
	p[38] = 0x0a;
	p[39] = 0x0a; /* id 2570 */
	p[40] = (uint8_t)(seq >> 8);
	p[41] = (uint8_t)seq;
	for (i = 42; i < 98; i++)
		p[i] = (uint8_t)(i - 42 + 0x10);
	sum = 0;
	for (i = 34; i < 98; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	p[36] = (uint8_t)(~sum >> 8);
	p[37] = (uint8_t)~sum;
	return 98;
}

static const struct {
	const char *hook;
	int ifidx; /* into sample_if */
	int outbound;
	int reply;
} sample_ev[10] = {
	{"net:net_dev_queue", 0, 1, 0},	      {"net:netif_receive_skb_entry", 1, 0, 0},
	{"net:net_dev_queue", 1, 1, 0},	      {"net:netif_rx", 2, 0, 0},
	{"net:netif_receive_skb_entry", 2, 0, 0}, {"net:net_dev_queue", 2, 1, 1},
	{"net:netif_rx", 1, 0, 1},	      {"net:net_dev_queue", 1, 1, 1},
	{"net:netif_receive_skb_entry", 0, 0, 1}, {"net:kfree_skb", 0, 0, 1},
};

static const struct {
	const char *ifname;
	uint64_t netns;
	uint32_t ifindex;
} sample_if[3] = {
	{"docker0", 4026531993ull, 3},
	{"veth1a054e5", 4026531993ull, 9},
	{"eth0", 4026532328ull, 7},
};

#define SAMPLE_TS0 1700000000123456789ull

/* The sample capture of writer_sample_files, also used for round trips. */
static int write_sample(struct zout *out, char *err, size_t errlen)
{
	struct pcapng_shb_info shb = {"pkt-record " PKT_VERSION, "Linux 6.18", "unit-test-host",
				      "unit test sample"};
	struct pcapng_writer *w;
	uint8_t pkt[128];
	char name[64], desc[128], comment[256];
	int rc;

	rc = pcapng_writer_open(&w, out, &shb, err, errlen);
	if (rc)
		return rc;
	for (int i = 0; i < 3; i++) {
		struct pcapng_idb_info idb = {PCAPNG_LINKTYPE_ETHERNET, 262144, name, desc, 9};
		uint32_t id;

		snprintf(name, sizeof(name), "%s@%llu", sample_if[i].ifname,
			 (unsigned long long)sample_if[i].netns);
		snprintf(desc, sizeof(desc), "netns=%llu ifindex=%u host=unit-test-host",
			 (unsigned long long)sample_if[i].netns, sample_if[i].ifindex);
		rc = pcapng_write_idb(w, &idb, &id);
		if (rc || id != (uint32_t)i)
			goto fail;
	}
	for (int i = 0; i < 10; i++) {
		int f = sample_ev[i].ifidx;
		struct pcapng_epb_info epb = {0};

		snprintf(comment, sizeof(comment),
			 "hook=%s netns=%llu if=%s ifindex=%u skb=0xffff8880012%02x track=0x%x cpu=1 "
			 "pid=2570 comm=ping%s",
			 sample_ev[i].hook, (unsigned long long)sample_if[f].netns,
			 sample_if[f].ifname, sample_if[f].ifindex, i, 0x2a + sample_ev[i].reply,
			 i == 9 ? " drop=NETFILTER_DROP" : "");
		epb.if_id = (uint32_t)f;
		epb.ts = SAMPLE_TS0 + (uint64_t)i * 12345;
		epb.caplen = epb.origlen = (uint32_t)make_icmp(pkt, sample_ev[i].reply, 1);
		epb.data = pkt;
		epb.comment = comment;
		epb.has_flags = 1;
		epb.flags = sample_ev[i].outbound ? PCAPNG_DIR_OUTBOUND : PCAPNG_DIR_INBOUND;
		epb.has_packetid = 1;
		epb.packetid = 0x2a + (uint64_t)sample_ev[i].reply;
		rc = pcapng_write_epb(w, &epb);
		if (rc)
			goto fail;
	}
	for (int i = 0; i < 3; i++) {
		struct pcapng_isb_info isb = {0};

		isb.if_id = (uint32_t)i;
		isb.ts = SAMPLE_TS0 + 200000;
		isb.has_starttime = isb.has_endtime = isb.has_ifrecv = isb.has_ifdrop = 1;
		isb.has_osdrop = 1;
		isb.starttime = SAMPLE_TS0 - 1000;
		isb.endtime = SAMPLE_TS0 + 200000;
		isb.ifrecv = 3 + (uint64_t)i;
		isb.ifdrop = 0;
		isb.osdrop = (uint64_t)i;
		rc = pcapng_write_isb(w, &isb);
		if (rc)
			goto fail;
	}
	pcapng_writer_free(w);
	return 0;
fail:
	snprintf(err, errlen, "%s", pcapng_writer_error(w));
	pcapng_writer_free(w);
	return rc ? rc : -EINVAL;
}

TEST(writer_sample_files)
{
	char dir[1024], path[1100], err[PCAPNG_ERRLEN] = "";
	struct zout *out;

	snprintf(dir, sizeof(dir), "%s/tests/out", top_dir());
	mkdir(dir, 0755);
	for (int z = 0; z < 2; z++) {
		int fd;

		snprintf(path, sizeof(path), "%s/unit-writer.pcapng%s", dir, z ? ".zst" : "");
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		ASSERT_TRUE(fd >= 0, path);
		ASSERT_OK(zout_open_fd(&out, fd, z ? 3 : 0, ZOUT_FSYNC, err, sizeof(err)), err);
		ASSERT_OK(write_sample(out, err, sizeof(err)), err);
		ASSERT_OK(zout_close(out, err, sizeof(err)), err);
	}
}
