/* SPDX-License-Identifier: MIT */
/*
 * The trace format: the comment grammar driven by one key table, the IDB
 * name and description of a hop, the writer and the decoder. See trace.h
 * and docs/format.md.
 */
#include "trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#ifndef PKT_VERSION
#define PKT_VERSION "unknown"
#endif

/*
 * The one key table. Position in the enum = position of a leading key.
 * pkt-analyze --write --anonymize keeps only the keys whose meaning is
 * known (an unknown key's value may hold anything: an address, a host
 * name); the kernel addresses are pseudonymized wherever they appear.
 */
/* clang-format off */
#define KEY(id, str, type_, lead, keep, anon_)                                                     \
	[TRACE_KEY_##id] = {str, sizeof(str) - 1, " " str "=", sizeof(str) + 1,                    \
			    TRACE_VAL_##type_, lead, keep, TRACE_ANON_##anon_}
const struct trace_key_info trace_keys[TRACE_KEY_COUNT] = {
	KEY(HOOK,    "hook",    STR,    true,  true, KEEP),
	KEY(NETNS,   "netns",   DEC,    true,  true, KEEP),
	KEY(IF,      "if",      STR,    true,  true, KEEP),
	KEY(IFINDEX, "ifindex", DEC,    true,  true, KEEP),
	KEY(SKB,     "skb",     HEX,    true,  true, PSEUDONYM),
	KEY(TRACK,   "track",   HEX,    true,  true, KEEP),
	KEY(CPU,     "cpu",     DEC,    true,  true, KEEP),
	KEY(PID,     "pid",     DEC,    true,  true, KEEP),
	KEY(COMM,    "comm",    STR,    true,  true, KEEP),
	KEY(DROP,    "drop",    STR,    false, true, KEEP),
	KEY(L2,      "l2",      SYNTH,  false, true, KEEP),
	KEY(HEAD,    "head",    HEX,    false, true, PSEUDONYM),
	KEY(LOC,     "loc",     SYMOFF, false, true, KEEP),
	KEY(PROTO,   "proto",   HEX,    false, true, KEEP),
	KEY(ICMP,        "icmp",        STR,  false, true,  KEEP),
	KEY(TCP_STATE,   "tcp_state",   STR,  false, true,  KEEP),
	KEY(RC,          "rc",          SDEC, false, true,  KEEP),
	KEY(RMEM,        "rmem",        DEC,  false, true,  KEEP),
	KEY(RCVBUF,      "rcvbuf",      DEC,  false, true,  KEEP),
	KEY(QDISC,       "qdisc",       STR,  false, true,  KEEP),
	KEY(FIB_TABLE,   "fib_table",   DEC,  false, true,  KEEP),
	KEY(FIB_ERR,     "fib_err",     SDEC, false, true,  KEEP),
	KEY(FIB_OIF,     "fib_oif",     DEC,  false, true,  KEEP),
	/* addresses: --anonymize maps those in packets; a comment's are left out */
	KEY(FIB_GW,      "fib_gw",      STR,  false, false, KEEP),
	KEY(SADDR,       "saddr",       STR,  false, false, KEEP),
	KEY(DADDR,       "daddr",       STR,  false, false, KEEP),
	KEY(L4PROTO,     "l4proto",     DEC,  false, true,  KEEP),
	KEY(SPORT,       "sport",       DEC,  false, true,  KEEP),
	KEY(DPORT,       "dport",       DEC,  false, true,  KEEP),
	KEY(NEIGH,       "neigh",       STR,  false, false, KEEP),
	KEY(NEIGH_STATE, "neigh_state", STR,  false, true,  KEEP),
	KEY(NEIGH_DEAD,  "neigh_dead",  DEC,  false, true,  KEEP),
};
#undef KEY
/* clang-format on */

_Static_assert(TRACE_KEY_COMM + 1 == TRACE_LEADING_KEYS, "the nine leading keys come first");

/* memcmp for a few bytes, without a call */
static int same_key(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

enum trace_key trace_key_lookup(const char *name, size_t len)
{
	for (unsigned k = 0; k < TRACE_KEY_COUNT; k++)
		if (trace_keys[k].name_len == len && same_key(trace_keys[k].name, name, len))
			return (enum trace_key)k;
	return TRACE_KEY_UNKNOWN;
}

/* ------------------------------------------------------------ escaping */

/* bytes a value writes as %XX (blanks, controls, non-ASCII, '%', '='); NUL too, which ends a run */
static const unsigned char escaped_byte[256] = {
    [0 ... 0x20] = 1,
    [0x7f ... 0xff] = 1,
    ['%'] = 1,
    ['='] = 1,
};

static int needs_escape(unsigned char c)
{
	return escaped_byte[c];
}

int trace_escape(char *dst, size_t cap, const char *src)
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

int trace_unescape(char *dst, size_t cap, const char *src, size_t srclen)
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

/* "00".."99" and "00".."ff": two digits a step */
static const char dec_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";
static const char hex_pairs[513] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/*
 * A number in decimal or as 0x and lower-case hex, straight into the
 * buffer, two digits a step: the comment has seven of them per event and
 * a digit at a time was an eighth of the recorder's instructions.
 */
static void put_u64(struct out *o, uint64_t v, int hex)
{
	char *end;
	size_t n;

	if (o->err || o->cap - o->len <= 24) { /* "0x" and 16 digits, or 20 digits, and the NUL */
		o->err = -ENOSPC;
		return;
	}
	if (hex) {
		n = 2 + (size_t)(64 - __builtin_clzll(v | 1) + 3) / 4;
		end = o->buf + o->len + n;
		while (v >= 0x100) {
			end -= 2;
			memcpy(end, hex_pairs + (v & 0xff) * 2, 2);
			v >>= 8;
		}
		if (v >= 0x10) {
			end -= 2;
			memcpy(end, hex_pairs + v * 2, 2);
		} else {
			*--end = hex_pairs[v * 2 + 1];
		}
		end[-2] = '0';
		end[-1] = 'x';
	} else {
		uint64_t t = v;

		n = 1;
		while (t >= 10) {
			t /= 10;
			n++;
		}
		end = o->buf + o->len + n;
		while (v >= 100) {
			end -= 2;
			memcpy(end, dec_pairs + (v % 100) * 2, 2);
			v /= 100;
		}
		if (v >= 10) {
			end -= 2;
			memcpy(end, dec_pairs + v * 2, 2);
		} else {
			*--end = (char)('0' + v);
		}
	}
	o->len += n;
	o->buf[o->len] = '\0';
}

/*
 * A value, percent-escaped ("-" when empty and asked to). The runs that
 * need no escape go in one copy each: a name is mostly one run, and
 * copying byte by byte was an eighth of pkt-record's reader.
 */
static void put_escaped(struct out *o, const char *val, int dash_if_empty)
{
	static const char hex[] = "0123456789ABCDEF";

	if (!*val && dash_if_empty) {
		put_mem(o, "-", 1);
		return;
	}
	while (*val && !o->err) {
		size_t run = 0;

		while (!escaped_byte[(unsigned char)val[run]]) /* stops at the NUL */
			run++;
		if (run) {
			put_mem(o, val, run);
			val += run;
			continue;
		}
		unsigned char c = (unsigned char)*val++;
		char e[3] = {'%', hex[c >> 4], hex[c & 15]};

		put_mem(o, e, 3);
	}
}

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
	if (len <= safe) { /* every number we write: no overflow check per digit */
		for (size_t i = 0; i < len; i++) {
			unsigned d = hex_digit1[(unsigned char)s[i]] - 1u;

			if (d >= base)
				return -EINVAL;
			v = v * base + d;
		}
		*out = v;
		return 0;
	}
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

/* trace_unescape of a value known to hold no NUL: a copy when nothing is escaped. */
static int value_unescape(char *dst, size_t cap, const char *val, size_t len)
{
	if (len < cap && !memchr(val, '%', len)) {
		memcpy(dst, val, len);
		dst[len] = '\0';
		return (int)len;
	}
	return trace_unescape(dst, cap, val, len);
}

/* ------------------------------------------------------------ the tokenizer */

/* trace_comment_next without the key lookup (its caller may know the key). */
static int next_pair(const char **sp, struct trace_pair *p)
{
	const char *s = *sp, *tok, *eq = NULL;

	while (*s == ' ')
		s++;
	if (!*s) {
		*sp = s;
		return 0;
	}
	tok = s;
	while (*s && *s != ' ' && *s != '=')
		s++;
	if (*s == '=') {
		eq = s;
		s = strchrnul(s, ' '); /* the value ends at a blank or the end */
	}
	*sp = s;
	if (!eq || eq == tok)
		return -EINVAL;
	p->token = tok;
	p->token_len = (size_t)(s - tok);
	p->key_len = (size_t)(eq - tok);
	p->value = eq + 1;
	p->value_len = p->token_len - p->key_len - 1;
	return 1;
}

int trace_comment_next(const char **sp, struct trace_pair *p)
{
	int r = next_pair(sp, p);

	if (r > 0)
		p->key = trace_key_lookup(p->token, p->key_len);
	return r;
}

/* ------------------------------------------------------------ format */

/* " key=" from the table; the first pair has no space */
static inline void put_key(struct out *o, enum trace_key k)
{
	put_mem(o, trace_keys[k].prefix, trace_keys[k].prefix_len);
}

static inline void put_first_key(struct out *o, enum trace_key k)
{
	put_mem(o, trace_keys[k].prefix + 1, trace_keys[k].prefix_len - 1u);
}

/* an ethertype: 0x and four digits, as tcpdump and Wireshark write it */
static void put_hex16(struct out *o, uint16_t v)
{
	static const char digits[] = "0123456789abcdef";
	char e[6] = {'0',	    'x', digits[v >> 12], digits[v >> 8 & 15], digits[v >> 4 & 15],
		     digits[v & 15]};

	put_mem(o, e, sizeof(e));
}

/* An event's comment (trace_hop.is_event): no skb, a device and a track only when known. */
static int event_format(struct out *o, const struct trace_hop *hop)
{
	put_first_key(o, TRACE_KEY_HOOK);
	put_escaped(o, hop->hook, 0);
	put_key(o, TRACE_KEY_NETNS);
	put_u64(o, hop->netns, 0);
	if (hop->ifname[0]) {
		put_key(o, TRACE_KEY_IF);
		put_escaped(o, hop->ifname, 0);
		put_key(o, TRACE_KEY_IFINDEX);
		put_u64(o, hop->ifindex, 0);
	}
	if (hop->has_track && hop->track) {
		put_key(o, TRACE_KEY_TRACK);
		put_u64(o, hop->track, 1);
	}
	put_key(o, TRACE_KEY_CPU);
	put_u64(o, hop->cpu, 0);
	put_key(o, TRACE_KEY_PID);
	put_u64(o, hop->pid, 0);
	put_key(o, TRACE_KEY_COMM);
	put_escaped(o, hop->comm, 1);
	if (hop->extra[0]) {
		put_mem(o, " ", 1);
		put_str(o, hop->extra);
	}
	if (o->err) {
		o->buf[0] = '\0';
		return o->err;
	}
	return (int)o->len;
}

/*
 * In the table's order, each key's name from the table. Straight-line code:
 * pkt-record formats one comment per event, half a million a second under a
 * flood, and a loop over the table with a switch cost it a third more.
 * In three parts: the writer keeps the first and the third of its last hops
 * formatted (trace_writer_hop).
 */

/* "hook=H netns=N if=I ifindex=K": the hook's and the interface's */
static void put_lead(struct out *o, const struct trace_hop *hop)
{
	put_first_key(o, TRACE_KEY_HOOK);
	put_escaped(o, hop->hook, 0);
	put_key(o, TRACE_KEY_NETNS);
	put_u64(o, hop->netns, 0);
	put_key(o, TRACE_KEY_IF);
	put_escaped(o, hop->ifname, 1);
	put_key(o, TRACE_KEY_IFINDEX);
	put_u64(o, hop->ifindex, 0);
}

/* " skb=0x... track=0x...": the packet's */
static void put_packet(struct out *o, const struct trace_hop *hop)
{
	put_key(o, TRACE_KEY_SKB);
	put_u64(o, hop->skb, 1);
	put_key(o, TRACE_KEY_TRACK);
	put_u64(o, hop->track, 1);
}

/* " cpu=C pid=P comm=X": the task's */
static void put_task(struct out *o, const struct trace_hop *hop)
{
	put_key(o, TRACE_KEY_CPU);
	put_u64(o, hop->cpu, 0);
	put_key(o, TRACE_KEY_PID);
	put_u64(o, hop->pid, 0);
	put_key(o, TRACE_KEY_COMM);
	put_escaped(o, hop->comm, 1);
}

/* the optional pairs, then the result */
static int put_optional(struct out *o, const struct trace_hop *hop);

int trace_comment_format(char *buf, size_t cap, const struct trace_hop *hop)
{
	struct out o = {buf, cap, 0, 0};

	if (!cap)
		return -ENOSPC;
	buf[0] = '\0';
	if (hop->is_event)
		return event_format(&o, hop);
	put_lead(&o, hop);
	put_packet(&o, hop);
	put_task(&o, hop);
	return put_optional(&o, hop);
}

static int put_optional(struct out *o, const struct trace_hop *hop)
{
	if (hop->drop[0]) {
		put_key(o, TRACE_KEY_DROP);
		put_escaped(o, hop->drop, 0);
	}
	if (hop->l2_synth) {
		put_key(o, TRACE_KEY_L2);
		put_str(o, "synth");
	}
	if (hop->has_head) {
		put_key(o, TRACE_KEY_HEAD);
		put_u64(o, hop->head, 1);
	}
	if (hop->loc[0]) {
		put_key(o, TRACE_KEY_LOC);
		put_escaped(o, hop->loc, 0);
	}
	if (hop->has_proto) {
		put_key(o, TRACE_KEY_PROTO);
		put_hex16(o, hop->proto);
	}
	_Static_assert(TRACE_KEY_PROTO + 1 == TRACE_KEY_ICMP,
		       "a new hop key is formatted here (the optional hooks' keys are in extra)");
	if (hop->extra[0]) {
		put_mem(o, " ", 1);
		put_str(o, hop->extra);
	}
	if (o->err) {
		o->buf[0] = '\0';
		return o->err;
	}
	return (int)o->len;
}

/* ------------------------------------------------------------ parse */

/* SYMBOL+0xOFF: a symbol, then "+0x" and hex digits */
static int is_symoff(const char *s)
{
	const char *plus = strrchr(s, '+');
	uint64_t off;

	return plus && plus != s && parse_hex(plus + 1, strlen(plus + 1), &off) == 0;
}

/* A leading key's value into the hop; 0 or -EINVAL. */
static int parse_leading(struct trace_hop *hop, enum trace_key k, const char *val, size_t len)
{
	switch (k) {
	case TRACE_KEY_HOOK:
		return value_unescape(hop->hook, sizeof(hop->hook), val, len) < 0 ? -EINVAL : 0;
	case TRACE_KEY_NETNS:
		return parse_u64(val, len, 10, &hop->netns);
	case TRACE_KEY_IF:
		return value_unescape(hop->ifname, sizeof(hop->ifname), val, len) < 0 ? -EINVAL : 0;
	case TRACE_KEY_IFINDEX:
		return parse_u32(val, len, &hop->ifindex);
	case TRACE_KEY_SKB:
		return parse_hex(val, len, &hop->skb);
	case TRACE_KEY_TRACK:
		return parse_hex(val, len, &hop->track);
	case TRACE_KEY_CPU:
		return parse_u32(val, len, &hop->cpu);
	case TRACE_KEY_PID:
		return parse_u32(val, len, &hop->pid);
	case TRACE_KEY_COMM:
		return value_unescape(hop->comm, sizeof(hop->comm), val, len) < 0 ? -EINVAL : 0;
	default:
		return -EINVAL;
	}
}

/*
 * A known optional key's value into the hop: 0, or -EINVAL when it is out
 * of its form or given twice (the caller keeps the pair verbatim in extra,
 * so that nothing is lost and our own comments format back byte for byte).
 */
static int parse_optional(struct trace_hop *hop, enum trace_key k, const char *val, size_t len)
{
	uint64_t v;

	switch (k) {
	case TRACE_KEY_DROP:
		if (hop->drop[0])
			return -EINVAL;
		if (value_unescape(hop->drop, sizeof(hop->drop), val, len) <= 0) {
			hop->drop[0] = '\0';
			return -EINVAL;
		}
		return 0;
	case TRACE_KEY_L2:
		if (hop->l2_synth || len != 5 || memcmp(val, "synth", 5))
			return -EINVAL;
		hop->l2_synth = true;
		return 0;
	case TRACE_KEY_HEAD:
		if (hop->has_head || parse_hex(val, len, &hop->head))
			return -EINVAL;
		hop->has_head = true;
		return 0;
	case TRACE_KEY_LOC:
		if (hop->loc[0])
			return -EINVAL;
		if (value_unescape(hop->loc, sizeof(hop->loc), val, len) <= 0 ||
		    !is_symoff(hop->loc)) {
			hop->loc[0] = '\0';
			return -EINVAL;
		}
		return 0;
	case TRACE_KEY_PROTO:
		/* exactly as formatted: 0x and four digits */
		if (hop->has_proto || len != 6 || parse_hex(val, len, &v) || v > 0xffff)
			return -EINVAL;
		hop->proto = (uint16_t)v;
		hop->has_proto = true;
		return 0;
	default:
		return -EINVAL;
	}
}

/* extra += the pair verbatim, when it fits */
static void extra_append(struct trace_hop *hop, size_t *extra_len, const struct trace_pair *p)
{
	if (*extra_len + p->token_len + 2 <= sizeof(hop->extra)) {
		if (*extra_len)
			hop->extra[(*extra_len)++] = ' ';
		memcpy(hop->extra + *extra_len, p->token, p->token_len);
		*extra_len += p->token_len;
		hop->extra[*extra_len] = '\0';
	}
}

/*
 * Every field before ts_ns, the strings by their first byte: they are read
 * as strings, and their 560 bytes cleared whole were a tenth of a parse.
 */
static void clear_keys(struct trace_hop *hop)
{
	hop->hook[0] = hop->ifname[0] = hop->comm[0] = '\0';
	hop->drop[0] = hop->loc[0] = hop->extra[0] = '\0';
	hop->netns = hop->skb = hop->track = hop->head = 0;
	hop->ifindex = hop->cpu = hop->pid = 0;
	hop->proto = 0;
	hop->l2_synth = hop->has_head = hop->has_proto = hop->is_event = false;
}

/*
 * A number of at most safe digits in base, ended by a blank or the end: one
 * pass that finds the end as it reads. 0 and *sp past it, or -1 with *sp
 * unmoved when it is anything else (the general parse then says what).
 */
static inline int take_digits(const char **sp, unsigned base, size_t safe, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;
	unsigned d;

	while ((d = hex_digit1[(unsigned char)*s] - 1u) < base)
		v = v * base + d, s++;
	if ((*s != ' ' && *s) || s == *sp || (size_t)(s - *sp) > safe)
		return -1;
	*sp = s;
	*out = v;
	return 0;
}

/*
 * 16 lowercase hex digits (an address as pkt-record writes it) ended by a
 * blank or the end, 8 at a time: 0 and *sp past them. Anything else: the
 * digit by digit take_digits(), which gives the same for these.
 */
static inline int take_hex16(const char **sp, const char *end, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;

	if (end - s >= 16 && (s[16] == ' ' || !s[16])) {
		for (int half = 0; half < 2; half++) {
			uint64_t x, letter, d, again;

			memcpy(&x, s + 8 * half, 8); /* the first digit in the low byte */
			letter = (x & 0x4040404040404040ull) >> 6; /* 'a'-'f' have 0x40 */
			d = (x & 0x0f0f0f0f0f0f0f0full) + letter * 9;
			/* each byte's digit written back must be the byte, and below 16 */
			again = d + 0x3030303030303030ull +
				(((d + 0x0606060606060606ull) & 0x1010101010101010ull) >> 4) * 0x27;
			if (again != x || ((d + 0x7070707070707070ull) & 0x8080808080808080ull))
				return take_digits(sp, 16, 16, out);
			/* pairs, quads, then the eight: the first digit the most significant */
			d = ((d << 4) + (d >> 8)) & 0x00ff00ff00ff00ffull;
			d = ((d << 8) + (d >> 16)) & 0x0000ffff0000ffffull;
			d = ((d << 16) + (d >> 32)) & 0xffffffffull;
			v = v << 32 | d;
		}
		*sp = s + 16;
		*out = v;
		return 0;
	}
	return take_digits(sp, 16, 16, out);
}

/* the literal lit at s, all of it before end (nothing read past the NUL) */
#define LITERAL_AT(s, end, lit)                                                                    \
	((size_t)((end) - (s)) >= sizeof(lit) - 1 && !memcmp((s), (lit), sizeof(lit) - 1))

/*
 * The nine leading keys as pkt-record writes them ("hook=... netns=..." with
 * one blank between): each key compared where it must stand and its value
 * read in the same pass. Returns how many it took, s moved past them; the
 * general loop takes over at the first that is written any other way, and
 * parses it exactly as it would have from the start.
 */
/* where a value may end, or needs unescaping */
static const unsigned char value_stop[256] = {[0] = 1, [' '] = 1, ['%'] = 1};

/* Leading key field's " name=" (no blank for the first) at s: its length, or 0. */
static inline size_t leading_key_at(const char *s, const char *end, size_t field)
{
	/* literals, so that each compare is a load or two */
	switch (field) {
	case TRACE_KEY_HOOK:
		return LITERAL_AT(s, end, "hook=") ? 5 : 0;
	case TRACE_KEY_NETNS:
		return LITERAL_AT(s, end, " netns=") ? 7 : 0;
	case TRACE_KEY_IF:
		return LITERAL_AT(s, end, " if=") ? 4 : 0;
	case TRACE_KEY_IFINDEX:
		return LITERAL_AT(s, end, " ifindex=") ? 9 : 0;
	case TRACE_KEY_SKB:
		return LITERAL_AT(s, end, " skb=") ? 5 : 0;
	case TRACE_KEY_TRACK:
		return LITERAL_AT(s, end, " track=") ? 7 : 0;
	case TRACE_KEY_CPU:
		return LITERAL_AT(s, end, " cpu=") ? 5 : 0;
	case TRACE_KEY_PID:
		return LITERAL_AT(s, end, " pid=") ? 5 : 0;
	case TRACE_KEY_COMM:
		return LITERAL_AT(s, end, " comm=") ? 6 : 0;
	default:
		return 0;
	}
}

static size_t parse_leading_fast(const char **sp, const char *str_end, struct trace_hop *hop)
{
	const char *s = *sp;
	size_t field;

	for (field = 0; field < TRACE_LEADING_KEYS; field++) {
		const struct trace_key_info *ki = &trace_keys[field];
		size_t key_len = leading_key_at(s, str_end, field);
		const char *v = s + key_len, *end = v;
		uint64_t x;

		if (!key_len)
			break;
		if (field)
			s++; /* where the general loop would take it up: at the key */
		switch (ki->type) {
		case TRACE_VAL_STR: {
			char *dst = field == TRACE_KEY_HOOK ? hop->hook
				    : field == TRACE_KEY_IF ? hop->ifname
							    : hop->comm;
			size_t cap = field == TRACE_KEY_HOOK ? sizeof(hop->hook)
				     : field == TRACE_KEY_IF ? sizeof(hop->ifname)
							     : sizeof(hop->comm);

			/* its end found by one table; an escape or a long one: value_unescape */
			size_t n = 0;

			while (!value_stop[(unsigned char)v[n]])
				n++;
			end = v + n;
			if (v[n] != '%' && n < cap) {
				memcpy(dst, v, n);
				dst[n] = '\0';
			} else {
				end = strchrnul(end, ' ');
				if (value_unescape(dst, cap, v, (size_t)(end - v)) < 0)
					goto out;
			}
			break;
		}
		case TRACE_VAL_DEC:
			if (take_digits(&end, 10, field == TRACE_KEY_NETNS ? 19 : 9, &x))
				goto out;
			if (field == TRACE_KEY_NETNS)
				hop->netns = x;
			else if (field == TRACE_KEY_IFINDEX)
				hop->ifindex = (uint32_t)x;
			else if (field == TRACE_KEY_CPU)
				hop->cpu = (uint32_t)x;
			else
				hop->pid = (uint32_t)x;
			break;
		case TRACE_VAL_HEX:
			if (v[0] != '0' || (v[1] != 'x' && v[1] != 'X'))
				goto out;
			end = v + 2;
			if (take_hex16(&end, str_end, &x))
				goto out;
			if (field == TRACE_KEY_SKB)
				hop->skb = x;
			else
				hop->track = x;
			break;
		default:
			goto out;
		}
		s = end;
	}
out:
	/* a value left half-read is read again, from its key on */
	*sp = s;
	return field;
}

int trace_comment_parse(const char *s, struct trace_hop *hop)
{
	size_t field = 0, extra_len = 0;
	const char *str_end = s + strlen(s);
	struct trace_pair p;
	int bad = 0, r;

	clear_keys(hop);
	field = parse_leading_fast(&s, str_end, hop);
	for (;;) {
		/* head=0x..., on every hit of pkt-record's: no lookup */
		if (field == TRACE_LEADING_KEYS && !hop->has_head &&
		    LITERAL_AT(s, str_end, " head=0x")) {
			const char *e = s + 8;

			if (take_hex16(&e, str_end, &hop->head) == 0) {
				hop->has_head = true;
				s = e;
				continue;
			}
		}
		if ((r = next_pair(&s, &p)) == 0)
			break;
		if (r < 0) {
			bad = 1;
			continue;
		}
		if (field < TRACE_LEADING_KEYS) {
			/* the expected key first: it is the one, in our own comments */
			const struct trace_key_info *ki = &trace_keys[field];

			if (ki->name_len != p.key_len || !same_key(ki->name, p.token, p.key_len)) {
				bad = 1;
				field = TRACE_LEADING_KEYS; /* the rest is free-form */
			} else {
				if (parse_leading(hop, (enum trace_key)field, p.value,
						  p.value_len) < 0)
					bad = 1;
				field++;
				continue;
			}
		}
		p.key = trace_key_lookup(p.token, p.key_len); /* the leading keys need none */
		if (p.key != TRACE_KEY_UNKNOWN && !trace_keys[p.key].leading &&
		    parse_optional(hop, p.key, p.value, p.value_len) == 0)
			continue;
		extra_append(hop, &extra_len, &p);
	}
	return (bad || field < TRACE_LEADING_KEYS) ? -EINVAL : 0;
}

int trace_event_parse(const char *s, struct trace_hop *hop)
{
	unsigned seen = 0;
	size_t extra_len = 0;
	struct trace_pair p;
	int r, bad = 0;

	clear_keys(hop);
	hop->is_event = true;
	while ((r = trace_comment_next(&s, &p)) != 0) {
		if (r < 0) {
			bad = 1;
			continue;
		}
		if (p.key != TRACE_KEY_UNKNOWN && p.key != TRACE_KEY_SKB &&
		    trace_keys[p.key].leading) {
			if (seen & 1u << p.key ||
			    parse_leading(hop, p.key, p.value, p.value_len) < 0) {
				bad = 1;
				continue;
			}
			seen |= 1u << p.key;
			continue;
		}
		if (p.key != TRACE_KEY_UNKNOWN && !trace_keys[p.key].leading &&
		    parse_optional(hop, p.key, p.value, p.value_len) == 0)
			continue;
		extra_append(hop, &extra_len, &p);
	}
	hop->has_track = seen & 1u << TRACE_KEY_TRACK;
	if (!strcmp(hop->ifname, "-"))
		hop->ifname[0] = '\0';
	if (bad || !(seen & 1u << TRACE_KEY_HOOK) || !(seen & 1u << TRACE_KEY_NETNS))
		return -EINVAL;
	return 0;
}

int trace_extra_get(const char *s, enum trace_key k, const char **val, size_t *len)
{
	struct trace_pair p;
	int r;

	if (!s || k >= TRACE_KEY_COUNT)
		return 0;
	while ((r = trace_comment_next(&s, &p)) != 0)
		if (r > 0 && p.key == k) {
			*val = p.value;
			*len = p.value_len;
			return 1;
		}
	return 0;
}

/* ------------------------------------------------------------ rewrite */

/* Is a raw (still escaped) value of the form its key's type says? */
static bool value_in_form(enum trace_value_type type, const char *val, size_t len)
{
	const char *plus;
	uint64_t v;

	switch (type) {
	case TRACE_VAL_DEC:
		return parse_u64(val, len, 10, &v) == 0;
	case TRACE_VAL_SDEC:
		if (len && val[0] == '-') {
			val++;
			len--;
		}
		return parse_u64(val, len, 10, &v) == 0;
	case TRACE_VAL_HEX:
		return parse_hex(val, len, &v) == 0;
	case TRACE_VAL_SYNTH:
		return len == 5 && !memcmp(val, "synth", 5);
	case TRACE_VAL_SYMOFF:
		plus = len ? memrchr(val, '+', len) : NULL;
		return plus && plus != val &&
		       parse_hex(plus + 1, (size_t)(val + len - plus - 1), &v) == 0;
	case TRACE_VAL_STR:
	default:
		return true;
	}
}

int trace_comment_rewrite(const char *in, char *out, size_t cap, unsigned flags,
			  uint64_t (*pseudonym)(void *ctx, uint64_t addr), void *ctx)
{
	struct out o = {out, cap, 0, 0};
	struct trace_pair p;
	size_t field = 0;
	int r;

	if (!out || !cap)
		return -ENOSPC;
	out[0] = '\0';
	if (!in)
		return -EINVAL;
	while ((r = trace_comment_next(&in, &p)) != 0) {
		const struct trace_key_info *ki;

		if (r < 0)
			goto bad;
		ki = p.key == TRACE_KEY_UNKNOWN ? NULL : &trace_keys[p.key];
		if (field < TRACE_LEADING_KEYS) {
			if (p.key != (enum trace_key)field)
				goto bad;
			field++;
		}
		if ((flags & TRACE_REWRITE_KEEP_KNOWN) && (!ki || !ki->export_keep))
			continue;
		/* a known key whose value is not of its type could carry anything */
		if ((flags & TRACE_REWRITE_KEEP_KNOWN) &&
		    !value_in_form(ki->type, p.value, p.value_len)) {
			if (ki->leading)
				goto bad;
			continue;
		}
		if (o.len)
			put_mem(&o, " ", 1);
		if (ki && ki->anon == TRACE_ANON_PSEUDONYM && pseudonym) {
			uint64_t addr;

			if (parse_hex(p.value, p.value_len, &addr))
				goto bad;
			put_mem(&o, p.token, p.key_len + 1);
			put_u64(&o, pseudonym(ctx, addr), 1);
		} else {
			put_mem(&o, p.token, p.token_len);
		}
	}
	if (field < TRACE_LEADING_KEYS)
		goto bad;
	if (o.err) {
		out[0] = '\0';
		return o.err;
	}
	return 0;
bad:
	out[0] = '\0';
	return -EINVAL;
}

/* ------------------------------------------------------------ the interface */

int trace_if_name(char *buf, size_t cap, const char *ifname, uint64_t netns)
{
	int n = snprintf(buf, cap, "%s@%" PRIu64, ifname && ifname[0] ? ifname : "-", netns);

	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

int trace_if_name_split(const char *if_name, char *name, size_t cap, uint64_t *netns)
{
	const char *at = strrchr(if_name, '@');
	size_t len;

	*netns = 0;
	if (!cap)
		return -ENOSPC;
	if (!at || parse_u64(at + 1, strlen(at + 1), 10, netns) < 0) {
		snprintf(name, cap, "%s", if_name);
		*netns = 0;
		return -EINVAL;
	}
	len = (size_t)(at - if_name);
	if (len >= cap)
		len = cap - 1;
	memcpy(name, if_name, len);
	name[len] = '\0';
	return 0;
}

int trace_if_description(char *buf, size_t cap, uint64_t netns, uint32_t ifindex, const char *host,
			 const char *attrs)
{
	bool has_attrs = attrs && attrs[0];
	int n = snprintf(buf, cap, "netns %" PRIu64 " ifindex %" PRIu32 "%s%s host %s", netns,
			 ifindex, has_attrs ? " " : "", has_attrs ? attrs : "", host ? host : "");

	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

/* the decimal number at *p, *p moved past it */
static int take_number(const char **p, uint64_t *v)
{
	size_t n = 0;

	while ((*p)[n] >= '0' && (*p)[n] <= '9')
		n++;
	if (parse_u64(*p, n, 10, v))
		return -EINVAL;
	*p += n;
	return 0;
}

int trace_if_description_parse(const char *d, uint64_t *netns, uint32_t *ifindex, const char **host)
{
	const char *p = d;
	uint64_t idx;

	if (strncmp(p, "netns ", 6))
		return -EINVAL;
	p += 6;
	if (take_number(&p, netns) || strncmp(p, " ifindex ", 9))
		return -EINVAL;
	p += 9;
	if (take_number(&p, &idx) || idx > UINT32_MAX)
		return -EINVAL;
	/* key=value words (names, relations) stand between ifindex and host */
	while (*p == ' ' && strncmp(p, " host ", 6)) {
		const char *w = p + 1, *end = strchr(w, ' '), *eq = strchr(w, '=');

		if (!end || !eq || eq > end)
			return -EINVAL;
		p = end;
	}
	if (strncmp(p, " host ", 6) || !p[6])
		return -EINVAL;
	*ifindex = (uint32_t)idx;
	*host = p + 6;
	return 0;
}

/* "IFINDEX@NETNS" or "IFINDEX@?" */
static void parse_if_at(const char *v, size_t len, uint32_t *ifindex, uint64_t *netns)
{
	const char *at = memchr(v, '@', len);
	uint64_t x;

	*ifindex = 0;
	*netns = 0;
	if (!at || parse_u64(v, (size_t)(at - v), 10, &x) || x > UINT32_MAX)
		return;
	*ifindex = (uint32_t)x;
	if (parse_u64(at + 1, len - (size_t)(at + 1 - v), 10, netns))
		*netns = 0;
}

int trace_if_attrs_format(char *buf, size_t cap, const struct trace_if_attrs *a)
{
	char name[3 * sizeof(a->netns_name)];
	size_t len = 0;
	int n;

#define APPEND(...)                                                                                \
	do {                                                                                       \
		n = snprintf(buf + len, cap - len, __VA_ARGS__);                                   \
		if (n < 0 || (size_t)n >= cap - len)                                               \
			return -ENOSPC;                                                            \
		len += (size_t)n;                                                                  \
	} while (0)
#define SEP (len ? " " : "")

	if (!cap)
		return -ENOSPC;
	buf[0] = '\0';
	if (a->netns_name[0] && trace_escape(name, sizeof(name), a->netns_name) >= 0)
		APPEND("netns_name=%s", name);
	if (a->netns_kind[0])
		APPEND("%snetns_kind=%s", SEP, a->netns_kind);
	if (a->kind[0])
		APPEND("%skind=%s", SEP, a->kind);
	if (a->link_ifindex) {
		const char *key = !strcmp(a->kind, "veth") ? "peer" : "link";

		if (a->link_netns)
			APPEND("%s%s=%" PRIu32 "@%" PRIu64, SEP, key, a->link_ifindex,
			       a->link_netns);
		else
			APPEND("%s%s=%" PRIu32 "@?", SEP, key, a->link_ifindex);
	}
	if (a->master)
		APPEND("%smaster=%" PRIu32, SEP, a->master);
	if (a->has_vni)
		APPEND("%svni=%" PRIu32, SEP, a->vni);
#undef SEP
#undef APPEND
	return (int)len;
}

void trace_if_attrs_parse(const char *d, struct trace_if_attrs *a)
{
	memset(a, 0, sizeof(*a));
	for (const char *p = d; p && *p;) {
		const char *end = strchr(p, ' '), *eq;
		size_t len = end ? (size_t)(end - p) : strlen(p);
		uint64_t x;

		eq = memchr(p, '=', len);
		if (eq) {
			size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
			const char *v = eq + 1;

#define KEY_IS(k) (klen == sizeof(k) - 1 && !memcmp(p, k, klen))
			if (KEY_IS("netns_name"))
				trace_unescape(a->netns_name, sizeof(a->netns_name), v, vlen);
			else if (KEY_IS("netns_kind"))
				trace_unescape(a->netns_kind, sizeof(a->netns_kind), v, vlen);
			else if (KEY_IS("kind"))
				trace_unescape(a->kind, sizeof(a->kind), v, vlen);
			else if (KEY_IS("peer") || KEY_IS("link"))
				parse_if_at(v, vlen, &a->link_ifindex, &a->link_netns);
			else if (KEY_IS("master") && !parse_u64(v, vlen, 10, &x) && x <= UINT32_MAX)
				a->master = (uint32_t)x;
			else if (KEY_IS("vni") && !parse_u64(v, vlen, 10, &x) && x <= UINT32_MAX) {
				a->vni = (uint32_t)x;
				a->has_vni = true;
			}
#undef KEY_IS
		}
		if (!end)
			break;
		p = end + 1;
		if (!strncmp(p, "host ", 5))
			break; /* the host name is free text: no keys after it */
	}
}

/* ------------------------------------------------------------ the writer */

/*
 * The comment's lead ("hook=H netns=N if=I ifindex=K") of the last hooks
 * hit on one interface: it depends only on the hook and the interface, and
 * formatting it was a quarter of the comment's instructions.
 */
#define TRACE_LEAD_SLOTS 2
struct trace_lead {
	struct {
		char hook[PKT_HOOK_LEN];
		char text[256];
		uint16_t len; /* 0: empty slot */
	} slot[TRACE_LEAD_SLOTS];
	unsigned next; /* the slot to replace */
};

/* " cpu=C pid=P comm=X" of the last hop written: a flood's hits are one task's */
struct trace_task {
	uint32_t cpu, pid;
	char comm[PKT_COMM_LEN];
	char text[160];
	uint16_t len; /* 0: none yet */
};

struct trace_writer {
	struct pcapng_writer *pw;
	struct trace_task task;
	int (*describe)(void *ctx, uint64_t netns, uint32_t ifindex, char *buf, size_t cap);
	void *describe_ctx;
	uint32_t snaplen;
	char host[256];
	struct hashtab hop_ifaces; /* trace_writer_hop's IDBs by (netns, ifindex, ifname) */
	/* the same, by (netns, ifindex) only, one per slot: no hash of the name per hop */
	struct trace_iface *recent[64];
	struct trace_iface **by_id; /* every IDB of the section, by id */
	size_t nids, ids_cap;
	char err[PCAPNG_ERRLEN];
};

/* "host=H filter=F", each value escaped */
static void shb_comment(char *buf, size_t cap, const struct trace_section *sec)
{
	char host[256], filt[800];
	size_t n;

	buf[0] = '\0';
	if (sec->host) {
		trace_escape(host, sizeof(host), sec->host); /* a long name is cut */
		snprintf(buf, cap, "host=%s", host);
	}
	n = strlen(buf);
	if (sec->filter && trace_escape(filt, sizeof(filt), sec->filter) >= 0)
		snprintf(buf + n, cap - n, "%sfilter=%s", n ? " " : "", filt);
}

int trace_section_host(const char *comment, char *host, size_t cap)
{
	struct trace_pair p;
	int r;

	if (!comment || !cap)
		return -ENOENT;
	while ((r = trace_comment_next(&comment, &p)) != 0) {
		if (r < 0 || p.key_len != 4 || strncmp(p.token, "host", 4))
			continue;
		if (trace_unescape(host, cap, p.value, p.value_len) < 0)
			return -ENOSPC;
		return host[0] ? 0 : -ENOENT;
	}
	return -ENOENT;
}

int trace_writer_open(struct trace_writer **wp, struct zout *z, const struct trace_section *sec,
		      char *err, size_t errlen)
{
	char userappl[128], os[256] = "", machine[128] = "", comment[1100];
	struct trace_writer *w;
	struct utsname u;
	int rc;

	*wp = NULL;
	w = calloc(1, sizeof(*w));
	if (!w || ht_init(&w->hop_ifaces, 0)) {
		free(w);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	w->snaplen = sec->snaplen;
	w->describe = sec->describe;
	w->describe_ctx = sec->describe_ctx;
	snprintf(w->host, sizeof(w->host), "%s", sec->host ? sec->host : "");
	if (uname(&u) == 0) {
		snprintf(os, sizeof(os), "%s %s", u.sysname, u.release);
		snprintf(machine, sizeof(machine), "%s", u.machine);
	}
	snprintf(userappl, sizeof(userappl), "%s %s", sec->app, PKT_VERSION);
	if (!sec->comment)
		shb_comment(comment, sizeof(comment), sec);
	struct pcapng_shb_info shb = {
	    .userappl = userappl,
	    .os = os,
	    .hardware = sec->hardware ? machine : NULL,
	    .comment = sec->comment ? sec->comment
		       : comment[0] ? comment
				    : NULL,
	};
	rc = pcapng_writer_open(&w->pw, z, &shb, err, errlen);
	if (rc) {
		ht_destroy(&w->hop_ifaces);
		free(w);
		return rc;
	}
	*wp = w;
	return 0;
}

static int writer_fail(struct trace_writer *w, int rc)
{
	const char *m = pcapng_writer_error(w->pw);

	snprintf(w->err, sizeof(w->err), "%s", m && m[0] ? m : strerror(-rc));
	return rc;
}

/* Write an IDB and remember it by its id. */
static int add_iface(struct trace_writer *w, const struct pcapng_idb_info *idb,
		     struct trace_iface **out)
{
	struct trace_iface *f;
	int rc;

	*out = NULL;
	if (w->nids == w->ids_cap) {
		size_t cap = w->ids_cap ? w->ids_cap * 2 : 16;
		struct trace_iface **n = realloc(w->by_id, cap * sizeof(*n));

		if (!n)
			goto nomem;
		w->by_id = n;
		w->ids_cap = cap;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		goto nomem;
	rc = pcapng_write_idb(w->pw, idb, &f->id);
	if (rc) {
		free(f);
		return writer_fail(w, rc);
	}
	w->by_id[w->nids++] = f;
	*out = f;
	return 0;
nomem:
	snprintf(w->err, sizeof(w->err), "out of memory");
	return -ENOMEM;
}

int trace_writer_iface(struct trace_writer *w, const struct pcapng_idb_info *idb,
		       struct trace_iface **out)
{
	return add_iface(w, idb, out);
}

static uint64_t hop_iface_hash(uint64_t netns, uint32_t ifindex, const char *ifname)
{
	return ht_hash_str(ht_hash_add(ht_hash64(netns), ifindex), ifname);
}

/* The section's key=value words for an interface ("" when none). */
static int describe(struct trace_writer *w, const struct trace_hop *hop, char *buf, size_t cap)
{
	buf[0] = '\0';
	if (!w->describe)
		return 0;
	return w->describe(w->describe_ctx, hop->netns, hop->ifindex, buf, cap);
}

/* The IDB of a hop's (netns, ifindex, ifname), written when first seen. */
static int hop_iface(struct trace_writer *w, const struct trace_hop *hop, struct trace_iface **out)
{
	const char *ifname = hop->ifname[0] ? hop->ifname : "-";
	struct trace_iface **recent = &w->recent[(hop->ifindex * 31u + (uint32_t)hop->netns) %
						 (sizeof(w->recent) / sizeof(w->recent[0]))];
	char name[PKT_IFNAME_LEN + 24], desc[768], attrs[384];
	struct trace_iface *f = *recent;
	uint64_t h;
	int rc;

	if (f && f->netns == hop->netns && f->ifindex == hop->ifindex &&
	    !strcmp(f->ifname, ifname)) {
		*out = f;
		return 0;
	}
	h = hop_iface_hash(hop->netns, hop->ifindex, ifname);
	for (struct ht_node *n = ht_find_first(&w->hop_ifaces, h); n; n = ht_find_next(n)) {
		f = ht_entry(n, struct trace_iface, node);
		if (f->netns == hop->netns && f->ifindex == hop->ifindex &&
		    !strcmp(f->ifname, ifname)) {
			*recent = f;
			*out = f;
			return 0;
		}
	}
	if (trace_if_name(name, sizeof(name), ifname, hop->netns) < 0 ||
	    describe(w, hop, attrs, sizeof(attrs)) < 0 ||
	    trace_if_description(desc, sizeof(desc), hop->netns, hop->ifindex, w->host, attrs) <
		0) {
		snprintf(w->err, sizeof(w->err), "interface name too long");
		return -ENOSPC;
	}
	struct pcapng_idb_info idb = {
	    .linktype = PCAPNG_LINKTYPE_ETHERNET,
	    .snaplen = w->snaplen,
	    .name = name,
	    .description = desc,
	    .tsresol = 9,
	};
	rc = add_iface(w, &idb, &f);
	if (rc)
		return rc;
	f->netns = hop->netns;
	f->ifindex = hop->ifindex;
	snprintf(f->ifname, sizeof(f->ifname), "%s", ifname);
	ht_insert(&w->hop_ifaces, &f->node, h);
	*recent = f;
	*out = f;
	return 0;
}

/*
 * The lead of hop's comment on f (*len bytes), formatted when its hook is
 * not among the last seen there. NULL: out of memory or too long.
 */
static const char *hop_lead(struct trace_iface *f, const struct trace_hop *hop, size_t *len)
{
	struct trace_lead *l = f->lead;
	unsigned i;

	if (!l) {
		l = f->lead = calloc(1, sizeof(*l));
		if (!l)
			return NULL;
	}
	for (i = 0; i < TRACE_LEAD_SLOTS; i++)
		if (l->slot[i].len && !strcmp(l->slot[i].hook, hop->hook)) {
			*len = l->slot[i].len;
			return l->slot[i].text;
		}
	i = l->next;
	l->next = (i + 1) % TRACE_LEAD_SLOTS;
	struct out o = {l->slot[i].text, sizeof(l->slot[i].text), 0, 0};
	size_t hook_len = strnlen(hop->hook, sizeof(hop->hook));

	l->slot[i].len = 0;
	put_lead(&o, hop);
	if (o.err || hook_len >= sizeof(l->slot[i].hook))
		return NULL;
	memcpy(l->slot[i].hook, hop->hook, hook_len + 1);
	l->slot[i].len = (uint16_t)o.len;
	*len = o.len;
	return l->slot[i].text;
}

/* trace_comment_format's text, from the interface's lead and the last task where they fit */
static int hop_comment(struct trace_writer *w, struct trace_iface *f, const struct trace_hop *hop,
		       char *buf, size_t cap)
{
	struct trace_task *t = &w->task;
	struct out o = {buf, cap, 0, 0};
	size_t lead_len = 0;
	const char *lead = hop_lead(f, hop, &lead_len);

	if (!lead || !cap)
		return trace_comment_format(buf, cap, hop);
	if (t->len == 0 || t->cpu != hop->cpu || t->pid != hop->pid || strcmp(t->comm, hop->comm)) {
		struct out to = {t->text, sizeof(t->text), 0, 0};
		size_t comm_len = strnlen(hop->comm, sizeof(hop->comm));

		t->len = 0;
		put_task(&to, hop);
		if (to.err || comm_len >= sizeof(t->comm))
			return trace_comment_format(buf, cap, hop);
		t->cpu = hop->cpu;
		t->pid = hop->pid;
		memcpy(t->comm, hop->comm, comm_len + 1);
		t->len = (uint16_t)to.len;
	}
	buf[0] = '\0';
	put_mem(&o, lead, lead_len);
	put_packet(&o, hop);
	put_mem(&o, t->text, t->len);
	return put_optional(&o, hop);
}

int trace_writer_hop(struct trace_writer *w, const struct trace_hop *hop)
{
	char comment[PCAPNG_MAX_COMMENT];
	struct trace_iface *f;
	int rc = hop_iface(w, hop, &f), len;

	if (rc)
		return rc;
	/* a comment too long for the reader's buffer is left out, the packet is not */
	len = hop_comment(w, f, hop, comment, sizeof(comment));
	if (len < 0)
		comment[0] = '\0';
	struct pcapng_epb_info epb = {
	    .if_id = f->id,
	    .ts = hop->ts_ns,
	    .data = hop->data,
	    .caplen = hop->caplen,
	    .origlen = hop->origlen,
	    .comment = comment[0] ? comment : NULL,
	    .comment_len = len > 0 ? (size_t)len : 0,
	    .has_flags = 1,
	    .flags = hop->dir,
	    .has_packetid = hop->has_packetid,
	    .packetid = hop->packetid,
	};
	return trace_writer_packet(w, f, &epb);
}

int trace_writer_event(struct trace_writer *w, const struct trace_hop *hop)
{
	char comment[PCAPNG_MAX_COMMENT];
	int rc;

	if (trace_comment_format(comment, sizeof(comment), hop) < 0)
		return writer_fail(w, -ENOSPC);
	struct pcapng_event_info ev = {.ts_ns = hop->ts_ns, .comment = comment};

	rc = pcapng_write_event(w->pw, &ev);
	return rc ? writer_fail(w, rc) : 0;
}

int trace_writer_packet(struct trace_writer *w, struct trace_iface *f,
			const struct pcapng_epb_info *epb)
{
	struct pcapng_epb_info e = *epb;
	int rc;

	e.if_id = f->id;
	rc = pcapng_write_epb(w->pw, &e);
	if (rc)
		return writer_fail(w, rc);
	f->recv++;
	return 0;
}

int trace_writer_stats(struct trace_writer *w, const struct trace_isb_opts *o)
{
	for (size_t id = 0; id < w->nids; id++) {
		const struct trace_iface *f = w->by_id[id];
		struct pcapng_isb_info isb = {
		    .if_id = f->id,
		    .ts = o->ts_ns,
		    .has_ifdrop = 1,
		};
		int rc;

		if (o->recording) {
			isb.has_starttime = isb.has_endtime = isb.has_ifrecv = isb.has_osdrop = 1;
			isb.starttime = o->start_ns;
			isb.endtime = o->ts_ns;
			isb.ifrecv = f->recv;
			isb.ifdrop = id == 0 ? o->lost : 0;
		} else {
			isb.ifdrop = f->ifdrop;
			isb.has_osdrop = f->osdrop != 0;
			isb.osdrop = f->osdrop;
		}
		rc = pcapng_write_isb(w->pw, &isb);
		if (rc)
			return writer_fail(w, rc);
	}
	return 0;
}

const char *trace_writer_error(const struct trace_writer *w)
{
	return w ? w->err : "";
}

void trace_writer_free(struct trace_writer *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->nids; i++) {
		free(w->by_id[i]->lead);
		free(w->by_id[i]);
	}
	free(w->by_id);
	ht_destroy(&w->hop_ifaces);
	pcapng_writer_free(w->pw);
	free(w);
}

/* ------------------------------------------------------------ the decoder */

void trace_hop_identify(struct trace_hop *hop, const char *comment, const char *if_name,
			uint32_t if_id)
{
	hop->ours = comment && trace_comment_parse(comment, hop) == 0;
	if (hop->ours) {
		hop->has_netns = true;
		hop->has_track = true;
		if (!strcmp(hop->ifname, "-"))
			hop->ifname[0] = '\0';
		return;
	}
	/* A foreign capture: one hop per frame, on the interface of its IDB. */
	clear_keys(hop);
	hop->has_netns = false;
	if (if_name && if_name[0])
		hop->has_netns = trace_if_name_split(if_name, hop->ifname, sizeof(hop->ifname),
						     &hop->netns) == 0;
	else
		snprintf(hop->ifname, sizeof(hop->ifname), "if%" PRIu32, if_id);
	hop->has_track = hop->has_packetid;
	hop->track = hop->has_packetid ? hop->packetid : 0;
}

int trace_event_decode(struct trace_hop *hop, const struct pcapng_record *rec)
{
	int rc = trace_event_parse(rec->has_comment ? rec->comment : "", hop);

	hop->ts_ns = rec->ts_ns;
	hop->dir = PCAPNG_DIR_UNKNOWN;
	hop->has_packetid = false;
	hop->packetid = 0;
	hop->data = NULL;
	hop->caplen = hop->origlen = 0;
	hop->ours = rc == 0;
	hop->has_netns = rc == 0;
	return rc;
}

void trace_hop_decode(struct trace_hop *hop, const struct pcapng_record *rec,
		      const struct pcapng_interface *itf)
{
	hop->ts_ns = rec->has_ts ? rec->ts_ns : 0;
	hop->dir = rec->has_flags ? (uint8_t)(rec->flags & 3) : PCAPNG_DIR_UNKNOWN;
	hop->has_packetid = rec->has_packetid;
	hop->packetid = rec->packetid;
	hop->data = rec->data;
	hop->caplen = rec->caplen;
	hop->origlen = rec->origlen;
	trace_hop_identify(hop, rec->has_comment ? rec->comment : NULL, itf ? itf->name : NULL,
			   rec->if_id);
}
