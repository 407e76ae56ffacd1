#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `ctrwatch dns` against a real resolver (dnsmasq, the peer) in a test netns:
# every query a process of the watched cgroup makes shows with the right
# rcode, answers and a latency above zero, and dnsmasq's own query log lists
# the same queries; UDP over IPv4 and IPv6, TCP; crafted malformed packets
# are each reported as malformed and a normal query right after is still
# seen; timeouts; filters; two watchers at once (multi attach); nothing
# stays attached after exit.
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd dnsmasq gcc jq dig bpftool nsenter busybox
# shellcheck source=tests/integration/60-dns-common.bash
. "$(dirname "$0")/60-dns-common.bash"

# Not under t_ok: that runs in a subshell, and the cleanups must register here.
dns_setup
t_eq "dnsmasq up in netns $DNS_NS" 0 "$?"
dns_build_sender
t_eq "the crafted-packet sender builds" 0 "$?"
dns_cgroup CG dns-cli || { t_fail "create test cgroup" true; exit 1; }
OUT=$DNS_DIR/cli.json
ERR=$DNS_DIR/cli.err

attached_count() { bpftool cgroup show "$CG" 2>/dev/null | grep -c 'dns_egress\|dns_ingress'; }

# ---- the watcher ----
CTRWATCH_LOG_LEVEL=info "$CTW_BIN" dns --json --timeout 1s -d 60 "$CG" >"$OUT" 2>"$ERR" &
DPID=$!
on_exit "kill $DPID 2>/dev/null"
wait_for 20 dns_watching "$ERR"
t_eq "egress and ingress programs attached to the cgroup" 2 "$(attached_count)"

# ---- the queries (the "container" is any process in $CG) ----
in_cg "$CG" busybox nslookup www.example.test "$DNS_SERVER" >"$DNS_DIR/q1" 2>&1
in_cg "$CG" busybox nslookup nope.example.test "$DNS_SERVER" >"$DNS_DIR/q2" 2>&1
in_cg "$CG" busybox nslookup -type=aaaa web.example.test ::1 >"$DNS_DIR/q3" 2>&1
in_cg "$CG" dig +tcp +short +time=2 +tries=1 @"$DNS_SERVER" web.example.test A >"$DNS_DIR/q4" 2>&1
t_match "nslookup itself got the CNAME answer" 'canonical name = web.example.test' "$(cat "$DNS_DIR/q1")"
t_match "dig over TCP got the A record" '^10\.0\.0\.10$' "$(cat "$DNS_DIR/q4")"

answered_ge() { [ "$(jq -s '[.[] | select(.kind == "answer")] | length' "$OUT" 2>/dev/null)" -ge "$1" ]; }
# 2 (www A/AAAA) + 2 (nope A/AAAA) + 1 (v6) + 1 (tcp)
wait_for 5 answered_ge 6
ev() { jq -c "select(.kind == \"answer\" and .qname == \"$1\" and .qtype == \"$2\" and .protocol == \"${3:-udp}\")" "$OUT" | head -1; }

e=$(ev www.example.test A)
t_eq "www A: NOERROR" NOERROR "$(jq -r .rcode <<<"$e")"
t_eq "www A: CNAME then address" '["web.example.test","10.0.0.10"]' "$(jq -c .answers <<<"$e")"
t_eq "www A: server" "$DNS_SERVER" "$(jq -r .server <<<"$e")"
t_eq "www A: comm of the sender" busybox "$(jq -r .comm <<<"$e")"
t_cmp "www A: pid of the sender" "$(jq -r .pid <<<"$e")" -gt 0
e=$(ev www.example.test AAAA)
t_eq "www AAAA: CNAME then address" '["web.example.test","fd00::10"]' "$(jq -c .answers <<<"$e")"
e=$(ev nope.example.test A)
t_eq "nope A: NXDOMAIN, no answers" 'NXDOMAIN []' "$(jq -r '"\(.rcode) \(.answers)"' <<<"$e" | tr -d ' ' | sed 's/NXDOMAIN/NXDOMAIN /')"
e=$(ev nope.example.test AAAA)
t_eq "nope AAAA: NXDOMAIN" NXDOMAIN "$(jq -r .rcode <<<"$e")"
e=$(ev web.example.test AAAA)
t_eq "IPv6 server ::1: AAAA answer" '::1 ["fd00::10"]' "$(jq -r '"\(.server) \(.answers | tojson)"' <<<"$e")"
e=$(ev web.example.test A tcp)
t_eq "TCP: A answer" '["10.0.0.10"]' "$(jq -c .answers <<<"$e")"
t_eq "every answered query has latency > 0" 0 \
	"$(jq -s '[.[] | select(.kind == "answer" and (.latency_ms <= 0))] | length' "$OUT")"
t_eq "every event names the container (its cgroup)" 0 \
	"$(jq -s "[.[] | select(.cgroup_id != $(stat -c %i "$CG"))] | length" "$OUT")"

# The peer: dnsmasq's log lists exactly the queries we reported.
ours=$(jq -r 'select(.kind == "answer" and .direction == "egress") | "\(.qtype) \(.qname)"' "$OUT" | sort)
peer=$(sed -n 's/.* query\[\([A-Z]*\)\] \([^ ]*\) from .*/\1 \2/p' "$DNS_LOG" | sort)
t_eq "dnsmasq's query log lists the same queries" "$peer" "$ours"

# ---- malformed packets, then a normal query ----
before=$(wc -l <"$OUT")
in_cg "$CG" "$DNS_SEND" "$DNS_SERVER" short loop label name qd0 qd65535 random
in_cg "$CG" busybox nslookup web.example.test "$DNS_SERVER" >/dev/null 2>&1
web_after_ge() {
	[ "$(tail -n +$((before + 1)) "$OUT" | jq -s '[.[] | select(.kind == "answer" and .qname == "web.example.test")] | length')" -ge "$1" ]
}
wait_for 5 web_after_ge 2
new=$(tail -n +$((before + 1)) "$OUT")
mal=$(jq -r 'select(.kind == "malformed" and .direction == "egress") | .error' <<<"$new")
t_eq "7 malformed packets sent, 7 reported (egress)" 7 "$(grep -c . <<<"$mal")"
t_match "truncated header" '^shorter than the header$' "$mal"
t_match "compression loop" '^compression loop$' "$mal"
t_match "label over 63" '^label longer than 63' "$mal"
t_match "name over 255" '^name longer than 255' "$mal"
t_eq "qdcount 0, 65535 and the random bytes: bad question count" 3 "$(grep -c 'bad question count' <<<"$mal")"
t_eq "the normal query right after is seen correctly" '["10.0.0.10"] NOERROR' \
	"$(jq -r 'select(.kind == "answer" and .qname == "web.example.test" and .qtype == "A") | "\(.answers | tojson) \(.rcode)"' <<<"$new" | tail -1)"
t_ok "the watcher is still running" kill -0 "$DPID"

# ---- a query nobody answers: a timeout ----
in_cg "$CG" "$DNS_SEND" 127.0.0.54 query:lost.example.test
wait_for 5 grep -q '"kind":"timeout"' "$OUT"
t_eq "unanswered query reported as TIMEOUT" 'lost.example.test 127.0.0.54' \
	"$(jq -r 'select(.kind == "timeout") | "\(.qname) \(.server)"' "$OUT" | head -1)"

# ---- a second watcher with filters, alongside the first (multi) ----
CTRWATCH_LOG_LEVEL=info "$CTW_BIN" dns -d 30 -r NXDOMAIN "$CG" >"$DNS_DIR/text.out" 2>"$DNS_DIR/text.err" &
TPID=$!
on_exit "kill $TPID 2>/dev/null"
CTRWATCH_LOG_LEVEL=info "$CTW_BIN" dns --json -d 30 -n 'WWW.*' "$CG" >"$DNS_DIR/name.json" 2>"$DNS_DIR/name.err" &
NPID=$!
on_exit "kill $NPID 2>/dev/null"
wait_for 20 dns_watching "$DNS_DIR/text.err"
wait_for 20 dns_watching "$DNS_DIR/name.err"
t_eq "three watchers attached side by side" 6 "$(attached_count)"
in_cg "$CG" busybox nslookup nope.example.test "$DNS_SERVER" >/dev/null 2>&1
in_cg "$CG" busybox nslookup www.example.test "$DNS_SERVER" >/dev/null 2>&1
wait_for 5 grep -q 'www.example.test' "$DNS_DIR/name.json"
sleep 0.3
kill -INT "$TPID" "$NPID"
wait "$TPID"
t_eq "text watcher exits 0 on SIGINT" 0 "$?"
wait "$NPID"
text=$(cat "$DNS_DIR/text.out")
t_match "text output has the header" '^TIME +CONTAINER +PID +COMM +QTYPE +QNAME +RCODE +LATENCY +ANSWERS' "$text"
t_match "text: NXDOMAIN line with latency" 'nope\.example\.test +NXDOMAIN +[0-9.]+ms' "$text"
t_nomatch "text: -r NXDOMAIN hides NOERROR" 'NOERROR' "$text"
t_eq "-n 'WWW.*' (case-insensitive glob) keeps only www" 'www.example.test' \
	"$(jq -r .qname "$DNS_DIR/name.json" | sort -u)"
# nope A and AAAA, twice now
t_eq "the first watcher saw them too" 4 \
	"$(jq -s '[.[] | select(.kind == "answer" and .qname == "nope.example.test")] | length' "$OUT")"

# ---- exit: nothing left attached ----
kill -INT "$DPID"
wait "$DPID"
t_eq "watcher exits 0 on SIGINT" 0 "$?"
t_eq "nothing attached to the cgroup afterwards" 0 "$(attached_count)"
t_fail "unknown container is an error" ctw dns -d 1 no-such-container-xyz
t_fail "bad rcode is a usage error" ctw dns -r BOGUS
t_match "  ... the one message, with the hint" \
	'^ctrwatch: dns: no such container: no-such-container-xyz \(`ctrwatch containers` lists them\)$' \
	"$(ctw dns -d 1 no-such-container-xyz 2>&1)"

# ---- served queries: a DNS server in one watched cgroup, its client in another ----
# Without --served a query shows once (the client's line); with it the
# server's side follows, marked (served) in the COMM column.
dns_cgroup SRV dns-srv || { t_fail "create the server's cgroup" true; exit 1; }
dns_cgroup CLI dns-client || { t_fail "create the client's cgroup" true; exit 1; }
# NOERROR, no answers, for every query, on 127.0.0.77:53.  Not through
# in_cg (a function: & would give the subshell's pid): $! is the sh that
# becomes nsenter, then python.
sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec nsenter --net="/run/netns/$0" "$@"' \
	"$DNS_NS" "$SRV" /usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.77", 53))
while True:
    q, peer = s.recvfrom(512)
    if len(q) >= 12:
        s.sendto(q[:2] + bytes([0x81 | (q[2] & 1), 0x80]) + q[4:6] + b"\0\0\0\0\0\0" + q[12:], peer)
' >"$DNS_DIR/srv.log" 2>&1 &
SRVPID=$!
on_exit "kill $SRVPID 2>/dev/null; wait $SRVPID 2>/dev/null"
for mode in plain served; do
	flags=(); [ "$mode" = served ] && flags=(--served)
	CTRWATCH_LOG_LEVEL=info "$CTW_BIN" dns "${flags[@]}" -d 30 "$SRV" "$CLI" >"$DNS_DIR/$mode.out" 2>"$DNS_DIR/$mode.err" &
	WPID=$!
	on_exit "kill $WPID 2>/dev/null"
	wait_for 20 dns_watching "$DNS_DIR/$mode.err" 2
	in_cg "$CLI" busybox nslookup -type=a "$mode.served.test" 127.0.0.77 >/dev/null 2>&1
	want=$((1 + ${#flags[@]}))
	wait_for 5 sh -c "[ \$(grep -c '$mode\\.served\\.test' '$DNS_DIR/$mode.out') -ge $want ]"
	sleep 0.3
	kill -INT "$WPID"
	wait "$WPID"
done
t_eq "without --served: the client's query only, once" "busybox" \
	"$(awk '$6 == "plain.served.test" {print $4}' "$DNS_DIR/plain.out" | xargs)"
t_eq "with --served: the client's line and the server's, marked (served)" "(served) busybox" \
	"$(awk '$6 == "served.served.test" {print $4}' "$DNS_DIR/served.out" | sort | xargs)"
