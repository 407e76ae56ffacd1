#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The syscall counter's slots under cgroup churn (issue 15): two tasks that
# make syscalls without pause are moved, again and again, into a new cgroup
# and out of it, and the cgroup is removed at once, so a cgroup goes while
# its task may still be claiming a slot for it (the window where a removed
# cgroup kept a slot for good; a migration takes ~20 ms here, so 300 of
# them take 10-30 s and check the invariants more than they hit the
# window: tests/unit/test_syscount.c runs the exact interleavings).
# Afterwards:
#   - no churned cgroup has an entry left in the kernel's slot table;
#   - no entry names a cgroup that no longer exists (checked with two dumps
#     of the table around a listing of the cgroups);
#   - the agent's used slots (ctrwatch_syscall_slots{state="used"}) are the
#     table's entries: every slot whose cgroup went came back to the queue.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/agent-lib.bash"
require_root
require_cmd curl bpftool python3
H=$CTW_BUILD/tests/helpers/ctw-testinit
[ -x "$H" ] || { t_skip "55-agent-slot-churn" "no $H (make all)"; exit 0; }

base=$(cgroup2_dir "$CTW_RUN_ID-agent55")
on_exit "cg_rmdir '$base'"
mkdir -p "$base/hold" || exit 1
port=$(free_port)
# --cgroup-root: only this test's containers in its scrapes (slots are the
# kernel's, for every cgroup of the machine, whatever the agent names)
agent_start "$port" --metrics syscalls --discovery-interval 1s --cgroup-root "$base" || exit 1

# the live entries of the agent's slot table: "id slot" per line
bss_id() {
	local m
	for m in $(grep -h '^map_id:' /proc/"$AGENT_PID"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -un); do
		bpftool map show id "$m" 2>/dev/null | grep -q ' name syscount.bss ' && { echo "$m"; return; }
	done
}
BSS=$(bss_id)
t_match "the agent's slot table map is found" '^[0-9]+$' "$BSS"
table() {
	bpftool -j map dump id "$BSS" | python3 -c '
import json, sys
bss = json.load(sys.stdin)[0]["formatted"]["value"][".bss"]
tab = next(v["slot_tab"] for v in bss if "slot_tab" in v)
for e in tab:
    if e and e != (1 << 64) - 1:
        print(e >> 16, e & 0xffff)
'
}

# two tasks making getppid calls until killed
busy=()
for _ in 1 2; do
	sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" workload 2000000000 0 0 0 0' sh \
		"$base/hold" "$H" &
	busy+=($!)
	on_exit "kill -KILL $! 2>/dev/null"
done
both_in() { [ "$(wc -l <"$base/hold/cgroup.procs")" -eq 2 ]; }
wait_for 5 both_in

ids=$CTW_WORK/churn55.ids
: >"$ids"
n=0
for _ in $(seq 1 150); do
	for p in "${busy[@]}"; do
		d=$base/c$n
		mkdir "$d" || break 2
		stat -c %i "$d" >>"$ids"
		echo "$p" >"$d/cgroup.procs"
		echo "$p" >"$base/hold/cgroup.procs"
		rmdir "$d" || break 2
		n=$((n + 1))
	done
done
t_eq "churn: 300 cgroups made, entered, left and removed" 300 "$n"
for p in "${busy[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done

# the passes that give the slots back (a scrape makes one; a slot cools
# 100 ms after its entry left)
scrape "$port" >/dev/null
sleep 0.3
scrape "$port" >/dev/null
t1=$(table)
t_ok "the slot table has live entries (the agent counts)" test -n "$t1"
left=$(awk 'NR == FNR { gone[$1] = 1; next } ($1 in gone)' "$ids" - <<<"$t1" | wc -l)
t_eq "no churned cgroup keeps an entry in the slot table" 0 "$left"

# no entry names a cgroup that is gone: ids in both dumps and not among
# the cgroups listed between them (one made after the listing is in the
# second dump only; one removed before it lost its entry at its rmdir)
mnt=/sys/fs/cgroup
[ -d /sys/fs/cgroup/unified ] && mnt=/sys/fs/cgroup/unified
dead_entries() {
	local a b live
	a=$(table)
	live=$(find "$mnt" -type d -printf '%i\n' 2>/dev/null)
	b=$(table)
	comm -12 <(printf '%s\n' "$a" | awk '{print $1}' | sort -u) \
		<(printf '%s\n' "$b" | awk '{print $1}' | sort -u) |
		grep -vxFf <(printf '%s\n' "$live") || true
}
t_eq "no table entry names a removed cgroup" "" "$(dead_entries)"

# user space agrees: its used slots are the table's entries (retried: other
# cgroups on the machine may come and go between the two reads)
used_matches() {
	local u a
	scrape "$port" >/dev/null
	sleep 0.3
	a=$(table | wc -l)
	u=$(series_value "$(scrape "$port")" '^ctrwatch_syscall_slots\{state="used"\}')
	echo "# used $u, table entries $a"
	[ "$u" = "$a" ] && [ "$a" = "$(table | wc -l)" ]
}
t_ok "every slot whose cgroup went is back: used slots = table entries" wait_for 10 used_matches
t_eq "no count unattributed" 0 \
	"$(series_value "$(scrape "$port")" '^ctrwatch_syscall_counts_lost_total ')"
agent_stop
t_eq "the agent stops cleanly" 0 "$?"
