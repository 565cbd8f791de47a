#!/usr/bin/env bash
# make demo: build a small docker-like topology in namespaces of its own,
# record a ping and a TCP connection across it with pkt-record, show
# pkt-analyze's path view, and remove the topology (also when interrupted).
# The recording stays in demo.pcapng.zst (or $DEMO_OUT).
set -u
TESTS_DIR=$(cd "$(dirname "$0")" && pwd)
source "$TESTS_DIR/lib.sh"
OUT=${DEMO_OUT:-$TOP_DIR/demo.pcapng.zst}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: pkt-record needs root (CAP_BPF and CAP_PERFMON) and the demo creates network namespaces; run: sudo make demo" >&2
	exit 1
fi

cleanup() {
	[ -n "${REC_PID:-}" ] && kill "$REC_PID" 2>/dev/null
	[ -n "${SRV_PID:-}" ] && kill "$SRV_PID" 2>/dev/null
	topo_destroy
}
trap cleanup EXIT
trap 'exit 130' INT TERM

topo_create || { echo "demo: could not create the topology" >&2; exit 1; }
cat <<EOT
Demo topology (removed on exit):
  root netns $(netns_inode root): bridge $BR $IP_BR  (like docker0)
    veth -> netns $NS_A ($(netns_inode "$NS_A")) eth0 $IP_A   "container" a
    veth -> netns $NS_B ($(netns_inode "$NS_B")) eth0 $IP_B   "container" b
    veth -> netns $NS_R ($(netns_inode "$NS_R")) router $IP_R / $IP_R1
              veth -> netns $NS_C ($(netns_inode "$NS_C")) eth0 $IP_C  behind the routed hop

EOT

rm -f "$OUT"
# Record only the demo's traffic: ICMP and the TCP port the demo uses.
record_start "$OUT" --force "icmp or tcp port 8080" || exit 1
echo "+ ip netns exec $NS_A ping -c 2 $IP_B          (across the bridge)"
ip netns exec "$NS_A" ping -c 2 -i 0.2 -q "$IP_B" | tail -n 2
echo "+ ip netns exec $NS_A ping -c 1 $IP_C          (across bridge and router)"
ip netns exec "$NS_A" ping -c 1 -q "$IP_C" | tail -n 2
echo "+ TCP connection $NS_A -> $IP_C:8080"
ip netns exec "$NS_C" nc -l -p 8080 >/dev/null 2>&1 &
SRV_PID=$!
sleep 0.3
echo hello | ip netns exec "$NS_A" nc -q 1 -w 2 "$IP_C" 8080 || true
sleep 0.5
record_stop || exit 1
REC_PID=
cat "$REC_ERR" >&2

echo
echo "+ pkt-analyze $OUT"
"$PKT_ANALYZE" "$OUT"
echo
echo "Reading it: each pair shows the request's hops then the reply's, with the"
echo "namespace (its ip netns name; 'host' is the root one; -n shows inodes) and"
echo "interface of every hop and the time since the previous one; '=>' is where"
echo "the packet ended. A reply freed with NO_SOCKET still reached ping: ping"
echo "reads replies through a raw socket, which gets a copy, and the kernel then"
echo "frees the original when no ICMP socket wants it; that is no drop."
echo "More views: pkt-analyze --topology $OUT (namespaces and links),"
echo "pkt-analyze --graph path.svg $OUT (the first pair drawn with Graphviz)."
echo
echo "The recording is in $OUT. Open it in Wireshark with:"
echo "    wireshark -X lua_script:$TOP_DIR/wireshark/pktrec.lua $OUT"
echo "(Wireshark >= 3.6 reads zstd-compressed pcapng directly.)"
