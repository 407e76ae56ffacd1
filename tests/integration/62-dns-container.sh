#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# DNS of real `ctrwatch run` containers, by name, with ctrwatch running in
# the test netns that plays the host: one container shares it (--net host),
# one is bridged (--net bridge --dns, resolv.conf) and reaches dnsmasq
# through its gateway.  `ctrwatch dns NAME... --json` and the agent's metrics
# both name them, with the right rcodes, answers and latencies, and dnsmasq's
# log lists the same queries.
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd dnsmasq jq curl promtool nsenter
# shellcheck source=tests/integration/60-dns-common.bash
. "$(dirname "$0")/60-dns-common.bash"

dns_setup
t_eq "dnsmasq up in netns $DNS_NS" 0 "$?"
NAME=dnsc$$
# After `rm -f` (cleanups run in reverse): the parent directories `run`
# made in every hierarchy, when this suite runs on its own.
on_exit "cgroup_rm_tree '$CTRWATCH_CGROUP_PARENT'"
if ! nsenter --net="/run/netns/$DNS_NS" "$CTW_BIN" run -d --name "$NAME" --net host busybox \
	sleep 120 >"$DNS_DIR/run.out" 2>&1; then
	t_skip "ctrwatch run -d --net host busybox" "$(tail -1 "$DNS_DIR/run.out")"
	exit 0
fi
on_exit "'$CTW_BIN' rm -f '$NAME'"
BNAME=dnsb$$
if nsenter --net="/run/netns/$DNS_NS" "$CTW_BIN" run -d --name "$BNAME" --net bridge \
	--dns "$DNS_ROUTED" busybox sleep 120 >"$DNS_DIR/runb.out" 2>&1; then
	on_exit "'$CTW_BIN' rm -f '$BNAME'"
else
	BNAME=
fi

PORT=
for p in $(seq 19300 19399); do
	if ! ss -Htln "sport = :$p" | grep -q .; then PORT=$p; break; fi
done
URL=http://127.0.0.1:$PORT/metrics
"$CTW_BIN" agent --listen "127.0.0.1:$PORT" --metrics dns --discovery-interval 1s \
	>"$DNS_DIR/agent.log" 2>&1 &
APID=$!
on_exit "kill $APID 2>/dev/null; wait $APID"
OUT=$DNS_DIR/cli.json
"$CTW_BIN" dns --json -d 60 "$NAME" ${BNAME:+"$BNAME"} >"$OUT" 2>"$DNS_DIR/cli.err" &
CPID=$!
on_exit "kill $CPID 2>/dev/null"
series() { curl -sf "$URL" | grep -E "^$1\{container=\"$NAME\"${2:+,$2}\}" | awk '{print $2}'; }
CG=$(ctw inspect "$NAME" | jq -r '.[0].cgroup')
# agent + CLI: two egress programs on the container's cgroup
both_attached() {
	[ -n "$(series ctrwatch_dns_timeouts_total)" ] &&
		[ "$(bpftool cgroup show "$CG" 2>/dev/null | grep -c dns_egress)" -ge 2 ]
}
wait_for 15 both_attached
t_ok "agent and CLI both attached to the container's cgroup" both_attached

ctw exec "$NAME" nslookup www.example.test "$DNS_SERVER" >"$DNS_DIR/q1" 2>&1
ctw exec "$NAME" nslookup nope.example.test "$DNS_SERVER" >"$DNS_DIR/q2" 2>&1
t_match "nslookup in the container resolved www" 'Address: 10\.0\.0\.10' "$(cat "$DNS_DIR/q1")"

if [ -n "$BNAME" ]; then
	ctw exec "$BNAME" nslookup www.example.test >"$DNS_DIR/q3" 2>&1
	t_match "bridged container resolved www through resolv.conf" 'Address: 10\.0\.0\.10' \
		"$(cat "$DNS_DIR/q3")"
else
	t_skip "bridged container" "$(tail -1 "$DNS_DIR/runb.out")"
fi

answered_ge() { [ "$(jq -s '[.[] | select(.kind == "answer")] | length' "$OUT")" -ge "$1" ]; }
wait_for 5 answered_ge $((${BNAME:+2} + 4))
if [ -n "$BNAME" ]; then
	t_eq "bridged: A and AAAA of www, via the routed resolver" \
		"A $DNS_ROUTED NOERROR
AAAA $DNS_ROUTED NOERROR" \
		"$(jq -r "select(.container == \"$BNAME\") | \"\(.qtype) \(.server) \(.rcode)\"" "$OUT")"
	t_eq "bridged: answers" '["web.example.test","10.0.0.10"]' \
		"$(jq -c "select(.container == \"$BNAME\" and .qtype == \"A\") | .answers" "$OUT")"
	jq -c "select(.container == \"$BNAME\")" "$OUT" >"$DNS_DIR/b.json"
	jq -c "select(.container == \"$NAME\")" "$OUT" >"$DNS_DIR/h.json"
	mv "$DNS_DIR/h.json" "$OUT"
fi
t_eq "the CLI names the container" "$NAME" "$(jq -r .container "$OUT" | sort -u)"
t_eq "www A: NOERROR, CNAME then address" 'NOERROR ["web.example.test","10.0.0.10"]' \
	"$(jq -r 'select(.qname == "www.example.test" and .qtype == "A") | "\(.rcode) \(.answers | tojson)"' "$OUT")"
t_eq "nope: NXDOMAIN for A and AAAA" 'NXDOMAIN NXDOMAIN' \
	"$(jq -r 'select(.qname == "nope.example.test") | .rcode' "$OUT" | xargs)"
t_eq "comm is the container's nslookup" nslookup "$(jq -r .comm "$OUT" | sort -u)"
t_eq "latency > 0 everywhere" 0 "$(jq -s '[.[] | select(.latency_ms <= 0)] | length' "$OUT")"
ours=$(cat "$OUT" ${BNAME:+"$DNS_DIR/b.json"} | jq -r '"\(.qtype) \(.qname)"' | sort)
peer=$(sed -n 's/.* query\[\([A-Z]*\)\] \([^ ]*\) from .*/\1 \2/p' "$DNS_LOG" | sort)
t_eq "dnsmasq's log lists the same queries" "$peer" "$ours"

counted() { [ "$(series ctrwatch_dns_responses_total 'rcode="NXDOMAIN"')" = 2 ]; }
wait_for 5 counted
t_eq "agent: queries_total{container=$NAME,qtype=A}" 2 "$(series ctrwatch_dns_queries_total 'qtype="A"')"
t_eq "agent: responses NOERROR" 2 "$(series ctrwatch_dns_responses_total 'rcode="NOERROR"')"
t_eq "agent: responses NXDOMAIN" 2 "$(series ctrwatch_dns_responses_total 'rcode="NXDOMAIN"')"
t_eq "agent: duration histogram count" 4 "$(series ctrwatch_dns_request_duration_seconds_count)"
t_ok "agent: promtool check metrics" promtool check metrics <<<"$(curl -sf "$URL")"

kill -INT "$CPID"
wait "$CPID"
t_eq "CLI exits 0" 0 "$?"
