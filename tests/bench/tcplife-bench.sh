#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Connections per second of a loopback client/server pair (tcplife-connrate)
# untraced, traced by `ctrwatch tcplife`, and traced by libbpf-tools tcplife,
# side by side in one run; then the same pair inside a container, untraced
# and with `ctrwatch agent` (tcp module) counting it.  Modes are interleaved
# round by round so that drift hits all alike; medians and ratios printed.
#
#   tests/bench/tcplife-bench.sh [BUILD_DIR]     (root)
#   SECS=3 ROUNDS=5 PORT=19280 tests/bench/tcplife-bench.sh build
set -u
cd "$(dirname "$0")/../.." || exit 2
O=${1:-build}
BIN=$PWD/$O/ctrwatch
SECS=${SECS:-3}
ROUNDS=${ROUNDS:-5}
PORT=${PORT:-19280}
AGENT_PORT=$((PORT + 1))
PEER=
for p in /usr/sbin/tcplife /usr/sbin/bpf-tcplife; do
	[ -x "$p" ] && PEER=$p && break
done

[ "$(id -u)" -eq 0 ] || { echo "tcplife-bench: needs root" >&2; exit 1; }
[ -x "$BIN" ] || { echo "tcplife-bench: build $BIN first" >&2; exit 1; }

W=$(mktemp -d /tmp/tcplife-bench.XXXXXX)
export CTRWATCH_STATE=$W/state CTRWATCH_CGROUP_PARENT=ctwtbench$$
: "${CTRWATCH_ROOT:=$W/root}"
export CTRWATCH_ROOT
tracer=
cleanup() {
	[ -n "$tracer" ] && kill -INT "$tracer" 2>/dev/null && wait "$tracer" 2>/dev/null
	local d
	for d in /sys/fs/cgroup/*/"$CTRWATCH_CGROUP_PARENT" /sys/fs/cgroup/unified/"$CTRWATCH_CGROUP_PARENT"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

RATE=$W/tcplife-connrate
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -static -o "$RATE" tests/bench/tcplife-connrate.c || exit 1

in_container=false
if timeout 60 "$BIN" run --rm --net host busybox true >/dev/null 2>&1; then
	in_container=true
fi

start_tracer() { # mode
	case $1 in
	ctrwatch)
		"$BIN" tcplife -L "$PORT" >"$W/out" 2>"$W/err" &
		tracer=$!
		wait_line "$W/err" Tracing ;;
	ctrwatch-all)
		"$BIN" tcplife >"$W/out" 2>"$W/err" &
		tracer=$!
		wait_line "$W/err" Tracing ;;
	peer)
		unshare -m --propagation private sh -c \
			'[ -d /sys/kernel/tracing/events ] || mount -t tracefs nodev /sys/kernel/tracing || exit 1
			 exec stdbuf -oL "$0" -L "$1"' "$PEER" "$PORT" >"$W/out" 2>"$W/err" &
		tracer=$!
		wait_line "$W/out" '^PID' ;;
	agent)
		"$BIN" agent --listen "127.0.0.1:$AGENT_PORT" --metrics tcp >"$W/out" 2>"$W/err" &
		tracer=$!
		local _
		for _ in $(seq 100); do
			curl -sf "http://127.0.0.1:$AGENT_PORT/readyz" >/dev/null && break
			sleep 0.1
		done ;;
	*) tracer= ;;
	esac
}

wait_line() { # file regex
	local _
	for _ in $(seq 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "tcplife-bench: tracer did not start: $(cat "$W/err")" >&2
	exit 1
}

stop_tracer() {
	[ -n "$tracer" ] || return 0
	kill -INT "$tracer"
	wait "$tracer" 2>/dev/null
	tracer=
}

run_pair() { # mode
	case $1 in
	container | agent)
		"$BIN" run --rm --net host --name "tcpbench$$" -v "$W:/b:ro" busybox \
			/b/tcplife-connrate "$PORT" "$SECS" ;;
	*) "$RATE" "$PORT" "$SECS" ;;
	esac
}

modes="base ctrwatch ctrwatch-all"
[ -n "$PEER" ] && modes="$modes peer"
$in_container && modes="$modes container agent"

declare -A rates
echo "tcplife-bench: ${ROUNDS} rounds x ${SECS}s per mode, modes: $modes"
for r in $(seq "$ROUNDS"); do
	for m in $modes; do
		start_tracer "$m"
		read -r rate n fails < <(run_pair "$m")
		sleep 0.3
		seen=-
		case $m in
		ctrwatch | ctrwatch-all | peer) stop_tracer; seen=$(grep -c " $PORT " "$W/out") ;;
		agent)
			seen=$(curl -s "http://127.0.0.1:$AGENT_PORT/metrics" |
				awk -v c="tcpbench$$" '/^ctrwatch_tcp_connections_total/ && index($0, "\"" c "\"") { s += $2 } END { print s + 0 }')
			stop_tracer ;;
		esac
		printf '  round %d  %-13s %8s conn/s  (%s connections, %s failed, rows/series seen %s)\n' \
			"$r" "$m" "$rate" "$n" "$fails" "$seen"
		rates[$m]="${rates[$m]:-} $rate"
	done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
declare -A med
echo
printf '%-14s %12s %10s\n' MODE "CONN/S(med)" "VS_BASE"
for m in $modes; do
	med[$m]=$(echo "${rates[$m]}" | median)
done
for m in $modes; do
	base=${med[base]}
	case $m in container | agent) base=${med[container]} ;; esac
	printf '%-14s %12.0f %10.3f\n' "$m" "${med[$m]}" "$(awk -v a="${med[$m]}" -v b="$base" 'BEGIN { print a / b }')"
done
if [ -n "$PEER" ]; then
	echo
	awk -v c="${med[ctrwatch]}" -v ca="${med[ctrwatch-all]}" -v p="${med[peer]}" -v b="${med[base]}" 'BEGIN {
		printf "overhead: ctrwatch tcplife %.1f%% (-L, like the peer), %.1f%% (all connections); libbpf-tools tcplife %.1f%%\n",
			100 * (1 - c / b), 100 * (1 - ca / b), 100 * (1 - p / b)
		printf "ctrwatch/peer throughput ratio: %.3f\n", c / p
	}'
fi
