# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Helpers for integration and e2e suites: TAP output, assertions, and a
# cleanup stack that runs on every exit path.
#
#   . "$(dirname "$0")/../lib.sh"
#   t_ok "name" cmd args...          passes when cmd exits 0
#   t_eq "name" expected actual
#   t_match "name" REGEX text        passes when text matches the ERE
#   t_skip "name" reason
#   on_exit 'shell command'          cleanup, run in reverse order
#   require_root; require_cmd NAME   skip the whole suite (exit 0, one SKIP);
#                                    with CTW_REQUIRE_ALL=1 (.ci/run: `make
#                                    deps` installs every tool) a missing
#                                    tool or helper fails the suite instead
#
# Environment from tests/run.sh: CTW_BIN, CTW_BUILD, CTW_SRC, CTW_RUN_ID,
# CTW_WORK, CTRWATCH_ROOT, CTRWATCH_STATE, CTRWATCH_BPF_PIN,
# CTRWATCH_CGROUP_PARENT.  Run standalone, a suite makes its own.

set -u
_t_n=0
_t_failed=0
_t_cleanups=()

: "${CTW_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${CTW_BUILD:=$CTW_SRC/build}"
: "${CTW_BIN:=$CTW_BUILD/ctrwatch}"
: "${CTW_RUN_ID:=ctwtest$$}"
if [ -z "${CTW_WORK:-}" ]; then
	CTW_WORK=$(mktemp -d /tmp/ctrwatch-test.XXXXXX)
	_t_cleanups+=("rm -rf '$CTW_WORK'")
fi
: "${CTRWATCH_ROOT:=$CTW_WORK/root}"
: "${CTRWATCH_STATE:=$CTW_WORK/state}"
: "${CTRWATCH_BPF_PIN:=/sys/fs/bpf/$CTW_RUN_ID}"
: "${CTRWATCH_CGROUP_PARENT:=$CTW_RUN_ID}"
export CTW_BIN CTW_BUILD CTW_SRC CTW_RUN_ID CTW_WORK CTRWATCH_ROOT CTRWATCH_STATE \
	CTRWATCH_BPF_PIN CTRWATCH_CGROUP_PARENT
# `ctrwatch run` defaults to --net bridge; suites that don't ask for a
# network get none, so that nothing is created in the machine's own netns.
: "${CTRWATCH_NET:=none}"
export CTRWATCH_NET

ctw() { "$CTW_BIN" "$@"; }

_t_report() { # status name [directive]
	_t_n=$((_t_n + 1))
	if [ "$1" = ok ]; then
		echo "ok $_t_n - $2${3:+ # $3}"
	else
		echo "not ok $_t_n - $2"
		_t_failed=$((_t_failed + 1))
	fi
}

t_ok() {
	local name=$1; shift
	local out
	if out=$("$@" 2>&1); then
		_t_report ok "$name"
	else
		_t_report fail "$name"
		echo "#   command: $*"
		printf '%s\n' "$out" | tail -20 | sed 's/^/#   /'
	fi
}

t_fail() { # expect a non-zero exit
	local name=$1; shift
	if "$@" >/dev/null 2>&1; then
		_t_report fail "$name"
		echo "#   expected failure: $*"
	else
		_t_report ok "$name"
	fi
}

t_eq() {
	if [ "$2" = "$3" ]; then
		_t_report ok "$1"
	else
		_t_report fail "$1"
		echo "#   expected: '$2'"
		echo "#   actual:   '$3'"
	fi
}

t_match() {
	if printf '%s' "$3" | grep -qE -- "$2"; then
		_t_report ok "$1"
	else
		_t_report fail "$1"
		echo "#   pattern: $2"
		printf '%s\n' "$3" | head -20 | sed 's/^/#   text: /'
	fi
}

t_nomatch() {
	if printf '%s' "$3" | grep -qE -- "$2"; then
		_t_report fail "$1"
		echo "#   unexpected pattern: $2"
		printf '%s\n' "$3" | grep -E -- "$2" | head -5 | sed 's/^/#   text: /'
	else
		_t_report ok "$1"
	fi
}

t_skip() { _t_report ok "$1" "SKIP ${2:-}"; }

# Numeric comparison: t_cmp "name" A -ge B
t_cmp() {
	if test "$2" "$3" "$4" 2>/dev/null; then
		_t_report ok "$1"
	else
		_t_report fail "$1"
		echo "#   expected: $2 $3 $4"
	fi
}

on_exit() { _t_cleanups+=("$1"); }

_t_exit() {
	local rc=$?
	local i
	for ((i = ${#_t_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_t_cleanups[$i]}" >/dev/null 2>&1 || true
	done
	echo "1..$_t_n"
	[ "$_t_failed" -eq 0 ] && [ "$rc" -eq 0 ] && exit 0
	exit 1
}
trap _t_exit EXIT
trap 'exit 130' INT TERM

require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		t_skip "$(basename "$0")" "needs root"
		exit 0
	fi
}

# The suite cannot run for want of what: one SKIP, or under
# CTW_REQUIRE_ALL=1 one failure (where `make deps` provides everything, a
# skip would hide its checks: on CI a missing zsh once skipped 86).
_t_cannot_run() { # reason
	if [ "${CTW_REQUIRE_ALL:-0}" = 1 ]; then
		_t_report fail "$(basename "$0")"
		echo "#   $1, and CTW_REQUIRE_ALL=1 (make deps should have installed it)"
		exit 1
	fi
	t_skip "$(basename "$0")" "$1"
	exit 0
}

require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || _t_cannot_run "needs $c"
	done
}

# require_helper NAME: skip the whole suite unless the test payload
# tests/helpers/NAME was built (make all).
require_helper() {
	[ -x "$CTW_BUILD/tests/helpers/$1" ] && return 0
	_t_cannot_run "no $CTW_BUILD/tests/helpers/$1 (make all)"
}

# Container directories under CTRWATCH_ROOT (containers/ID): a finished
# container leaves none.  .spare holds emptied ones kept for the next
# container (runtime/spare.c); gc removes those.
container_dirs_left() {
	find "$CTRWATCH_ROOT/containers" -mindepth 1 -maxdepth 1 ! -name .spare 2>/dev/null | wc -l
}

# cgroup_dirs, cgroup_rm_tree: shared with the demo.
# shellcheck source=scripts/cgroup-lib.sh
. "$CTW_SRC/scripts/cgroup-lib.sh"

# Wait until a command succeeds: wait_for SECONDS cmd args...
wait_for() {
	local secs=$1; shift
	local end=$((SECONDS + secs))
	while [ $SECONDS -lt $end ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# A free TCP port on loopback, for agents and servers in tests.
free_port() {
	# Below the ephemeral range (connections the suites make take ports
	# from it, and one of them could take a port picked here before the
	# server binds it), and used by no socket at all, not just listeners.
	local p lo=20000 hi
	read -r hi _ </proc/sys/net/ipv4/ip_local_port_range
	[ "$hi" -gt $((lo + 1000)) ] || hi=40000
	for _ in $(seq 1 50); do
		p=$((lo + RANDOM % (hi - lo)))
		if ! ss -Htan "sport = :$p or dport = :$p" | grep -q .; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# The first TCP port in [LO, HI] nobody uses (listening or connected), for
# suites given a port range of their own: free_port_range LO HI.  (Suites
# start at LO + $RANDOM % N, so that two runs of one suite on the host, from
# other worktrees, seldom pick the same ports.)
free_port_range() {
	local p
	for p in $(seq "$1" "$2"); do
		ss -Htan "sport = :$p or dport = :$p" | grep -q . || { echo "$p"; return 0; }
	done
	return 1
}

# The Helm chart checker: $CHART_CHECK, ../shared/tools/chart-check from the
# main checkout or ../../shared/... from a worktree of it.  Prints its path;
# fails when there is none.
chart_checker() {
	local c
	for c in "${CHART_CHECK:-}" "$CTW_SRC/../shared/tools/chart-check/chart-check" \
		"$CTW_SRC/../../shared/tools/chart-check/chart-check"; do
		[ -n "$c" ] && [ -x "$c" ] && { echo "$c"; return 0; }
	done
	return 1
}
