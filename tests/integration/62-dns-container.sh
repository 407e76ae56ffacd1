#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# DNS of real `ctrwatch run` containers, by name, with ctrwatch running in
# the test netns that plays the host: one container shares it (--net host),
# one is bridged (--net bridge --dns, resolv.conf) and reaches dnsmasq
# through its gateway.  `ctrwatch dns NAME... --json` and the agent's metrics
# both name them, with the right rcodes, answers and latencies, and dnsmasq's
# log lists the same queries; a container made later whose first command is
# a query, gone at once, is seen in both.
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd dnsmasq jq curl promtool nsenter
# shellcheck source=tests/integration/60-dns-common.bash
. "$(dirname "$0")/60-dns-common.bash"

dns_setup
t_eq "dnsmasq up in netns $DNS_NS" 0 "$?"
dns_build_sender
t_eq "the crafted-packet sender builds" 0 "$?"
NAME=dnsc$$
# After `rm -f` (cleanups run in reverse): the parent directories `run`
# made in every hierarchy, when this suite runs on its own.
on_exit "cgroup_rm_tree '$CTRWATCH_CGROUP_PARENT'"
if ! nsenter --net="/run/netns/$DNS_NS" "$CTW_BIN" run -d --name "$NAME" --net host \
	-v "$DNS_DIR:/t:ro" busybox sleep 120 >"$DNS_DIR/run.out" 2>&1; then
	t_skip "ctrwatch run -d --net host busybox" "$(tail -1 "$DNS_DIR/run.out")"
	exit 0
fi
on_exit "'$CTW_BIN' rm -f '$NAME'"
# the agent and `ctrwatch dns` (every container) attach above the run's
# containers (default: the v2 root)
CTRWATCH_DNS_CGROUP=$(cgroup2_dir "$CTRWATCH_CGROUP_PARENT")
export CTRWATCH_DNS_CGROUP
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
CTRWATCH_LOG_LEVEL=info "$CTW_BIN" dns --json -d 60 "$NAME" ${BNAME:+"$BNAME"} >"$OUT" \
	2>"$DNS_DIR/cli.err" &
CPID=$!
on_exit "kill $CPID 2>/dev/null"
series() { curl -sf "$URL" | grep -E "^$1\{container=\"$NAME\",container_id=\"[0-9a-f]{12}\"${2:+,$2}\}" | awk '{print $2}'; }
CG=$(ctw inspect "$NAME" | jq -r '.[0].cgroup')
both_attached() {
	grep -qF "container $NAME (" "$DNS_DIR/agent.log" &&
		dns_watching "$DNS_DIR/cli.err" $((${BNAME:+1} + 1)) &&
		[ "$(bpftool cgroup show "$CG" effective 2>/dev/null | grep -c dns_egress)" -ge 2 ]
}
wait_for 15 both_attached
t_ok "agent (above it) and CLI (to it) both attached for the container's cgroup" both_attached

timeout 30 "$CTW_BIN" exec "$NAME" nslookup www.example.test "$DNS_SERVER" >"$DNS_DIR/q1" 2>&1
timeout 30 "$CTW_BIN" exec "$NAME" nslookup nope.example.test "$DNS_SERVER" >"$DNS_DIR/q2" 2>&1
t_match "nslookup in the container resolved www" 'Address: 10\.0\.0\.10' "$(cat "$DNS_DIR/q1")"

if [ -n "$BNAME" ]; then
	timeout 30 "$CTW_BIN" exec "$BNAME" nslookup www.example.test >"$DNS_DIR/q3" 2>&1
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
fi
# The host-network container's events so far (the CLI keeps writing $OUT).
H=$DNS_DIR/h.json
jq -c "select(.container == \"$NAME\")" "$OUT" >"$H"
t_eq "the CLI names the containers" "$(printf '%s\n' "$NAME" $BNAME | sort | xargs)" \
	"$(jq -r .container "$OUT" | sort -u | xargs)"
t_eq "www A: NOERROR, CNAME then address" 'NOERROR ["web.example.test","10.0.0.10"]' \
	"$(jq -r 'select(.qname == "www.example.test" and .qtype == "A") | "\(.rcode) \(.answers | tojson)"' "$H")"
t_eq "nope: NXDOMAIN for A and AAAA" 'NXDOMAIN NXDOMAIN' \
	"$(jq -r 'select(.qname == "nope.example.test") | .rcode' "$H" | xargs)"
t_eq "comm is the container's nslookup" nslookup "$(jq -r .comm "$H" | sort -u)"
t_eq "latency > 0 everywhere" 0 "$(jq -s '[.[] | select(.latency_ms <= 0)] | length' "$OUT")"
ours=$(jq -r '"\(.qtype) \(.qname)"' "$OUT" | sort)
peer=$(sed -n 's/.* query\[\([A-Z]*\)\] \([^ ]*\) from .*/\1 \2/p' "$DNS_LOG" | sort)
t_eq "dnsmasq's log lists the same queries" "$peer" "$ours"

counted() { [ "$(series ctrwatch_dns_responses_total 'rcode="NXDOMAIN"')" = 2 ]; }
wait_for 5 counted
t_eq "agent: queries_total{container=$NAME,qtype=A}" 2 "$(series ctrwatch_dns_queries_total 'qtype="A"')"
t_eq "agent: responses NOERROR" 2 "$(series ctrwatch_dns_responses_total 'rcode="NOERROR"')"
t_eq "agent: responses NXDOMAIN" 2 "$(series ctrwatch_dns_responses_total 'rcode="NXDOMAIN"')"
t_eq "agent: duration histogram count" 4 "$(series ctrwatch_dns_request_duration_seconds_count)"
t_ok "agent: promtool check metrics" promtool check metrics <<<"$(curl -sf "$URL")"

# The container itself sends the crafted malformed packets, then a normal query.
timeout 30 "$CTW_BIN" exec "$NAME" /t/dns-send "$DNS_SERVER" short loop label name qd0 qd65535 random
timeout 30 "$CTW_BIN" exec "$NAME" nslookup web.example.test "$DNS_SERVER" >/dev/null 2>&1
web_ge() { [ "$(jq -s '[.[] | select(.qname == "web.example.test" and .kind == "answer")] | length' "$DNS_DIR/cli.json")" -ge 2 ]; }
wait_for 5 web_ge
sleep 0.5
t_ok "agent still running" kill -0 "$APID"
t_eq "CLI: the 7 malformed packets from the container" 7 \
	"$(jq -s "[.[] | select(.container == \"$NAME\" and .kind == \"malformed\" and .direction == \"egress\")] | length" "$DNS_DIR/cli.json")"
t_eq "CLI: the normal query right after" '["10.0.0.10"]' \
	"$(jq -c "select(.container == \"$NAME\" and .qname == \"web.example.test\" and .qtype == \"A\") | .answers" "$DNS_DIR/cli.json")"
t_eq "agent: malformed_total = what the CLI saw (both ways)" \
	"$(jq -s "[.[] | select(.container == \"$NAME\" and .kind == \"malformed\")] | length" "$DNS_DIR/cli.json")" \
	"$(series ctrwatch_dns_malformed_total)"
t_eq "agent: queries_total{qtype=A} after them" 3 "$(series ctrwatch_dns_queries_total 'qtype="A"')"

kill -INT "$CPID"
wait "$CPID"
t_eq "CLI exits 0" 0 "$?"

# A container made after `ctrwatch dns` (no CONTAINER: every container)
# and the agent started, whose very first command is a query, and which is
# gone at once: both attached above it, the programs see its first packet
# and the kernel's cgroup stream names it, in both.
FNAME=dnsf$$
ALL=$DNS_DIR/all.json
CTRWATCH_LOG_LEVEL=info "$CTW_BIN" dns --json -d 60 >"$ALL" 2>"$DNS_DIR/all.err" &
APID2=$!
on_exit "kill $APID2 2>/dev/null"
wait_for 10 grep -q 'watching' "$DNS_DIR/all.err"
nsenter --net="/run/netns/$DNS_NS" "$CTW_BIN" run --rm --name "$FNAME" --net host busybox \
	nslookup -type=A first.example.test "$DNS_SERVER" >"$DNS_DIR/first.out" 2>&1
t_match "the new container's first command queried" 'first\.example\.test' "$(cat "$DNS_DIR/first.out")"
first_seen() { [ -n "$(jq -c "select(.container == \"$FNAME\" and .qname == \"first.example.test\")" "$ALL")" ]; }
t_ok "CLI (every container): the first query of a container made later, named" wait_for 5 first_seen
fseries() { curl -sf "$URL" | grep -E "^ctrwatch_dns_queries_total\{container=\"$FNAME\",container_id=\"[0-9a-f]{12}\",qtype=\"A\"\}" | awk '{print $2}'; }
t_ok "agent: the first query of a container made later, counted after its exit" \
	wait_for 5 sh -c "[ \"\$(curl -sf '$URL' | grep -cE '^ctrwatch_dns_queries_total\\{container=\"$FNAME\",')\" -ge 1 ]"
t_eq "agent: queries_total{container=$FNAME,qtype=A}" 1 "$(fseries)"
kill -INT "$APID2"
wait "$APID2"
