#!/usr/bin/env bash
# The talk's own scenario, for real: the host pings a docker container over
# docker0, pkt-record records it, pkt-analyze shows each echo's path
# docker0 -> veth... -> eth0@<the container> and back, the container's
# namespace named after the container.
#
# Needs Debian's docker.io and busybox-static (tests/install-deps.sh); no
# network: the image is a busybox rootfs brought in with `docker import`.
# Starts dockerd (its own state folder and socket) when none answers, and
# stops it after. dockerd sets the iptables FORWARD policy to DROP, enables
# IP forwarding and bridge netfilter, and creates docker0 and its chains:
# all of it is put back as it was.
# Sourced by tests/run.sh with tests/lib.sh; each test_* runs in a subshell.

_dk_need() {
	need_root || return $?
	[ -x "$PKT_RECORD" ] && [ -x "$PKT_ANALYZE" ] || { fail "build pkt-record and pkt-analyze first"; return 1; }
	local t
	for t in docker dockerd containerd runc iptables python3; do
		command -v "$t" >/dev/null || { skip "$t not installed (docker.io: tests/install-deps.sh)"; return 77; }
	done
	[ -x /bin/busybox ] || { skip "busybox-static not installed (tests/install-deps.sh)"; return 77; }
}

# The state dockerd changes, as "key=value" lines.
_dk_host_state() {
	local k
	echo "forward_policy=$(iptables -S FORWARD 2>/dev/null | awk '$1 == "-P" { print $3; exit }')"
	for k in net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables \
		net.bridge.bridge-nf-call-ip6tables net.bridge.bridge-nf-call-arptables; do
		echo "$k=$(sysctl -n "$k" 2>/dev/null || echo absent)"
	done
	echo "br_netfilter_module=$([ -d /sys/module/br_netfilter ] && echo loaded || echo absent)"
	echo "docker0=$(ip link show docker0 >/dev/null 2>&1 && echo present || echo absent)"
}

# iptables: docker's rules in the built-in chains (they jump to its chains or
# name docker0), then its chains; only when this test started dockerd: they
# are then ours.
_dk_remove_chains() {
	local table rule chain
	for table in filter nat; do
		iptables -t "$table" -S 2>/dev/null | grep -E '^-A [A-Z]+ .*(-j DOCKER|docker0)' | grep -v '^-A DOCKER' |
			while read -r rule; do
				# shellcheck disable=SC2086 # the rule's words
				iptables -t "$table" ${rule/#-A/-D} 2>/dev/null
			done
		for chain in $(iptables -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^DOCKER/ { print $2 }'); do
			iptables -t "$table" -F "$chain" 2>/dev/null
		done
		for chain in $(iptables -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^DOCKER/ { print $2 }'); do
			iptables -t "$table" -X "$chain" 2>/dev/null
		done
	done
}

teardown() {
	[ -n "${DK_BEFORE:-}" ] || return 0
	if [ -n "${DK_CONTAINER:-}" ]; then docker rm -f "$DK_CONTAINER" >/dev/null 2>&1; fi
	if [ -n "${DK_IMAGE:-}" ]; then docker rmi -f "$DK_IMAGE" >/dev/null 2>&1; fi
	if [ -n "${DK_PID:-}" ]; then
		kill -TERM "$DK_PID" 2>/dev/null
		local i
		for i in $(seq 1 150); do kill -0 "$DK_PID" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$DK_PID" 2>/dev/null && kill -KILL "$DK_PID" 2>/dev/null
		_dk_remove_chains
		# its containerd goes with it; its mounts (overlay, nsfs) with the folder
		grep -F " $DK_DIR/" /proc/self/mountinfo | awk '{ print $5 }' | sort -r |
			while read -r m; do umount -l "$m" 2>/dev/null; done
		rm -rf "$DK_DIR"
	fi
	# put back what dockerd changed
	local line key val
	while IFS== read -r key val; do
		case $key in
		forward_policy) [ -n "$val" ] && iptables -P FORWARD "$val" ;;
		br_netfilter_module)
			[ "$val" = absent ] && [ -d /sys/module/br_netfilter ] && command -v modprobe >/dev/null &&
				modprobe -r br_netfilter 2>/dev/null
			;;
		docker0) [ "$val" = absent ] && ip link del docker0 2>/dev/null ;;
		net.*) [ "$val" != absent ] && sysctl -qw "$key=$val" ;;
		esac
	done <<<"$DK_BEFORE"
	line=$(_dk_host_state)
	[ "$line" = "$DK_BEFORE" ] || echo "  warning: host state not restored: $(diff <(echo "$DK_BEFORE") <(echo "$line") | tr '\n' ' ')" >&2
	return 0
}

# Start dockerd unless one answers. Sets DK_PID, DK_DIR and DOCKER_HOST when it started one.
_dk_daemon() {
	if docker info >/dev/null 2>&1; then
		return 0
	fi
	DK_DIR=$(mktemp -d) || return 1
	export DOCKER_HOST=unix://$DK_DIR/docker.sock
	dockerd --data-root "$DK_DIR/data" --exec-root "$DK_DIR/exec" --pidfile "$DK_DIR/dockerd.pid" \
		-H "$DOCKER_HOST" >"$DK_DIR/dockerd.log" 2>&1 &
	DK_PID=$!
	local i
	for i in $(seq 1 300); do
		docker info >/dev/null 2>&1 && return 0
		kill -0 "$DK_PID" 2>/dev/null || break
		sleep 0.1
	done
	fail "dockerd did not start: $(tail -n 5 "$DK_DIR/dockerd.log" | tr '\n' ' ')"
}

# An image from busybox-static alone: /bin/busybox and its applet links.
_dk_image() {
	local root=$DK_WORK/rootfs a
	mkdir -p "$root/bin" || return 1
	cp /bin/busybox "$root/bin/busybox" || return 1
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -s busybox "$root/bin/$a" || return 1
	done
	tar -C "$root" -c . | docker import - "$DK_IMAGE" >/dev/null || { fail "docker import"; return 1; }
}

test_docker_ping_over_docker0() {
	_dk_need || return $?
	DK_BEFORE=$(_dk_host_state)
	local id f json cid cpid veth ns_c
	id=$(printf '%04x' $(((RANDOM << 1 ^ $$) & 0xffff)))
	DK_WORK=$PWD/docker-$id
	mkdir -p "$DK_WORK" || return 1
	_dk_daemon || return 1
	DK_IMAGE=pkt-busybox-$id:test
	_dk_image || return 1
	DK_CONTAINER=pkt-ctr-$id
	docker run -d --name "$DK_CONTAINER" --network bridge "$DK_IMAGE" /bin/sleep 120 >/dev/null ||
		{ fail "docker run"; return 1; }
	cid=$(docker inspect -f '{{.Id}}' "$DK_CONTAINER")
	cpid=$(docker inspect -f '{{.State.Pid}}' "$DK_CONTAINER")
	DK_ADDR=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' "$DK_CONTAINER")
	assert_match "$DK_ADDR" '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' "the container's address" || return 1
	ns_c=$(stat -L -c %i "/proc/$cpid/ns/net")
	# the host end of the container's veth: the ifindex its eth0 links to
	veth=$(nsenter -t "$cpid" -n ip -o link show eth0 | sed -n 's/^[0-9]*: eth0@if\([0-9]*\):.*/\1/p')
	veth=$(ip -o link show | awk -F': ' -v i="$veth" '$1 == i { sub(/@.*/, "", $2); print $2 }')
	assert_match "$veth" '^veth' "the container's veth on the host" || return 1
	local i
	for i in $(seq 1 30); do ping -c1 -W1 -q "$DK_ADDR" >/dev/null 2>&1 && break; sleep 0.1; done

	f=$DK_WORK/docker.pcapng
	record_start "$f" --compress none "host $DK_ADDR" || return 1
	ping -c 3 -i 0.2 -W 1 "$DK_ADDR" >/dev/null || { record_stop; fail "ping $DK_ADDR"; return 1; }
	sleep 0.3
	record_stop || return 1
	# the names come from the file: the container may go first
	docker rm -f "$DK_CONTAINER" >/dev/null 2>&1 && DK_CONTAINER=

	json=$("$PKT_ANALYZE" --format json "$f") || { fail "pkt-analyze exit $?"; return 1; }
	local script out
	script=$(cat <<'EOF'
import json, sys
ns_c = int(sys.argv[1])
pk, pairs, names = {}, [], set()
for l in sys.stdin:
    o = json.loads(l)
    if o["type"] == "packet":
        pk[o["id"]] = o
    elif o["type"] == "pair":
        pairs.append(o)
def path(p):
    out = []
    for h in p["hops"]:
        if h["hook"].startswith("skb:"):
            continue                     # a free or a read is no place of its own
        if h["netns"] == ns_c:
            names.add(h["netns_name"])
        where = "%s@%s" % (h["ifname"], "C" if h["netns"] == ns_c else h["netns_name"])
        if not out or out[-1] != where:
            out.append(where)
    return " ".join(out)
lines = []
for p in pairs:
    if p["kind"] != "icmp-echo":
        continue
    q, r = pk[p["request_packet"]], pk[p["reply_packet"]]
    lines.append("%s | %s | %s %s" % (path(q), path(r), q["fate"], r["fate"]))
print(len(lines))
print("\n".join(sorted(set(lines))))
print(" ".join(sorted(names)))
EOF
)
	assert_eq "$(python3 -c "$script" "$ns_c" <<<"$json" 2>&1)" "3
docker0@host $veth@host eth0@C | eth0@C $veth@host docker0@host | delivered delivered
docker:${cid:0:12}" "three echo pairs, each docker0 -> $veth -> eth0 in the container and back, delivered; the container's namespace named by its id" || return 1

	# the text report and the topology say the same by name
	out=$("$PKT_ANALYZE" "$f") || { fail "pkt-analyze exit $?"; return 1; }
	assert_match "$out" "docker:${cid:0:12} +eth0 +netif_receive_skb" "the report names the container" || return 1
	out=$("$PKT_ANALYZE" --topology "$f") || { fail "--topology exit $?"; return 1; }
	assert_match "$out" "^netns docker:${cid:0:12} \\($ns_c\\)" "--topology: the container's namespace" || return 1
	assert_match "$out" "^  $veth \\(ifindex [0-9]+\\) veth, port of docker0, peer eth0@docker:${cid:0:12}" \
		"--topology: the veth is a docker0 port, its peer in the container" || return 1
	rm -rf "$DK_WORK"
}
