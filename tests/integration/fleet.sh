# Fleets: pkt-analyze's JSON in ClickHouse (docs/clickhouse.sql, docs/fleet.md).
#
# Each test starts its own clickhouse-server on 127.0.0.1 (own config, data
# directory and free ports, stopped and removed in teardown), creates the
# tables, loads three "hosts" with the loader of docs/fleet.md and checks a
# recipe's answers against pkt-analyze's own JSON:
#   node1  samples/drop-nft + samples/tcp-routed (one run, two files)
#   node2  samples/ping-bridge, only the hits in the containers' namespaces
#   node3  samples/ping-bridge, only the hits in the root namespace (the bridge)
#   node4  tests/golden/data foreign.pcapng (another writer: no hooks, no
#          tracking ids, null keys) + record.pcapng (SNAT, clone, drop)
# node2 and node3 see the same pings, each its part of the path: a path
# across two hosts.
# test_distributed_tables runs two servers as a fleet with Distributed tables.
# Sourced by tests/run.sh after tests/lib.sh.

FLEET_DOC=$TOP_DIR/docs/fleet.md
FLEET_SQL=$TOP_DIR/docs/clickhouse.sql
SAMPLES=$TOP_DIR/samples

ch_server_bin() {
	command -v clickhouse-server 2>/dev/null ||
		{ [ -x /usr/sbin/clickhouse-server ] && echo /usr/sbin/clickhouse-server; }
}

free_port() { # a TCP port on 127.0.0.1 that nothing listens on now
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

setup() {
	[ -x "$PKT_ANALYZE" ] || { echo "  reason: $PKT_ANALYZE not built" >&2; return 1; }
	CH_DIR=$(mktemp -d /tmp/pkt-fleet.XXXXXX) || return 1
	CH_PIDS=()
	CH_PORT=
}

teardown() {
	local pid
	for pid in "${CH_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${CH_PIDS[@]}"; do
		# it takes a few seconds to shut down cleanly
		for _ in $(seq 1 150); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	[ -n "${CH_DIR:-}" ] && rm -rf "$CH_DIR"
	return 0
}

# ch_start NAME [TCP_PORT [CONFIG_XML]]: start a server of our own, loopback
# only, its files under $CH_DIR/NAME, CONFIG_XML added to its config. The
# first one is the one that ch talks to ($CH_PORT).
ch_start() {
	local name=$1 tcp=${2:-} extra=${3:-} bin http pid dir=$CH_DIR/$1
	bin=$(ch_server_bin)
	if [ -z "$bin" ] || ! command -v clickhouse-client >/dev/null; then
		skip "clickhouse-server and clickhouse-client not installed (tests/install-deps.sh)"
		return 77
	fi
	if [ -z "$tcp" ]; then tcp=$(free_port) || return 1; fi
	http=$(free_port) || return 1
	[ "$tcp" != "$http" ] || http=$(free_port)
	mkdir -p "$dir"/{data,tmp,user_files,format_schemas,log} || return 1
	cat >"$dir/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
    <logger>
        <level>warning</level>
        <log>$dir/log/server.log</log>
        <errorlog>$dir/log/error.log</errorlog>
        <size>10M</size>
        <count>1</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port>$tcp</tcp_port>
    <http_port>$http</http_port>
    <path>$dir/data/</path>
    <tmp_path>$dir/tmp/</tmp_path>
    <user_files_path>$dir/user_files/</user_files_path>
    <format_schema_path>$dir/format_schemas/</format_schema_path>
    <users_config>$dir/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <mark_cache_size>67108864</mark_cache_size>
    <uncompressed_cache_size>67108864</uncompressed_cache_size>
    <max_concurrent_queries>16</max_concurrent_queries>
$extra
</yandex>
EOF
	cat >"$dir/users.xml" <<'EOF'
<?xml version="1.0"?>
<yandex>
    <profiles><default><max_memory_usage>1000000000</max_memory_usage></default></profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas><default><interval><duration>3600</duration><queries>0</queries>
        <errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows>
        <execution_time>0</execution_time></interval></default></quotas>
</yandex>
EOF
	"$bin" --config-file="$dir/config.xml" >"$dir/log/stdout" 2>&1 &
	pid=$!
	CH_PIDS+=("$pid")
	[ -n "$CH_PORT" ] || CH_PORT=$tcp
	for _ in $(seq 1 300); do
		CH_PORT=$tcp ch --query 'SELECT 1' >/dev/null 2>&1 && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "  clickhouse-server $name exited:" >&2
			tail -n 20 "$dir/log/stdout" "$dir/log/error.log" >&2 2>/dev/null
			return 1
		fi
		sleep 0.1
	done
	echo "  clickhouse-server $name does not answer on 127.0.0.1:$tcp after 30 s" >&2
	tail -n 20 "$dir/log/error.log" >&2 2>/dev/null
	return 1
}

ch() { command clickhouse-client --host 127.0.0.1 --port "$CH_PORT" "$@"; }

# The names the loader of docs/fleet.md calls (into database $CH_DB).
clickhouse-client() {
	command clickhouse-client --host 127.0.0.1 --port "$CH_PORT" --database "${CH_DB:-default}" "$@"
}
pkt-analyze() { "$PKT_ANALYZE" "$@"; }

# A fenced block of docs/fleet.md by its first line ("-- recipe: NAME" or
# "# recipe: NAME").
doc_block() {
	awk -v name="$1" '
		/^```/ { if (on) exit; start = 1; next }
		start && ($0 == "-- recipe: " name || $0 == "# recipe: " name) { on = 1 }
		{ start = 0 }
		on' "$FLEET_DOC"
}

recipe() { # NAME [HOST PACKET]: run a recipe of docs/fleet.md, TSV on stdout
	local sql
	sql=$(doc_block "$1")
	[ -n "$sql" ] || { echo "  no recipe '$1' in docs/fleet.md" >&2; return 1; }
	sql=${sql//\$HOST/${2:-}}
	sql=${sql//\$PACKET/${3:-}}
	ch --query "$sql"
}

FLEET_HOSTS="node1 node2 node3 node4"

host_files() { # HOST: its recordings, one a line
	case $1 in
	node1) printf '%s\n' "$SAMPLES/drop-nft.pcapng.zst" "$SAMPLES/tcp-routed.pcapng.zst" ;;
	node2 | node3) printf '%s\n' "$CH_DIR/$1.pcapng" ;;
	node4) printf '%s\n' "$TESTS_DIR/golden/data/foreign.pcapng" "$TESTS_DIR/golden/data/record.pcapng" ;;
	esac
}

# The loader of docs/fleet.md, the hosts' recordings, and each host's full
# pkt-analyze JSON in $CH_DIR/HOST.jsonl for the checks.
fleet_inputs() {
	local loader host
	local -a files
	loader=$(doc_block load)
	[ -n "$loader" ] || fail "no loader in docs/fleet.md" || return 1
	eval "$loader" || return 1
	declare -F fleet_load >/dev/null || fail "the loader defines no fleet_load" || return 1

	# node2/node3: the containers' part and the bridge's part of one recording
	local root_ns
	root_ns=$("$PKT_ANALYZE" --format json --only events "$SAMPLES/ping-bridge.pcapng.zst" |
		python3 -c 'import json, sys
print(min(json.loads(l)["netns"] for l in sys.stdin if json.loads(l)["ifname"].startswith("pkv")))')
	[ -n "$root_ns" ] || fail "no bridge port in ping-bridge" || return 1
	echo "$root_ns" >"$CH_DIR/root_ns"
	tshark -r "$SAMPLES/ping-bridge.pcapng.zst" -Y "!(frame.interface_name contains \"@$root_ns\")" \
		-w "$CH_DIR/node2.pcapng" 2>/dev/null || fail "tshark cannot split ping-bridge" || return 1
	tshark -r "$SAMPLES/ping-bridge.pcapng.zst" -Y "frame.interface_name contains \"@$root_ns\"" \
		-w "$CH_DIR/node3.pcapng" 2>/dev/null || fail "tshark cannot split ping-bridge" || return 1

	for host in $FLEET_HOSTS; do
		mapfile -t files < <(host_files "$host")
		"$PKT_ANALYZE" --format json "${files[@]}" >"$CH_DIR/$host.jsonl" || return 1
	done
	"$PKT_ANALYZE" --format json "$SAMPLES/ping-bridge.pcapng.zst" >"$CH_DIR/whole.jsonl" || return 1
}

load_host() { # HOST: with the loader of docs/fleet.md, into $CH_DB on $CH_PORT
	local -a files
	mapfile -t files < <(host_files "$1")
	fleet_load "$1" "${files[@]}" || fail "loading $1"
}

# One server, the tables, every host loaded.
fleet_prepare() {
	local host
	ch_start a || return $?
	ch --multiquery <"$FLEET_SQL" || fail "docs/clickhouse.sql does not load" || return 1
	fleet_inputs || return 1
	for host in $FLEET_HOSTS; do
		load_host "$host" || return 1
	done
}

# python3 over the hosts' JSON: defines `lines(host, type)`.
py_json() {
	python3 - "$CH_DIR" "$@" <<EOF
import json, sys
D = sys.argv[1]
HOSTS = ["node1", "node2", "node3", "node4"]
def lines(host, t):
    return [o for o in map(json.loads, open(f"{D}/{host}.jsonl")) if o["type"] == t]
def q(levels, v):  # quantileExact: the element at floor(level * n) of the sorted values
    v = sorted(v)
    return "[" + ",".join(str(v[min(int(l * len(v)), len(v) - 1)]) for l in levels) + "]"
def tsv(v):
    return "\\\\N" if v is None else str(v)
$(cat)
EOF
}

# Every line of every type arrived: the tables' counts are the summary's.
test_counts_match_summary() {
	fleet_prepare || return $?
	local got want
	got=$(ch --query "SELECT host, 'events', count() FROM events GROUP BY host
		UNION ALL SELECT host, 'packets', count() FROM packets GROUP BY host
		UNION ALL SELECT host, 'pairs', count() FROM pairs GROUP BY host" | sort)
	want=$(py_json <<'EOF' | sort
for h in HOSTS:
    s = lines(h, "summary")[0]
    for k in ("events", "packets", "pairs"):
        print(f"{h}\t{k}\t{s[k]}")
EOF
)
	assert_match "$want" $'node1\tevents\t1[0-9][0-9]' "node1 has both files' events" || return 1
	assert_eq "$got" "$want" "rows per host and table = pkt-analyze's summary" || return 1
	# the loaded rows are the lines' values, not defaults (ts_ns mod a prime:
	# their sum overflows 64 bits)
	got=$(ch --query "SELECT sum(ts_ns % 1000000007), sum(len), countIf(drop IS NOT NULL) FROM events")
	want=$(py_json <<'EOF'
e = [o for h in HOSTS for o in lines(h, "event")]
print(f"{sum(o['ts_ns'] % 1000000007 for o in e)}\t{sum(o['len'] for o in e)}\t{sum(o['drop'] is not None for o in e)}")
EOF
)
	assert_eq "$got" "$want" "events: sum of ts_ns, sum of len, hits with a drop reason"
}

test_drops_per_reason() {
	fleet_prepare || return $?
	local got want
	got=$(recipe drops-per-reason) || fail "recipe drops-per-reason" || return 1
	want=$(py_json <<'EOF'
import collections
c = collections.Counter()
for h in HOSTS:
    for p in lines(h, "packet"):
        if p.get("dropped") or p.get("fate") == "dropped":
            c[(h, p.get("drop") or "unknown")] += 1
for (h, r), n in sorted(c.items(), key=lambda x: (x[0][0], -x[1], x[0][1])):
    print(f"{h}\t{r}\t{n}")
EOF
)
	assert_match "$want" $'node1\tNETFILTER_DROP\t1' "node1's nft drop" || return 1
	# a ping reply freed after its copy went to ping's raw socket is no drop
	assert_nomatch "$want" $'node2\tNO_SOCKET' "node2's ping replies are not drops" || return 1
	assert_eq "$got" "$want" "drops per reason per host" || return 1

	got=$(recipe drops-per-place) || fail "recipe drops-per-place" || return 1
	want=$(py_json <<'EOF'
import collections
c = collections.Counter()
for h in HOSTS:
    for e in lines(h, "event"):
        if e["drop"] is not None:
            c[(h, e["drop"], e["netns"], e["ifname"], e["hook"])] += 1
for k, n in sorted(c.items(), key=lambda x: (x[0][0], -x[1]) + x[0][1:]):
    print("\t".join(map(tsv, k)) + f"\t{n}")
EOF
)
	assert_ge "$(wc -l <<<"$want")" 2 "drop places" || return 1
	assert_eq "$got" "$want" "drop hits per reason and place"
}

# For every packet of every host: the recipe's path is the hops of the
# packet's JSON line, in time order; for node2 and node3 it is the whole
# path (both hosts), as pkt-analyze sees it in the unsplit recording.
test_packet_path_across_hosts() {
	fleet_prepare || return $?
	local root_ns host id got want checked=0 crossed=0
	root_ns=$(cat "$CH_DIR/root_ns")
	while read -r host id; do
		got=$(recipe packet-path "$host" "$id" | cut -f1-5) || fail "recipe packet-path" || return 1
		want=$(py_json "$host" "$id" "$root_ns" <<'EOF'
host, pid, root = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
p = [o for o in lines(host, "packet") if o["id"] == pid][0]
if host in ("node1", "node4"):
    hops = [(host, h) for h in p["hops"]]
else:
    # the same packet in the whole recording: its hops, each on the host that saw it
    w = [o for o in lines("whole", "packet") if o["summary"] == p["summary"]]
    assert len(w) == 1, w
    hops = [("node3" if h["netns"] == root else "node2", h) for h in w[0]["hops"]]
for h, x in hops:
    print(f"{h}\t{x['ts_ns']}\t{x['netns']}\t{x['ifname']}\t{tsv(x['hook'])}")
EOF
) || return 1
		assert_ge "$(wc -l <<<"$want")" 1 "$host packet $id: hops" || return 1
		assert_eq "$got" "$want" "path of $host packet $id" || return 1
		grep -q '^node2' <<<"$got" && grep -q '^node3' <<<"$got" && crossed=$((crossed + 1))
		checked=$((checked + 1))
	done < <(ch --query "SELECT host, id FROM packets ORDER BY host, id")
	assert_eq "$checked" "$(ch --query 'SELECT count() FROM packets')" "packets checked" || return 1
	assert_eq "$crossed" 8 "paths across node2 and node3 (4 on each host)"
}

test_hop_latency_percentiles() {
	fleet_prepare || return $?
	local got want
	got=$(recipe hop-latency) || fail "recipe hop-latency" || return 1
	want=$(py_json <<'EOF'
import collections
d = collections.defaultdict(list)
for h in HOSTS:
    for p in lines(h, "packet"):
        hops = p["hops"]
        name = lambda x: f"{x['ifname']}@{x['netns']} {x['hook'] or ''}"
        for a, b in zip(hops, hops[1:]):
            d[(h, f"{name(a)} -> {name(b)}")].append(b["delta_ns"])
for (h, hop), v in sorted(d.items()):
    print(f"{h}\t{hop}\t{len(v)}\t{q((0.5, 0.9, 0.99), v)}\t{max(v)}")
EOF
)
	assert_ge "$(wc -l <<<"$want")" 20 "hops with a latency" || return 1
	# tcp-routed: 8 segments through the router, one hop each way
	assert_match "$want" $'^node1\teth0@[0-9]+ net:net_dev_start_xmit -> [^\t]+\t[0-9]+\t\\[' "a latency row" || return 1
	assert_eq "$got" "$want" "hop latency percentiles = the packets' delta_ns"
}

test_rtt_per_host() {
	fleet_prepare || return $?
	local got want
	got=$(recipe rtt) || fail "recipe rtt" || return 1
	want=$(py_json <<'EOF'
import collections
d = collections.defaultdict(list)
for h in HOSTS:
    for p in lines(h, "pair"):
        d[(h, p["kind"])].append(p["rtt_ns"])
for (h, k), v in sorted(d.items()):
    print(f"{h}\t{k}\t{len(v)}\t{q((0.5, 0.99), v)}")
EOF
)
	assert_match "$want" $'node2\ticmp-echo\t2' "node2's pings" || return 1
	assert_eq "$got" "$want" "pairs and rtt percentiles per host and kind"
}

# pkt-analyze's lines with the keys that ../shared/DESIGN.md adds and that
# pkt-analyze does not write everywhere yet: fate, fate_detail, why and cause
# (an object) on packet lines, without "dropped"; host and netns_name in hops;
# netns_name on event lines. Reads JSON lines on stdin.
KEYS_TO_COME_PY='
import json, sys
for line in sys.stdin:
    o = json.loads(line)
    if o["type"] == "packet":
        dropped = o.pop("dropped")
        o["fate"] = "dropped" if dropped else "delivered"
        o["fate_detail"] = "freed with reason " + o["drop"] if dropped else "reached a socket"
        o["why"] = ("dropped: " + o["drop"]) if dropped else None
        o["cause"] = {"reason": o["drop"], "hop": {"ifname": o["hops"][-1]["ifname"]}} if dropped else None
        for h in o["hops"]:
            h["host"] = "elsewhere"
            h["netns_name"] = "ns-%d" % h["netns"]
    elif o["type"] == "event":
        o["netns_name"] = "ns-%d" % o["netns"]
    sys.stdout.write(json.dumps(o, separators=(",", ":")) + "\n")
'

test_keys_to_come_load() {
	# shellcheck disable=SC2317 # called by the loader of docs/fleet.md
	pkt-analyze() { "$PKT_ANALYZE" "$@" | python3 -c "$KEYS_TO_COME_PY"; }
	fleet_prepare || return $?
	local got want
	got=$(ch --query "SELECT count(), countIf(fate IS NOT NULL), countIf(fate_detail IS NOT NULL),
		countIf(why IS NOT NULL), sum(dropped) FROM packets")
	want=$(py_json <<'PY'
p = [o for h in HOSTS for o in lines(h, "packet")]
print(f"{len(p)}\t{len(p)}\t{len(p)}\t{sum(bool(o['dropped']) for o in p)}\t0")
PY
)
	assert_eq "$got" "$want" "packets: fate, fate_detail and why loaded, no dropped key" || return 1
	got=$(ch --query "SELECT count(), countIf(netns_name = concat('ns-', toString(netns))) FROM events")
	want=$(py_json <<<'n = sum(len(lines(h, "event")) for h in HOSTS); print(f"{n}\t{n}")')
	assert_eq "$got" "$want" "events: netns_name loaded" || return 1
	# the drops recipe reads fate when there is no dropped key
	got=$(recipe drops-per-reason) || fail "recipe drops-per-reason" || return 1
	want=$(py_json <<'PY'
import collections
c = collections.Counter((h, p["drop"] or "unknown") for h in HOSTS for p in lines(h, "packet") if p["dropped"])
for (h, r), n in sorted(c.items(), key=lambda x: (x[0][0], -x[1], x[0][1])):
    print(f"{h}\t{r}\t{n}")
PY
)
	assert_match "$want" $'node1\tNETFILTER_DROP\t1' "node1's nft drop, from fate" || return 1
	assert_eq "$got" "$want" "drops per reason from fate"
}

# A line that names its host keeps it; one that does not gets the loader's.
test_loader_keeps_a_lines_host() {
	ch_start a || return $?
	ch --multiquery <"$FLEET_SQL" || return 1
	eval "$(doc_block load)" || return 1
	# no pair lines: the loader must not send an empty INSERT
	# shellcheck disable=SC2317 # called by fleet_load
	pkt-analyze() {
		case $* in
		*events*)
			echo '{"type":"event","host":"recorded-on","n":0,"ts_ns":5,"netns":1,"ifname":"eth0","len":60}'
			echo '{"type":"event","n":1,"ts_ns":6,"netns":1,"ifname":"eth0","len":60}'
			;;
		*packets*) echo '{"type":"packet","id":1,"hops":[{"host":"recorded-on","ts_ns":5}],"nhops":1}' ;;
		esac
	}
	fleet_load loaded-as x || fail "fleet_load" || return 1
	assert_eq "$(ch --query 'SELECT host, n FROM events ORDER BY n' | tr '\t\n' ': ')" \
		"recorded-on:0 loaded-as:1 " "event hosts" || return 1
	assert_eq "$(ch --query 'SELECT host, id, nhops FROM packets' | tr '\t' ':')" "loaded-as:1:1" \
		"a host inside hops is not the line's" || return 1
	assert_eq "$(ch --query 'SELECT count() FROM pairs')" 0 "no pairs"
}

# A fleet of two servers as docs/clickhouse.sql says: each loads its own
# hosts into its local tables (a: node1 node2, b: node3 node4, so the path
# across node2 and node3 spans both servers) and a's Distributed tables,
# made from the file's comment, see both. Every recipe, with its tables
# turned into the Distributed ones, answers on the fleet what it answers on
# one server holding every host (database ref on a).
test_distributed_tables() {
	local pa pb cluster ddl host id n=0
	pa=$(free_port) && pb=$(free_port) || return 1
	[ "$pa" != "$pb" ] || pb=$(free_port)
	cluster="<remote_servers><fleet>
		<shard><replica><host>127.0.0.1</host><port>$pa</port></replica></shard>
		<shard><replica><host>127.0.0.1</host><port>$pb</port></replica></shard>
	</fleet></remote_servers>"
	ch_start a "$pa" "$cluster" || return $?
	ch_start b "$pb" "$cluster" || return $?
	ch --multiquery <"$FLEET_SQL" || return 1
	CH_PORT=$pb ch --multiquery <"$FLEET_SQL" || return 1
	ch --query 'CREATE DATABASE ref' && ch --database ref --multiquery <"$FLEET_SQL" || return 1
	# the commented-out CREATE TABLE ..._all statements (two lines each)
	ddl=$(awk '/^--   CREATE TABLE [a-z]+_all AS/ { print; getline; print }' "$FLEET_SQL" | sed 's/^--   //')
	assert_match "$ddl" 'ENGINE = Distributed\(fleet, default, events, cityHash64\(host\)\);' \
		"Distributed DDL in docs/clickhouse.sql" || return 1
	ch --multiquery --query "$ddl" || fail "the Distributed tables of docs/clickhouse.sql" || return 1

	fleet_inputs || return 1
	for host in $FLEET_HOSTS; do
		CH_DB=ref load_host "$host" || return 1
	done
	load_host node1 && load_host node2 || return 1
	CH_PORT=$pb load_host node3 && CH_PORT=$pb load_host node4 || return 1
	assert_eq "$(CH_PORT=$pb ch --query 'SELECT DISTINCT host FROM events ORDER BY host' | tr '\n' ' ')" \
		"node3 node4 " "server b's own hosts" || return 1

	local r got want
	for r in drops-per-reason drops-per-place hop-latency rtt; do
		want=$(recipe_on ref "$r") && got=$(recipe_on all "$r") || fail "recipe $r" || return 1
		assert_ge "$(wc -l <<<"$want")" 2 "$r rows" || return 1
		assert_eq "$got" "$want" "$r on the Distributed tables" || return 1
	done
	while read -r host id; do
		want=$(recipe_on ref packet-path "$host" "$id") &&
			got=$(recipe_on all packet-path "$host" "$id") || fail "recipe packet-path" || return 1
		assert_eq "$got" "$want" "path of $host packet $id on the Distributed tables" || return 1
		n=$((n + 1))
	done < <(ch --database ref --query 'SELECT host, id FROM packets ORDER BY host, id')
	assert_ge "$n" 20 "paths compared"
}

recipe_on() { # ref|all NAME [HOST PACKET]: a recipe on database ref, or on the Distributed tables
	local sql
	sql=$(doc_block "$2")
	[ -n "$sql" ] || { echo "  no recipe '$2' in docs/fleet.md" >&2; return 1; }
	sql=${sql//\$HOST/${3:-}}
	sql=${sql//\$PACKET/${4:-}}
	if [ "$1" = all ]; then
		sql=$(sed -E 's/\b(FROM|JOIN) (events|packets|pairs)\b/\1 \2_all/g' <<<"$sql")
		assert_match "$sql" '_all' "$2 reads the Distributed tables" || return 1
		ch --query "$sql"
	else
		ch --database ref --query "$sql"
	fi
}
