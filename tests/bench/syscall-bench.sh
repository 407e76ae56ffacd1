#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Syscall overhead, side by side in one run (issue 5): a C microbenchmark
# (N getppid calls, N openat+close pairs, pinned to CPU 0) inside a ctrwatch
# container, untraced and under each observer:
#   agent       `ctrwatch agent` counting per container (syscalls module)
#   trace       `ctrwatch run --trace --trace-output /dev/null`: every
#               syscall streamed with its arguments through the ring buffer
#               and formatted by the CLI (the same session `ctrwatch trace
#               -o /dev/null` uses)
#   floor       a minimal tp_btf/sys_enter program bumping a per-CPU counter
#   syscount    libbpf-tools syscount (system-wide)
#   bpftrace    bpftrace tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }
#   strace      strace -f -o /dev/null (N/50 calls, 20 rounds: ~100x slower)
# Observers run on CPU 1.  The benchmark runs ROUNDS short rounds and reports
# the fastest (the least disturbed by other load), each mode runs PASSES
# times (interleaved) and the lowest is kept: on a busy shared machine this
# approaches what an idle one measures; the load average is printed.  Prints ns
# per syscall, the overhead over untraced, ratios, the events/s and losses of
# the streaming path, and how many events/s the CLI's formatter alone takes.
#   tests/bench/syscall-bench.sh [BUILD_DIR]   (N=20000 ROUNDS=100 PASSES=2)
set -u
cd "$(dirname "$0")/../.." || exit 2
O=${1:-build}
BIN=$PWD/$O/ctrwatch
N=${N:-20000}
PASSES=${PASSES:-2}
ROUNDS=${ROUNDS:-100}
PORT=${PORT:-19550}
[ "$(id -u)" -eq 0 ] || { echo "syscall-bench: needs root" >&2; exit 1; }
[ -x "$BIN" ] || { echo "syscall-bench: build $BIN first" >&2; exit 1; }

tmp=$(mktemp -d /tmp/ctw-syscall-bench.XXXXXX)
export CTRWATCH_NET=none
export CTRWATCH_CGROUP_PARENT=${CTRWATCH_CGROUP_PARENT:-ctwbench$$}
export CTRWATCH_STATE=$tmp/state CTRWATCH_ROOT=${CTRWATCH_ROOT:-$tmp/root}
bg=()
cleanup() {
	local p d
	for p in "${bg[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	"$BIN" gc >/dev/null 2>&1
	# the parent cgroup the runs created below ours, in every hierarchy
	for d in /sys/fs/cgroup/*/"$CTRWATCH_CGROUP_PARENT" /sys/fs/cgroup/unified/"$CTRWATCH_CGROUP_PARENT"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

cc -O2 -D_GNU_SOURCE -Wall -static -o "$tmp/syscall-bench" tests/bench/syscall-bench.c || exit 1
clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -Ibpf/vmlinux/x86 \
	-c tests/bench/syscall-floor.bpf.c -o "$tmp/floor.bpf.o" || exit 1
cc -O2 -o "$tmp/syscall-floor" tests/bench/syscall-floor.c -lbpf -lelf -lz || exit 1
cc -O2 -std=gnu11 -D_GNU_SOURCE -Ibpf -o "$tmp/syscall-format" tests/bench/syscall-format.c \
	"$O"/trace/format.o "$O"/trace/syscalls.o "$O"/lib/*.o -lseccomp -lbpf -lpthread || exit 1

declare -A gp oc
bench() { # mode [extra run options...] : the benchmark in a container
	local mode=$1; shift
	local line
	line=$(taskset -c 1 "$BIN" run "$@" -v "$tmp:/b:ro" busybox \
		/b/syscall-bench -c 0 -n "$N" -r "$ROUNDS" | tail -1)
	record "$mode" "$line"
}
record() { # mode "getppid_ns=.. openclose_ns=.. ..."  (keeps the lowest)
	local kv v
	for kv in $2; do
		v=${kv#*=}
		case $kv in
		getppid_ns=*) lower "${gp[$1]:-}" "$v" && gp[$1]=$v ;;
		openclose_ns=*) lower "${oc[$1]:-}" "$v" && oc[$1]=$v ;;
		loop_s=*) loop[$1]=$v ;;
		esac
	done
	printf '  %-10s %s\n' "$1" "$2" >&2
}
lower() { [ -z "$1" ] || awk -v a="$1" -v b="$2" 'BEGIN { exit !(b < a) }'; }
declare -A loop
# start_bg LOGFILE PATTERN cmd...: start an observer on CPU 1, wait until it
# prints PATTERN (attached)
start_bg() {
	local log=$1 pat=$2; shift 2
	taskset -c 1 "$@" >"$log" 2>&1 &
	bg+=($!)
	obs=$!
	for _ in $(seq 1 100); do
		grep -q "$pat" "$log" && return 0
		sleep 0.1
	done
	echo "syscall-bench: $1 did not start: $(tail -3 "$log")" >&2
	return 1
}
stop_bg() { kill -INT "$obs" 2>/dev/null; wait "$obs" 2>/dev/null; }

echo "syscall-bench: N=$N rounds=$ROUNDS passes=$PASSES, benchmark on CPU 0, observers on CPU 1" >&2
echo "syscall-bench: load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$BIN" run busybox true >/dev/null # builds the image store on first use
tstats=
for _ in $(seq 1 "$PASSES"); do
	bench untraced

	if start_bg "$tmp/agent.log" "listening\|serving\|ready" \
		"$BIN" agent --listen "127.0.0.1:$PORT" --metrics syscalls --discovery-interval 1s -v; then
		sleep 1
		bench agent
		stop_bg
	fi

	trace_err=$tmp/trace.err
	line=$(taskset -c 1 "$BIN" run --trace='--stats' --trace-output /dev/null -v "$tmp:/b:ro" \
		busybox /b/syscall-bench -c 0 -n "$N" -r "$ROUNDS" 2>"$trace_err" | tail -1)
	record trace "$line"
	tstats+="$(grep 'events in' "$trace_err") loop_s=${loop[trace]:-0}"$'\n'

	if start_bg "$tmp/floor.log" attached "$tmp/syscall-floor" "$tmp/floor.bpf.o"; then
		bench floor
		stop_bg
	fi
	if command -v syscount >/dev/null && start_bg "$tmp/syscount.log" "Tracing" stdbuf -oL syscount; then
		bench syscount
		stop_bg
	fi
	if command -v bpftrace >/dev/null &&
		start_bg "$tmp/bpftrace.log" "Attaching" stdbuf -oL bpftrace -e 'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }'; then
		bench bpftrace
		stop_bg
	fi
	if command -v strace >/dev/null; then
		line=$(strace -f -o /dev/null "$tmp/syscall-bench" -c 0 -n $((N / 50)) -r 20 | tail -1)
		record strace "$line"
	fi
done
fmt=$(taskset -c 1 "$tmp/syscall-format" 2000000)
fmt_json=$(taskset -c 1 "$tmp/syscall-format" 2000000 --json)
echo "syscall-bench: load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

base_gp=${gp[untraced]}
base_oc=${oc[untraced]}
echo
printf '%-10s %12s %10s %8s   %14s %10s %8s\n' mode getppid_ns +ns x_untr openat+close_ns +ns x_untr
for m in untraced agent trace floor syscount bpftrace strace; do
	[ -n "${gp[$m]:-}" ] || continue
	awk -v m="$m" -v g="${gp[$m]}" -v o="${oc[$m]}" -v bg="$base_gp" -v bo="$base_oc" 'BEGIN {
		printf "%-10s %12.1f %10.1f %8.2f   %14.1f %10.1f %8.2f\n", m, g, g - bg, g / bg, o, o - bo, o / bo }'
done
echo
awk -v g="${gp[agent]:-0}" -v f="${gp[floor]:-0}" -v s="${gp[syscount]:-0}" -v t="${gp[trace]:-0}" \
	-v st="${gp[strace]:-0}" -v b="$base_gp" 'BEGIN {
	if (f > b && g > 0) printf "agent overhead / floor overhead (getppid):  %.2f  (goal <= 1.5)\n", (g - b) / (f - b)
	if (s > b && g > 0) printf "agent overhead / syscount overhead:         %.2f  (goal <= 1.0)\n", (g - b) / (s - b)
	if (t > 0) printf "trace streaming / untraced (getppid):       %.2f  (goal <= 3.0)\n", t / b
	if (t > 0 && st > 0) printf "strace / trace streaming (getppid):         %.1f  (goal >= 30)\n", st / t
}'
# streaming throughput: events the CLI received per second of the benchmark
# loop (the producer's pace), and what was lost, per pass
while read -r l; do
	[ -n "$l" ] || continue
	ev=$(sed -n 's/.*: \([0-9]*\) events in.*/\1/p' <<<"$l")
	lost=$(sed -n 's/.*, \([0-9]*\) lost.*/\1/p' <<<"$l")
	ls=${l##*loop_s=}
	awk -v e="$ev" -v l="$lost" -v s="$ls" 'BEGIN {
		if (s > 0) printf "streaming: %d events carried into the CLI, %.2f M events/s during the benchmark loop, %d lost\n", e, e / s / 1e6, l }'
done <<<"$tstats"
awk -v g="${gp[trace]:-0}" 'BEGIN { if (g > 0) printf "streaming, getppid phase (every call an event): %.2f M events/s into the CLI\n", 1e3 / g }'
echo "CLI formatter alone (strace lines, -T): ${fmt}"
echo "CLI formatter alone (--json):           ${fmt_json}"
