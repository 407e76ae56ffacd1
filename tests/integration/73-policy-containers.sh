#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Container selectors through the registry: `ctrwatch run` containers picked
# by a name glob (the issue's `containers: {name: "web-*"}` form).  Traffic
# stays on each container's own loopback (--net none).  The CLI applies a
# snapshot of the selected containers; the agent re-applies when a matching
# container appears later.
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd curl

on_exit 'ctw policy flush; rm -rf "$CTRWATCH_BPF_PIN"'
P=$CTW_WORK/pol
mkdir -p "$P"
N=ctwp$$
start() { # name
	ctw run -d --name "$1" --net none busybox sleep 120 >/dev/null &&
		on_exit "ctw rm -f $1"
}
# In a container: listen on 19415 and 19416, connect to each; print rc per port.
probe() { # name
	ctw exec "$1" busybox sh -c '
		(nc -l -p 19415 >/dev/null &); (nc -l -p 19416 >/dev/null &); sleep 0.3
		echo x | timeout 2 nc 127.0.0.1 19415 >/dev/null 2>&1; a=$?
		echo x | timeout 2 nc 127.0.0.1 19416 >/dev/null 2>&1; b=$?
		echo "$a $b"' 2>/dev/null
}
rule_packets() {
	ctw policy stats --json | jq -r --arg r "$1" '[.[] | select(.rule == $r) | .packets] | add // 0'
}

start "web-$N" || { t_fail "ctrwatch run (needed for this suite)" true; exit 1; }
start "db-$N"
cat >"$P/ctr.yaml" <<EOF
rules:
  - name: no-19415
    action: deny
    containers: {name: "web-$N*"}
    direction: egress
    match: {cidrs: [127.0.0.1/32], protocol: tcp, ports: [19415]}
EOF
t_ok "apply a name-glob policy (CLI)" ctw policy apply "$P/ctr.yaml"
t_eq "one container cgroup attached" 1 \
	"$(ctw policy show --json | jq '[.attachments[] | select(.type == "cgroup")] | length')"
t_eq "show names the container" "web-$N" \
	"$(ctw policy show --json | jq -r '.attachments[] | select(.type == "cgroup") | .container')"
t_eq "web-$N: 19415 blocked, 19416 works" "143 0" "$(probe "web-$N")"
t_eq "db-$N (not selected): both work" "0 0" "$(probe "db-$N")"
t_cmp "no-19415 counted the SYNs" "$(rule_packets no-19415)" -ge 1

# The agent applies the same file and follows discovery.
PORT=$((19480 + RANDOM % 15))
"$CTW_BIN" agent --listen "127.0.0.1:$PORT" --metrics policy --discovery-interval 1s \
	--policy "$P/ctr.yaml" >"$CTW_WORK/agent.log" 2>&1 &
APID=$!
on_exit "kill -KILL $APID 2>/dev/null"
wait_for 15 curl -fsS "http://127.0.0.1:$PORT/readyz"
start "web2-$N"
cat >"$P/ctr.yaml" <<EOF
rules:
  - name: no-19415
    action: deny
    containers: {name: "web*-$N*"}
    direction: egress
    match: {cidrs: [127.0.0.1/32], protocol: tcp, ports: [19415]}
EOF
ncg() { ctw policy show --json | jq '[.attachments[] | select(.type == "cgroup")] | length'; }
wait_for 10 sh -c "[ \"\$('$CTW_BIN' policy show --json | jq '[.attachments[] | select(.type == \"cgroup\")] | length')\" = 2 ]"
t_eq "agent: the changed glob selects both web containers" 2 "$(ncg)"
t_eq "web2-$N: 19415 blocked" "143 0" "$(probe "web2-$N")"
start "web3-$N"
wait_for 10 sh -c "[ \"\$('$CTW_BIN' policy show --json | jq '[.attachments[] | select(.type == \"cgroup\")] | length')\" = 3 ]"
t_eq "agent: a new matching container is picked up by discovery" 3 "$(ncg)"
t_eq "web3-$N: 19415 blocked" "143 0" "$(probe "web3-$N")"
t_match "log: re-applied for the new container" 'selected containers changed' "$(cat "$CTW_WORK/agent.log")"
kill -TERM "$APID"
wait "$APID"
t_ok "flush" ctw policy flush
t_eq "after flush web-$N: both work" "0 0" "$(probe "web-$N")"
