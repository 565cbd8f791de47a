/* SPDX-License-Identifier: MIT */
/*
 * Packet anonymizer: turns a pkt-record trace into one that can be attached
 * to a public bug report (pkt-analyze --write OUT --anonymize).
 *
 * What is rewritten, consistently for one key (one run):
 *  - IPv4 and IPv6 addresses, prefix-preserving (Crypto-PAn construction:
 *    output bit i = input bit i XOR PRF(key, first i input bits), the PRF
 *    being SipHash-2-4). Two addresses sharing exactly a /n prefix map to
 *    two addresses sharing exactly a /n prefix, so subnets stay subnets.
 *    Kept recognisable: the address class (IPv4 first bits: multicast stays
 *    multicast), 0.0.0.0, 127.0.0.1, 255.255.255.255, ::, ::1, IPv4 and
 *    IPv6 multicast groups (not host identities), fe80::/10 and fc00::/7
 *    stay link-local / ULA. Exceptions inside multicast: the low 24 bits of
 *    solicited-node groups ff02::1:ffXX:XXXX (they are a host's address)
 *    and groups with the P or R flag (they embed a unicast prefix) are
 *    anonymized.
 *  - MAC addresses: unicast ones prefix-preserving over 48 bits with the
 *    group (I/G) and local (U/L) bits kept; 00:00:00:00:00:00 (our
 *    synthetic L2 header) and multicast/broadcast MACs are kept as they
 *    are, except the low 24 bits of 33:33:ff:XX:XX:XX (solicited-node).
 *  - Where they occur: Ethernet src/dst, Linux SLL/SLL2 address, ARP
 *    sha/spa/tha/tpa, IPv4/IPv6 src/dst, ICMP redirect gateway, ICMPv6 ND
 *    target/destination and options (link-layer address, prefix, RDNSS),
 *    the IP header embedded in ICMP/ICMPv6 errors, and the inner Ethernet
 *    and IP headers of VXLAN, GRE and IPIP/SIT/IP6IP6 (up to 4 levels).
 *  - Other places that can carry addresses are blanked: IPv4 options (NOP
 *    fill), IPv6 hop-by-hop/destination options (Pad1 fill) and routing
 *    header data, MPTCP ADD_ADDR options (NOP fill), unknown ND options.
 *
 * What is dropped: everything after the innermost header we understand.
 * The snapshot is cut after the innermost L4 header (TCP with options, UDP
 * 8 bytes, ICMP 8 bytes; ICMP errors keep the embedded IP header and the
 * first 8 bytes of its L4 header; ND messages keep their options), after
 * the L3 header for other protocols, after the Ethernet header for other
 * ethertypes. Payloads (DNS names included) never survive. The principle:
 * only bytes the walker has looked at and sanitized are kept; the dropped
 * tail of the buffer is zeroed too. The caller keeps the EPB original
 * length (it reveals sizes only).
 *
 * Checksums: the IPv4 header checksum is recomputed. An L4 checksum
 * (TCP, UDP, ICMP, ICMPv6) is recomputed when the whole L4 segment
 * survives the cut (e.g. a SYN, an ND message), and zeroed otherwise: the
 * old value would be wrong anyway and, over known header bytes, leaks a
 * 16-bit sum of the original addresses. A zero UDP checksum is legal for
 * IPv4 (and tunnels over IPv6); for the others it only shows as "bad
 * checksum" if the reader validates checksums of a truncated segment,
 * which Wireshark does not do by default. GRE's optional checksum is zeroed.
 *
 * Truncated snapshots: whatever fits is rewritten; an address cut by the
 * end of the snapshot is zeroed (its original prefix bytes never survive).
 *
 * Not covered (callers must handle them): the host name in the SHB comment
 * and in IDB descriptions, interface names (kept on purpose), and packets of
 * link types other than those pkt_dissect() knows (-EPROTONOSUPPORT: drop).
 *
 * Library code: never prints or exits; returns 0 or -errno.
 */
#ifndef PKT_ANONYMIZE_H
#define PKT_ANONYMIZE_H

#include <stddef.h>
#include <stdint.h>

#define PKT_ANON_KEY_LEN 32

struct pkt_anon;

/*
 * key: 32 bytes (bytes 0-15 key the IP address PRF, 16-31 the MAC and skb
 * pseudonyms), or NULL for a random key from getrandom(2): a new mapping
 * per run, so two published traces cannot be joined. Give a fixed key for
 * reproducible tests. Returns 0, -EINVAL, -ENOMEM or getrandom's -errno.
 */
int pkt_anon_new(struct pkt_anon **a, const uint8_t key[PKT_ANON_KEY_LEN]);
/* Wipes the key. NULL is fine. */
void pkt_anon_free(struct pkt_anon *a);

/*
 * Rewrite a packet snapshot in place and drop its payload. *new_caplen gets
 * the number of bytes to write (<= caplen); data[*new_caplen..caplen) is
 * zeroed. linktype: as pkt_dissect() (1, 101, 12, 14, 113, 276, 0, 108).
 * Returns 0, -EINVAL (NULL arguments) or -EPROTONOSUPPORT (unknown link
 * type: nothing can be vetted, *new_caplen = 0 and data is zeroed).
 */
int pkt_anon_packet(struct pkt_anon *a, uint8_t *data, uint32_t caplen, uint32_t linktype,
		    uint32_t *new_caplen);

/*
 * Where the headers of a packet end, by the same walk as pkt_anon_packet()
 * but without rewriting anything (data is only read): after the innermost
 * L4 header (TCP with its options, UDP 8 bytes, ICMP/ICMPv6 8 bytes, ICMP
 * errors with the quoted IP header and 8 bytes of its L4 header, ND
 * messages with their options), through VXLAN/GRE/IPIP to the inner
 * packet; after the L3 header for other IP protocols; the whole ARP message
 * (any address sizes, unlike the anonymizer which cuts what it cannot map);
 * after the link-layer header for other ethertypes. Headers cut by the end
 * of the snapshot give caplen. pkt-record --headers-only cuts there.
 * Returns 0, -EINVAL (NULL arguments) or -EPROTONOSUPPORT (unknown link
 * type, *hdr_len = 0).
 */
int pkt_headers_len(const uint8_t *data, uint32_t caplen, uint32_t linktype, uint32_t *hdr_len);

/*
 * Rewrite a pkt-record EPB comment (docs/format.md grammar) into out.
 * skb=0x... is a kernel address: it leaks the KASLR offset of the direct
 * map, so it becomes a pseudonym 0x... (a keyed permutation of its low 48
 * bits, the top 16 bits kept so it still reads like a kernel pointer): the
 * same skb gives the same pseudonym within a run, different skbs different
 * ones; so does head= (skb->head, shared by clones). The key table of
 * trace.c says which keys hold addresses. Every other pair is copied
 * unchanged: hook, netns, if, ifindex, track (a counter), cpu, drop, l2,
 * loc, proto and unknown keys.
 *
 * pid and comm are kept: they name the local process that sent or received
 * the packet, which is often the point of the bug report; the user chose
 * to record them, they are meaningless outside the recording host, and they
 * identify no one on the network (unlike addresses). A user who does not
 * want them published can drop comments altogether.
 *
 * Returns 0; -EINVAL when in is not a pkt-record comment (the nine leading
 * keys in order, skb in hex): free text from other writers may hold
 * anything, so the caller should drop it; -ENOSPC when out is too small.
 * On error out is "" (when cap > 0).
 */
int pkt_anon_comment(struct pkt_anon *a, const char *in, char *out, size_t cap);
/*
 * The same for an export (pkt-analyze --write --anonymize): and only the
 * keys whose meaning is known (trace.c's key table) are kept, since an
 * unknown key's value may hold anything.
 */
int pkt_anon_comment_export(struct pkt_anon *a, const char *in, char *out, size_t cap);

/* The mappings the packet rewriter uses, for other places (e.g. JSON). Return 0 or -EINVAL. */
int pkt_anon_ip4(struct pkt_anon *a, const uint8_t in[4], uint8_t out[4]);
int pkt_anon_ip6(struct pkt_anon *a, const uint8_t in[16], uint8_t out[16]);
int pkt_anon_mac(struct pkt_anon *a, const uint8_t in[6], uint8_t out[6]);
uint64_t pkt_anon_skb(struct pkt_anon *a, uint64_t skb);

/* SipHash-2-4 (Aumasson & Bernstein), exported for its test vectors. */
uint64_t pkt_siphash24(const uint8_t key[16], const void *msg, size_t len);

#endif
