#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `ctrwatch trace` follows cgroups made after it started (issue 15): a
# workload moves into a cgroup it makes inside the traced one, then makes a
# known number of getppid calls; `trace -c` must count every one of them
# (the kernel decides at the nested cgroup's mkdir that it is traced, so its
# first syscall is seen), and the count agrees exactly; `trace --all`
# follows a container made after it started.
. "$(dirname "$0")/../lib.sh"
require_root
H=$CTW_BUILD/tests/helpers/ctw-testinit
[ -x "$H" ] || { t_skip "54-trace-follow" "no $H (make all)"; exit 0; }

base=$(cgroup2_dir "$CTW_RUN_ID-trace54")
on_exit "rmdir '$base/c/inner' '$base/c' '$base' 2>/dev/null"
mkdir -p "$base/c" || exit 1
mnt=/sys/fs/cgroup
[ -d /sys/fs/cgroup/unified ] && mnt=/sys/fs/cgroup/unified
out=$CTW_WORK/trace54.out
"$CTW_BIN" trace -c -e trace=getppid "${base#"$mnt"/}/c" >"$out" 2>&1 &
tp=$!
on_exit "kill $tp 2>/dev/null"
t_ok "trace attached" wait_for 30 grep -q attached "$out"
sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$base/c" \
	"$H" workload 777 0 0 0 10 "$base/c/inner"
rmdir "$base/c/inner" "$base/c"
# trace ends once every traced cgroup is gone
t_ok "trace ends when the traced cgroups are gone" wait_for 15 sh -c "! kill -0 $tp 2>/dev/null"
t_match "every getppid of the nested cgroup made after the start is counted" \
	'^ *[0-9.]+ +[0-9.]+ +[0-9]+ +777 +getppid$' "$(grep getppid "$out")"

# `trace --all` follows containers made after it started: a container in
# Docker's layout (named by its short id) whose cgroup is made once trace
# runs, a process moved into it 200 ms later (as a runtime does after its
# mkdir), making 555 getppid calls: every one is shown, named.
id=$(printf '%s' "trace54-all-$$" | sha256sum | cut -c1-64)
d=$base/docker-$id.scope
on_exit "rmdir '$d' 2>/dev/null"
all=$CTW_WORK/trace54-all.out
"$CTW_BIN" trace -e trace=getppid --all >"$all" 2>"$all.err" &
ta=$!
on_exit "kill $ta 2>/dev/null"
t_ok "trace --all attached" wait_for 30 grep -q 'attached to' "$all.err"
t_match "trace --all says it follows new containers" 'and to those made from now on' "$(cat "$all.err")"
mkdir "$d"
sleep 0.2
sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$d" "$H" workload 555 0 0 0 10
rmdir "$d"
t_match "trace --all: attached to the new container" "attached to ${id:0:12} \\(cgroup [0-9]+\\), a new container" \
	"$(cat "$all.err")"
sleep 0.5
kill -INT "$ta"
wait "$ta"
t_eq "trace --all exits 0 on Ctrl-C" 0 $?
t_eq "trace --all: every getppid of the container made after the start, named" 555 \
	"$(grep -cE "^\\[${id:0:12}\\] \\[pid +[0-9]+\\] getppid\\(\\) " "$all")"
