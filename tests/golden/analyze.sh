# Golden tests for pkt-analyze: committed inputs in tests/golden/data, compared
# with the expected text/JSON committed next to them.
#
# Inputs (regenerate with data/gen.py; foreign.pcapng = editcap -F pcapng foreign.pcap):
#   foreign.pcapng      a capture from another writer: ARP, ICMP echo, TCP
#                       handshake + data/ACK, DNS, UDP, one unanswered ping
#   record.pcapng       pkt-record style: IFNAME@NETNS interfaces, hook comments,
#                       packet ids, a bridge clone, SNAT, a netfilter drop, ISB losses
#   record-be.pcapng    the same, big-endian; record.pcapng.zst the same, zstd
#   real-why.pcapng.zst pkt-record's own recording of tests/integration/why.sh
# To accept a deliberate output change: UPDATE_GOLDEN=1 tests/run.sh golden/analyze

GOLDEN_DATA=$TESTS_DIR/golden/data

setup() {
	[ -x "$PKT_ANALYZE" ] || { echo "  reason: $PKT_ANALYZE not built" >&2; return 1; }
	WORK=$(mktemp -d)
}

teardown() {
	rm -rf "$WORK"
}

# compare OUTPUT_FILE EXPECTED_FILE: show a diff on mismatch
golden_compare() {
	if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
		cp "$1" "$2"
		return 0
	fi
	diff -u "$2" "$1" >&2 || fail "output differs from $(basename "$2")"
}

need_tool() {
	command -v "$1" >/dev/null || { skip "$1 not installed"; return 77; }
}

json_field() { # FILE TYPE KEY: value of KEY on the first line of TYPE
	python3 -c 'import json,sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o["type"] == sys.argv[2]:
        print(o[sys.argv[3]]); break' "$@"
}

test_foreign_text() {
	"$PKT_ANALYZE" "$GOLDEN_DATA/foreign.pcapng" >"$WORK/out.txt" || fail "exit $?" || return 1
	golden_compare "$WORK/out.txt" "$GOLDEN_DATA/foreign.expected.txt"
}

test_foreign_json() {
	(cd "$GOLDEN_DATA" && "$PKT_ANALYZE" --format json foreign.pcapng) >"$WORK/out.jsonl" || fail "exit $?" || return 1
	golden_compare "$WORK/out.jsonl" "$GOLDEN_DATA/foreign.expected.jsonl"
}

test_record_text() {
	"$PKT_ANALYZE" "$GOLDEN_DATA/record.pcapng" >"$WORK/out.txt" || fail "exit $?" || return 1
	golden_compare "$WORK/out.txt" "$GOLDEN_DATA/record.expected.txt"
}

test_record_json() {
	(cd "$GOLDEN_DATA" && "$PKT_ANALYZE" --format json record.pcapng) >"$WORK/out.jsonl" || fail "exit $?" || return 1
	golden_compare "$WORK/out.jsonl" "$GOLDEN_DATA/record.expected.jsonl"
}

# --why on a real recording (tests/integration/why.sh, kernel 6.18): every
# verdict kind, ICMP errors and a reset tied to their requests, grouped
test_real_why_groups() {
	"$PKT_ANALYZE" --why "$GOLDEN_DATA/real-why.pcapng.zst" >"$WORK/why.txt" || fail "exit $?" || return 1
	golden_compare "$WORK/why.txt" "$GOLDEN_DATA/real-why.expected.txt" || return 1
	"$PKT_ANALYZE" --why --format json "$GOLDEN_DATA/real-why.pcapng.zst" >"$WORK/why.jsonl" || fail "exit $?" || return 1
	golden_compare "$WORK/why.jsonl" "$GOLDEN_DATA/real-why.expected.jsonl" || return 1
	assert_eq "$(awk 'length > 80' "$WORK/why.txt")" "" "lines over 80 columns" || return 1
}

test_record_events() {
	"$PKT_ANALYZE" --events "$GOLDEN_DATA/record.pcapng" >"$WORK/out.txt" || fail "exit $?" || return 1
	golden_compare "$WORK/out.txt" "$GOLDEN_DATA/record.expected-events.txt"
}

# Counts agree with Wireshark's
test_event_counts_match_capinfos() {
	need_tool capinfos || return 77
	local f n want
	for f in foreign.pcapng record.pcapng record-be.pcapng; do
		want=$(capinfos -c -M "$GOLDEN_DATA/$f" | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}')
		"$PKT_ANALYZE" --stats --format json "$GOLDEN_DATA/$f" >"$WORK/s.json" || fail "$f: exit $?" || return 1
		n=$(json_field "$WORK/s.json" summary events)
		assert_eq "$n" "$want" "$f: events vs capinfos -c" || return 1
	done
}

test_big_endian_same_as_little() {
	"$PKT_ANALYZE" "$GOLDEN_DATA/record.pcapng" >"$WORK/le.txt" || return 1
	"$PKT_ANALYZE" "$GOLDEN_DATA/record-be.pcapng" >"$WORK/be.txt" || fail "exit $?" || return 1
	diff -u "$WORK/le.txt" "$WORK/be.txt" >&2 || fail "big-endian output differs"
}

test_zstd_same_as_plain() {
	"$PKT_ANALYZE" --format json "$GOLDEN_DATA/record.pcapng" | sed 's/"file":"[^"]*"//' >"$WORK/plain.jsonl"
	"$PKT_ANALYZE" --format json "$GOLDEN_DATA/record.pcapng.zst" | sed 's/"file":"[^"]*"//' >"$WORK/zst.jsonl" ||
		fail "exit $?" || return 1
	diff -u "$WORK/plain.jsonl" "$WORK/zst.jsonl" >&2 || fail "zstd output differs"
}

# The readers ahead of the analysis (one thread per input) change nothing:
# output, warnings and exit status as with one thread, merges and a cut file included.
test_threads_same_output() {
	local cut=$WORK/cut.pcapng files mode one many
	head -c 1500 "$GOLDEN_DATA/record.pcapng" >"$cut"
	for files in "$GOLDEN_DATA/record.pcapng" "$GOLDEN_DATA/real-why.pcapng.zst $GOLDEN_DATA/foreign.pcap" \
		"$GOLDEN_DATA/record.pcapng.zst $cut $GOLDEN_DATA/record-be.pcapng"; do
		for mode in "" "--format json" "--why" "--events"; do
			# shellcheck disable=SC2086 # several words on purpose
			one=$("$PKT_ANALYZE" --threads 1 $mode $files 2>&1; echo "exit $?")
			# shellcheck disable=SC2086
			many=$("$PKT_ANALYZE" --threads 4 $mode $files 2>&1; echo "exit $?")
			assert_eq "$many" "$one" "--threads 4 as --threads 1: $mode $files" || return 1
		done
	done
}

test_stdin() {
	"$PKT_ANALYZE" --stats --format json - <"$GOLDEN_DATA/record.pcapng.zst" >"$WORK/s.json" || fail "exit $?" || return 1
	assert_eq "$(json_field "$WORK/s.json" summary events)" 18 "events from stdin"
}

test_summary_counts() {
	"$PKT_ANALYZE" --stats --format json "$GOLDEN_DATA/record.pcapng" >"$WORK/s.json" || return 1
	assert_eq "$(wc -l <"$WORK/s.json")" 1 "--stats prints one line" || return 1
	assert_eq "$(json_field "$WORK/s.json" summary events)" 18 "events" || return 1
	assert_eq "$(json_field "$WORK/s.json" summary packets)" 4 "packets (the bridge clone joins its original)" || return 1
	assert_eq "$(json_field "$WORK/s.json" summary pairs)" 1 "pairs" || return 1
	assert_eq "$(json_field "$WORK/s.json" summary unanswered)" 2 "unanswered" || return 1
	assert_eq "$(json_field "$WORK/s.json" summary dropped)" 1 "dropped" || return 1
	assert_eq "$(json_field "$WORK/s.json" summary lost)" 3 "lost = ISB ifdrop" || return 1
}

# Every JSON line parses and carries the keys its type promises.
test_json_lines_valid() {
	local f
	for f in foreign.pcapng record.pcapng; do
		"$PKT_ANALYZE" --format json "$GOLDEN_DATA/$f" >"$WORK/out.jsonl" || return 1
		python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' <"$WORK/out.jsonl" ||
			fail "$f: invalid JSON line" || return 1
		python3 - "$WORK/out.jsonl" <<'EOF' || fail "$f: missing keys" || return 1
import json, sys
need = {
    "event": ["ts_ns", "hook", "netns", "ifname", "track", "len", "src", "dst", "proto"],
    "packet": ["id", "track", "hops"],
    "pair": ["kind", "request", "reply", "rtt_ns"],
    "unanswered": ["kind", "request"],
    "summary": ["events", "packets", "pairs", "lost", "dropped", "unanswered", "warnings"],
}
seen = set()
for n, line in enumerate(open(sys.argv[1]), 1):
    o = json.loads(line)
    t = o.get("type")
    if t not in need:
        sys.exit(f"line {n}: unknown type {t!r}")
    missing = [k for k in need[t] if k not in o]
    if missing:
        sys.exit(f"line {n}: {t} lacks {missing}")
    seen.add(t)
for t in ("event", "packet", "pair", "summary"):
    if t not in seen:
        sys.exit(f"no {t} line")
EOF
	done
}

# --only TYPE: exactly the full output's lines of that type, in the same order.
test_json_only() {
	local f t
	for f in foreign.pcapng record.pcapng; do
		"$PKT_ANALYZE" --format json "$GOLDEN_DATA/$f" >"$WORK/all.jsonl" || return 1
		for t in event packet pair; do
			"$PKT_ANALYZE" --format json --only "${t}s" "$GOLDEN_DATA/$f" >"$WORK/only.jsonl" ||
				fail "$f: --only ${t}s failed" || return 1
			grep "^{\"type\":\"$t\"," "$WORK/all.jsonl" >"$WORK/want.jsonl"
			assert_ge "$(wc -l <"$WORK/want.jsonl")" 1 "$f has $t lines" || return 1
			cmp -s "$WORK/want.jsonl" "$WORK/only.jsonl" ||
				fail "$f: --only ${t}s differs from the $t lines of --format json" || return 1
		done
	done
	local err
	err=$("$PKT_ANALYZE" --only pairs "$GOLDEN_DATA/record.pcapng" 2>&1 >/dev/null)
	assert_eq "$?" 2 "--only without --format json" || return 1
	assert_match "$err" '^pkt-analyze: --only applies to --format json' "message" || return 1
	"$PKT_ANALYZE" --format json --only hops "$GOLDEN_DATA/record.pcapng" >/dev/null 2>&1
	assert_eq "$?" 2 "--only hops" || return 1
	"$PKT_ANALYZE" --format json --stats --only events "$GOLDEN_DATA/record.pcapng" >/dev/null 2>&1
	assert_eq "$?" 2 "--only with --stats" || return 1
	"$PKT_ANALYZE" --help | grep -q -- '--only events|packets|pairs' || fail "--help lists --only"
}

test_json_string_escaping() {
	need_tool editcap || return 77
	# a comment with quotes, a backslash and a control byte in comm (escaped by our grammar)
	editcap -a '3:hook=net:netif_rx netns=1 if=a"b\c ifindex=1 skb=0x1 track=0x7 cpu=0 pid=1 comm=x%01y%22' \
		"$GOLDEN_DATA/foreign.pcapng" "$WORK/esc.pcapng" 2>/dev/null || { skip "editcap -a not supported"; return 77; }
	"$PKT_ANALYZE" --format json "$WORK/esc.pcapng" >"$WORK/out.jsonl" || return 1
	python3 -c 'import json,sys
evs = [json.loads(l) for l in sys.stdin]
e = [o for o in evs if o["type"] == "event" and o["track"] == 7][0]
assert e["ifname"] == "a\"b\\c", e["ifname"]
assert e["comm"] == "x\x01y\"", e["comm"]' <"$WORK/out.jsonl" || fail "escaping"
}

# Frame comments in pkt-record's grammar, added to a foreign capture with editcap
test_editcap_comments_and_idb_names() {
	need_tool editcap || return 77
	editcap -a '3:hook=net:net_dev_queue netns=4026532328 if=eth0 ifindex=2 skb=0xffff1 track=0x2a cpu=1 pid=2570 comm=ping' \
		-a '4:hook=net:netif_rx netns=4026532328 if=eth0 ifindex=2 skb=0xffff2 track=0x2b cpu=1 pid=0 comm=-' \
		"$GOLDEN_DATA/foreign.pcapng" "$WORK/c.pcapng" 2>/dev/null || { skip "editcap -a not supported"; return 77; }
	"$PKT_ANALYZE" --format json "$WORK/c.pcapng" >"$WORK/out.jsonl" || fail "exit $?" || return 1
	python3 -c 'import json,sys
evs = [json.loads(l) for l in sys.stdin]
e = [o for o in evs if o["type"] == "event"]
assert e[2]["hook"] == "net:net_dev_queue" and e[2]["netns"] == 4026532328 and e[2]["track"] == 42, e[2]
assert e[2]["pid"] == 2570 and e[2]["comm"] == "ping", e[2]
assert e[3]["hook"] == "net:netif_rx" and e[3]["track"] == 43, e[3]
assert e[0]["hook"] is None and e[0]["ifname"] == "if0" and e[0]["netns"] == 0, e[0]
p = [o for o in evs if o["type"] == "pair" and o["kind"] == "icmp-echo"][0]
assert p["request"] == 42 and p["reply"] == 43, p' <"$WORK/out.jsonl" || fail "comment fields"
}

# Two sections in one file (cat of two pcapng files), and two files merged by time
test_multi_section_and_multi_file() {
	cat "$GOLDEN_DATA/foreign.pcapng" "$GOLDEN_DATA/record-be.pcapng" >"$WORK/multi.pcapng"
	"$PKT_ANALYZE" --stats --format json "$WORK/multi.pcapng" >"$WORK/s1.json" || fail "exit $?" || return 1
	assert_eq "$(json_field "$WORK/s1.json" summary events)" 34 "events of both sections" || return 1
	assert_eq "$(json_field "$WORK/s1.json" summary pairs)" 8 "pairs of both sections" || return 1
	if command -v capinfos >/dev/null; then
		assert_eq "$(capinfos -c -M "$WORK/multi.pcapng" | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}')" 34 \
			"capinfos agrees" || return 1
	fi
	"$PKT_ANALYZE" --stats --format json "$GOLDEN_DATA/foreign.pcapng" "$GOLDEN_DATA/record.pcapng.zst" >"$WORK/s2.json" ||
		fail "exit $?" || return 1
	assert_eq "$(json_field "$WORK/s2.json" summary events)" 34 "events of two files" || return 1
	assert_eq "$(json_field "$WORK/s2.json" summary files)" 2 "files" || return 1
	if command -v mergecap >/dev/null; then
		mergecap -a -F pcapng -w "$WORK/merged.pcapng" "$GOLDEN_DATA/foreign.pcapng" "$GOLDEN_DATA/record.pcapng" 2>/dev/null &&
			"$PKT_ANALYZE" --stats --format json "$WORK/merged.pcapng" >"$WORK/s3.json" &&
			assert_eq "$(json_field "$WORK/s3.json" summary events)" 34 "mergecap -a output" || return 1
	fi
}

test_filter() {
	"$PKT_ANALYZE" -Y icmp --stats --format json "$GOLDEN_DATA/foreign.pcapng" >"$WORK/s.json" || fail "exit $?" || return 1
	assert_eq "$(json_field "$WORK/s.json" summary events)" 5 "ICMP frames" || return 1
	assert_eq "$(json_field "$WORK/s.json" summary filtered)" 11 "others filtered out" || return 1
	if command -v tshark >/dev/null; then
		assert_eq "$(tshark -r "$GOLDEN_DATA/foreign.pcapng" -Y 'tcp.port == 80' 2>/dev/null | wc -l)" \
			"$("$PKT_ANALYZE" -Y 'tcp port 80' --events "$GOLDEN_DATA/foreign.pcapng" | tail -n +2 | wc -l)" \
			"same selection as tshark" || return 1
	fi
	"$PKT_ANALYZE" -Y 'this is not a filter' "$GOLDEN_DATA/foreign.pcapng" >/dev/null 2>"$WORK/err"
	assert_eq "$?" 2 "bad filter is a usage error" || return 1
}

test_write_export() {
	"$PKT_ANALYZE" -q -Y 'icmp' --write "$WORK/icmp.pcapng" "$GOLDEN_DATA/record.pcapng" >/dev/null || fail "exit $?" || return 1
	"$PKT_ANALYZE" -q -Y 'icmp' --write "$WORK/icmp.pcapng.zst" "$GOLDEN_DATA/record.pcapng" >/dev/null || fail "exit $?" || return 1
	assert_eq "$(head -c 4 "$WORK/icmp.pcapng.zst" | od -An -tx1 | tr -d ' ')" 28b52ffd "zstd magic for .zst" || return 1
	assert_eq "$(head -c 4 "$WORK/icmp.pcapng" | od -An -tx1 | tr -d ' ')" 0a0d0d0a "plain pcapng" || return 1
	"$PKT_ANALYZE" -q --compress zstd:5 --write "$WORK/forced.pcapng" "$GOLDEN_DATA/record.pcapng" >/dev/null || return 1
	assert_eq "$(head -c 4 "$WORK/forced.pcapng" | od -An -tx1 | tr -d ' ')" 28b52ffd "--compress forces zstd" || return 1
	# the export analyzes like the selection did: same events, tracks, comments, lost counters
	"$PKT_ANALYZE" -Y icmp --format json "$GOLDEN_DATA/record.pcapng" | grep -v '"type":"event"' |
		sed 's/"filtered":[0-9]*//' >"$WORK/a.jsonl"
	"$PKT_ANALYZE" --format json "$WORK/icmp.pcapng.zst" | grep -v '"type":"event"' |
		sed 's/"filtered":[0-9]*//' >"$WORK/b.jsonl"
	diff -u "$WORK/a.jsonl" "$WORK/b.jsonl" >&2 || fail "export does not analyze the same" || return 1
	if command -v capinfos >/dev/null; then
		assert_eq "$(capinfos -c -M "$WORK/icmp.pcapng" | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}')" 15 \
			"exported frames" || return 1
	fi
	if command -v tshark >/dev/null; then
		tshark -r "$WORK/icmp.pcapng" -T fields -e frame.comment 2>/dev/null | head -1 | grep -q '^hook=net:net_dev_queue netns=4026532328 if=eth0' ||
			fail "comments kept" || return 1
		tshark -r "$WORK/icmp.pcapng" -T fields -e frame.interface_name 2>/dev/null | head -1 | grep -q '^eth0@4026532328$' ||
			fail "IDB names kept" || return 1
	fi
}

# Corrupt block in the middle: the error names the file and offset, the rest is analyzed.
test_corrupt_block() {
	cp "$GOLDEN_DATA/record.pcapng" "$WORK/c.pcapng"
	# the block at offset 2252 gets a length that is not a multiple of 4
	printf '\377\377\377\177' | dd of="$WORK/c.pcapng" bs=1 seek=2256 conv=notrunc 2>/dev/null
	"$PKT_ANALYZE" --stats --format json "$WORK/c.pcapng" >"$WORK/s.json" 2>"$WORK/err"
	local rc=$?
	cat "$WORK/err" >&2
	assert_eq "$rc" 1 "corrupt input exits 1 (documented)" || return 1
	assert_match "$(cat "$WORK/err")" "c.pcapng: block at offset 2252" "error names file and offset" || return 1
	assert_match "$(cat "$WORK/err")" "skipped [0-9]+ bytes" "resync reported" || return 1
	assert_eq "$(json_field "$WORK/s.json" summary events)" 17 "everything but the bad block" || return 1
}

# Random bytes flipped all over: never a crash or a hang, exit 0 or 1.
test_corrupt_random_no_crash() {
	local i rc
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		python3 - "$GOLDEN_DATA/record.pcapng" "$WORK/r.pcapng" "$i" <<'EOF'
import random, sys
data = bytearray(open(sys.argv[1], 'rb').read())
rnd = random.Random(int(sys.argv[3]))
for _ in range(rnd.randint(1, 12)):
    data[rnd.randrange(28, len(data))] = rnd.randrange(256)
open(sys.argv[2], 'wb').write(data)
EOF
		timeout 10 "$PKT_ANALYZE" --format json "$WORK/r.pcapng" >/dev/null 2>"$WORK/err"
		rc=$?
		[ "$rc" -le 1 ] || { cat "$WORK/err" >&2; fail "seed $i: exit $rc"; return 1; }
	done
}

test_truncated_file() {
	head -c 3000 "$GOLDEN_DATA/record.pcapng" >"$WORK/t.pcapng"
	"$PKT_ANALYZE" --stats --format json "$WORK/t.pcapng" >"$WORK/s.json" 2>"$WORK/err"
	local rc=$?
	cat "$WORK/err" >&2
	assert_eq "$rc" 0 "truncated file exits 0" || return 1
	assert_match "$(cat "$WORK/err")" "t.pcapng: .*truncated.*offset 2920" "warning names the cut" || return 1
	assert_eq "$(json_field "$WORK/s.json" summary events)" 10 "events before the cut" || return 1
	assert_eq "$(json_field "$WORK/s.json" summary warnings)" 1 "one warning" || return 1
	# a zstd file cut in the middle of a frame
	head -c 500 "$GOLDEN_DATA/record.pcapng.zst" >"$WORK/t.pcapng.zst"
	"$PKT_ANALYZE" --stats "$WORK/t.pcapng.zst" >/dev/null 2>"$WORK/err"
	rc=$?
	cat "$WORK/err" >&2
	[ "$rc" -le 1 ] || fail "cut zstd: exit $rc"
}

test_bad_input_files() {
	"$PKT_ANALYZE" "$WORK/does-not-exist.pcapng" >/dev/null 2>"$WORK/err"
	assert_eq "$?" 1 "missing file" || return 1
	assert_match "$(cat "$WORK/err")" "^pkt-analyze: .*does-not-exist.pcapng" "error names the file" || return 1
	assert_eq "$(grep -o 'does-not-exist.pcapng' "$WORK/err" | wc -l)" 1 "path named once" || return 1
	# a classic pcap header with an unknown version
	printf '\xd4\xc3\xb2\xa1\x09\x00\x04\x00\0\0\0\0\0\0\0\0\xff\xff\0\0\x01\0\0\0' >"$WORK/badver.pcap"
	"$PKT_ANALYZE" "$WORK/badver.pcap" >/dev/null 2>"$WORK/err"
	assert_eq "$?" 1 "classic pcap of an unknown version" || return 1
	assert_eq "$(grep -o 'badver.pcap' "$WORK/err" | wc -l)" 1 "classic pcap: path named once" || return 1
	head -c 4096 /dev/urandom >"$WORK/garbage"
	timeout 10 "$PKT_ANALYZE" "$WORK/garbage" >/dev/null 2>"$WORK/err"
	assert_eq "$?" 1 "garbage" || return 1
	: >"$WORK/empty"
	timeout 10 "$PKT_ANALYZE" "$WORK/empty" >/dev/null 2>"$WORK/err"
	local rc=$?
	[ "$rc" -le 1 ] || fail "empty file: exit $rc"
}

test_usage_and_version() {
	"$PKT_ANALYZE" >/dev/null 2>&1
	assert_eq "$?" 2 "no file" || return 1
	"$PKT_ANALYZE" --format xml "$GOLDEN_DATA/record.pcapng" >/dev/null 2>&1
	assert_eq "$?" 2 "bad --format" || return 1
	"$PKT_ANALYZE" --no-such-option "$GOLDEN_DATA/record.pcapng" >/dev/null 2>&1
	assert_eq "$?" 2 "unknown option" || return 1
	"$PKT_ANALYZE" --compress zstd:99 --write "$WORK/x" "$GOLDEN_DATA/record.pcapng" >/dev/null 2>&1
	assert_eq "$?" 2 "bad level" || return 1
	assert_match "$("$PKT_ANALYZE" --version)" '^pkt-analyze [0-9]+\.[0-9]+' "--version" || return 1
	"$PKT_ANALYZE" --help | grep -q -- '--format' || fail "--help lists options" || return 1
	"$PKT_ANALYZE" -h >/dev/null || fail "-h exits 0"
}

test_no_color_when_not_a_tty() {
	NO_COLOR= "$PKT_ANALYZE" "$GOLDEN_DATA/record.pcapng" >"$WORK/out.txt" || return 1
	assert_nomatch "$(cat "$WORK/out.txt")" $'\033' "no escape codes in a pipe" || return 1
	# every line fits 80 columns
	local long
	long=$(awk 'length > 80' "$WORK/out.txt" "$GOLDEN_DATA/foreign.expected.txt")
	assert_eq "$long" "" "lines over 80 columns"
}

# Streaming: a long capture keeps only the packets in flight in memory.
test_streaming_memory_bounded() {
	python3 - "$WORK/long.pcapng" <<'EOF'
import struct, sys
def blk(t, body):
    n = 12 + len(body)
    return struct.pack('<II', t, n) + body + struct.pack('<I', n)
out = blk(0x0A0D0D0A, struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1))
out += blk(1, struct.pack('<HHI', 1, 0, 256) + struct.pack('<HHB3x', 9, 1, 9) + b'\0' * 4)
def ping(t, seq, typ, src, dst):
    icmp = struct.pack('>BBHHH', typ, 0, 0, 9, seq & 0xffff)
    ip = struct.pack('>BBHHHBBH', 0x45, 0, 28, seq & 0xffff, 0, 64, 1, 0) + bytes(src) + bytes(dst)
    pkt = b'\2\0\0\0\0\2\2\0\0\0\0\1\x08\x00' + ip + icmp
    pad = (4 - len(pkt) % 4) % 4
    return blk(6, struct.pack('<IIIII', 0, t >> 32, t & 0xffffffff, len(pkt), len(pkt)) + pkt + b'\0' * pad)
t = 10**18
for seq in range(20000):
    out += ping(t, seq, 8, [10, 0, 0, 1], [10, 0, 0, 2])
    out += ping(t + 100000, seq, 0, [10, 0, 0, 2], [10, 0, 0, 1])
    t += 200_000_000
open(sys.argv[1], 'wb').write(out)
EOF
	"$PKT_ANALYZE" --stats --format json "$WORK/long.pcapng" >"$WORK/s.json" || fail "exit $?" || return 1
	assert_eq "$(json_field "$WORK/s.json" summary pairs)" 20000 "pairs" || return 1
	local peak
	peak=$(json_field "$WORK/s.json" summary packets_in_flight_max)
	[ "$peak" -lt 100 ] || fail "packets held at once: $peak (should follow the window, not the file)"
}
