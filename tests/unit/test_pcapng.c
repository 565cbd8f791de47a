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
    {"net:net_dev_queue", 0, 1, 0},
    {"net:netif_receive_skb_entry", 1, 0, 0},
    {"net:net_dev_queue", 1, 1, 0},
    {"net:netif_rx", 2, 0, 0},
    {"net:netif_receive_skb_entry", 2, 0, 0},
    {"net:net_dev_queue", 2, 1, 1},
    {"net:netif_rx", 1, 0, 1},
    {"net:net_dev_queue", 1, 1, 1},
    {"net:netif_receive_skb_entry", 0, 0, 1},
    {"net:kfree_skb", 0, 0, 1},
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

		snprintf(
		    comment, sizeof(comment),
		    "hook=%s netns=%llu if=%s ifindex=%u skb=0xffff8880012%02x track=0x%x cpu=1 "
		    "pid=2570 comm=ping%s",
		    sample_ev[i].hook, (unsigned long long)sample_if[f].netns, sample_if[f].ifname,
		    sample_if[f].ifindex, i, 0x2a + sample_ev[i].reply,
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

/* ------------------------------------------------------ reading helpers */

/* Write the sample through zout into a malloc'd buffer (via a temp file). */
static uint8_t *sample_bytes(int level, size_t *len)
{
	char path[] = "/tmp/pkt-pcapng-XXXXXX", err[PCAPNG_ERRLEN];
	struct zout *out;
	struct stat st;
	uint8_t *b = NULL;
	int fd = mkstemp(path);

	if (fd < 0)
		return NULL;
	unlink(path);
	if (zout_open_fd(&out, fd, level, ZOUT_KEEP_FD, err, sizeof(err)) ||
	    write_sample(out, err, sizeof(err)) || zout_close(out, err, sizeof(err)) ||
	    fstat(fd, &st) < 0)
		goto done;
	b = malloc((size_t)st.st_size + 1);
	if (b && pread(fd, b, (size_t)st.st_size, 0) != st.st_size) {
		free(b);
		b = NULL;
	}
	*len = (size_t)st.st_size;
done:
	close(fd);
	return b;
}

struct tally {
	int sections, ifaces, packets, stats, other, events;
	int rc; /* the final return of pcapng_next */
	char msg[PCAPNG_ERRLEN];
};

static void read_all(struct pcapng_reader *r, struct tally *t)
{
	struct pcapng_record rec;

	memset(t, 0, sizeof(*t));
	while ((t->rc = pcapng_next(r, &rec)) == 0) {
		switch (rec.kind) {
		case PCAPNG_REC_SECTION:
			t->sections++;
			break;
		case PCAPNG_REC_INTERFACE:
			t->ifaces++;
			break;
		case PCAPNG_REC_PACKET:
			t->packets++;
			break;
		case PCAPNG_REC_STATS:
			t->stats++;
			break;
		case PCAPNG_REC_OTHER:
			t->other++;
			break;
		case PCAPNG_REC_EVENT:
			t->events++;
			break;
		}
	}
	snprintf(t->msg, sizeof(t->msg), "%s", pcapng_reader_error(r));
}

static void check_sample(int *failed__, struct pcapng_reader *r)
{
	struct pcapng_record rec;
	uint8_t pkt[128];
	char name[64];
	int n = 0;

	ASSERT_EQ(pcapng_next(r, &rec), 0, pcapng_reader_error(r));
	ASSERT_EQ(rec.kind, PCAPNG_REC_SECTION, "SHB first");
	ASSERT_EQ(rec.offset, 0, "SHB offset");
	ASSERT_STREQ(rec.shb_userappl, "pkt-record " PKT_VERSION, "shb_userappl");
	ASSERT_STREQ(rec.shb_os, "Linux 6.18", "shb_os");
	ASSERT_STREQ(rec.shb_hardware, "unit-test-host", "shb_hardware");
	ASSERT_STREQ(rec.comment, "unit test sample", "SHB comment");
	for (int i = 0; i < 3; i++) {
		const struct pcapng_interface *ifc;

		ASSERT_EQ(pcapng_next(r, &rec), 0, pcapng_reader_error(r));
		ASSERT_EQ(rec.kind, PCAPNG_REC_INTERFACE, "IDB");
		ASSERT_EQ(rec.if_id, i, "if_id");
		ifc = pcapng_interface(r, (uint32_t)i);
		ASSERT_TRUE(ifc != NULL, "interface");
		snprintf(name, sizeof(name), "%s@%llu", sample_if[i].ifname,
			 (unsigned long long)sample_if[i].netns);
		ASSERT_STREQ(ifc->name, name, "if_name");
		ASSERT_TRUE(strstr(ifc->description, "ifindex=") != NULL, "if_description");
		ASSERT_EQ(ifc->linktype, 1, "linktype");
		ASSERT_EQ(ifc->snaplen, 262144, "snaplen");
		ASSERT_U64_EQ(ifc->ts_units_per_sec, 1000000000ull, "tsresol 9");
	}
	ASSERT_EQ(pcapng_interface_count(r), 3, "3 interfaces");
	for (int i = 0; i < 10; i++) {
		ASSERT_EQ(pcapng_next(r, &rec), 0, pcapng_reader_error(r));
		ASSERT_EQ(rec.kind, PCAPNG_REC_PACKET, "EPB");
		ASSERT_EQ(rec.block_type, PCAPNG_BT_EPB, "EPB type");
		ASSERT_EQ(rec.if_id, sample_ev[i].ifidx, "EPB if_id");
		ASSERT_U64_EQ(rec.ts_ns, SAMPLE_TS0 + (uint64_t)i * 12345, "ts_ns");
		ASSERT_EQ(rec.caplen, 98, "caplen");
		ASSERT_EQ(rec.origlen, 98, "origlen");
		make_icmp(pkt, sample_ev[i].reply, 1);
		ASSERT_MEMEQ(rec.data, pkt, 98, "packet bytes");
		ASSERT_TRUE(rec.has_flags, "flags");
		ASSERT_EQ(rec.flags & 3, sample_ev[i].outbound ? 2 : 1, "direction");
		ASSERT_TRUE(rec.has_packetid, "packet id");
		ASSERT_U64_EQ(rec.packetid, 0x2a + (uint64_t)sample_ev[i].reply, "packetid");
		ASSERT_EQ(rec.has_dropcount, 0, "no dropcount");
		ASSERT_TRUE(rec.has_comment, "comment");
		ASSERT_TRUE(!strncmp(rec.comment, "hook=net:", 9), rec.comment);
		ASSERT_EQ(rec.big_endian, 0, "written in host order (LE)");
		n++;
	}
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(pcapng_next(r, &rec), 0, pcapng_reader_error(r));
		ASSERT_EQ(rec.kind, PCAPNG_REC_STATS, "ISB");
		ASSERT_EQ(rec.if_id, i, "ISB if_id");
		ASSERT_TRUE(rec.has_starttime && rec.has_endtime && rec.has_ifrecv &&
				rec.has_ifdrop && rec.has_osdrop,
			    "ISB options");
		ASSERT_U64_EQ(rec.starttime, SAMPLE_TS0 - 1000, "isb_starttime");
		ASSERT_U64_EQ(rec.endtime, SAMPLE_TS0 + 200000, "isb_endtime");
		ASSERT_U64_EQ(rec.ifrecv, 3 + (uint64_t)i, "isb_ifrecv");
		ASSERT_U64_EQ(rec.ifdrop, 0, "isb_ifdrop");
		ASSERT_U64_EQ(rec.osdrop, (uint64_t)i, "isb_osdrop");
	}
	ASSERT_EQ(pcapng_next(r, &rec), PCAPNG_EOF, pcapng_reader_error(r));
	ASSERT_EQ(pcapng_next(r, &rec), PCAPNG_EOF, "EOF is sticky");
	ASSERT_EQ(n, 10, "10 packets");
}

TEST(pcapng_roundtrip_mem_plain_zstd)
{
	char err[PCAPNG_ERRLEN];

	for (int level = 0; level <= 3; level += 3) {
		struct pcapng_reader *r;
		size_t len;
		uint8_t *b = sample_bytes(level, &len);

		ASSERT_TRUE(b != NULL, "sample");
		ASSERT_OK(pcapng_reader_open_mem(&r, b, len, err, sizeof(err)), err);
		check_sample(failed__, r);
		pcapng_reader_close(r);
		free(b);
		if (*failed__)
			return;
	}
}

TEST(pcapng_roundtrip_files)
{
	char path[1100], err[PCAPNG_ERRLEN];

	for (int z = 0; z < 2; z++) {
		struct pcapng_reader *r;
		struct zout *out;
		int fd;

		snprintf(path, sizeof(path), "%s/tests/out/unit-roundtrip.pcapng%s", top_dir(),
			 z ? ".zst" : "");
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		ASSERT_TRUE(fd >= 0, path);
		ASSERT_OK(zout_open_fd(&out, fd, z ? 5 : 0, 0, err, sizeof(err)), err);
		ASSERT_OK(write_sample(out, err, sizeof(err)), err);
		ASSERT_OK(zout_close(out, err, sizeof(err)), err);
		ASSERT_OK(pcapng_reader_open_path(&r, path, err, sizeof(err)), err);
		check_sample(failed__, r);
		pcapng_reader_close(r);
		unlink(path);
		if (*failed__)
			return;
	}
}

/* ------------------------------------------- hand-made blocks, any byte order */

struct bb {
	uint8_t b[1 << 16];
	size_t len;
	int be;	      /* emit big-endian */
	size_t start; /* start of the open block */
};

static void bb_u8(struct bb *b, uint8_t v)
{
	if (b->len < sizeof(b->b))
		b->b[b->len++] = v;
}

static void bb_u16(struct bb *b, uint16_t v)
{
	for (int i = 0; i < 2; i++)
		bb_u8(b, (uint8_t)(b->be ? v >> (8 * (1 - i)) : v >> (8 * i)));
}

static void bb_u32(struct bb *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		bb_u8(b, (uint8_t)(b->be ? v >> (8 * (3 - i)) : v >> (8 * i)));
}

static void bb_u64(struct bb *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		bb_u8(b, (uint8_t)(b->be ? v >> (8 * (7 - i)) : v >> (8 * i)));
}

static void bb_raw(struct bb *b, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bb_u8(b, ((const uint8_t *)p)[i]);
}

static void bb_pad(struct bb *b)
{
	while (b->len % 4)
		bb_u8(b, 0);
}

static void bb_begin(struct bb *b, uint32_t type)
{
	b->start = b->len;
	bb_u32(b, type);
	bb_u32(b, 0); /* patched by bb_end */
}

static void bb_opt(struct bb *b, uint16_t code, const void *v, uint16_t n)
{
	bb_u16(b, code);
	bb_u16(b, n);
	bb_raw(b, v, n);
	bb_pad(b);
}

static void bb_opt_str(struct bb *b, uint16_t code, const char *s)
{
	bb_opt(b, code, s, (uint16_t)strlen(s));
}

static void bb_opt_u32(struct bb *b, uint16_t code, uint32_t v)
{
	bb_u16(b, code);
	bb_u16(b, 4);
	bb_u32(b, v);
}

static void bb_opt_u64(struct bb *b, uint16_t code, uint64_t v)
{
	bb_u16(b, code);
	bb_u16(b, 8);
	bb_u64(b, v);
}

static void bb_endopt(struct bb *b)
{
	bb_u32(b, 0);
}

/* Append the trailing length and patch the header's. */
static void bb_end(struct bb *b)
{
	uint32_t total = (uint32_t)(b->len + 4 - b->start);
	size_t at = b->start + 4;
	int be = b->be;

	bb_u32(b, total);
	for (int i = 0; i < 4; i++)
		b->b[at + (size_t)i] = (uint8_t)(be ? total >> (8 * (3 - i)) : total >> (8 * i));
}

static void bb_shb(struct bb *b, const char *appl)
{
	bb_begin(b, PCAPNG_BT_SHB);
	bb_u32(b, PCAPNG_BYTE_ORDER_MAGIC);
	bb_u16(b, 1);
	bb_u16(b, 0);
	bb_u64(b, UINT64_MAX);
	if (appl) {
		bb_opt_str(b, 4, appl);
		bb_endopt(b);
	}
	bb_end(b);
}

/* IDB; tsresol < 0 omits the option; tsoffset != 0 adds if_tsoffset. */
static void bb_idb(struct bb *b, uint16_t linktype, uint32_t snaplen, const char *name, int tsresol,
		   int64_t tsoffset)
{
	bb_begin(b, PCAPNG_BT_IDB);
	bb_u16(b, linktype);
	bb_u16(b, 0);
	bb_u32(b, snaplen);
	if (name)
		bb_opt_str(b, 2, name);
	if (tsresol >= 0) {
		uint8_t v = (uint8_t)tsresol;

		bb_opt(b, 9, &v, 1);
	}
	if (tsoffset)
		bb_opt_u64(b, 14, (uint64_t)tsoffset);
	bb_endopt(b);
	bb_end(b);
}

static void bb_epb(struct bb *b, uint32_t if_id, uint64_t ts, const void *data, uint32_t caplen,
		   uint32_t origlen, const char *comment)
{
	bb_begin(b, PCAPNG_BT_EPB);
	bb_u32(b, if_id);
	bb_u32(b, (uint32_t)(ts >> 32));
	bb_u32(b, (uint32_t)ts);
	bb_u32(b, caplen);
	bb_u32(b, origlen);
	bb_raw(b, data, caplen);
	bb_pad(b);
	if (comment)
		bb_opt_str(b, 1, comment);
	bb_opt_u32(b, 2, PCAPNG_DIR_INBOUND);
	bb_opt_u64(b, 5, 0x1122334455667788ull);
	bb_opt_u64(b, 4, 17);
	bb_endopt(b);
	bb_end(b);
}

static void bb_block_raw(struct bb *b, uint32_t type, const void *body, size_t n)
{
	bb_begin(b, type);
	bb_raw(b, body, n);
	bb_pad(b);
	bb_end(b);
}

static int open_bb(struct pcapng_reader **r, const struct bb *b, char *err, size_t errlen)
{
	return pcapng_reader_open_mem(r, b->b, b->len, err, errlen);
}

static struct bb *bb_new(int be)
{
	struct bb *b = calloc(1, sizeof(*b));

	if (b)
		b->be = be;
	return b;
}

/* --------------------------------------------------------------- reader tests */

TEST(pcapng_big_endian_by_hand)
{
	struct bb *b = bb_new(1);
	struct pcapng_reader *r;
	struct pcapng_record rec;
	char err[PCAPNG_ERRLEN];
	const uint8_t pkt[6] = {1, 2, 3, 4, 5, 6};

	ASSERT_TRUE(b, "alloc");
	bb_shb(b, "hand-made BE");
	bb_idb(b, 1, 65535, "be0", 9, 0);
	bb_idb(b, 113, 0, "be1", -1, 0); /* Linux cooked, default microseconds */
	bb_epb(b, 0, 1700000000000000001ull, pkt, 6, 60, "big endian packet");
	bb_epb(b, 1, 1700000000000001ull, pkt, 5, 5, NULL);
	ASSERT_OK(open_bb(&r, b, err, sizeof(err)), err);
	ASSERT_EQ(pcapng_next(r, &rec), 0, pcapng_reader_error(r));
	ASSERT_EQ(rec.kind, PCAPNG_REC_SECTION, "SHB");
	ASSERT_EQ(rec.big_endian, 1, "BE section");
	ASSERT_STREQ(rec.shb_userappl, "hand-made BE", "userappl");
	ASSERT_EQ(pcapng_next(r, &rec), 0, pcapng_reader_error(r));
	ASSERT_EQ(pcapng_next(r, &rec), 0, pcapng_reader_error(r));
	ASSERT_EQ(pcapng_interface(r, 1)->linktype, 113, "linktype BE");
	ASSERT_EQ(pcapng_interface(r, 0)->snaplen, 65535, "snaplen BE");
	ASSERT_EQ(pcapng_next(r, &rec), 0, pcapng_reader_error(r));
	ASSERT_EQ(rec.kind, PCAPNG_REC_PACKET, "EPB");
	ASSERT_U64_EQ(rec.ts_ns, 1700000000000000001ull, "BE ts ns");
	ASSERT_EQ(rec.caplen, 6, "caplen");
	ASSERT_EQ(rec.origlen, 60, "origlen");
	ASSERT_MEMEQ(rec.data, pkt, 6, "data");
	ASSERT_STREQ(rec.comment, "big endian packet", "comment");
	ASSERT_EQ(rec.flags, PCAPNG_DIR_INBOUND, "flags BE");
	ASSERT_U64_EQ(rec.packetid, 0x1122334455667788ull, "packetid BE");
	ASSERT_U64_EQ(rec.dropcount, 17, "dropcount BE");
	ASSERT_EQ(pcapng_next(r, &rec), 0, pcapng_reader_error(r));
	ASSERT_U64_EQ(rec.ts_ns, 1700000000000001000ull, "us -> ns");
	ASSERT_EQ(rec.has_comment, 0, "no comment");
	ASSERT_EQ(pcapng_next(r, &rec), PCAPNG_EOF, pcapng_reader_error(r));
	pcapng_reader_close(r);
	free(b);
}

TEST(pcapng_multi_section_mixed_order)
{
	struct bb *b = bb_new(0);
	struct pcapng_reader *r;
	struct pcapng_record rec;
	char err[PCAPNG_ERRLEN];
	const uint8_t pkt[4] = {9, 9, 9, 9};
	int sec_order[3] = {0, 1, 0};
	int got = 0;

	ASSERT_TRUE(b, "alloc");
	for (int s = 0; s < 3; s++) {
		b->be = sec_order[s];
		bb_shb(b, s == 1 ? "be" : "le");
		for (int i = 0; i <= s; i++)
			bb_idb(b, 1, 0, "x", 6, 0);
		bb_epb(b, (uint32_t)s, 1000000ull * (uint64_t)(s + 1), pkt, 4, 4, "c");
	}
	ASSERT_OK(open_bb(&r, b, err, sizeof(err)), err);
	while (pcapng_next(r, &rec) == 0) {
		if (rec.kind != PCAPNG_REC_PACKET)
			continue;
		ASSERT_EQ(rec.section, got, "section index");
		ASSERT_EQ(rec.big_endian, sec_order[got], "order per section");
		ASSERT_EQ(rec.if_id, got, "if_id");
		ASSERT_U64_EQ(rec.ts_ns, 1000000000ull * (uint64_t)(got + 1), "ts");
		ASSERT_EQ(pcapng_interface_count(r), got + 1, "interfaces reset per section");
		ASSERT_EQ(pcapng_interface(r, rec.if_id)->section, got, "interface section");
		got++;
	}
	ASSERT_EQ(got, 3, "3 packets in 3 sections");
	ASSERT_STREQ(pcapng_reader_error(r), "", "no error");
	pcapng_reader_close(r);
	free(b);
}

TEST(pcapng_tsresol_and_offset)
{
	static const struct {
		int tsresol;
		int64_t tsoffset;
		uint64_t raw, ns;
	} cases[] = {
	    {-1, 0, 1700000000123456ull, 1700000000123456000ull}, /* default us */
	    {6, 0, 1700000000123456ull, 1700000000123456000ull},
	    {9, 0, 1700000000123456789ull, 1700000000123456789ull},
	    {3, 0, 1700000000123ull, 1700000000123000000ull}, /* ms: coarser */
	    {0, 0, 1700000000ull, 1700000000000000000ull},    /* seconds */
	    {12, 0, 0, 0},			       /* ps (finer than ns): values set below */
	    {0x80 | 20, 0, 3ull << 20, 3000000000ull}, /* 2^-20 s */
	    {0x80 | 0, 0, 5, 5000000000ull},	       /* 2^0 */
	    {6, 100, 1000000, 101000000000ull},	       /* if_tsoffset */
	    {6, -5, 1000000, 0},		       /* clamps at 0 */
	    {19, 0, UINT64_MAX, 1844674407ull},	       /* 10^-19 */
	    {0, 0, UINT64_MAX, UINT64_MAX},	       /* saturates */
	};
	char err[PCAPNG_ERRLEN];
	const uint8_t pkt[1] = {0};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bb *b = bb_new(0);
		struct pcapng_reader *r;
		struct pcapng_record rec;
		uint64_t raw = cases[i].raw, want = cases[i].ns;

		if (cases[i].tsresol == 12) {
			raw = 1700000000123456789ull; /* ps since epoch wraps; use a small value */
			want = 1700000000123456ull;
		}
		bb_shb(b, NULL);
		bb_idb(b, 1, 0, "i", cases[i].tsresol, cases[i].tsoffset);
		bb_epb(b, 0, raw, pkt, 1, 1, NULL);
		ASSERT_OK(open_bb(&r, b, err, sizeof(err)), err);
		ASSERT_EQ(pcapng_next(r, &rec), 0, pcapng_reader_error(r));
		ASSERT_EQ(pcapng_next(r, &rec), 0, pcapng_reader_error(r));
		ASSERT_EQ(pcapng_next(r, &rec), 0, pcapng_reader_error(r));
		ASSERT_U64_EQ(rec.ts_raw, raw, "raw ts");
		if (rec.ts_ns != want)
			printf("  case %zu\n", i);
		ASSERT_U64_EQ(rec.ts_ns, want, "ts_ns");
		pcapng_reader_close(r);
		free(b);
	}
	/* out-of-range resolutions are errors, not overflows */
	for (int v = 0; v < 2; v++) {
		struct bb *b = bb_new(0);
		struct pcapng_reader *r;
		struct pcapng_record rec;

		bb_shb(b, NULL);
		bb_idb(b, 1, 0, "i", v ? 0x80 | 64 : 20, 0);
		ASSERT_OK(open_bb(&r, b, err, sizeof(err)), err);
		ASSERT_EQ(pcapng_next(r, &rec), 0, "SHB");
		ASSERT_EQ(pcapng_next(r, &rec), -EBADMSG, "bad tsresol");
		ASSERT_TRUE(strstr(pcapng_reader_error(r), "if_tsresol") != NULL,
			    pcapng_reader_error(r));
		ASSERT_TRUE(strstr(pcapng_reader_error(r), "offset 28") != NULL,
			    pcapng_reader_error(r));
		pcapng_reader_close(r);
		free(b);
	}
}

TEST(pcapng_multi_interface_writer)
{
	/* interfaces with different resolutions through the real writer */
	char path[] = "/tmp/pkt-mi-XXXXXX", err[PCAPNG_ERRLEN];
	const uint8_t resol[4] = {9, 6, 0, 0x80 | 10};
	const uint64_t ts[4] = {1700000000123456789ull, 1700000000123456ull, 0,
				1024ull * 1700000000ull + 512};
	const uint64_t ns[4] = {1700000000123456789ull, 1700000000123456000ull, 0,
				1700000000500000000ull};
	struct pcapng_writer *w;
	struct pcapng_reader *r;
	struct pcapng_record rec;
	struct zout *out;
	int fd = mkstemp(path);
	int n = 0;

	ASSERT_TRUE(fd >= 0, "mkstemp");
	ASSERT_OK(zout_open_fd(&out, fd, 1, 0, err, sizeof(err)), err);
	ASSERT_OK(pcapng_writer_open(&w, out, NULL, err, sizeof(err)), err);
	for (int i = 0; i < 4; i++) {
		struct pcapng_idb_info idb = {(uint16_t)(i + 1), 100, "x", NULL, resol[i]};

		ASSERT_OK(pcapng_write_idb(w, &idb, NULL), pcapng_writer_error(w));
	}
	ASSERT_EQ(pcapng_writer_if_count(w), 4, "if count");
	for (int i = 0; i < 4; i++) {
		struct pcapng_epb_info epb = {0};

		epb.if_id = (uint32_t)i;
		epb.ts = ts[i];
		epb.has_dropcount = 1;
		epb.dropcount = 99;
		ASSERT_OK(pcapng_write_epb(w, &epb), pcapng_writer_error(w));
	}
	{
		struct pcapng_epb_info bad = {0};

		bad.if_id = 4;
		ASSERT_EQ(pcapng_write_epb(w, &bad), -EINVAL, "EPB for a missing interface");
		ASSERT_TRUE(strstr(pcapng_writer_error(w), "interface 4") != NULL,
			    pcapng_writer_error(w));
	}
	pcapng_writer_free(w);
	ASSERT_OK(zout_close(out, err, sizeof(err)), err);
	ASSERT_OK(pcapng_reader_open_path(&r, path, err, sizeof(err)), err);
	unlink(path);
	while (pcapng_next(r, &rec) == 0) {
		if (rec.kind == PCAPNG_REC_SECTION) {
			ASSERT_STREQ(rec.shb_userappl, "", "no SHB options");
			continue;
		}
		if (rec.kind != PCAPNG_REC_PACKET)
			continue;
		ASSERT_EQ(pcapng_interface(r, rec.if_id)->linktype, rec.if_id + 1, "linktype");
		ASSERT_U64_EQ(rec.ts_ns, ns[n], "ts per resolution");
		ASSERT_TRUE(rec.has_dropcount && rec.dropcount == 99, "dropcount");
		ASSERT_EQ(rec.caplen, 0, "empty packet");
		n++;
	}
	ASSERT_EQ(n, 4, "4 packets");
	pcapng_reader_close(r);
}

TEST(pcapng_other_block_types)
{
	struct bb *b = bb_new(0);
	struct pcapng_reader *r;
	struct pcapng_record rec;
	char err[PCAPNG_ERRLEN];
	uint8_t body[64];
	int kinds[16], n = 0;

	ASSERT_TRUE(b, "alloc");
	memset(body, 0xab, sizeof(body));
	bb_shb(b, NULL);
	bb_idb(b, 1, 8, "snap8", -1, 0);
	/* SPB: origlen 20, snaplen 8 -> caplen 8 */
	bb_begin(b, PCAPNG_BT_SPB);
	bb_u32(b, 20);
	bb_raw(b, body, 20);
	bb_end(b);
	/* obsolete PB: if_id 0, drops 3 */
	bb_begin(b, PCAPNG_BT_PB);
	bb_u16(b, 0);
	bb_u16(b, 3);
	bb_u32(b, 0);
	bb_u32(b, 7);
	bb_u32(b, 5);
	bb_u32(b, 10);
	bb_raw(b, body, 5);
	bb_pad(b);
	bb_opt_str(b, 1, "pb comment");
	bb_opt_u32(b, 2, 2);
	bb_endopt(b);
	bb_end(b);
	/* NRB, DSB, custom (copy and no copy), an unknown type */
	bb_block_raw(b, PCAPNG_BT_NRB, "\x01\x00\x08\x00\x0a\x00\x00\x01host\0\0\0\0", 16);
	bb_block_raw(b, PCAPNG_BT_DSB,
		     "TLSK\x04\x00\x00\x00"
		     "abcd",
		     12);
	bb_block_raw(b, PCAPNG_BT_CB_COPY,
		     "\x00\x00\x7f\x3b"
		     "data",
		     8);
	bb_block_raw(b, PCAPNG_BT_CB_NOCOPY, "\x00\x00\x7f\x3b", 4);
	bb_block_raw(b, 0x12345678u, "", 0);
	/* ISB without options */
	bb_begin(b, PCAPNG_BT_ISB);
	bb_u32(b, 0);
	bb_u32(b, 0);
	bb_u32(b, 1000000);
	bb_end(b);
	ASSERT_OK(open_bb(&r, b, err, sizeof(err)), err);
	while (pcapng_next(r, &rec) == 0 && n < 16) {
		kinds[n++] = rec.kind;
		if (rec.block_type == PCAPNG_BT_SPB) {
			ASSERT_EQ(rec.caplen, 8, "SPB caplen = snaplen");
			ASSERT_EQ(rec.origlen, 20, "SPB origlen");
			ASSERT_EQ(rec.has_ts, 0, "SPB has no timestamp");
			ASSERT_EQ(rec.data[7], 0xab, "SPB data");
		}
		if (rec.block_type == PCAPNG_BT_PB) {
			ASSERT_EQ(rec.caplen, 5, "PB caplen");
			ASSERT_EQ(rec.origlen, 10, "PB origlen");
			ASSERT_U64_EQ(rec.ts_raw, 7, "PB ts");
			ASSERT_TRUE(rec.has_dropcount && rec.dropcount == 3, "PB drops");
			ASSERT_STREQ(rec.comment, "pb comment", "PB comment");
			ASSERT_EQ(rec.flags, 2, "PB flags");
		}
		if (rec.block_type == PCAPNG_BT_ISB) {
			ASSERT_U64_EQ(rec.ts_ns, 1000000000ull, "ISB ts");
			ASSERT_EQ(rec.has_ifrecv, 0, "no options");
		}
	}
	ASSERT_EQ(pcapng_next(r, &rec), PCAPNG_EOF, pcapng_reader_error(r));
	ASSERT_EQ(n, 10, "10 records");
	ASSERT_EQ(kinds[2], PCAPNG_REC_PACKET, "SPB");
	ASSERT_EQ(kinds[3], PCAPNG_REC_PACKET, "PB");
	for (int i = 4; i < 9; i++)
		ASSERT_EQ(kinds[i], PCAPNG_REC_OTHER, "skipped block");
	ASSERT_EQ(kinds[9], PCAPNG_REC_STATS, "ISB");
	pcapng_reader_close(r);
	free(b);
}

/* Build SHB+IDB, then let `mutate` damage the third block; expect an error. */
struct bad_case {
	const char *name;
	int rc;		    /* expected return of pcapng_next for the bad block */
	const char *needle; /* in the message */
};

static void expect_bad(int *failed__, struct bb *b, size_t bad_off, const struct bad_case *bc)
{
	struct pcapng_reader *r;
	struct pcapng_record rec;
	char err[PCAPNG_ERRLEN], where[64];
	int rc;

	ASSERT_OK(open_bb(&r, b, err, sizeof(err)), err);
	while ((rc = pcapng_next(r, &rec)) == 0)
		ASSERT_TRUE(rec.offset < bad_off, bc->name);
	if (rc != bc->rc)
		printf("  %s: %s\n", bc->name, pcapng_reader_error(r));
	ASSERT_EQ(rc, bc->rc, bc->name);
	ASSERT_TRUE(strstr(pcapng_reader_error(r), bc->needle) != NULL, pcapng_reader_error(r));
	snprintf(where, sizeof(where), "offset %zu", bad_off);
	ASSERT_TRUE(strstr(pcapng_reader_error(r), where) != NULL, pcapng_reader_error(r));
	pcapng_reader_close(r);
}

static size_t prologue(struct bb *b)
{
	b->len = 0;
	bb_shb(b, "x");
	bb_idb(b, 1, 0, "eth0", 9, 0);
	return b->len;
}

static void put32_at(struct bb *b, size_t at, uint32_t v)
{
	memcpy(b->b + at, &v, 4);
}

TEST(pcapng_invalid_lengths)
{
	struct bb *b = bb_new(0);
	const uint8_t pkt[8] = {0};
	size_t off, end;

	ASSERT_TRUE(b, "alloc");
	/* total length < 12 */
	off = prologue(b);
	bb_epb(b, 0, 1, pkt, 8, 8, NULL);
	put32_at(b, off + 4, 8);
	expect_bad(failed__, b, off, &(struct bad_case){"len<12", -EBADMSG, "less than 12"});
	/* not a multiple of 4 */
	off = prologue(b);
	bb_epb(b, 0, 1, pkt, 8, 8, NULL);
	put32_at(b, off + 4, 7 + 32);
	expect_bad(failed__, b, off,
		   &(struct bad_case){"len%4", -EBADMSG, "total length 39 is not a multiple of 4"});
	/* trailer mismatch */
	off = prologue(b);
	bb_epb(b, 0, 1, pkt, 8, 8, NULL);
	put32_at(b, b->len - 4, 1000);
	expect_bad(failed__, b, off, &(struct bad_case){"trailer", -EBADMSG, "does not match"});
	/* above the maximum */
	off = prologue(b);
	bb_epb(b, 0, 1, pkt, 8, 8, NULL);
	put32_at(b, off + 4, PCAPNG_MAX_BLOCK + 4);
	expect_bad(failed__, b, off, &(struct bad_case){">max", -EBADMSG, "exceeds the maximum"});
	/* too small for its type */
	off = prologue(b);
	bb_block_raw(b, PCAPNG_BT_EPB, "\0\0\0\0", 4);
	expect_bad(failed__, b, off, &(struct bad_case){"EPB<32", -EBADMSG, "too small"});
	/* option overrunning the block */
	off = prologue(b);
	bb_epb(b, 0, 1, pkt, 8, 8, "comment!");
	/* the comment option header is right after the 8 data bytes */
	b->b[off + 28 + 8 + 2] = 200;
	expect_bad(failed__, b, off, &(struct bad_case){"opt overrun", -EBADMSG, "overruns"});
	/* caplen overrunning the block */
	off = prologue(b);
	bb_epb(b, 0, 1, pkt, 8, 8, NULL);
	put32_at(b, off + 20, 1000);
	expect_bad(failed__, b, off,
		   &(struct bad_case){"caplen", -EBADMSG, "captured length 1000 exceeds"});
	/* EPB with an unknown interface */
	off = prologue(b);
	bb_epb(b, 3, 1, pkt, 8, 8, NULL);
	expect_bad(
	    failed__, b, off,
	    &(struct bad_case){"if_id", -EBADMSG, "refers to interface 3, but section 0 has 1"});
	/* SHB with bad magic, SHB with version 2 */
	off = prologue(b);
	bb_shb(b, NULL);
	put32_at(b, off + 8, 0x11223344);
	expect_bad(failed__, b, off, &(struct bad_case){"magic", -EBADMSG, "byte-order magic"});
	off = prologue(b);
	bb_shb(b, NULL);
	b->b[off + 12] = 2;
	expect_bad(failed__, b, off, &(struct bad_case){"version", -EBADMSG, "version 2.0"});
	/* stray bytes where an option header should be */
	off = prologue(b);
	bb_begin(b, PCAPNG_BT_ISB);
	bb_u32(b, 0);
	bb_u32(b, 0);
	bb_u32(b, 0);
	bb_opt_u64(b, 4, 1);
	bb_end(b);
	b->b[off + 20 + 2] = 12; /* ifrecv length 12 > what is left */
	expect_bad(failed__, b, off, &(struct bad_case){"isb opt", -EBADMSG, "overruns"});
	/* truncation inside a block is a warning, not an error */
	off = prologue(b);
	bb_epb(b, 0, 1, pkt, 8, 8, NULL);
	end = b->len;
	b->len = end - 5;
	expect_bad(failed__, b, off,
		   &(struct bad_case){"cut", PCAPNG_TRUNCATED, "truncated block at offset"});
	free(b);
}

TEST(pcapng_not_pcapng)
{
	struct pcapng_reader *r = (void *)1;
	char err[PCAPNG_ERRLEN];

	/* classic pcap is read too: see test_pcap_classic.c */
	ASSERT_EQ(pcapng_reader_open_mem(&r, "GET / HTTP/1.1\r\n", 16, err, sizeof(err)), -EBADMSG,
		  "text");
	ASSERT_TRUE(r == NULL, "no reader on failure");
	ASSERT_TRUE(strstr(err, "not a pcapng file") != NULL, err);
	ASSERT_EQ(pcapng_reader_open_mem(&r, "", 0, err, sizeof(err)), -EBADMSG, "empty");
	ASSERT_TRUE(strstr(err, "not a pcapng file") != NULL, err);
	/* an IDB first is not a pcapng file either */
	{
		struct bb *b = bb_new(0);

		bb_idb(b, 1, 0, "x", 9, 0);
		ASSERT_EQ(open_bb(&r, b, err, sizeof(err)), -EBADMSG, "IDB first");
		ASSERT_TRUE(strstr(err, "not a pcapng file") != NULL, err);
		free(b);
	}
	ASSERT_EQ(pcapng_reader_open_path(&r, "/nonexistent.pcapng", err, sizeof(err)), -ENOENT,
		  "missing");
}

/* Count complete blocks of a plain file lying entirely before `cut`. */
static int blocks_before(const uint8_t *f, size_t len, size_t cut)
{
	size_t off = 0;
	int n = 0;

	while (off + 8 <= len) {
		uint32_t bl;

		memcpy(&bl, f + off + 4, 4);
		if (off + bl > cut)
			break;
		off += bl;
		n++;
	}
	return n;
}

TEST(pcapng_truncated_plain_every_cut)
{
	char err[PCAPNG_ERRLEN];
	size_t len;
	uint8_t *f = sample_bytes(0, &len);

	ASSERT_TRUE(f != NULL, "sample");
	for (size_t cut = 4; cut <= len; cut++) {
		struct pcapng_reader *r;
		struct tally t;
		int want = blocks_before(f, len, cut);
		int at_boundary =
		    blocks_before(f, len, cut) != blocks_before(f, len, cut - 1) || cut == len;

		ASSERT_OK(pcapng_reader_open_mem(&r, f, cut, err, sizeof(err)), err);
		read_all(r, &t);
		ASSERT_EQ(t.sections + t.ifaces + t.packets + t.stats, want,
			  "records before the cut");
		if (at_boundary) {
			ASSERT_EQ(t.rc, PCAPNG_EOF, t.msg);
		} else {
			ASSERT_EQ(t.rc, PCAPNG_TRUNCATED, "truncated");
			ASSERT_TRUE(strstr(t.msg, "truncated block at offset") != NULL, t.msg);
		}
		pcapng_reader_close(r);
	}
	free(f);
}

/* The sample with a flush after each block: a flush point per block, one frame. */
static uint8_t *sample_frames(size_t *len, size_t *flush_at, int *nflush)
{
	char path[] = "/tmp/pkt-frames-XXXXXX", err[PCAPNG_ERRLEN];
	size_t plen;
	uint8_t *plain = sample_bytes(0, &plen), *b = NULL;
	struct zout *out;
	struct stat st;
	size_t off = 0;
	int fd = mkstemp(path);

	*nflush = 0;
	if (fd < 0 || !plain)
		goto done;
	unlink(path);
	if (zout_open_fd(&out, fd, 3, ZOUT_KEEP_FD, err, sizeof(err)))
		goto done;
	while (off + 8 <= plen) {
		uint32_t bl;

		memcpy(&bl, plain + off + 4, 4);
		if (zout_write(out, plain + off, bl) || zout_flush(out))
			break;
		off += bl;
		flush_at[(*nflush)++] = (size_t)zout_bytes_out(out);
	}
	if (zout_close(out, err, sizeof(err)) || fstat(fd, &st) < 0)
		goto done;
	b = malloc((size_t)st.st_size);
	if (b && pread(fd, b, (size_t)st.st_size, 0) != st.st_size) {
		free(b);
		b = NULL;
	}
	*len = (size_t)st.st_size;
done:
	if (fd >= 0)
		close(fd);
	free(plain);
	return b;
}

TEST(pcapng_zstd_frames_and_cuts)
{
	char err[PCAPNG_ERRLEN];
	size_t len, flush_at[64];
	int nflush;
	uint8_t *f = sample_frames(&len, flush_at, &nflush);
	struct pcapng_reader *r;
	struct tally t;

	ASSERT_TRUE(f != NULL, "sample");
	ASSERT_EQ(nflush, 17, "one flush per block");
	/* whole file */
	ASSERT_OK(pcapng_reader_open_mem(&r, f, len, err, sizeof(err)), err);
	read_all(r, &t);
	ASSERT_EQ(t.rc, PCAPNG_EOF, t.msg);
	ASSERT_EQ(t.packets, 10, "10 packets");
	ASSERT_EQ(t.stats, 3, "3 ISBs");
	pcapng_reader_close(r);
	/* cut right after each flush (kill -9): every block before it, then a warning */
	for (int i = 0; i < nflush; i++) {
		ASSERT_OK(pcapng_reader_open_mem(&r, f, flush_at[i], err, sizeof(err)), err);
		read_all(r, &t);
		ASSERT_EQ(t.rc, PCAPNG_TRUNCATED, t.msg);
		ASSERT_TRUE(strstr(t.msg, "between blocks") != NULL, t.msg);
		ASSERT_EQ(t.sections + t.ifaces + t.packets + t.stats, i + 1,
			  "blocks up to the cut");
		pcapng_reader_close(r);
	}
	/* cut between two flush points: records before, then TRUNCATED naming the zstd cut */
	for (int i = 1; i < nflush; i++) {
		/* mid-frame: a zstd block decodes only whole, so nothing of it shows */
		size_t cut = flush_at[i - 1] + (flush_at[i] - flush_at[i - 1]) / 2;

		ASSERT_OK(pcapng_reader_open_mem(&r, f, cut, err, sizeof(err)), err);
		read_all(r, &t);
		ASSERT_EQ(t.rc, PCAPNG_TRUNCATED, t.msg);
		ASSERT_TRUE(strstr(t.msg, "zstd stream ends inside a frame") != NULL, t.msg);
		ASSERT_EQ(t.sections + t.ifaces + t.packets + t.stats, i, "blocks before the cut");
		pcapng_reader_close(r);
	}
	free(f);
}

TEST(pcapng_resync_skips_corruption)
{
	char err[PCAPNG_ERRLEN];
	size_t len;
	uint8_t *f = sample_bytes(0, &len);
	struct pcapng_reader *r;
	struct pcapng_record rec;
	uint64_t skipped;
	size_t off = 0;
	int blk = 0, packets = 0, errors = 0, rc;

	ASSERT_TRUE(f != NULL, "sample");
	/* smash the length of the 6th block (an EPB) */
	while (blk < 5) {
		uint32_t bl;

		memcpy(&bl, f + off + 4, 4);
		off += bl;
		blk++;
	}
	memset(f + off + 4, 0xff, 4);
	ASSERT_OK(pcapng_reader_open_mem(&r, f, len, err, sizeof(err)), err);
	while ((rc = pcapng_next(r, &rec)) != PCAPNG_EOF) {
		if (rc < 0) {
			errors++;
			ASSERT_EQ(rc, -EBADMSG, pcapng_reader_error(r));
			ASSERT_EQ(pcapng_resync(r, &skipped), 0, "resync finds the next block");
			ASSERT_TRUE(skipped > 0 && skipped % 4 == 0, "skipped bytes");
			ASSERT_U64_EQ(pcapng_reader_offset(r), off + skipped,
				      "offset after resync");
			continue;
		}
		ASSERT_EQ(rc, 0, "record");
		packets += rec.kind == PCAPNG_REC_PACKET;
	}
	ASSERT_EQ(errors, 1, "one corrupt region");
	ASSERT_EQ(packets, 9, "all other packets");
	pcapng_reader_close(r);

	/* content error (unknown interface): resync skips exactly that block */
	free(f);
	f = sample_bytes(0, &len);
	ASSERT_TRUE(f != NULL, "sample");
	{
		uint32_t bad = 77, bl;

		memcpy(f + off + 8, &bad, 4);
		memcpy(&bl, f + off + 4, 4);
		ASSERT_OK(pcapng_reader_open_mem(&r, f, len, err, sizeof(err)), err);
		packets = 0;
		while ((rc = pcapng_next(r, &rec)) != PCAPNG_EOF) {
			if (rc < 0) {
				ASSERT_TRUE(strstr(pcapng_reader_error(r), "interface 77") != NULL,
					    pcapng_reader_error(r));
				ASSERT_EQ(pcapng_resync(r, &skipped), 0, "resync");
				ASSERT_U64_EQ(skipped, bl, "skipped the block whole");
				continue;
			}
			packets += rec.kind == PCAPNG_REC_PACKET;
		}
		ASSERT_EQ(packets, 9, "other packets");
		pcapng_reader_close(r);
	}
	/* garbage to the end: resync reports EOF */
	memset(f + off, 0x55, len - off);
	ASSERT_OK(pcapng_reader_open_mem(&r, f, len, err, sizeof(err)), err);
	while ((rc = pcapng_next(r, &rec)) == 0)
		;
	ASSERT_EQ(rc, -EBADMSG, "garbage");
	ASSERT_EQ(pcapng_resync(r, &skipped), PCAPNG_EOF, "nothing to resync to");
	ASSERT_U64_EQ(skipped, len - off, "skipped to the end");
	ASSERT_EQ(pcapng_next(r, &rec), PCAPNG_EOF, "then EOF");
	pcapng_reader_close(r);
	free(f);
}

TEST(pcapng_interface_cap)
{
	/* 65537 IDBs in one section: a clear error, not unbounded memory */
	size_t n = 65537, len = 28 + n * 20;
	uint8_t *f = calloc(1, len);
	struct pcapng_reader *r;
	struct pcapng_record rec;
	char err[PCAPNG_ERRLEN];
	uint32_t v;
	int rc, ifs = 0;

	ASSERT_TRUE(f != NULL, "alloc");
	{
		struct bb *b = bb_new(0);

		bb_shb(b, NULL);
		ASSERT_EQ(b->len, 28, "bare SHB");
		memcpy(f, b->b, 28);
		free(b);
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = f + 28 + i * 20;

		v = PCAPNG_BT_IDB;
		memcpy(p, &v, 4);
		v = 20;
		memcpy(p + 4, &v, 4);
		p[8] = 1;
		memcpy(p + 16, &v, 4);
	}
	ASSERT_OK(pcapng_reader_open_mem(&r, f, len, err, sizeof(err)), err);
	while ((rc = pcapng_next(r, &rec)) == 0)
		ifs += rec.kind == PCAPNG_REC_INTERFACE;
	ASSERT_EQ(rc, -EBADMSG, "too many interfaces");
	ASSERT_EQ(ifs, 65536, "up to the cap");
	ASSERT_TRUE(strstr(pcapng_reader_error(r), "more than 65536 interfaces") != NULL,
		    pcapng_reader_error(r));
	pcapng_reader_close(r);
	free(f);
}

TEST(pcapng_build_errors)
{
	uint8_t small[16];
	struct pcapng_epb_info epb = {0};
	struct pcapng_idb_info idb = {1, 0, "a-long-interface-name", NULL, 9};
	char *huge = malloc(70000);

	ASSERT_TRUE(huge, "alloc");
	ASSERT_EQ(pcapng_build_idb(small, sizeof(small), &idb), -ENOSPC, "too small");
	ASSERT_EQ(pcapng_build_shb(small, sizeof(small), NULL), -ENOSPC, "SHB too small");
	memset(huge, 'a', 69999);
	huge[69999] = 0;
	epb.comment = huge;
	{
		uint8_t *big = malloc(100000);

		ASSERT_TRUE(big, "alloc");
		ASSERT_EQ(pcapng_build_epb(big, 100000, &epb), -EINVAL, "comment over 65535");
		epb.comment = "ok";
		ASSERT_EQ(pcapng_build_epb(big, 100000, &epb), 32 + 8 + 4, "EPB with comment");
		free(big);
	}
	free(huge);
}

TEST(pcapng_cut_before_first_block)
{
	/* 3 bytes of an SHB, or a zstd frame cut before any output: truncated */
	char err[PCAPNG_ERRLEN];
	struct pcapng_reader *r;
	struct pcapng_record rec;
	size_t len;
	uint8_t *z = sample_bytes(3, &len);

	ASSERT_OK(pcapng_reader_open_mem(&r, "\x0a\x0d\x0d", 3, err, sizeof(err)), err);
	ASSERT_EQ(pcapng_next(r, &rec), PCAPNG_TRUNCATED, "SHB prefix");
	ASSERT_TRUE(strstr(pcapng_reader_error(r), "truncated block at offset 0 (have 3 of") !=
			NULL,
		    pcapng_reader_error(r));
	pcapng_reader_close(r);
	ASSERT_TRUE(z != NULL, "sample");
	ASSERT_OK(pcapng_reader_open_mem(&r, z, 20, err, sizeof(err)), err);
	ASSERT_EQ(pcapng_next(r, &rec), PCAPNG_TRUNCATED, "zstd cut in the first frame");
	ASSERT_TRUE(strstr(pcapng_reader_error(r), "zstd stream ends inside a frame") != NULL,
		    pcapng_reader_error(r));
	pcapng_reader_close(r);
	free(z);
}

TEST(pcapng_spb_needs_room)
{
	struct bb *b = bb_new(0);
	struct pcapng_reader *r;
	struct pcapng_record rec;
	char err[PCAPNG_ERRLEN];
	size_t off;

	ASSERT_TRUE(b, "alloc");
	bb_shb(b, NULL);
	bb_idb(b, 1, 0, "nosnap", 9, 0);
	off = b->len;
	bb_begin(b, PCAPNG_BT_SPB);
	bb_u32(b, 100); /* claims 100 bytes, holds 8 */
	bb_raw(b, "12345678", 8);
	bb_end(b);
	ASSERT_OK(open_bb(&r, b, err, sizeof(err)), err);
	ASSERT_EQ(pcapng_next(r, &rec), 0, "SHB");
	ASSERT_EQ(pcapng_next(r, &rec), 0, "IDB");
	ASSERT_EQ(pcapng_next(r, &rec), -EBADMSG, "SPB too small");
	{
		char want[64];

		snprintf(want, sizeof(want), "block at offset %zu: simple packet block", off);
		ASSERT_TRUE(strstr(pcapng_reader_error(r), want) != NULL, pcapng_reader_error(r));
	}
	pcapng_reader_close(r);
	free(b);
}

/*
 * tests/out/unit-writer-frames.pcapng.zst: the sample with a flush after
 * every block, and unit-writer-cut.pcapng.zst: the same cut right after the
 * 10th flush, as kill -9 would leave it (6 packets). The golden tests open
 * both with tshark.
 */
TEST(writer_sample_frames)
{
	char path[1100];
	size_t len, flush_at[64];
	int nflush;
	uint8_t *f = sample_frames(&len, flush_at, &nflush);

	ASSERT_TRUE(f != NULL && nflush == 17, "sample frames");
	for (int cut = 0; cut < 2; cut++) {
		size_t n = cut ? flush_at[9] : len;
		FILE *fp;

		snprintf(path, sizeof(path), "%s/tests/out/unit-writer-%s.pcapng.zst", top_dir(),
			 cut ? "cut" : "frames");
		fp = fopen(path, "wb");
		ASSERT_TRUE(fp != NULL, path);
		ASSERT_EQ(fwrite(f, 1, n, fp), n, "fwrite");
		ASSERT_EQ(fclose(fp), 0, "fclose");
	}
	free(f);
}

/*
 * tests/out/unit-writer-big.pcapng.zst: 3000 packets of 1000 incompressible
 * bytes, a flush every 50: about 3 MB of zstd, far beyond one 128 KiB read
 * of Wireshark's, with flush points at odd offsets; and -big-cut, the same
 * cut after the 40th flush (2000 packets). Wireshark 4.0 called a file of
 * several frames like this "damaged": the golden tests count its packets.
 */
TEST(writer_sample_big)
{
	char path[1100], err[PCAPNG_ERRLEN] = "";
	struct pcapng_shb_info shb = {.userappl = "pkt-record test", .os = "Linux"};
	struct pcapng_idb_info idb = {.linktype = PCAPNG_LINKTYPE_ETHERNET,
				      .snaplen = 2000,
				      .name = "eth0@4026532328",
				      .tsresol = 9};
	struct pcapng_writer *w = NULL;
	struct zout *out = NULL;
	uint8_t pkt[1000];
	uint32_t x = 99, if_id;
	uint64_t cut_at = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/tests/out/unit-writer-big.pcapng.zst", top_dir());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_TRUE(fd >= 0, path);
	ASSERT_OK(zout_open_fd(&out, fd, 1, ZOUT_KEEP_FD, err, sizeof(err)), err);
	ASSERT_OK(pcapng_writer_open(&w, out, &shb, err, sizeof(err)), err);
	ASSERT_OK(pcapng_write_idb(w, &idb, &if_id), pcapng_writer_error(w));
	for (int i = 0; i < 3000; i++) {
		struct pcapng_epb_info epb = {.if_id = if_id,
					      .ts = 1700000000000000000ull + (uint64_t)i * 1000,
					      .data = pkt,
					      .caplen = sizeof(pkt),
					      .origlen = sizeof(pkt),
					      .comment = "big sample"};

		for (size_t k = 0; k < sizeof(pkt); k++) {
			x = x * 1103515245u + 12345u;
			pkt[k] = (uint8_t)(x >> 23);
		}
		/* Ethernet header: zero MACs, a local experimental ethertype: opaque data */
		memset(pkt, 0, 12);
		pkt[12] = 0x88, pkt[13] = 0xb5;
		ASSERT_OK(pcapng_write_epb(w, &epb), pcapng_writer_error(w));
		if (i % 50 == 49) {
			ASSERT_OK(zout_flush(out), zout_error(out));
			if (i / 50 == 39)
				cut_at = zout_bytes_out(out);
		}
	}
	pcapng_writer_free(w);
	ASSERT_OK(zout_close(out, err, sizeof(err)), err);
	ASSERT_TRUE(cut_at > 1000000, "the cut is beyond several 128 KiB reads");
	{
		char cpath[1100];
		uint8_t *b = malloc(cut_at);
		int cfd;

		ASSERT_TRUE(b != NULL, "malloc");
		ASSERT_EQ(pread(fd, b, cut_at, 0), (ssize_t)cut_at, "pread");
		snprintf(cpath, sizeof(cpath), "%s/tests/out/unit-writer-big-cut.pcapng.zst",
			 top_dir());
		cfd = open(cpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		ASSERT_TRUE(cfd >= 0, cpath);
		ASSERT_EQ(write(cfd, b, cut_at), (ssize_t)cut_at, "write");
		ASSERT_EQ(close(cfd), 0, "close");
		free(b);
	}
	close(fd);
}

/* pkt-record's event block (PCAPNG_PEN_PKTREC): an event with no packet */
static void bb_event(struct bb *b, uint32_t pen, uint32_t what, uint64_t ts, const char *text)
{
	bb_begin(b, PCAPNG_BT_CB_COPY);
	bb_u32(b, pen);
	bb_u32(b, what);
	bb_u32(b, (uint32_t)(ts >> 32));
	bb_u32(b, (uint32_t)ts);
	if (text)
		bb_opt_str(b, 1, text);
	bb_endopt(b);
	bb_end(b);
}

TEST(pcapng_event_block_both_orders)
{
	static const char text[] =
	    "hook=fib:fib_table_lookup netns=1 cpu=0 pid=1 comm=x fib_table=254";

	for (int be = 0; be <= 1; be++) {
		struct bb *b = bb_new(be);
		struct pcapng_reader *r;
		struct pcapng_record rec;
		char err[PCAPNG_ERRLEN];
		struct tally t;
		uint64_t skipped;

		ASSERT_TRUE(b, "alloc");
		bb_shb(b, NULL);
		bb_event(b, PCAPNG_PEN_PKTREC, PCAPNG_PKTREC_EVENT, 1700000000123456789ull, text);
		bb_event(b, PCAPNG_PEN_PKTREC + 1, PCAPNG_PKTREC_EVENT, 1, text); /* foreign */
		bb_event(b, PCAPNG_PEN_PKTREC, 2, 1, text); /* a later kind of ours */
		ASSERT_OK(open_bb(&r, b, err, sizeof(err)), err);
		ASSERT_EQ(pcapng_next(r, &rec), 0, pcapng_reader_error(r));
		ASSERT_EQ(pcapng_next(r, &rec), 0, pcapng_reader_error(r));
		ASSERT_EQ(rec.kind, PCAPNG_REC_EVENT, "ours");
		ASSERT_EQ(rec.big_endian, be, "byte order");
		ASSERT_U64_EQ(rec.ts_ns, 1700000000123456789ull, "nanoseconds");
		ASSERT_STREQ(rec.comment, text, "its text");
		ASSERT_EQ(pcapng_next(r, &rec), 0, pcapng_reader_error(r));
		ASSERT_EQ(rec.kind, PCAPNG_REC_OTHER, "another PEN: skipped");
		ASSERT_EQ(pcapng_next(r, &rec), 0, pcapng_reader_error(r));
		ASSERT_EQ(rec.kind, PCAPNG_REC_OTHER, "another kind: skipped");
		ASSERT_EQ(pcapng_next(r, &rec), PCAPNG_EOF, pcapng_reader_error(r));
		pcapng_reader_close(r);

		/* ours without its text, or cut inside its timestamp: corrupt */
		memset(b, 0, sizeof(*b));
		b->be = be;
		bb_shb(b, NULL);
		bb_event(b, PCAPNG_PEN_PKTREC, PCAPNG_PKTREC_EVENT, 5, NULL);
		bb_begin(b, PCAPNG_BT_CB_COPY);
		bb_u32(b, PCAPNG_PEN_PKTREC);
		bb_u32(b, PCAPNG_PKTREC_EVENT);
		bb_u32(b, 0);
		bb_end(b);
		bb_event(b, PCAPNG_PEN_PKTREC, PCAPNG_PKTREC_EVENT, 6, "hook=x:y netns=2");
		ASSERT_OK(open_bb(&r, b, err, sizeof(err)), err);
		ASSERT_EQ(pcapng_next(r, &rec), 0, pcapng_reader_error(r));
		ASSERT_EQ(pcapng_next(r, &rec), -EBADMSG, "no text");
		ASSERT_TRUE(strstr(pcapng_reader_error(r), "event block without its text"),
			    pcapng_reader_error(r));
		ASSERT_EQ(pcapng_resync(r, &skipped), 0, "resync");
		ASSERT_EQ(pcapng_next(r, &rec), -EBADMSG, "short");
		ASSERT_TRUE(strstr(pcapng_reader_error(r), "event block too short"),
			    pcapng_reader_error(r));
		ASSERT_EQ(pcapng_resync(r, &skipped), 0, "resync");
		ASSERT_EQ(pcapng_next(r, &rec), 0, pcapng_reader_error(r));
		ASSERT_EQ(rec.kind, PCAPNG_REC_EVENT, "the next one reads");
		ASSERT_U64_EQ(rec.ts_ns, 6, "ts");
		pcapng_reader_close(r);

		/* read whole: two corrupt blocks end the reading, one event before */
		ASSERT_OK(open_bb(&r, b, err, sizeof(err)), err);
		read_all(r, &t);
		ASSERT_EQ(t.rc, -EBADMSG, "stops at the corrupt block");
		ASSERT_EQ(t.events, 0, "nothing before it");
		pcapng_reader_close(r);
		free(b);
	}
	{
		uint8_t buf[256];
		struct pcapng_event_info ev = {.ts_ns = 77, .comment = text};
		struct pcapng_shb_info shb = {.userappl = "t"};
		int n = pcapng_build_shb(buf, sizeof(buf), &shb), m;
		struct pcapng_reader *r;
		struct pcapng_record rec;
		char err[PCAPNG_ERRLEN];

		ASSERT_TRUE(n > 0, "shb");
		m = pcapng_build_event(buf + n, sizeof(buf) - (size_t)n, &ev);
		ASSERT_TRUE(m > 0 && m % 4 == 0, "event block built");
		uint8_t scratch[256];

		ASSERT_EQ(pcapng_build_event(scratch, 16, &ev), -ENOSPC, "too small");
		ev.comment = "";
		ASSERT_EQ(pcapng_build_event(scratch, sizeof(scratch), &ev), -EINVAL, "no text");
		ASSERT_OK(pcapng_reader_open_mem(&r, buf, (size_t)(n + m), err, sizeof(err)), err);
		ASSERT_EQ(pcapng_next(r, &rec), 0, pcapng_reader_error(r));
		ASSERT_EQ(pcapng_next(r, &rec), 0, pcapng_reader_error(r));
		ASSERT_EQ(rec.kind, PCAPNG_REC_EVENT, "written event");
		ASSERT_U64_EQ(rec.ts_ns, 77, "ts");
		ASSERT_STREQ(rec.comment, text, "text");
		pcapng_reader_close(r);
	}
}
