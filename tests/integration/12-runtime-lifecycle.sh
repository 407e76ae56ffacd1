#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Lifecycle from another shell: run -d, ps, inspect, exec, logs, kill, stop,
# wait, rm, gc; signals, zombies, limits, OOM; and nothing left behind.
. "$(dirname "$0")/../lib.sh"
require_root

H=$CTW_BUILD/tests/helpers
on_exit 'for c in $("$CTW_BIN" ps -aq); do "$CTW_BIN" rm -f "$c"; done; "$CTW_BIN" gc'

leftovers() {
	local d n=0
	while IFS= read -r d; do
		[ -d "$d" ] || continue
		n=$((n + $(find "$d" -mindepth 1 -maxdepth 1 -type d -regextype egrep \
			-regex '.*/[0-9a-f]{64}' | wc -l)))
	done < <(cgroup_dirs "$CTRWATCH_CGROUP_PARENT")
	n=$((n + $(find "$CTRWATCH_STATE" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l)))
	n=$((n + $(container_dirs_left)))
	echo "$n"
}

# wait for a background pid, at most 20 s (a test must never hang)
bounded_wait() {
	local _
	for _ in $(seq 200); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$1" 2>/dev/null
	wait "$1"
}

# Detached: id, ps, inspect, exec, logs.
id=$(ctw run -d --name lc1 busybox sh -c 'echo started; trap "echo got USR1" USR1; trap "echo got TERM; exit 7" TERM; while :; do sleep 0.1; done')
t_match "run -d prints the id" '^[0-9a-f]{64}$' "$id"
t_match "ps lists it" "^${id:0:12} .*lc1\$" "$(ctw ps)"
t_eq "ps --json: running" running "$(ctw ps --json | jq -r '.[] | select(.name=="lc1") | .status')"
t_eq "inspect by id prefix" lc1 "$(ctw inspect "${id:0:6}" | jq -r '.[0].name')"
t_eq "exec sees the container's processes" "$(ctw exec lc1 ps -o pid,comm | grep -c sh)" 1
t_match "exec: the command's sh is pid 2" '^ *2 +sh' "$(ctw exec lc1 ps -o pid,comm)"
t_eq "exec: same hostname" lc1 "$(ctw exec lc1 hostname)"
t_eq "exec: in the container's cgroup" "0::/" "$(ctw exec lc1 cat /proc/self/cgroup | grep ^0::)"
ipid=$(ctw inspect lc1 | jq -r '.[0].pid')
for ns in net mnt uts ipc pid cgroup; do
	t_eq "exec: same $ns namespace" "$(readlink "/proc/$ipid/ns/$ns")" "$(ctw exec lc1 readlink "/proc/self/ns/$ns")"
done
t_fail "exec: /proc/1/exe of our init is not reachable" ctw exec lc1 cat /proc/1/exe
t_match "exec: same seccomp and nnp" 'NoNewPrivs:\s+1.*Seccomp:\s+2' "$(ctw exec lc1 grep -E 'NoNewPrivs|Seccomp:' /proc/self/status | tr '\n' ' ')"
t_eq "exec: -e and -w" "v:/tmp" "$(ctw exec -e X=v -w /tmp lc1 sh -c 'echo $X:$(pwd)')"
t_eq "exec: -u nobody" 65534 "$(ctw exec -u nobody lc1 id -u)"
ctw exec lc1 sh -c 'exit 5'
t_eq "exec: exit status" 5 $?
ctw exec lc1 /nonexistent 2>/dev/null
t_eq "exec: not found 127" 127 $?
ctw kill -s USR1 lc1
wait_for 5 sh -c "'$CTW_BIN' logs lc1 | grep -q 'got USR1'"
t_match "kill -s USR1 reaches a trapping workload (logs)" 'started.*got USR1' "$(ctw logs lc1 | tr '\n' ' ')"
ctw run --name lc1 busybox true 2>/dev/null
t_eq "names are unique: 125" 125 $?
t_fail "rm refuses a running container" ctw rm lc1
ctw stop lc1
t_eq "stop: TERM handler ran, exit code recorded" "7" "$(ctw inspect lc1 | jq -r '.[0].exit_code')"
t_match "stop: logs have the handler's line" 'got TERM' "$(ctw logs lc1)"
t_eq "wait prints the exit code" 7 "$(ctw wait lc1)"
t_match "ps -a: Exited (7)" 'Exited \(7\).*lc1' "$(ctw ps -a)"
t_ok "rm" ctw rm lc1
t_eq "rm: gone" "" "$(ctw ps -aq)"

# logs: stdout and stderr kept apart, in order; -t, --tail, -f.
ctw run -d --name lg1 busybox sh -c 'echo out1; sleep 0.1; echo err1 >&2; sleep 0.1
	printf par; sleep 0.1; printf tial; echo " line"; echo err2 >&2; sleep 0.1; echo out3
	printf "no newline"' >/dev/null
ctw wait lg1 >/dev/null
t_eq "logs: the container's stdout on stdout" "out1 partial line out3 no newline" \
	"$(ctw logs lg1 2>/dev/null | tr '\n' ' ')"
t_eq "logs: its stderr on stderr" "err1 err2 " "$(ctw logs lg1 2>&1 >/dev/null | tr '\n' ' ')"
t_eq "logs: both in the order written (2>&1)" "out1 err1 partial line err2 out3 no newline" \
	"$(ctw logs lg1 2>&1 | tr '\n' ' ')"
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z'
t_match "logs -t: each line starts with its time" "^$ts out1
$ts err1
$ts partial line
$ts err2
$ts out3
$ts no newline\$" "$(ctw logs -t lg1 2>&1)"
t_match "logs --timestamps: the same" "^$ts out1" "$(ctw logs --timestamps lg1 2>&1)"
t_eq "logs --tail 2" "out3 no newline" "$(ctw logs --tail 2 lg1 2>&1 | tr '\n' ' ')"
t_eq "logs -n 3: stderr's of them on stderr" "err2" "$(ctw logs -n 3 lg1 2>&1 >/dev/null)"
t_eq "logs --tail 0" "" "$(ctw logs --tail 0 lg1 2>&1)"
# (six lines, the last without its newline, as written)
t_eq "logs --tail all" 5 "$(ctw logs --tail all lg1 2>&1 | wc -l | tr -d ' ')"
t_eq "logs --tail 100 (more than there are)" 5 "$(ctw logs --tail 100 lg1 2>&1 | wc -l | tr -d ' ')"
ctw logs --tail x lg1 >/dev/null 2>&1
t_eq "logs --tail x: usage error 2" 2 $?
log=$CTRWATCH_ROOT/containers/$(ctw inspect lg1 | jq -r '.[0].id')/container.log
t_match "the log file is in the CRI format" "^$ts stdout F out1
$ts stderr F err1
$ts stdout P par
$ts stdout P tial
$ts stdout F  line" "$(cat "$log")"
ctw rm lg1 >/dev/null
ctw run -d --name lg2 busybox sh -c 'echo a; sleep 0.5; echo b >&2; sleep 0.5; echo c' >/dev/null
t0=$SECONDS
t_eq "logs -f: follows until the container exits" "a b c" \
	"$(timeout 10 "$CTW_BIN" logs -f lg2 2>&1 | tr '\n' ' ' | sed 's/ $//')"
t_cmp "logs -f: returned once it exited" $((SECONDS - t0)) -le 5
t0=$(date +%s%N)
t_eq "logs -f --tail 1 of an exited container" "c" "$(timeout 10 "$CTW_BIN" logs -f --tail 1 lg2 2>&1)"
# (its monitor may linger as a zombie until the machine's reaper gets to it)
t_cmp "logs -f of an exited container returns at once (ms)" $((($(date +%s%N) - t0) / 1000000)) -lt 1000
ctw rm lg2 >/dev/null
# (pauses between the streams: what waits in both pipes at once has no order)
mkdir -p "$CTW_WORK/lg4"
ctw run -d --name lg4 -v "$CTW_WORK/lg4:/s" busybox sh -c 'seq 1 5000; sleep 0.2; seq 1 3 >&2; sleep 0.2
	echo old; while [ ! -e /s/go ]; do sleep 0.05; done; echo new' >/dev/null
wait_for 5 sh -c "'$CTW_BIN' logs lg4 | grep -q old"
"$CTW_BIN" logs -f --tail 0 lg4 >"$CTW_WORK/lg4.out" 2>&1 &
lp=$!
# "new" once logs -f has the log open
wait_for 5 sh -c "ls -l /proc/$lp/fd | grep -q container.log"
touch "$CTW_WORK/lg4/go"
bounded_wait "$lp"
t_eq "logs -f --tail 0: only what comes next" "new" "$(cat "$CTW_WORK/lg4.out")"
t_eq "logs: 5000 lines on stdout" "5002" "$(ctw logs lg4 2>/dev/null | wc -l | tr -d ' ')"
t_eq "logs --tail 5 of 5005 (2>&1)" "1 2 3 old new" "$(ctw logs --tail 5 lg4 2>&1 | tr '\n' ' ' | sed 's/ $//')"
t_eq "logs --tail 6 of 5005, stdout" "5000 old new" "$(ctw logs --tail 6 lg4 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
t_eq "logs --tail 6 of 5005, stderr" "1 2 3" "$(ctw logs --tail 6 lg4 2>&1 >/dev/null | tr '\n' ' ' | sed 's/ $//')"
ctw rm lg4 >/dev/null
ctw run -d -t --name lg3 busybox sh -c 'echo tty-out; echo tty-err >&2' >/dev/null
ctw wait lg3 >/dev/null
t_eq "logs of a -t container: all of it on stdout" "tty-out tty-err" \
	"$(ctw logs lg3 2>/dev/null | tr -d '\r' | tr '\n' ' ' | sed 's/ $//')"
ctw rm lg3 >/dev/null

# A handler-less PID 1 (no init): stop falls back to SIGKILL.
ctw run -d --no-init --name lc2 --stop-timeout 1 busybox sleep 1000 >/dev/null
t0=$SECONDS
ctw stop lc2
t_eq "stop without handler: SIGKILL after the timeout (137)" 137 "$(ctw wait lc2)"
t_cmp "stop took about the timeout" $((SECONDS - t0)) -le 5
ctw rm lc2

# A handler-less workload under our init stops on SIGTERM.
ctw run -d --name lc3 busybox sleep 1000 >/dev/null
ctw stop -t 10 lc3
t_eq "stop: sleep under init ends with 143" 143 "$(ctw wait lc3)"
ctw rm lc3
ctw run -d --name lc4 busybox sleep 1000 >/dev/null
t_ok "rm -f a running container" ctw rm -f lc4
ctw run -d --name lc5 busybox sh -c 'exit 3' >/dev/null
t_eq "wait on a short job" 3 "$(ctw wait lc5)"
ctw rm lc5

# Foreground: SIGTERM to `ctrwatch run` reaches a trapping workload.
"$CTW_BIN" run busybox sh -c 'trap "exit 9" TERM; while :; do sleep 0.1; done' &
p=$!
sleep 1
kill -TERM $p
bounded_wait $p
t_eq "run forwards SIGTERM to the workload" 9 $?
"$CTW_BIN" run busybox sh -c 'trap "exit 11" INT; while :; do sleep 0.1; done' &
p=$!
sleep 1
kill -INT $p
bounded_wait $p
t_eq "run forwards SIGINT" 11 $?

# Zombies are reaped by our init.
ctw run -d --name lc6 -v "$H:/t:ro" busybox sh -c '/t/ctw-testinit zombies 5; sleep 100' >/dev/null
sleep 2
t_eq "zombies reaped by init" 0 "$(ctw exec lc6 ps -o stat | grep -c Z)"
ctw rm -f lc6

# Limits.
out=$(ctw run --pids-limit 10 -v "$H:/t:ro" busybox /t/ctw-testinit fork 30)
t_cmp "pids limit: fork fails beyond it" "$out" -lt 10
ctw run -d --name lc7 --cpus 0.5 --memory 64m --pids-limit 77 busybox sleep 100 >/dev/null
sj=$(ctw inspect lc7)
if [ "$(jq -r '.[0].cgroup_v1.cpu // empty' <<<"$sj")" != "" ]; then
	t_eq "cpu limit visible (v1 cfs_quota)" 50000 "$(cat "$(jq -r '.[0].cgroup_v1.cpu' <<<"$sj")/cpu.cfs_quota_us")"
	t_eq "memory limit visible (v1)" 67108864 "$(cat "$(jq -r '.[0].cgroup_v1.memory' <<<"$sj")/memory.limit_in_bytes")"
	t_eq "pids limit visible (v1)" 77 "$(cat "$(jq -r '.[0].cgroup_v1.pids' <<<"$sj")/pids.max")"
	t_eq "memory limit visible inside" 67108864 "$(ctw exec lc7 cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
else
	cg=$(jq -r '.[0].cgroup' <<<"$sj")
	t_eq "cpu limit visible (v2 cpu.max)" "50000 100000" "$(cat "$cg/cpu.max")"
	t_eq "memory limit visible (v2)" 67108864 "$(cat "$cg/memory.max")"
	t_eq "pids limit visible (v2)" 77 "$(cat "$cg/pids.max")"
fi
ctw rm -f lc7

ctw run -d --name oom --memory 16m -v "$H:/t:ro" busybox /t/ctw-testinit memhog 200 >/dev/null
t_eq "memory limit: OOM kill gives 137" 137 "$(ctw wait oom)"
t_eq "inspect: oom_killed" true "$(ctw inspect oom | jq -r '.[0].oom_killed')"
t_match "ps -a: OOMKilled" 'Exited \(137\).*\(OOMKilled\).*oom' "$(ctw ps -a)"
ctw rm oom
out=$(ctw run --memory 16m -v "$H:/t:ro" busybox /t/ctw-testinit memhog 200 2>&1)
t_eq "foreground OOM: 137" 137 $?
t_match "foreground OOM: says OOMKilled" 'OOMKilled' "$out"

# gc after kill -9 of a running `ctrwatch run`.
"$CTW_BIN" run --name lc8 busybox sleep 100 &
p=$!
wait_for 10 sh -c "'$CTW_BIN' ps | grep -q lc8"
kill -9 $p
wait $p 2>/dev/null
sleep 0.3
t_cmp "kill -9 left state behind" "$(leftovers)" -gt 0
t_ok "gc" ctw gc
t_eq "gc after kill -9: nothing left (cgroups, state, dirs)" 0 "$(leftovers)"
t_ok "gc is safe with a live container" sh -c "'$CTW_BIN' run -d --name lc9 busybox sleep 100 >/dev/null && '$CTW_BIN' gc >/dev/null && '$CTW_BIN' exec lc9 true"
ctw rm -f lc9

# Concurrent runs: all start; of six with one name exactly one wins.
for i in $(seq 10); do "$CTW_BIN" run --name "par$i" busybox hostname >"$CTW_WORK/par$i" 2>&1 & done
wait
t_eq "10 parallel runs, each its own hostname" "10" "$(cat "$CTW_WORK"/par* | sort -u | grep -c '^par')"
for i in $(seq 6); do ("$CTW_BIN" run --name same busybox sleep 1 >/dev/null 2>&1; echo $?) >"$CTW_WORK/same$i" & done
wait
t_eq "a name is given to one of six concurrent runs" "1" "$(cat "$CTW_WORK"/same* | grep -c '^0$')"
t_eq "the others fail with 125" "5" "$(cat "$CTW_WORK"/same* | grep -c '^125$')"

# A multi-threaded caller (run --trace has a reader thread): the child must
# never inherit a lock another thread held (it would hang forever).
if ctw run --help | grep -q -- '--trace'; then
	ok=0
	for _ in $(seq 20); do
		timeout -s KILL 30 "$CTW_BIN" run --trace --trace-output /dev/null busybox true && ok=$((ok + 1))
	done
	t_eq "20 runs from a multi-threaded caller (--trace) all finish" 20 "$ok"
	ctw gc >/dev/null
fi

# 50 containers in sequence leave nothing behind.
for _ in $(seq 50); do ctw run busybox true || echo FAIL; done >"$CTW_WORK/seq50" 2>&1
t_eq "50 runs in sequence succeed" "" "$(cat "$CTW_WORK/seq50")"
t_eq "50 runs: no cgroup, state or dir left" 0 "$(leftovers)"
t_eq "50 runs: no mount left" 0 "$(grep -c "$CTRWATCH_ROOT/containers" /proc/self/mountinfo)"
spares=$CTRWATCH_ROOT/containers/.spare
nspare=$(find "$spares" -mindepth 1 -maxdepth 1 | wc -l)
t_cmp "50 runs: a spare directory is kept for the next" "$nspare" -ge 1
t_cmp "50 runs: at most 4 spare directories kept" "$nspare" -le 4
t_eq "50 runs: a spare is an upper/ and a work/ only" "" \
	"$(find "$spares" -mindepth 2 -maxdepth 2 ! -regex '.*/[0-9a-f]*/\(upper\|work\)')"
t_eq "50 runs: spare upper/ directories are empty" "" "$(find "$spares" -mindepth 3 -path '*/upper/*')"
ctw gc >/dev/null
t_eq "gc: nothing at all left under containers/" "" "$(ls -A "$CTRWATCH_ROOT/containers")"
