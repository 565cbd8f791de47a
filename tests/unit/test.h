/* SPDX-License-Identifier: MIT */
/*
 * Minimal unit-test harness in the spirit of the kernel selftests: ASSERT_*
 * macros say what failed and where; each TEST prints one line
 *   PASS unit/<name>   or   FAIL unit/<name>: <file>:<line>: <what>
 * which tests/run.sh counts.
 */
#ifndef PKT_TEST_H
#define PKT_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*fn)(int *failed);
	struct test_case *next;
};

void test_register(struct test_case *tc);

#define TEST(name)                                                                                 \
	static void test_fn_##name(int *failed__);                                                 \
	static struct test_case test_case_##name = {#name, test_fn_##name, NULL};                  \
	__attribute__((constructor)) static void test_reg_##name(void)                             \
	{                                                                                          \
		test_register(&test_case_##name);                                                  \
	}                                                                                          \
	static void test_fn_##name(int *failed__)

#define TEST_FAIL_(fmt, ...)                                                                       \
	do {                                                                                       \
		printf("  %s:%d: " fmt "\n", __FILE__, __LINE__, __VA_ARGS__);                     \
		*failed__ = 1;                                                                     \
		return;                                                                            \
	} while (0)

#define ASSERT_TRUE(c, what)                                                                       \
	do {                                                                                       \
		if (!(c))                                                                          \
			TEST_FAIL_("%s: expected true: %s", what, #c);                             \
	} while (0)

#define ASSERT_EQ(a, b, what)                                                                      \
	do {                                                                                       \
		long long a__ = (long long)(a), b__ = (long long)(b);                              \
		if (a__ != b__)                                                                    \
			TEST_FAIL_("%s: %s == %lld, expected %lld", what, #a, a__, b__);            \
	} while (0)

#define ASSERT_U64_EQ(a, b, what)                                                                  \
	do {                                                                                       \
		unsigned long long a__ = (a), b__ = (b);                                           \
		if (a__ != b__)                                                                    \
			TEST_FAIL_("%s: %s == %llu, expected %llu", what, #a, a__, b__);            \
	} while (0)

#define ASSERT_OK(r, what)                                                                         \
	do {                                                                                       \
		long long r__ = (long long)(r);                                                    \
		if (r__ < 0)                                                                       \
			TEST_FAIL_("%s: %s failed with %lld", what, #r, r__);                       \
	} while (0)

#define ASSERT_STREQ(a, b, what)                                                                   \
	do {                                                                                       \
		const char *a__ = (a), *b__ = (b);                                                 \
		if (strcmp(a__, b__) != 0)                                                         \
			TEST_FAIL_("%s: %s == \"%s\", expected \"%s\"", what, #a, a__, b__);        \
	} while (0)

#define ASSERT_MEMEQ(a, b, n, what)                                                                \
	do {                                                                                       \
		if (memcmp((a), (b), (n)) != 0)                                                    \
			TEST_FAIL_("%s: %s differs from %s", what, #a, #b);                        \
	} while (0)

#endif
