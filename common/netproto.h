/* SPDX-License-Identifier: MIT */
/*
 * Protocol numbers and bounds shared by the two header walkers: the
 * dissector (dissect.c) and the anonymizer (anonymize.c), so both follow
 * the same encapsulations the same distance.
 */
#ifndef PKT_NETPROTO_H
#define PKT_NETPROTO_H

/* ethertypes (and GRE / Geneve protocol types) */
#define ETH_P_IPV4    0x0800
#define ETH_P_ARP     0x0806
#define ETH_P_8021Q   0x8100
#define ETH_P_8021AD  0x88a8
#define ETH_P_QINQ1   0x9100
#define ETH_P_IPV6    0x86dd
#define ETH_P_TEB     0x6558 /* transparent Ethernet bridging: an Ethernet frame follows */
#define ETH_P_MPLS    0x8847
#define ETH_P_MPLSMC  0x8848
#define ETH_P_PPPOES  0x8864 /* PPPoE session stage */
#define ETH_P_ERSPAN  0x88be /* ERSPAN type I and II */
#define ETH_P_ERSPAN3 0x22eb
#define ETH_P_CMD     0x8909 /* Cisco MetaData (security group tag) */

/* Cisco MetaData in GRE: 8 bytes, the next ethertype first (then version, length, option, tag) */
#define CMD_HDR_LEN 8

/* PPP protocol field */
#define PPP_IPV4   0x0021
#define PPP_IPV6   0x0057
#define PPP_MPLS   0x0281
#define PPP_MPLSMC 0x0283

/* UDP ports of encapsulations and DNS */
#define VXLAN_PORT	 4789
#define VXLAN_LINUX_PORT 8472 /* Linux's default when no dstport is given */
#define GENEVE_PORT	 6081
#define MPLS_UDP_PORT	 6635 /* RFC 7510 */
#define DNS_PORT	 53

/* bounds on what hostile input can make a walker repeat */
#define MAX_VLAN_TAGS	4
#define MAX_IPV6_EXT	16
#define MAX_MPLS_LABELS 16
#define MAX_ENCAP_DEPTH 8 /* tunnels inside tunnels the dissector follows */

#endif
