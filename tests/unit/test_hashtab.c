// SPDX-License-Identifier: MIT
#include "test.h"
#include "hashtab.h"

#include <stdlib.h>
#include <string.h>

struct item {
	struct ht_node node;
	uint64_t key;
	int seen;
};

static struct item *find(struct hashtab *t, uint64_t key)
{
	for (struct ht_node *n = ht_find_first(t, ht_hash64(key)); n; n = ht_find_next(n)) {
		struct item *it = ht_entry(n, struct item, node);

		if (it->key == key)
			return it;
	}
	return NULL;
}

static void mark(struct ht_node *n, void *ctx)
{
	ht_entry(n, struct item, node)->seen++;
	(*(size_t *)ctx)++;
}

TEST(hashtab_insert_find_remove_grow)
{
	enum { N = 5000 };
	struct hashtab t;
	struct item *items = calloc(N, sizeof(*items));
	size_t visited = 0;

	ASSERT_TRUE(items != NULL, "allocation");
	ASSERT_OK(ht_init(&t, 0), "ht_init");
	for (size_t i = 0; i < N; i++) {
		items[i].key = i * 7919u;
		ht_insert(&t, &items[i].node, ht_hash64(items[i].key));
	}
	ASSERT_EQ(ht_count(&t), N, "count after inserts");
	ASSERT_TRUE(t.nbuckets >= N, "the table grew");
	for (size_t i = 0; i < N; i++)
		ASSERT_TRUE(find(&t, i * 7919u) == &items[i], "every key found");
	ASSERT_TRUE(find(&t, 3) == NULL, "absent key not found");
	for (size_t i = 0; i < N; i += 2)
		ht_remove(&t, &items[i].node);
	ASSERT_EQ(ht_count(&t), N / 2, "count after removing half");
	for (size_t i = 0; i < N; i++)
		ASSERT_TRUE((find(&t, i * 7919u) != NULL) == (i % 2 == 1), "removed ones are gone");
	ht_for_each(&t, mark, &visited);
	ASSERT_EQ(visited, N / 2, "for_each visits every node once");
	for (size_t i = 0; i < N; i++)
		ASSERT_EQ(items[i].seen, i % 2, "each remaining node seen once");
	ht_destroy(&t);
	ht_destroy(&t);
	free(items);
}

TEST(hashtab_same_hash_chain)
{
	/* nodes sharing one hash are all reachable, in any order */
	struct hashtab t;
	struct item a = {.key = 1}, b = {.key = 2}, c = {.key = 3};
	int n = 0;

	ASSERT_OK(ht_init(&t, 4), "ht_init");
	ht_insert(&t, &a.node, 42);
	ht_insert(&t, &b.node, 42);
	ht_insert(&t, &c.node, 42 + 16); /* same bucket, other hash */
	for (struct ht_node *x = ht_find_first(&t, 42); x; x = ht_find_next(x))
		n++;
	ASSERT_EQ(n, 2, "two nodes of hash 42");
	ht_remove(&t, &a.node);
	ASSERT_TRUE(ht_find_first(&t, 42) == &b.node, "the other one is left");
	ASSERT_TRUE(ht_find_next(&b.node) == NULL, "and only it");
	ht_destroy(&t);
}

TEST(hashtab_hash_bytes_length_matters)
{
	const uint8_t z[16] = {0};

	ASSERT_TRUE(ht_hash_bytes(0, z, 3) != ht_hash_bytes(0, z, 4), "zero bytes of other lengths");
	ASSERT_TRUE(ht_hash_str(0, "eth0") == ht_hash_bytes(0, "eth0", 4), "str = bytes");
	ASSERT_TRUE(ht_hash_str(0, "eth0") != ht_hash_str(0, "eth1"), "names differ");
}

TEST(hashtab_hash_add16_is_two_words)
{
	/* the flow's address keys: each half and their order matter, a seed too */
	uint8_t a[16] = {10, 0, 0, 1}, b[16] = {10, 0, 0, 1};
	uint64_t lo, hi;

	memcpy(&lo, a, 8);
	memcpy(&hi, a + 8, 8);
	ASSERT_TRUE(ht_hash_add16(7, a) == ht_hash_add(ht_hash_add(7, lo), hi), "two ht_hash_add");
	ASSERT_TRUE(ht_hash_add16(7, a) == ht_hash_add16(7, b), "same bytes, same hash");
	b[15] = 1;
	ASSERT_TRUE(ht_hash_add16(7, a) != ht_hash_add16(7, b), "the last byte counts");
	memcpy(b, a + 8, 8);
	memcpy(b + 8, a, 8);
	ASSERT_TRUE(ht_hash_add16(7, a) != ht_hash_add16(7, b), "the halves' order counts");
	ASSERT_TRUE(ht_hash_add16(7, a) != ht_hash_add16(8, a), "the seed counts");
}
