#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pid, tid and comm of traced events across threads and a thread's exec.
# The kernel side keeps them per task and refreshes them only when they can
# change; this checks that a second thread has its own tid under the
# process's pid, and that after a non-leader thread's execve (which takes
# over the leader's pid) the new image's events carry pid == tid and the
# new comm.
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd jq cc
export CTRWATCH_NET=none

w=$CTW_WORK/t44
mkdir -p "$w"
cat >"$w/t44.c" <<'C'
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *thread(void *exec)
{
	syscall(SYS_openat, AT_FDCWD, "/ctw44-thread", O_RDONLY);
	if (exec) {
		char *argv[] = {"cat", "/ctw44-after-exec", NULL};

		execv("/bin/cat", argv);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;

	syscall(SYS_openat, AT_FDCWD, "/ctw44-main", O_RDONLY);
	pthread_create(&t, NULL, thread, argc > 1 ? argv : NULL);
	pthread_join(t, NULL);
	syscall(SYS_openat, AT_FDCWD, "/ctw44-main-again", O_RDONLY);
	return 0;
}
C
if ! cc -O2 -static -pthread -o "$w/t44" "$w/t44.c" 2>"$w/cc.err"; then
	t_skip "no static pthread toolchain: $(head -1 "$w/cc.err")"
	exit 0
fi

ev() { # file path: "pid tid comm" of the openat of path
	jq -r --arg p "$2" 'select(.syscall == "openat" and .args[1] == $p) |
		"\(.pid) \(.tid) \(.comm)"' "$1" | head -1
}

# ---- two threads ----
ctw run --trace='--json -e trace=openat' --trace-output "$w/threads.json" \
	-v "$w:/b:ro" busybox /b/t44
t_eq "the workload exits 0" 0 "$?"
read -r mp mt mc <<<"$(ev "$w/threads.json" /ctw44-main)"
read -r tp tt tc <<<"$(ev "$w/threads.json" /ctw44-thread)"
read -r ap at _ <<<"$(ev "$w/threads.json" /ctw44-main-again)"
t_match "the main thread's openat is traced (pid $mp tid $mt)" '^[0-9]+$' "$mp"
t_eq "the main thread: tid == pid" "$mp" "$mt"
t_eq "the second thread: the process's pid" "$mp" "$tp"
t_match "the second thread: a tid of its own ($tt, pid $tp)" '^[0-9]+$' "$tt"
t_cmp "the second thread's tid differs from the pid" "$tt" -ne "$mp"
t_eq "the second thread: the process's comm" "$mc" "$tc"
t_eq "the main thread again after the thread ended: pid" "$mp" "$ap"
t_eq "the main thread again after the thread ended: tid" "$mt" "$at"

# ---- a thread's execve ----
ctw run --trace='--json -e trace=openat,execve' --trace-output "$w/exec.json" \
	-v "$w:/b:ro" busybox /b/t44 exec
read -r p1 t1 c1 <<<"$(ev "$w/exec.json" /ctw44-thread)"
read -r p2 t2 c2 <<<"$(ev "$w/exec.json" /ctw44-after-exec)"
t_cmp "before the exec the thread has its own tid ($t1, pid $p1)" "$t1" -ne "$p1"
t_eq "after the thread's exec: the same pid" "$p1" "$p2"
t_eq "after the thread's exec: tid == pid (it took the leader's)" "$p2" "$t2"
t_eq "after the thread's exec: comm is the new image's" "cat" "$c2"
t_eq "before the exec: comm was the old image's" "t44" "$c1"
