// SPDX-License-Identifier: MIT
/* Several hosts in one analysis: whose each file is, and their clocks (hosts.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hosts.h"
#include "hashtab.h"
#include "pcapng.h"
#include "trace.h"

/* A key seen over a longer span on one host is several packets: not a sample. */
#define SAME_PACKET_SPAN_NS 1000000000ull
/*
 * Notes the first pass keeps at most (about 50 MB): beyond, it keeps half as
 * many packets, chosen by their key, so the same on every host.
 */
#define OBS_MAX (1u << 19)

struct host_opt {
	char *name;
	const char *file;
	int used;
};

struct host {
	struct host_clock clk;
	char *name;
	int reached;
	size_t via_index; /* clk.via's host */
};

/* When one host saw one packet (a stitch key): its first and last hits each way. */
struct obs {
	struct ht_node node;
	uint64_t key;
	uint32_t host;
	uint8_t first_dir, last_dir; /* of the first and last hit with a direction */
	int has_in, has_out;
	uint64_t first_any, last_any, first_in, last_out;
};

struct pair_samples {
	struct clock_sample *s;
	size_t n, cap;
	struct clock_estimate est;
};

#define HOST_LATER (-1) /* standard input: its section header will say */
#define HOST_FIRST (-2) /* the first file's host, whatever it turns out to be */

struct hosts {
	struct host_opt *opts;
	size_t nopts;
	uint32_t nsources;
	int *src_host; /* host index of each source, HOST_LATER or HOST_FIRST */
	struct host *hosts;
	size_t nhosts;
	char note[160];
};

struct hosts *hosts_new(void)
{
	return calloc(1, sizeof(struct hosts));
}

void hosts_free(struct hosts *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->nopts; i++)
		free(h->opts[i].name);
	for (size_t i = 0; i < h->nhosts; i++)
		free(h->hosts[i].name);
	free(h->opts);
	free(h->hosts);
	free(h->src_host);
	free(h);
}

int hosts_option(struct hosts *h, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	struct host_opt *o;

	if (!eq || eq == arg || !eq[1]) {
		snprintf(err, errlen, "--host: '%s' is not NAME=FILE", arg);
		return -EINVAL;
	}
	o = realloc(h->opts, (h->nopts + 1) * sizeof(*o));
	if (!o) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	h->opts = o;
	o = &h->opts[h->nopts];
	o->name = strndup(arg, (size_t)(eq - arg));
	o->file = eq + 1;
	o->used = 0;
	if (!o->name) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	h->nopts++;
	return 0;
}

/* The index of the host called name, added if new; -1: out of memory. */
static int host_index(struct hosts *h, const char *name)
{
	struct host *n;

	for (size_t i = 0; i < h->nhosts; i++)
		if (!strcmp(h->hosts[i].name, name))
			return (int)i;
	n = realloc(h->hosts, (h->nhosts + 1) * sizeof(*n));
	if (!n)
		return -1;
	h->hosts = n;
	n = &h->hosts[h->nhosts];
	memset(n, 0, sizeof(*n));
	n->name = strdup(name);
	if (!n->name)
		return -1;
	n->clk.name = n->name;
	return (int)h->nhosts++;
}

/* The host= of a file's first section header, read ahead; 0 if it has one. */
static int file_host(const char *path, char *name, size_t cap)
{
	struct pcapng_reader *r;
	struct pcapng_record rec;
	char err[PCAPNG_ERRLEN];
	int rc = -ENOENT;

	if (pcapng_reader_open_path(&r, path, err, sizeof(err)) < 0)
		return -ENOENT;
	if (pcapng_next(r, &rec) == 0 && rec.kind == PCAPNG_REC_SECTION && rec.has_comment)
		rc = trace_section_host(rec.comment, name, cap);
	pcapng_reader_close(r);
	return rc;
}

void hosts_section(struct hosts *h, uint32_t source, const char *shb_comment)
{
	char name[256];
	int i;

	if (!h || source >= h->nsources || h->src_host[source] != HOST_LATER)
		return;
	if (!shb_comment || trace_section_host(shb_comment, name, sizeof(name)) < 0)
		snprintf(name, sizeof(name), "-");
	i = host_index(h, name);
	if (i < 0)
		return; /* out of memory: shown without a host */
	h->src_host[source] = i;
	if (source == 0)
		h->hosts[i].clk.reference = 1;
}

/* The host index of a source, -1 when not known (yet) */
static int host_of(const struct hosts *h, uint32_t source)
{
	if (!h || source >= h->nsources)
		return -1;
	int i = h->src_host[source];

	return i == HOST_FIRST ? h->src_host[0] : i;
}

/* ------------------------------------------------------------ first pass */

/* The notes of the first pass, a sample of the packets by key beyond OBS_MAX. */
struct notes {
	struct hashtab t;
	uint64_t mask; /* keys with (key >> 32) & mask == 0 are kept */
};

static int kept(const struct notes *nt, uint64_t key)
{
	return ((key >> 32) & nt->mask) == 0;
}

static void prune_one(struct ht_node *n, void *ctx)
{
	struct notes *nt = ctx;
	struct obs *o = ht_entry(n, struct obs, node);

	if (!kept(nt, o->key)) {
		ht_remove(&nt->t, n);
		free(o);
	}
}

/* Too many notes: keep half the keys from now on, and drop the others. */
static void thin(struct notes *nt)
{
	while (ht_count(&nt->t) > OBS_MAX && nt->mask != UINT32_MAX) {
		nt->mask = nt->mask << 1 | 1;
		ht_for_each(&nt->t, prune_one, nt);
	}
}

static struct obs *obs_get(struct hashtab *t, uint32_t host, uint64_t key)
{
	uint64_t hv = ht_hash_add(key, host);
	struct obs *o;

	for (struct ht_node *n = ht_find_first(t, hv); n; n = ht_find_next(n)) {
		o = ht_entry(n, struct obs, node);
		if (o->key == key && o->host == host)
			return o;
	}
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->key = key;
	o->host = host;
	o->first_any = UINT64_MAX;
	ht_insert(t, &o->node, hv);
	return o;
}

static void obs_note(struct obs *o, uint64_t ts, uint8_t dir)
{
	if (ts < o->first_any)
		o->first_any = ts;
	if (ts > o->last_any)
		o->last_any = ts;
	if (dir) {
		if (!o->first_dir)
			o->first_dir = dir;
		o->last_dir = dir;
	}
	if (dir == PCAPNG_DIR_INBOUND && (!o->has_in || ts < o->first_in)) {
		o->first_in = ts;
		o->has_in = 1;
	}
	if (dir == PCAPNG_DIR_OUTBOUND && (!o->has_out || ts > o->last_out)) {
		o->last_out = ts;
		o->has_out = 1;
	}
}

/* Every packet of one file: when its host saw it, each way. */
static int read_file(struct notes *nt, const char *path, uint32_t host)
{
	struct pcapng_reader *r;
	struct pcapng_record rec;
	char err[PCAPNG_ERRLEN];
	struct pkt_info pi;

	if (pcapng_reader_open_path(&r, path, err, sizeof(err)) < 0)
		return 0; /* the main pass says why */
	while (pcapng_next(r, &rec) == 0) {
		const struct pcapng_interface *itf;
		uint64_t keys[CLOCK_MAX_KEYS];
		int nk;

		if (rec.kind != PCAPNG_REC_PACKET || !rec.has_ts)
			continue;
		itf = pcapng_interface(r, rec.if_id);
		if (pkt_dissect(rec.data, rec.caplen,
				itf ? itf->linktype : PCAPNG_LINKTYPE_ETHERNET, &pi) < 0)
			continue;
		nk = clock_stitch_keys(&pi, keys);
		for (int k = 0; k < nk; k++) {
			if (!kept(nt, keys[k]))
				continue;
			struct obs *o = obs_get(&nt->t, host, keys[k]);

			if (!o) {
				pcapng_reader_close(r);
				return -ENOMEM;
			}
			obs_note(o, rec.ts_ns, rec.has_flags ? (uint8_t)(rec.flags & 3) : 0);
		}
		thin(nt);
	}
	pcapng_reader_close(r); /* a corrupt or cut file: what came before counts */
	return 0;
}

static uint64_t send_ts(const struct obs *o)
{
	return o->has_out ? o->last_out : o->last_any;
}

static uint64_t recv_ts(const struct obs *o)
{
	return o->has_in ? o->first_in : o->first_any;
}

/* a sent it and b received it, as far as the directions of their hits tell */
static int went(const struct obs *a, const struct obs *b)
{
	return a->last_dir != PCAPNG_DIR_INBOUND && b->first_dir != PCAPNG_DIR_OUTBOUND &&
	       (a->last_dir == PCAPNG_DIR_OUTBOUND || b->first_dir == PCAPNG_DIR_INBOUND);
}

struct collect {
	struct hashtab *t;
	struct pair_samples *ps; /* [a * nhosts + b], a < b: b relative to a */
	size_t nhosts;
	int err;
};

static int add_sample(struct pair_samples *p, uint64_t ts, int64_t delay, int back)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct clock_sample *s = realloc(p->s, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		p->s = s;
		p->cap = cap;
	}
	p->s[p->n++] = (struct clock_sample){.ts_ns = ts, .delay_ns = delay, .back = back};
	return 0;
}

static void collect_one(struct ht_node *n, void *ctx)
{
	struct collect *c = ctx;
	const struct obs *a = ht_entry(n, struct obs, node);

	if (c->err || a->last_any - a->first_any > SAME_PACKET_SPAN_NS)
		return;
	/* every other host that saw the same key: the later host of the two is relative */
	for (uint32_t hb = a->host + 1; hb < c->nhosts; hb++) {
		uint64_t hv = ht_hash_add(a->key, hb);

		for (struct ht_node *m = ht_find_first(c->t, hv); m; m = ht_find_next(m)) {
			const struct obs *b = ht_entry(m, struct obs, node);
			int fwd, back;

			if (b->key != a->key || b->host != hb ||
			    b->last_any - b->first_any > SAME_PACKET_SPAN_NS)
				continue;
			fwd = went(a, b);
			back = went(b, a);
			if (fwd == back)
				continue; /* no telling which way it went */
			struct pair_samples *p = &c->ps[a->host * c->nhosts + hb];
			int rc =
			    fwd ? add_sample(p, send_ts(a), (int64_t)(recv_ts(b) - send_ts(a)), 0)
				: add_sample(p, recv_ts(a), (int64_t)(recv_ts(a) - send_ts(b)), 1);

			if (rc < 0)
				c->err = rc;
		}
	}
}

static void obs_free(struct ht_node *n, void *ctx)
{
	(void)ctx;
	free(ht_entry(n, struct obs, node));
}

/* The estimate of `to` relative to `from`, from the pair's (computed for from < to). */
static struct clock_estimate relative(const struct pair_samples *ps, size_t nh, size_t from,
				      size_t to)
{
	struct clock_estimate e;

	if (from < to)
		return ps[from * nh + to].est;
	e = ps[to * nh + from].est;
	e.offset_ns = -e.offset_ns;
	e.drift = -e.drift;
	int64_t mn = e.min_ns, mx = e.max_ns;
	int hmn = e.has_min, hmx = e.has_max;
	uint64_t f = e.fwd;

	e.has_min = hmx;
	e.min_ns = -mx;
	e.has_max = hmn;
	e.max_ns = -mn;
	e.fwd = e.back;
	e.back = f;
	return e;
}

/* Each host's clock from the reference's: the pair estimates, chained where needed. */
static void chain(struct hosts *h, const struct pair_samples *ps)
{
	size_t nh = h->nhosts;

	h->hosts[0].reached = 1;
	h->hosts[0].clk.reference = 1;
	h->hosts[0].clk.measured = 1;
	h->hosts[0].clk.est.known = h->hosts[0].clk.est.two_way = 1;
	/* two-way estimates first; one-way ones only for hosts nothing else reaches */
	for (int pass = 0; pass < 2; pass++) {
		for (int grew = 1; grew;) {
			grew = 0;
			for (size_t a = 0; a < nh; a++) {
				if (!h->hosts[a].reached)
					continue;
				for (size_t b = 0; b < nh; b++) {
					if (h->hosts[b].reached || a == b)
						continue;
					struct clock_estimate e = relative(ps, nh, a, b);

					if (!e.known || (!pass && !e.two_way))
						continue;
					struct host_clock *ca = &h->hosts[a].clk,
							  *cb = &h->hosts[b].clk;

					cb->est = e;
					cb->measured = 1;
					if (!ca->reference) {
						/* through a: offsets add up, and so do
						 * uncertainties */
						cb->via = ca->name;
						h->hosts[b].via_index = a;
						cb->est.offset_ns =
						    clock_offset_at(&ca->est, e.mid_ts) +
						    e.offset_ns;
						cb->est.drift += ca->est.drift;
						cb->est.uncertainty_ns += ca->est.uncertainty_ns;
						cb->est.two_way = e.two_way && ca->est.two_way;
						cb->est.min_ns += ca->est.offset_ns;
						cb->est.max_ns += ca->est.offset_ns;
						cb->est.has_min =
						    cb->est.has_min && ca->est.two_way;
						cb->est.has_max =
						    cb->est.has_max && ca->est.two_way;
					}
					h->hosts[b].reached = 1;
					grew = 1;
				}
			}
		}
	}
}

static int first_pass(struct hosts *h, const char *const *paths, uint32_t n)
{
	struct notes nt = {.mask = 0};
	size_t nh = h->nhosts;
	struct pair_samples *ps = calloc(nh * nh, sizeof(*ps));
	int rc = 0;

	if (!ps || ht_init(&nt.t, 0) < 0) {
		free(ps);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n && !rc; i++)
		rc = read_file(&nt, paths[i], (uint32_t)host_of(h, i));
	if (!rc) {
		struct collect c = {.t = &nt.t, .ps = ps, .nhosts = nh};

		ht_for_each(&nt.t, collect_one, &c);
		rc = c.err;
	}
	for (size_t i = 0; i < nh * nh && !rc; i++)
		rc = clock_estimate(ps[i].s, ps[i].n, &ps[i].est);
	if (!rc)
		chain(h, ps);
	for (size_t i = 0; i < nh * nh; i++)
		free(ps[i].s);
	free(ps);
	ht_for_each(&nt.t, obs_free, NULL);
	ht_destroy(&nt.t);
	return rc;
}

int hosts_prepare(struct hosts *h, const char *const *paths, uint32_t n, char *err, size_t errlen)
{
	int stdin_used = 0;

	h->nsources = n;
	h->src_host = calloc(n ? n : 1, sizeof(*h->src_host));
	if (!h->src_host)
		goto nomem;
	for (uint32_t i = 0; i < n; i++) {
		const char *name = NULL;
		char buf[256];
		int k;

		for (size_t j = 0; j < h->nopts && !name; j++)
			if (!strcmp(h->opts[j].file, paths[i])) {
				name = h->opts[j].name;
				h->opts[j].used = 1;
			}
		if (!name && !strcmp(paths[i], "-")) {
			h->src_host[i] = HOST_LATER; /* its section header says, in the main pass */
			stdin_used = 1;
			continue;
		}
		if (!name && file_host(paths[i], buf, sizeof(buf)) == 0)
			name = buf;
		if (!name && i > 0) {
			/* no name (tcpdump, dumpcap): a capture point on the first file's host */
			h->src_host[i] = h->src_host[0] < 0 ? HOST_FIRST : h->src_host[0];
			continue;
		}
		if (!name) {
			const char *slash = strrchr(paths[i], '/');

			name = slash && slash[1] ? slash + 1 : paths[i];
		}
		k = host_index(h, name);
		if (k < 0)
			goto nomem;
		h->src_host[i] = k;
	}
	for (size_t j = 0; j < h->nopts; j++)
		if (!h->opts[j].used) {
			snprintf(err, errlen, "--host %s=%s: no input file is %s", h->opts[j].name,
				 h->opts[j].file, h->opts[j].file);
			return -EINVAL;
		}
	if (n && h->src_host[0] >= 0)
		h->hosts[h->src_host[0]].clk.reference = 1;
	if (h->nhosts < 2 || h->src_host[0] < 0)
		return 0;
	if (stdin_used) {
		snprintf(h->note, sizeof(h->note),
			 "clock offsets not estimated: standard input cannot be read twice");
		return 0;
	}
	if (first_pass(h, paths, n) < 0)
		goto nomem;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

/* ------------------------------------------------------------ queries */

int hosts_shown(const struct hosts *h)
{
	return h && (h->nhosts > 1 || h->nopts > 0);
}

const char *hosts_name(const struct hosts *h, uint32_t source)
{
	int i = host_of(h, source);

	return i < 0 ? "" : h->hosts[i].name;
}

uint64_t hosts_correct(const struct hosts *h, uint32_t source, uint64_t ts)
{
	int i = host_of(h, source);

	if (i < 0)
		return ts;
	const struct host_clock *c = &h->hosts[i].clk;

	if (!c->measured || c->reference)
		return ts;
	int64_t off = clock_offset_at(&c->est, ts);

	if (off > 0 && (uint64_t)off > ts)
		return 0;
	return ts - (uint64_t)off;
}

size_t hosts_count(const struct hosts *h)
{
	return h ? h->nhosts : 0;
}

const struct host_clock *hosts_clock(const struct hosts *h, size_t i)
{
	return h && i < h->nhosts ? &h->hosts[i].clk : NULL;
}

int hosts_rename(struct hosts *h, size_t i, const char *name)
{
	char *n;

	if (!h || i >= h->nhosts)
		return -EINVAL;
	n = strdup(name);
	if (!n)
		return -ENOMEM;
	free(h->hosts[i].name);
	h->hosts[i].name = n;
	h->hosts[i].clk.name = n;
	/* a host measured through this one names it */
	for (size_t j = 0; j < h->nhosts; j++)
		if (h->hosts[j].clk.via && h->hosts[j].via_index == i)
			h->hosts[j].clk.via = n;
	return 0;
}

const char *hosts_note(const struct hosts *h)
{
	return h ? h->note : "";
}
