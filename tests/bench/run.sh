#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make bench`: every benchmark in tests/bench/, one after the other (they
# compete for the same two cores, so never in parallel).  Each prints its
# figures and the ratios against its peer, measured side by side in one run,
# and machine-readable RESULT and GOAL lines (tests/bench/result.sh).
# Benchmarks are never part of `make test`'s pass/fail.
#
#   tests/bench/run.sh BUILD_DIR        BENCH=REGEX picks some (e.g. BENCH=xdp)
#
# Results go to docs/bench/latest.txt (RESULTS=path to write elsewhere): one
# section per benchmark, headed by the date, kernel, CPU count, load average
# (at its start and end) and revision it ran with, then its RESULT and GOAL
# lines.  A run of some benchmarks replaces their sections and keeps the
# others'; a benchmark that fails (or is interrupted) keeps its last
# section.  Each benchmark's whole output goes to BUILD_DIR/bench/NAME.log.
# scripts/bench-readme.py (make bench-readme) makes the README's
# performance table from that file.
set -u
cd "$(dirname "$0")/../.." || exit 1
O=${1:-build}
filter=${BENCH:-.}
out=${RESULTS:-docs/bench/latest.txt}
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root" >&2; exit 1; }
mkdir -p "$O/bench" "$(dirname "$out")"
rev=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || rev="$rev+dirty"
new=$(mktemp)
trap 'rm -f "$new"' EXIT
rc=0
ran=()
for b in tests/bench/*-bench.sh tests/bench/run-latency.sh; do
	[[ $b =~ $filter ]] || continue
	name=$(basename "$b" .sh)
	printf '\n######## %s\n' "$b"
	load0=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' ,)
	date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	bash "$b" "$O" 2>&1 | tee "$O/bench/$name.log"
	st=${PIPESTATUS[0]}
	if [ "$st" != 0 ]; then
		# its figures are incomplete: the last good run's stay
		echo "bench: $b failed (status $st); its section of $out is kept"
		rc=1
		continue
	fi
	ran+=("$name")
	{
		printf '\n## bench=%s date=%s kernel=%s cpus=%s load_start=%s load_end=%s rev=%s status=%s\n' \
			"$name" "$date" "$(uname -r)" "$(nproc)" "$load0" \
			"$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' ,)" "$rev" "$st"
		grep -E '^(RESULT|GOAL) ' "$O/bench/$name.log"
	} >>"$new"
done
# keep the sections of benchmarks not run this time
{
	echo "# ctrwatch benchmark results, written by \`make bench\` (tests/bench/run.sh); the"
	echo "# README's performance table is made from this file by \`make bench-readme\`."
	echo "# Never edited by hand.  Figures depend on the machine; the ratios against the"
	echo "# peers, measured side by side in one run, are the point."
	if [ -f "$out" ]; then
		awk -v ran=" ${ran[*]} " '
			/^## bench=/ { split($2, kv, "="); keep = index(ran, " " kv[2] " ") == 0 }
			/^#( |$)/ && !/^## / { next }
			keep' "$out"
	fi
	cat "$new"
} | cat -s >"$out.tmp" && mv "$out.tmp" "$out"
echo
echo "bench: results in $out"
python3 scripts/bench-readme.py "$out" README.adoc || rc=1
exit $rc
