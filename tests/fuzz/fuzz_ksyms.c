// SPDX-License-Identifier: MIT
/*
 * Fuzz record/ksyms.c's kallsyms parser: the input is the file's text.
 * Every address a parsed table resolves must come back as NAME+0xOFF
 * within the buffer, and resolve no lower than the first symbol.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ksyms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t probes[] = {
	    0, 1, 0xffffffff81000000ull, 0xffffffff81001010ull, 0xffffffffc0000000ull, UINT64_MAX};
	char *text = malloc(size ? size : 1);
	struct ksyms *ks;
	char buf[64];
	int rc;

	if (!text)
		abort();
	memcpy(text, data, size); /* exact size: no NUL after the text */
	rc = ksyms_parse(&ks, text, size);
	if (rc && (ks || (rc != -ENODATA && rc != -ENOMEM)))
		abort();
	for (size_t i = 0; !rc && i < sizeof(probes) / sizeof(probes[0]); i++) {
		int n = ksyms_format(ks, probes[i], buf, sizeof(buf));

		if (n >= (int)sizeof(buf) || (n >= 0 && (size_t)n != strlen(buf)) ||
		    (n >= 0 && !strstr(buf, "+0x")))
			abort();
		if (n < 0 && n != -ENOENT && n != -ENOSPC)
			abort();
	}
	ksyms_free(ks);
	free(text);
	return 0;
}
