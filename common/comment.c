/* SPDX-License-Identifier: MIT */
/* The EPB comment grammar: see comment.h and docs/format.md. */
#include "comment.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int needs_escape(unsigned char c)
{
	return c <= 0x20 || c >= 0x7f || c == '%' || c == '=';
}

int pkt_comment_escape(char *dst, size_t cap, const char *src)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	if (!cap)
		return -ENOSPC;
	for (; *src; src++) {
		unsigned char c = (unsigned char)*src;

		if (needs_escape(c)) {
			if (n + 3 >= cap)
				goto nospace;
			dst[n++] = '%';
			dst[n++] = hex[c >> 4];
			dst[n++] = hex[c & 15];
		} else {
			if (n + 1 >= cap)
				goto nospace;
			dst[n++] = (char)c;
		}
	}
	dst[n] = '\0';
	return (int)n;
nospace:
	dst[n] = '\0';
	return -ENOSPC;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int pkt_comment_unescape(char *dst, size_t cap, const char *src, size_t srclen)
{
	size_t n = 0, i = 0;

	if (!cap)
		return -ENOSPC;
	while (i < srclen && src[i]) {
		char c = src[i];

		if (c == '%' && i + 2 < srclen && hexval(src[i + 1]) >= 0 &&
		    hexval(src[i + 2]) >= 0) {
			c = (char)(hexval(src[i + 1]) << 4 | hexval(src[i + 2]));
			i += 3;
		} else {
			i++;
		}
		if (n + 1 >= cap) {
			dst[n] = '\0';
			return -ENOSPC;
		}
		dst[n++] = c;
	}
	dst[n] = '\0';
	return (int)n;
}

/*
 * A cursor over the output buffer. pkt-record formats one comment per event
 * (half a million a second under a flood): no printf here, it was a tenth
 * of the recorder's CPU time.
 */
struct out {
	char *buf;
	size_t cap, len;
	int err;
};

static void put_mem(struct out *o, const char *s, size_t n)
{
	if (o->err || n >= o->cap - o->len) {
		o->err = -ENOSPC;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void put_str(struct out *o, const char *s)
{
	put_mem(o, s, strlen(s));
}

static void put_u64(struct out *o, uint64_t v, int hex)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[24];
	size_t n = sizeof(tmp);

	do {
		tmp[--n] = digits[hex ? v & 15 : v % 10];
		v = hex ? v >> 4 : v / 10;
	} while (v);
	if (hex) {
		tmp[--n] = 'x';
		tmp[--n] = '0';
	}
	put_mem(o, tmp + n, sizeof(tmp) - n);
}

/* key=value with the value percent-escaped ("-" when empty) */
static void put_escaped(struct out *o, const char *key, const char *val, int dash_if_empty)
{
	static const char hex[] = "0123456789ABCDEF";

	put_str(o, key);
	if (!*val && dash_if_empty) {
		put_mem(o, "-", 1);
		return;
	}
	for (; *val && !o->err; val++) {
		unsigned char c = (unsigned char)*val;

		if (needs_escape(c)) {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};

			put_mem(o, e, 3);
		} else {
			put_mem(o, (const char *)&c, 1);
		}
	}
}

int pkt_comment_format(char *buf, size_t cap, const struct pkt_comment *c)
{
	struct out o = {buf, cap, 0, 0};

	if (!cap)
		return -ENOSPC;
	buf[0] = '\0';
	put_escaped(&o, "hook=", c->hook, 0);
	put_str(&o, " netns=");
	put_u64(&o, c->netns, 0);
	put_escaped(&o, " if=", c->ifname, 1);
	put_str(&o, " ifindex=");
	put_u64(&o, c->ifindex, 0);
	put_str(&o, " skb=");
	put_u64(&o, c->skb, 1);
	put_str(&o, " track=");
	put_u64(&o, c->track, 1);
	put_str(&o, " cpu=");
	put_u64(&o, c->cpu, 0);
	put_str(&o, " pid=");
	put_u64(&o, c->pid, 0);
	put_escaped(&o, " comm=", c->comm, 1);
	if (c->drop[0])
		put_escaped(&o, " drop=", c->drop, 0);
	if (c->l2_synth)
		put_str(&o, " l2=synth");
	if (c->extra[0]) {
		put_mem(&o, " ", 1);
		put_str(&o, c->extra);
	}
	if (o.err) {
		buf[0] = '\0';
		return o.err;
	}
	return (int)o.len;
}

static const char *const leading_keys[] = {"hook",  "netns", "if",  "ifindex", "skb",
					   "track", "cpu",   "pid", "comm"};
static const unsigned char leading_len[] = {4, 5, 2, 7, 3, 5, 3, 3, 4};
#define N_LEADING (sizeof(leading_keys) / sizeof(leading_keys[0]))

/* Value of a hex digit plus one, 0 for anything else. */
static const unsigned char hex_digit1[256] = {
    ['0'] = 1,	['1'] = 2,  ['2'] = 3,	['3'] = 4,  ['4'] = 5,	['5'] = 6,  ['6'] = 7,	['7'] = 8,
    ['8'] = 9,	['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/*
 * Digits only, in base 10 or 16 (no sign, blank or "0x" prefix: strtoull would
 * take them), fewer than 32 of them, and no overflow. By hand: the analyzer
 * parses a few numbers per hit, millions of hits per file.
 */
static int parse_u64(const char *s, size_t len, unsigned base, uint64_t *out)
{
	/* up to this many digits cannot overflow */
	size_t safe = base == 16 ? 16 : 19;
	uint64_t v = 0;

	if (len == 0 || len >= 32)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned d = hex_digit1[(unsigned char)s[i]] - 1u; /* not a digit: UINT_MAX */

		if (d >= base)
			return -EINVAL;
		if (i < safe)
			v = v * base + d;
		else if (__builtin_mul_overflow(v, (uint64_t)base, &v) ||
			 __builtin_add_overflow(v, d, &v))
			return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_hex(const char *s, size_t len, uint64_t *out)
{
	if (len < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -EINVAL;
	return parse_u64(s + 2, len - 2, 16, out);
}

static int parse_u32(const char *s, size_t len, uint32_t *out)
{
	uint64_t v;

	if (parse_u64(s, len, 10, &v) || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* pkt_comment_unescape of a value known to hold no NUL: a copy when nothing is escaped. */
static int value_unescape(char *dst, size_t cap, const char *val, size_t len)
{
	if (len < cap && !memchr(val, '%', len)) {
		memcpy(dst, val, len);
		dst[len] = '\0';
		return (int)len;
	}
	return pkt_comment_unescape(dst, cap, val, len);
}

/* memcmp for a few bytes, without a call */
static int same_key(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

int pkt_comment_parse(const char *s, struct pkt_comment *c)
{
	size_t field = 0, extra_len = 0;
	int bad = 0;

	memset(c, 0, sizeof(*c));
	while (*s) {
		const char *tok, *eq = NULL, *val;
		size_t toklen, keylen, vallen;

		while (*s == ' ')
			s++;
		if (!*s)
			break;
		tok = s;
		while (*s && *s != ' ' && *s != '=')
			s++;
		if (*s == '=') {
			eq = s;
			while (*s & 0xdf) /* neither NUL nor ' ' */
				s++;
		}
		toklen = (size_t)(s - tok);
		if (!eq) {
			bad = 1;
			continue;
		}
		keylen = (size_t)(eq - tok);
		val = eq + 1;
		vallen = toklen - keylen - 1;

		if (field < N_LEADING) {
			int r = 0;

			if (leading_len[field] != keylen ||
			    !same_key(leading_keys[field], tok, keylen)) {
				bad = 1;
				field = N_LEADING; /* the rest is free-form */
				goto optional;
			}
			switch (field) {
			case 0:
				r = value_unescape(c->hook, sizeof(c->hook), val, vallen);
				break;
			case 1:
				r = parse_u64(val, vallen, 10, &c->netns);
				break;
			case 2:
				r = value_unescape(c->ifname, sizeof(c->ifname), val, vallen);
				break;
			case 3:
				r = parse_u32(val, vallen, &c->ifindex);
				break;
			case 4:
				r = parse_hex(val, vallen, &c->skb);
				break;
			case 5:
				r = parse_hex(val, vallen, &c->track);
				break;
			case 6:
				r = parse_u32(val, vallen, &c->cpu);
				break;
			case 7:
				r = parse_u32(val, vallen, &c->pid);
				break;
			case 8:
				r = value_unescape(c->comm, sizeof(c->comm), val, vallen);
				break;
			}
			if (r < 0)
				bad = 1;
			field++;
			continue;
		}
	optional:
		if (keylen == 4 && memcmp(tok, "drop", 4) == 0) {
			if (value_unescape(c->drop, sizeof(c->drop), val, vallen) < 0)
				bad = 1;
		} else if (keylen == 2 && memcmp(tok, "l2", 2) == 0 && vallen == 5 &&
			   memcmp(val, "synth", 5) == 0) {
			c->l2_synth = 1;
		} else if (extra_len + toklen + 2 <= sizeof(c->extra)) {
			if (extra_len)
				c->extra[extra_len++] = ' ';
			memcpy(c->extra + extra_len, tok, toklen);
			extra_len += toklen;
			c->extra[extra_len] = '\0';
		}
	}
	return (bad || field < N_LEADING) ? -EINVAL : 0;
}

int pkt_ifname_split(const char *idb_name, char *name, size_t cap, uint64_t *netns)
{
	const char *at = strrchr(idb_name, '@');
	size_t len;

	*netns = 0;
	if (!cap)
		return -ENOSPC;
	if (!at || parse_u64(at + 1, strlen(at + 1), 10, netns) < 0) {
		snprintf(name, cap, "%s", idb_name);
		*netns = 0;
		return -EINVAL;
	}
	len = (size_t)(at - idb_name);
	if (len >= cap)
		len = cap - 1;
	memcpy(name, idb_name, len);
	name[len] = '\0';
	return 0;
}
