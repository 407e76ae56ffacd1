#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The agent's DNS metrics for a (fake Docker) container whose processes ask a
# real resolver (dnsmasq in a test netns): queries by qtype, responses by
# rcode, the latency histogram, timeouts, malformed packets (the agent keeps
# running and a normal query right after still counts), per-name series only
# behind dns_names and capped; promtool-clean; no series before the
# container's first DNS exchange; the container's series go when it does:
# kept for --exit-grace, gone within one discovery interval more (a fake
# container whose cgroup is removed, and a real `ctrwatch run --net host`
# container that resolves a name and exits).
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd dnsmasq gcc jq curl promtool nsenter busybox
# shellcheck source=tests/integration/60-dns-common.bash
. "$(dirname "$0")/60-dns-common.bash"

dns_setup
t_eq "dnsmasq up in netns $DNS_NS" 0 "$?"
dns_build_sender
t_eq "the crafted-packet sender builds" 0 "$?"
# A Docker-style cgroup: discovery names it by its short id.
ID=$(printf 'dd5%013x' $$)
NAME=${ID:0:12}
dns_cgroup CG "docker-$ID.scope" || { t_fail "create test cgroup" true; exit 1; }

PORT=
for p in $(seq 19300 19399); do
	if ! ss -Htln "sport = :$p" | grep -q .; then PORT=$p; break; fi
done
[ -n "$PORT" ] || { t_fail "a free port in 19300-19399" true; exit 1; }
URL=http://127.0.0.1:$PORT/metrics

INTERVAL=1 GRACE=2
"$CTW_BIN" agent --listen "127.0.0.1:$PORT" --metrics dns --discovery-interval ${INTERVAL}s \
	--exit-grace ${GRACE}s --dns-timeout 1s --dns-names true --dns-names-max 3 >"$DNS_DIR/agent.log" 2>&1 &
APID=$!
on_exit "kill $APID 2>/dev/null; wait $APID"
series() { curl -sf "$URL" | grep -E "^$1\{container=\"$NAME\",container_id=\"$ID\"${2:+,$2}\}" | awk '{print $2}'; }
dns_series() { curl -sf "$URL" | grep -c "^ctrwatch_dns_.*container=\"$1\""; }
wait_for 15 grep -qF "container $NAME (" "$DNS_DIR/agent.log"
t_ok "the container is discovered (and the probe attached)" \
	grep -qF "container $NAME (" "$DNS_DIR/agent.log"
t_eq "no DNS series before its first DNS exchange" 0 "$(dns_series "$NAME")"

# The CLI watches alongside, to count what the agent should have counted.
CTRWATCH_LOG_LEVEL=info "$CTW_BIN" dns --json -d 60 "$CG" >"$DNS_DIR/cli.json" 2>"$DNS_DIR/cli.err" &
CPID=$!
on_exit "kill $CPID 2>/dev/null"
wait_for 20 dns_watching "$DNS_DIR/cli.err"

in_cg "$CG" busybox nslookup www.example.test "$DNS_SERVER" >/dev/null 2>&1
in_cg "$CG" busybox nslookup nope.example.test "$DNS_SERVER" >/dev/null 2>&1
in_cg "$CG" "$DNS_SEND" "$DNS_SERVER" short loop label name qd0 qd65535 random
t_ok "agent still running after the malformed packets" kill -0 "$APID"
in_cg "$CG" busybox nslookup web.example.test "$DNS_SERVER" >/dev/null 2>&1
in_cg "$CG" "$DNS_SEND" 127.0.0.54 query:lost.example.test
timed_out() { [ "$(series ctrwatch_dns_timeouts_total)" = 1 ]; }
wait_for 10 timed_out

t_eq "queries_total{qtype=A}: www, nope, web, lost" 4 "$(series ctrwatch_dns_queries_total 'qtype="A"')"
t_eq "queries_total{qtype=AAAA}: www, nope, web" 3 "$(series ctrwatch_dns_queries_total 'qtype="AAAA"')"
t_eq "responses_total{rcode=NOERROR}" 4 "$(series ctrwatch_dns_responses_total 'rcode="NOERROR"')"
t_eq "responses_total{rcode=NXDOMAIN}" 2 "$(series ctrwatch_dns_responses_total 'rcode="NXDOMAIN"')"
t_eq "request_duration_seconds_count = answered queries" 6 \
	"$(series ctrwatch_dns_request_duration_seconds_count)"
t_eq "histogram +Inf bucket = count" 6 \
	"$(series ctrwatch_dns_request_duration_seconds_bucket 'le="\+Inf"')"
t_ok "request_duration_seconds_sum > 0" awk -v s="$(series ctrwatch_dns_request_duration_seconds_sum)" \
	'BEGIN { exit !(s > 0) }'
t_eq "timeouts_total: the query nobody answered" 1 "$(series ctrwatch_dns_timeouts_total)"
sleep 0.3
cli_mal=$(jq -s '[.[] | select(.kind == "malformed")] | length' "$DNS_DIR/cli.json")
cli_mal_out=$(jq -s '[.[] | select(.kind == "malformed" and .direction == "egress")] | length' "$DNS_DIR/cli.json")
t_eq "the 7 malformed packets sent were seen leaving" 7 "$cli_mal_out"
t_eq "malformed_total = malformed packets both ways (as ctrwatch dns saw them)" "$cli_mal" \
	"$(series ctrwatch_dns_malformed_total)"
t_eq "the normal query after them counted (web A NOERROR in the CLI too)" 1 \
	"$(jq -s '[.[] | select(.kind == "answer" and .qname == "web.example.test" and .qtype == "A")] | length' "$DNS_DIR/cli.json")"

names=$(curl -sf "$URL" | grep "^ctrwatch_dns_name_queries_total{container=\"$NAME\"")
t_eq "dns_names_max 3: three names kept" 3 \
	"$(grep -v 'qname="_other"' <<<"$names" | sed 's/.*qname="\([^"]*\)".*/\1/' | sort -u | grep -c .)"
t_match "the rest counted as _other" 'qname="_other",qtype="A"\} 1' "$names"

body=$(curl -sf "$URL")
t_ok "promtool check metrics is clean" promtool check metrics <<<"$body"
printf '%s\n' "$body" >"$CTW_WORK/scrape61.txt"
t_eq "the dns families and label sets (dns_names on) are the ones the tables declare" "" \
	"$(python3 "$CTW_SRC/tests/check-metrics-tables.py" "$CTW_BIN" "$CTW_WORK/scrape61.txt" 2>&1)"
for f in queries_total responses_total request_duration_seconds timeouts_total malformed_total; do
	t_match "HELP and TYPE for ctrwatch_dns_$f" "# TYPE ctrwatch_dns_$f (counter|histogram)" "$body"
done

# A burst of 1 500 queries (more records than the agent's ring buffer
# holds): the agent keeps up, none is lost.
qa=$(series ctrwatch_dns_queries_total 'qtype="A"')
burst=()
for i in $(seq 1500); do burst+=("query:b$i.example.test"); done
DNS_SEND_GAP_US=0 in_cg "$CG" "$DNS_SEND" 127.0.0.54 "${burst[@]}"
want=$((qa + 1500))
burst_counted() { [ "$(series ctrwatch_dns_queries_total 'qtype="A"')" = "$want" ]; }
wait_for 10 burst_counted
t_eq "a burst of 1500 queries: all counted" "$want" "$(series ctrwatch_dns_queries_total 'qtype="A"')"
t_eq "a burst of 1500 queries: no dns event lost" "" \
	"$(curl -sf "$URL" | grep -E '^ctrwatch_events_lost_total\{source="dns"' | awk '$2 != 0')"

# The container goes: its series go (one discovery interval + grace).
kill -INT "$CPID"
wait "$CPID"
rmdir "$CG"
t0=$(date +%s%N)
t_ok "series kept during the exit grace" test "$(dns_series "$NAME")" -gt 0
gone() { ! curl -sf "$URL" | grep -q "container=\"$1\""; }
# within one discovery interval plus the grace (and 1.5 s of slack)
gone_in_time() { # NAME T0 WHAT
	wait_for $((INTERVAL + GRACE + 2)) gone "$1"
	local ms=$((($(date +%s%N) - $2) / 1000000))
	t_ok "$3: series gone ${ms} ms after (<= $((INTERVAL + GRACE))000 + 1500 ms)" \
		test "$ms" -le $(((INTERVAL + GRACE) * 1000 + 1500))
	t_ok "$3: no series of it left" gone "$1"
}
gone_in_time "$NAME" "$t0" "fake container removed"

# A real container (host network of the test netns) resolves a name and
# exits; queried three times, a second apart, so discovery has attached
# the probe by the later ones.
RUN=t61run$$
on_exit "cgroup_rm_tree '$CTRWATCH_CGROUP_PARENT'"
nsenter --net="/run/netns/$DNS_NS" "$CTW_BIN" run --rm --name "$RUN" --net host busybox sh -c \
	"for i in 1 2 3; do sleep 1; nslookup -type=A web.example.test $DNS_SERVER; done" \
	>"$DNS_DIR/run.out" 2>&1 &
RPID=$!
on_exit "kill $RPID 2>/dev/null"
run_counted() { [ "$(dns_series "$RUN")" -gt 0 ]; }
wait_for 10 run_counted
wait "$RPID"
rc=$?
t0=$(date +%s%N)
if [ "$rc" -ne 0 ] && ! run_counted; then
	t_skip "ctrwatch run --net host busybox" "$(tail -1 "$DNS_DIR/run.out")"
else
	t_eq "real container exits 0" 0 "$rc"
	q=$(curl -sf "$URL" | awk -v k="ctrwatch_dns_queries_total{container=\"$RUN\",qtype=\"A\"}" \
		'{ key = $1; sub(/,container_id="[0-9a-f]+"/, "", key) } key == k {print $2}')
	t_ok "real container: its A queries counted ($q of 3), kept during the grace" \
		test "${q:-0}" -ge 1 -a "${q:-0}" -le 3
	gone_in_time "$RUN" "$t0" "real container exited"
fi
kill -TERM "$APID"
wait "$APID"
t_eq "agent exits 0 on SIGTERM" 0 "$?"
