#!/usr/bin/env bash
# Install the Debian packages that the build, the tests, the demo and the
# benchmark need. Idempotent: installs only what is missing.
set -eu

pkgs=(
	clang llvm make gcc pkg-config
	libbpf-dev bpftool libelf-dev zlib1g-dev libpcap-dev libzstd-dev libmnl-dev
	iproute2 iputils-ping nftables tshark tcpdump iperf3 linux-perf
	netcat-openbsd zstd python3 procps util-linux graphviz
	# editcap (tests/integration/hosts.sh shifts one host's clock with it)
	wireshark-common
)
# libFuzzer and the sanitizer runtimes come with clang's runtime package.
pkgs+=(libclang-rt-dev)
# tests/integration/docker.sh runs the talk's docker0 scenario: Debian's
# docker engine (its own dockerd, no registry: the image is busybox-static's
# binary brought in with docker import).
pkgs+=(docker.io busybox-static)
# tests/integration/fleet.sh runs a ClickHouse server of its own (the
# package's system service is not used).
pkgs+=(clickhouse-server clickhouse-client)

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing Debian packages: ${missing[*]}" >&2
	echo "install-deps: run 'sudo make deps' or install them with apt-get" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer for it.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
# clickhouse-server's and docker.io's postinst start their system services and fails the
# install when that service cannot start (a container without an init): the
# tests start their own server, so keep package scripts from starting
# services during this install, unless the machine already has a policy.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
