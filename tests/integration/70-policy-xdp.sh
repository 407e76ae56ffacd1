#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# XDP firewall: a sender and a receiver namespace over a veth pair; the
# receiver's end is named eth0 (inside its namespace) so the issue's example
# policy applies as written.  Deny a /24 (only that, counted exactly), allow
# rules, ports and port ranges, protocols, source ports, IPv6, VLAN tags,
# 100 000 CIDRs, counters carried across a re-apply, add/del, flush.
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd python3 jq nsenter
. "$(dirname "$0")/policy-lib.bash"

on_exit 'ctw policy flush; rm -rf "$CTRWATCH_BPF_PIN"'
pol_netns_setup eth0 || { t_fail "netns setup" true; exit 1; }
P=$CTW_WORK/pol
mkdir -p "$P"

# ---- the issue's example, as written ----
ex=$CTW_SRC/tests/unit/policy/example.yaml
t_ok "policy check: the issue's example" ctw policy check "$ex"
t_ok "policy apply: the issue's example (eth0 = the test veth)" in_r_net "$CTW_BIN" policy apply "$ex"
show=$(ctw policy show --json)
t_eq "show: 3 rules" 3 "$(jq '.rules | length' <<<"$show")"
t_eq "show: XDP on eth0, native" "eth0 native" \
	"$(jq -r '.attachments[] | select(.type == "xdp") | "\(.interface) \(.mode)"' <<<"$show")"
t_match "ip link: XDP attached on the receiver veth" 'xdp' "$(ip -n "$PR" link show eth0)"

t_eq "tcp/22 from 203.0.113.0/24: dropped" timeout "$(in_s pt tcp 203.0.113.7 203.0.113.2 22)"
t_eq "tcp/8050 (in 8000-8100): dropped" timeout "$(in_s pt tcp 203.0.113.7 203.0.113.2 8050)"
t_eq "tcp/8101 (past the range): passes" refused "$(in_s pt tcp 203.0.113.7 203.0.113.2 8101)"
t_eq "tcp/80 from the denied net: passes" refused "$(in_s pt tcp 203.0.113.7 203.0.113.2 80)"
t_eq "tcp/22 from 10.94.1.1: passes" refused "$(in_s pt tcp 10.94.1.1 10.94.1.2 22)"
n=$(udp_through 22 203.0.113.2 -- in_s pt udp 203.0.113.7 203.0.113.2 22 20)
t_eq "udp/22 from the denied net passes (rule is tcp)" 20 "$n"
t_eq "IPv6 tcp/22 from 2001:db8::/32: dropped" timeout \
	"$(in_s pt tcp 2001:db8:94::1 2001:db8:94::2 22)"
t_eq "IPv6 tcp/22 from fd00:94::1: passes" refused "$(in_s pt tcp fd00:94::1 fd00:94::2 22)"
t_cmp "block-scanner counted the dropped SYNs" "$(rule_packets block-scanner)" -ge 3

# ---- deny a /24: exactly that traffic, counted exactly ----
cat >"$P/deny24.yaml" <<EOF
rules:
  - name: deny-net2
    action: deny
    interfaces: [eth0]
    match:
      cidrs: [10.94.2.0/24]
EOF
t_ok "apply deny /24" in_r_net "$CTW_BIN" policy apply "$P/deny24.yaml"
gen1=$(ctw policy show --json | jq .generation)
n=$(udp_through 19401 0.0.0.0 -- in_s pt udp 10.94.2.1 10.94.2.2 19401 300)
t_eq "300 datagrams from 10.94.2.1: none arrive" 0 "$n"
t_eq "rule counter == packets sent" 300 "$(rule_packets deny-net2)"
n=$(udp_through 19401 0.0.0.0 -- in_s pt udp 10.94.1.1 10.94.1.2 19401 300)
t_eq "300 datagrams from 10.94.1.1: all arrive" 300 "$n"
t_eq "rule counter unchanged by other traffic" 300 "$(rule_packets deny-net2)"
t_ok "ping from 10.94.1.1 works" in_s busybox ping -c 2 -W 1 -I 10.94.1.1 10.94.1.2
t_fail "ping from 10.94.2.1 fails" in_s busybox ping -c 2 -W 1 -I 10.94.2.1 10.94.2.2
bytes=$(ctw policy stats --json | jq '.[] | select(.rule == "deny-net2") | .bytes')
t_cmp "bytes counted (>= 302 packets * 60)" "$bytes" -ge 18120

# Re-apply the same rule name: counters carry on, generation moves.
t_ok "re-apply" in_r_net "$CTW_BIN" policy apply "$P/deny24.yaml"
t_eq "generation +1" $((gen1 + 1)) "$(ctw policy show --json | jq .generation)"
t_eq "counter carried across the slot flip" 302 "$(rule_packets deny-net2)"

# ---- allow rules, default deny, first match wins ----
cat >"$P/allow.yaml" <<EOF
default: {interfaces: deny}
rules:
  - name: allow-one-host
    action: allow
    interfaces: [eth0]
    match: {cidrs: [10.94.2.5/32]}
  - name: deny-net2
    action: deny
    interfaces: [eth0]
    match: {cidrs: [10.94.2.0/24]}
  - name: allow-net1
    action: allow
    interfaces: [eth0]
    match: {cidrs: [10.94.1.0/24, "fd00:94::/64"]}
EOF
t_ok "apply allow list with default deny" in_r_net "$CTW_BIN" policy apply "$P/allow.yaml"
t_eq "10.94.2.5 (allowed /32 before the /24 deny): passes" refused \
	"$(in_s pt tcp 10.94.2.5 10.94.2.2 80)"
t_eq "10.94.2.1: denied" timeout "$(in_s pt tcp 10.94.2.1 10.94.2.2 80)"
t_eq "10.94.1.1: allowed" refused "$(in_s pt tcp 10.94.1.1 10.94.1.2 80)"
t_eq "203.0.113.7: default deny" timeout "$(in_s pt tcp 203.0.113.7 203.0.113.2 80)"
t_cmp "default counter counted it" "$(ctw policy stats --json | jq '.[] | select(.default and .scope == "xdp") | .packets')" -ge 1

# ---- protocols and source ports ----
cat >"$P/proto.yaml" <<EOF
rules:
  - name: no-icmp
    action: deny
    interfaces: [eth0]
    match: {cidrs: [10.94.1.0/24], protocol: icmp}
  - name: no-udp-from-5353
    action: deny
    interfaces: [eth0]
    match: {protocol: udp, src_ports: [5353]}
  - name: no-icmp6
    action: deny
    interfaces: [eth0]
    match: {cidrs: ["fd00:94::1/128"], protocol: icmp}
EOF
t_ok "apply protocol rules" in_r_net "$CTW_BIN" policy apply "$P/proto.yaml"
t_fail "icmp from 10.94.1.1: dropped" in_s busybox ping -c 2 -W 1 -I 10.94.1.1 10.94.1.2
t_eq "tcp from 10.94.1.1: passes" refused "$(in_s pt tcp 10.94.1.1 10.94.1.2 80)"
t_ok "icmp from 10.94.2.1: passes" in_s busybox ping -c 1 -W 1 -I 10.94.2.1 10.94.2.2
n=$(udp_through 19402 0.0.0.0 -- in_s pt udp 10.94.2.1 10.94.2.2 19402 50 5353)
t_eq "udp from source port 5353: dropped" 0 "$n"
t_eq "no-udp-from-5353 counted 50" 50 "$(rule_packets no-udp-from-5353)"
n=$(udp_through 19402 0.0.0.0 -- in_s pt udp 10.94.2.1 10.94.2.2 19402 50 5354)
t_eq "udp from source port 5354: passes" 50 "$n"
t_fail "ICMPv6 echo from fd00:94::1: dropped" in_s busybox ping -6 -c 2 -W 1 fd00:94::2
t_ok "ICMPv6 echo from 2001:db8:94::1: passes" in_s busybox ping -6 -c 1 -W 1 -I 2001:db8:94::1 2001:db8:94::2

# ---- VLAN-tagged frames: judged by the inner packet ----
# (This kernel has no 802.1Q devices: the sender writes tagged frames on a
# packet socket; XDP sees them before the stack would drop them.)
rmac=$(ip -n "$PR" -br link show eth0 | awk '{print $3}')
cat >"$P/vlan.yaml" <<EOF
rules:
  - name: deny-vlan-net
    action: deny
    interfaces: [eth0]
    match: {cidrs: [10.95.0.0/24]}
EOF
t_ok "apply VLAN test policy" in_r_net "$CTW_BIN" policy apply "$P/vlan.yaml"
def0=$(ctw policy stats --json | jq '.[] | select(.default and .scope == "xdp") | .packets')
t_ok "send 40 frames tagged VLAN 100 from 10.95.0.1" in_s pt vlan "$SIF" "$rmac" 100 10.95.0.1 10.94.1.2 19403 40
t_eq "tagged frames judged by inner source: deny-vlan-net counted 40" 40 "$(rule_packets deny-vlan-net)"
t_ok "send 40 frames tagged VLAN 100 from 10.94.1.1" in_s pt vlan "$SIF" "$rmac" 100 10.94.1.1 10.94.1.2 19403 40
def1=$(ctw policy stats --json | jq '.[] | select(.default and .scope == "xdp") | .packets')
t_eq "other tagged frames pass to the default" 40 $((def1 - def0))
t_eq "deny-vlan-net unchanged" 40 "$(rule_packets deny-vlan-net)"

# ---- 100 000 CIDRs ----
/usr/bin/python3 - "$P/big.yaml" <<'EOF'
import sys
with open(sys.argv[1], 'w') as f:
    f.write("rules:\n  - name: big-deny\n    action: deny\n    interfaces: [eth0]\n    match:\n      cidrs:\n")
    n = 0
    for a in range(64, 128):
        for b in range(256):
            for c in range(0, 256, 42):
                if n >= 99999: break
                f.write("        - 100.%d.%d.0/24\n" % (a, b) if c == 0 else "        - 100.%d.%d.%d/32\n" % (a, b, c))
                n += 1
    f.write("        - 10.94.2.0/24\n")
EOF
t_eq "generated 100 000 CIDRs" 100000 "$(grep -c '        - ' "$P/big.yaml")"
t0=$(date +%s%N)
t_ok "apply 100 000-CIDR policy" in_r_net "$CTW_BIN" policy apply "$P/big.yaml"
ms=$((($(date +%s%N) - t0) / 1000000))
echo "# 100 000 CIDRs applied in ${ms} ms"
t_eq "100 000-CIDR: 10.94.2.1 dropped" timeout "$(in_s pt tcp 10.94.2.1 10.94.2.2 80)"
t_eq "100 000-CIDR: 10.94.1.1 passes" refused "$(in_s pt tcp 10.94.1.1 10.94.1.2 80)"
t_match "show summarises the CIDRs" 'cidrs=100\.64\.0\.0/24\(\+99999\)' "$(ctw policy show)"
t_ok "swap back from 100 000 CIDRs" in_r_net "$CTW_BIN" policy apply "$P/deny24.yaml"
t_eq "after the swap 10.94.2.1 still dropped" timeout "$(in_s pt tcp 10.94.2.1 10.94.2.2 80)"

# ---- atomic swap: no window while policies change under a flood ----
cat >"$P/swap-a.yaml" <<EOF
rules:
  - {name: deny-net2, action: deny, interfaces: [eth0], match: {cidrs: [10.94.2.0/24]}}
  - {name: deny-81, action: deny, interfaces: [eth0], match: {protocol: tcp, ports: [81]}}
EOF
cat >"$P/swap-b.yaml" <<EOF
rules:
  - {name: deny-82, action: deny, interfaces: [eth0], match: {protocol: tcp, ports: [82]}}
  - {name: deny-net2-again, action: deny, interfaces: [eth0], match: {cidrs: [10.94.2.0/23]}}
EOF
rxf=$CTW_WORK/swap.rx
in_r pt recv 0.0.0.0 19404 4 "$rxf.ready" >"$rxf" &
rxpid=$!
wait_for 3 test -s "$rxf.ready"
in_s pt udp 10.94.2.1 10.94.2.2 19404 30000 &
fpid=$!
swaps=0
for _ in 1 2 3 4 5 6; do
	in_r_net "$CTW_BIN" policy apply "$P/swap-a.yaml" >/dev/null && swaps=$((swaps + 1))
	in_r_net "$CTW_BIN" policy apply "$P/swap-b.yaml" >/dev/null && swaps=$((swaps + 1))
done
wait "$fpid"
wait "$rxpid"
t_eq "12 swaps between two policies during the flood" 12 "$swaps"
t_eq "not one denied datagram got through during the swaps" 0 "$(cat "$rxf")"

# A CLI killed in the middle of an apply leaves the old policy whole.
in_r_net "$CTW_BIN" policy apply "$P/deny24.yaml" >/dev/null
g=$(ctw policy show --json | jq .generation)
(
	nsenter --net="/run/netns/$PR" "$CTW_BIN" policy apply "$P/big.yaml" >/dev/null 2>&1 &
	apid=$!
	sleep 0.4
	kill -KILL "$apid"
	wait "$apid"
) 2>/dev/null
show=$(ctw policy show --json)
if [ "$(jq .generation <<<"$show")" = "$g" ]; then
	t_eq "killed mid-apply: the old policy is whole (1 rule)" 1 "$(jq '.rules | length' <<<"$show")"
else
	t_eq "apply finished before the kill: the new policy is whole" big-deny "$(jq -r '.rules[0].name' <<<"$show")"
fi
t_eq "killed mid-apply: 10.94.2.1 still dropped" timeout "$(in_s pt tcp 10.94.2.1 10.94.2.2 80)"
t_eq "killed mid-apply: 10.94.1.1 still passes" refused "$(in_s pt tcp 10.94.1.1 10.94.1.2 80)"
t_ok "the next apply works" in_r_net "$CTW_BIN" policy apply "$P/deny24.yaml"

# ---- quick add / del (like xdp-filter) ----
t_ok "policy add -i eth0 -p tcp -P 80 10.94.1.0/24" in_r_net "$CTW_BIN" policy add -i eth0 -p tcp -P 80 10.94.1.0/24
t_eq "quick rule drops tcp/80 from 10.94.1.1" timeout "$(in_s pt tcp 10.94.1.1 10.94.1.2 80)"
t_eq "quick rule leaves tcp/81" refused "$(in_s pt tcp 10.94.1.1 10.94.1.2 81)"
t_match "show lists the quick rule first" '0 +quick-10\.94\.1\.0/24' "$(ctw policy show)"
t_ok "policy del 10.94.1.0/24" in_r_net "$CTW_BIN" policy del 10.94.1.0/24
t_eq "after del tcp/80 passes" refused "$(in_s pt tcp 10.94.1.1 10.94.1.2 80)"
t_eq "the file's rule is still there" timeout "$(in_s pt tcp 10.94.2.1 10.94.2.2 80)"

# ---- generic XDP where the driver has none (lo), shown by `policy show` ----
cat >"$P/lo.yaml" <<EOF
rules:
  - {name: deny-net2, action: deny, interfaces: [eth0], match: {cidrs: [10.94.2.0/24]}}
  - {name: no-ping-on-lo, action: deny, interfaces: [lo], match: {cidrs: [127.0.0.1/32], protocol: icmp}}
EOF
t_ok "apply with lo" in_r_net "$CTW_BIN" policy apply "$P/lo.yaml"
show=$(ctw policy show --json)
t_eq "show: lo in generic mode" generic "$(jq -r '.attachments[] | select(.interface == "lo") | .mode' <<<"$show")"
t_eq "show: eth0 still native" native "$(jq -r '.attachments[] | select(.interface == "eth0") | .mode' <<<"$show")"
t_fail "generic XDP on lo drops ping 127.0.0.1" in_r busybox ping -c 1 -W 1 127.0.0.1
t_ok "tcp on lo still passes" sh -c "[ \"\$(ip netns exec $PR /usr/bin/python3 $PT tcp 127.0.0.1 127.0.0.1 19405)\" = refused ]"
in_r_net "$CTW_BIN" policy apply "$P/deny24.yaml" >/dev/null
t_nomatch "lo left out of the next policy: detached" 'xdp' "$(ip -n "$PR" link show lo)"

# ---- a malformed or contradictory file changes nothing ----
g=$(ctw policy show --json | jq .generation)
printf 'rules:\n  - name: x\n    action: deny\n    interfaces: [eth0]\n    match: {cidrs: [10.94.1.0/33]}\n' >"$P/bad.yaml"
out=$(in_r_net "$CTW_BIN" policy apply "$P/bad.yaml" 2>&1)
t_eq "apply of a malformed file: exit 1" 1 $?
t_match "malformed: FILE:LINE:COL" "^$P/bad\.yaml:5:21: invalid prefix length in '10\.94\.1\.0/33'" "$out"
cat >"$P/contra.yaml" <<EOF
rules:
  - {name: deny-all, action: deny, interfaces: [eth0]}
  - {name: allow-ssh, action: allow, interfaces: [eth0], match: {protocol: tcp, ports: [22]}}
EOF
out=$(in_r_net "$CTW_BIN" policy apply "$P/contra.yaml" 2>&1)
t_eq "apply of a contradictory file: exit 1" 1 $?
t_match "contradictory: FILE:LINE:COL" "^$P/contra\.yaml:3:5: rule 'allow-ssh' contradicts rule 'deny-all'" "$out"
t_eq "nothing changed: generation" "$g" "$(ctw policy show --json | jq .generation)"
t_eq "nothing changed: enforcement" timeout "$(in_s pt tcp 10.94.2.1 10.94.2.2 80)"
t_eq "nothing changed: 10.94.1.1 passes" refused "$(in_s pt tcp 10.94.1.1 10.94.1.2 80)"

# ---- flush ----
t_ok "policy flush" ctw policy flush
t_eq "flush: pins gone" "" "$(ls "$CTRWATCH_BPF_PIN/policy" 2>/dev/null)"
t_nomatch "flush: XDP detached" 'prog/xdp|xdp' "$(ip -n "$PR" link show eth0)"
t_eq "flush: 10.94.2.1 passes again" refused "$(in_s pt tcp 10.94.2.1 10.94.2.2 80)"
t_fail "show after flush fails" ctw policy show
