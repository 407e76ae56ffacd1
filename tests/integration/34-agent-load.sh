#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Load and churn, shortened for `make test` (tests/bench/agent-bench.sh has
# the long versions):
#  - wrk, 100 connections, 20 s on /metrics (as the issue asks; ~15 s more
#    than the 5 s this suite used to take): no socket error, no non-200,
#    at least 200 scrapes/s, and the agent's RSS afterwards within 8 MiB of
#    before (connection pools are mmap'ed and go back at close; most of what
#    remains is allocator slack);
#  - churn: 300 containers (Docker-layout cgroups with a process each) come
#    and go in waves while /metrics is scraped, plus 10 `ctrwatch run`
#    containers; afterwards none of their series remain and RSS is within 4 MiB of where it was after a
#    first warm-up wave.  (The machine's other containers come and go too:
#    only ours are counted.)
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/agent-lib.bash"
require_root
require_cmd curl wrk

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

port=$(free_port)
# (--exit-grace 0s: churned containers must leave at once)
agent_start "$port" --discovery-interval 1s --exit-grace 0s || exit 1
url=http://127.0.0.1:$port/metrics
curl -fsS "$url" >/dev/null
rss0=$(rss_kib "$AGENT_PID")
out=$(wrk -t 2 -c 100 -d 20s "$url" 2>&1)
reqs=$(awk '/requests in/ {print $1}' <<<"$out")
t_cmp "wrk: scrapes served ($reqs in 20 s)" "${reqs:-0}" -gt 4000
t_nomatch "wrk: no socket errors" 'Socket errors' "$out"
t_nomatch "wrk: no non-2xx responses" 'Non-2xx' "$out"
rss1=$(rss_kib "$AGENT_PID")
t_cmp "RSS after the load within 8 MiB of before (${rss0} -> ${rss1} KiB)" \
	"$rss1" -le $((rss0 + 8192))

# ---- churn ----
base=$(cgroup2_dir "$CTW_RUN_ID-agent34")
mkdir -p "$base/system.slice"
on_exit "cg_rmdir '$base'"
hex() { printf '%s' "$1" | sha256sum | cut -c1-64; }

wave() { # first last: start a process in each, let them be seen, remove them all
	local i d pids=()
	for ((i = $1; i <= $2; i++)); do
		d="$base/system.slice/docker-$(hex "churn$$-$i").scope"
		mkdir "$d"
		sh -c 'echo $$ > "$1/cgroup.procs"; exec sleep 30' sh "$d" &
		pids+=($!)
	done
	wait_for 5 sh -c "[ \$(curl -fsS $url | grep -c '^ctrwatch_container_info{container=\"[0-9a-f]\\{12\\}\",container_id=\"[0-9a-f]*\",image=\"\",runtime=\"docker\"') -ge $(($2 - $1 + 1)) ]"
	curl -fsS "$url" >/dev/null
	kill -KILL "${pids[@]}" 2>/dev/null
	wait "${pids[@]}" 2>/dev/null
	# (a killed task may keep its cgroup busy for a moment: retry)
	for ((i = $1; i <= $2; i++)); do
		d="$base/system.slice/docker-$(hex "churn$$-$i").scope"
		rmdir "$d" 2>/dev/null || wait_for 3 rmdir "$d" || echo "# rmdir $d failed"
	done
}
wave 1 50
sleep 1.5
rss_warm=$(rss_kib "$AGENT_PID")
for w in 51 101 151 201 251; do wave "$w" $((w + 49)); done
for i in $(seq 1 10); do
	"$CTW_BIN" run --name "ctwa34-$$-$i" busybox sh -c 'cat /etc/hostname >/dev/null' >/dev/null 2>&1
done
for i in $(seq 1 300); do hex "churn$$-$i"; done >"$CTW_WORK/churn-ids"
leftover() {
	scrape "$port" | grep -E 'container(_id)?="' |
		grep -cF -e "container=\"ctwa34-$$-" -f "$CTW_WORK/churn-ids"
}
gone_all() { [ "$(leftover)" -eq 0 ]; }
t_ok "no series of the 310 churned containers remain" wait_for 5 gone_all
scrape "$port" | grep -E 'container(_id)?="' |
	grep -F -e "container=\"ctwa34-$$-" -f "$CTW_WORK/churn-ids" | grep -v -e _dns_ -e _tcp_ | head -5 | sed 's/^/# left: /'
rss2=$(rss_kib "$AGENT_PID")
t_cmp "RSS flat over 250 more containers (${rss_warm} -> ${rss2} KiB, bound +4 MiB)" \
	"$rss2" -le $((rss_warm + 4096))
t_ok "the agent is still healthy" curl -fsS "http://127.0.0.1:$port/healthz"
agent_stop
