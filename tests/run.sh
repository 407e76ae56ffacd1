#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The test runner behind `make test`.
#   tests/run.sh [--unit-only | --integration-only] BUILD_DIR
# Runs every unit test binary (cmocka, TAP output) and every integration and
# e2e script (TAP through tests/lib.sh), counts TAP lines, and ends with
#   N passed, N failed, N skipped
# Exit status is non-zero when anything failed.  TESTS=REGEX runs only the
# suites whose path matches.
set -u
cd "$(dirname "$0")/.." || exit 2
mode=all
case "${1:-}" in
--unit-only) mode=unit; shift ;;
--integration-only) mode=integration; shift ;;
esac
O=${1:-build}
filter=${TESTS:-.}

passed=0 failed=0 skipped=0
failures=()

# The pids of processes whose environment holds CTW_SUITE=MARK.
leaked_pids() {
	grep -laxzF "CTW_SUITE=$1" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3
}

run_suite() {
	local name=$1; shift
	local out rc
	out=$(mktemp)
	local t0=$SECONDS
	# A hung suite must not hang CI: each gets SUITE_TIMEOUT seconds.
	# Every process the suite starts inherits CTW_SUITE (the environment
	# is the one mark a process keeps through setsid, nsenter or a
	# reparenting to PID 1); any still running when the suite ends is a
	# leak: it fails the suite, and is ended here (it is ours).
	# Nor does it get our fds beyond stdio: `flock LOCK make test` hands
	# the test lock down as fd 3 (a suite's leftover would hold the lock,
	# and a traced test program would number its files from 4).
	local mark="$name.$$.$RANDOM"
	CTW_SUITE=$mark timeout -k 10 "${SUITE_TIMEOUT:-300}" "$@" >"$out" 2>&1 </dev/null \
		3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
	rc=$?
	[ "$rc" -eq 124 ] && echo "not ok - $name timed out after ${SUITE_TIMEOUT:-300}s" >>"$out"
	local leaked leak=0
	leaked=$(leaked_pids "$mark")
	if [ -n "$leaked" ]; then
		leak=1
		echo "not ok - $name left processes running (ended now):" >>"$out"
		for pid in $leaked; do
			echo "#   $pid $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-100)" >>"$out"
		done
		# shellcheck disable=SC2086 # a list of pids
		kill $leaked 2>/dev/null
		sleep 1
		# shellcheck disable=SC2046 # a list of pids
		kill -9 $(leaked_pids "$mark") 2>/dev/null
	fi
	local p f s
	p=$(grep -cE '^ok [0-9]+' "$out" | head -1)
	s=$(grep -cE '^ok [0-9]+.*# (SKIP|skip)' "$out" | head -1)
	f=$(grep -cE '^not ok [0-9]+' "$out" | head -1)
	p=$((p - s))
	f=$((f + leak))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		# A suite that died without saying which test failed counts once.
		f=1
		echo "not ok - $name exited with status $rc" >>"$out"
	fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	printf '%-48s %3d passed %3d failed %3d skipped  (%ds)\n' "$name" "$p" "$f" "$s" $((SECONDS - t0))
	if [ "$f" -gt 0 ] || [ -n "${VERBOSE:-}" ]; then
		sed 's/^/    /' "$out"
		[ "$f" -gt 0 ] && failures+=("$name")
	fi
	rm -f "$out"
}

if [ "$mode" != integration ]; then
	for t in "$O"/tests/unit/test_*; do
		[ -x "$t" ] || continue
		[[ $t =~ $filter ]] || continue
		run_suite "unit/$(basename "$t")" env CMOCKA_MESSAGE_OUTPUT=TAP "$t"
	done
fi

if [ "$mode" != unit ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "integration and e2e tests need root: skipped" >&2
	else
		# Everything the suites create lives under names derived from this
		# run, so that nothing of the machine's own is touched and a crashed
		# run can be told apart from another.
		run_id=ctwtest$$
		work=$(mktemp -d /tmp/ctrwatch-test.XXXXXX)
		export CTW_BIN="$PWD/$O/ctrwatch"
		export CTW_BUILD="$PWD/$O"
		export CTW_SRC="$PWD"
		export CTW_RUN_ID=$run_id
		export CTW_WORK=$work
		export CTRWATCH_ROOT="$work/root"
		export CTRWATCH_STATE="$work/state"
		export CTRWATCH_BPF_PIN="/sys/fs/bpf/$run_id"
		export CTRWATCH_CGROUP_PARENT="$run_id"
		# Agents and `ctrwatch dns` attach their DNS programs once, above
		# the containers (default: the v2 root, the machine's): in tests
		# to an empty cgroup of this run, unless a suite names its own.
		# shellcheck source=scripts/cgroup-lib.sh
		CTRWATCH_DNS_CGROUP=$(. scripts/cgroup-lib.sh; cgroup2_dir "$run_id-dns")
		export CTRWATCH_DNS_CGROUP
		mkdir -p "$CTRWATCH_DNS_CGROUP"
		for t in tests/integration/*.sh tests/e2e/*.sh; do
			[ -f "$t" ] || continue
			[[ $t =~ $filter ]] || continue
			run_suite "${t#tests/}" bash "$t"
		done
		# Suites clean up after themselves; this is the net under them.
		"$CTW_BIN" gc >/dev/null 2>&1 || true
		# shellcheck source=scripts/cgroup-lib.sh
		(. scripts/cgroup-lib.sh; cgroup_rm_tree "$run_id")
		rmdir "$CTRWATCH_DNS_CGROUP" 2>/dev/null
		rm -rf "/sys/fs/bpf/$run_id" 2>/dev/null
		umount -R "$work" 2>/dev/null
		rm -rf "$work"
	fi
fi

if [ ${#failures[@]} -gt 0 ]; then
	echo "failed suites: ${failures[*]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
