#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# containerd with ctrwatch as the runc binary of its runc v2 shim (ctr run
# --runc-binary, what a RuntimeClass handler with BinaryName does): output,
# exit codes, exec, ps, pause/resume, kill, delete, a memory limit; its own
# root, state and socket, a cgroup parent below ours (engines-lib.bash).
. "$(dirname "$0")/engines-lib.bash"
engines_subreaper "$@"
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd containerd ctr unshare nsenter jq
ln -sf "$CTW_BIN" "$CTW_WORK/ctrwatch-runc"
# shellcheck disable=SC2034 # read by engines-lib.bash
ENG_OCI_RUNTIME=$CTW_WORK/ctrwatch-runc
engines_init
containerd_start || exit 1
on_exit 'eng_stop "$CTRD_PID"'

ns=oci94
img=docker.io/ctwtest/busybox:1
t_ok "busybox imported" ctrd -n $ns images import "$(eng_busybox_oci)"
RUNROOT=$ENG_DIR/ctr-runc
fg() { # id args...: ctr run in the foreground, through ctrwatch
	local id=$1
	shift
	ctrd -n $ns run --rm --cgroup "$CTRD_CG/$ns-$id" --fifo-dir "$ENG_DIR/ctr-fifo" \
		--runc-root "$RUNROOT" --runc-binary "$ENG_OCI_RUNTIME" "$@"
}

t_eq "ctr run: stdout" hello "$(fg f1 $img f1 echo hello)"
fg f2 $img f2 sh -c 'exit 3'
t_eq "ctr run: the exit code" 3 $?
t_eq "ctr run --env, --cwd" "v /tmp" "$(fg f3 --env X=v --cwd /tmp $img f3 sh -c 'echo $X $(pwd)')"
# (containerd's default spec mounts no cgroupfs: the limit is read here)
t_ok "ctr run -d --memory-limit" ctrd_run $ns m1 --memory-limit 67108864 $img sleep 60
lim=
for d in $(cgroup_dirs "$CTRD_CG/$ns-m1"); do
	[ -f "$d/memory.limit_in_bytes" ] && lim=$(cat "$d/memory.limit_in_bytes")
	[ -f "$d/memory.max" ] && [ -z "$lim" ] && lim=$(cat "$d/memory.max")
done
t_eq "... the limit in its cgroup" 67108864 "$lim"
ctrd -n $ns task kill -s KILL m1
wait_for 10 sh -c "$(declare -f ctrd eng_ns); CTRD_SOCK=$CTRD_SOCK ENG_NS_PID=$ENG_NS_PID; ctrd -n $ns task ls | grep -q 'm1 .*STOPPED'"
t_ok "... deleted" ctrd -n $ns task delete m1
ctrd -n $ns containers delete m1

fg tr --annotation "io.ctrwatch.trace=-e trace=execve -o $CTW_WORK/ctr-trace.txt" $img tr \
	sh -c 'echo traced' >/dev/null
wait_for 5 grep -q 'exited with' "$CTW_WORK/ctr-trace.txt"
t_match "--annotation io.ctrwatch.trace: the first line is the container's execve" \
	'^[0-9]+ +execve\("/bin/sh", \["sh", "-c", "echo traced"\]' "$(head -1 "$CTW_WORK/ctr-trace.txt")"

t_ok "ctr run -d" ctrd_run $ns d1 $img sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
t_eq "task: RUNNING" RUNNING "$(ctrd -n $ns task ls | awk '$1 == "d1" {print $3}')"
t_ok "ctrwatch's state of it, in the shim's runc root" test -e "$ENG_DIR/ctr-runc/$ns/d1/state.json"
t_eq "ctrwatch state: running" running "$("$CTW_WORK/ctrwatch-runc" --root "$ENG_DIR/ctr-runc/$ns" state d1 | jq -r .status)"
t_eq "task exec: stdout" x1 "$(ctrd -n $ns task exec --exec-id e1 d1 echo x1)"
ctrd -n $ns task exec --exec-id e2 d1 sh -c 'exit 4'
t_eq "task exec: exit code" 4 $?
pid=$(ctrd -n $ns task ls | awk '$1 == "d1" {print $2}')
t_match "task ps: its init" "^$pid\b" "$(ctrd -n $ns task ps d1 | tail -n +2)"
t_ok "task pause" ctrd -n $ns task pause d1
t_eq "task: PAUSED" PAUSED "$(ctrd -n $ns task ls | awk '$1 == "d1" {print $3}')"
t_ok "task resume" ctrd -n $ns task resume d1
t_ok "task kill (TERM)" ctrd -n $ns task kill d1
wait_for 10 sh -c "$(declare -f ctrd eng_ns); CTRD_SOCK=$CTRD_SOCK ENG_NS_PID=$ENG_NS_PID; ctrd -n $ns task ls | grep -q 'd1 .*STOPPED'"
t_eq "task: STOPPED" STOPPED "$(ctrd -n $ns task ls | awk '$1 == "d1" {print $3}')"
t_ok "task delete" ctrd -n $ns task delete d1
t_ok "container delete" ctrd -n $ns containers delete d1
t_fail "ctrwatch's state of it is gone" test -e "$ENG_DIR/ctr-runc/$ns/d1"
t_eq "no container left below the cgroup parent" "" "$(find "$(eng_cgroup2 "$CTRD_CG")" -mindepth 1 -type d 2>/dev/null)"
