#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctrwatch as an OCI runtime against crun and runc, side by side in one run:
#   1. the same bundle (one config.json: runc's default spec, /bin/true, a
#      cgroup, and Podman's default seccomp profile as linux.seccomp) through
#      `create` + `start` + `delete --force`;
#   2. `podman run --rm --runtime X busybox true` for the three runtimes
#      (Podman with its own roots in a private mount namespace, as the
#      engine suites start it: tests/integration/engines-lib.bash).
# Rounds of 2 runs of each, the order rotating from round to round; figures
# are medians, ratios the medians of per-round ratios.  Goal: ctrwatch <= 0.8
# x crun on both.
#
#   tests/bench/oci-start-bench.sh [BUILD_DIR] [RUNS]   (default 40 runs)
#
# crun 1.8 refuses hybrid cgroups unless /sys/fs/cgroup/unified is gone, so
# on such a host its calls run in `unshare -m` with that mount unmounted (in
# its namespace only): it then manages the v1 hierarchies only, a little less
# work than ctrwatch and runc do (they also make the v2 cgroup).
set -eu
cd "$(dirname "$0")/../.." || exit 2
# shellcheck source=tests/bench/result.sh
. tests/bench/result.sh
O=${1:-build}
N=${2:-40}
CTW=$PWD/$O/ctrwatch
[ "$(id -u)" -eq 0 ] || { echo "oci-start: needs root" >&2; exit 1; }
for c in crun runc jq hyperfine python3; do
	command -v $c >/dev/null || { echo "oci-start: needs $c" >&2; exit 1; }
done

work=$(mktemp -d /tmp/ctw-ocib.XXXXXX)
ln -s "$CTW" "$work/ctrwatch-runc"
hybrid=false
[ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] && hybrid=true
# runc and crun get an absolute cgroupsPath below our own cgroup in every
# hierarchy (scripts/cgroup-lib.sh: they read a relative one against PID
# 1's cgroups); what they (and podman) make of it is removed at the end.
# shellcheck source=scripts/cgroup-lib.sh
. scripts/cgroup-lib.sh
# All below ctwocib<pid> is ours: the bundle's cgroup (c) and podman's (pm).
oci_cgroup_path "ctwocib$$"
ocipath=$OCI_CG_PATH/c
cleanup() {
	set +e # (every step, whatever the one before said)
	local r id d
	for r in ctrwatch runc crun; do
		for id in $(wrap "$r" list -q 2>/dev/null); do wrap "$r" delete -f "$id" >/dev/null 2>&1; done
	done
	cgroup_rm_tree "ctwocib$$"
	oci_cgroup_rm
	[ -n "${PM_NS:-}" ] && kill -KILL "$PM_NS" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # (so that a stopped run cleans up too)

# a runtime's command line, with its own state root (crun: cgroup v1 only)
wrap() { # runtime args...
	local r=$1
	shift
	case $r in
	ctrwatch) "$work/ctrwatch-runc" --root "$work/state-ctrwatch" "$@" ;;
	runc) runc --root "$work/state-runc" "$@" ;;
	crun)
		if $hybrid; then
			unshare -m sh -c 'umount /sys/fs/cgroup/unified; exec "$@"' sh \
				crun --root "$work/state-crun" "$@"
		else
			crun --root "$work/state-crun" "$@"
		fi
		;;
	esac
}

# The bundle: busybox, runc's default spec, Podman's seccomp profile.
bundle=$work/bundle
mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/proc" "$bundle/rootfs/dev" "$bundle/rootfs/sys" \
	"$bundle/rootfs/etc" "$bundle/rootfs/tmp"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
for a in sh true; do ln -s busybox "$bundle/rootfs/bin/$a"; done
(cd "$bundle" && runc spec)
python3 - /usr/share/containers/seccomp.json "$work/seccomp.json" <<'EOF'
# Podman's profile as linux.seccomp for a container with the default
# capabilities: rules that need a capability it lacks are left out, rules for
# when it lacks one are kept.
import json, sys
p = json.load(open(sys.argv[1]))
caps = {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
        "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID",
        "CAP_SYS_CHROOT"}
rules = []
for s in p["syscalls"]:
    inc, exc = s.get("includes", {}), s.get("excludes", {})
    if inc.get("arches") and "amd64" not in inc["arches"]:
        continue
    if inc.get("caps") and not set(inc["caps"]) <= caps:
        continue
    if exc.get("caps") and set(exc["caps"]) & caps:
        continue
    if exc.get("arches") and "amd64" in exc["arches"]:
        continue
    r = {"names": s["names"], "action": s["action"]}
    if s.get("args"):
        r["args"] = s["args"]
    if s.get("errnoRet") is not None:
        r["errnoRet"] = s["errnoRet"]
    rules.append(r)
json.dump({"defaultAction": p["defaultAction"], "defaultErrnoRet": p.get("defaultErrnoRet", 1),
           "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
           "syscalls": rules}, open(sys.argv[2], "w"))
EOF
jq --arg cg "$ocipath" --slurpfile sc "$work/seccomp.json" '.process.args = ["/bin/true"] |
	.process.terminal = false | .linux.cgroupsPath = $cg | .root.readonly = false |
	.linux.seccomp = $sc[0]' "$bundle/config.json" >"$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"
echo "bundle: runc's default spec, /bin/true, $(jq '.linux.seccomp.syscalls | length' "$bundle/config.json") seccomp rules"

# The cycle timed, in one process: dash runs the three commands (the same
# shell overhead for each runtime).
cat >"$work/cycle" <<'EOF'
#!/bin/sh
# runtime-command... : create, start, delete --force of one container
id=b$$
"$@" create --bundle "$BUNDLE" "$id" && "$@" start "$id" && "$@" delete --force "$id"
EOF
chmod +x "$work/cycle"
export BUNDLE=$bundle
cycle_cmd() { # runtime: the command line hyperfine runs
	case $1 in
	ctrwatch) echo "$work/cycle $work/ctrwatch-runc --root $work/state-ctrwatch" ;;
	runc) echo "$work/cycle runc --root $work/state-runc" ;;
	crun)
		if $hybrid; then
			echo "unshare -m sh -c 'umount /sys/fs/cgroup/unified; exec $work/cycle crun --root $work/state-crun'"
		else
			echo "$work/cycle crun --root $work/state-crun"
		fi
		;;
	esac
}
# each runtime works on the bundle once (and fails the benchmark if not)
for r in ctrwatch runc crun; do
	sh -c "$(cycle_cmd $r)" >/dev/null || { echo "oci-start: $r cannot run the bundle" >&2; exit 1; }
done

# N runs of a command, one duration (ns) per line (hyperfine -N: no shell
# of its own around the command)
time_runs() { # n cmd
	local j
	j=$(mktemp "$work/hf.XXXXXX.json")
	hyperfine -N -w 0 -r "$1" --export-json "$j" "$2" >/dev/null 2>&1 || echo "runs failed: $2" >&2
	jq -r '.results[0].times[] | . * 1e9 | floor' "$j"
	rm -f "$j"
}
median() { sort -n | awk '{a[NR]=$1} END {m = NR % 2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.2f", m/1e6}'; }
per=2
round_ratio() { # file-a file-b: median over rounds of mean(a)/mean(b)
	paste <(awk -v p=$per '{s += $1} NR % p == 0 {print s / p; s = 0}' "$1") \
		<(awk -v p=$per '{s += $1} NR % p == 0 {print s / p; s = 0}' "$2") |
		awk '{print $1 / $2}' | sort -n | awk '{a[NR] = $1} END {printf "%.2f", a[int((NR + 1) / 2)]}'
}
rounds() { # name runtimes...: rounds with the order rotating
	local name=$1 r k
	shift
	local rts=("$@") n=$#
	for r in $(seq $(((N + per - 1) / per))); do
		for k in $(seq 0 $((n - 1))); do
			"$name" "${rts[(r + k) % n]}"
		done
	done
}

# ---- 1. create + start + delete ----
oci_cycle() { time_runs $per "$(cycle_cmd "$1")" >>"$work/oci-$1.ns"; }
rounds oci_cycle ctrwatch crun runc
o_ctw=$(median <"$work/oci-ctrwatch.ns")
o_crun=$(median <"$work/oci-crun.ns")
o_runc=$(median <"$work/oci-runc.ns")
o_rr_crun=$(round_ratio "$work/oci-ctrwatch.ns" "$work/oci-crun.ns")
o_rr_runc=$(round_ratio "$work/oci-ctrwatch.ns" "$work/oci-runc.ns")
printf '%-44s %10s\n' "create+start+delete ($N runs, one bundle)" "median ms"
printf '%-44s %10s\n' "ctrwatch" "$o_ctw" "crun" "$o_crun" "runc" "$o_runc"
echo "median of per-round ratios: ctrwatch/crun $o_rr_crun   ctrwatch/runc $o_rr_runc"

# ---- 2. podman run --runtime X ----
p_ctw=- p_crun=- p_runc=- p_rr_crun=- p_rr_runc=-
if command -v podman >/dev/null && command -v conmon >/dev/null; then
	d=$work/pm
	mkdir -p "$d/tmp" "$d/net"
	# Podman's mount namespace (a holder keeps it): private tmpfs on /run
	# (its runroot) and /dev/shm (its locks).  Each timed podman runs in a
	# copy of it made by `unshare -m` (the same tmpfs), crun's with the v2
	# tree unmounted, so all three pay for the same wrapping.
	unshare -m --propagation private sh -c 'mount -t tmpfs -o mode=755 ctw-ocib-run /run &&
		mount -t tmpfs -o mode=1777 ctw-ocib-shm /dev/shm && touch "$1/ns-ready" &&
		exec sleep infinity' sh "$work" &
	PM_NS=$!
	disown "$PM_NS" # (killed at the end: no "Killed" report of it)
	for _ in $(seq 100); do [ -e "$work/ns-ready" ] && break; sleep 0.05; done
	runroot=/run/ctwocib-pm
	pm_cg=${ocipath%/c}/pm
	# the nofile/nproc limits podman itself runs with: Podman's default
	# 1048576 cannot be set where CAP_SYS_RESOURCE is not granted (as in
	# engines-lib.bash)
	pm_nofile=$(ulimit -Hn)
	pm_nproc=$(ulimit -Hu)
	[ "$pm_nproc" = unlimited ] || [ "$pm_nproc" -gt 32768 ] && pm_nproc=32768
	cat >"$d/containers.conf" <<-EOF
		[containers]
		netns = "none"
		cgroups = "no-conmon"
		default_ulimits = ["nofile=$pm_nofile:$pm_nofile", "nproc=$pm_nproc:$pm_nproc"]
		[engine]
		cgroup_manager = "cgroupfs"
		events_logger = "none"
		tmp_dir = "$d/tmp"
		static_dir = "$d/root/libpod"
		volume_path = "$d/root/volumes"
		[network]
		network_config_dir = "$d/net"
	EOF
	cat >"$d/storage.conf" <<-EOF
		[storage]
		driver = "overlay"
		runroot = "$runroot"
		graphroot = "$d/root"
	EOF
	podman_env="env CONTAINERS_CONF=$d/containers.conf CONTAINERS_STORAGE_CONF=$d/storage.conf podman --root $d/root --runroot $runroot"
	pm_cmd() { # runtime [podman args]: podman in a copy of its namespace
		local rt=$1 um=
		shift
		[ "$rt" = ctrwatch ] && rt=$work/ctrwatch-runc
		[ "$rt" = crun ] && $hybrid && um="umount /sys/fs/cgroup/unified; "
		echo "nsenter -t $PM_NS -m unshare -m sh -c '${um}exec $podman_env --runtime $rt $*'"
	}
	tar=$work/busybox.tar
	tar -C "$bundle/rootfs" -cf "$tar" .
	sh -c "$(pm_cmd runc import "$tar" ctwocib/busybox:1)" >/dev/null
	run_args="run --rm --cgroup-parent $pm_cg ctwocib/busybox:1 true"
	ok=true
	for r in ctrwatch runc crun; do
		sh -c "$(pm_cmd $r $run_args)" >/dev/null 2>"$work/pm-$r.err" ||
			{ echo "# podman --runtime $r: $(tail -1 "$work/pm-$r.err")"; ok=false; }
	done
	if $ok; then
		pm_run() { time_runs $per "$(pm_cmd "$1" $run_args)" >>"$work/pm-$1.ns"; }
		rounds pm_run ctrwatch crun runc
		p_ctw=$(median <"$work/pm-ctrwatch.ns")
		p_crun=$(median <"$work/pm-crun.ns")
		p_runc=$(median <"$work/pm-runc.ns")
		p_rr_crun=$(round_ratio "$work/pm-ctrwatch.ns" "$work/pm-crun.ns")
		p_rr_runc=$(round_ratio "$work/pm-ctrwatch.ns" "$work/pm-runc.ns")
		printf '%-44s %10s\n' "podman run --rm --runtime X busybox true" "median ms"
		printf '%-44s %10s\n' "ctrwatch" "$p_ctw" "crun" "$p_crun" "runc" "$p_runc"
		echo "median of per-round ratios: ctrwatch/crun $p_rr_crun   ctrwatch/runc $p_rr_runc"
	fi
	sh -c "$(pm_cmd runc rm -a -f)" >/dev/null 2>&1 || true
else
	echo "# podman or conmon missing: part 2 not measured"
fi

result oci-start "runs=$N oci_ctrwatch_ms=$o_ctw oci_crun_ms=$o_crun oci_runc_ms=$o_runc" \
	"oci_round_ratio_crun=$o_rr_crun oci_round_ratio_runc=$o_rr_runc" \
	"podman_ctrwatch_ms=$p_ctw podman_crun_ms=$p_crun podman_runc_ms=$p_runc" \
	"podman_round_ratio_crun=$p_rr_crun podman_round_ratio_runc=$p_rr_runc"
goal oci-start create_start_delete_over_crun "$o_rr_crun" "<=" 0.8 x crun
goal oci-start podman_run_over_crun "$p_rr_crun" "<=" 0.8 x crun
