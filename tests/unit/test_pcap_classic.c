// SPDX-License-Identifier: MIT
/*
 * Classic pcap through the pcapng reader API: both byte orders, micro- and
 * nanosecond magics, the modified (Kuznetzov) format, zstd, every possible
 * cut, and hostile headers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "pcapng.h"
#include "test.h"

#define MAGIC_USEC     0xA1B2C3D4u
#define MAGIC_NSEC     0xA1B23C4Du
#define MAGIC_MODIFIED 0xA1B2CD34u

/* A classic pcap file built by hand in either byte order. */
struct pf {
	uint8_t b[4096];
	size_t len;
	int be;
	int modified; /* 24-byte record headers */
};

static void pf_u32(struct pf *f, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		f->b[f->len + (size_t)i] = (uint8_t)(f->be ? v >> (24 - 8 * i) : v >> (8 * i));
	f->len += 4;
}

static void pf_u16(struct pf *f, uint16_t v)
{
	f->b[f->len] = (uint8_t)(f->be ? v >> 8 : v);
	f->b[f->len + 1] = (uint8_t)(f->be ? v : v >> 8);
	f->len += 2;
}

static void pf_header(struct pf *f, uint32_t magic, uint16_t major, uint32_t snaplen,
		      uint32_t linkfield)
{
	f->len = 0;
	f->modified = magic == MAGIC_MODIFIED;
	pf_u32(f, magic);
	pf_u16(f, major);
	pf_u16(f, 4);
	pf_u32(f, 0); /* thiszone */
	pf_u32(f, 0); /* sigfigs */
	pf_u32(f, snaplen);
	pf_u32(f, linkfield);
}

static void pf_record(struct pf *f, uint32_t sec, uint32_t frac, const uint8_t *data,
		      uint32_t caplen, uint32_t origlen, uint8_t pkt_type)
{
	pf_u32(f, sec);
	pf_u32(f, frac);
	pf_u32(f, caplen);
	pf_u32(f, origlen);
	if (f->modified) {
		pf_u32(f, 7);	   /* ifindex */
		pf_u16(f, 0x0800); /* protocol */
		f->b[f->len++] = pkt_type;
		f->b[f->len++] = 0;
	}
	if (caplen)
		memcpy(f->b + f->len, data, caplen);
	f->len += caplen;
}

static const uint8_t pkt_a[20] = {0x45, 0, 0,  20, 0, 1, 0,  0, 64, 17,
				  0,	0, 10, 0,  0, 1, 10, 0, 0,  2};
static const uint8_t pkt_b[7] = {1, 2, 3, 4, 5, 6, 7};

/* header + three records: 20 bytes, 0 bytes, 7 bytes (cut from an origlen of 1500) */
static void pf_sample(struct pf *f, uint32_t magic, int be)
{
	f->be = be;
	pf_header(f, magic, 2, 65535, 228);
	pf_record(f, 1700000000, 5, pkt_a, sizeof(pkt_a), sizeof(pkt_a), 0);
	pf_record(f, 1700000001, 0, NULL, 0, 0, 4);
	pf_record(f, 1700000002, 999999, pkt_b, sizeof(pkt_b), 1500, 0);
}

TEST(pcap_classic_orders_and_resolutions)
{
	static const uint32_t magics[] = {MAGIC_USEC, MAGIC_NSEC, MAGIC_MODIFIED};
	struct pf *f = calloc(1, sizeof(*f));
	struct pcapng_record *rec = malloc(sizeof(*rec));

	ASSERT_TRUE(f && rec, "alloc");
	for (int be = 0; be < 2; be++) {
		for (size_t m = 0; m < 3; m++) {
			uint64_t unit_ns = magics[m] == MAGIC_NSEC ? 1 : 1000;
			uint32_t hdr = magics[m] == MAGIC_MODIFIED ? 24 : 16;
			const struct pcapng_interface *ifc;
			struct pcapng_reader *r;
			char err[PCAPNG_ERRLEN], what[64];

			snprintf(what, sizeof(what), "%s magic %zu", be ? "BE" : "LE", m);
			pf_sample(f, magics[m], be);
			ASSERT_EQ(pcapng_reader_open_mem(&r, f->b, f->len, err, sizeof(err)), 0,
				  err);
			ASSERT_EQ(pcapng_next(r, rec), 0, what);
			ASSERT_EQ(rec->kind, PCAPNG_REC_SECTION, what);
			ASSERT_EQ(rec->big_endian, be, what);
			ASSERT_EQ(pcapng_next(r, rec), 0, what);
			ASSERT_EQ(rec->kind, PCAPNG_REC_INTERFACE, what);
			ASSERT_EQ(rec->if_id, 0, what);
			ifc = pcapng_interface(r, 0);
			ASSERT_TRUE(ifc != NULL, what);
			ASSERT_EQ(ifc->linktype, 228, what);
			ASSERT_EQ(ifc->snaplen, 65535, what);
			ASSERT_U64_EQ(ifc->ts_units_per_sec, unit_ns == 1 ? 1000000000u : 1000000u,
				      what);
			ASSERT_EQ(pcapng_interface_count(r), 1, what);

			ASSERT_EQ(pcapng_next(r, rec), 0, what);
			ASSERT_EQ(rec->kind, PCAPNG_REC_PACKET, what);
			ASSERT_EQ(rec->offset, 24, what);
			ASSERT_EQ(rec->caplen, sizeof(pkt_a), what);
			ASSERT_EQ(rec->origlen, sizeof(pkt_a), what);
			ASSERT_MEMEQ(rec->data, pkt_a, sizeof(pkt_a), what);
			ASSERT_U64_EQ(rec->ts_ns, 1700000000ull * 1000000000u + 5 * unit_ns, what);
			ASSERT_EQ(rec->has_flags, hdr == 24, what);
			if (hdr == 24)
				ASSERT_EQ(rec->flags, PCAPNG_DIR_INBOUND, what);

			ASSERT_EQ(pcapng_next(r, rec), 0, what);
			ASSERT_EQ(rec->offset, 24 + hdr + sizeof(pkt_a), what);
			ASSERT_EQ(rec->caplen, 0, what);
			ASSERT_U64_EQ(rec->ts_ns, 1700000001ull * 1000000000u, what);
			if (hdr == 24)
				ASSERT_EQ(rec->flags, PCAPNG_DIR_OUTBOUND, what);

			ASSERT_EQ(pcapng_next(r, rec), 0, what);
			ASSERT_EQ(rec->caplen, sizeof(pkt_b), what);
			ASSERT_EQ(rec->origlen, 1500, what);
			ASSERT_MEMEQ(rec->data, pkt_b, sizeof(pkt_b), what);
			ASSERT_U64_EQ(rec->ts_ns, 1700000002ull * 1000000000u + 999999 * unit_ns,
				      what);
			ASSERT_EQ(pcapng_next(r, rec), PCAPNG_EOF, what);
			ASSERT_EQ(pcapng_next(r, rec), PCAPNG_EOF, "EOF is sticky");
			pcapng_reader_close(r);
		}
	}
	free(f);
	free(rec);
}

/* Every cut: what came before the cut, then EOF on a record boundary or a warning. */
TEST(pcap_classic_truncated_every_cut)
{
	struct pf *f = calloc(1, sizeof(*f));
	struct pcapng_record *rec = malloc(sizeof(*rec));
	size_t ends[3];

	ASSERT_TRUE(f && rec, "alloc");
	pf_sample(f, MAGIC_USEC, 0);
	ends[0] = 24 + 16 + sizeof(pkt_a);
	ends[1] = ends[0] + 16;
	ends[2] = f->len;
	for (size_t cut = 4; cut <= f->len; cut++) {
		struct pcapng_reader *r;
		char err[PCAPNG_ERRLEN], what[32];
		int rc, packets = 0, want = 0;

		snprintf(what, sizeof(what), "cut at %zu", cut);
		for (int i = 0; i < 3; i++)
			want += cut >= ends[i];
		ASSERT_EQ(pcapng_reader_open_mem(&r, f->b, cut, err, sizeof(err)), 0, what);
		while ((rc = pcapng_next(r, rec)) == 0)
			packets += rec->kind == PCAPNG_REC_PACKET;
		ASSERT_EQ(packets, want, what);
		if (cut == 24 || cut == ends[0] || cut == ends[1] || cut == ends[2]) {
			ASSERT_EQ(rc, PCAPNG_EOF, what);
		} else {
			ASSERT_EQ(rc, PCAPNG_TRUNCATED, what);
			ASSERT_TRUE(strstr(pcapng_reader_error(r), "truncated record at offset") !=
					NULL,
				    pcapng_reader_error(r));
		}
		pcapng_reader_close(r);
	}
	free(f);
	free(rec);
}

/* Compress buf with zout (level 3) through a temporary file. */
static uint8_t *zstd_bytes(const uint8_t *buf, size_t len, size_t *zlen)
{
	char path[] = "/tmp/pkt-pcap-XXXXXX", err[ZIO_ERRLEN];
	struct zout *out;
	struct stat st;
	uint8_t *z = NULL;
	int fd = mkstemp(path);

	if (fd < 0)
		return NULL;
	unlink(path);
	if (zout_open_fd(&out, fd, 3, ZOUT_KEEP_FD, err, sizeof(err)))
		goto done;
	if (zout_write(out, buf, len) || zout_close(out, err, sizeof(err)) || fstat(fd, &st) < 0)
		goto done;
	z = malloc((size_t)st.st_size + 1);
	if (z && pread(fd, z, (size_t)st.st_size, 0) != st.st_size) {
		free(z);
		z = NULL;
	}
	*zlen = (size_t)st.st_size;
done:
	close(fd);
	return z;
}

TEST(pcap_classic_zstd)
{
	struct pf *f = calloc(1, sizeof(*f));
	struct pcapng_record *rec = malloc(sizeof(*rec));
	struct pcapng_reader *r;
	char err[PCAPNG_ERRLEN];
	uint8_t *z;
	size_t zlen = 0;
	int rc, packets = 0;

	ASSERT_TRUE(f && rec, "alloc");
	pf_sample(f, MAGIC_NSEC, 1);
	z = zstd_bytes(f->b, f->len, &zlen);
	ASSERT_TRUE(z != NULL, "compress");
	ASSERT_TRUE(zlen >= 4 && z[0] == 0x28 && z[1] == 0xb5, "zstd magic");
	ASSERT_EQ(pcapng_reader_open_mem(&r, z, zlen, err, sizeof(err)), 0, err);
	while ((rc = pcapng_next(r, rec)) == 0)
		if (rec->kind == PCAPNG_REC_PACKET && packets++ == 2)
			ASSERT_MEMEQ(rec->data, pkt_b, sizeof(pkt_b), "third packet");
	ASSERT_EQ(rc, PCAPNG_EOF, pcapng_reader_error(r));
	ASSERT_EQ(packets, 3, "packets");
	pcapng_reader_close(r);
	/* a zstd stream cut in its middle: what decodes, then a warning */
	ASSERT_EQ(pcapng_reader_open_mem(&r, z, zlen - 6, err, sizeof(err)), 0, err);
	while ((rc = pcapng_next(r, rec)) == 0)
		;
	ASSERT_EQ(rc, PCAPNG_TRUNCATED, pcapng_reader_error(r));
	pcapng_reader_close(r);
	free(z);
	free(f);
	free(rec);
}

TEST(pcap_classic_hostile_headers)
{
	struct pf *f = calloc(1, sizeof(*f));
	struct pcapng_record *rec = malloc(sizeof(*rec));
	struct pcapng_reader *r = (void *)1;
	char err[PCAPNG_ERRLEN];
	uint64_t skipped = 1;

	ASSERT_TRUE(f && rec, "alloc");
	/* pcap 1.x: libpcap and Wireshark refuse it */
	pf_header(f, MAGIC_USEC, 1, 65535, 1);
	ASSERT_EQ(pcapng_reader_open_mem(&r, f->b, f->len, err, sizeof(err)), -EBADMSG, "v1");
	ASSERT_TRUE(r == NULL, "no reader on failure");
	ASSERT_TRUE(strstr(err, "offset 4: unsupported pcap version 1.4") != NULL, err);
	/* reserved bits of the link type field */
	pf_header(f, MAGIC_USEC, 2, 65535, 0x00300001);
	ASSERT_EQ(pcapng_reader_open_mem(&r, f->b, f->len, err, sizeof(err)), -EBADMSG, "reserved");
	ASSERT_TRUE(strstr(err, "offset 20: link type field 0x00300001") != NULL, err);
	/* FCS bits are not reserved: the link type is the low 16 bits */
	pf_header(f, MAGIC_USEC, 2, 65535, 0x30000084);
	ASSERT_EQ(pcapng_reader_open_mem(&r, f->b, f->len, err, sizeof(err)), 0, err);
	ASSERT_EQ(pcapng_next(r, rec), 0, "section");
	ASSERT_EQ(pcapng_next(r, rec), 0, "interface");
	ASSERT_EQ(pcapng_interface(r, 0)->linktype, 0x84, "link type under FCS bits");
	pcapng_reader_close(r);
	/* a record longer than any snaplen: an error naming its offset, no resync */
	f->be = 1;
	pf_header(f, MAGIC_USEC, 2, 65535, 1);
	pf_record(f, 1, 2, pkt_a, sizeof(pkt_a), sizeof(pkt_a), 0);
	pf_u32(f, 3);
	pf_u32(f, 4);
	pf_u32(f, 0xFFFFFFF0u);
	pf_u32(f, 0xFFFFFFF0u);
	ASSERT_EQ(pcapng_reader_open_mem(&r, f->b, f->len, err, sizeof(err)), 0, err);
	ASSERT_EQ(pcapng_next(r, rec), 0, "section");
	ASSERT_EQ(pcapng_next(r, rec), 0, "interface");
	ASSERT_EQ(pcapng_next(r, rec), 0, "good packet");
	ASSERT_EQ(pcapng_next(r, rec), -EBADMSG, "huge record");
	ASSERT_TRUE(strstr(pcapng_reader_error(r),
			   "record at offset 60: captured length 4294967280 exceeds the maximum "
			   "of 262144") != NULL,
		    pcapng_reader_error(r));
	ASSERT_EQ(pcapng_resync(r, &skipped), PCAPNG_EOF, "no resync in classic pcap");
	ASSERT_EQ(skipped, 0, "nothing skipped");
	ASSERT_EQ(pcapng_next(r, rec), PCAPNG_EOF, "ended");
	pcapng_reader_close(r);
	/* a big snaplen raises the bound, up to the pcapng block bound */
	pf_header(f, MAGIC_USEC, 2, 0xFFFFFFFFu, 1);
	pf_u32(f, 3);
	pf_u32(f, 4);
	pf_u32(f, PCAPNG_MAX_BLOCK);
	pf_u32(f, PCAPNG_MAX_BLOCK);
	ASSERT_EQ(pcapng_reader_open_mem(&r, f->b, f->len, err, sizeof(err)), 0, err);
	ASSERT_EQ(pcapng_next(r, rec), 0, "section");
	ASSERT_EQ(pcapng_next(r, rec), 0, "interface");
	ASSERT_EQ(pcapng_next(r, rec), -EBADMSG, "record over the block bound");
	pcapng_reader_close(r);
	/* within the bound but cut: a truncation, not an error */
	pf_header(f, MAGIC_USEC, 2, 0xFFFFFFFFu, 1);
	pf_u32(f, 3);
	pf_u32(f, 4);
	pf_u32(f, 1000000);
	pf_u32(f, 1000000);
	ASSERT_EQ(pcapng_reader_open_mem(&r, f->b, f->len, err, sizeof(err)), 0, err);
	ASSERT_EQ(pcapng_next(r, rec), 0, "section");
	ASSERT_EQ(pcapng_next(r, rec), 0, "interface");
	ASSERT_EQ(pcapng_next(r, rec), PCAPNG_TRUNCATED, "big record cut");
	ASSERT_TRUE(strstr(pcapng_reader_error(r), "have 16 of 1000016 bytes") != NULL,
		    pcapng_reader_error(r));
	pcapng_reader_close(r);
	/* a file cut inside its header opens; reading says it is cut */
	pf_header(f, MAGIC_NSEC, 2, 65535, 1);
	ASSERT_EQ(pcapng_reader_open_mem(&r, f->b, 10, err, sizeof(err)), 0, err);
	ASSERT_EQ(pcapng_next(r, rec), PCAPNG_TRUNCATED, "cut header");
	ASSERT_TRUE(strstr(pcapng_reader_error(r), "offset 0 (have 10 of 24 bytes)") != NULL,
		    pcapng_reader_error(r));
	pcapng_reader_close(r);
	free(f);
	free(rec);
}
