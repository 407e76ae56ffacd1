#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Run every libFuzzer target of a fuzz build for a while (what `make fuzz` does).
#   tests/fuzz/run.sh BUILD_FUZZ_DIR SECONDS
# For each BUILD_FUZZ_DIR/fuzz_NAME: the seed corpus is tests/fuzz/corpus/NAME/
# (read only, in git), new inputs go to BUILD_FUZZ_DIR/corpus/NAME/, crashes
# to BUILD_FUZZ_DIR/artifacts/.  Prints the executions per target and a total,
# appends them to BUILD_FUZZ_DIR/stats.txt, and exits non-zero when a target
# found something.  FUZZ_TARGETS=REGEX picks targets; FUZZ_ARGS adds libFuzzer
# options (e.g. FUZZ_ARGS=-jobs=2).
set -u
cd "$(dirname "$0")/../.." || exit 2
dir=${1:?usage: tests/fuzz/run.sh BUILD_FUZZ_DIR SECONDS}
secs=${2:-60}
filter=${FUZZ_TARGETS:-.}
mkdir -p "$dir/artifacts"

total=0 failed=0 ran=0
for bin in "$dir"/fuzz_*; do
	[ -x "$bin" ] && [ -f "$bin" ] || continue
	target=$(basename "$bin")
	[[ $target =~ $filter ]] || continue
	name=${target#fuzz_}
	seeds=tests/fuzz/corpus/$name
	work=$dir/corpus/$name
	log=$dir/$target.log
	mkdir -p "$work"
	corpora=("$work")
	[ -d "$seeds" ] && corpora+=("$seeds")
	echo "fuzz: $target for ${secs}s (corpus $work${seeds:+, seeds $seeds})"
	# shellcheck disable=SC2086 # FUZZ_ARGS is a list of options
	"$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$dir/artifacts/$name-" ${FUZZ_ARGS:-} "${corpora[@]}" >"$log" 2>&1
	rc=$?
	ran=$((ran + 1))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | awk '{s += $1} END {print s + 0}')
	total=$((total + execs))
	if [ "$rc" -ne 0 ]; then
		failed=$((failed + 1))
		echo "fuzz: $target: FOUND A PROBLEM after $execs executions (exit $rc), see $log:"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -10 | sed 's/^/    /'
	else
		echo "fuzz: $target: $execs executions in ${secs}s, no findings"
	fi
	printf '%s %s %s %s %s\n' "$(date -u +%FT%TZ)" "$target" "$secs" "$execs" \
		"$([ "$rc" -eq 0 ] && echo ok || echo FOUND)" >>"$dir/stats.txt"
done
if [ "$ran" -eq 0 ]; then
	echo "fuzz: no fuzz_* targets in $dir" >&2
	exit 1
fi
echo "fuzz: $ran targets, $total executions, $failed with findings"
[ "$failed" -eq 0 ]
