#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `ctrwatch trace` follows cgroups made after it started (issue 15): a
# workload moves into a cgroup it makes inside the traced one, then makes a
# known number of getppid calls; `trace -c` must count every one of them
# (the kernel decides at the nested cgroup's mkdir that it is traced, so its
# first syscall is seen), and the count agrees exactly.
. "$(dirname "$0")/../lib.sh"
require_root
H=$CTW_BUILD/tests/helpers/ctw-testinit
[ -x "$H" ] || { t_skip "37-trace-follow" "no $H (make all)"; exit 0; }

base=$(cgroup2_dir "$CTW_RUN_ID-trace37")
on_exit "rmdir '$base/c/inner' '$base/c' '$base' 2>/dev/null"
mkdir -p "$base/c" || exit 1
mnt=/sys/fs/cgroup
[ -d /sys/fs/cgroup/unified ] && mnt=/sys/fs/cgroup/unified
out=$CTW_WORK/trace37.out
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
