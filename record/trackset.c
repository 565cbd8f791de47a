// SPDX-License-Identifier: MIT
/*
 * Tracking ids that matched the pcap filter once, on common/hashtab. An id
 * is removed when its skb is seen freed; ids not seen for TRACK_AGE_NS are
 * swept out whenever the set has doubled since the last sweep (most skbs
 * are consumed without a recorded event, so age is what bounds the memory).
 */
#include <errno.h>
#include <stdlib.h>
#include "hashtab.h"
#include "record.h"

#define TRACK_AGE_NS	(30ULL * 1000000000ULL)
#define TRACK_MIN_SWEEP 1024 /* no sweep below this many ids */

struct track_node {
	struct ht_node node;
	uint64_t id;
	uint64_t seen; /* event time of the last hit */
};

struct trackset {
	struct hashtab ids;
	size_t sweep_at; /* sweep when the set holds this many */
};

struct trackset *trackset_new(void)
{
	struct trackset *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	if (ht_init(&t->ids, TRACK_MIN_SWEEP)) {
		free(t);
		return NULL;
	}
	t->sweep_at = TRACK_MIN_SWEEP;
	return t;
}

static struct track_node *find(const struct trackset *t, uint64_t id)
{
	for (struct ht_node *n = ht_find_first(&t->ids, ht_hash64(id)); n; n = ht_find_next(n)) {
		struct track_node *tn = ht_entry(n, struct track_node, node);

		if (tn->id == id)
			return tn;
	}
	return NULL;
}

bool trackset_has(struct trackset *t, uint64_t id, uint64_t now)
{
	struct track_node *tn = find(t, id);

	if (!tn)
		return false;
	tn->seen = now;
	return true;
}

struct sweep {
	struct trackset *t;
	uint64_t now;
};

static void sweep_one(struct ht_node *n, void *arg)
{
	struct sweep *sw = arg;
	struct track_node *tn = ht_entry(n, struct track_node, node);

	if (sw->now - tn->seen < TRACK_AGE_NS)
		return;
	ht_remove(&sw->t->ids, n); /* its own node: ht_for_each has read ->next */
	free(tn);
}

int trackset_add(struct trackset *t, uint64_t id, uint64_t now)
{
	struct track_node *tn;

	if (trackset_has(t, id, now))
		return 0;
	if (ht_count(&t->ids) >= t->sweep_at) {
		struct sweep sw = {t, now};

		ht_for_each(&t->ids, sweep_one, &sw);
		t->sweep_at = 2 * ht_count(&t->ids);
		if (t->sweep_at < TRACK_MIN_SWEEP)
			t->sweep_at = TRACK_MIN_SWEEP;
	}
	tn = malloc(sizeof(*tn));
	if (!tn)
		return -ENOMEM;
	tn->id = id;
	tn->seen = now;
	ht_insert(&t->ids, &tn->node, ht_hash64(id));
	return 0;
}

void trackset_del(struct trackset *t, uint64_t id)
{
	struct track_node *tn = find(t, id);

	if (!tn)
		return;
	ht_remove(&t->ids, &tn->node);
	free(tn);
}

size_t trackset_count(const struct trackset *t)
{
	return ht_count(&t->ids);
}

static void free_one(struct ht_node *n, void *arg)
{
	(void)arg;
	free(ht_entry(n, struct track_node, node));
}

void trackset_free(struct trackset *t)
{
	if (!t)
		return;
	ht_for_each(&t->ids, free_one, NULL);
	ht_destroy(&t->ids);
	free(t);
}
