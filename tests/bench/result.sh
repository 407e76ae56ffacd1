# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Machine-readable lines of the benchmarks (sourced by tests/bench/*.sh):
# tests/bench/run.sh keeps them in docs/bench/latest.txt and
# scripts/bench-readme.py makes the README's performance table from them.
#
#   result BENCH KEY=VALUE...   a measured figure set, e.g.
#       result agent containers=1000 series=35120 uncached_p99_ms=8.4
#   goal BENCH NAME VALUE OP LIMIT UNIT [PEER]
#       a goal with its measured value; prints PASS or MISS.  OP is <= or >=;
#       PEER names what a ratio is measured against (its floor or peer).
#       Spaces in UNIT and PEER become _ (the README shows them as spaces).
# Values never contain spaces (use _ within a value); a value that could not
# be measured is "-", and its goal is MISS.

result() {
	local bench=$1
	shift
	echo "RESULT bench=$bench $*"
}

goal() {
	local bench=$1 name=$2 value=$3 op=$4 limit=$5 unit=${6// /_} peer=${7:-} st
	peer=${peer// /_}
	st=$(awk -v v="$value" -v op="$op" -v l="$limit" 'BEGIN {
		if (v == "-" || v == "") { print "MISS"; exit }
		ok = (op == "<=") ? (v + 0 <= l + 0) : (v + 0 >= l + 0)
		print ok ? "PASS" : "MISS" }')
	printf 'GOAL bench=%s goal=%s value=%s op=%s limit=%s unit=%s%s status=%s\n' \
		"$bench" "$name" "${value:--}" "$op" "$limit" "$unit" "${peer:+ peer=$peer}" "$st"
}
