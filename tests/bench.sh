#!/usr/bin/env bash
# make bench: recording cost and analysis speed against peers, in one run.
#
# Topology: tests/lib.sh (bridge + veth + routed namespace). Traffic: a
# 64-byte UDP flood with iperf3 from "container" a to c behind the router,
# BENCH_SECONDS each, BENCH_REPS times per condition, the conditions taking
# turns so that a slow minute of the shared machine hits them all; medians
# are reported. Ratios, not absolute numbers, are what matter.
#
# perf and pkt-record run on the same tracepoints: pkt-record's default
# hooks, then every hook it has (-e all), read from --list-events. The floor
# is a BPF program of the same kind as pkt-record's (tp_btf) on the default
# hooks that only counts its hits (tests/bench/floor.c): what any BPF
# recorder pays before it does any work. perf's own loss is counted too.
#
# Results: printed as a table and written to docs/performance.md.
# BENCH_CONDITIONS="baseline floor pkt-record" runs only those (an A/B of a
# change: its rates and ratios are printed, the analysis part and the report
# are left out). Besides the conditions of the full run: pkt-record-ref and
# pkt-record-ref-filtered (another build, BENCH_REF_RECORD, below); ceil-a
# to ceil-d, the ceiling builds of the kernel side (tests/bench/ceil.bpf.c,
# `make build/ceil`: a reader that drops what it drains); NAME-bpf of a
# recording condition: the kernel's accounting of BPF time per packet.
set -u
TESTS_DIR=$(cd "$(dirname "$0")" && pwd)
source "$TESTS_DIR/lib.sh"
SECS=${BENCH_SECONDS:-4}
REPS=${BENCH_REPS:-3}
WORK=$(mktemp -d /tmp/pkt-bench.XXXXXX)
REPORT=${BENCH_REPORT:-$TOP_DIR/docs/performance.md}
# HOOK DEFAULT STATE rows of --list-events: default (yes) or all, available ones
hook_list() {
	"$PKT_RECORD" --list-events | awk -v which="$1" \
		'NR > 1 && $NF == "available" && (which == "all" || $2 == "yes") { printf "%s%s", sep, $1; sep = "," }'
}
PERF_EVENTS=$(hook_list default)
PERF_EVENTS_ALL=$(hook_list all)
[ -n "$PERF_EVENTS" ] && [ -n "$PERF_EVENTS_ALL" ] || { echo "bench: pkt-record --list-events gave no hooks" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || { echo "bench: needs root" >&2; exit 1; }
for t in iperf3 perf tshark capinfos python3; do
	command -v $t >/dev/null || { echo "bench: $t missing (make deps)" >&2; exit 1; }
done

cleanup() {
	[ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null
	topo_destroy
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
topo_create || exit 1

# UDP datagrams netns c's sockets had no room for (its receive buffers full)
rcvbuf_errors() {
	ip netns exec "$NS_C" awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) col[$i] = i; h = 1 } else print $col["RcvbufErrors"] }' /proc/net/snmp
}

# One flood; prints the packets per second that crossed the whole path: the
# ones iperf3 received and the ones the receiving socket had no room for.
# The sender's CPU runs the path; the receiver shares the other CPU with the
# recorder (and, on a shared machine, with everything else): counting only
# what it read measured how starved it was, not what the path cost (a
# loaded run had recording "faster" than no recording).
flood() {
	local json=$WORK/iperf.json before after
	before=$(rcvbuf_errors)
	# bounded: a client that never connects must not leave the server (and the bench) waiting
	ip netns exec "$NS_C" timeout $((SECS + 20)) iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	SRV=$!
	sleep 0.3
	ip netns exec "$NS_A" timeout $((SECS + 15)) iperf3 -c "$IP_C" -p 5201 -u -b 0 -l 64 -t "$SECS" -J >"$json" 2>/dev/null
	wait "$SRV" 2>/dev/null
	SRV=
	after=$(rcvbuf_errors)
	python3 - "$json" $((after - before)) "$WORK/crossed" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["end"]["sum"]
crossed = s["packets"] - s["lost_packets"] + int(sys.argv[2])
open(sys.argv[3], "w").write(f"{crossed}\n")
print(int(crossed / s["seconds"]))
PY
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }

proc_cpu() { # utime+stime seconds of pid
	awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14+$15)/hz}' "/proc/$1/stat"
}
proc_hwm() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; } # kB

# The kernel's own accounting of the BPF programs PID holds: "run_time_ns run_cnt"
# summed (kernel.bpf_stats_enabled must be on while they run)
# (from the fdinfo of its program descriptors: bpftool's pids need a build
# with BPF iterators, which Debian's lacks)
bpf_prog_time() {
	python3 - "$1" <<'PY'
import glob, sys
seen, ns, cnt = set(), 0, 0
for path in glob.glob(f"/proc/{sys.argv[1]}/fdinfo/*"):
    try:
        kv = dict(l.split(":", 1) for l in open(path) if ":" in l)
    except OSError:
        continue
    pid = kv.get("prog_id", "").strip()
    if pid and "run_time_ns" in kv and pid not in seen:
        seen.add(pid)
        ns += int(kv["run_time_ns"])
        cnt += int(kv["run_cnt"])
print(ns, cnt)
PY
}
# One flood with the kernel's accounting on, for the programs of PID: appends
# "BPF-ns-per-packet hits-per-packet" (over the packets that crossed the
# path) to $WORK/acct-NAME (this runs in $(...): no variable survives it),
# prints the rate. The accounting reads the clock twice per run, so these
# floods' rates are not the table's (they run apart from it).
accounted_flood() { # NAME PID
	local old b_ns b_cnt a_ns a_cnt rate crossed
	old=$(sysctl -n kernel.bpf_stats_enabled)
	sysctl -qw kernel.bpf_stats_enabled=1
	read -r b_ns b_cnt < <(bpf_prog_time "$2")
	rate=$(flood)
	read -r a_ns a_cnt < <(bpf_prog_time "$2")
	sysctl -qw kernel.bpf_stats_enabled="$old"
	crossed=$(cat "$WORK/crossed")
	python3 -c "c = max($crossed, 1); print(($a_ns - $b_ns) // c, round(($a_cnt - $b_cnt) / c, 2))" >>"$WORK/acct-$1"
	echo "$rate"
}

# NAME OUT CMD...: one of the bench's BPF builds (the floor, a ceiling) run in
# the background until it says "attached" in OUT, one flood under it (with the
# kernel's accounting for NAME-bpf), then stopped; the rate in BUILD_RATE (not
# printed: an exit here must end the bench, not a $(...) subshell)
flood_under_build() {
	local name=$1 out=$2 pid i
	shift 2
	"$@" >"$out" 2>&1 &
	pid=$!
	for i in $(seq 1 100); do
		grep -q attached "$out" && break
		kill -0 $pid 2>/dev/null || { cat "$out" >&2; exit 1; }
		sleep 0.05
	done
	if [[ $name = *-bpf ]]; then
		BUILD_RATE=$(accounted_flood "$name" $pid)
	else
		BUILD_RATE=$(flood)
	fi
	kill -INT $pid
	wait $pid || { cat "$out" >&2; exit 1; }
}

# The filtered conditions' filter: it matches nothing in the UDP flood
NO_MATCH_FILTER=icmp
declare -A RATE RATES EV LOST
run_once() { # CONDITION: one flood under it; its rate is appended to RATES[CONDITION]
	local name=$1 rates=()
	case $name in
	baseline) rates+=("$(flood)") ;;
	floor | floor-bpf)
		# count-only tp_btf programs on the default hooks: the floor
		flood_under_build $name "$WORK/floor.out" "$FLOOR" "$PERF_EVENTS"
		rates+=("$BUILD_RATE")
		;;
	ceil-? | ceil-?-bpf)
		# a ceiling build (tests/bench/ceil.bpf.c), its reader dropping what it drains
		local mode=${name#ceil-}
		mode=${mode%-bpf}
		flood_under_build $name "$WORK/ceil.out" "$TOP_DIR/build/ceil" "$mode" "$PERF_EVENTS"
		rates+=("$BUILD_RATE")
		read -r _ ev _ lost < <(grep '^events' "$WORK/ceil.out")
		EV[$name]=$((${EV[$name]:-0} + ev))
		LOST[$name]=$((${LOST[$name]:-0} + lost))
		;;
	perf-stat)
		# counting only, in the kernel: the floor any tracepoint user pays
		perf stat -a -e "$PERF_EVENTS" -x, -o "$WORK/perf-stat.txt" >/dev/null 2>&1 &
		local ps=$!
		sleep 1
		rates+=("$(flood)")
		kill -INT $ps
		wait $ps 2>/dev/null
		;;
	perf | perf-all)
		local ev=$PERF_EVENTS
		[ $name = perf-all ] && ev=$PERF_EVENTS_ALL
		rm -f "$WORK/perf.data"
		perf record -q -e "$ev" -a -o "$WORK/perf.data" >/dev/null 2>&1 &
		local pp=$!
		sleep 1.5
		rates+=("$(flood)")
		kill -INT $pp
		wait $pp 2>/dev/null
		if [ $name = perf ]; then
			PERF_BYTES=$(stat -c %s "$WORK/perf.data")
			# the aggregated SAMPLE count, then the samples each event lost
			# (its LOST_SAMPLES line: the aggregated one counts records)
			read -r PERF_EVENTS_N PERF_LOST_N < <(perf report -i "$WORK/perf.data" --stats 2>/dev/null | awk '
				/^[^ ].* stats:$/ && !/^Aggregated/ { per = 1 }
				/SAMPLE events/ && !per && !s { s = $3 }
				/LOST_SAMPLES events/ && per { l += $3 }
				END { print s + 0, l + 0 }')
			PERF_EV_ALL=$((${PERF_EV_ALL:-0} + PERF_EVENTS_N))
			PERF_LOST_ALL=$((${PERF_LOST_ALL:-0} + PERF_LOST_N))
		fi
		;;
	pkt-record-bpf | pkt-record-filtered-bpf)
		local fargs=()
		[ $name = pkt-record-filtered-bpf ] && fargs=("$NO_MATCH_FILTER")
		rm -f "$WORK/rec.pcapng.zst"
		record_start "$WORK/rec.pcapng.zst" --force "${fargs[@]}" || exit 1
		rates+=("$(accounted_flood $name "$REC_PID")")
		record_stop || exit 1
		;;
	pkt-record | pkt-record-filtered | pkt-record-all | pkt-record-ref | pkt-record-ref-filtered)
		local args=() bin=$PKT_RECORD
		[[ $name = *-filtered ]] && args=("$NO_MATCH_FILTER")
		[ $name = pkt-record-all ] && args=(-e all)
		[[ $name = pkt-record-ref* ]] && bin=$BENCH_REF_RECORD
		rm -f "$WORK/rec.pcapng.zst"
		PKT_RECORD=$bin record_start "$WORK/rec.pcapng.zst" --force "${args[@]}" || exit 1
		rates+=("$(flood)")
		if [ $name = pkt-record ]; then
			REC_CPU=$(proc_cpu "$REC_PID")
			REC_HWM=$(proc_hwm "$REC_PID")
		fi
		record_stop || exit 1
		local summary
		summary=$(grep -E 'events recorded' "$REC_ERR" | tail -n1)
		EV[$name]=$((${EV[$name]:-0} + $(sed -E 's/.* ([0-9]+) events recorded.*/\1/' <<<"$summary")))
		LOST[$name]=$((${LOST[$name]:-0} + $(sed -E 's/.* ([0-9]+) lost.*/\1/' <<<"$summary")))
		if [ $name = pkt-record ]; then
			REC_SUMMARY=$summary
			REC_BYTES=$(stat -c %s "$WORK/rec.pcapng.zst")
			cp "$WORK/rec.pcapng.zst" "$WORK/last.pcapng.zst"
		fi
		;;
	esac
	RATES[$name]+="${rates[*]} "
}

# The optional hooks (those after skb:skb_copy_datagram_iovec in --list-events,
# or BENCH_HOOKS=a,b), each added to the default set, one at a time: a flood
# with the default set, then one with default,HOOK, in turn, BENCH_REPS
# pairs per hook; the ratio is taken pair by pair. BENCH_ONLY=hooks runs
# this part alone. Its table replaces the "## Optional hooks" section of the
# report; BENCH_NOTE=" (...)" is appended to its machine line.
OPT_HOOKS=${BENCH_HOOKS:-$("$PKT_RECORD" --list-events | awk 'NR > 1 && seen && $2 == "no" && $NF == "available" { printf "%s%s", sep, $1; sep = "," } $1 == "skb:skb_copy_datagram_iovec" { seen = 1 }')}
rec_flood() { # HOOKS: one flood recorded with -e HOOKS; prints "RATE EVENTS LOST"
	local rate line
	rm -f "$WORK/hk.pcapng.zst"
	record_start "$WORK/hk.pcapng.zst" --force -e "$1" >&2 || exit 1
	rate=$(flood)
	record_stop >&2 || exit 1
	line=$(grep -E 'events recorded' "$REC_ERR" | tail -n1)
	echo "$rate $(sed -E 's/.* ([0-9]+) events recorded, ([0-9]+) lost.*/\1 \2/' <<<"$line")"
}
# The cost of each hook per hit, in one flood recorded with -e all: the
# kernel's own accounting of each BPF program (kernel.bpf_stats_enabled:
# run count and run time), for this pkt-record's programs only (their ids
# from its fdinfo). Independent of how fast the shared machine lets the
# flood go; the accounting adds two clock reads per run to each figure.
# Prints "TRACEPOINT RUNS NS_PER_RUN" lines.
hook_cost() { # [TRAFFIC]: a function making traffic (flood by default)
	local old ids
	old=$(sysctl -n kernel.bpf_stats_enabled)
	rm -f "$WORK/cost.pcapng.zst"
	record_start "$WORK/cost.pcapng.zst" --force -e all >&2 || exit 1
	ids=$(grep -h '^prog_id:' /proc/"$REC_PID"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u | tr '\n' ' ')
	sysctl -qw kernel.bpf_stats_enabled=1
	"${1:-flood}" >/dev/null
	bpftool prog show -j >"$WORK/progs.json"
	sysctl -qw kernel.bpf_stats_enabled="$old"
	record_stop >&2 || exit 1
	python3 - "$WORK/progs.json" "$ids" <<'PY'
import json, sys
ids = {int(i) for i in sys.argv[2].split()}
for p in json.load(open(sys.argv[1])):
    if p["id"] in ids and p.get("run_cnt"):
        print(p["name"], p["run_cnt"], round(p["run_time_ns"] / p["run_cnt"]))
PY
}

hooks_ab() {
	local h r a b rows="" cost
	echo "bench: optional hooks, each A/B against the default set: $OPT_HOOKS" >&2
	for h in ${OPT_HOOKS//,/ }; do
		local ratios=() ra=() rb=() ea=() eb=()
		for r in $(seq 1 "$REPS"); do
			read -r a_rate a_ev _ < <(rec_flood default)
			read -r b_rate b_ev _ < <(rec_flood "default,$h")
			ra+=("$a_rate") rb+=("$b_rate") ea+=("$a_ev") eb+=("$b_ev")
			ratios+=("$(python3 -c "print(round($b_rate / max($a_rate, 1), 3))")")
		done
		a=$(printf '%s\n' "${ra[@]}" | median)
		b=$(printf '%s\n' "${rb[@]}" | median)
		r=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
		echo "  default,$h: ${rb[*]} vs default ${ra[*]} -> ratios ${ratios[*]}" >&2
		rows+="$h $a $b $r $(printf '%s\n' "${ea[@]}" | median) $(printf '%s\n' "${eb[@]}" | median)"$'\n'
	done
	cost=$(hook_cost)
	echo "  per-hit cost (runs, ns/run) under -e all: $(tr '\n' ';' <<<"$cost")" >&2
	python3 - "$REPORT" "$rows" "$cost" <<PY
import sys, platform, os, datetime
rows = [l.split() for l in sys.argv[2].splitlines() if l.strip()]
cost = {l.split()[0]: l.split()[1:] for l in sys.argv[3].splitlines() if l.strip()}
secs = $SECS
head = ("hook added to the default set", "default pkt/s", "with it", "ratio (median of pairs)", "events/s default", "with it")
out = [head] + [(h, f"{int(a):,}", f"{int(b):,}", r, f"{int(ea)/secs:,.0f}", f"{int(eb)/secs:,.0f}") for h, a, b, r, ea, eb in rows]
w = [max(len(r[i]) for r in out) for i in range(len(head))]
table = "\n".join("  ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(r)) for r in out)
# per hit: programs are named after their tracepoints (the kernel's name is cut at 15 characters)
chead = ("hook (one flood, -e all)", "hits/s", "ns per hit", "CPU share")
cout = [chead]
for h in [r[0] for r in rows] + ["net:net_dev_start_xmit", "net:netif_receive_skb", "skb:kfree_skb"]:
    tp = h.split(":", 1)[1]
    c = cost.get(tp) or cost.get(tp[:15])
    if c:
        runs, ns = int(c[0]), int(c[1])
        cout.append((h, f"{runs / secs:,.0f}", f"{ns:,}", f"{runs * ns / (secs * 1e9) * 100:.1f}%"))
    else:
        cout.append((h, "0", "-", "-"))
cw = [max(len(r[i]) for r in cout) for i in range(len(chead))]
table += "\n\n" + "\n".join("  ".join(c.ljust(cw[i]) if i == 0 else c.rjust(cw[i]) for i, c in enumerate(r)) for r in cout)
print(table)
sec = ("## Optional hooks\n\n"
       f"Each optional hook added to the default set, one at a time (\`make bench\`, or\n"
       f"\`BENCH_ONLY=hooks\`): $REPS pairs of ${SECS}s floods per hook, the default set and\n"
       f"default,HOOK in turn; the ratio is the median of the pairs' ratios.\n\n"
       f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}\n"
       f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, kernel {platform.release()}"
       f"{os.environ.get('BENCH_NOTE', '')}\n"
       "- traffic: the flood above (64-byte UDP, a to c across the bridge and the router);\n"
       "  a hook its path never fires costs what an unused tracepoint costs: nothing\n"
       "- second table: one flood recorded with \`-e all\`, each program's run count and\n"
       "  run time from the kernel (\`kernel.bpf_stats_enabled\`, on for that flood only):\n"
       "  the cost per hit does not depend on how fast the shared machine lets the flood go\n"
       "- reading the first table: a hook with no hit in the flood (0 in the second table)\n"
       "  costs nothing, so its ratio shows only the noise of the machine; where those\n"
       "  swing as far as the others, trust the second table, not the first\n\n"
       "\`\`\`\n" + table + "\n\`\`\`\n")
try:
    old = open(sys.argv[1]).read()
except OSError:
    old = "# Performance\n"
i = old.find("\n## Optional hooks")
if i >= 0:
    j = old.find("\n## ", i + 1)
    old = old[:i] + ("\n" + old[j + 1:] if j >= 0 else "\n")
open(sys.argv[1], "w").write(old.rstrip("\n") + "\n\n" + sec)
PY
}
# The mixed traffic of the analysis part: a TCP bulk transfer a to b beside four pings, SECS long
mixed_traffic() {
	local i pids=()
	ip netns exec "$NS_B" iperf3 -s -1 -p 5202 >/dev/null 2>&1 &
	SRV=$!
	sleep 0.3
	for i in 1 2 3; do
		ip netns exec "$NS_A" ping -q -c $((SECS * 20)) -i 0.05 "$IP_B" >/dev/null 2>&1 &
		pids+=($!)
	done
	ip netns exec "$NS_B" ping -q -c $((SECS * 20)) -i 0.05 "$IP_A" >/dev/null 2>&1 &
	pids+=($!)
	ip netns exec "$NS_A" iperf3 -c "$IP_B" -p 5202 -t "$SECS" >/dev/null 2>&1
	wait "${pids[@]}"
	wait "$SRV" 2>/dev/null
	SRV=
}
# BENCH_ONLY=cost: every program's hits and ns per hit (hook_cost) in the
# flood and in the mixed traffic, printed only (the figures of the "Default
# hooks" section of docs/performance.md).
if [ "${BENCH_ONLY:-}" = cost ]; then
	for t in flood mixed_traffic; do
		echo "bench: $t, -e all, ${SECS}s: program runs ns/run" >&2
		hook_cost "$t" | sed 's/^/  /'
	done
	exit 0
fi
if [ "${BENCH_ONLY:-}" = hooks ]; then
	hooks_ab
	exit 0
fi

ALL_CONDITIONS="baseline floor perf-stat perf pkt-record pkt-record-filtered perf-all pkt-record-all floor-bpf pkt-record-bpf pkt-record-filtered-bpf"
CONDITIONS=${BENCH_CONDITIONS:-$ALL_CONDITIONS}
# BENCH_REF_RECORD=path/to/another/pkt-record: condition pkt-record-ref runs
# that binary, default hooks (an A/B of two builds in the same run);
# pkt-record-ref-filtered, that binary with the filter of pkt-record-filtered
case " $CONDITIONS " in *" pkt-record-ref"*)
	[ -x "${BENCH_REF_RECORD:-}" ] || { echo "bench: pkt-record-ref needs BENCH_REF_RECORD" >&2; exit 1; } ;;
esac
FLOOR=$TOP_DIR/build/bench-floor
[ -x "$FLOOR" ] || { echo "bench: $FLOOR missing (make build/bench-floor)" >&2; exit 1; }
case " $CONDITIONS " in *" ceil-"*)
	[ -x "$TOP_DIR/build/ceil" ] || { echo "bench: $TOP_DIR/build/ceil missing (make build/ceil)" >&2; exit 1; } ;;
esac
echo "bench: $REPS x ${SECS}s 64-byte UDP floods across bridge + veth + router, conditions in turn" >&2
echo "bench: default hooks $PERF_EVENTS; all: $PERF_EVENTS_ALL" >&2
for r in $(seq 1 "$REPS"); do
	for c in $CONDITIONS; do
		run_once $c
	done
done
for c in $CONDITIONS; do
	RATE[$c]=$(printf '%s\n' ${RATES[$c]} | median)
	echo "  $c: ${RATES[$c]}-> median ${RATE[$c]} pkt/s" >&2
done
ratio() { # A B: A/B to 3 places
	python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print(f'{a / b:.3f}' if b else '-')" "$1" "$2"
}
for c in $CONDITIONS; do
	line="  $c: ${RATE[$c]} pkt/s"
	[ -n "${RATE[baseline]:-}" ] && line+=", $(ratio "${RATE[$c]}" "${RATE[baseline]}") of baseline"
	[ -n "${RATE[floor]:-}" ] && line+=", $(ratio "${RATE[$c]}" "${RATE[floor]}") of the floor"
	[ -n "${RATE[perf]:-}" ] && line+=", $(ratio "${RATE[$c]}" "${RATE[perf]}")x perf"
	echo "$line" >&2
done
for c in "${!EV[@]}"; do
	echo "  $c: events lost over its runs: ${LOST[$c]} of $((EV[$c] + LOST[$c]))" >&2
done
declare -A NS_MED HITS_MED
for c in $(tr ' ' '\n' <<<"$CONDITIONS" | grep -- '-bpf$'); do
	[ -s "$WORK/acct-$c" ] || continue
	NS_MED[$c]=$(cut -d' ' -f1 "$WORK/acct-$c" | median)
	HITS_MED[$c]=$(cut -d' ' -f2 "$WORK/acct-$c" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	echo "  $c: BPF ns per packet $(cut -d' ' -f1 "$WORK/acct-$c" | tr '\n' ' ')-> median ${NS_MED[$c]}, hits per packet $(cut -d' ' -f2 "$WORK/acct-$c" | tr '\n' ' ')" >&2
done
if [ -n "${PERF_EV_ALL:-}" ]; then
	echo "  perf record samples lost over its default-hook runs: ${PERF_LOST_ALL} of $((PERF_EV_ALL + PERF_LOST_ALL))" >&2
fi
[ "$CONDITIONS" = "$ALL_CONDITIONS" ] || exit 0

# Recorder figures from its own summary line: "N events recorded, N lost, N bytes ..."
REC_EVENTS=$(sed -E 's/.* ([0-9]+) events recorded.*/\1/' <<<"$REC_SUMMARY")
REC_LOST=$(sed -E 's/.* ([0-9]+) lost.*/\1/' <<<"$REC_SUMMARY")
FILE_EVENTS=$(capinfos -c -M "$WORK/last.pcapng.zst" | awk '/Number of packets/ {print $NF}')
ANALYZE_LOST=$("$PKT_ANALYZE" --stats --format json "$WORK/last.pcapng.zst" | python3 -c 'import json,sys; print([json.loads(l) for l in sys.stdin if l.strip()][-1]["lost"])')

# Analysis speed on the recorded file.
timeit() { # prints seconds; peak RSS kB in HWM
	local start end
	start=$(date +%s.%N)
	"$@" >/dev/null 2>"$WORK/timeit.err" &
	local pid=$! hwm=0 h
	while kill -0 $pid 2>/dev/null; do
		h=$(proc_hwm $pid 2>/dev/null)
		[ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
		sleep 0.02
	done
	wait $pid
	end=$(date +%s.%N)
	echo "$hwm" >"$WORK/hwm" # this runs in $(...): the caller reads the file
	python3 -c "print(round($end - $start, 3))"
}
T_ANALYZE=$(timeit "$PKT_ANALYZE" --stats "$WORK/last.pcapng.zst"); M_ANALYZE=$(cat "$WORK/hwm")
T_TSHARK=$(timeit tshark -r "$WORK/last.pcapng.zst" -T fields -e frame.number); M_TSHARK=$(cat "$WORK/hwm")
T_CAPINFOS=$(timeit capinfos "$WORK/last.pcapng.zst"); M_CAPINFOS=$(cat "$WORK/hwm")

# Analysis of ordinary traffic: a TCP bulk transfer (veth GSO/GRO) and four
# concurrent pings (raw socket clones, many pairs), with the read hook.
mixed() {
	record_start "$WORK/mixed.pcapng.zst" --force -e default,skb_copy_datagram_iovec || exit 1
	mixed_traffic
	record_stop || exit 1
}
mixed
MIXED_EVENTS=$(capinfos -c -M "$WORK/mixed.pcapng.zst" | awk '/Number of packets/ {print $NF}')
# pkt-analyze: the median of 3 runs, as the floods are medians (one run moved
# by the machine's noise moved the figure); tshark (~40 s a run): one run.
T_MIXED_RUNS=() M_MIXED=0
for _ in 1 2 3; do
	T_MIXED_RUNS+=("$(timeit "$PKT_ANALYZE" --stats "$WORK/mixed.pcapng.zst")")
	[ "$(cat "$WORK/hwm")" -gt "$M_MIXED" ] && M_MIXED=$(cat "$WORK/hwm")
done
T_MIXED=$(printf '%s\n' "${T_MIXED_RUNS[@]}" | sort -g | sed -n 2p)
T_MIXED_TSHARK=$(timeit tshark -r "$WORK/mixed.pcapng.zst" -T fields -e frame.number)
MIXED_PAIRS=$("$PKT_ANALYZE" --stats --format json "$WORK/mixed.pcapng.zst" | python3 -c 'import json,sys; s=[json.loads(l) for l in sys.stdin if l.strip()][-1]; print(s["pairs"], s["unanswered"], s["dropped"])')

python3 - "$REPORT" <<PY
import sys, platform, os, datetime
rate = {"baseline": ${RATE[baseline]}, "floor": ${RATE[floor]}, "pstat": ${RATE[perf-stat]}, "perf": ${RATE[perf]}, "rec": ${RATE[pkt-record]}, "filt": ${RATE[pkt-record-filtered]}, "perfall": ${RATE[perf-all]}, "recall": ${RATE[pkt-record-all]}}
ev, lost, fev = int("${REC_EVENTS:-0}"), int("${REC_LOST:-0}"), int("${FILE_EVENTS:-0}")
rbytes, pbytes, pev = int("${REC_BYTES:-0}"), int("${PERF_BYTES:-0}"), int("${PERF_EVENTS_N:-0}" or 0)
pev_all, plost_all = int("${PERF_EV_ALL:-0}"), int("${PERF_LOST_ALL:-0}")
def of(k):
    """ratios of a condition's rate: to baseline, to the floor, to perf record"""
    r = rate[k]
    return f"{r/rate['baseline']:.2f} of baseline, {r/rate['floor']:.2f} of the floor, {r/max(rate['perf'],1):.2f}x perf"
ta, tt, tc = float("$T_ANALYZE"), float("$T_TSHARK"), float("$T_CAPINFOS")
mev, tm, tmt = int("${MIXED_EVENTS:-0}"), float("${T_MIXED:-0}"), float("${T_MIXED_TSHARK:-0}")
secs = $SECS
nsf, nsr = int("${NS_MED[floor-bpf]:-0}"), int("${NS_MED[pkt-record-bpf]:-0}")
nsx = int("${NS_MED[pkt-record-filtered-bpf]:-0}")
hpf, hpr = "${HITS_MED[floor-bpf]:-?}", "${HITS_MED[pkt-record-bpf]:-?}"
rows = [
 ("flood rate, no recording (pkt/s across the path)", f"{rate['baseline']:,}", ""),
 ("default hooks: $PERF_EVENTS", "", ""),
 ("with a count-only BPF program on them (the floor)", f"{rate['floor']:,}", f"{rate['floor']/rate['baseline']:.2f} of baseline"),
 ("with perf stat counting them", f"{rate['pstat']:,}", f"{rate['pstat']/rate['baseline']:.2f} of baseline"),
 ("with perf record on them", f"{rate['perf']:,}", f"{rate['perf']/rate['baseline']:.2f} of baseline, {rate['perf']/rate['floor']:.2f} of the floor"),
 ("perf record samples lost over its runs", f"{plost_all:,}", f"{100*plost_all/max(pev_all+plost_all,1):.3f}% of {pev_all+plost_all:,}"),
 ("with pkt-record, default hooks, zstd", f"{rate['rec']:,}", of('rec')),
 ("with pkt-record, filter '$NO_MATCH_FILTER' (matches nothing)", f"{rate['filt']:,}", of('filt')),
 ("BPF time per packet, the floor (kernel accounting)", f"{nsf:,} ns", f"{hpf} hits a packet"),
 ("BPF time per packet, pkt-record", f"{nsr:,} ns", f"{hpr} hits a packet; {nsr - nsf:,} ns more than the floor, {nsr/max(nsf,1):.1f}x its time" if nsf else ""),
 ("BPF time per packet, pkt-record, filter '$NO_MATCH_FILTER'", f"{nsx:,} ns", f"{nsx - nsf:,} ns more than the floor, {nsx/max(nsf,1):.1f}x its time" if nsf else ""),
 ("with perf record on every hook (-e all's list)", f"{rate['perfall']:,}", f"{rate['perfall']/rate['baseline']:.2f} of baseline"),
 ("with pkt-record -e all", f"{rate['recall']:,}", f"{rate['recall']/rate['baseline']:.2f} of baseline, {rate['recall']/max(rate['perfall'],1):.2f}x perf"),
 ("pkt-record events recorded (last run)", f"{ev:,}", f"{ev/secs:,.0f} events/s"),
 ("pkt-record events lost (reported)", f"{lost:,}", f"{100*lost/max(ev+lost,1):.3f}% ; file ISBs say {int('${ANALYZE_LOST:-0}'):,}"),
 ("events lost over all default-hook runs", f"{int('${LOST[pkt-record]:-0}'):,}", f"{100*int('${LOST[pkt-record]:-0}')/max(int('${EV[pkt-record]:-0}')+int('${LOST[pkt-record]:-0}'),1):.3f}% of {int('${EV[pkt-record]:-0}')+int('${LOST[pkt-record]:-0}'):,}"),
 ("events in the file (capinfos)", f"{fev:,}", "equal to recorded" if fev == ev else "DIFFERS from recorded"),
 ("bytes per event on disk (zstd, 128-byte snapshots)", f"{rbytes/max(fev,1):.1f}", f"perf: {pbytes/max(pev,1):.1f} bytes/event without packet bytes" if pev else ""),
 ("pkt-record CPU seconds / peak RSS", f"${REC_CPU:-?} s", f"${REC_HWM:-?} kB"),
 ("pkt-analyze --stats on the file", f"{ta:.2f} s", f"{fev/max(ta,1e-9):,.0f} events/s, peak {int('$M_ANALYZE'):,} kB"),
 ("tshark -T fields -e frame.number", f"{tt:.2f} s", f"pkt-analyze is {tt/max(ta,1e-9):.1f}x faster; tshark peak {int('$M_TSHARK'):,} kB"),
 ("capinfos", f"{tc:.2f} s", f"pkt-analyze takes {ta/max(tc,1e-9):.2f}x capinfos's time; peak {int('$M_CAPINFOS'):,} kB"),
 ("mixed traffic (TCP bulk + 4 pings): events in the file", f"{mev:,}", "pairs, unanswered, dropped: ${MIXED_PAIRS:-?}"),
 ("pkt-analyze --stats on it (median of 3 runs)", f"{tm:.2f} s", f"{mev/max(tm,1e-9):,.0f} events/s (runs: ${T_MIXED_RUNS[*]} s), peak {int('$M_MIXED'):,} kB"),
 ("tshark -T fields -e frame.number on it (one run)", f"{tmt:.2f} s", f"pkt-analyze is {tmt/max(tm,1e-9):.1f}x faster"),
]
w = max(len(r[0]) for r in rows)
table = "\n".join(f"{a:<{w}}  {b:>14}  {c}" for a, b, c in rows)
print(table)
# keep the hand-written analysis that follows the table from one run to the next
notes = ""
try:
    old = open(sys.argv[1]).read()
    i = old.find("\n## Where the time goes")
    notes = old[i:] if i >= 0 else ""
except OSError:
    pass
with open(sys.argv[1], "w") as f:
    f.write("# Performance\n\nLatest \`make bench\` run (medians of $REPS floods of ${SECS}s each).\n\n")
    f.write(f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}\n")
    f.write(f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, kernel {platform.release()}\n")
    f.write("- command: \`sudo make bench\` (BENCH_SECONDS=$SECS BENCH_REPS=$REPS)\n")
    f.write("- traffic: iperf3 64-byte UDP flood from netns a across the bridge and a routed netns to c\n\n")
    f.write("\`\`\`\n" + table + "\n\`\`\`\n")
    f.write(notes)
PY
hooks_ab
