#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The pure cgroup v2 (unified) code path.  On a unified host this runs as
# is; on a hybrid host (v1 controllers under /sys/fs/cgroup/<ctrl>, v2 at
# /sys/fs/cgroup/unified) the suite re-runs itself in a private mount
# namespace with the v2 hierarchy mounted at /sys/fs/cgroup, which is what a
# unified host looks like to ctrwatch.  The v2 hierarchy is the same one, so
# the containers' cgroups are real (BPF identity, placement, cleanup), but
# on a hybrid host no controller is enabled in it: limits cannot be set and
# must fail with a clear error, exit 125 and nothing left behind.
if [ -z "${CTW_V2_INNER:-}" ] && [ "$(id -u)" -eq 0 ] &&
	[ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" != cgroup2fs ] &&
	[ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] &&
	command -v unshare >/dev/null; then
	# $PPID stays in the host's mount namespace: its /proc/PID/root shows
	# the v1 hierarchies from inside ours.
	CTW_V2_INNER=1 CTW_V2_HOSTNS=$PPID exec unshare -m --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/../lib.sh"
require_root
if [ -n "${CTW_V2_INNER:-}" ] && [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ]; then
	if ! mount -t cgroup2 cgroup2 /sys/fs/cgroup; then
		t_skip "$(basename "$0")" "cannot mount cgroup2 in a private mount namespace"
		exit 0
	fi
fi
if [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ]; then
	t_skip "$(basename "$0")" "no cgroup v2 hierarchy"
	exit 0
fi
t_eq "/sys/fs/cgroup is the unified hierarchy" cgroup2fs "$(stat -f -c %T /sys/fs/cgroup)"

P=$CTRWATCH_CGROUP_PARENT/v2
# The run's parent: removed at the end when this suite made it (run alone).
[ -d "$(cgroup2_dir "$CTRWATCH_CGROUP_PARENT")" ] || on_exit "rmdir '$(cgroup2_dir "$CTRWATCH_CGROUP_PARENT")'"
export CTRWATCH_CGROUP_PARENT=$P
PD=$(cgroup2_dir "$P")
on_exit 'for c in $("$CTW_BIN" ps -aq); do "$CTW_BIN" rm -f "$c"; done; "$CTW_BIN" gc; cgroup_rm_tree "$CTRWATCH_CGROUP_PARENT"'

leftovers() {
	local n=0
	[ -d "$PD" ] && n=$(find "$PD" -mindepth 1 -type d -regextype egrep \
		-regex '.*/[0-9a-f]{64}' | wc -l)
	# (containers' state directories; not oci-roots/, where `ctrwatch oci`
	# records its state roots for gc, as an earlier suite's may have)
	n=$((n + $(find "$CTRWATCH_STATE" -mindepth 1 -maxdepth 1 -type d -regextype egrep \
		-regex '.*/[0-9a-f]{64}' 2>/dev/null | wc -l)))
	n=$((n + $(container_dirs_left)))
	echo "$n"
}

# Foreground: the container's view of its cgroup.
t_eq "run: the container is at the root of its cgroup namespace" "0::/" \
	"$(ctw run busybox grep ^0:: /proc/self/cgroup)"
t_eq "run: /sys/fs/cgroup in the container is cgroup2 (CGROUP2_SUPER_MAGIC)" 63677270 \
	"$(ctw run busybox stat -f -c %t /sys/fs/cgroup)"
t_match "run: /sys/fs/cgroup in the container is read-only" '^cgroup2 /sys/fs/cgroup cgroup2 ro,' \
	"$(ctw run busybox grep ' /sys/fs/cgroup ' /proc/mounts)"
t_fail "run: no hybrid layout in the container" ctw run busybox test -e /sys/fs/cgroup/unified
out=$(ctw run busybox sh -c 'cat /sys/fs/cgroup/cgroup.procs; ls -d /sys/fs/cgroup/*/ 2>/dev/null | wc -l')
t_match "run: /sys/fs/cgroup shows the container's own cgroup (its init is pid 1)" '^1$' "$out"
t_eq "run: ... and no cgroup below it" 0 "$(printf '%s\n' "$out" | tail -1)"
t_eq "run: nothing left behind" 0 "$(leftovers)"

# Detached: placement, identity, ps and inspect.
id=$(ctw run -d --name v2a busybox sleep 100)
t_match "run -d prints the id" '^[0-9a-f]{64}$' "$id"
js=$(ctw inspect v2a)
t_eq "inspect: cgroup is below the relative parent in the v2 hierarchy" "$PD/$id" \
	"$(jq -r '.[0].cgroup' <<<"$js")"
t_eq "inspect: cgroup_id is the v2 cgroup's inode (what BPF sees)" "$(stat -c %i "$PD/$id" 2>&1)" \
	"$(jq -r '.[0].cgroup_id' <<<"$js")"
t_eq "inspect: no v1 cgroups on a unified host" "{}" "$(jq -c '.[0].cgroup_v1 // {}' <<<"$js")"
pid=$(jq -r '.[0].pid' <<<"$js")
t_match "the init is in the container's cgroup" "^$pid\$" "$(cat "$PD/$id/cgroup.procs" 2>&1)"
t_eq "the init's /proc/PID/cgroup names it" "0::${PD#/sys/fs/cgroup}/$id" \
	"$(grep ^0:: "/proc/$pid/cgroup")"
t_match "ps lists it as running" "^${id:0:12} .*Up .*v2a\$" "$(ctw ps)"
t_eq "ps --json: the same cgroup" "$PD/$id" "$(ctw ps --json | jq -r '.[] | select(.name=="v2a") | .cgroup')"
if [ -n "${CTW_V2_HOSTNS:-}" ] && [ -d "/proc/$CTW_V2_HOSTNS/root/sys/fs/cgroup/memory" ]; then
	# (the host's /sys/fs/cgroup/unified is the same v2 hierarchy: not v1)
	n=$(find "/proc/$CTW_V2_HOSTNS/root/sys/fs/cgroup/" -maxdepth 8 -path '*/unified' -prune -o \
		-type d -name "$id" -print 2>/dev/null | wc -l)
	t_eq "no v1 cgroup made for it in the host's v1 hierarchies" 0 "$n"
else
	t_skip "no v1 cgroup made for it in the host's v1 hierarchies" "not a hybrid host"
fi
if command -v bpftool >/dev/null; then
	t_match "a device filter is attached to its v2 cgroup" 'cgroup_device|device' \
		"$(bpftool cgroup show "$PD/$id" 2>&1)"
fi

# exec joins the cgroup.
t_eq "exec: in the container's cgroup" "0::/" "$(ctw exec v2a grep ^0:: /proc/self/cgroup)"
out=$(ctw exec v2a cat /sys/fs/cgroup/cgroup.procs)
t_cmp "exec: its process is in the container's cgroup with the init" \
	"$(printf '%s\n' "$out" | grep -c .)" -ge 2

# The agent finds the v2 root at /sys/fs/cgroup even when a cgroup there is
# called "unified" (statfs says cgroup2 for it too; it was taken for the
# hybrid layout's mount, and no container was found).
. "$(dirname "$0")/agent-lib.bash"
if [ ! -e /sys/fs/cgroup/unified ] && mkdir /sys/fs/cgroup/unified; then
	on_exit 'rmdir /sys/fs/cgroup/unified 2>/dev/null'
	port=$(free_port)
	if agent_start "$port" --metrics resources --discovery-interval 1s; then
		t_ok "agent, with a cgroup named unified at the root: finds the container" \
			wait_for 10 sh -c "curl -fsS http://127.0.0.1:$port/metrics | grep -q 'ctrwatch_container_info{container=\"v2a\"'"
		agent_stop
	else
		t_fail "agent, with a cgroup named unified at the root: starts" true
	fi
	rmdir /sys/fs/cgroup/unified
fi

# Devices: the BPF filter alone (no v1 devices controller) confines them.
t_fail "a block device made with mknod cannot be read" \
	ctw run busybox sh -c 'mknod /tmp/sda b 8 0 && head -c 1 /tmp/sda >/dev/null'
t_ok "/dev/null and /dev/zero work" ctw run busybox sh -c 'head -c 4 /dev/zero >/dev/null'

# Limits need controllers this v2 hierarchy does not offer here.
ctrls=$(cat "$PD/cgroup.controllers" 2>/dev/null)
for l in "--memory 64m:memory" "--cpus 0.5:cpu" "--pids-limit 20:pids"; do
	opt=${l%%:*} c=${l#*:}
	if grep -qw "$c" <<<"$ctrls"; then
		# A unified host that delegates it: the limit is set.
		case $c in
		memory) f=memory.max v=67108864 ;;
		cpu) f=cpu.max v="50000 100000" ;;
		pids) f=pids.max v=20 ;;
		esac
		# shellcheck disable=SC2086
		t_eq "$opt: $f" "$v" "$(ctw run $opt busybox cat /sys/fs/cgroup/$f 2>&1)"
		continue
	fi
	before=$(leftovers)
	# shellcheck disable=SC2086
	out=$(ctw run $opt busybox true 2>&1)
	t_eq "$opt without the $c controller: 125" 125 $?
	t_match "$opt without the $c controller: one clear line" \
		"^ctrwatch: cgroup: ${opt%% *} needs the $c controller, which /sys/fs/cgroup[^ ]* does not enable" "$out"
	t_eq "$opt without the $c controller: one line" 1 "$(printf '%s\n' "$out" | wc -l)"
	t_eq "$opt without the $c controller: nothing left behind" "$before" "$(leftovers)"
done

# An absolute --cgroup-parent that existed before is not ours: used, not
# written to, and left in place.
own=$(sed -n 's/^0:://p' /proc/self/cgroup)
abs=${own%/}/$P/abs
mkdir -p "/sys/fs/cgroup$abs"
sc_before=$(cat "/sys/fs/cgroup$abs/cgroup.subtree_control")
t_ok "--cgroup-parent absolute: run" ctw run --cgroup-parent "$abs" busybox true
out=$(ctw run -d --cgroup-parent "$abs" --name v2abs busybox sleep 100)
t_eq "--cgroup-parent absolute: inspect" "/sys/fs/cgroup$abs/$out" \
	"$(ctw inspect v2abs | jq -r '.[0].cgroup')"
ctw rm -f v2abs >/dev/null
t_ok "--cgroup-parent absolute: its cgroup removed with it" test ! -e "/sys/fs/cgroup$abs/$out"
t_ok "--cgroup-parent absolute: the parent stays" test -d "/sys/fs/cgroup$abs"
out=$(ctw run --cgroup-parent "$abs" --memory 64m busybox true 2>&1)
if grep -qw memory "/sys/fs/cgroup$abs/cgroup.controllers"; then
	t_skip "--memory below a parent that is not ours" "memory delegated here"
else
	t_match "--memory below a parent that is not ours names it" \
		"memory controller, which /sys/fs/cgroup$abs does not enable" "$out"
fi
t_eq "--cgroup-parent absolute: its subtree_control untouched" "$sc_before" \
	"$(cat "/sys/fs/cgroup$abs/cgroup.subtree_control")"
rmdir "/sys/fs/cgroup$abs"

# Lifecycle: stop, wait, rm, gc.
ctw stop -t 1 v2a >/dev/null
t_eq "wait after stop" 143 "$(ctw wait v2a)"
t_match "ps -a: exited" "Exited \(143\).*v2a" "$(ctw ps -a)"
ctw rm v2a >/dev/null
t_ok "rm: the cgroup is gone" test ! -e "$PD/$id"
"$CTW_BIN" run --name v2k busybox sleep 100 &
p=$!
wait_for 10 sh -c "'$CTW_BIN' ps | grep -q v2k"
kcg=$(ctw inspect v2k | jq -r '.[0].cgroup')
kill -9 $p
wait $p 2>/dev/null
t_ok "kill -9 of a foreground run leaves its cgroup" test -d "$kcg"
t_ok "gc" ctw gc
t_ok "gc removes it" test ! -e "$kcg"
t_eq "nothing left behind" 0 "$(leftovers)"
