/* SPDX-License-Identifier: MIT */
#include "test.h"

#include <stdlib.h>

static struct test_case *tests_head, **tests_tail = &tests_head;

void test_register(struct test_case *tc)
{
	*tests_tail = tc;
	tests_tail = &tc->next;
}

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	int failures = 0;

	for (struct test_case *tc = tests_head; tc; tc = tc->next) {
		int failed = 0;

		char full[256];

		/* the pattern of tests/run.sh is matched against "unit/<name>", as it prints */
		snprintf(full, sizeof(full), "unit/%s", tc->name);
		if (only && !strstr(full, only))
			continue;
		tc->fn(&failed);
		printf("%s unit/%s\n", failed ? "FAIL" : "PASS", tc->name);
		fflush(stdout);
		failures += failed;
	}
	return failures ? 1 : 0;
}
