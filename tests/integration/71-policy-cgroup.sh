#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Per-container rules on cgroup_skb: processes in a cgroup this test makes
# (below its own), inside the sender namespace, talk to a test host in the
# receiver namespace.  Egress deny to one IP:port while other ports work,
# ingress deny counted exactly, DNS-name deny (wildcard and exact) against a
# small DNS responder, and what the client sees.
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd python3 jq nsenter dig
. "$(dirname "$0")/policy-lib.bash"

on_exit 'ctw policy flush; rm -rf "$CTRWATCH_BPF_PIN"'
pol_netns_setup || { t_fail "netns setup" true; exit 1; }
P=$CTW_WORK/pol
mkdir -p "$P"

# The test's own v2 cgroup, below ours.
v2=$(cgroup_dirs "$CTRWATCH_CGROUP_PARENT/ctwp-c1" | grep -E '^/sys/fs/cgroup(/unified)?/' |
	while read -r d; do
		case $d in /sys/fs/cgroup/unified/* | /sys/fs/cgroup/[!a-z]*) echo "$d" ;; esac
	done | head -1)
[ -n "$v2" ] || v2=$(cgroup_dirs "$CTRWATCH_CGROUP_PARENT/ctwp-c1" | grep unified | head -1)
CG=$v2
mkdir -p "$CG" || { t_fail "create test cgroup" true; exit 1; }
on_exit "rmdir '$CG' '$(dirname "$CG")' 2>/dev/null"
on_exit "for p in \$(cat '$CG/cgroup.procs' 2>/dev/null); do kill -9 \$p; done; sleep 0.2"

# Run a command in the sender namespace, as a process of the test cgroup.
in_cg() {
	[ "$1" = pt ] && { shift; set -- /usr/bin/python3 "$PT" "$@"; }
	sh -c 'echo $$ >"$0/cgroup.procs" && n=$1 && shift && exec nsenter --net="$n" "$@"' "$CG" \
		"/run/netns/$PS" "$@"
}

# A DNS responder on the test host (answers every name with 192.0.2.1).
qlog=$CTW_WORK/dns-queries.log
ip netns exec "$PR" /usr/bin/python3 "$PT" dns 10.94.1.2 53 "$qlog" &
dns_pid=$!
on_exit "kill $dns_pid"
wait_for 3 sh -c "ip netns exec $PR ss -Huln 'sport = :53' | grep -q ."

cat >"$P/ctr.yaml" <<EOF
rules:
  - name: no-port-19410
    action: deny
    containers: {cgroup: "$CG"}
    direction: egress
    match:
      cidrs: [10.94.1.2/32]
      protocol: tcp
      ports: [19410]
  - name: no-v6-19410
    action: deny
    containers: {cgroup: "$CG"}
    direction: egress
    match:
      cidrs: ["fd00:94::2/128"]
      protocol: tcp
      ports: [19410]
  - name: no-udp-from-net2
    action: deny
    containers: {cgroup: "$CG"}
    direction: ingress
    match:
      cidrs: [10.94.2.0/24]
      protocol: udp
  - name: no-evil-names
    action: deny
    containers: {cgroup: "$CG"}
    direction: egress
    match:
      dns: ["*.evil.test", "exact.bad.test"]
EOF
t_ok "policy check" ctw policy check "$P/ctr.yaml"
t_ok "policy apply (container rules, standalone CLI)" ctw policy apply "$P/ctr.yaml"
cgid=$(stat -c %i "$CG")
t_eq "show: cgroup attachment" "$cgid" \
	"$(ctw policy show --json | jq -r '.attachments[] | select(.type == "cgroup") | .cgroup_id')"
t_match "links pinned for egress and ingress" "link_cg_${cgid}_eg.*link_cg_${cgid}_in|link_cg_${cgid}_in.*link_cg_${cgid}_eg" \
	"$(ls "$CTRWATCH_BPF_PIN/policy" | tr '\n' ' ')"

# ---- egress: one IP:port denied, other ports work ----
t_eq "egress to 10.94.1.2:19410 from the cgroup: SYN dropped (timeout)" timeout \
	"$(in_cg pt tcp 10.94.1.1 10.94.1.2 19410)"
t_eq "egress to 10.94.1.2:19411 from the cgroup: reaches the host" refused \
	"$(in_cg pt tcp 10.94.1.1 10.94.1.2 19411)"
t_eq "egress to 10.94.2.2:19410 (other IP) from the cgroup: reaches the host" refused \
	"$(in_cg pt tcp 10.94.2.1 10.94.2.2 19410)"
t_eq "same namespace, outside the cgroup: 19410 reaches the host" refused \
	"$(in_s pt tcp 10.94.1.1 10.94.1.2 19410)"
t_cmp "no-port-19410 counted" "$(rule_packets no-port-19410)" -ge 1
t_eq "IPv6 egress to [fd00:94::2]:19410 from the cgroup: dropped" timeout \
	"$(in_cg pt tcp fd00:94::1 fd00:94::2 19410)"
t_eq "IPv6 egress to [fd00:94::2]:19411: reaches the host" refused \
	"$(in_cg pt tcp fd00:94::1 fd00:94::2 19411)"
t_cmp "no-v6-19410 counted" "$(rule_packets no-v6-19410)" -ge 1

# ---- ingress: datagrams from 10.94.2.0/24 dropped, counted exactly ----
rx_in_cg() { # PORT SRC COUNT: datagrams the cgroup's receiver gets
	local out ready
	out=$(mktemp "$CTW_WORK/rx.XXXXXX")
	ready=$out.ready
	in_cg pt recv 0.0.0.0 "$1" 2 "$ready" >"$out" &
	local pid=$!
	wait_for 3 test -s "$ready"
	in_r pt udp "$2" 10.94.1.1 "$1" "$3" >/dev/null 2>&1
	wait "$pid"
	cat "$out"
	rm -f "$out" "$ready"
}
n=$(rx_in_cg 19412 10.94.2.2 100)
t_eq "ingress: 100 datagrams from 10.94.2.2 dropped" 0 "$n"
t_eq "no-udp-from-net2 counted exactly 100" 100 "$(rule_packets no-udp-from-net2)"
n=$(rx_in_cg 19412 10.94.1.2 100)
t_eq "ingress: 100 datagrams from 10.94.1.2 arrive" 100 "$n"
t_eq "counter unchanged by allowed traffic" 100 "$(rule_packets no-udp-from-net2)"

# ---- DNS names ----
q() { in_cg dig +time=1 +tries=1 +short @10.94.1.2 "$1" A 2>&1; }
t_eq "ok.test resolves" 192.0.2.1 "$(q ok.test)"
t_eq "evil.test itself resolves (*.evil.test is strictly below)" 192.0.2.1 "$(q evil.test)"
out=$(in_cg busybox nslookup www.evil.test 10.94.1.2 2>&1)
t_nomatch "nslookup www.evil.test: no answer" '192\.0\.2\.1' "$out"
t_match "nslookup www.evil.test: the query's send fails with EPERM" 'Operation not permitted' "$out"
t_nomatch "a.b.EVIL.test (any case, deeper): no answer" '192\.0\.2\.1' "$(q a.b.EVIL.test)"
t_nomatch "exact.bad.test: no answer" '192\.0\.2\.1' "$(q exact.bad.test)"
t_eq "x.exact.bad.test (exact rule only): resolves" 192.0.2.1 "$(q x.exact.bad.test)"
t_nomatch "the responder never saw the denied names" '\.evil\.test|EVIL|^exact' "$(cat "$qlog")"
t_match "the responder saw the allowed ones" 'ok\.test' "$(cat "$qlog")"
t_eq "outside the cgroup www.evil.test resolves" 192.0.2.1 \
	"$(in_s dig +time=1 +tries=1 +short @10.94.1.2 www.evil.test A)"
t_eq "no-evil-names counted the 3 denied queries" 3 "$(rule_packets no-evil-names)"
t0=$(date +%s%N)
in_cg busybox nslookup www.evil.test 10.94.1.2 >/dev/null 2>&1
ms=$((($(date +%s%N) - t0) / 1000000))
t_cmp "a denied lookup fails at once (${ms} ms < 500), not by timeout" "$ms" -lt 500

# ---- DNS allow-list mode: only addresses DNS gave for allowed names ----
ip netns exec "$PR" /usr/bin/python3 "$PT" dns 10.94.2.2 53 "$qlog" "good.test=10.94.1.2/3,x.good.test=10.94.2.2/3,bad.test=10.94.2.2/3" &
dns2_pid=$!
on_exit "kill $dns2_pid"
wait_for 3 sh -c "ip netns exec $PR ss -Huln 'src 10.94.2.2 and sport = :53' | grep -q ."
cat >"$P/allowlist.yaml" <<EOF
default: {egress: deny}
rules:
  - name: resolver
    action: allow
    containers: {cgroup: "$CG"}
    direction: egress
    match: {cidrs: [10.94.2.2/32], protocol: udp, ports: [53]}
  - name: allowed-names
    action: allow
    containers: {cgroup: "$CG"}
    direction: egress
    match: {dns: [good.test, "*.good.test"]}
EOF
t_ok "apply an allow-list policy (default egress deny)" ctw policy apply "$P/allowlist.yaml"
dq() { in_cg dig +time=1 +tries=1 +short @10.94.2.2 "$1" A 2>&1; }
t_eq "allow-list: 10.94.1.2 unreachable before any lookup" timeout "$(in_cg pt tcp 10.94.1.1 10.94.1.2 19411)"
t_eq "allow-list: good.test resolves" 10.94.1.2 "$(dq good.test)"
t_eq "allow-list: its address is now reachable" refused "$(in_cg pt tcp 10.94.1.1 10.94.1.2 19411)"
t_eq "allow-list: bad.test (not allowed) resolves through the resolver rule" 10.94.2.2 "$(dq bad.test)"
t_eq "allow-list: but its address stays unreachable" timeout "$(in_cg pt tcp 10.94.2.1 10.94.2.2 19411)"
t_eq "allow-list: x.good.test (wildcard) resolves" 10.94.2.2 "$(dq x.good.test)"
t_eq "allow-list: and its address becomes reachable" refused "$(in_cg pt tcp 10.94.2.1 10.94.2.2 19411)"
t_cmp "allowed-names counted queries and learned traffic" "$(rule_packets allowed-names)" -ge 4
t_eq "allow-list: outside the cgroup nothing changes" refused "$(in_s pt tcp 10.94.1.1 10.94.1.2 19411)"
sleep 3.5
t_eq "allow-list: after the TTL (3 s) the address expires" timeout "$(in_cg pt tcp 10.94.1.1 10.94.1.2 19411)"

# ---- flush ----
t_ok "flush" ctw policy flush
t_eq "after flush 19410 reachable from the cgroup" refused "$(in_cg pt tcp 10.94.1.1 10.94.1.2 19410)"
t_eq "after flush www.evil.test resolves" 192.0.2.1 "$(q www.evil.test)"
