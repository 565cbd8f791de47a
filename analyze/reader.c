// SPDX-License-Identifier: MIT
/*
 * One input read ahead of the analysis (reader.h): a producer fills batches
 * of decoded items, a consumer takes them in order. Threaded, the batches go
 * round between the two through a mutex and two condition variables: a
 * fixed number of them, so the reader is never more than that far ahead and
 * memory stays bounded whatever the file.
 */
#include "reader.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "hashtab.h"

/* Items per batch: a hand-over (a lock, maybe a wake-up) per this many hits. */
#define BATCH_ITEMS 256
/* A batch's bytes (snapshots, comments, names) before it is handed over. */
#define BATCH_BYTES (192u * 1024)
/* Batches of a threaded input: one being filled, one being read, the rest queued. */
#define THREAD_BATCHES 6
/* A batch's hop strings: ~40 bytes a hit, one chunk holds a batch's unless names are long. */
#define STR_CHUNK_BYTES (16u * 1024)

/* Room for a batch's hop strings, in chunks that never move: items point into them. */
struct str_chunk {
	struct str_chunk *next; /* an older chunk of the batch */
	size_t used, cap;
	char s[];
};

struct reader_batch {
	struct reader_batch *next;
	size_t n;
	uint8_t *bytes;
	size_t used, cap;
	struct str_chunk *strs; /* the newest first; the oldest is kept from batch to batch */
	struct reader_item items[BATCH_ITEMS];
};

enum producer_state {
	PRODUCE_READ,	/* the next block */
	PRODUCE_RESYNC, /* after a corrupt block: look for the next valid one */
	PRODUCE_END,	/* after a corrupt block at the offset of the one before: give up */
	PRODUCE_DONE,	/* a last item was made */
};

/* An interface's name and description for items to point at, until reader_close. */
struct reader_iface {
	struct reader_iface *next; /* the reader's ifs_all */
	char name[READER_IF_NAME_LEN];
	char description[READER_IF_DESCRIPTION_LEN];
};

/* a packet whose interface block is missing */
static const struct reader_iface no_iface;

/*
 * A hop's name (hook, interface, command, drop reason, loc) kept once for
 * the input, until reader_close: items point at it, so that the analysis
 * finds its own copy by the address (reader_hop.names_stable). A recording
 * has a few dozen; past this many (a hostile file), names go with their
 * batch like the other strings.
 */
struct reader_name {
	struct ht_node node;
	size_t len;
	char s[];
};
#define READER_NAMES_MAX 65536
/* slots of the recent names, by length and end bytes: most hits find theirs there, unhashed */
#define READER_NAMES_RECENT 61

struct reader {
	struct pcapng_reader *r;
	bool threaded, dissect, comments;

	/* the producer's (the reader thread's, when threaded) */
	struct pcapng_record rec;
	struct trace_hop hop; /* the record's, decoded here and put into its item slimmer */
	enum producer_state state;
	/* the interfaces' strings items point at: by if_id for ifs_section, and all */
	struct reader_iface **ifs;
	size_t ifs_n;
	uint32_t ifs_section;
	struct reader_iface *ifs_all;
	struct hashtab names; /* struct reader_name */
	bool names_ok;	      /* names is initialized */
	const struct reader_name *names_recent[READER_NAMES_RECENT];
	int errors;
	uint64_t error_at, last_error_offset;

	/* the hand-over, under lock */
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	pthread_cond_t ready, space;
	struct reader_batch *full_head, *full_tail, *free_list;
	bool stop;

	/* the consumer's */
	struct reader_batch *cur;
	size_t pos;
};

static struct reader_batch *batch_new(void)
{
	struct reader_batch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->bytes = malloc(BATCH_BYTES);
	if (!b->bytes) {
		free(b);
		return NULL;
	}
	b->cap = BATCH_BYTES;
	return b;
}

/* The batch's strings forgotten, its first chunk kept for the next fill. */
static void batch_strs_reset(struct reader_batch *b)
{
	while (b->strs && b->strs->next) {
		struct str_chunk *older = b->strs->next;

		free(b->strs);
		b->strs = older;
	}
	if (b->strs)
		b->strs->used = 0;
}

static void batch_free_list(struct reader_batch *b)
{
	while (b) {
		struct reader_batch *next = b->next;

		batch_strs_reset(b);
		free(b->strs);
		free(b->bytes);
		free(b);
		b = next;
	}
}

/* n bytes aligned to align (a power of 2) among the batch's strings; NULL: no memory. */
static void *str_alloc(struct reader_batch *b, size_t n, size_t align)
{
	struct str_chunk *c = b->strs;
	size_t at = c ? (c->used + align - 1) & ~(align - 1) : 0;

	if (!c || at > c->cap || c->cap - at < n) {
		size_t cap = n > STR_CHUNK_BYTES ? n : STR_CHUNK_BYTES;

		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->cap = cap;
		c->next = b->strs;
		b->strs = c;
		at = 0;
	}
	c->used = at + n;
	return c->s + at;
}

/* s (len bytes) kept for the input: NULL when there is no room. */
static const char *name_keep(struct reader *rd, const char *s, size_t len)
{
	/* len > 0 */
	const struct reader_name **recent =
	    &rd->names_recent[(len * 31 + (unsigned char)s[0] + 7u * (unsigned char)s[len - 1]) %
			      READER_NAMES_RECENT];
	uint64_t h;
	struct reader_name *nm;

	if (*recent && (*recent)->len == len && !memcmp((*recent)->s, s, len))
		return (*recent)->s;
	if (!rd->names_ok)
		return NULL;
	h = ht_hash_bytes(0, s, len);
	for (struct ht_node *n = ht_find_first(&rd->names, h); n; n = ht_find_next(n)) {
		nm = ht_entry(n, struct reader_name, node);
		if (nm->len == len && !memcmp(nm->s, s, len)) {
			*recent = nm;
			return nm->s;
		}
	}
	if (ht_count(&rd->names) >= READER_NAMES_MAX || !(nm = malloc(sizeof(*nm) + len + 1)))
		return NULL;
	nm->len = len;
	memcpy(nm->s, s, len + 1);
	ht_insert(&rd->names, &nm->node, h);
	*recent = nm;
	return nm->s;
}

static void name_free(struct ht_node *n, void *ctx)
{
	(void)ctx;
	free(ht_entry(n, struct reader_name, node));
}

/*
 * The hop h into the item's v: its numbers, its names kept for the input
 * (name_keep), and what else it has (extra, or names with no room left)
 * copied to the batch's strings in one piece; an empty string is a
 * constant "". false: no memory.
 */
static bool put_hop(struct reader *rd, struct reader_batch *b, struct reader_hop *v,
		    const struct trace_hop *h)
{
	/* the names first, extra last: free-form (rmem=, icmp=...), never kept */
	const char *src[6] = {h->hook, h->ifname, h->comm, h->drop, h->loc, h->extra};
	const char **dst[6] = {&v->hook, &v->ifname, &v->comm, &v->drop, &v->loc, &v->extra};
	size_t len[6], total = 0;
	char *p;

	reader_hop_keys(v, h);
	v->ts_ns = h->ts_ns;
	v->dir = h->dir;
	v->event = NULL;
	v->names_stable = true;
	for (size_t i = 0; i < 6; i++) {
		len[i] = 0;
		*dst[i] = ""; /* not h's: h is decoded again for the next record */
		if (!src[i][0])
			continue;
		size_t n = strlen(src[i]);

		if (i < 5 && (*dst[i] = name_keep(rd, src[i], n)))
			continue;
		v->names_stable = v->names_stable && i == 5;
		len[i] = n + 1;
		total += len[i];
	}
	if (!total)
		return true;
	if (!(p = str_alloc(b, total, 1)))
		return false;
	for (size_t i = 0; i < 6; i++)
		if (len[i]) {
			memcpy(p, src[i], len[i]);
			*dst[i] = p;
			p += len[i];
		}
	return true;
}

void reader_hop_keys(struct reader_hop *v, const struct trace_hop *h)
{
	v->hook = h->hook;
	v->ifname = h->ifname;
	v->comm = h->comm;
	v->drop = h->drop;
	v->loc = h->loc;
	v->extra = h->extra;
	v->netns = h->netns;
	v->skb = h->skb;
	v->track = h->track;
	v->head = h->head;
	v->ifindex = h->ifindex;
	v->cpu = h->cpu;
	v->pid = h->pid;
	v->proto = h->proto;
	v->l2_synth = h->l2_synth;
	v->has_head = h->has_head;
	v->has_proto = h->has_proto;
	v->is_event = h->is_event;
	v->ours = h->ours;
	v->has_netns = h->has_netns;
	v->has_track = h->has_track;
	v->names_stable = false;
}

/* n bytes of room at the end of the batch's bytes: their offset, or SIZE_MAX. */
static size_t reserve(struct reader_batch *b, size_t n)
{
	size_t off = b->used;

	if (b->cap - b->used < n) {
		size_t cap = b->cap * 2 > b->used + n ? b->cap * 2 : b->used + n;
		uint8_t *a = realloc(b->bytes, cap);

		if (!a)
			return SIZE_MAX;
		b->bytes = a;
		b->cap = cap;
	}
	b->used += n;
	return off;
}

/* n bytes (and a NUL after them with nul) into the batch: their offset, or SIZE_MAX. */
static size_t put(struct reader_batch *b, const void *p, size_t n, bool nul)
{
	size_t off = reserve(b, n + (nul ? 1 : 0));

	if (off == SIZE_MAX)
		return SIZE_MAX;
	if (n)
		memcpy(b->bytes + off, p, n);
	if (nul)
		b->bytes[off + n] = '\0';
	return off;
}

static size_t put_str(struct reader_batch *b, const char *s)
{
	return put(b, s, strlen(s), true);
}

/*
 * The strings of interface if_id of section (itf): made once per interface
 * and section, where a recording changes interface nearly every hit. NULL:
 * no memory.
 */
static const struct reader_iface *iface_strings(struct reader *rd, uint32_t section, uint32_t if_id,
						const struct pcapng_interface *itf)
{
	struct reader_iface *f;

	if (!itf)
		return &no_iface;
	if (section != rd->ifs_section) {
		if (rd->ifs_n)
			memset(rd->ifs, 0, rd->ifs_n * sizeof(*rd->ifs));
		rd->ifs_section = section;
	}
	if (if_id < rd->ifs_n && rd->ifs[if_id])
		return rd->ifs[if_id];
	if (if_id >= rd->ifs_n) {
		size_t n = (size_t)if_id * 2 + 16;
		struct reader_iface **a = realloc(rd->ifs, n * sizeof(*a));

		if (!a)
			return NULL;
		memset(a + rd->ifs_n, 0, (n - rd->ifs_n) * sizeof(*a));
		rd->ifs = a;
		rd->ifs_n = n;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	/* cut to the size pcapng's reader keeps; zero-filled: copied whole */
	memcpy(f->name, itf->name, strnlen(itf->name, sizeof(f->name) - 1));
	memcpy(f->description, itf->description,
	       strnlen(itf->description, sizeof(f->description) - 1));
	f->next = rd->ifs_all;
	rd->ifs_all = f;
	rd->ifs[if_id] = f;
	return f;
}

static void item_init(struct reader_item *it, enum reader_kind kind,
		      const struct pcapng_record *rec)
{
	it->kind = kind;
	it->offset = rec ? rec->offset : 0;
	it->section = rec ? rec->section : 0;
	it->if_id = rec ? rec->if_id : 0;
	it->data = it->comment = it->text = SIZE_MAX;
	it->if_name = it->if_description = NULL;
}

/* A packet block as an item: false when its strings found no memory. */
static bool make_packet(struct reader *rd, struct reader_batch *b, struct reader_item *it)
{
	const struct pcapng_record *rec = &rd->rec;
	const struct pcapng_interface *itf = pcapng_interface(rd->r, rec->if_id);

	item_init(it, READER_PACKET, rec);
	trace_hop_decode(&rd->hop, rec, itf);
	if (!put_hop(rd, b, &it->c, &rd->hop))
		return false;
	it->has_ts = rec->has_ts;
	it->has_itf = itf != NULL;
	it->linktype = itf ? itf->linktype : PCAPNG_LINKTYPE_ETHERNET;
	it->snaplen = itf ? itf->snaplen : 0;
	const struct reader_iface *f = iface_strings(rd, rec->section, rec->if_id, itf);

	if (!f)
		return false;
	it->if_name = f->name;
	it->if_description = f->description;
	it->caplen = rec->caplen;
	it->origlen = rec->origlen;
	if (it->caplen) {
		it->data = put(b, rec->data, rec->caplen, false);
		if (it->data == SIZE_MAX)
			it->caplen = 0; /* dissect nothing rather than fail the file */
	}
	it->has_flags = rec->has_flags;
	it->flags = rec->flags;
	it->has_packetid = rec->has_packetid;
	it->packetid = rec->packetid;
	it->has_dropcount = rec->has_dropcount;
	it->dropcount = rec->dropcount;
	it->has_comment = rec->has_comment;
	if (rec->has_comment && rd->comments &&
	    (it->comment = put_str(b, rec->comment)) == SIZE_MAX)
		return false;
	it->dissected = rd->dissect;
	if (rd->dissect)
		it->dissect_rc = pkt_dissect(it->caplen ? b->bytes + it->data : NULL, it->caplen,
					     it->linktype, &it->pi);
	return true;
}

/* The next item into b (one is always made): true when it was the input's last. */
static bool produce(struct reader *rd, struct reader_batch *b)
{
	struct reader_item *it = &b->items[b->n];
	struct pcapng_record *rec = &rd->rec;
	bool last = true;

	switch (rd->state) {
	case PRODUCE_DONE:
	case PRODUCE_END:
		item_init(it, READER_END, NULL);
		goto made;
	case PRODUCE_RESYNC: {
		uint64_t skipped = 0;
		int rs = pcapng_resync(rd->r, &skipped);

		item_init(it, READER_RESYNC_NONE, NULL);
		it->skipped = skipped;
		if (rs == 0) {
			it->kind = READER_RESYNCED;
			it->offset = pcapng_reader_offset(rd->r);
			rd->state = PRODUCE_READ;
			last = false;
		} else if (rs == PCAPNG_EOF) {
			it->offset = rd->error_at;
		} else {
			it->kind = READER_ERROR;
			it->text = put_str(b, pcapng_reader_error(rd->r));
		}
		goto made;
	}
	case PRODUCE_READ:
		break;
	}
	for (;;) {
		int rc = pcapng_next(rd->r, rec);

		if (rc == 0) {
			switch (rec->kind) {
			case PCAPNG_REC_PACKET:
				if (!make_packet(rd, b, it))
					goto out_of_memory;
				last = false;
				goto made;
			case PCAPNG_REC_EVENT:
				item_init(it, READER_EVENT, rec);
				it->event_ok = trace_event_decode(&rd->hop, rec) == 0;
				/* the comment even when it has none: "" then */
				if ((it->comment = put_str(b, rec->comment)) == SIZE_MAX)
					goto out_of_memory;
				if (it->event_ok) { /* rare: kept whole, the item points into it */
					struct trace_hop *e =
					    str_alloc(b, sizeof(*e), _Alignof(struct trace_hop));

					if (!e)
						goto out_of_memory;
					/* the record's bytes go with the next block */
					*e = rd->hop;
					e->data = NULL;
					reader_hop_keys(&it->c, e);
					it->c.ts_ns = e->ts_ns;
					it->c.dir = e->dir;
					it->c.event = e;
				}
				last = false;
				goto made;
			case PCAPNG_REC_SECTION:
				item_init(it, READER_SECTION, rec);
				if (rec->has_comment &&
				    (it->text = put_str(b, rec->comment)) == SIZE_MAX)
					goto out_of_memory;
				last = false;
				goto made;
			case PCAPNG_REC_INTERFACE:
				continue;
			case PCAPNG_REC_STATS:
				item_init(it, READER_STATS, rec);
				it->has_ifdrop = rec->has_ifdrop;
				it->ifdrop = rec->ifdrop;
				it->has_osdrop = rec->has_osdrop;
				it->osdrop = rec->osdrop;
				last = false;
				goto made;
			default:
				continue;
			}
		}
		if (rc == PCAPNG_EOF) {
			item_init(it, READER_END, NULL);
			goto made;
		}
		if (rc == PCAPNG_TRUNCATED) {
			item_init(it, READER_TRUNCATED, NULL);
			it->text = put_str(b, pcapng_reader_error(rd->r));
			goto made;
		}
		item_init(it, rc == -EBADMSG ? READER_CORRUPT : READER_ERROR, NULL);
		it->text = put_str(b, pcapng_reader_error(rd->r));
		if (rc == -EBADMSG) {
			uint64_t at = pcapng_reader_offset(rd->r);

			/* Guard against a reader that would not move forward. */
			rd->state = ++rd->errors > 1 && at == rd->last_error_offset
					? PRODUCE_END
					: PRODUCE_RESYNC;
			rd->last_error_offset = at;
			rd->error_at = at;
			last = false;
		}
		goto made;
	}
out_of_memory:
	item_init(it, READER_OUT_OF_MEMORY, NULL);
	last = true;
made:
	b->n++;
	if (last)
		rd->state = PRODUCE_DONE;
	return last;
}

/* Fill an empty batch: up to its items or bytes, or to the input's last item. */
static void fill(struct reader *rd, struct reader_batch *b)
{
	b->n = 0;
	b->used = 0;
	batch_strs_reset(b);
	while (b->n < BATCH_ITEMS && b->used < BATCH_BYTES)
		if (produce(rd, b))
			break;
}

static void *reader_thread(void *arg)
{
	struct reader *rd = arg;

	for (;;) {
		struct reader_batch *b;

		pthread_mutex_lock(&rd->lock);
		while (!rd->free_list && !rd->stop)
			pthread_cond_wait(&rd->space, &rd->lock);
		if (rd->stop) {
			pthread_mutex_unlock(&rd->lock);
			break;
		}
		b = rd->free_list;
		rd->free_list = b->next;
		pthread_mutex_unlock(&rd->lock);

		fill(rd, b);

		pthread_mutex_lock(&rd->lock);
		b->next = NULL;
		if (rd->full_tail)
			rd->full_tail->next = b;
		else
			rd->full_head = b;
		rd->full_tail = b;
		pthread_cond_signal(&rd->ready);
		pthread_mutex_unlock(&rd->lock);
		if (rd->state == PRODUCE_DONE)
			break;
	}
	return NULL;
}

int reader_open(struct reader **rdp, struct pcapng_reader *r, bool threaded, bool dissect,
		bool comments)
{
	struct reader *rd = calloc(1, sizeof(*rd));
	int rc = -ENOMEM;

	*rdp = NULL;
	if (!rd)
		return -ENOMEM;
	rd->r = r;
	rd->threaded = threaded;
	rd->dissect = dissect;
	rd->comments = comments;
	rd->state = PRODUCE_READ;
	rd->names_ok = ht_init(&rd->names, 64) == 0; /* else no name is kept: they go by batch */
	if (!threaded) {
		rd->cur = batch_new();
		if (!rd->cur)
			goto fail;
		rd->pos = rd->cur->n = 0;
		*rdp = rd;
		return 0;
	}
	for (int i = 0; i < THREAD_BATCHES; i++) {
		struct reader_batch *b = batch_new();

		if (!b)
			goto fail;
		b->next = rd->free_list;
		rd->free_list = b;
	}
	if ((rc = -pthread_mutex_init(&rd->lock, NULL)) < 0)
		goto fail;
	if ((rc = -pthread_cond_init(&rd->ready, NULL)) < 0) {
		pthread_mutex_destroy(&rd->lock);
		goto fail;
	}
	if ((rc = -pthread_cond_init(&rd->space, NULL)) < 0) {
		pthread_cond_destroy(&rd->ready);
		pthread_mutex_destroy(&rd->lock);
		goto fail;
	}
	if ((rc = -pthread_create(&rd->thread, NULL, reader_thread, rd)) < 0) {
		pthread_cond_destroy(&rd->space);
		pthread_cond_destroy(&rd->ready);
		pthread_mutex_destroy(&rd->lock);
		goto fail;
	}
	rd->thread_started = true;
	(void)pthread_setname_np(rd->thread, "pkt-analyze-rd"); /* for top and perf; cosmetic */
	*rdp = rd;
	return 0;
fail:
	batch_free_list(rd->free_list);
	batch_free_list(rd->cur);
	if (rd->names_ok)
		ht_destroy(&rd->names);
	free(rd);
	return rc;
}

/*
 * An item ahead, asked for before it is needed: threaded, the reader's
 * thread wrote it on another CPU, and the analysis would otherwise wait for
 * each of its cache lines in turn.
 */
#define PREFETCH_AHEAD 2

static void prefetch_item(const struct reader_batch *b, size_t i)
{
	if (i >= b->n)
		return;
	for (size_t off = 0; off < sizeof(b->items[i]); off += 64)
		__builtin_prefetch((const char *)&b->items[i] + off);
}

struct reader_item *reader_next(struct reader *rd)
{
	if (rd->cur && rd->pos < rd->cur->n) {
		prefetch_item(rd->cur, rd->pos + PREFETCH_AHEAD);
		return &rd->cur->items[rd->pos++];
	}
	if (!rd->threaded) {
		fill(rd, rd->cur);
	} else {
		pthread_mutex_lock(&rd->lock);
		if (rd->cur) {
			rd->cur->next = rd->free_list;
			rd->free_list = rd->cur;
			pthread_cond_signal(&rd->space);
		}
		while (!rd->full_head)
			pthread_cond_wait(&rd->ready, &rd->lock);
		rd->cur = rd->full_head;
		rd->full_head = rd->cur->next;
		rd->cur->next = NULL;
		if (!rd->full_head)
			rd->full_tail = NULL;
		pthread_mutex_unlock(&rd->lock);
	}
	rd->pos = 0;
	return &rd->cur->items[rd->pos++];
}

const char *reader_text(const struct reader *rd, size_t off)
{
	return off == SIZE_MAX ? NULL : (const char *)rd->cur->bytes + off;
}

uint8_t *reader_bytes(const struct reader *rd, size_t off)
{
	return off == SIZE_MAX ? NULL : rd->cur->bytes + off;
}

void reader_close(struct reader *rd)
{
	if (!rd)
		return;
	if (rd->thread_started) {
		pthread_mutex_lock(&rd->lock);
		rd->stop = true;
		pthread_cond_broadcast(&rd->space);
		pthread_mutex_unlock(&rd->lock);
		pthread_join(rd->thread, NULL);
		pthread_cond_destroy(&rd->space);
		pthread_cond_destroy(&rd->ready);
		pthread_mutex_destroy(&rd->lock);
	}
	batch_free_list(rd->full_head);
	batch_free_list(rd->free_list);
	batch_free_list(rd->cur);
	while (rd->ifs_all) {
		struct reader_iface *next = rd->ifs_all->next;

		free(rd->ifs_all);
		rd->ifs_all = next;
	}
	free(rd->ifs);
	if (rd->names_ok) {
		ht_for_each(&rd->names, name_free, NULL);
		ht_destroy(&rd->names);
	}
	free(rd);
}
