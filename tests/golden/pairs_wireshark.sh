# Golden tests: pkt-analyze's request/reply pairs against Wireshark's own
# (icmp.resp_to, icmpv6.resp_to, dns.response_to) on captures nobody here
# wrote (../shared/captures, see its SOURCES.tsv).
# Sourced by tests/run.sh after tests/lib.sh; each test_* runs in a subshell.

PAIRS_CAPTURES=$TOP_DIR/../shared/captures/foreign

# "REQUEST_FRAME REPLY_FRAME" lines, sorted: Wireshark's pairs, then ours.
_ws_pairs() {
	tshark -r "$1" -T fields -e frame.number -e icmp.resp_to -e icmpv6.resp_to \
		-e dns.response_to 2>/dev/null |
		awk -F'\t' '{ for (i = 2; i <= NF; i++) if ($i != "") { split($i, a, ","); print a[1], $1 } }' | sort -u
}

_our_pairs() {
	"$PKT_ANALYZE" --format json "$1" | python3 -c '
import json, sys
packets, pairs = {}, []
for line in sys.stdin:
    o = json.loads(line)
    if o["type"] == "packet":
        packets[o["id"]] = o
    elif o["type"] == "pair" and o["kind"] in ("icmp-echo", "icmpv6-echo", "dns"):
        pairs.append(o)
for p in pairs:
    q, a = packets[p["request_packet"]], packets[p["reply_packet"]]
    print(q["hops"][0]["event"] + 1, a["hops"][0]["event"] + 1)' | sort -u
}

# Echo and DNS pairs, ICMPv6, tunnels (VXLAN, GRE, 6in4, Teredo), several
# interfaces, SLL2: the same pairs as Wireshark, frame for frame.
test_echo_and_dns_pairs_match_wireshark() {
	command -v tshark >/dev/null || { skip "tshark not installed"; return 77; }
	[ -d "$PAIRS_CAPTURES" ] || { skip "../shared/captures not present"; return 77; }
	local f ours theirs n=0 total=0
	for f in zeek/communityid_icmp.pcap.pcapng zeek/communityid_icmp6.pcap.pcapng \
		zeek/icmp_icmp-ping.pcap.pcapng zeek/icmp_icmp6-ping.pcap.pcapng \
		zeek/dns-caa.pcap.pcapng zeek/dns-svcb.pcap.pcapng zeek/dnssec_nsec3param.pcap.pcapng \
		zeek/tunnels_vxlan.pcap.pcapng zeek/tunnels_gre-sample.pcap.pcapng \
		zeek/tunnels_ping6-in-ipv4.pcap.pcapng zeek/tunnels_Teredo.pcap.pcapng \
		zeek/pcapng-multi-interface.pcapng zeek/linux_dlt_sll2.pcap.pcapng \
		zeek/wikipedia.pcap.pcapng zeek/var-services-std-ports.pcap.pcapng; do
		[ -f "$PAIRS_CAPTURES/$f" ] || { fail "$f missing"; return 1; }
		theirs=$(_ws_pairs "$PAIRS_CAPTURES/$f")
		ours=$(_our_pairs "$PAIRS_CAPTURES/$f")
		[ -n "$theirs" ] || { fail "$f: Wireshark pairs nothing"; return 1; }
		assert_eq "$ours" "$theirs" "$f: pairs (request frame, reply frame)" || return 1
		n=$((n + $(wc -l <<<"$ours")))
		total=$((total + 1))
	done
	assert_eq "$n" 85 "pairs compared over $total captures" || return 1
}
