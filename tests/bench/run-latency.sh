#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Start-to-exit latency of `ctrwatch run ... true` against crun and runc on the
# same busybox rootfs, all with cgroups, N runs each (default 50), side by side:
# medians and the ratio ctrwatch/crun.
#
#   tests/bench/run-latency.sh [BUILD_DIR] [RUNS]
#
# crun 1.8 refuses hybrid cgroups unless /sys/fs/cgroup/unified is gone, so it
# runs inside `unshare -m` with that mount unmounted (in its namespace only).
# runc and crun get an absolute cgroupsPath below the benchmark's own cgroup.
set -eu
cd "$(dirname "$0")/../.." || exit 2
# shellcheck source=tests/bench/result.sh
. tests/bench/result.sh
O=${1:-build}
N=${2:-50}
CTW=$PWD/$O/ctrwatch
[ "$(id -u)" -eq 0 ] || { echo "run-latency: needs root" >&2; exit 1; }
for c in crun runc jq hyperfine; do command -v $c >/dev/null || { echo "run-latency: needs $c" >&2; exit 1; }; done

work=$(mktemp -d /tmp/ctw-bench.XXXXXX)
# The three runtimes keep their state under /run (/run/ctrwatch, /run/crun,
# /run/runc), which is a tmpfs on any systemd host, but on this VM's disk.
# Their state roots here share one tmpfs, as on such a host.
run=$work/run
mkdir -p "$run"
trap 'umount "$run" 2>/dev/null; rm -rf "$work"' EXIT # (the full cleanup below)
trap 'exit 130' INT TERM # (so that a stopped run cleans up too)
mount -t tmpfs -o mode=0755,size=64m ctw-bench-run "$run"
export CTRWATCH_ROOT=$work/root CTRWATCH_STATE=$run/ctrwatch CTRWATCH_CGROUP_PARENT=ctwbench$$
# runc/crun get a private netns with only lo from `runc spec`: the same as
# --net none. (Bridge mode would also create ctrwatch0 in the root netns.)
export CTRWATCH_NET=${CTRWATCH_NET:-none}
# runc and crun get an absolute cgroupsPath below our own cgroup in every
# hierarchy (scripts/cgroup-lib.sh: they read a relative one against PID
# 1's cgroups); what they make of it is removed at the end.
# shellcheck source=scripts/cgroup-lib.sh
. scripts/cgroup-lib.sh
oci_cgroup_path "ctwbench$$/oci"
ocipath=$OCI_CG_PATH
cleanup() {
	"$CTW" gc >/dev/null 2>&1 || true
	for id in $(runc --root "$run/runc" list -q 2>/dev/null); do runc --root "$run/runc" delete -f "$id"; done
	# Our cgroup parent in every hierarchy, and the runtimes' cgroups
	# (rmdir only: empty dirs we made).
	cgroup_rm_tree "ctwbench$$"
	oci_cgroup_rm
	umount "$run" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# One busybox rootfs for all three.
bundle=$work/bundle
mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/proc" "$bundle/rootfs/dev" "$bundle/rootfs/sys" \
	"$bundle/rootfs/etc" "$bundle/rootfs/tmp"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
for a in sh true echo; do ln -s busybox "$bundle/rootfs/bin/$a"; done
(cd "$bundle" && runc spec)
jq --arg cg "$ocipath" '.process.args = ["/bin/true"] | .process.terminal = false
	| .linux.cgroupsPath = $cg | .root.readonly = false' \
	"$bundle/config.json" >"$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"

# median of the numbers (ns) on stdin, in ms with 2 decimals
median() { sort -n | awk '{a[NR]=$1} END {m = NR % 2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.2f", m/1e6}'; }

# N runs of a command, one duration (ns) per line.  hyperfine -N starts it
# without a shell and times just the process: timing with `date` before and
# after added the two `date` processes (~3 ms here) to every run, which
# pulled every ratio towards 1.
time_runs() { # cmd...
	local j
	j=$(mktemp /tmp/ctw-bench-hf.XXXXXX.json)
	hyperfine -N -w 1 -r "$N" --export-json "$j" "$*" >/dev/null 2>&1 ||
		echo "runs failed: $*" >&2
	jq -r '.results[0].times[] | . * 1e9 | floor' "$j"
	rm -f "$j"
}
export -f time_runs
export N

"$CTW" run --rootfs "$bundle/rootfs" true # warm up the page cache
"$CTW" run busybox true
# Rounds of each runtime in turn, so that a burst of load on this shared
# 2-core machine hits all of them alike; the median is over every run.
# The machine's speed drifts by 30% within seconds here, so the rounds are
# short (2 runs each) and the order rotates from round to round.
per=2
ROUNDS=$(( (N + per - 1) / per ))
export N=$per
ctw_rootfs() { time_runs "$CTW" run --rootfs "$bundle/rootfs" /bin/true >>"$work/ctw.ns"; }
ctw_image() { time_runs "$CTW" run busybox true >>"$work/ctwimg.ns"; }
oci_runc() { (cd "$bundle" && time_runs runc --root "$run/runc" run "bench-$$") >>"$work/runc.ns"; }
oci_crun() {
	(cd "$bundle" && unshare -m bash -c "umount /sys/fs/cgroup/unified 2>/dev/null; \
		time_runs crun --root '$run/crun' run 'bench-$$'") >>"$work/crun.ns"
}
order=(ctw_rootfs ctw_image oci_crun oci_runc)
for r in $(seq "$ROUNDS"); do
	((r % 5 == 1)) && echo "round $r/$ROUNDS ($per runs each)" >&2
	for k in 0 1 2 3; do
		"${order[(r + k) % 4]}"
	done
done
N=$((per * ROUNDS))
ctw_ms=$(median <"$work/ctw.ns")
ctwimg_ms=$(median <"$work/ctwimg.ns")
runc_ms=$(median <"$work/runc.ns")
crun_ms=$(median <"$work/crun.ns")

printf '%-34s %10s\n' "runtime ($N runs, busybox true)" "median ms"
printf '%-34s %10s\n' "ctrwatch run --rootfs DIR" "$ctw_ms"
printf '%-34s %10s\n' "ctrwatch run busybox (image)" "$ctwimg_ms"
printf '%-34s %10s\n' "crun run" "$crun_ms"
printf '%-34s %10s\n' "runc run" "$runc_ms"
awk -v a="$ctw_ms" -v i="$ctwimg_ms" -v b="$crun_ms" -v c="$runc_ms" 'BEGIN {
	printf "ratio ctrwatch/crun, the same rootfs (--rootfs): %.2f   image: %.2f   (goal: <= 0.8 x crun)\n", a/b, i/b
	printf "ratio ctrwatch/runc, the same rootfs (--rootfs): %.2f   image: %.2f\n", a/c, i/c }'
# The same from run to run of a round (each round's runs are seconds apart,
# the machine's speed drifts over longer): the median of per-round ratios.
round_ratio() { # file-a file-b: median over rounds of mean(a)/mean(b)
	paste <(awk -v p=$per '{s += $1} NR % p == 0 {print s / p; s = 0}' "$1") \
		<(awk -v p=$per '{s += $1} NR % p == 0 {print s / p; s = 0}' "$2") |
		awk '{print $1 / $2}' | sort -n | awk '{a[NR] = $1} END {printf "%.2f", a[int((NR + 1) / 2)]}'
}
echo "median of per-round ratios to crun: --rootfs $(round_ratio "$work/ctw.ns" "$work/crun.ns")" \
	"  image $(round_ratio "$work/ctwimg.ns" "$work/crun.ns")"
rr_rootfs=$(round_ratio "$work/ctw.ns" "$work/crun.ns")
rr_image=$(round_ratio "$work/ctwimg.ns" "$work/crun.ns")
result run-latency "runs=$N ctrwatch_rootfs_ms=$ctw_ms ctrwatch_image_ms=$ctwimg_ms crun_ms=$crun_ms" \
	"runc_ms=$runc_ms round_ratio_crun_rootfs=$rr_rootfs round_ratio_crun_image=$rr_image" \
	"ratio_runc_image=$(awk -v i="$ctwimg_ms" -v c="$runc_ms" 'BEGIN {printf "%.2f", i / c}')"
goal run-latency ctrwatch_image_over_crun "$rr_image" "<=" 0.8 x crun
goal run-latency ctrwatch_rootfs_over_crun "$rr_rootfs" "<=" 0.8 x crun
