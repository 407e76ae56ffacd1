#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctrwatch tcplife over loopback traffic between a server and a client that
# live in two cgroups of our own (each its own "container" to the probe):
# both rows, each with its own cgroup and process, byte counts, a 300 ms
# lifetime, a refused connect, IPv6, and the -L/-D/-4/-6/CONTAINER filters.
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd busybox jq ss

W=$CTW_WORK/tcplife50
mkdir -p "$W"
v2mnt=/sys/fs/cgroup
[ -d /sys/fs/cgroup/unified ] && v2mnt=/sys/fs/cgroup/unified
parent=$(cgroup_dirs "$CTRWATCH_CGROUP_PARENT" | grep "^$v2mnt/" | head -1)
base=$parent/tcplife50
mkdir -p "$base/srv" "$base/cli"
on_exit "rmdir '$base/srv' '$base/cli' '$base'; rmdir '$parent'"
srv_id=$(stat -c %i "$base/srv")
cli_id=$(stat -c %i "$base/cli")

# Applets under their own names, so that comm says which side is which.
ln -sf /bin/busybox "$W/nc"

pids=()
on_exit 'for p in "${pids[@]}"; do kill "$p"; done; wait'

# Run a command in one of our cgroups (the shell moves itself before exec).
in_cg() { # cgroup-dir cmd...
	local cg=$1; shift
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" "$@"
}
# The pid of the process called $2 in cgroup $1.
pid_in_cg() {
	local p
	for p in $(cat "$1/cgroup.procs"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ] && { echo "$p"; return 0; }
	done
	return 1
}

pick_port() { free_port_range "$1" 19299; } # ours: 19200-19299
P=$(pick_port 19200)
P6=$(pick_port $((P + 1)))
CLOSED=$(pick_port $((P6 + 1)))
PR=$(pick_port $((CLOSED + 1)))

# Tracers, all on the same workload: everything, and each filter.
tracer() { # name args...
	local n=$1; shift
	"$CTW_BIN" tcplife "$@" >"$W/$n.out" 2>"$W/$n.err" &
	pids+=($!)
	eval "tr_$n=$!"
}
tracer all --json
tracer lport --json -L "$P"
tracer dport --json -D "$P,$P6"
tracer v6 --json -6
tracer v4 --json -4
tracer srvf --json "$base/srv"
tracer table -w -t -T
tracer conly --json --containers-only
for n in all lport dport v6 v4 srvf table conly; do
	wait_for 10 grep -q Tracing "$W/$n.err" || { t_fail "tracer $n started" true; cat "$W/$n.err"; exit 1; }
done

# 1. The server sends 3000 bytes and receives; the client sends 5000 bytes
#    and waits 300 ms before it closes (its input starts 100 ms late, so that
#    nc is connected before the 300 ms begin).  busybox nc half-closes when its
#    stdin ends and exits when the socket does, so the server's stdin stays
#    open until after the client is gone.
in_cg "$base/srv" sh -c "{ head -c 3000 /dev/zero; sleep 1; } | '$W/nc' -l -p $P >'$W/srv.data'" &
srv_sh=$!
pids+=("$srv_sh")
wait_for 5 sh -c "ss -Htln 'sport = :$P' | grep -q ." || t_fail "server listens" true
srv_pid=$(pid_in_cg "$base/srv" nc)
in_cg "$base/cli" sh -c "{ sleep 0.1; head -c 5000 /dev/zero; sleep 0.3; } | exec '$W/nc' 127.0.0.1 $P >'$W/cli.data'"
wait "$srv_sh" 2>/dev/null

# 2. A connect to a port nobody listens on.
in_cg "$base/cli" "$W/nc" 127.0.0.1 "$CLOSED" </dev/null >/dev/null 2>&1

# 3. IPv6 over ::1, 1000 bytes from the client.
in_cg "$base/srv" sh -c "sleep 1 | '$W/nc' -l -p $P6 >/dev/null" &
srv6_sh=$!
pids+=("$srv6_sh")
wait_for 5 sh -c "ss -Htln 'sport = :$P6' | grep -q ." || t_fail "IPv6 server listens" true
head -c 1000 /dev/zero | in_cg "$base/cli" "$W/nc" ::1 "$P6" >/dev/null
wait "$srv6_sh" 2>/dev/null

# 5. An abortive close (SO_LINGER 0): a reset sent by the client, received
#    by the server.
have_py=false
command -v python3 >/dev/null && have_py=true
if $have_py; then
	in_cg "$base/srv" sh -c "sleep 1 | '$W/nc' -l -p $PR >/dev/null" &
	srvr_sh=$!
	pids+=("$srvr_sh")
	wait_for 5 sh -c "ss -Htln 'sport = :$PR' | grep -q ." || t_fail "RST server listens" true
	in_cg "$base/cli" python3 -c 'import socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"x" * 100)
time.sleep(0.05)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()' "$PR"
	wait "$srvr_sh" 2>/dev/null
fi

# 4. A host process (our own cgroup): not a container.
"$W/nc" 127.0.0.1 "$CLOSED" </dev/null >/dev/null 2>&1

sleep 0.3
for n in all lport dport v6 v4 srvf table conly; do
	eval "kill -INT \$tr_$n"
done
for n in all lport dport v6 v4 srvf table conly; do
	eval "wait \$tr_$n"
	t_eq "tracer $n exits 0 on SIGINT" 0 $?
done

sel() { jq -c "select($2)" "$W/$1.out"; }
field() { printf '%s' "$1" | jq -r ".$2"; }

srv=$(sel all ".sport == $P and .direction == \"passive\"")
cli=$(sel all ".dport == $P and .direction == \"active\"")
t_eq "one server row" 1 "$(printf '%s' "$srv" | grep -c .)"
t_eq "one client row" 1 "$(printf '%s' "$cli" | grep -c .)"
t_eq "server row: server's cgroup" "$srv_id" "$(field "$srv" cgroup_id)"
t_eq "client row: client's cgroup" "$cli_id" "$(field "$cli" cgroup_id)"
t_eq "server row: server's pid" "$srv_pid" "$(field "$srv" pid)"
t_eq "server row: comm" nc "$(field "$srv" comm)"
t_eq "client row: comm" nc "$(field "$cli" comm)"
t_match "client row: another process" '^[0-9]+$' "$(field "$cli" pid)"
t_cmp "client row: pid differs from the server's" "$(field "$cli" pid)" -ne "$srv_pid"
t_eq "server row: established" true "$(field "$srv" established)"
t_eq "client row: established" true "$(field "$cli" established)"
t_eq "server row: addresses" "127.0.0.1 127.0.0.1 4" \
	"$(field "$srv" saddr) $(field "$srv" daddr) $(field "$srv" family)"
t_eq "ports pair up" "$(field "$srv" dport)" "$(field "$cli" sport)"
# Sequence space: payload + 1 (SYN) + 1 (acknowledged FIN) sent, payload + 1 (FIN) received.
t_cmp "client sent 5000 bytes (tx >= 5000)" "$(field "$cli" tx_bytes)" -ge 5000
t_cmp "client sent 5000 bytes (tx <= 5002)" "$(field "$cli" tx_bytes)" -le 5002
t_cmp "client got 3000 bytes (rx >= 3000)" "$(field "$cli" rx_bytes)" -ge 3000
t_cmp "client got 3000 bytes (rx <= 3001)" "$(field "$cli" rx_bytes)" -le 3001
t_cmp "server got 5000 bytes (rx >= 5000)" "$(field "$srv" rx_bytes)" -ge 5000
t_cmp "server got 5000 bytes (rx <= 5001)" "$(field "$srv" rx_bytes)" -le 5001
t_cmp "server sent 3000 bytes (tx >= 3000)" "$(field "$srv" tx_bytes)" -ge 3000
t_cmp "server sent 3000 bytes (tx <= 3002)" "$(field "$srv" tx_bytes)" -le 3002
t_eq "what the server received" 5000 "$(stat -c %s "$W/srv.data")"
t_eq "what the client received" 3000 "$(stat -c %s "$W/cli.data")"
ms=$(field "$cli" duration_ms)
t_cmp "client lived >= 300 ms ($ms)" "${ms%.*}" -ge 300
t_cmp "client lived < 3 s ($ms)" "${ms%.*}" -lt 3000
t_eq "orderly close" "fin fin" "$(field "$cli" close) $(field "$srv" close)"

ref=$(sel all ".dport == $CLOSED and .cgroup_id == $cli_id")
t_eq "refused connect: one row" 1 "$(printf '%s' "$ref" | grep -c .)"
t_eq "refused connect: not established, active, refused" "false active refused 111" \
	"$(field "$ref" established) $(field "$ref" direction) $(field "$ref" close) $(field "$ref" error)"

if $have_py; then
	rc=$(sel all ".dport == $PR and .direction == \"active\"")
	rs=$(sel all ".sport == $PR and .direction == \"passive\"")
	t_eq "abortive close: the client sent a reset" "rst-out 0 $cli_id" \
		"$(field "$rc" close) $(field "$rc" error) $(field "$rc" cgroup_id)"
	t_eq "abortive close: the server got it" "rst-in 104 $srv_id" \
		"$(field "$rs" close) $(field "$rs" error) $(field "$rs" cgroup_id)"
else
	t_skip "abortive close" "needs python3"
fi

s6=$(sel all ".sport == $P6 and .direction == \"passive\"")
c6=$(sel all ".dport == $P6 and .direction == \"active\"")
t_eq "IPv6 server row" "6 ::1 ::1 $srv_id" \
	"$(field "$s6" family) $(field "$s6" saddr) $(field "$s6" daddr) $(field "$s6" cgroup_id)"
t_eq "IPv6 client row" "6 $cli_id" "$(field "$c6" family) $(field "$c6" cgroup_id)"
t_cmp "IPv6 client sent 1000 bytes" "$(field "$c6" tx_bytes)" -ge 1000

# Filters: each tracer saw the same workload.
ports() { jq -r "select(.sport == $P or .dport == $P or .sport == $P6 or .dport == $P6 or .dport == $CLOSED) | \"\(.direction):\(.sport):\(.dport)\"" "$W/$1.out" | sort | tr '\n' ' '; }
t_eq "-L $P: the server row only" "passive:$P:$(field "$srv" dport) " "$(ports lport)"
t_eq "-D $P,$P6: client rows only" \
	"$(printf 'active:%s:%s\n' "$(field "$cli" sport)" "$P" "$(field "$c6" sport)" "$P6" | sort | tr '\n' ' ')" \
	"$(ports dport)"
t_eq "-6: only the IPv6 pair" "$(printf 'active:%s:%s\npassive:%s:%s\n' "$(field "$c6" sport)" "$P6" "$P6" "$(field "$s6" dport)" | sort | tr '\n' ' ')" \
	"$(ports v6)"
t_nomatch "-4: no IPv6 rows" '"family":6' "$(cat "$W/v4.out")"
t_match "-4: IPv4 rows" "\"sport\":$P," "$(cat "$W/v4.out")"
t_eq "CONTAINER filter: only the server cgroup" "$srv_id" \
	"$(jq -r .cgroup_id "$W/srvf.out" | sort -u | tr -d '\n')"
t_eq "CONTAINER filter: the three server rows" "$($have_py && echo 3 || echo 2)" "$(jq -c . "$W/srvf.out" | grep -c .)"
t_nomatch "--containers-only: no host rows" '"container":null' "$(cat "$W/conly.out")"
t_match "table: header" '^TIME +TIME\(s\) +CONTAINER +PID +COMM +LADDR +LPORT +RADDR +RPORT +TX_KB +RX_KB +MS' \
	"$(head -1 "$W/table.out")"
t_match "table: server row" "^[0-9:]{8} +[0-9.]+ +[^ ]+ +$srv_pid +nc +127\.0\.0\.1 +$P +127\.0\.0\.1 +[0-9]+ +2\.9[3-4] +4\.88 +[0-9.]+$" \
	"$(grep -E " $srv_pid +nc " "$W/table.out")"

# Usage errors exit 2.
ctw tcplife -L 0 >/dev/null 2>&1
t_eq "bad port list exits 2" 2 $?
ctw tcplife --bogus >/dev/null 2>&1
t_eq "bad option exits 2" 2 $?
ctw tcplife -d 0.2 /nonexistent/cgroup >/dev/null 2>"$W/nx.err"
t_eq "unknown container exits 1" 1 $?
t_match "unknown container: says so, with the hint" \
	'^ctrwatch: tcplife: no such container: /nonexistent/cgroup \(`ctrwatch containers` lists them\)$' "$(cat "$W/nx.err")"
t_ok "--duration stops by itself" timeout 5 "$CTW_BIN" tcplife -d 0.3
if command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$CTW_BIN" tcplife -d 0.2 >/dev/null 2>"$W/nopriv.err"
	t_eq "unprivileged: exits 1" 1 $?
	t_match "unprivileged: one line saying what it needs" \
		'^ctrwatch: tcplife: needs root, or the capabilities CAP_BPF and CAP_PERFMON \(running as uid 65534\)$' "$(cat "$W/nopriv.err")"
	t_eq "unprivileged: nothing else on stderr" 1 "$(grep -c . "$W/nopriv.err")"
fi
