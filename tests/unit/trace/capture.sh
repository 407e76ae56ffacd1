#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Re-make the recordings test_trace decodes (needs root; run it when the
# kernel contract in bpf/trace.h changes):
#   tests/unit/trace/capture.sh [BUILD_DIR]
# One run of tests/helpers/ctw-syscalls under strace -f, in a cgroup of its
# own that `ctrwatch trace --from-exec --record` traces at the same time:
# NAME.rec holds the kernel side's raw records, NAME.strace what strace
# printed for the same calls (same pids, same addresses).  Twice: plain, and
# with -yy for the fd cases.
set -eu
cd "$(dirname "$0")/../../.."
# shellcheck source=scripts/cgroup-lib.sh
. scripts/cgroup-lib.sh
O=${1:-build}
[ "$(id -u)" -eq 0 ] || { echo "capture.sh: needs root" >&2; exit 1; }
out=$PWD/tests/unit/trace
wl=$PWD/$O/tests/helpers/ctw-syscalls
rel=ctwcapture$$
cg=$(cgroup2_dir "$rel")
work=$(mktemp -d /tmp/ctw-capture.XXXXXX)
trap 'rmdir "$cg" 2>/dev/null; rm -rf "$work"' EXIT

capture() { # NAME OPTS CASES...
	local name=$1 opts=$2 tracer; shift 2
	mkdir -p "$cg"
	# shellcheck disable=SC2086 # OPTS are words
	"$O/ctrwatch" trace --from-exec $opts --record "$out/$name.rec" "$cg" 2>"$work/err" &
	tracer=$!
	for _ in $(seq 50); do grep -q attached "$work/err" && break; sleep 0.1; done
	# shellcheck disable=SC2086
	(cd "$work" && env -i PATH=/usr/bin:/bin strace -f $opts -o "$out/$name.strace" \
		sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cg" "$wl" "$@" \
		</dev/null >/dev/null 2>&1)
	for _ in $(seq 50); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
	wait "$tracer"
	# the records must not depend on where this ran: the workload's path
	# is the only place it shows, and the test does not look at it
	echo "$name: $(wc -c <"$out/$name.rec") bytes, $(wc -l <"$out/$name.strace") strace lines"
}

capture syscalls ""
capture syscalls-yy "-yy" files dirs fcntl poll net ioctl
capture syscalls-s1 "-s 1" files net poll exec
