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
# shellcheck source=tests/bench/result.sh
. tests/bench/result.sh
# shellcheck source=scripts/cgroup-lib.sh
. scripts/cgroup-lib.sh
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
	# the parent cgroup the runs created below ours, in every hierarchy
	# (below our own there: the v1 memory one is not the root here)
	cgroup_rm_tree "$CTRWATCH_CGROUP_PARENT"
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
		lost=-
		case $m in
		ctrwatch | ctrwatch-all | peer)
			stop_tracer
			seen=$(grep -c " $PORT " "$W/out")
			# ctrwatch: "N connections lost"; libbpf-tools: "lost N events on CPU #c"
			lost=$(grep -oE '[0-9]+ connections (lost|not tracked)|lost [0-9]+ events' "$W/err" |
				grep -oE '[0-9]+' | awk '{ s += $1 } END { print s + 0 }') ;;
		agent)
			# The container is gone (and its series with it): count the
			# records the agent consumed instead.
			seen=$(curl -s "http://127.0.0.1:$AGENT_PORT/metrics" |
				awk '/^ctrwatch_events_total/ && /source="tcp"/ { s += $2 } END { print s + 0 }')
			stop_tracer ;;
		esac
		printf '  round %d  %-13s %8s conn/s  (%s connections, %s failed, rows/records seen %s, lost %s)\n' \
			"$r" "$m" "$rate" "$n" "$fails" "$seen" "$lost"
		rates[$m]="${rates[$m]:-} $rate"
	done
done

# In-kernel cost per tracepoint hit, free of the machine's load: one more
# run per tracer with BPF run-time statistics on (BPF_ENABLE_STATS, held by
# a helper for this phase only), read from the program the tracer loaded
# (the inet_sock_set_state program that appeared when it started).
STATS_PY='import ctypes, signal
libc = ctypes.CDLL(None, use_errno=True)
attr = (ctypes.c_uint32 * 16)()  # enable_stats.type = BPF_STATS_RUN_TIME
fd = libc.syscall(321, 32, ctypes.byref(attr), 64)  # bpf(BPF_ENABLE_STATS)
if fd < 0: raise SystemExit("BPF_ENABLE_STATS failed")
print("on", flush=True)
signal.pause()'
prog_ids() {
	bpftool prog show -j 2>/dev/null |
		jq -r '.[] | select(.name | startswith("inet_sock_set")) | .id' | sort
}
prog_stats() { # id -> "run_time_ns run_cnt"
	bpftool prog show id "$1" -j 2>/dev/null | jq -r '"\(.run_time_ns // 0) \(.run_cnt // 0)"'
}
declare -A ns_per_hit hits_per_conn
if command -v python3 >/dev/null && command -v bpftool >/dev/null; then
	python3 -c "$STATS_PY" >"$W/stats.on" &
	stats_pid=$!
	if wait_line "$W/stats.on" '^on'; then
		for m in ctrwatch ctrwatch-all peer; do
			case " $modes " in *" $m "*) ;; *) continue ;; esac
			before=$(prog_ids)
			start_tracer "$m"
			mine=$(comm -13 <(echo "$before") <(prog_ids))
			read -r _ n _ < <(run_pair "$m")
			rt=0 cnt=0
			[ "$(echo "$mine" | grep -c .)" = 1 ] && read -r rt cnt < <(prog_stats "$mine")
			stop_tracer
			ns_per_hit[$m]=$(awk -v t="$rt" -v c="$cnt" 'BEGIN { printf "%.0f", c ? t / c : 0 }')
			hits_per_conn[$m]=$(awk -v c="$cnt" -v n="$n" 'BEGIN { printf "%.1f", n ? c / n : 0 }')
		done
	fi
	kill "$stats_pid" 2>/dev/null
	wait "$stats_pid" 2>/dev/null
fi

median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
best() { tr ' ' '\n' | grep . | sort -n | tail -1; }
declare -A med top
echo
echo "conn/s: median of the rounds, and the best round (the least disturbed by"
echo "other load on a shared machine: load average $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-14s %12s %10s %12s %10s\n' MODE "MEDIAN" "VS_BASE" "BEST" "VS_BASE"
for m in $modes; do
	med[$m]=$(echo "${rates[$m]}" | median)
	top[$m]=$(echo "${rates[$m]}" | best)
done
for m in $modes; do
	b=base
	case $m in container | agent) b=container ;; esac
	printf '%-14s %12.0f %10.3f %12.0f %10.3f\n' "$m" "${med[$m]}" \
		"$(awk -v a="${med[$m]}" -v b="${med[$b]}" 'BEGIN { print a / b }')" "${top[$m]}" \
		"$(awk -v a="${top[$m]}" -v b="${top[$b]}" 'BEGIN { print a / b }')"
done
if [ ${#ns_per_hit[@]} -gt 0 ]; then
	echo
	printf '%-14s %14s %14s\n' TRACER "NS/TP-HIT" "HITS/CONN"
	for m in ctrwatch ctrwatch-all peer; do
		[ -n "${ns_per_hit[$m]:-}" ] && printf '%-14s %14s %14s\n' "$m" "${ns_per_hit[$m]}" "${hits_per_conn[$m]}"
	done
	[ -n "${ns_per_hit[peer]:-}" ] && awk -v c="${ns_per_hit[ctrwatch]}" -v p="${ns_per_hit[peer]}" \
		'BEGIN { if (p) printf "in-kernel cost per hit, ctrwatch/peer: %.3f\n", c / p }'
fi
if [ -n "$PEER" ]; then
	echo
	for k in med top; do
		declare -n v=$k
		awk -v k="$k" -v c="${v[ctrwatch]}" -v ca="${v[ctrwatch-all]}" -v p="${v[peer]}" -v b="${v[base]}" 'BEGIN {
			printf "%s: overhead ctrwatch tcplife %.1f%% (-L, like the peer), %.1f%% (all connections); libbpf-tools tcplife %.1f%%; ctrwatch/peer conn/s %.3f\n",
				k == "med" ? "median" : "best", 100 * (1 - c / b), 100 * (1 - ca / b), 100 * (1 - p / b), c / p
		}'
		unset -n v
	done
fi
# machine-readable lines (tests/bench/result.sh)
line=""
for m in $modes; do line+=" ${m//-/_}_conn_per_s=${med[$m]:--}"; done
for m in ctrwatch ctrwatch-all peer; do
	[ -n "${ns_per_hit[$m]:-}" ] && line+=" ${m//-/_}_ns_per_hit=${ns_per_hit[$m]}"
done
result tcplife "${line# }"
if [ -n "${ns_per_hit[peer]:-}" ] && [ -n "${ns_per_hit[ctrwatch]:-}" ]; then
	goal tcplife ctrwatch_over_tcplife_ns_per_hit \
		"$(awk -v c="${ns_per_hit[ctrwatch]}" -v p="${ns_per_hit[peer]}" 'BEGIN { if (p > 0) printf "%.2f", c / p; else print "-" }')" \
		"<=" 1 "x libbpf-tools_tcplife" "libbpf-tools tcplife, in-kernel ns per tracepoint hit"
fi
if [ -n "$PEER" ]; then
	goal tcplife ctrwatch_conn_rate_over_base \
		"$(awk -v c="${med[ctrwatch]}" -v b="${med[base]}" 'BEGIN { if (b > 0) printf "%.3f", c / b; else print "-" }')" \
		">=" 0.95 "x untraced" "untraced connection rate (floor)"
fi
