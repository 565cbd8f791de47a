// SPDX-License-Identifier: MIT
/* /proc/kallsyms -> sorted text symbols -> SYMBOL+0xOFF (see ksyms.h). */
#include "ksyms.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ksym {
	uint64_t addr;
	uint32_t name; /* offset into names */
};

struct ksyms {
	struct ksym *syms;
	size_t n;
	char *names; /* NUL-terminated names, back to back */
};

static int cmp_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Code only: a return address lies in text, never in data. */
static int is_text_type(char t)
{
	return t == 't' || t == 'T' || t == 'w' || t == 'W';
}

/* One line "ADDR TYPE NAME[\t[module]]" -> addr, type, name span. 0 if it has that form. */
static int parse_line(const char *p, const char *end, uint64_t *addr, char *type, const char **name,
		      size_t *name_len)
{
	uint64_t a = 0;
	int digits = 0;

	for (; p < end && *p != ' '; p++, digits++) {
		int v = *p >= '0' && *p <= '9'	 ? *p - '0'
			: *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
			: *p >= 'A' && *p <= 'F' ? *p - 'A' + 10
						 : -1;
		if (v < 0 || digits >= 16)
			return -1;
		a = a << 4 | (uint64_t)v;
	}
	if (!digits || end - p < 4 || p[0] != ' ' || p[2] != ' ')
		return -1;
	*type = p[1];
	p += 3;
	*name = p;
	while (p < end && *p != '\t' && *p != ' ')
		p++;
	*name_len = (size_t)(p - *name);
	*addr = a;
	return *name_len ? 0 : -1;
}

int ksyms_parse(struct ksyms **out, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	struct ksyms *ks = calloc(1, sizeof(*ks));
	size_t cap = 0, names_len = 0, names_cap = 0;
	int saw_address = 0;

	*out = NULL;
	if (!ks)
		return -ENOMEM;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *name;
		size_t name_len;
		uint64_t addr;
		char type;

		if (!eol)
			eol = end;
		if (!parse_line(p, eol, &addr, &type, &name, &name_len) && is_text_type(type)) {
			saw_address |= addr != 0;
			if (ks->n == cap) {
				size_t ncap = cap ? 2 * cap : 4096;
				struct ksym *s = realloc(ks->syms, ncap * sizeof(*s));

				if (!s)
					goto nomem;
				ks->syms = s;
				cap = ncap;
			}
			if (names_len + name_len + 1 > names_cap) {
				size_t ncap = names_cap ? 2 * names_cap : 65536;
				char *nn;

				while (ncap < names_len + name_len + 1)
					ncap *= 2;
				nn = realloc(ks->names, ncap);
				if (!nn)
					goto nomem;
				ks->names = nn;
				names_cap = ncap;
			}
			if (names_len > UINT32_MAX - name_len - 1)
				goto nomem;
			memcpy(ks->names + names_len, name, name_len);
			ks->names[names_len + name_len] = '\0';
			ks->syms[ks->n].addr = addr;
			ks->syms[ks->n].name = (uint32_t)names_len;
			ks->n++;
			names_len += name_len + 1;
		}
		p = eol + 1;
	}
	if (!saw_address) {
		ksyms_free(ks);
		return -ENODATA;
	}
	qsort(ks->syms, ks->n, sizeof(*ks->syms), cmp_addr);
	*out = ks;
	return 0;
nomem:
	ksyms_free(ks);
	return -ENOMEM;
}

int ksyms_load(struct ksyms **out, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	/* a /proc file has no size: read until the end */
	for (;;) {
		if (len == cap) {
			size_t ncap = cap ? 2 * cap : 1 << 20;
			char *t = realloc(text, ncap);

			if (!t) {
				rc = -ENOMEM;
				snprintf(err, errlen, "%s: out of memory", path);
				goto out;
			}
			text = t;
			cap = ncap;
		}
		size_t got = fread(text + len, 1, cap - len, f);

		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		rc = -EIO;
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	rc = ksyms_parse(out, text, len);
	if (rc == -ENODATA)
		snprintf(err, errlen, "%s shows no addresses (kernel.kptr_restrict)", path);
	else if (rc)
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
out:
	free(text);
	fclose(f);
	return rc;
}

int ksyms_format(const struct ksyms *ks, uint64_t addr, char *buf, size_t cap)
{
	size_t lo = 0, hi;
	int n;

	if (!ks || !ks->n || addr < ks->syms[0].addr)
		return -ENOENT;
	/* the last symbol at or below addr */
	hi = ks->n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	/* "%s+0x%" PRIx64 by hand: one per kfree_skb hit, a snprintf was most of its cost */
	const char *name = ks->names + ks->syms[lo].name;
	size_t len = strlen(name), digits = 1;
	uint64_t off = addr - ks->syms[lo].addr;

	while (digits < 16 && off >> (4 * digits))
		digits++;
	if (len + 3 + digits >= cap)
		return -ENOSPC;
	memcpy(buf, name, len);
	memcpy(buf + len, "+0x", 3);
	n = (int)(len + 3 + digits);
	buf[n] = '\0';
	for (size_t i = 0; i < digits; i++, off >>= 4)
		buf[n - 1 - (int)i] = "0123456789abcdef"[off & 15];
	return n;
}

void ksyms_free(struct ksyms *ks)
{
	if (!ks)
		return;
	free(ks->syms);
	free(ks->names);
	free(ks);
}
