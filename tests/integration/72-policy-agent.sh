#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The agent's policy module: --policy FILE applied, metrics, reload on
# inotify and SIGHUP, a bad or contradictory file rejected (FILE:LINE:COL
# logged, counted, nothing changed), `kill -9` during a flood (no denied
# packet gets through while the agent is down), restart adopts with the
# counters carrying on, flush removes it all.
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd python3 jq nsenter curl
. "$(dirname "$0")/policy-lib.bash"

on_exit 'ctw policy flush; rm -rf "$CTRWATCH_BPF_PIN"'
pol_netns_setup || { t_fail "netns setup" true; exit 1; }
P=$CTW_WORK/pol
mkdir -p "$P"
PORT=$((19420 + RANDOM % 60))
LOG=$CTW_WORK/agent.log

# The agent runs in the receiver's network namespace (it sees the veth
# there) and serves on that namespace's loopback.
agent_up() {
	nsenter --net="/run/netns/$PR" "$CTW_BIN" agent --listen "127.0.0.1:$PORT" --metrics policy \
		--discovery-interval 1s --policy "$P/policy.yaml" >>"$LOG" 2>&1 &
	APID=$!
	on_exit "kill -KILL $APID 2>/dev/null"
	wait_for 15 in_r_net curl -fsS "http://127.0.0.1:$PORT/readyz"
}
m() { in_r_net curl -fsS "http://127.0.0.1:$PORT/metrics"; }
mval() { # regex
	m | grep -E -- "$1" | head -1 | awk '{print $NF}'
}
gen() { ctw policy show --json | jq .generation; }

cat >"$P/policy.yaml" <<EOF
rules:
  - name: deny-net2
    action: deny
    interfaces: [$RIF]
    match:
      cidrs: [10.94.2.0/24]
EOF
agent_up
t_eq "agent --policy starts" 0 $?
t_match "log: applied" 'policy\.yaml applied \(1 rules\)' "$(cat "$LOG")"
t_eq "10.94.2.1 dropped" timeout "$(in_s pt tcp 10.94.2.1 10.94.2.2 80)"
t_eq "10.94.1.1 passes" refused "$(in_s pt tcp 10.94.1.1 10.94.1.2 80)"
n=$(udp_through 19430 0.0.0.0 -- in_s pt udp 10.94.2.1 10.94.2.2 19430 200)
t_eq "200 denied datagrams: none arrive" 0 "$n"
before=$(rule_packets deny-net2)
t_eq "metric ctrwatch_policy_packets_total == policy stats" "$before" \
	"$(mval '^ctrwatch_policy_packets_total\{rule="deny-net2",action="deny",scope="xdp"\}')"
t_eq "ctrwatch_policy_rules" 1 "$(mval '^ctrwatch_policy_rules ')"
t_match "bytes counted" '^ctrwatch_policy_bytes_total\{rule="deny-net2",action="deny",scope="xdp"\} [1-9]' "$(m)"
t_match "default series per scope" 'ctrwatch_policy_packets_total\{rule="default",action="allow",scope="xdp"\}' "$(m)"
m >"$CTW_WORK/scrape72.txt"
t_eq "the policy families and label sets are the ones the tables declare" "" \
	"$(python3 "$CTW_SRC/tests/check-metrics-tables.py" "$CTW_BIN" "$CTW_WORK/scrape72.txt" 2>&1)"
if command -v promtool >/dev/null; then
	t_ok "promtool check metrics" sh -c "'$CTW_BIN' --version >/dev/null; nsenter --net=/run/netns/$PR curl -fsS http://127.0.0.1:$PORT/metrics | promtool check metrics"
fi

# ---- a bad file: rejected, counted, nothing changes ----
g0=$(gen)
printf 'rules:\n  - name: broken\n    action: [deny\n' >"$P/policy.yaml.new"
mv "$P/policy.yaml.new" "$P/policy.yaml"
wait_for 5 sh -c "grep -q 'running policy stays' '$LOG'"
t_match "log: FILE:LINE:COL of the syntax error" "policy\.yaml:4:1: did not find expected" "$(cat "$LOG")"
t_eq "reload_errors_total 1" 1 "$(mval '^ctrwatch_policy_reload_errors_total ')"
t_eq "generation unchanged" "$g0" "$(gen)"
t_eq "still enforced" timeout "$(in_s pt tcp 10.94.2.1 10.94.2.2 80)"

cat >"$P/policy.yaml" <<EOF
rules:
  - name: deny-all-10
    action: deny
    interfaces: [$RIF]
    match: {cidrs: [10.0.0.0/8]}
  - name: allow-net1
    action: allow
    interfaces: [$RIF]
    match: {cidrs: [10.94.1.0/24]}
EOF
wait_for 5 sh -c "[ \"\$(nsenter --net=/run/netns/$PR curl -fsS http://127.0.0.1:$PORT/metrics | grep '^ctrwatch_policy_reload_errors_total ' | awk '{print \$2}')\" = 2 ]"
t_eq "contradictory file: reload_errors_total 2" 2 "$(mval '^ctrwatch_policy_reload_errors_total ')"
t_match "log: FILE:LINE:COL of the contradiction" "policy\.yaml:6:5: rule 'allow-net1' contradicts rule 'deny-all-10'" "$(cat "$LOG")"
t_eq "generation unchanged" "$g0" "$(gen)"
t_eq "last_reload_success 0" 0 "$(mval '^ctrwatch_policy_last_reload_success ')"

# ---- a good change: applied through inotify ----
before=$(rule_packets deny-net2)
cat >"$P/policy.yaml" <<EOF
rules:
  - name: deny-net2
    action: deny
    interfaces: [$RIF]
    match:
      cidrs: [10.94.2.0/24]
  - name: deny-tcp-81
    action: deny
    interfaces: [$RIF]
    match: {protocol: tcp, ports: [81]}
EOF
wait_for 5 sh -c "[ \"\$(ctw policy show --json | jq .generation)\" -gt $g0 ]"
t_eq "inotify: new policy applied" 2 "$(ctw policy show --json | jq '.rules | length')"
t_eq "new rule enforced: tcp/81 dropped" timeout "$(in_s pt tcp 10.94.1.1 10.94.1.2 81)"
t_eq "counters carried across the reload" "$before" "$(rule_packets deny-net2)"
t_eq "reloads_total counts the apply" 2 "$(mval '^ctrwatch_policy_reloads_total ')"

# ---- SIGHUP: re-applies after someone flushed ----
ctw policy flush
t_eq "flushed: tcp/81 passes" refused "$(in_s pt tcp 10.94.1.1 10.94.1.2 81)"
kill -HUP "$APID"
applied() { [ "$(ctw policy show --json 2>/dev/null | jq .generation)" -gt 0 ] 2>/dev/null; }
wait_for 5 applied
t_eq "SIGHUP: policy back" timeout "$(in_s pt tcp 10.94.1.1 10.94.1.2 81)"

# ---- kill -9 during a flood ----
c0=$(rule_packets deny-net2)
rxf=$CTW_WORK/flood.rx
in_r pt recv 0.0.0.0 19431 6 "$rxf.ready" >"$rxf" &
rxpid=$!
wait_for 3 test -s "$rxf.ready"
in_s pt udp 10.94.2.1 10.94.2.2 19431 20000 &
floodpid=$!
sleep 0.2
kill -KILL "$APID"
wait "$APID" 2>/dev/null
t_fail "agent is gone" kill -0 "$APID"
wait "$floodpid"
wait "$rxpid"
t_eq "flood of 20000 denied datagrams across the kill: none arrived" 0 "$(cat "$rxf")"
c1=$(rule_packets deny-net2)
t_eq "all 20000 counted while the agent was dying/dead" $((c0 + 20000)) "$c1"
t_eq "still enforced with no agent" timeout "$(in_s pt tcp 10.94.2.1 10.94.2.2 80)"
c1=$(rule_packets deny-net2)

# ---- restart: adopts, counters carry on ----
g1=$(gen)
agent_up
t_eq "agent restarts" 0 $?
t_eq "log: adopted" 1 "$(grep -c 'adopting the pinned policy' "$LOG")"
t_eq "adopted, not re-applied (generation kept)" "$g1" "$(gen)"
t_eq "metrics continue from the pinned counters" "$c1" \
	"$(mval '^ctrwatch_policy_packets_total\{rule="deny-net2",action="deny",scope="xdp"\}')"
in_s pt udp 10.94.2.1 10.94.2.2 19431 10 >/dev/null
t_eq "and keep counting" $((c1 + 10)) "$(rule_packets deny-net2)"

# ---- SIGTERM leaves enforcement; flush removes it ----
kill -TERM "$APID"
wait "$APID"
t_eq "agent stopped: still enforced" timeout "$(in_s pt tcp 10.94.2.1 10.94.2.2 80)"
t_ok "policy flush" ctw policy flush
t_eq "flushed: passes" refused "$(in_s pt tcp 10.94.2.1 10.94.2.2 80)"
t_nomatch "flushed: XDP detached" 'xdp' "$(ip -n "$PR" link show "$RIF")"
