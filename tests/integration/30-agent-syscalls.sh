#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `ctrwatch agent` end to end: a `ctrwatch run` container's syscalls appear
# in /metrics under its name and grow while it works; a process in a cgroup
# this test made, described by a hand-written state.json, likewise; both
# leave /metrics after they are gone; the scrape is promtool-clean with
# unique series; SIGTERM stops the agent with status 0 within 2 s and
# leaves none of its BPF programs loaded.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/agent-lib.bash"
require_root
require_cmd curl jq bpftool promtool

port=$(free_port)
# (--exit-grace 0s: the series of exited containers must go at once here)
agent_start "$port" --discovery-interval 1s --exit-grace 0s || exit 1
apid=$AGENT_PID
progs=$(agent_prog_ids "$apid" | tr '\n' ' ')
t_match "the agent holds BPF programs (ids: $progs)" '[0-9]' "$progs"

# Two more agents with bounded syscall sets watch the same containers (the
# top one also accounts time, with sys_enter); the three count the same
# kernel events each in their own maps and must agree.
port_top=$(free_port)
"$CTW_BIN" agent --listen "127.0.0.1:$port_top" --syscalls top:3 --syscall-time --metrics syscalls \
	>"$CTW_WORK/agent-top.log" 2>&1 &
top_pid=$!
on_exit "kill -TERM $top_pid 2>/dev/null"
port_list=$(free_port)
CTRWATCH_SYSCOUNT_SLOTS=0 "$CTW_BIN" agent --listen "127.0.0.1:$port_list" --syscalls openat,execve \
	--metrics syscalls >"$CTW_WORK/agent-list.log" 2>&1 &
list_pid=$!
on_exit "kill -TERM $list_pid 2>/dev/null"
wait_for 10 curl -fsS "http://127.0.0.1:$port_top/readyz"
wait_for 10 curl -fsS "http://127.0.0.1:$port_list/readyz"

# ---- a ctrwatch container ----
ctr=ctwa30-$$
# it works, then idles until the test touches ctl30/stop (at most 60 s)
mkdir -p "$CTW_WORK/ctl30"
"$CTW_BIN" run --name "$ctr" -v "$CTW_WORK/ctl30:/ctl:ro" busybox sh -c '
	sleep 2
	i=0; while [ $i -lt 1500 ]; do cat /etc/hostname >/dev/null; i=$((i+1)); done
	i=0; while [ ! -e /ctl/stop ] && [ $i -lt 60 ]; do sleep 1; i=$((i+1)); done' \
	>"$CTW_WORK/run30.log" 2>&1 &
run=$!
on_exit "kill $run 2>/dev/null; '$CTW_BIN' rm -f $ctr"

has_info() { scrape "$port" | grep -q "^ctrwatch_container_info{container=\"$1\""; }
# The runtime's start is slow on a loaded machine: the agent's part begins
# when the container's cgroup exists (the kernel's cgroup stream names it
# then; the 1 s rescan would too).
cg_made() { [ -d "$(ctw inspect "$1" 2>/dev/null | jq -r '.[0].cgroup // empty')" ]; }
wait_for 60 cg_made "$ctr"
# every per-container series carries container_id: the short id (12 hex)
cid=$(ctw inspect "$ctr" | jq -r '.[0].id' | cut -c1-12)
t_ok "container $ctr discovered within 2 s of its cgroup" wait_for 2 has_info "$ctr"
m=$(scrape "$port")
before=$(series_sum "$m" "^ctrwatch_syscalls_total\\{container=\"$ctr\",container_id=\"$cid\",syscall=\"openat\"\\}")
grown() {
	local now
	now=$(series_sum "$(scrape "$port")" \
		"^ctrwatch_syscalls_total\\{container=\"$ctr\",container_id=\"$cid\",syscall=\"openat\"\\}")
	[ "$now" -ge $((before + 1500)) ]
}
t_ok "openat count of $ctr grows by >= 1500 over the loop (from $before)" wait_for 90 grown
m=$(scrape "$port")
t_match "series carry the syscall name" \
	"^ctrwatch_syscalls_total\\{container=\"$ctr\",container_id=\"$cid\",syscall=\"(clone|fork|vfork|clone3)\"\\} [0-9]+" "$m"
t_match "errors counted per syscall name" \
	'^ctrwatch_syscall_errors_total\{container="[^"]+",container_id="[^"]+",syscall="[a-z0-9_]+"\} [1-9]' "$m"
t_match "container info names the runtime and image" \
	"^ctrwatch_container_info\\{container=\"$ctr\",container_id=\"$cid\",image=\"busybox\",runtime=\"ctrwatch\",cgroup_id=\"[0-9]+\",full_id=\"${cid}[0-9a-f]{52}\"" "$m"
t_match "cgroup resources of the container" \
	"^ctrwatch_container_cpu_usage_seconds_total\\{container=\"$ctr\",container_id=\"$cid\"\\} [0-9.e+-]+" "$m"
t_match "memory usage of the container" \
	"^ctrwatch_container_memory_usage_bytes\\{container=\"$ctr\",container_id=\"$cid\"\\} [1-9]" "$m"

m=$(scrape "$port_top")
sel=$(printf '%s\n' "$m" | grep "^ctrwatch_syscalls_total{container=\"$ctr\"" | grep -vc 'syscall="other"')
t_eq "--syscalls top:3: three syscalls per container" 3 "$sel"
t_match "--syscalls top:3: the rest summed as syscall=\"other\"" \
	"^ctrwatch_syscalls_total\\{container=\"$ctr\",container_id=\"$cid\",syscall=\"other\"\\} [1-9]" "$m"
t_match "--syscalls top:3: busy syscalls of the loop are the ones kept" \
	"^ctrwatch_syscalls_total\\{container=\"$ctr\",container_id=\"$cid\",syscall=\"(openat|clone|wait4|brk|close|set_robust_list|prctl)\"\\}" "$m"
secs=$(printf '%s\n' "$m" | grep "^ctrwatch_syscall_seconds_total{container=\"$ctr\"" |
	awk '{ s += $NF } END { printf "%.6f", s }')
calls=$(series_sum "$m" "^ctrwatch_syscalls_total\\{container=\"$ctr\",")
# it has slept 2 s (nanosleep) and waited for 1500 cats (wait4)
t_ok "--syscall-time: $ctr spent >= 1.9 s in syscalls ($secs s over $calls calls)" \
	awk -v s="$secs" 'BEGIN { exit !(s >= 1.9 && s < 120) }'
m=$(scrape "$port_list")
t_eq "--syscalls openat,execve: only those and other" "execve openat other" \
	"$(printf '%s\n' "$m" | grep "^ctrwatch_syscalls_total{container=\"$ctr\"" |
		sed -E 's/.*syscall="([^"]+)".*/\1/' | sort | tr '\n' ' ' | sed 's/ $//')"
# compare once the container sleeps: both agents' sums, when two rounds of
# scrapes 1.2 s apart agree (a scrape may be cached for a second)
re_ctr="^ctrwatch_syscalls_total\\{container=\"$ctr\","
both() { echo "$(series_sum "$(scrape "$port")" "$re_ctr") $(series_sum "$(scrape "$port_list")" "$re_ctr")"; }
x=$(both)
for _ in 1 2 3 4 5; do
	sleep 1.2
	y=$(both)
	[ "$x" = "$y" ] && break
	x=$y
done
read -r all lst <<<"$x"
t_cmp "list mode (overflow hash) loses no calls: its sum with other ($lst) >= 95 % of all mode's (slots, $all)" \
	$((lst * 100)) -ge $((all * 95))
t_cmp "list mode (overflow hash) counts no more than all mode: $lst <= 105 % of $all" \
	$((lst * 100)) -le $((all * 105))

# ---- a process in a cgroup of ours, known through a hand-written state ----
fake=ctwa30fake-$$
cg=$(cgroup2_dir "$CTW_RUN_ID-agent30")
cg_spawn "$cg" sh -c 'while :; do cat /etc/hostname >/dev/null; done'
# A container the agent finds through a state.json of ours (what an engine
# writes), for the process PID in cgroup CG.
state_container() { # name pid cg
	mkdir -p "$CTRWATCH_STATE/$1"
	on_exit "rm -rf '$CTRWATCH_STATE/$1'"
	cat >"$CTRWATCH_STATE/$1/tmp.json" <<JSON
{"id":"$1","name":"$1","image":"host-sh","image_id":"","pid":$2,
 "status":"running","created":"","exit_code":0,"oom_killed":false,
 "cgroup":"$3","cgroup_id":$(stat -c %i "$3"),"cgroup_v1":{}}
JSON
	mv "$CTRWATCH_STATE/$1/tmp.json" "$CTRWATCH_STATE/$1/state.json"
}
state_container "$fake" "$CG_PID" "$cg"
fake_count() {
	series_sum "$(scrape "$port")" "^ctrwatch_syscalls_total\\{container=\"$fake\",container_id=\"$fake\",syscall=\"openat\"\\}"
}
t_ok "the state-described cgroup is counted under its name" wait_for 5 \
	sh -c "[ \$(curl -fsS http://127.0.0.1:$port/metrics | grep -c '^ctrwatch_syscalls_total{container=\"$fake\",container_id=\"$fake\",syscall=\"openat\"}') -eq 1 ]"
a=$(fake_count); sleep 1; b=$(fake_count)
t_cmp "its openat count grows ($a -> $b)" "$b" -gt "$a"
fake_pid=$CG_PID

# A nested cgroup made later counts for the container (after discovery:
# the workload waits 2 s for it); its calls are not
# lost or taken back when it goes away.
fake_errs() {
	series_sum "$(scrape "$port")" "^ctrwatch_syscall_errors_total\\{container=\"$fake\",container_id=\"$fake\",syscall=\"openat\"\\}"
}
e0=$(fake_errs)
cg_spawn "$cg/nested30" sh -c 'sleep 2; i=0; while [ $i -lt 300 ]; do cat /nonexistent-ctw30 2>/dev/null; i=$((i+1)); done; sleep 60'
nested_pid=$CG_PID
nested_done() { [ "$(fake_errs)" -ge $((e0 + 300)) ]; }
t_ok "a nested cgroup's 300 failing openat count for the container (from $e0)" wait_for 10 nested_done
kill -KILL "$nested_pid"; wait "$nested_pid" 2>/dev/null
cg_rmdir "$cg/nested30"
e1=$(fake_errs)
sleep 2.5 # two discovery rescans: the nested cgroup has left the watch table
e2=$(fake_errs)
t_cmp "after the nested cgroup is gone its counts stay ($e1 -> $e2)" "$e2" -ge "$e1"

# ---- gzip-only builds: a container that made its syscalls and now waits
# (its counts do not move); a gzip scrape a window after another leaves its
# unchanged syscall block out of the text (its compressed unit comes from
# the gzip cache) and still decodes to what a whole build shows ----
idle=ctwa30idle-$$
cgi=$(cgroup2_dir "$CTW_RUN_ID-agent30idle")
cg_spawn "$cgi" sh -c 'sleep 1; i=0; while [ $i -lt 50 ]; do cat /etc/hostname >/dev/null; i=$((i+1)); done; exec sleep 600'
state_container "$idle" "$CG_PID" "$cgi"
port_gz=$(free_port)
saved_pid=$AGENT_PID saved_log=$AGENT_LOG
agent_start "$port_gz" --log-level debug || exit 1
gz_get() { curl -fsS -H 'Accept-Encoding: gzip' "http://127.0.0.1:$port_gz/metrics" | gzip -dc; }
idle_lines() { grep "^ctrwatch_syscalls_total{container=\"$idle\"" "$1"; }
idle_pid=$CG_PID
# its 50 cat have run and it sleeps: its counts do not move
t_ok "the idle container's work is done" wait_for 10 grep -qx sleep "/proc/$idle_pid/comm"
t_ok "the idle container is counted" wait_for 10 sh -c \
	"curl -fsS http://127.0.0.1:$port_gz/metrics | grep -q '^ctrwatch_syscalls_total{container=\"$idle\"'"
sleep 1.2
gz_get >/dev/null
sleep 1.2
gz_get >"$CTW_WORK/gzonly.txt"
t_match "the second gzip build left unchanged blocks out" \
	'gzip only, [1-9][0-9]* of [0-9]* bytes left out' "$(cat "$AGENT_LOG")"
t_ok "its gzip decodes to a promtool-clean exposition" \
	sh -c "promtool check metrics <'$CTW_WORK/gzonly.txt'"
scrape "$port_gz" >"$CTW_WORK/whole.txt" # plain: a whole build
t_cmp "the idle container has syscall lines" "$(idle_lines "$CTW_WORK/gzonly.txt" | wc -l)" -ge 5
t_eq "they are those of a whole build" \
	"$(idle_lines "$CTW_WORK/whole.txt")" "$(idle_lines "$CTW_WORK/gzonly.txt")"
agent_stop
AGENT_PID=$saved_pid AGENT_LOG=$saved_log
rm -rf "${CTRWATCH_STATE:?}/$idle"

# ---- the whole scrape ----
m=$(scrape "$port")
# (through a file: with many containers on the machine the text is more
# than one exec argument may hold)
printf '%s\n' "$m" >"$CTW_WORK/scrape30.txt"
t_ok "promtool check metrics is clean" sh -c 'promtool check metrics <"$1"' sh "$CTW_WORK/scrape30.txt"
t_eq "every family, TYPE, HELP and label set is the one its table declares" "" \
	"$(metrics_vs_tables "$CTW_WORK/scrape30.txt")"
t_eq "every series is unique" "" "$(printf '%s\n' "$m" | duplicate_series)"
# (on the gauge's line alone: t_match on a text this large can see grep's
# early exit as a failure of the pipe)
t_match "containers gauge counts both" '^ctrwatch_containers ([2-9]|[1-9][0-9]+)$' \
	"$(grep -m1 '^ctrwatch_containers ' "$CTW_WORK/scrape30.txt")"

# ---- they leave ----
touch "$CTW_WORK/ctl30/stop"
kill -KILL "$fake_pid"; wait "$fake_pid" 2>/dev/null; rm -rf "${CTRWATCH_STATE:?}/$fake"
# (the syscalls and resources series; other modules answer for their own)
gone() { ! scrape "$port" | grep -E '^ctrwatch_(syscall|container_)' | grep -q "container=\"$1\""; }
t_ok "the state-described container's series leave within 3 s" wait_for 3 gone "$fake"
rc=0; wait "$run" || rc=$?
t_eq "the ctrwatch container exits 0" 0 "$rc"
t_ok "its series leave within 3 s of the exit" wait_for 3 gone "$ctr"

# ---- SIGTERM ----
t0=$(date +%s%N)
agent_stop; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
t_eq "SIGTERM: exit status 0" 0 "$rc"
t_cmp "SIGTERM: exited within 2 s (${ms} ms)" "$ms" -lt 2000
still_loaded() {
	local id left=""
	for id in $progs; do bpftool prog show id "$id" >/dev/null 2>&1 && left="$left $id"; done
	echo "$left"
	[ -n "$left" ]
}
# The kernel frees a program shortly (RCU) after its last reference goes.
wait_for 2 sh -c "! { $(declare -f still_loaded); progs='$progs'; still_loaded; }"
t_eq "none of the agent's programs is left loaded" "" "$(still_loaded)"
t_nomatch "no link of them is left" "prog_id ($(echo "$progs" | sed 's/ *$//; s/ /|/g')) " \
	"$(bpftool link show 2>/dev/null)"
