#!/usr/bin/env bash
# Re-record the sample captures in samples/ on this machine's kernel.
# Needs root; builds the test topology of tests/lib.sh and removes it.
#   ping-bridge.pcapng.zst  ping from "container" a to b across the bridge
#   tcp-routed.pcapng.zst   TCP handshake + data from a to c across the router
#   drop-nft.pcapng.zst     UDP to c, dropped by an nftables rule in c
set -eu
SAMPLES=$(cd "$(dirname "$0")" && pwd)
source "$SAMPLES/../tests/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "record-samples: needs root" >&2; exit 1; }
trap topo_destroy EXIT
topo_create

record_start "$SAMPLES/ping-bridge.pcapng.zst" --force "icmp"
ip netns exec "$NS_A" ping -c 2 -i 0.2 -q "$IP_B" >/dev/null
sleep 0.3
record_stop

ip netns exec "$NS_C" nc -l -p 8080 >/dev/null 2>&1 &
srv=$!
sleep 0.3
record_start "$SAMPLES/tcp-routed.pcapng.zst" --force "tcp port 8080"
echo hello | ip netns exec "$NS_A" nc -q 1 -w 2 "$IP_C" 8080 || true
sleep 0.5
record_stop
kill $srv 2>/dev/null || true

ip netns exec "$NS_C" nft -f - <<'NFT'
table inet pktsample {
	chain input {
		type filter hook input priority 0; policy accept;
		udp dport 9999 drop
	}
}
NFT
record_start "$SAMPLES/drop-nft.pcapng.zst" --force "udp port 9999"
echo probe | ip netns exec "$NS_A" nc -u -q 0 -w 1 "$IP_C" 9999 || true
sleep 0.5
record_stop
ls -l "$SAMPLES"/*.pcapng.zst
