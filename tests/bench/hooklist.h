/* SPDX-License-Identifier: MIT */
/* The bench's BPF builds attach only the hooks make bench names. */
#ifndef BENCH_HOOKLIST_H
#define BENCH_HOOKLIST_H

#include <string.h>

/* tp ("net_dev_queue") is one of list's group:tracepoint names */
static int listed(const char *list, const char *tp)
{
	size_t n = strlen(tp);

	for (const char *p = list; (p = strstr(p, tp)); p += n)
		if (p > list && p[-1] == ':' && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

#endif
