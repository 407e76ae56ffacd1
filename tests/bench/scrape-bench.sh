#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The exporter's own cost per scrape (tests/bench/scrape-render.c): the
# series of 100, 1 000 and 4 000 containers as a real agent emits them
# (each synthetic container has the same 104 series, ~12 KB of text, as
# one of agent-bench.sh's containers, whose processes use every module:
# at 1 000 containers 104 001 series, not the ~35 000 issue 20 assumed),
# rendered by the builder, then gzipped by the unit cache with every
# container changed since the last scrape, a fifth, or none, against
# gzipping the whole text at once (what the agent did before).  No kernel,
# no HTTP: agent-bench.sh measures whole scrapes.  Best of ROUNDS.
#   tests/bench/scrape-bench.sh [BUILD_DIR]      COUNTS="100 1000 4000" ROUNDS=7
set -u
cd "$(dirname "$0")/../.." || exit 2
# shellcheck source=tests/bench/result.sh
. tests/bench/result.sh
O=${1:-build}
COUNTS=${COUNTS:-100 1000 4000}
ROUNDS=${ROUNDS:-7}
work=$(mktemp -d /tmp/ctw-scrape-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
# every object of exporters/ (a list of some broke the bench twice, each
# time a new file joined the module)
gcc -O2 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -o "$work/scrape-render" \
	tests/bench/scrape-render.c "$O"/exporters/*.o "$O"/lib/*.o \
	-Wl,-Bstatic -lbpf -lelf -lz -Wl,-Bdynamic -lpthread -ldl || exit 1
echo "scrape-bench: load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for n in $COUNTS; do
	out=$("$work/scrape-render" "$n" "$ROUNDS") || exit 1
	echo "$out"
	if [ "$n" = 1000 ]; then
		r=$(grep '^RESULT' <<<"$out")
		render=$(sed -n 's/.* render_ms=\([^ ]*\).*/\1/p' <<<"$r")
		all=$(sed -n 's/.* gzip_all_changed_ms=\([^ ]*\).*/\1/p' <<<"$r")
		whole=$(sed -n 's/.* gzip_whole_text_ms=\([^ ]*\).*/\1/p' <<<"$r")
		only=$(sed -n 's/.* gzip_only_fifth_changed_ms=\([^ ]*\).*/\1/p' <<<"$r")
		goal scrape-render render_1000 "$render" "<=" 10 ms "the exporter's share of an uncached scrape at 1 000 containers"
		goal scrape-render render_gzip_all_changed_1000 \
			"$(awk -v a="$render" -v b="$all" 'BEGIN {printf "%.2f", a + b}')" "<=" 25 ms \
			"the exporter's share of a cold gzip scrape, every container changed"
		goal scrape-render gzip_all_changed_over_whole_text_1000 \
			"$(awk -v a="$all" -v b="$whole" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "-"}')" \
			"<=" 1.0 x "gzip of the whole text at once (zlib level 1: what the agent streams when units do not pay)"
		goal scrape-render gzip_only_fifth_changed_1000 "$only" "<=" 25 ms \
			"the exporter's share of a cold gzip scrape, a fifth of the containers changed (a gzip-only build and its gzip)"
	fi
done
echo "scrape-bench: load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
