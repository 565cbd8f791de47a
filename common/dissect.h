/* SPDX-License-Identifier: MIT */
/*
 * Packet dissection of header snapshots: Ethernet, 802.1Q/802.1ad VLAN, ARP,
 * MPLS label stacks, PPPoE sessions, IPv4, IPv6 (with extension headers),
 * ICMP, ICMPv6, TCP, UDP, DNS id (over UDP and TCP), and the inner packet of
 * VXLAN, Geneve, GRE (and ERSPAN in it), MPLS over UDP and IPIP/SIT/IP6IP6
 * when the snapshot holds it; tunnels nest up to 8 deep.
 *
 * Works on truncated snapshots: whatever layers fit are filled in and the
 * rest is flagged absent. Never reads outside [data, data+len).
 */
#ifndef PKT_DISSECT_H
#define PKT_DISSECT_H

#include <stddef.h>
#include <stdint.h>

#define PKT_ADDRSTRLEN 46 /* INET6_ADDRSTRLEN */

struct pkt_l3l4 {
	/* L3 */
	uint8_t family;		  /* 0 none, 4, 6; ARP is reported with family 4 */
	uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes */
	uint8_t ip_proto;	  /* final L4 protocol (after IPv6 ext headers) */
	uint8_t ttl;		  /* TTL / hop limit */
	uint16_t ip_id;		  /* IPv4 id; IPv6: low 16 bits of fragment id or 0 */
	uint16_t ip_len;	  /* IPv4 total length / IPv6 payload length + 40 */
	int is_fragment;	  /* non-first fragment: no L4 */
	/* L4 */
	int has_l4;
	uint16_t sport, dport;
	uint8_t tcp_flags; /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 */
	uint32_t tcp_seq, tcp_ack;
	uint16_t l4_payload_len; /* TCP/UDP payload length from IP lengths */
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id, icmp_seq; /* echo request/reply */
	int has_dns;
	uint16_t dns_id;
	int dns_is_response;
	/* Added after the first contract; appended to stay source-compatible. */
	int is_arp; /* this layer is ARP (family 4, src/dst = spa/tpa) */
	uint16_t arp_op;
	int has_nd_target; /* ICMPv6 neighbor solicitation/advertisement */
	uint8_t nd_target[16];
	int l4_truncated; /* L4 header announced but cut by the snapshot */
	uint8_t tcp_hlen; /* TCP header length in bytes */
};

struct pkt_info {
	int has_eth;
	uint8_t eth_src[6], eth_dst[6];
	uint16_t ethertype; /* after VLAN tags */
	uint16_t vlan_id;   /* outermost VLAN id, 0 if none */
	int vlan_count;

	int is_arp;
	uint16_t arp_op; /* 1 request, 2 reply */
	uint8_t arp_sha[6], arp_tha[6];
	uint8_t arp_spa[4], arp_tpa[4];

	struct pkt_l3l4 outer;
	/* encapsulation: VXLAN, GRE, IPIP... (the outermost tunnel) */
	const char *encap;  /* "vxlan", "geneve", "gre", "erspan", "mpls-udp", "ipip", "sit",
			       "ip6ip6" or NULL */
	uint32_t encap_key; /* VNI or GRE key */
	int has_inner;
	struct pkt_l3l4 inner; /* the innermost packet when tunnels nest */
	/* every VLAN id, 12 bits each, outermost lowest (up to 5 tags): flows are per stack */
	uint64_t vlan_stack;
	int encap_depth;     /* tunnels crossed to reach inner (1 = one tunnel) */
	int mpls_count;	     /* MPLS label stack entries seen */
	uint32_t mpls_label; /* the first (outermost) label */
	int has_pppoe;	     /* a PPPoE session header was crossed */
	uint16_t pppoe_session;
	/*
	 * The packet an ICMP or ICMPv6 error (destination unreachable, packet too
	 * big, time exceeded, parameter problem) quotes: its IP header and the
	 * first bytes of its transport header (ports, ICMP echo id and sequence),
	 * as far as the snapshot holds them. Quotes inside quotes are not read.
	 */
	int has_quote;
	struct pkt_l3l4 quote;
};

/*
 * linktype: pcap LINKTYPE_* (1 Ethernet, 101/12/14 raw IP, 228 IPv4, 229 IPv6, 113 Linux SLL,
 * 276 SLL2, 0 null, 108 OpenBSD loop, 9/50 PPP, 104 Cisco HDLC). Returns 0 (possibly with only some
 * layers filled), -EINVAL for NULL arguments, -EPROTONOSUPPORT for a link type it does not know
 * (out is then zeroed).
 */
int pkt_dissect(const uint8_t *data, size_t len, uint32_t linktype, struct pkt_info *out);

/* The innermost L3/L4 layer (inner if present, else outer). */
const struct pkt_l3l4 *pkt_innermost(const struct pkt_info *pi);

/* "10.0.0.1" / "fd00::1" of an address in l; "" when no L3. */
void pkt_addr_str(const struct pkt_l3l4 *l, int which_dst, char *buf, size_t cap);

/* Protocol name: "ICMP", "ICMPv6", "TCP", "UDP", "ARP", "IPv4", "IPv6", or ethertype hex. */
const char *pkt_proto_name(const struct pkt_info *pi);

/*
 * One-line human summary, e.g.
 *   "10.0.0.1 -> 10.0.0.2 ICMP echo-request id=42 seq=1"
 *   "10.0.0.1:41000 -> 10.0.0.2:80 TCP [S] seq=123"
 *   "ARP who-has 10.0.0.2 tell 10.0.0.1"
 * Returns snprintf-style length.
 */
int pkt_summary(const struct pkt_info *pi, char *buf, size_t cap);

#endif
