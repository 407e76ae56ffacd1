#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# How often `ctrwatch trace` prints exactly strace's line (issue 21), kept
# with the other figures: runs the conformance suite
# (tests/integration/45-trace-conformance.sh: the same workloads under
# `strace -f` and under `ctrwatch trace`, side by side, their lines compared
# after normalising pids, addresses and clock-dependent values by
# tests/helpers/trace-compare.py) and turns its report into RESULT and GOAL
# lines: the share of identical lines per workload and in all (goal: at
# least 95 %), and the syscalls below 100 %.
#   tests/bench/trace-conformance-bench.sh [BUILD_DIR]
set -u
cd "$(dirname "$0")/../.." || exit 2
# shellcheck source=tests/bench/result.sh
. tests/bench/result.sh
O=${1:-build}
[ "$(id -u)" -eq 0 ] || { echo "trace-conformance-bench: needs root" >&2; exit 1; }
[ -x "$O/ctrwatch" ] || { echo "trace-conformance-bench: build $O/ctrwatch first" >&2; exit 1; }

out=$(TESTS=45-trace-conformance VERBOSE=1 tests/run.sh --integration-only "$O" 2>&1)
rc=$?
printf '%s\n' "$out"
# the report's "# NAME:" headings, then "#   ALL  strace ctrwatch same share%"
# lines; "all workloads" is the overall figure
read -r all_s all_c all_same all_pct < <(awk '
	/^ *# all workloads:/ { w = 1 }
	w && $2 == "ALL" { sub(/%$/, "", $6); print $3, $4, $5, $6; exit }' <<<"$out")
line="strace_lines=${all_s:--} ctrwatch_lines=${all_c:--} identical_lines=${all_same:--}"
line+=" identical_pct=${all_pct:--}"
for w in syscalls busybox syscalls-yy syscalls-s1 syscalls-sel syscalls-desc; do
	pct=$(awk -v w="# $w:" '
		index($0, w) { on = 1; next }
		on && $2 == "ALL" { sub(/%$/, "", $6); print $6; exit }' <<<"$out")
	line+=" ${w//-/_}_pct=${pct:--}"
done
# the syscalls (and signal/exit lines) not all identical, "name:share"
below=$(awk '
	/^ *# all workloads:/ { w = 1; next }
	w && /^ *#   (only in|ALL)/ { exit }
	w && $NF ~ /%$/ && $NF != "100.0%" && $2 != "syscall" {
		n = ($2 == "+++" || $2 == "---") ? $2 "_" $3 : $2
		sub(/%$/, "", $NF); printf "%s%s:%s", sep, n, $NF; sep = "," }' <<<"$out")
result trace-conformance "$line below_100=${below:-none} suite_status=$rc"
goal trace-conformance identical_lines "${all_pct:--}" ">=" 95 % "strace -f on the same workloads"
[ -n "${all_pct:-}" ]
