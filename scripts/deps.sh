#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install every Debian package that building, testing, the demo and the
# benchmarks need.  Idempotent and quick: apt-get runs only when something
# is missing.
set -euo pipefail

pkgs=(
	# build
	make gcc clang llvm pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev libxxhash-dev
	libseccomp-dev libmicrohttpd-dev libarchive-dev libjansson-dev libyaml-dev
	libmnl-dev libnftables-dev libcmocka-dev libclang-rt-14-dev
	libssl-dev
	# run time: the built-in image, networking
	busybox-static iproute2 nftables ethtool
	# tests and peers
	prometheus curl jq python3 python3-yaml strace libbpf-tools bpftrace xdp-tools dnsmasq-base dnsutils
	umoci skopeo runc crun wrk hyperfine
	# real engines the engine suites start (tests/integration/engines-lib.bash)
	docker.io podman containerd tini
	# make install's checks (tests/e2e/02-install.sh: man pages, systemd
	# unit, bash and zsh completion)
	man-db groff systemd zsh python3-seccomp
	# the dashboard's picture (scripts/promdash.py picture)
	gnuplot-nox
	# quality
	clang-format cppcheck shellcheck
	# the Helm chart checker (../shared/tools/chart-check)
	golang-go golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev
)
# node and npm may come from another source than Debian's packages: ask for
# Debian's only when neither is there.
command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#pkgs[@]} packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]} (run 'make deps' as root)" >&2
	exit 1
fi
echo "deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# docker.io and containerd ship services that their postinst would start with
# the host's defaults (iptables rules, a docker0 bridge, /var/lib/docker):
# the tests start their own daemons, so keep invoke-rc.d from starting any
# (policy-rc.d exit 101), unless the machine already has its own policy.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# ctrwatch deps.sh: no service starts while installing\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
