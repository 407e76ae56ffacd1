#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# dockerd with ctrwatch as its OCI runtime (--add-runtime, the default here:
# containerd's runc v2 shim drives runc's command line): exit codes, stdout,
# -t through the console socket, exec, stop, rm, --memory, --pids-limit,
# --cap-drop, a seccomp profile, --read-only, docker stats (events --stats),
# pause/unpause; its own roots, a cgroup parent below ours, no network
# (engines-lib.bash).
. "$(dirname "$0")/engines-lib.bash"
engines_subreaper "$@"
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd dockerd containerd unshare nsenter jq
ln -sf "$CTW_BIN" "$CTW_WORK/ctrwatch-runc"
# shellcheck disable=SC2034 # read by engines-lib.bash
ENG_OCI_RUNTIME=$CTW_WORK/ctrwatch-runc
engines_init
# A second runtime handler: ctrwatch with a default annotation (the global
# --annotation, as runtimeArgs), which traces every container it runs.
# Docker 20.10 passes no annotation of its own (docker run --annotation
# needs API 1.43), so this is how it traces from the first instruction.
# dockerd 20.10 puts runtimeArgs unquoted in a shell script (split at
# spaces): one word, -oFILE, all calls.
dk_trace=$CTW_WORK/dk-trace.txt
# shellcheck disable=SC2034 # read by engines-lib.bash
DOCKER_CONF_EXTRA=$(jq -nc --arg p "$ENG_OCI_RUNTIME" --arg o "$dk_trace" \
	'{runtimes: {"ctw-traced": {path: $p, runtimeArgs: ["--annotation", "io.ctrwatch.trace=-o\($o)"]}}}' |
	sed 's/^{/, /; s/}$//')
docker_start || exit 1
on_exit 'eng_stop "$DOCKER_PID"'

t_ok "busybox imported" dk import "$(eng_busybox_tar)" ctwtest/busybox:1
img=ctwtest/busybox:1
t_eq "ctrwatch is the default runtime" ctw "$(dk info -f '{{.DefaultRuntime}}')"
run() { dk run --network none "$@"; }

t_eq "run: stdout" hello "$(run --rm "$img" echo hello)"
run --rm "$img" sh -c 'exit 3'
t_eq "run: the exit code" 3 $?
run --rm "$img" /nonexistent >/dev/null 2>&1
t_eq "run: a command not found is 127" 127 $?
t_eq "run: -e, -w, --hostname" "v /tmp h1" "$(run --rm -e X=v -w /tmp --hostname h1 "$img" sh -c 'echo $X $(pwd) $(hostname)')"
t_eq "run: --user" 65534 "$(run --rm --user 65534:65534 "$img" id -u)"
t_match "run -t: a terminal (through the console socket)" '^/dev/pts/[0-9]+' \
	"$(run --rm -t "$img" tty </dev/null | tr -d '\r')"

cgfile() { # controller file v2file: the container's own, as it sees it
	printf 'p=$(grep -E "^[0-9]+:([^:]*,)?%s(,[^:]*)?:" /proc/self/cgroup | cut -d: -f3); ' "$1"
	printf 'cat /sys/fs/cgroup/%s$p/%s 2>/dev/null || cat /sys/fs/cgroup/%s' "$1" "$2" "$3"
}
t_eq "--memory: the limit in its cgroup" 67108864 \
	"$(run --rm --memory 64m "$img" sh -c "$(cgfile memory memory.limit_in_bytes memory.max)")"
t_eq "--pids-limit: the limit in its cgroup" 17 \
	"$(run --rm --pids-limit 17 "$img" sh -c "$(cgfile pids pids.max pids.max)")"
t_eq "--cap-drop all: no capabilities" 0000000000000000 \
	"$(run --rm --cap-drop all "$img" grep CapEff /proc/self/status | awk '{print $2}')"
cat >"$CTW_WORK/seccomp.json" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
EOF
t_match "--security-opt seccomp=FILE: mkdir refused" 'Operation not permitted' \
	"$(run --rm --security-opt "seccomp=$CTW_WORK/seccomp.json" "$img" mkdir /tmp/x 2>&1)"
t_eq "Docker's default seccomp profile: mode 2" 2 "$(run --rm "$img" grep ^Seccomp: /proc/self/status | awk '{print $2}')"
t_match "--read-only: the root is read-only" 'Read-only file system' "$(run --rm --read-only "$img" touch /x 2>&1)"

# detached: exec, stats, pause, stop, rm
cid=$(run -d --name d1 "$img" sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done')
t_match "run -d: an id" '^[0-9a-f]{64}$' "$cid"
t_eq "running" running "$(dk inspect -f '{{.State.Status}}' d1)"
t_eq "exec: stdout" d1exec "$(dk exec d1 echo d1exec)"
dk exec d1 sh -c 'exit 5'
t_eq "exec: exit code" 5 $?
t_match "exec -t: a terminal" '^/dev/pts/[0-9]+' "$(dk exec -t d1 tty </dev/null | tr -d '\r')"
t_eq "exec: the container's pid 1" "sh -c trap" "$(dk exec d1 cat /proc/1/cmdline | tr '\0' ' ' | cut -d' ' -f1-3)"
st=$(dk stats --no-stream --format '{{.MemUsage}} {{.PIDs}}' d1)
t_match "docker stats: memory and pids (events --stats)" '^[0-9.]+[KMG]i?B / .* [1-9][0-9]*$' "$st"
t_ok "docker update --pids-limit (runtime update)" dk update --pids-limit 33 d1
pids_max=
for d in $(cgroup_dirs "$DOCKER_CG/$cid"); do
	[ -f "$d/pids.max" ] && pids_max=$(cat "$d/pids.max")
done
t_eq "... in its cgroup" 33 "$pids_max"
t_ok "pause" dk pause d1
t_eq "paused" paused "$(dk inspect -f '{{.State.Status}}' d1)"
t_ok "unpause" dk unpause d1
t_eq "running again" running "$(dk inspect -f '{{.State.Status}}' d1)"
t_ok "stop (TERM, trapped)" dk stop -t 10 d1
t_eq "stopped: exit code 0" "exited 0" "$(dk inspect -f '{{.State.Status}} {{.State.ExitCode}}' d1)"
t_ok "start again" dk start d1
t_eq "running after start" running "$(dk inspect -f '{{.State.Status}}' d1)"
t_ok "kill" dk kill d1
t_ok "rm" dk rm d1

# --runtime ctw-traced: the global --annotation io.ctrwatch.trace
run --rm --runtime ctw-traced "$img" sh -c 'echo traced' >/dev/null
wait_for 5 grep -q 'exited with' "$dk_trace"
t_match "--annotation (runtimeArgs) io.ctrwatch.trace: the first line is the container's execve" \
	'^[0-9]+ +execve\("/bin/sh", \["sh", "-c", "echo traced"\]' "$(head -1 "$dk_trace" 2>/dev/null)"
t_eq "no container left below the cgroup parent" "" "$(find "$(eng_cgroup2 "$DOCKER_CG")" -mindepth 1 -type d 2>/dev/null)"
