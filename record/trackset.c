// SPDX-License-Identifier: MIT
/*
 * Tracking ids that matched the pcap filter once. Open addressing with
 * linear probing; an id is removed when its skb is seen freed, and ids not
 * seen for TRACK_AGE_NS are dropped when the table is rebuilt (most skbs are
 * consumed without a recorded event, so age is what bounds the memory).
 */
#include <stdlib.h>
#include <errno.h>
#include "record.h"

#define TRACK_AGE_NS (30ULL * 1000000000ULL)
#define EMPTY	     0ULL
#define TOMB	     ~0ULL

struct slot {
	uint64_t id; /* 0 empty, ~0 deleted; track ids are never 0 or ~0 */
	uint64_t seen;
};

struct trackset {
	struct slot *s;
	size_t cap, used; /* used counts live + tombstones */
};

static size_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x;
}

struct trackset *trackset_new(void)
{
	struct trackset *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cap = 1024;
	t->s = calloc(t->cap, sizeof(*t->s));
	if (!t->s) {
		free(t);
		return NULL;
	}
	return t;
}

static struct slot *find(struct trackset *t, uint64_t id)
{
	size_t m = t->cap - 1, i = hash64(id) & m;

	for (size_t n = 0; n < t->cap; n++, i = (i + 1) & m) {
		if (t->s[i].id == id)
			return &t->s[i];
		if (t->s[i].id == EMPTY)
			return NULL;
	}
	return NULL;
}

bool trackset_has(struct trackset *t, uint64_t id, uint64_t now)
{
	struct slot *s = find(t, id);

	if (!s)
		return false;
	s->seen = now;
	return true;
}

static int rebuild(struct trackset *t, uint64_t now)
{
	size_t live = 0;

	for (size_t i = 0; i < t->cap; i++)
		if (t->s[i].id != EMPTY && t->s[i].id != TOMB && now - t->s[i].seen < TRACK_AGE_NS)
			live++;
	size_t ncap = t->cap;
	while (live * 4 >= ncap)
		ncap *= 2;
	struct slot *ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		struct slot *o = &t->s[i];
		if (o->id == EMPTY || o->id == TOMB || now - o->seen >= TRACK_AGE_NS)
			continue;
		size_t j = hash64(o->id) & (ncap - 1);
		while (ns[j].id != EMPTY)
			j = (j + 1) & (ncap - 1);
		ns[j] = *o;
	}
	free(t->s);
	t->s = ns;
	t->cap = ncap;
	t->used = live;
	return 0;
}

int trackset_add(struct trackset *t, uint64_t id, uint64_t now)
{
	if (id == EMPTY || id == TOMB)
		return -EINVAL;
	if (trackset_has(t, id, now))
		return 0;
	if ((t->used + 1) * 2 > t->cap && rebuild(t, now))
		return -ENOMEM;
	size_t m = t->cap - 1, i = hash64(id) & m;
	while (t->s[i].id != EMPTY && t->s[i].id != TOMB)
		i = (i + 1) & m;
	if (t->s[i].id == EMPTY)
		t->used++;
	t->s[i].id = id;
	t->s[i].seen = now;
	return 0;
}

void trackset_del(struct trackset *t, uint64_t id)
{
	struct slot *s = find(t, id);

	if (s)
		s->id = TOMB;
}

void trackset_free(struct trackset *t)
{
	if (!t)
		return;
	free(t->s);
	free(t);
}
