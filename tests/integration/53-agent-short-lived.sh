#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Short-lived containers counted exactly (issue 15): each a cgroup in
# Docker's layout below this test's cgroup, made, run and removed the way a
# runtime does it, with a static workload that makes a known number of
# syscalls (ctw-testinit workload: G getppid, O openat, E children that
# execve once, C refused connects).  After the cgroup is gone, the agent
# must still show every count exactly (the kernel keyed them on the cgroup
# from its first syscall; the final counts are kept for --exit-grace):
#   - containers living 10 ms, 50 ms, 200 ms and 1 s;
#   - one that moves into a cgroup it makes inside its own (nested) first;
#   - 20 started in parallel with distinct counts (nothing crossed);
#   - the cgroup stream's ring overflowing: counted, repaired by a rescan;
#   - an agent with a --cgroup-root below the mount takes only its cgroups;
#   - a name reused by a new container while the old one's series are
#     kept: both kept, told apart by container_id;
#   - and their series gone once the exit grace has passed.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/agent-lib.bash"
require_root
require_cmd curl
H=$CTW_BUILD/tests/helpers/ctw-testinit
[ -x "$H" ] || { t_skip "53-agent-short-lived" "no $H (make all)"; exit 0; }

base=$(cgroup2_dir "$CTW_RUN_ID-agent53")
on_exit "cg_rmdir '$base'"
mkdir -p "$base/system.slice" || exit 1
hex() { printf '%s' "$1-$$" | sha256sum | cut -c1-64; }

# one agent keeps exited containers long enough for every check on a busy
# machine, a second one 2 s only (their series must go)
port2=$(free_port)
agent_start "$port2" --metrics syscalls --exit-grace 2s --discovery-interval 1s || exit 1
port=$(free_port)
agent_start "$port" --metrics syscalls --exit-grace 120s --discovery-interval 1s ${AGENT53_ARGS:-} || exit 1

# run_one NAME G O E C MS [nested]: the workload in a new container cgroup,
# which is removed as soon as the workload exits (as runtimes do)
run_one() {
	local id d
	id=$(hex "$1")
	d=$base/system.slice/docker-$id.scope
	mkdir "$d" || return 1
	sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$d" \
		"$H" workload "$2" "$3" "$4" "$5" "$6" ${7:+"$d/$7"}
	[ -z "${7:-}" ] || rmdir "$d/$7"
	rmdir "$d"
}
value() { # metrics name syscall
	series_sum "$1" "^ctrwatch_syscalls_total\\{container=\"${2:0:12}\",container_id=\"${2:0:12}\",syscall=\"$3\"\\}"
}
# check NAME G O E C: every count exact (execve: the shell's exec of the
# workload, then one per child; exit_group: the workload and its children;
# a nested workload opens cgroup.procs once more)
check() {
	local m id
	m=$(scrape "$port")
	id=$(hex "$1")
	t_eq "$1: getppid exact after exit" "$2" "$(value "$m" "$id" getppid)"
	t_eq "$1: openat exact" "$3" "$(value "$m" "$id" openat)"
	t_eq "$1: execve exact" "$(($4 + 1))" "$(value "$m" "$id" execve)"
	t_eq "$1: connect exact" "$5" "$(value "$m" "$id" connect)"
	t_eq "$1: exit_group exact" "$(($4 + 1))" "$(value "$m" "$id" exit_group)"
}

run_one life10ms 1001 11 1 1 10
run_one life50ms 1002 12 2 2 50
run_one life200ms 1003 13 3 3 200
run_one life1s 1004 14 4 4 1000
run_one nested 1005 15 2 1 10 inner
sleep 0.3 # the last slots retired at the next pass (a scrape does one)
check life10ms 1001 11 1 1
check life50ms 1002 12 2 2
check life200ms 1003 13 3 3
check life1s 1004 14 4 4
check nested 1005 16 2 1

# 20 at once, each its own counts
pids=()
for i in $(seq 1 20); do
	run_one par$i $((2000 + i)) $((i * 3)) $((i % 3)) $((i % 4)) 20 &
	pids+=($!)
done
wait "${pids[@]}"
sleep 0.3
m=$(scrape "$port")
bad=0
for i in $(seq 1 20); do
	id=$(hex par$i)
	got="$(value "$m" "$id" getppid) $(value "$m" "$id" openat) $(value "$m" "$id" execve)"
	want="$((2000 + i)) $((i * 3)) $((i % 3 + 1))"
	[ "$got" = "$want" ] || {
		bad=$((bad + 1))
		echo "# par$i ${id:0:12}: getppid openat execve $got, want $want"
		grep -E "dropped|${id:0:12}" "$AGENT_LOG" | sed "s/^/# log: /" | tail -5
	}
done
t_eq "20 parallel containers: getppid, openat and execve exact for each (wrong counts)" 0 "$bad"
t_eq "no count unattributed" 0 "$(series_value "$m" '^ctrwatch_syscall_counts_lost_total ')"

# A name reused (ctrwatch run --name, run, rm, run again) while the first
# container's series are kept: each keeps its own series, told apart by
# container_id (its short id), with its own counts (5 and 40 cats).
reuse=ctwa53-reuse-$$
reuse_run() { # CATS: prints the container's short id (foreground
	# containers are removed at their exit: read it while it runs)
	local run id=
	"$CTW_BIN" run --name "$reuse" busybox sh -c \
		"sleep 1; i=0; while [ \$i -lt $1 ]; do cat /etc/hostname >/dev/null; i=\$((i+1)); done" \
		>"$CTW_WORK/reuse53.log" 2>&1 &
	run=$!
	for _ in $(seq 1 100); do
		id=$(ctw inspect "$reuse" 2>/dev/null | jq -r '.[0].id // empty')
		[ -n "$id" ] && break
		sleep 0.1
	done
	wait "$run" || sed "s/^/# run: /" "$CTW_WORK/reuse53.log" >&2
	echo "${id:0:12}"
}
on_exit "'$CTW_BIN' rm -f $reuse >/dev/null 2>&1"
id1=$(reuse_run 5)
id2=$(reuse_run 40)
t_match "name reuse: two ids ($id1, $id2)" '^[0-9a-f]{12} [0-9a-f]{12}$' "$id1 $id2"
rvalue() { series_sum "$1" "^ctrwatch_syscalls_total\\{container=\"$reuse\",container_id=\"$2\",syscall=\"execve\"\\}"; }
both_seen() { m=$(scrape "$port"); [ "$(rvalue "$m" "$id1")" -gt 0 ] && [ "$(rvalue "$m" "$id2")" -gt 0 ]; }
t_ok "name reuse: both containers' series are kept, each under its own container_id" wait_for 5 both_seen
m=$(scrape "$port")
e1=$(rvalue "$m" "$id1") e2=$(rvalue "$m" "$id2")
t_eq "name reuse: the second's execve count is the first's + 35 ($e1, $e2)" $((e1 + 35)) "$e2"
t_eq "name reuse: every series is unique" "" "$(printf '%s\n' "$m" | duplicate_series)"

# The cgroup stream's ring overflows (the agent stopped while 600 cgroups
# are made and removed, more records than its 256 KiB hold), and a container
# is made behind them: the loss is counted and a rescan names the container.
kill -STOP "$AGENT_PID"
on_exit "kill -CONT $AGENT_PID 2>/dev/null"
for i in $(seq 1 600); do mkdir "$base/flood$i"; done
for i in $(seq 1 600); do rmdir "$base/flood$i"; done
lid=$(hex lost-stream)
ld=$base/system.slice/docker-$lid.scope
mkdir "$ld"
sh -c 'echo $$ > "$1/cgroup.procs"; exec sleep 30' sh "$ld" &
lpid=$!
on_exit "kill $lpid 2>/dev/null; wait $lpid 2>/dev/null; rmdir '$ld' 2>/dev/null"
kill -CONT "$AGENT_PID"
lost_counted() {
	[ "$(series_sum "$(scrape "$port")" '^ctrwatch_events_lost_total\{source="cgroups"')" -gt 0 ]
}
t_ok "stream overflow: the records lost are counted (events_lost_total{source=\"cgroups\"})" \
	wait_for 10 lost_counted
t_match "stream overflow: the agent says it rescans" 'cgroup stream: [0-9]+ records lost: rescanning' \
	"$(cat "$AGENT_LOG")"
named() { scrape "$port" | grep -q "^ctrwatch_syscalls_total{container=\"${lid:0:12}\""; }
t_ok "stream overflow: the container made behind the flood is named" wait_for 10 named
kill "$lpid"; wait "$lpid" 2>/dev/null; rmdir "$ld"

# An agent whose --cgroup-root is a directory below the v2 mount takes
# from the kernel's stream only cgroups below it: a container made outside
# it (a sibling directory) is not its container.
port3=$(free_port)
agent_start "$port3" --metrics syscalls --discovery-interval 60s --cgroup-root "$base" || exit 1
out=$(cgroup2_dir "$CTW_RUN_ID-agent53-outside")
on_exit "cgroup_rm_tree '$CTW_RUN_ID-agent53-outside'"
oid=$(hex outside) iid=$(hex inside)
mkdir -p "$out/docker-$oid.scope" "$base/system.slice/docker-$iid.scope"
for d in "$out/docker-$oid.scope" "$base/system.slice/docker-$iid.scope"; do
	sh -c 'echo $$ > "$1/cgroup.procs"; exec sleep 30' sh "$d" &
	on_exit "kill $! 2>/dev/null"
done
inside() { scrape "$port3" | grep -q "^ctrwatch_syscalls_total{container=\"${iid:0:12}\""; }
t_ok "--cgroup-root below the mount: a container made below it is counted" wait_for 10 inside
t_nomatch "--cgroup-root below the mount: one made outside it is not its container" \
	"container=\"${oid:0:12}\"" "$(scrape "$port3")"

# after the exit grace (2 s) and a discovery interval, the series go
gone() { ! scrape "$port2" | grep -q "container=\"${1:0:12}\""; }
t_ok "series of an exited container gone after the exit grace" wait_for 15 gone "$(hex life10ms)"
agent_stop; rc=$?
t_eq "the agent stops cleanly" 0 "$rc"
