#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make bench`: every benchmark in tests/bench/, one after the other (they
# compete for the same two cores, so never in parallel).  Each prints its
# figures and the ratios against its peer, measured side by side in one run.
# Benchmarks are never part of `make test`'s pass/fail.
#   tests/bench/run.sh BUILD_DIR        BENCH=REGEX picks some (e.g. BENCH=xdp)
set -u
cd "$(dirname "$0")/../.." || exit 1
O=${1:-build}
filter=${BENCH:-.}
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root" >&2; exit 1; }
rc=0
for b in tests/bench/*-bench.sh tests/bench/run-latency.sh; do
	[[ $b =~ $filter ]] || continue
	printf '\n######## %s\n' "$b"
	bash "$b" "$O" || { echo "bench: $b failed (status $?)"; rc=1; }
done
exit $rc
