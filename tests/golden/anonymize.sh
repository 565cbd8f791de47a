# Golden tests for pkt-analyze --anonymize: the exported file must hold no
# original address, host name, kernel address or payload, and still analyze
# like the original.
#
# Inputs (tests/golden/data):
#   record.pcapng               pkt-record style (host "golden"), synthetic
#   real-*.pcapng.zst           real pkt-record recordings (copies of samples/,
#                               host "vm"): ping across a bridge, TCP across a
#                               routed hop, an nftables drop
#   anonymize-foreign.pcapng    another writer's capture that puts addresses and
#                               the host name build-host-7.corp.example in every
#                               place pcapng allows (regenerate: gen_anonymize.py),
#                               with 3 frames on link types other than Ethernet:
#                               USER0 (147, 1 frame) the anonymizer cannot vet,
#                               LINKTYPE_IPV4 (228, 2 frames) it walks as IPv4
#   foreign.pcapng              moved by one hour (editcap -t) so that every
#                               input frame has its own timestamp
# The checks live in anonymize_check.py (see its header). Each test can fail:
# test_checks_catch_plain_export runs them on an export without --anonymize.

GOLDEN_DATA=$TESTS_DIR/golden/data
CHECK=$TESTS_DIR/golden/anonymize_check.py
FOREIGN_HOST=build-host-7.corp.example
UNVETTED=1
# tshark filter for those frames: their interfaces' names
UNVETTED_IFS='frame.interface_name == "usr0"'
KEY_HEX=6b1f0d5c2a9e4477b3c8e1f09a2d5b6c7e8f9011a2b3c4d5e6f708192a3b4c5d
KEY2_HEX=0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0

setup() {
	[ -x "$PKT_ANALYZE" ] || { echo "  reason: $PKT_ANALYZE not built" >&2; return 1; }
	WORK=$(mktemp -d)
}

teardown() {
	rm -rf "$WORK"
}

need_tools() {
	local t
	for t in tshark editcap capinfos zstd python3; do
		command -v "$t" >/dev/null || { skip "$t not installed"; return 77; }
	done
}

# INPUTS=(...), KEY file, and the anonymized export OUT with its report
# (text on stdout, warnings on stderr) and the JSON report of the same run.
prepare() {
	need_tools || return 77
	editcap -t 3600 "$GOLDEN_DATA/foreign.pcapng" "$WORK/foreign-shifted.pcapng" || return 1
	INPUTS=("$GOLDEN_DATA/record.pcapng" "$GOLDEN_DATA/real-ping-bridge.pcapng.zst"
		"$GOLDEN_DATA/real-tcp-routed.pcapng.zst" "$GOLDEN_DATA/real-drop-nft.pcapng.zst"
		"$GOLDEN_DATA/anonymize-foreign.pcapng" "$WORK/foreign-shifted.pcapng")
	KEY=$WORK/key KEY2=$WORK/key2
	echo "$KEY_HEX" >"$KEY"
	echo "$KEY2_HEX" >"$KEY2"
	OUT=$WORK/public.pcapng.zst
	"$PKT_ANALYZE" --anonymize --anonymize-key "$KEY" --write "$OUT" "${INPUTS[@]}" \
		>"$WORK/report.txt" 2>"$WORK/report.err" || { fail "exit $?"; cat "$WORK/report.err" >&2; return 1; }
	"$PKT_ANALYZE" --anonymize --anonymize-key "$KEY" --format json "${INPUTS[@]}" \
		>"$WORK/report.jsonl" 2>/dev/null || fail "--format json: exit $?"
}

json_summary() { # FILE KEY
	python3 -c 'import json,sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o["type"] == "summary":
        print(o[sys.argv[2]])' "$@"
}

nframes() { capinfos -c -M "$1" | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}'; }

# Wireshark reads the export with no malformed frame and no expert error; the
# only warning allowed is the one for IPv4 options blanked with NOPs.
test_tshark_reads_output_cleanly() {
	prepare || return $?
	tshark -r "$OUT" >"$WORK/t.txt" 2>"$WORK/t.err" || fail "tshark exit $?" || return 1
	assert_nomatch "$(grep -v 'Running as user' "$WORK/t.err")" . "tshark stderr" || return 1
	assert_eq "$(wc -l <"$WORK/t.txt")" "$(nframes "$OUT")" "frames shown" || return 1
	assert_eq "$(tshark -r "$OUT" -Y '_ws.malformed' 2>/dev/null | wc -l)" 0 "malformed frames" || return 1
	assert_eq "$(tshark -r "$OUT" -Y '_ws.expert.severity >= 0x00800000' 2>/dev/null | wc -l)" 0 \
		"frames with expert errors" || return 1
	local warns
	warns=$(tshark -r "$OUT" -Y '_ws.expert.severity == 0x00600000' -T fields -e _ws.expert.message 2>/dev/null |
		tr ',' '\n' | sort -u)
	assert_nomatch "$(grep -v 'NOP in a row' <<<"$warns")" . "expert warnings other than NOP fill" || return 1
}

# Every frame is exported except the ones on link types the anonymizer cannot
# vet, and a warning says how many.
test_frame_count() {
	prepare || return $?
	local f total=0
	for f in "${INPUTS[@]}"; do
		total=$((total + $(nframes "$f")))
	done
	assert_ge "$total" 200 "input frames" || return 1
	assert_eq "$(nframes "$OUT")" $((total - UNVETTED)) "exported frames = input - unvetted" || return 1
	"$PKT_ANALYZE" --stats --format json "$OUT" >"$WORK/s.json" || return 1
	assert_eq "$(json_summary "$WORK/s.json" events)" $((total - UNVETTED)) "pkt-analyze reads them all" || return 1
	assert_match "$(cat "$WORK/report.err")" "^pkt-analyze: --anonymize: $UNVETTED hits? left out: .*link type 147" \
		"warning for the unvetted frames" || return 1
	assert_eq "$(wc -l <"$WORK/report.err")" 1 "one warning" || return 1
}

# No IPv4, IPv6 or MAC address of the inputs, binary or text, in the export;
# none as text in the text and JSON reports of the same run.
test_no_address_survives() {
	prepare || return $?
	"$PKT_ANALYZE" -q --anonymize --anonymize-key "$KEY2" --write "$WORK/twin.pcapng" "${INPUTS[@]}" >/dev/null 2>&1 || return 1
	python3 "$CHECK" leaks "$OUT" --twin "$WORK/twin.pcapng" "$WORK/report.txt" "$WORK/report.jsonl" "$WORK/report.err" \
		-- "${INPUTS[@]}" >&2 || return 1
	python3 "$CHECK" leaks "$WORK/twin.pcapng" --twin "$OUT" -- "${INPUTS[@]}" >&2
}

# The host names of the recordings (SHB comment host=, IDB descriptions) and of
# the foreign capture (SHB, IDB options, DNS, HTTP, comments) are gone.
test_host_names_gone() {
	prepare || return $?
	python3 "$CHECK" hosts "$OUT" "$FOREIGN_HOST" -- "${INPUTS[@]}" >&2 || return 1
	assert_nomatch "$(cat "$WORK/report.txt" "$WORK/report.jsonl")" "$FOREIGN_HOST|host golden|host vm" "host in the reports"
}

# skb=0x... kernel addresses (KASLR) are replaced by pseudonyms: one per skb.
test_skb_addresses_gone() {
	prepare || return $?
	python3 "$CHECK" skb "$OUT" -- "${INPUTS[@]}" >&2
}

# Same address -> same pseudonym, different -> different, and two addresses
# sharing exactly n leading bits (a /24...) map to two sharing exactly n.
test_prefix_preserving_and_consistent() {
	prepare || return $?
	python3 "$CHECK" mapping "$OUT" -- "${INPUTS[@]}" >&2
}

# Requests still meet their replies: the same pairs per input, by kind (a DNS
# query/response pairs as UDP: the DNS id is payload); and the merged export
# pairs like a merged export without --anonymize.
test_pairs_still_pair() {
	prepare || return $?
	local f kinds='import json,sys,collections
c = collections.Counter(("udp" if o["kind"] == "dns" else o["kind"]) for o in map(json.loads, sys.stdin) if o["type"] == "pair")
print(sorted(c.items()))'
	for f in "${INPUTS[@]}"; do
		"$PKT_ANALYZE" -q --anonymize --write "$WORK/one.pcapng" "$f" >/dev/null || fail "$f: exit $?" || return 1
		local a b
		a=$("$PKT_ANALYZE" --format json "$f" | python3 -c "$kinds")
		b=$("$PKT_ANALYZE" --format json "$WORK/one.pcapng" | python3 -c "$kinds")
		assert_eq "$b" "$a" "pairs of $(basename "$f")" || return 1
	done
	assert_match "$("$PKT_ANALYZE" --format json "${INPUTS[@]}" | python3 -c "$kinds")" "icmp-echo.*tcp-data" \
		"the inputs have pairs" || return 1
	"$PKT_ANALYZE" -q --write "$WORK/plain.pcapng" "${INPUTS[@]}" >/dev/null || return 1
	"$PKT_ANALYZE" --stats --format json "$WORK/plain.pcapng" >"$WORK/p.json" || return 1
	"$PKT_ANALYZE" --stats --format json "$OUT" >"$WORK/a.json" || return 1
	assert_eq "$(json_summary "$WORK/a.json" pairs)" "$(json_summary "$WORK/p.json" pairs)" "pairs of the merged export" || return 1
	assert_eq "$(json_summary "$WORK/a.json" unanswered)" "$(json_summary "$WORK/p.json" unanswered)" "unanswered" || return 1
	assert_eq "$(json_summary "$WORK/a.json" dropped)" "$(json_summary "$WORK/p.json" dropped)" "dropped" || return 1
	assert_eq "$(json_summary "$WORK/a.json" lost)" "$(json_summary "$WORK/p.json" lost)" "lost (ISB counters)" || return 1
}

# Payloads are cut: ping's pattern, an HTTP request, DNS names are gone; the
# original length of every frame is kept.
test_payload_dropped() {
	prepare || return $?
	zstd -dcq "$OUT" >"$WORK/out.pcapng" || return 1
	local f
	for f in "${INPUTS[@]}"; do
		case $f in *.zst) zstd -dcq "$f" ;; *) cat "$f" ;; esac
	done >"$WORK/in.bin"
	python3 - "$WORK/in.bin" "$WORK/out.pcapng" <<'EOF' || fail "payload survives" || return 1
import sys
inp, out = (open(p, 'rb').read() for p in sys.argv[1:])
patterns = {
    'ping payload (0x10..0x37)': bytes(range(0x10, 0x38)),
    'ping payload, 8 bytes': bytes(range(0x20, 0x28)),
    'payload string': b'SECRET-PAYLOAD',
    'HTTP request': b'GET /secret',
    'DNS name': b'\x0cbuild-host-7',
    'DNS name (golden)': b'\x07example\x03com',
    'GET of foreign.pcapng': b'GET / HTTP/1.0',
}
bad = 0
for what, p in patterns.items():
    if p not in inp:
        print('not in the input, cannot prove anything:', what); bad += 1
    elif p in out:
        print('in the output:', what, 'at offset', out.find(p)); bad += 1
sys.exit(bad)
EOF
	# caplen shrank, the original length stayed
	local lin lout cin cout
	lin=$(for f in "${INPUTS[@]}"; do tshark -r "$f" -T fields -e frame.len -Y "frame.interface_id and not ($UNVETTED_IFS)" 2>/dev/null; done | awk '{s += $1} END {print s}')
	lout=$(tshark -r "$OUT" -T fields -e frame.len 2>/dev/null | awk '{s += $1} END {print s}')
	assert_eq "$lout" "$lin" "sum of original lengths (without the unvetted frames)" || return 1
	# Wireshark finds no payload in any frame (VXLAN's UDP payload is the inner packet)
	local payload='data or http or dns or tcp.payload or (udp.payload and not vxlan)'
	cin=$(for f in "${INPUTS[@]}"; do tshark -r "$f" -Y "$payload" 2>/dev/null; done | wc -l)
	assert_ge "$cin" 20 "input frames with a payload" || return 1
	cout=$(tshark -r "$OUT" -Y "$payload" 2>/dev/null | tee /dev/stderr | wc -l)
	assert_eq "$cout" 0 "frames with a payload"
}

# Interface names (IFNAME@NETNS) and pkt-record comments are kept, only the
# skb value changes; descriptions keep netns and ifindex, not the host. Every
# text left in the file is in a form we know: a whitelist.
test_netns_and_interfaces_kept() {
	prepare || return $?
	local f
	for f in "${INPUTS[@]}"; do
		tshark -r "$f" -T fields -e frame.interface_name -Y "frame.interface_id and not ($UNVETTED_IFS)" 2>/dev/null
	done | sort -u >"$WORK/if.in"
	tshark -r "$OUT" -T fields -e frame.interface_name 2>/dev/null | sort -u >"$WORK/if.out"
	diff -u "$WORK/if.in" "$WORK/if.out" >&2 || fail "interface names differ" || return 1
	assert_match "$(cat "$WORK/if.out")" '^eth0@4026532328$' "IFNAME@NETNS kept" || return 1
	# comments: the same apart from skb= (and the one key that is not in the grammar)
	for f in "${INPUTS[@]}"; do
		tshark -r "$f" -T fields -e frame.time_epoch -e frame.comment 2>/dev/null
	done | awk -F'\t' '$2 ~ /^hook=/' | sed -e 's/ skb=0x[0-9a-f]*//' -e 's/ origin=[^ ]*//' | sort >"$WORK/c.in"
	tshark -r "$OUT" -T fields -e frame.time_epoch -e frame.comment 2>/dev/null |
		awk -F'\t' '$2 != ""' | sed 's/ skb=0x[0-9a-f]*//' | sort >"$WORK/c.out"
	assert_ge "$(wc -l <"$WORK/c.in")" 150 "pkt-record comments in the inputs" || return 1
	diff -u "$WORK/c.in" "$WORK/c.out" >&2 || fail "comments differ (beyond skb=)" || return 1
	python3 "$CHECK" options "$OUT" >"$WORK/opts" || return 1
	python3 - "$WORK/opts" <<'EOF' >&2 || fail "text outside the whitelist" || return 1
import re, sys
allowed = [
    r'0xa0d0d0a 1 exported by pkt-analyze --write --anonymize: addresses rewritten, payloads dropped',
    r'0xa0d0d0a 3 [A-Za-z]+ [\w.+~-]+',  # uname -sr of the exporting machine
    r'0xa0d0d0a 4 pkt-analyze [\w.-]+',
    r'0x1 2 [\w.-]+@\d+|0x1 2 (unknown|enp3s0|tun0|any|ipv4raw)',
    r'0x1 3 netns \d+ ifindex \d+ host anon\d+',
    r'0x6 1 hook=[\w:]+ netns=\d+ if=\S+ ifindex=\d+ skb=0x[0-9a-f]+ track=0x[0-9a-f]+ cpu=\d+ pid=\d+ comm=\S+'
    r'( (drop|l2|proto)=\S+)*',
]
bad = 0
lines = open(sys.argv[1]).read().splitlines()
for l in lines:
    if not any(re.fullmatch(a, l) for a in allowed):
        print('not allowed:', l); bad += 1
hosts = {l for l in lines if l.startswith('0x1 3 ')}
if not hosts:
    print('no description kept'); bad += 1
sys.exit(bad)
EOF
}

# A fixed key gives the same file on every run (plain or hex key file); the
# default key is random: two runs map addresses differently.
test_key_reproducible_and_random_by_default() {
	prepare || return $?
	"$PKT_ANALYZE" -q --anonymize --anonymize-key "$KEY" --write "$WORK/again.pcapng.zst" "${INPUTS[@]}" >/dev/null 2>&1 || return 1
	cmp "$OUT" "$WORK/again.pcapng.zst" >&2 || fail "same key, different output" || return 1
	python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' "$KEY_HEX" >"$WORK/key.bin"
	assert_eq "$(stat -c %s "$WORK/key.bin")" 32 "raw key size" || return 1
	"$PKT_ANALYZE" -q --anonymize --anonymize-key "$WORK/key.bin" --write "$WORK/raw.pcapng.zst" "${INPUTS[@]}" >/dev/null 2>&1 || return 1
	cmp "$OUT" "$WORK/raw.pcapng.zst" >&2 || fail "raw and hex key differ" || return 1
	local r1 r2
	"$PKT_ANALYZE" -q --anonymize --write "$WORK/r1.pcapng" "${INPUTS[@]}" >/dev/null 2>&1 || return 1
	"$PKT_ANALYZE" -q --anonymize --write "$WORK/r2.pcapng" "${INPUTS[@]}" >/dev/null 2>&1 || return 1
	r1=$(tshark -r "$WORK/r1.pcapng" -T fields -e ip.src 2>/dev/null | sort -u)
	r2=$(tshark -r "$WORK/r2.pcapng" -T fields -e ip.src 2>/dev/null | sort -u)
	[ -n "$r1" ] && [ "$r1" != "$r2" ] || fail "two runs without a key map addresses the same way" || return 1
	# and the leak check holds for them too
	python3 "$CHECK" leaks "$WORK/r1.pcapng" --twin "$WORK/r2.pcapng" -- "${INPUTS[@]}" >&2
}

# The report printed with --anonymize is the analysis of the exported file
# (one input at a time: a merged export loses which file a hit came from).
test_report_matches_file() {
	prepare || return $?
	local f strip='import json,sys
for l in sys.stdin:
    o = json.loads(l)
    for k in ("file", "offset", "n", "warnings"):
        o.pop(k, None)
    print(json.dumps(o, sort_keys=True))'
	for f in "${INPUTS[@]}"; do
		"$PKT_ANALYZE" -q --anonymize --anonymize-key "$KEY" --format json --write "$WORK/one.pcapng" "$f" |
			python3 -c "$strip" >"$WORK/a.jsonl" || return 1
		"$PKT_ANALYZE" -q --format json "$WORK/one.pcapng" | python3 -c "$strip" >"$WORK/b.jsonl" || return 1
		assert_ge "$(wc -l <"$WORK/a.jsonl")" 15 "report lines of $(basename "$f")" || return 1
		diff -u "$WORK/a.jsonl" "$WORK/b.jsonl" | head -20 >&2
		cmp -s "$WORK/a.jsonl" "$WORK/b.jsonl" || fail "$(basename "$f"): report and file disagree" || return 1
	done
	# the report uses the file's pseudonyms
	assert_match "$(cat "$WORK/a.jsonl")" '"src": "[0-9.]+"' "addresses in the report" || return 1
}

# -Y is applied before anonymization: it names the real addresses.
test_filter_sees_original_addresses() {
	prepare || return $?
	local n
	n=$("$PKT_ANALYZE" -Y 'host 203.0.113.77' --events "$GOLDEN_DATA/anonymize-foreign.pcapng" | tail -n +2 | wc -l)
	assert_ge "$n" 10 "frames of 203.0.113.77" || return 1
	"$PKT_ANALYZE" -q -Y 'host 203.0.113.77' --anonymize --write "$WORK/f.pcapng" \
		"$GOLDEN_DATA/anonymize-foreign.pcapng" >/dev/null || fail "exit $?" || return 1
	assert_eq "$(nframes "$WORK/f.pcapng")" "$n" "selected frames exported" || return 1
	assert_eq "$(tshark -r "$WORK/f.pcapng" -Y 'ip.addr == 203.0.113.77' 2>/dev/null | wc -l)" 0 "address rewritten" || return 1
}

test_usage() {
	"$PKT_ANALYZE" --anonymize-key /dev/null "$GOLDEN_DATA/record.pcapng" >/dev/null 2>"$WORK/err"
	assert_eq "$?" 2 "--anonymize-key without --anonymize" || return 1
	assert_match "$(cat "$WORK/err")" "--anonymize-key applies to --anonymize" "message" || return 1
	echo 0123 >"$WORK/short"
	"$PKT_ANALYZE" --anonymize --anonymize-key "$WORK/short" "$GOLDEN_DATA/record.pcapng" >/dev/null 2>"$WORK/err"
	assert_eq "$?" 2 "short key" || return 1
	assert_match "$(cat "$WORK/err")" "short: not a key" "message names the file" || return 1
	"$PKT_ANALYZE" --anonymize --anonymize-key "$WORK/missing" "$GOLDEN_DATA/record.pcapng" >/dev/null 2>"$WORK/err"
	assert_eq "$?" 2 "missing key file" || return 1
	printf '%064d' 0 | tr 0 g >"$WORK/nothex"
	"$PKT_ANALYZE" --anonymize --anonymize-key "$WORK/nothex" "$GOLDEN_DATA/record.pcapng" >/dev/null 2>&1
	assert_eq "$?" 2 "64 characters that are not hex" || return 1
	# without --write, the report alone is anonymized
	"$PKT_ANALYZE" --anonymize "$GOLDEN_DATA/record.pcapng" >"$WORK/r.txt" || fail "--anonymize alone: exit $?" || return 1
	assert_match "$(cat "$WORK/r.txt")" "ICMP echo" "report printed" || return 1
	assert_nomatch "$(cat "$WORK/r.txt")" '10\.0\.0\.[129]|192\.0\.2\.1' "addresses in the report" || return 1
	"$PKT_ANALYZE" --help | grep -q -- '--anonymize-key FILE' || fail "--help lists --anonymize-key"
}

# The checks are not vacuous: on an export without --anonymize each one fails.
test_checks_catch_plain_export() {
	prepare || return $?
	"$PKT_ANALYZE" -q --write "$WORK/plain.pcapng.zst" "${INPUTS[@]}" >/dev/null || return 1
	local c
	for c in leaks hosts skb mapping; do
		case $c in
		hosts) set -- "$WORK/plain.pcapng.zst" "$FOREIGN_HOST" ;;
		*) set -- "$WORK/plain.pcapng.zst" ;;
		esac
		if python3 "$CHECK" "$c" "$@" -- "${INPUTS[@]}" >"$WORK/$c.log" 2>&1; then
			cat "$WORK/$c.log" >&2
			fail "check '$c' passes on a plain export"
			return 1
		fi
		grep -q 'Traceback' "$WORK/$c.log" && { cat "$WORK/$c.log" >&2; fail "check '$c' crashed"; return 1; }
	done
	# two runs (two keys) merged: one address, two pseudonyms
	command -v mergecap >/dev/null || { skip "mergecap not installed"; return 77; }
	"$PKT_ANALYZE" -q --anonymize --anonymize-key "$KEY" --write "$WORK/k1.pcapng" "${INPUTS[@]:0:3}" >/dev/null 2>&1 || return 1
	"$PKT_ANALYZE" -q --anonymize --anonymize-key "$KEY2" --write "$WORK/k2.pcapng" "${INPUTS[@]:3}" >/dev/null 2>&1 || return 1
	mergecap -F pcapng -w "$WORK/k12.pcapng" "$WORK/k1.pcapng" "$WORK/k2.pcapng" || return 1
	python3 "$CHECK" mapping "$WORK/k12.pcapng" -- "${INPUTS[@]}" >"$WORK/k.log" 2>&1
	assert_match "$(cat "$WORK/k.log")" "maps to two values" "mapping check catches two keys" || { cat "$WORK/k.log" >&2; return 1; }
}
