/* SPDX-License-Identifier: MIT */
/*
 * The trace format of pkt-record, in one place (docs/format.md): a hop (one
 * tracepoint hit) and its pcapng blocks, both ways.
 *
 * - The EPB comment grammar: space-separated key=value pairs, the first nine
 *   always in this order,
 *
 *     hook=net:netif_rx netns=4026532328 if=eth0 ifindex=7 skb=0xffff... \
 *     track=0x2a cpu=1 pid=2570 comm=ping [drop=NETFILTER_DROP] [l2=synth] ...
 *
 *   Values are percent-escaped: '%', ' ', '=', and bytes outside 0x21..0x7e
 *   become %XX, so a value never contains a space. One key table (trace.c)
 *   drives formatting, parsing, anonymization and the export's key filter.
 * - The IDB of a hop: if_name "IFNAME@NETNS", if_description "netns N
 *   ifindex N host NAME"; one function builds each, one parses each back.
 * - The writer: SHB, IDBs, EPBs and ISBs for pkt-record and for
 *   pkt-analyze --write.
 * - The decoder: a packet block and its interface back to a hop.
 *
 * Library code: never prints, never exits.
 */
#ifndef PKT_TRACE_H
#define PKT_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hashtab.h"
#include "pcapng.h"

#define PKT_HOOK_LEN   48
#define PKT_IFNAME_LEN 32 /* IFNAMSIZ is 16; room for odd foreign names */
#define PKT_COMM_LEN   32
#define PKT_DROP_LEN   64
#define PKT_LOC_LEN    96 /* "SYMBOL+0xOFF" */
#define PKT_EXTRA_LEN  256

/* ------------------------------------------------------------ the key table */

/* Every key the grammar knows; the first nine lead every comment, in this order. */
enum trace_key {
	TRACE_KEY_HOOK,
	TRACE_KEY_NETNS,
	TRACE_KEY_IF,
	TRACE_KEY_IFINDEX,
	TRACE_KEY_SKB,
	TRACE_KEY_TRACK,
	TRACE_KEY_CPU,
	TRACE_KEY_PID,
	TRACE_KEY_COMM,
	TRACE_KEY_DROP,
	TRACE_KEY_L2,
	TRACE_KEY_HEAD,
	TRACE_KEY_LOC,
	TRACE_KEY_PROTO,
	/*
	 * The keys of the optional hooks (docs/format.md): formatted by
	 * pkt-record into extra, parsed back into extra; the table knows
	 * their form for --write --anonymize and trace_extra_get().
	 */
	TRACE_KEY_ICMP, /* first of them */
	TRACE_KEY_TCP_STATE,
	TRACE_KEY_RC,
	TRACE_KEY_RMEM,
	TRACE_KEY_RCVBUF,
	TRACE_KEY_QDISC,
	TRACE_KEY_FIB_TABLE,
	TRACE_KEY_FIB_ERR,
	TRACE_KEY_FIB_OIF,
	TRACE_KEY_FIB_GW,
	TRACE_KEY_SADDR,
	TRACE_KEY_DADDR,
	TRACE_KEY_L4PROTO,
	TRACE_KEY_SPORT,
	TRACE_KEY_DPORT,
	TRACE_KEY_NEIGH,
	TRACE_KEY_NEIGH_STATE,
	TRACE_KEY_NEIGH_DEAD,
	TRACE_KEY_COUNT,
	TRACE_KEY_UNKNOWN = TRACE_KEY_COUNT,
};
#define TRACE_LEADING_KEYS 9

enum trace_value_type {
	TRACE_VAL_STR,	  /* percent-escaped text */
	TRACE_VAL_DEC,	  /* decimal number */
	TRACE_VAL_HEX,	  /* 0x + hex digits */
	TRACE_VAL_SYNTH,  /* the word "synth" */
	TRACE_VAL_SYMOFF, /* SYMBOL+0xOFF, percent-escaped text */
	TRACE_VAL_SDEC,	  /* decimal number, '-' for a negative one */
};

/* What --anonymize does with a key's value. */
enum trace_anon_action {
	TRACE_ANON_KEEP,      /* no address, no secret: copied */
	TRACE_ANON_PSEUDONYM, /* a kernel address (KASLR): replaced by a keyed pseudonym */
};

struct trace_key_info {
	const char *name;
	uint8_t name_len;
	const char *prefix; /* " name=", as the formatter writes it (one copy: it is hot) */
	uint8_t prefix_len;
	enum trace_value_type type;
	bool leading;	  /* one of the nine, at position = its enum value */
	bool export_keep; /* pkt-analyze --write --anonymize keeps it (unknown keys: never) */
	enum trace_anon_action anon;
};

extern const struct trace_key_info trace_keys[TRACE_KEY_COUNT];

/* The key of name[0..len), or TRACE_KEY_UNKNOWN. */
enum trace_key trace_key_lookup(const char *name, size_t len);

/* ------------------------------------------------------------ the hop */

struct trace_hop {
	/* the comment's keys */
	char hook[PKT_HOOK_LEN];     /* "net:netif_rx" */
	uint64_t netns;		     /* namespace inode */
	char ifname[PKT_IFNAME_LEN]; /* "eth0"; "" when there is no device (written "-") */
	uint32_t ifindex;
	uint64_t skb;	/* kernel address */
	uint64_t track; /* tracking id */
	uint32_t cpu;
	uint32_t pid;
	char comm[PKT_COMM_LEN];
	char drop[PKT_DROP_LEN]; /* optional: drop reason name, "" if absent */
	bool l2_synth;		 /* optional: l2=synth */
	bool has_head;
	uint64_t head;	       /* optional: skb->head, the data buffer (clones share it) */
	char loc[PKT_LOC_LEN]; /* optional: SYMBOL+0xOFF where the skb was freed, "" if absent */
	bool has_proto;
	uint16_t proto; /* optional: skb->protocol when the snapshot's ethertype differs */
	char extra[PKT_EXTRA_LEN]; /* other optional pairs, verbatim, space-separated */
	/*
	 * An event with no packet (hooks.def kind CAUSE, a pcapng event block):
	 * its comment leads with hook netns [if ifindex] [track] cpu pid comm,
	 * no skb; track only when has_track (the sk_buff it concerns).
	 */
	bool is_event;

	/* the packet */
	uint64_t ts_ns; /* wall clock */
	uint8_t dir;	/* PCAPNG_DIR_* */
	bool has_packetid;
	uint64_t packetid;
	const uint8_t *data;
	uint32_t caplen, origlen;

	/* how it was decoded (trace_hop_decode) */
	bool ours;	/* the comment followed the grammar */
	bool has_netns; /* from the comment or an IFNAME@NETNS interface name */
	bool has_track; /* from the comment or the packet id */
};

/* ------------------------------------------------------------ the comment */

/* Format the hop's comment keys into buf. Returns the length or -ENOSPC (buf is then ""). */
int trace_comment_format(char *buf, size_t cap, const struct trace_hop *hop);

/*
 * Parse a comment into the hop's comment keys (the other fields are left
 * alone). Returns 0 when the nine leading keys were found in order (a
 * pkt-record comment), -EINVAL otherwise (the keys that parsed are set, the
 * rest zero, the strings empty). Known optional keys with a value out of
 * their form, and unknown ones, go to extra verbatim. Never reads past the
 * NUL.
 */
int trace_comment_parse(const char *s, struct trace_hop *hop);

/*
 * Parse an event's comment (trace_hop.is_event): the keys it leads with in
 * any order, each once, the rest as trace_comment_parse() does. Returns 0
 * when hook= and netns= were there, -EINVAL otherwise.
 */
int trace_event_parse(const char *s, struct trace_hop *hop);

/*
 * The raw (still escaped) value of key k in a comment or in a hop's extra:
 * 1 with *val and *len set, 0 when absent.
 */
int trace_extra_get(const char *s, enum trace_key k, const char **val, size_t *len);

/* Percent-escape src into dst (NUL-terminated). Returns length or -ENOSPC. */
int trace_escape(char *dst, size_t cap, const char *src);
/* Undo trace_escape; malformed escapes are kept literally. Returns length or -ENOSPC. */
int trace_unescape(char *dst, size_t cap, const char *src, size_t srclen);

/* One key=value pair of a comment, as the tokenizer sees it. */
struct trace_pair {
	const char *token; /* "key=value" */
	size_t token_len;
	const char *value;
	size_t value_len;
	enum trace_key key;
	size_t key_len;
};

/*
 * The tokenizer: the next pair at *s (spaces between pairs skipped), *s
 * moved past it. Returns 1 with a pair, 0 at the end, -EINVAL for a token
 * without '=' or with an empty key (*s is moved past it too).
 */
int trace_comment_next(const char **s, struct trace_pair *p);

/*
 * Keep only the pairs the key table keeps for export, with a value of their
 * key's type: a known optional key out of form is dropped, a leading one
 * makes the comment -EINVAL.
 */
#define TRACE_REWRITE_KEEP_KNOWN 0x1

/*
 * Rewrite a pkt-record comment: the values of TRACE_ANON_PSEUDONYM keys
 * (wherever they appear, leading or repeated) become pseudonym(ctx, value)
 * when pseudonym is given; with TRACE_REWRITE_KEEP_KNOWN only the keys the
 * table keeps for export stay; every other pair is copied. Returns 0,
 * -EINVAL when in is not a pkt-record comment (the nine leading keys in
 * order, addresses in hex: free text of other writers may hold anything,
 * the caller should drop it), -ENOSPC. On error out is "" (cap > 0).
 */
int trace_comment_rewrite(const char *in, char *out, size_t cap, unsigned flags,
			  uint64_t (*pseudonym)(void *ctx, uint64_t addr), void *ctx);

/* ------------------------------------------------------------ the interface */

/* if_name of a hop's IDB: "IFNAME@NETNS" ("-" for no device). Returns length or -ENOSPC. */
int trace_if_name(char *buf, size_t cap, const char *ifname, uint64_t netns);
/* Split "eth0@4026532328" into name and netns; returns 0 if it had that form. */
int trace_if_name_split(const char *if_name, char *name, size_t cap, uint64_t *netns);

/* if_description of a hop's IDB: "netns N ifindex N host NAME". Returns length or -ENOSPC. */
int trace_if_description(char *buf, size_t cap, uint64_t netns, uint32_t ifindex, const char *host,
			 const char *attrs);
/*
 * Parse "netns N ifindex N [key=value ...] host H" (attrs NULL or "": none).
 * host points into d, to its end. Returns 0 or -EINVAL.
 */
int trace_if_description_parse(const char *d, uint64_t *netns, uint32_t *ifindex,
			       const char **host);

/* The key=value words of an interface description (docs/format.md). */
struct trace_if_attrs {
	char netns_name[64];   /* "" when the recorder knew no name */
	char netns_kind[16];   /* host, netns, container, pod, process */
	char kind[16];	       /* veth, bridge, vxlan... */
	uint32_t link_ifindex; /* veth peer, parent or underlay; 0: none */
	uint64_t link_netns;   /* 0: unknown */
	uint32_t master;       /* bridge/bond master, same namespace */
	uint32_t vni;
	bool has_vni;
};
/* Every known key=value word of a description; unknown ones are skipped. */
void trace_if_attrs_parse(const char *d, struct trace_if_attrs *a);
/*
 * "netns_name=pkt-a-1 netns_kind=netns kind=veth peer=12@4026531993 master=5
 * vni=42", each word only when known (peer= for a veth, link= otherwise,
 * "@?" when the other namespace is unknown). Returns length or -ENOSPC.
 */
int trace_if_attrs_format(char *buf, size_t cap, const struct trace_if_attrs *a);

/* ------------------------------------------------------------ the writer */

struct trace_section {
	const char *app;     /* "pkt-record": shb_userappl = "APP VERSION" */
	bool hardware;	     /* shb_hardware = uname -m */
	const char *comment; /* opt_comment as is, or NULL: then built from host and filter */
	const char *host;    /* host=, and the host of the hops' IDB descriptions */
	const char *filter;  /* filter= (NULL: none) */
	uint32_t snaplen;    /* of the IDBs made for hops */
	/*
	 * What else to say of a hop's interface in its description: key=value
	 * words (namespace name, relations; docs/format.md). Returns their
	 * length, 0 for none. NULL: nothing.
	 */
	int (*describe)(void *ctx, uint64_t netns, uint32_t ifindex, char *buf, size_t cap);
	void *describe_ctx;
};

/* One IDB of the output and its counters. */
struct trace_iface {
	struct ht_node node; /* in the writer's table of hop interfaces */
	uint64_t netns;	     /* hop interfaces: the key */
	uint32_t ifindex;
	char ifname[PKT_IFNAME_LEN];
	uint32_t id;		 /* index in the section */
	uint64_t recv;		 /* EPBs written on it */
	uint64_t ifdrop, osdrop; /* carried to its ISB */
	struct trace_lead *lead; /* trace_writer_hop's comment leads here (trace.c), or NULL */
};

struct trace_writer;

/* Write the SHB at once. Does not own z: the caller flushes and closes it. */
/*
 * The host name of a section header's opt_comment ("host=H filter=F", as
 * trace_writer_open writes it), unescaped into host. Returns 0, -ENOENT when
 * the comment names no host, -ENOSPC when it does not fit.
 */
int trace_section_host(const char *comment, char *host, size_t cap);
int trace_writer_open(struct trace_writer **w, struct zout *z, const struct trace_section *sec,
		      char *err, size_t errlen);

/*
 * pkt-record: write a hop as an EPB, with its comment, on the IDB of its
 * (netns, ifindex, ifname), written first when it is new.
 */
int trace_writer_hop(struct trace_writer *w, const struct trace_hop *hop);

/* An event (hop->is_event) as a pcapng event block, its comment the text. */
int trace_writer_event(struct trace_writer *w, const struct trace_hop *hop);

/* pkt-analyze --write: an IDB as given (another writer's, kept), always a new one. */
int trace_writer_iface(struct trace_writer *w, const struct pcapng_idb_info *idb,
		       struct trace_iface **out);
/* pkt-analyze --write: an EPB on f, the comment verbatim (NULL: none). */
int trace_writer_packet(struct trace_writer *w, struct trace_iface *f,
			const struct pcapng_epb_info *epb);

struct trace_isb_opts {
	uint64_t ts_ns; /* the ISBs' timestamp */
	/*
	 * pkt-record: start and end time, ifrecv, osdrop 0, and `lost` (which
	 * cannot be attributed to an interface) as ifdrop of the first
	 * interface. Otherwise each interface's ifdrop, and osdrop when not 0.
	 */
	bool recording;
	uint64_t start_ns;
	uint64_t lost;
};

/* One ISB per interface of the section, in IDB order. */
int trace_writer_stats(struct trace_writer *w, const struct trace_isb_opts *o);
const char *trace_writer_error(const struct trace_writer *w);
/* Frees the writer (not the stream). Safe on NULL. */
void trace_writer_free(struct trace_writer *w);

/* ------------------------------------------------------------ the decoder */

/*
 * A packet block and its interface (NULL when unknown) back to a hop: the
 * packet fields, and the rest as trace_hop_identify() says. hop->data points
 * into rec (valid until the next pcapng_next()); ts_ns is 0 without one (SPB).
 */
void trace_hop_decode(struct trace_hop *hop, const struct pcapng_record *rec,
		      const struct pcapng_interface *itf);
/*
 * A pcapng event block (PCAPNG_REC_EVENT) back to an event hop (is_event,
 * no packet). Returns 0, or -EINVAL when its text is not an event's.
 */
int trace_event_decode(struct trace_hop *hop, const struct pcapng_record *rec);
/*
 * The comment keys from a comment in the grammar (hop->ours); else, for a
 * foreign capture, the interface from its IDB name (IFNAME@NETNS, the name,
 * or "ifN") and the track from the packet id. Uses hop->has_packetid and
 * packetid; comment may be NULL.
 */
void trace_hop_identify(struct trace_hop *hop, const char *comment, const char *if_name,
			uint32_t if_id);

#endif
