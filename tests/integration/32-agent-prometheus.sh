#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A real Prometheus server (Debian's prometheus), started on loopback with a
# temporary config and storage, scrapes the agent every second; its HTTP API
# must report up == 1 for the agent and return the running container's
# ctrwatch_syscalls_total series, with a rate above zero.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/agent-lib.bash"
require_root
require_cmd curl jq prometheus

port=$(free_port)
agent_start "$port" || exit 1

ctr=ctwa32-$$
"$CTW_BIN" run --name "$ctr" busybox sh -c \
	'end=$(($(date +%s) + 40)); while [ $(date +%s) -lt $end ]; do cat /etc/hostname >/dev/null; done' \
	>"$CTW_WORK/run32.log" 2>&1 &
run=$!
on_exit "kill $run 2>/dev/null; wait $run 2>/dev/null; '$CTW_BIN' rm -f $ctr"

pport=$(free_port)
mkdir -p "$CTW_WORK/prom"
cat >"$CTW_WORK/prom/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: ctrwatch
    static_configs:
      - targets: ['127.0.0.1:$port']
YAML
prometheus --config.file="$CTW_WORK/prom/prometheus.yml" \
	--storage.tsdb.path="$CTW_WORK/prom/data" \
	--web.listen-address="127.0.0.1:$pport" \
	>"$CTW_WORK/prom/log" 2>&1 &
prom=$!
on_exit "kill $prom 2>/dev/null; wait $prom 2>/dev/null"
t_ok "prometheus is up" wait_for 20 curl -fsS "http://127.0.0.1:$pport/-/ready"

q() { curl -fsS "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1"; }
up_is_1() { [ "$(q 'up{job="ctrwatch"}' | jq -r '.data.result[0].value[1]')" = 1 ]; }
t_ok "prometheus reports up == 1 for the agent" wait_for 20 up_is_1
has_series() {
	q "ctrwatch_syscalls_total{container=\"$ctr\",syscall=\"openat\"}" |
		jq -e '.data.result | length == 1' >/dev/null
}
t_ok "prometheus has the container's openat series" wait_for 20 has_series
rate_pos() {
	q "rate(ctrwatch_syscalls_total{container=\"$ctr\",syscall=\"openat\"}[5s])" |
		jq -e '.data.result[0].value[1] | tonumber > 0' >/dev/null
}
t_ok "its rate is above zero" wait_for 15 rate_pos
n=$(q "count(ctrwatch_syscalls_total{container=\"$ctr\"})" | jq -r '.data.result[0].value[1]')
t_cmp "prometheus holds several syscall series of the container ($n)" "${n:-0}" -ge 5
t_eq "no scrape errors from the agent's target" "" \
	"$(curl -fsS "http://127.0.0.1:$pport/api/v1/targets" | jq -r '.data.activeTargets[] | select(.lastError != "") | .lastError')"
