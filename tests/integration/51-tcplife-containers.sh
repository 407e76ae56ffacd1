#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctrwatch tcplife with real containers (`ctrwatch run --net host`), side by
# side with libbpf-tools tcplife on the same workload:
#   - a server container (busybox httpd serving a 20000-byte file, and an nc
#     listener) and a client container (wget, nc): both rows of every
#     connection, each named after its own container and process;
#   - byte counts match what was sent, a client that waits 300 ms lives
#     >= 300 ms, a connect to a closed port is a failed connect;
#   - the peer sees the same connections with the same byte counts; where it
#     names the client on the server's row (it takes the process in context
#     at close, which on loopback is the client), ctrwatch names httpd in the
#     server container;
#   - a container whose cgroup is removed the moment its one connection
#     closes is named on its row (the kernel's cgroup stream named it at
#     mkdir and keeps the name after it went), not shown as the host.
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd busybox jq ss unshare stdbuf

PEER=
for p in /usr/sbin/tcplife /usr/sbin/bpf-tcplife; do
	[ -x "$p" ] && PEER=$p && break
done

W=$CTW_WORK/tcplife51
mkdir -p "$W/www"
head -c 20000 /dev/urandom >"$W/www/f"

pick_port() { free_port_range "$1" 19299; } # ours: 19200-19299
P=$(pick_port $((19220 + RANDOM % 40)))      # httpd
P2=$(pick_port $((P + 1))) # nc
CLOSED=$(pick_port $((P2 + 1)))
P3=$(pick_port $((CLOSED + 1))) # a host listener for the short-lived one

pids=()
on_exit 'for p in "${pids[@]}"; do kill -INT "$p"; done; sleep 0.2; for p in "${pids[@]}"; do kill "$p"; done; wait'

if ! timeout 30 "$CTW_BIN" run --rm --net host busybox true >/dev/null 2>&1; then
	t_skip "containers" "ctrwatch run --net host busybox does not work here"
	exit 0
fi

srv=t51srv$$
cli=t51cli$$

"$CTW_BIN" tcplife --json >"$W/ct.out" 2>"$W/ct.err" &
ct_pid=$!
pids+=("$ct_pid")
"$CTW_BIN" tcplife --json --containers-only >"$W/conly.out" 2>"$W/conly.err" &
conly_pid=$!
pids+=("$conly_pid")
if [ -n "$PEER" ]; then
	# The peer attaches a tracefs tracepoint: when tracefs is not mounted,
	# give it one in a mount namespace of its own, so nothing is left behind.
	unshare -m --propagation private sh -c \
		'[ -d /sys/kernel/tracing/events ] || mount -t tracefs nodev /sys/kernel/tracing || exit 1
		 exec stdbuf -oL "$0"' "$PEER" \
		>"$W/peer.out" 2>"$W/peer.err" &
	peer_pid=$!
	pids+=("$peer_pid")
fi
wait_for 10 grep -q Tracing "$W/ct.err" || t_fail "ctrwatch tcplife started" true
wait_for 10 grep -q Tracing "$W/conly.err" || t_fail "ctrwatch tcplife --containers-only started" true
[ -n "$PEER" ] && { wait_for 10 grep -q '^PID' "$W/peer.out" || t_fail "peer started" true; }

# The server container: httpd (forks a worker per connection, which closes
# first) and an nc listener that sends 3000 bytes and keeps its input open
# until the client container is done (www/.done; a loaded machine may take
# many seconds to get there).
"$CTW_BIN" run --net host --name "$srv" -v "$W/www:/www:ro" busybox sh -c \
	"timeout 120 httpd -f -p 127.0.0.1:$P -h /www & h=\$!
	 { head -c 3000 /dev/zero; i=0; while [ ! -e /www/.done ] && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i+1)); done; } |
	 nc -l -p $P2 >/tmp/got; wc -c </tmp/got
	 kill \$h; wait" \
	>"$W/srv.stdout" 2>"$W/srv.stderr" &
srv_run=$!
pids+=("$srv_run")
wait_for 15 sh -c "ss -Htln 'sport = :$P' | grep -q . && ss -Htln 'sport = :$P2' | grep -q ." ||
	t_fail "server container listens" true
# Only the server container, by name.
"$CTW_BIN" tcplife --json "$srv" >"$W/byname.out" 2>"$W/byname.err" &
byname_pid=$!
pids+=("$byname_pid")
wait_for 10 grep -q Tracing "$W/byname.err" || t_fail "ctrwatch tcplife $srv started" true
# A host process downloads from the server container too.
busybox wget -q -O /dev/null "http://127.0.0.1:$P/f" || t_fail "host download" true

# The client container: 10 downloads, then 5000 bytes to nc and a 300 ms
# wait before closing (nc's input starts 100 ms late, so that it is
# connected before the wait), then a connect to a closed port.
"$CTW_BIN" run --net host --name "$cli" busybox sh -c \
	"for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O /dev/null http://127.0.0.1:$P/f || exit 1; done
	 { sleep 0.1; head -c 5000 /dev/zero; sleep 0.3; } | nc 127.0.0.1 $P2 | wc -c
	 nc 127.0.0.1 $CLOSED </dev/null; exit 0" >"$W/cli.stdout" 2>"$W/cli.stderr"
t_eq "client container ran" 0 $?
touch "$W/www/.done"

# A container in Docker's layout (named by its short id) that connects
# once and is gone at once: its cgroup removed as soon as its process exits.
# tcplife is stopped meanwhile, so it cannot look at the cgroup while it
# exists: only what the kernel told it (the cgroup stream) can name the row.
sid=$(printf 'ee51%012x' $$)
on_exit "cgroup_rm_tree '$CTW_RUN_ID-t51'"
SCG=$(cgroup2_dir "$CTW_RUN_ID-t51/docker-$sid.scope")
busybox nc -l -p "$P3" >/dev/null &
lis=$!
wait_for 5 sh -c "ss -Htln 'sport = :$P3' | grep -q ."
kill -STOP "$ct_pid"
mkdir -p "$SCG" &&
	sh -c 'echo $$ >"$1/cgroup.procs"; echo hi | exec busybox nc 127.0.0.1 "$2"' sh "$SCG" "$P3"
rmdir "$SCG"
kill -CONT "$ct_pid"
t_ok "the short-lived container's cgroup is gone" test ! -d "$SCG"
wait "$lis"
sleep 0.5
kill -INT "$ct_pid" "$conly_pid" "$byname_pid"
[ -n "$PEER" ] && kill -INT "$peer_pid"
wait "$ct_pid"
t_eq "ctrwatch tcplife exits 0" 0 $?
wait "$conly_pid" "$byname_pid"
[ -n "$PEER" ] && wait "$peer_pid"
wait "$srv_run"

sel() { jq -c "select($1)" "$W/ct.out"; }
count() { printf '%s' "$1" | grep -c .; }

# --- httpd / wget ---
srows=$(sel ".sport == $P and .direction == \"passive\"")
crows=$(sel ".dport == $P and .direction == \"active\" and .container != null")
hrow=$(sel ".dport == $P and .direction == \"active\" and .container == null")
t_eq "11 server rows (10 from the client container, 1 from the host)" 11 "$(count "$srows")"
t_eq "10 client rows" 10 "$(count "$crows")"
t_eq "host download: one client row, no container" 1 "$(count "$hrow")"
t_eq "host download: its server row is the server container's" "$srv httpd" \
	"$(sel ".sport == $P and .dport == $(printf '%s' "$hrow" | jq -r .sport)" | jq -r '"\(.container) \(.comm)"')"
t_eq "server rows: server container, httpd" "$srv httpd" \
	"$(printf '%s\n' "$srows" | jq -r '"\(.container) \(.comm)"' | sort -u)"
t_eq "client rows: client container, wget" "$cli wget" \
	"$(printf '%s\n' "$crows" | jq -r '"\(.container) \(.comm)"' | sort -u)"
t_eq "server rows: 20000 bytes + HTTP headers out" 0 \
	"$(printf '%s\n' "$srows" | jq -r 'select(.tx_bytes < 20000 or .tx_bytes > 20400)' | grep -c .)"
t_eq "client rows: received what the server sent (+1 for its FIN)" "" \
	"$(jq -rs --argjson p "$P" '[.[] | select(.sport == $p or .dport == $p)] as $r |
		$r[] | select(.direction == "passive") | . as $s |
		($r[] | select(.direction == "active" and .sport == $s.dport)) as $c |
		select(($c.rx_bytes - $s.tx_bytes) < -1 or ($c.rx_bytes - $s.tx_bytes) > 1) | .dport' "$W/ct.out")"
server_pids=$(printf '%s\n' "$srows" | jq -r .pid | sort -u)
client_pids=$(printf '%s\n' "$crows" | jq -r .pid | sort -u)
t_eq "server and client processes differ" "" "$(comm -12 <(echo "$server_pids") <(echo "$client_pids"))"

# --- nc: bytes and the 300 ms wait ---
s2=$(sel ".sport == $P2 and .direction == \"passive\"")
c2=$(sel ".dport == $P2 and .direction == \"active\"")
t_eq "nc: server row in the server container" "$srv nc" "$(printf '%s' "$s2" | jq -r '"\(.container) \(.comm)"')"
t_eq "nc: client row in the client container" "$cli nc" "$(printf '%s' "$c2" | jq -r '"\(.container) \(.comm)"')"
t_eq "nc: server received 5000 bytes" 5000 "$(tr -d ' \n' <"$W/srv.stdout")"
t_eq "nc: client received 3000 bytes" 3000 "$(tr -d ' \n' <"$W/cli.stdout")"
# Sequence space: sent = payload + SYN + acknowledged FIN, received = payload + FIN.
t_match "nc: client tx_bytes 5000..5002" '^500[0-2]$' "$(printf '%s' "$c2" | jq -r .tx_bytes)"
t_match "nc: server rx_bytes 5000..5001" '^500[01]$' "$(printf '%s' "$s2" | jq -r .rx_bytes)"
t_match "nc: server tx_bytes 3000..3002" '^300[0-2]$' "$(printf '%s' "$s2" | jq -r .tx_bytes)"
t_match "nc: client rx_bytes 3000..3001" '^300[01]$' "$(printf '%s' "$c2" | jq -r .rx_bytes)"
ms=$(printf '%s' "$c2" | jq -r '.duration_ms | floor')
t_cmp "nc: the client that waited 300 ms lived >= 300 ms ($ms)" "$ms" -ge 300

# --- connect failure ---
f=$(sel ".dport == $CLOSED and .container != null")
t_eq "closed port: a failed connect from the client container" "$cli false active refused" \
	"$(printf '%s' "$f" | jq -r '"\(.container) \(.established) \(.direction) \(.close)"')"

# --- a container gone at once ---
t_eq "short-lived container: its row named by its short id, not the host" "${sid:0:12} busybox" \
	"$(sel ".dport == $P3 and .direction == \"active\"" | jq -r '"\(.container) \(.comm)"')"

# --- filters ---
t_eq "--containers-only: no host rows" "" "$(jq -c 'select(.container == null)' "$W/conly.out")"
t_eq "--containers-only: the containers' rows" "$(jq -c 'select(.container != null) | [.sport, .dport]' "$W/ct.out" | sort)" \
	"$(jq -c '[.sport, .dport]' "$W/conly.out" | sort)"
t_eq "CONTAINER by name: only its rows" "$srv" "$(jq -r .container "$W/byname.out" | sort -u)"
t_eq "CONTAINER by name: 11 httpd + 1 nc rows" 12 "$(grep -c . "$W/byname.out")"

# --- the peer, same workload ---
if [ -z "$PEER" ]; then
	t_skip "peer comparison" "libbpf-tools tcplife not installed"
	exit 0
fi
# "LPORT RPORT TX_KB RX_KB" for our ports, from both tools.
peer_rows() {
	awk -v a="$P" -v b="$P2" -v c="$CLOSED" \
		'$4 == a || $6 == a || $4 == b || $6 == b || $6 == c { print $4, $6, $7, $8 }' \
		"$W/peer.out" | sort
}
ct_rows() {
	jq -r --argjson a "$P" --argjson b "$P2" --argjson c "$CLOSED" \
		'select(.sport == $a or .dport == $a or .sport == $b or .dport == $b or .dport == $c) |
		 "\(.sport) \(.dport) \(.tx_bytes) \(.rx_bytes)"' "$W/ct.out" |
		awk '{ printf "%s %s %.2f %.2f\n", $1, $2, $3 / 1024, $4 / 1024 }' | sort
}
t_eq "peer: same number of connections" "$(ct_rows | wc -l)" "$(peer_rows | wc -l)"
t_eq "peer: same connections, ports and byte counts" "$(peer_rows)" "$(ct_rows)"
# Server-side rows of httpd: who does each tool name?
peer_srv=$(awk -v a="$P" '$4 == a { print $1, $2, $6 }' "$W/peer.out")
wrong=0 checked=0
while read -r ppid pcomm rport; do
	[ -n "$ppid" ] || continue
	[ "$pcomm" = httpd ] && continue
	wrong=$((wrong + 1))
	mine=$(sel ".sport == $P and .dport == $rport" | jq -r '"\(.container) \(.comm)"')
	[ "$mine" = "$srv httpd" ] && checked=$((checked + 1))
done <<<"$peer_srv"
echo "# peer named the client (not httpd) on $wrong of 11 server rows"
t_cmp "peer names another process than httpd on server rows (the case at stake)" "$wrong" -ge 1
t_eq "on those rows ctrwatch names httpd in the server container" "$wrong" "$checked"
