#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Podman with ctrwatch as its OCI runtime (podman --runtime ctrwatch-runc:
# conmon drives runc's command line): exit codes, stdout, a terminal through
# the console socket, exec, stop, rm, --memory, --pids-limit, --cap-drop, a
# seccomp profile, --read-only; its own roots, a cgroup parent below ours, no
# network (engines-lib.bash).
. "$(dirname "$0")/engines-lib.bash"
engines_subreaper "$@"
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd podman conmon unshare nsenter jq
# conmon and podman find the runtime by path; its name ends in "runc"
ln -sf "$CTW_BIN" "$CTW_WORK/ctrwatch-runc"
# shellcheck disable=SC2034 # read by engines-lib.bash
ENG_OCI_RUNTIME=$CTW_WORK/ctrwatch-runc
engines_init
podman_setup
# Podman's cleanup (`podman container cleanup`, run by conmon when the
# container exits) calls `runtime delete` without the runtime flags, nor
# our environment: the state root must be ctrwatch's default, which is in
# the engines' private /run.
PODMAN_RUNC_ROOT=/run/ctrwatch/oci

t_ok "busybox imported" pm import "$(eng_busybox_tar)" ctwtest/busybox:1
img=ctwtest/busybox:1
run() { pm run --cgroup-parent "$PODMAN_CG" "$@"; }

t_eq "run: stdout" hello "$(run --rm "$img" echo hello)"
run --rm "$img" sh -c 'exit 3'
t_eq "run: the exit code" 3 $?
run --rm "$img" /nonexistent >/dev/null 2>&1
t_eq "run: a command not found is 127" 127 $?
t_match "... saying so" 'nonexistent.*(not found|no such file)' "$(run --rm "$img" /nonexistent 2>&1)"
t_eq "run: --env, --workdir, --hostname" "v /tmp h1" "$(run --rm -e X=v -w /tmp --hostname h1 "$img" sh -c 'echo $X $(pwd) $(hostname)')"
t_eq "run: --user" "65534" "$(run --rm --user 65534:65534 "$img" id -u)"

# the terminal: conmon gets the pty's master through --console-socket
t_match "run -t: a terminal (through the console socket)" '^/dev/pts/[0-9]+' \
	"$(run --rm -t "$img" tty </dev/null | tr -d '\r')"

# limits
# the container's own cgroup file, as the container sees the hierarchy
# (v1: its path in /proc/self/cgroup below the controller's mount; v2: /)
cgfile() { # controller file
	printf 'p=$(grep -E "^[0-9]+:([^:]*,)?%s(,[^:]*)?:" /proc/self/cgroup | cut -d: -f3); ' "$1"
	printf 'cat /sys/fs/cgroup/%s$p/%s 2>/dev/null || cat /sys/fs/cgroup/%s' "$1" "$2" "$3"
}
t_eq "--memory: the limit in its cgroup" 67108864 \
	"$(run --rm --memory 64m "$img" sh -c "$(cgfile memory memory.limit_in_bytes memory.max)")"
t_eq "--pids-limit: the limit in its cgroup" 17 \
	"$(run --rm --pids-limit 17 "$img" sh -c "$(cgfile pids pids.max pids.max)")"
t_eq "--cap-drop all: no capabilities" 0000000000000000 \
	"$(run --rm --cap-drop all "$img" sh -c 'grep CapEff /proc/self/status' | awk '{print $2}')"
t_match "default capabilities: some" '^00000000[0-9a-f]*[1-9a-f][0-9a-f]*$' \
	"$(run --rm "$img" sh -c 'grep CapEff /proc/self/status' | awk '{print $2}')"
cat >"$CTW_WORK/seccomp.json" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
EOF
t_match "--security-opt seccomp=FILE: mkdir refused" 'Operation not permitted' \
	"$(run --rm --security-opt "seccomp=$CTW_WORK/seccomp.json" "$img" mkdir /tmp/x 2>&1)"
t_eq "the default seccomp profile: mode 2" 2 "$(run --rm "$img" sh -c 'grep ^Seccomp: /proc/self/status' | awk '{print $2}')"
t_match "--read-only: the root is read-only" 'Read-only file system' "$(run --rm --read-only "$img" touch /x 2>&1)"

# a user namespace (linux.uidMappings/gidMappings)
t_match "--uidmap/--gidmap: a user namespace with that mapping" '^ *0 +200000 +65536 .*0 +200000 +65536' \
	"$(run --rm --uidmap 0:200000:65536 --gidmap 0:200000:65536 "$img" sh -c 'cat /proc/self/uid_map /proc/self/gid_map' | tr '\n' ' ')"

# io.ctrwatch.trace: the container traced from its first execve
run --rm --annotation "io.ctrwatch.trace=-e trace=execve -o $CTW_WORK/pm-trace.txt" "$img" \
	sh -c 'echo traced' >/dev/null
wait_for 5 grep -q 'exited with' "$CTW_WORK/pm-trace.txt"
t_match "--annotation io.ctrwatch.trace: the first line is the container's execve" \
	'^[0-9]+ +execve\("/bin/sh", \["sh", "-c", "echo traced"\]' "$(head -1 "$CTW_WORK/pm-trace.txt")"

# detached: exec, stop, rm
cid=$(run -d --name p1 "$img" sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done')
t_match "run -d: an id" '^[0-9a-f]{64}$' "$cid"
t_eq "ps: running" running "$(pm inspect -f '{{.State.Status}}' p1)"
t_ok "ctrwatch's state of it (in the engines' /run)" eng_ns test -e "$PODMAN_RUNC_ROOT/$cid/state.json"
t_eq "exec: stdout" p1exec "$(pm exec p1 echo p1exec)"
pm exec p1 sh -c 'exit 5'
t_eq "exec: exit code" 5 $?
t_match "exec -t: a terminal" '^/dev/pts/[0-9]+' "$(pm exec -t p1 tty </dev/null | tr -d '\r')"
t_eq "exec: the container's pid namespace (its pid 1)" "sh -c trap" "$(pm exec p1 cat /proc/1/cmdline | tr '\0' ' ' | cut -d' ' -f1-3)"
t_ok "pause" pm pause p1
t_eq "paused" paused "$(pm inspect -f '{{.State.Status}}' p1)"
t_ok "unpause" pm unpause p1
t_ok "stop (TERM, trapped)" pm stop -t 10 p1
t_eq "stopped: exit code 0" "exited 0" "$(pm inspect -f '{{.State.Status}} {{.State.ExitCode}}' p1)"
t_ok "start again" pm start p1
t_eq "running again" running "$(pm inspect -f '{{.State.Status}}' p1)"
t_ok "rm -f" pm rm -f -t 0 p1
t_eq "nothing left in the state root" "" "$(eng_ns ls "$PODMAN_RUNC_ROOT" 2>/dev/null)"
t_eq "no cgroup left below the parent" "" "$(find "$(eng_cgroup2 "$PODMAN_CG")" -mindepth 1 -type d 2>/dev/null)"
