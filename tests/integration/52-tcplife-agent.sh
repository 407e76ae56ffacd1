#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The agent's tcp module: ctrwatch_tcp_* series for a server and a client
# container (`ctrwatch run --net host`): connections by direction, the
# duration histogram, bytes, the open gauge while a connection is held, a
# failed connect; promtool accepts the page; connections from a cgroup made
# inside a container after discovery count for it; a container without TCP traffic
# has no tcp series (the families' HELP/TYPE are there); the series leave
# with the containers: kept for --exit-grace after the exit, gone within one
# discovery interval more.  The client connects right after it starts,
# before discovery may have seen it: those connections must count too.
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd busybox curl ss promtool

W=$CTW_WORK/tcplife52
mkdir -p "$W"

pick_port() { free_port_range "$1" 19299; } # ours: 19200-19299
P=$(pick_port $((19240 + RANDOM % 40)))
PH=$(pick_port $((P + 1)))     # held open
CLOSED=$(pick_port $((PH + 1)))
AP=$(pick_port $((CLOSED + 1))) # the agent

pids=()
on_exit 'for p in "${pids[@]}"; do kill "$p"; done; wait'

if ! timeout 30 "$CTW_BIN" run --rm --net host busybox true >/dev/null 2>&1; then
	t_skip "containers" "ctrwatch run --net host busybox does not work here"
	exit 0
fi

INTERVAL=1 GRACE=3
"$CTW_BIN" agent --listen "127.0.0.1:$AP" --metrics tcp --discovery-interval ${INTERVAL}s \
	--exit-grace ${GRACE}s >"$W/agent.log" 2>&1 &
agent=$!
pids+=("$agent")
if ! wait_for 20 curl -sf "http://127.0.0.1:$AP/readyz"; then
	t_fail "agent ready" true
	sed 's/^/# /' "$W/agent.log"
	exit 1
fi
t_match "tcp module started" 'module tcp started' "$(cat "$W/agent.log")"

srv=t52srv$$
cli=t52cli$$
idle=t52idle$$
scrape() { curl -sf "http://127.0.0.1:$AP/metrics"; }

# A container that makes no TCP connection: known to the agent, no series.
"$CTW_BIN" run --net host --name "$idle" busybox sleep 15 >/dev/null 2>&1 &
pids+=($!)
wait_for 15 grep -qF "container $idle (" "$W/agent.log" ||
	t_fail "the idle container is discovered" true

"$CTW_BIN" run --net host --name "$srv" busybox sh -c \
	"sleep 8 | nc -l -p $P >/dev/null & sleep 8 | nc -l -p $PH >/dev/null & wait" \
	>/dev/null 2>&1 &
pids+=($!)
wait_for 15 sh -c "ss -Htln 'sport = :$P' | grep -q . && ss -Htln 'sport = :$PH' | grep -q ." ||
	t_fail "server container listens" true

# 4000 bytes and a 300 ms wait; a refused connect; then a connection held
# open for 4 s while we scrape.
"$CTW_BIN" run --net host --name "$cli" busybox sh -c \
	"{ sleep 0.1; head -c 4000 /dev/zero; sleep 0.3; } | nc 127.0.0.1 $P >/dev/null
	 nc 127.0.0.1 $CLOSED </dev/null
	 sleep 4 | nc 127.0.0.1 $PH >/dev/null" >/dev/null 2>&1 &
cli_run=$!
pids+=("$cli_run")

# every series carries container_id, the short id (12 hex) of the container
short_id() { ctw inspect "$1" 2>/dev/null | jq -r '.[0].id // empty' | cut -c1-12; }
wait_for 10 sh -c "[ -n \"\$('$CTW_BIN' inspect '$cli' 2>/dev/null | jq -r '.[0].id // empty')\" ]"
cli_id=$(short_id "$cli") srv_id=$(short_id "$srv")
k_fail="ctrwatch_tcp_connect_failures_total{container=\"$cli\",container_id=\"$cli_id\"}"
k_open_c="ctrwatch_tcp_connections_open{container=\"$cli\",container_id=\"$cli_id\"}"
wait_for 10 sh -c "curl -sf http://127.0.0.1:$AP/metrics | grep -qF '$k_fail 1'" ||
	t_fail "the failed connect shows up" true
wait_for 3 sh -c "curl -sf http://127.0.0.1:$AP/metrics | grep -qF '$k_open_c 1'"
scrape >"$W/metrics.txt"
m() { awk -v k="$1" '$1 == k { print $2 }' "$W/metrics.txt"; }

t_eq "client: 1 active connection closed" 1 "$(m "ctrwatch_tcp_connections_total{container=\"$cli\",container_id=\"$cli_id\",direction=\"active\"}")"
t_eq "server: 1 passive connection closed" 1 "$(m "ctrwatch_tcp_connections_total{container=\"$srv\",container_id=\"$srv_id\",direction=\"passive\"}")"
t_eq "server: no active connection" 0 "$(m "ctrwatch_tcp_connections_total{container=\"$srv\",container_id=\"$srv_id\",direction=\"active\"}")"
t_eq "client: duration histogram count" 1 "$(m "ctrwatch_tcp_connection_duration_seconds_count{container=\"$cli\",container_id=\"$cli_id\",direction=\"active\"}")"
t_eq "client: not under 250 ms" 0 "$(m "ctrwatch_tcp_connection_duration_seconds_bucket{container=\"$cli\",container_id=\"$cli_id\",direction=\"active\",le=\"0.25\"}")"
t_eq "client: within 2.5 s" 1 "$(m "ctrwatch_tcp_connection_duration_seconds_bucket{container=\"$cli\",container_id=\"$cli_id\",direction=\"active\",le=\"2.5\"}")"
sum=$(m "ctrwatch_tcp_connection_duration_seconds_sum{container=\"$cli\",container_id=\"$cli_id\",direction=\"active\"}")
t_ok "client: duration sum >= 0.3 s ($sum)" awk -v s="$sum" 'BEGIN { exit !(s >= 0.3) }'
# Sequence space: payload + SYN + FIN sent, payload + FIN received.
t_match "client: sent 4000 bytes (4000..4002)" '^400[0-2]$' "$(m "ctrwatch_tcp_sent_bytes_total{container=\"$cli\",container_id=\"$cli_id\"}")"
t_match "server: received 4000 bytes (4000..4001)" '^400[01]$' "$(m "ctrwatch_tcp_received_bytes_total{container=\"$srv\",container_id=\"$srv_id\"}")"
t_eq "client: 1 connect failure" 1 "$(m "$k_fail")"
t_eq "server: no connect failure" 0 "$(m "ctrwatch_tcp_connect_failures_total{container=\"$srv\",container_id=\"$srv_id\"}")"
t_eq "client: 1 connection open" 1 "$(m "$k_open_c")"
t_eq "server: 1 connection open" 1 "$(m "ctrwatch_tcp_connections_open{container=\"$srv\",container_id=\"$srv_id\"}")"
t_match "histogram TYPE" '^# TYPE ctrwatch_tcp_connection_duration_seconds histogram$' \
	"$(grep 'TYPE ctrwatch_tcp_connection_duration_seconds' "$W/metrics.txt")"
t_ok "promtool check metrics" sh -c "promtool check metrics <'$W/metrics.txt'"
t_eq "the tcp families and label sets are the ones the tables declare" "" \
	"$(python3 "$CTW_SRC/tests/check-metrics-tables.py" "$CTW_BIN" "$W/metrics.txt" 2>&1)"
t_nomatch "idle container: no tcp series" "container=\"$idle\"" "$(grep '^ctrwatch_tcp_' "$W/metrics.txt")"
for f in connections_total:counter connection_duration_seconds:histogram sent_bytes_total:counter \
	received_bytes_total:counter connections_open:gauge connect_failures_total:counter; do
	t_match "HELP and TYPE of ctrwatch_tcp_${f%%:*}" \
		"# HELP ctrwatch_tcp_${f%%:*} .*# TYPE ctrwatch_tcp_${f%%:*} ${f#*:}" \
		"$(grep -F "ctrwatch_tcp_${f%%:*} " "$W/metrics.txt" | tr '\n' ' ')"
done

wait "$cli_run"
t_eq "client container exit status" 0 $?
t0=$(date +%s%N)
t_match "client series kept during the exit grace" "ctrwatch_tcp_connections_total\\{container=\"$cli\",container_id=\"$cli_id\"" "$(scrape)"
# Gone within one discovery interval plus the grace (and 1.5 s of slack for
# a loaded machine); every series of it, not only some.
gone() { ! curl -sf "http://127.0.0.1:$AP/metrics" | grep -qF "container=\"$cli\""; }
wait_for $((INTERVAL + GRACE + 2)) gone
ms=$((($(date +%s%N) - t0) / 1000000))
t_ok "client series gone ${ms} ms after its exit (<= $((INTERVAL + GRACE))000 + 1500 ms)" \
	test "$ms" -le $(((INTERVAL + GRACE) * 1000 + 1500))
t_nomatch "no series of the client left" "container=\"$cli\"" "$(scrape)"

# A cgroup made inside a known container after discovery saw it: its
# connections are the container's (the module follows rescans).
nid=$(printf 'cc52%012x' $$)
NCG=$(cgroup2_dir "$CTW_RUN_ID-t52/docker-$nid.scope")
on_exit "cgroup_rm_tree '$CTW_RUN_ID-t52'"
mkdir -p "$NCG"
sh -c 'echo $$ >"$1/cgroup.procs"; exec sleep 30' sh "$NCG" &
holder=$!
on_exit "kill $holder 2>/dev/null; wait $holder"
wait_for 10 grep -qF "container ${nid:0:12} (" "$W/agent.log" ||
	t_fail "the Docker-layout container is discovered" true
scans() { scrape | awk '$1 == "ctrwatch_discovery_scans_total" { print $2 }'; }
s0=$(scans)
mkdir "$NCG/sub"
wait_for 5 sh -c "[ \$(curl -sf http://127.0.0.1:$AP/metrics | awk '\$1 == \"ctrwatch_discovery_scans_total\" { print \$2 }') -ge $((s0 + 2)) ]"
PN=$(pick_port $((AP + 1)))
busybox nc -l -p "$PN" >/dev/null &
lis=$!
wait_for 5 sh -c "ss -Htln 'sport = :$PN' | grep -q ."
sh -c 'echo $$ >"$1/cgroup.procs"; echo hi | exec busybox nc 127.0.0.1 "$2"' sh "$NCG/sub" "$PN"
wait "$lis"
k_nested="ctrwatch_tcp_connections_total{container=\"${nid:0:12}\",container_id=\"$nid\",direction=\"active\"}"
wait_for 5 sh -c "curl -sf http://127.0.0.1:$AP/metrics | grep -qF '$k_nested 1'"
t_eq "a connection from a cgroup created in a container later counts for it" 1 \
	"$(scrape | awk -v k="$k_nested" '$1 == k { print $2 }')"
# A burst of 3 000 loopback connections (6 000 records, more than the
# agent's ring buffer holds): the agent keeps up, none is lost.
before=$(scrape | awk -v k="$k_nested" '$1 == k { print $2 }')
sh -c 'echo $$ >"$1/cgroup.procs"; exec python3 -c "
import socket
s = socket.socket(); s.bind((\"127.0.0.1\", 0)); s.listen(512)
for _ in range(3000):
    c = socket.create_connection(s.getsockname()); a, _ = s.accept()
    c.close(); a.close()
"' sh "$NCG/sub"
want=$((before + 3000))
wait_for 10 sh -c "curl -sf http://127.0.0.1:$AP/metrics | grep -qF '$k_nested $want'"
t_eq "a burst of 3000 connections: all counted" "$want" \
	"$(scrape | awk -v k="$k_nested" '$1 == k { print $2 }')"
t_eq "a burst of 3000 connections: no tcp event lost" "" \
	"$(scrape | grep -E '^ctrwatch_events_lost_total\{source="tcp"' | awk '$2 != 0')"
kill "$holder"
wait "$holder" 2>/dev/null || : # killed: 143
