#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctrwatch run, the slice: namespaces, hostname, exit codes, state, cgroups,
# and nothing left behind.
. "$(dirname "$0")/../lib.sh"
require_root

on_exit 'ctw gc'

leftovers() { # what a finished container must not leave
	local d n=0
	while IFS= read -r d; do
		[ -d "$d" ] || continue
		n=$((n + $(find "$d" -mindepth 1 -maxdepth 1 -type d -regextype egrep \
			-regex '.*/[0-9a-f]{64}' | wc -l)))
	done < <(cgroup_dirs "$CTRWATCH_CGROUP_PARENT")
	n=$((n + $(grep -c "$CTRWATCH_ROOT/containers" /proc/self/mountinfo)))
	n=$((n + $(find "$CTRWATCH_STATE" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l)))
	n=$((n + $(container_dirs_left)))
	echo "$n"
}

out=$(ctw run busybox echo hi 2>&1)
t_eq "busybox echo hi" "hi" "$out"

# PID namespace: our init (1) and ps itself, nothing of the host.
out=$(ctw run busybox ps -o pid,comm 2>&1)
t_eq "pid namespace: only the container's processes" "3" "$(printf '%s\n' "$out" | wc -l)"
t_match "pid namespace: the command is pid 2 under our init" '^ *2 +ps' "$out"
t_match "PID 1 is ctrwatch-init" '^ *1 +ctrwatch-init' "$out"
t_nomatch "the host's command line does not leak into the container" "$CTW_BIN|busybox ps" \
	"$(ctw run busybox cat /proc/1/cmdline | tr '\0' ' ')"
out=$(ctw run --no-init busybox sh -c 'echo $$')
t_eq "--no-init: the command is pid 1" "1" "$out"

t_eq "hostname is the name" "slice-$$" "$(ctw run --name "slice-$$" busybox hostname)"
t_match "hostname defaults to the short id" '^[0-9a-f]{12}$' "$(ctw run busybox hostname)"
t_eq "--hostname" "h1" "$(ctw run --hostname h1 busybox hostname)"

ctw run busybox sh -c 'exit 42'
t_eq "exit 42" 42 $?
ctw run busybox sh -c 'kill -TERM $$'
t_eq "killed by SIGTERM: 143" 143 $?
ctw run busybox sh -c 'kill -KILL $$'
t_eq "killed by SIGKILL: 137" 137 $?
ctw run busybox true
t_eq "exit 0" 0 $?
ctw run busybox sh -c 'exit 1'
t_eq "exit 1" 1 $?

# Other namespaces differ from the host's.
for ns in mnt uts ipc net cgroup pid; do
	inside=$(ctw run busybox readlink "/proc/self/ns/$ns")
	t_nomatch "$ns namespace is the container's own" "^$(readlink "/proc/self/ns/$ns")\$" "$inside"
done
t_eq "cgroup namespace root" "0::/" "$(ctw run busybox grep '^0::' /proc/self/cgroup)"
t_eq "net none: only lo" "lo" "$(ctw run --net none busybox ls /sys/class/net)"
# The network namespace is made ahead on a thread, and joined: lo is up in
# it, and each container has its own (a detached one keeps it while it runs).
t_match "net none: lo is up" 'lo: <LOOPBACK,UP' "$(ctw run --net none busybox ip link show lo)"
netid=$(ctw run -d --net none busybox sleep 30)
t_nomatch "net none: two containers, two network namespaces" \
	"^$(ctw exec "$netid" readlink /proc/self/ns/net)\$" "$(ctw run --net none busybox readlink /proc/self/ns/net)"
ctw rm -f "$netid" >/dev/null

# --rootfs: a plain directory as the lower layer, left untouched.
rootfs=$CTW_WORK/rootfs-basic
mkdir -p "$rootfs/bin"
cp /bin/busybox "$rootfs/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$rootfs/bin/$a"; done
out=$(ctw run --rootfs "$rootfs" /bin/sh -c 'echo x > /written; cat /written')
t_eq "--rootfs runs" "x" "$out"
t_ok "--rootfs dir not written (overlay upper)" test ! -e "$rootfs/written"

# State while running: the contract the agent reads.
"$CTW_BIN" run --name "st-$$" busybox sleep 30 &
runpid=$!
on_exit "kill -9 $runpid"
running() { grep -qs '"running"' "$CTRWATCH_STATE"/*/state.json; }
wait_for 10 running
sj=$(cat "$CTRWATCH_STATE"/*/state.json)
t_eq "state: status running" running "$(jq -r .status <<<"$sj")"
t_eq "state: name" "st-$$" "$(jq -r .name <<<"$sj")"
t_match "state: 64-hex id" '^[0-9a-f]{64}$' "$(jq -r .id <<<"$sj")"
cg=$(jq -r .cgroup <<<"$sj")
t_ok "state: cgroup dir exists" test -d "$cg"
t_eq "state: cgroup_id is the v2 dir's inode" "$(stat -c %i "$cg")" "$(jq -r .cgroup_id <<<"$sj")"
ipid=$(jq -r .pid <<<"$sj")
t_ok "state: init pid is in the cgroup" grep -qx "$ipid" "$cg/cgroup.procs"
t_match "state: image and command" 'busybox.*sleep' "$(jq -c '[.image,.command]' <<<"$sj")"
t_match "state: created timestamp" '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T' "$(jq -r .created <<<"$sj")"
kill -TERM $runpid
wait $runpid
t_eq "SIGTERM to ctrwatch run reaches the container: 143" 143 $?

t_eq "nothing left behind (cgroups, mounts, state, dirs)" 0 "$(leftovers)"

# Errors before the command: 125/126/127, one line, nothing left.
out=$(ctw run busybox /nonexistent 2>&1)
t_eq "command not found: 127" 127 $?
t_match "command not found: message" 'executable file not found' "$out"
ctw run busybox /etc/passwd 2>/dev/null
t_eq "not executable: 126" 126 $?
out=$(ctw run no-such-image-$$ true 2>&1)
t_eq "unknown image: 125" 125 $?
t_eq "unknown image: one line" 1 "$(printf '%s\n' "$out" | wc -l)"
out=$(ctw run --memory lots busybox true 2>&1)
t_eq "bad option value: 125" 125 $?
t_eq "bad option value: one line" 1 "$(printf '%s\n' "$out" | wc -l)"
out=$(ctw run --cgroup-parent ../../elsewhere busybox true 2>&1)
t_eq "cgroup parent with ..: 125" 125 $?
t_match "cgroup parent with ..: refused" 'not allowed' "$out"
t_eq "nothing left behind after failures" 0 "$(leftovers)"
