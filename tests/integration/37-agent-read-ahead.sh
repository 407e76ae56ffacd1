#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The resources module's read-ahead of the cgroup files (agent/resources.c),
# counted in read syscalls of the thread that builds /metrics (libmicrohttpd's,
# /proc/PID/task/TID/io):
#   - a scrape 1.1 s after scrapes 0.1 s apart finds the files read ahead
#     (one pass before they age out);
#   - a scrape after a pause reads every container's files in its build;
#   - a scrape 1.1 s after it, a rhythm not seen before, finds them read
#     ahead by the agent's own loop; so does the one after, at the now
#     steady interval;
#   - so do scrapes whose intervals alternate (1.5 s, 2.5 s: two scrapers
#     at different phases);
#   - with the scrape cache, a scrape 1.3 s after GETs the cache answered
#     finds them read ahead too (~1.8 s after the build that read them);
#     scrapes at a steady 2 s, none answered by the cache, are read ahead
#     once each.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/agent-lib.bash"
require_root
require_cmd curl

n=60
base=$(cgroup2_dir "$CTW_RUN_ID-agent37")
mkdir -p "$base/system.slice" || exit 1
on_exit "cg_rmdir '$base'"
pids=()
for ((i = 0; i < n; i++)); do
	d="$base/system.slice/docker-$(printf 'ra%d-%d' "$$" "$i" | sha256sum | cut -c1-64).scope"
	mkdir "$d" || exit 1
	sh -c 'echo $$ > "$1/cgroup.procs"; exec sleep 120' sh "$d" &
	pids+=($!)
done
on_exit "kill -KILL ${pids[*]} 2>/dev/null; wait ${pids[*]} 2>/dev/null"

port=$(free_port)
agent_start "$port" --cgroup-root "$base" --scrape-cache 0 || exit 1
url=http://127.0.0.1:$port/metrics
t_ok "the agent sees the $n containers" \
	wait_for 20 sh -c "[ \"\$(curl -fsS $url | awk '\$1 == \"ctrwatch_containers\" {print \$2}')\" -ge $n ]"

mhd_thread() {
	mhd=
	for t in /proc/"$AGENT_PID"/task/*; do
		[ "$(cat "$t/comm")" = MHD-single ] && mhd=$t
	done
	t_ok "libmicrohttpd's thread found" test -n "$mhd"
}
mhd_thread
reads() { awk '$1 == "syscr:" {print $2}' "$mhd/io"; }
# read syscalls of one scrape's build
scrape_reads() {
	local a b
	a=$(reads)
	curl -fsS -o /dev/null "$url"
	b=$(reads)
	echo $((b - a))
}

for _ in 1 2 3; do
	curl -fsS -o /dev/null "$url"
	sleep 0.1
done
sleep 1.1
r0=$(scrape_reads)
sleep 3
r1=$(scrape_reads)
sleep 1.1
r2=$(scrape_reads)
sleep 1.1
r3=$(scrape_reads)
t_cmp "a scrape after a 3 s pause reads the files in its build ($r1 reads)" "$r1" -ge "$n"
t_cmp "after scrapes 0.1 s apart, one 1.1 s later finds them read ahead ($r0 reads)" \
	"$r0" -le $((r1 / 2))
t_cmp "1.1 s later they were read ahead ($r2 reads)" "$r2" -le $((r1 / 2))
t_cmp "and at the steady interval after it ($r3 reads)" "$r3" -le $((r1 / 2))
sleep 1.5
curl -fsS -o /dev/null "$url"
sleep 2.5
curl -fsS -o /dev/null "$url"
sleep 1.5
r4=$(scrape_reads)
sleep 2.5
r5=$(scrape_reads)
t_cmp "intervals alternating 1.5 s / 2.5 s: read ahead for the short one ($r4 reads)" \
	"$r4" -le $((r1 / 2))
t_cmp "and for the long one ($r5 reads)" "$r5" -le $((r1 / 2))
agent_stop
t_ok "the agent exits cleanly" test $? -eq 0

# With the scrape cache (1 s): GETs 0.1 s apart for ~0.5 s are one build
# and the cache's answers; a GET 1.3 s after the last of them (~1.8 s
# after the build) finds the files read ahead: the answers moved the pass
# too (else it ran 0.6 s after the build, and the files were 1.2 s old).
agent_start "$port" --cgroup-root "$base" || exit 1
t_ok "the cached agent sees the $n containers" \
	wait_for 20 sh -c "[ \"\$(curl -fsS $url | awk '\$1 == \"ctrwatch_containers\" {print \$2}')\" -ge $n ]"
mhd_thread
sleep 3
b0=$(reads)
for _ in 1 2 3 4 5; do
	curl -fsS -o /dev/null "$url"
	sleep 0.1
done
b1=$(reads)
sleep 1.3
r6=$(scrape_reads)
t_cmp "GETs 0.1 s apart with the cache: one build read the files ($((b1 - b0)) reads)" \
	$((b1 - b0)) -ge "$n"
t_cmp "a GET 1.3 s after the cache's last answer finds them read ahead ($r6 reads)" \
	"$r6" -le $((r1 / 2))
# Scrapes at a steady 2 s with no answers from the cache in between: one
# pass per scrape (by the loop's thread), not two.
loop_reads() { awk '$1 == "syscr:" {print $2}' "/proc/$AGENT_PID/task/$AGENT_PID/io"; }
for _ in 1 2 3; do
	curl -fsS -o /dev/null "$url"
	sleep 2
done
l0=$(loop_reads)
for _ in 1 2 3; do
	curl -fsS -o /dev/null "$url"
	sleep 2
done
l1=$(loop_reads)
r7=$(scrape_reads)
t_cmp "steady 2 s scrapes: the files read ahead of each ($r7 reads in the build)" \
	"$r7" -le $((r1 / 2))
t_cmp "once per scrape, by the loop ($((l1 - l0)) reads for 3 scrapes, $r1 a read of all)" \
	$((l1 - l0)) -le $((3 * r1 + r1 / 2))
agent_stop
t_ok "the cached agent exits cleanly" test $? -eq 0
