#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Tracing ctrwatch containers: `run --trace` (the command from its execve on,
# as strace CMD; --with-init for the runtime's setup), `trace -- IMAGE CMD`,
# `trace NAME` of a running
# container, and record -> enforce: `trace --seccomp-profile` then
# `run --security-opt seccomp=PROFILE` runs the same workload, while a
# syscall outside the profile gets EPERM.
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd jq
export CTRWATCH_NET=none

w=$CTW_WORK/t42
mkdir -p "$w"
name=t42run$$

# ---- run --trace ----
ctw run --name "$name" --trace='-T' --trace-output "$w/run.trace" busybox \
	sh -c 'cat /etc/hostname >/dev/null; cat /nope42 2>/dev/null; exit 3'
t_eq "run --trace keeps the command's exit status" 3 "$?"
out=$(cat "$w/run.trace")
t_match "run --trace: openat of /etc/hostname, strace -f -o's pid first" \
	"^[0-9]+ +openat\(AT_FDCWD, \"/etc/hostname\", O_RDONLY\) += [0-9]+ <" "$out"
t_match "run --trace: the failing open" 'openat\(AT_FDCWD, "/nope42", O_RDONLY\) += -1 ENOENT' "$out"
# as strace CMD: from the command's own execve on, not the runtime's setup
t_match "run --trace starts with the command's execve" \
	'^[0-9]+ +execve\("/bin/sh", \["sh", "-c", "cat /etc/hostname >/dev/null; ca"\.\.\.\], 0x[0-9a-f]+ /\* [0-9]+ vars \*/\) += 0' \
	"$(head -1 "$w/run.trace")"
t_nomatch "run --trace: none of the runtime init's own calls" 'ctrwatch-init|/proc/self/stat' "$out"
t_match "run --trace: exit_group(3)" 'exit_group\(3\) += \?' "$out"
t_match "run --trace: the command's exit line" '^[0-9]+ +\+\+\+ exited with 3 \+\+\+$' "$out"
ctw run --trace='--with-init -e trace=prctl' --trace-output "$w/init.trace" busybox true
t_match "run --trace='--with-init' shows the runtime's setup" \
	'prctl\(PR_SET_NAME, "ctrwatch-init"\) += 0' "$(cat "$w/init.trace")"

ctw run --trace='-c -e trace=%file' --trace-output "$w/run.c" busybox ls /etc >/dev/null
t_match "run --trace='-c -e trace=%file' prints the summary" '^ *[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+ +([0-9]+ +)?execve$' \
	"$(cat "$w/run.c")"
t_nomatch "run --trace='-e trace=%file' drops non-file calls" ' (brk|mmap|write)$' "$(cat "$w/run.c")"

t_fail "run --trace with a bad option fails" ctw run --trace='-Q' busybox true

# ---- trace -- IMAGE CMD ----
ctw trace -e trace=execve,exit_group -- busybox sh -c 'exit 7' 2>"$w/new.err" >"$w/new.out"
t_eq "trace -- IMAGE returns the command's status" 7 "$?"
t_match "trace -- IMAGE writes to stderr, like strace" 'exit_group\(7\) += \?' "$(cat "$w/new.err")"
t_match "trace -- IMAGE: the command's execve comes first" '^\[pid +[0-9]+\] execve\("/bin/sh", ' \
	"$(head -1 "$w/new.err")"
t_nomatch "trace -- IMAGE: no container name on a single container's lines" '^\[busybox\]' \
	"$(cat "$w/new.err")"
# every call, no filter: still nothing of the runtime init's before the execve
ctw trace -- busybox sh -c 'exit 5' 2>"$w/all.err" >/dev/null
t_eq "trace -- IMAGE (every call) returns the command's status" 5 "$?"
t_match "trace -- IMAGE (every call): the command's execve is the first line" \
	'^\[pid +[0-9]+\] execve\("/bin/sh", \["sh", "-c", "exit 5"\], ' "$(head -1 "$w/all.err")"
t_nomatch "trace -- IMAGE (every call): none of the runtime init's own calls" \
	'ctrwatch-init|/proc/self/stat|PR_SET_PDEATHSIG' "$(cat "$w/all.err")"
ctw trace --with-init -- busybox true 2>"$w/init2.err" >/dev/null
# (the init becomes ctrwatch-init while the command starts: without
# CAP_SYS_PTRACE the command does not wait for it, runtime/container.c)
t_match "trace --with-init -- IMAGE: the runtime's setup" \
	'prctl\(PR_SET_NAME, "ctrwatch-init"\) += 0' "$(cat "$w/init2.err")"
t_match "  ... and the command's execve" 'execve\("/bin/true", \["true"\]' "$(cat "$w/init2.err")"

# ---- trace NAME of a running container ----
mkdir -p "$w/sig"
cname=t42d$$
ctw run -d --name "$cname" -v "$w/sig:/sig" busybox \
	sh -c 'while [ ! -e /sig/go ]; do usleep 20000; done; cat /etc/hostname > /sig/out; touch /sig/done' >/dev/null
on_exit "'$CTW_BIN' rm -f $cname"
"$CTW_BIN" trace -e trace=openat "$cname" >"$w/name.out" 2>"$w/name.err" &
tracer=$!
on_exit "kill $tracer"
"$CTW_BIN" trace -e trace=openat --all >"$w/all.out" 2>"$w/all.err" &
tracer_all=$!
on_exit "kill $tracer_all"
wait_for 10 grep -q attached "$w/name.err"
wait_for 10 grep -q attached "$w/all.err"
touch "$w/sig/go"
wait_for 10 test -e "$w/sig/done"
# it ends by itself once the container's cgroup is gone; else Ctrl-C
wait_for 10 sh -c "! kill -0 $tracer 2>/dev/null" || kill -INT "$tracer"
wait "$tracer"
t_eq "trace NAME exits 0" 0 "$?"
t_match "trace NAME shows the container's openat" \
	"^\[pid +[0-9]+\] openat\(AT_FDCWD, \"/etc/hostname\", O_RDONLY\) += [0-9]+$" "$(cat "$w/name.out")"
t_match "trace NAME: the redirect's O_CREAT open shows its mode" \
	'openat\(AT_FDCWD, "/sig/out", O_WRONLY\|O_CREAT\|O_TRUNC, 0666\) += [0-9]+' "$(cat "$w/name.out")"
kill -INT "$tracer_all"
wait "$tracer_all"
t_match "trace --all sees the container too, named first" \
	"^\[$cname\] \[pid +[0-9]+\] openat\(AT_FDCWD, \"/etc/hostname\", O_RDONLY\) += [0-9]+$" \
	"$(cat "$w/all.out")"
t_fail "trace of an unknown container fails" ctw trace no-such-container-42

# ---- record -> enforce ----
wl='cat /etc/hostname >/dev/null; ls / >/dev/null; echo ok'
ctw trace --seccomp-profile "$w/profile.json" -o /dev/null -- busybox sh -c "$wl" >/dev/null
t_eq "profile allows what was seen (execve, openat)" "true" \
	"$(jq '.syscalls[0].names | index("execve") != null and index("openat") != null' "$w/profile.json")"
t_eq "profile denies with EPERM by default" "SCMP_ACT_ERRNO 1" \
	"$(jq -r '"\(.defaultAction) \(.defaultErrnoRet)"' "$w/profile.json")"
t_eq "profile does not allow mkdir (never seen)" "false" \
	"$(jq '.syscalls[0].names | any(. == "mkdir" or . == "mkdirat")' "$w/profile.json")"
out=$(ctw run --security-opt seccomp="$w/profile.json" busybox sh -c "$wl" 2>"$w/enforce.err")
t_eq "the recorded workload runs under its profile" "ok" "$out"
t_nomatch "... without errors" "Operation not permitted|Bad system call" "$(cat "$w/enforce.err")"
out=$(ctw run --security-opt seccomp="$w/profile.json" busybox sh -c "$wl; mkdir /tmp/x42" 2>&1)
t_match "a syscall outside the profile fails with EPERM" \
	"mkdir: can't create directory '/tmp/x42': Operation not permitted" "$out"
