#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Label selectors end to end: `ctrwatch run -l/--label/--label-file` stores
# labels in state.json (inspect, ps --filter), the registry reads them, and a
# policy `containers: {labels: {...}}` denies egress of the labelled
# containers only.  Traffic stays on each container's own loopback
# (--net none), ports 19850-19899.
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd curl
require_cmd jq

on_exit 'ctw policy flush; rm -rf "$CTRWATCH_BPF_PIN"'
P=$CTW_WORK/lbl
mkdir -p "$P"
N=ctwl$$
start() { # name [run options...]
	local name=$1
	shift
	ctw run -d --name "$name" "$@" --net none busybox sleep 120 >/dev/null &&
		on_exit "ctw rm -f $name"
}
# In a container: listen on 19851 and 19852, connect to each; print rc per port.
probe() { # name
	ctw exec "$1" busybox sh -c '
		(nc -l -p 19851 >/dev/null &); (nc -l -p 19852 >/dev/null &); sleep 0.3
		echo x | timeout 2 nc 127.0.0.1 19851 >/dev/null 2>&1; a=$?
		echo x | timeout 2 nc 127.0.0.1 19852 >/dev/null 2>&1; b=$?
		echo "$a $b"' 2>/dev/null
}
ncg() { ctw policy show --json | jq '[.attachments[] | select(.type == "cgroup")] | length'; }

# ---- run, inspect, ps ----
printf '# a comment\n\nteam=shop\n  owner=ops  \n' >"$P/labels.list"
start "web-$N" -l app=web --label tier=front ||
	{ t_fail "ctrwatch run -l (needed for this suite)" true; exit 1; }
start "db-$N" -l app=db --label-file "$P/labels.list" -l flag
start "plain-$N"
t_eq "inspect: labels object" '{"app":"web","tier":"front"}' \
	"$(ctw inspect "web-$N" | jq -c '.[0].labels')"
t_eq "--label-file lines and a bare key (empty value)" '{"app":"db","flag":"","owner":"ops","team":"shop"}' \
	"$(ctw inspect "db-$N" | jq -cS '.[0].labels')"
t_eq "no labels: an empty object" '{}' "$(ctw inspect "plain-$N" | jq -c '.[0].labels')"
WEB_ID=$(ctw inspect "web-$N" | jq -r '.[0].id')
t_eq "ps --filter label=app=web" "${WEB_ID:0:12}" "$(ctw ps -q --filter label=app=web)"
t_eq "ps --filter label=KEY (any value), two filters AND" "$(ctw inspect "db-$N" | jq -r '.[0].id[:12]')" \
	"$(ctw ps -q -f label=team -f label=app)"
t_eq "ps --filter with no match" "" "$(ctw ps -q --filter label=app=nope)"
t_fail "ps --filter without label= is a usage error" ctw ps --filter name=x
t_fail "run -l with an empty key fails" ctw run -l =x busybox true
t_fail "run --label-file of a missing file fails" ctw run --label-file "$P/none" busybox true

# ---- policy applied by the CLI ----
cat >"$P/pol.yaml" <<EOF2
rules:
  - name: web-no-19851
    action: deny
    containers: {labels: {app: web, tier: "*"}}
    direction: egress
    match: {cidrs: [127.0.0.1/32], protocol: tcp, ports: [19851]}
EOF2
out=$(ctw policy apply "$P/pol.yaml" 2>&1)
t_eq "apply a label-selector policy" 0 "$?"
t_nomatch "no 'select nothing' warning" 'select nothing|selects nothing' "$out"
t_eq "one container cgroup attached" 1 "$(ncg)"
t_eq "show names the labelled container" "web-$N" \
	"$(ctw policy show --json | jq -r '.attachments[] | select(.type == "cgroup") | .container')"
t_match "show: the rule's scope names the labels" 'labels:app=web,tier=\*' "$(ctw policy show)"
t_eq "web-$N (app=web): 19851 blocked, 19852 works" "143 0" "$(probe "web-$N")"
t_eq "db-$N (app=db): both work" "0 0" "$(probe "db-$N")"
t_eq "plain-$N (no labels): both work" "0 0" "$(probe "plain-$N")"
t_ok "flush" ctw policy flush

# ---- the agent follows labelled containers that appear later ----
PORT=$(free_port_range 19870 19899)
"$CTW_BIN" agent --listen "127.0.0.1:$PORT" --metrics policy --discovery-interval 1s \
	--policy "$P/pol.yaml" >"$CTW_WORK/agent-lbl.log" 2>&1 &
APID=$!
on_exit "kill -KILL $APID 2>/dev/null"
wait_for 15 curl -fsS "http://127.0.0.1:$PORT/readyz"
wait_for 10 sh -c "[ \"\$('$CTW_BIN' policy show --json | jq '[.attachments[] | select(.type == \"cgroup\")] | length')\" = 1 ]"
t_eq "agent: the label selector picks web-$N" 1 "$(ncg)"
start "web2-$N" --label app=web -l tier=back
start "other-$N" -l app=webx -l tier=back
wait_for 10 sh -c "[ \"\$('$CTW_BIN' policy show --json | jq '[.attachments[] | select(.type == \"cgroup\")] | length')\" = 2 ]"
t_eq "agent: a new container labelled app=web is picked up (app=webx is not)" 2 "$(ncg)"
t_eq "web2-$N: 19851 blocked" "143 0" "$(probe "web2-$N")"
t_eq "other-$N (app=webx): both work" "0 0" "$(probe "other-$N")"
t_nomatch "agent log: no 'select nothing' warning" 'select nothing' "$(cat "$CTW_WORK/agent-lbl.log")"
kill -TERM "$APID"
wait "$APID"
t_ok "flush" ctw policy flush
t_eq "after flush web-$N: both work" "0 0" "$(probe "web-$N")"
