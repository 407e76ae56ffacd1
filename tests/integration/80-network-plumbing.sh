#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Bridge networking on plain processes in their own netns, through
# `ctrwatch network attach/detach/gc` (the calls `run` makes for a
# container): addresses, the bridge, MTU, routes, masquerade to an upstream
# test host, published ports (127.0.0.1, the bridge address, from outside,
# hairpin), the files, parallel allocation, cleanup after 50 runs, gc after
# SIGKILL and from another netns.  Everything happens in test netns; the
# root netns is compared before and after.  Ports 19700-19719.
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd nft jq curl nsenter unshare busybox python3
# shellcheck source=tests/integration/network-lib.bash
. "$(dirname "$0")/network-lib.bash"

if ! net_lib_setup; then
	t_fail "test network namespaces" true
	exit 1
fi

# ---- two containers on the bridge ----
fake_ctr && A=$FAKE_PID
fake_ctr && B=$FAKE_PID
out=$(inh "$CTW_BIN" network attach -p 19700:80 --dns 192.0.2.53 --name alpha \
	--files-dir "$CTW_WORK/files-a" ca "$A" 2>&1)
t_match "attach: address in the default subnet, gateway, host veth" \
	'^172\.30\.[0-9]+\.[0-9]+/16 172\.30\.0\.1 ctwv[0-9a-f]{8}$' "$out"
IPA=${out%%/*}
VETHA=${out##* }
out=$(inh "$CTW_BIN" network attach cb "$B" 2>&1)
IPB=${out%%/*}
t_match "second container gets another address" '^172\.30\.' "$IPB"
t_ok "addresses differ" test "$IPA" != "$IPB"

t_ok "A pings B over the bridge" inctr "$A" busybox ping -c1 -W2 "$IPB"
t_ok "B pings A over the bridge" inctr "$B" busybox ping -c1 -W2 "$IPA"
ctr_http "$B" from-b 8080
wait_for 5 inctr "$B" curl -sf -m1 http://127.0.0.1:8080/
t_eq "A fetches a page from B (TCP over the bridge)" from-b \
	"$(inctr "$A" curl -s -m3 "http://$IPB:8080/")"

# ---- what a container sees ----
t_match "container eth0 has the host's default-route MTU ($NET_MTU)" "mtu $NET_MTU " \
	"$(inctr "$A" ip -o link show eth0)"
t_match "container eth0 is up with its address" "inet $IPA/16" "$(inctr "$A" ip -o addr show eth0)"
t_match "container lo is up" '<LOOPBACK,UP' "$(inctr "$A" ip -o link show lo)"
t_match "container default route via the gateway" '^default via 172\.30\.0\.1 dev eth0' \
	"$(inctr "$A" ip route)"
t_match "host end enslaved to ctrwatch0" 'master ctrwatch0' "$(inh ip -o link show "$VETHA")"
t_match "bridge has the gateway address" 'inet 172\.30\.0\.1/16' \
	"$(inh ip -o addr show ctrwatch0)"
t_eq "ip_forward turned on in the host netns" 1 "$(inh sysctl -n net.ipv4.ip_forward)"
t_eq "route_localnet on the bridge only" "1 0" \
	"$(inh sysctl -n net.ipv4.conf.ctrwatch0.route_localnet) $(inh sysctl -n net.ipv4.conf.ctwn-up.route_localnet)"
t_eq "resolv.conf: --dns replaces the nameservers" "nameserver 192.0.2.53" \
	"$(grep nameserver "$CTW_WORK/files-a/resolv.conf")"
t_match "hosts: own name and address" "$IPA	alpha" "$(cat "$CTW_WORK/files-a/hosts")"
t_eq "hostname" alpha "$(cat "$CTW_WORK/files-a/hostname")"

# ---- masquerade to an upstream host ----
upstream_http 19710
t_eq "container reaches the upstream host, which sees the host's address" "$UP_HOST" \
	"$(inctr "$A" curl -s -m3 "http://$UP_PEER:19710/cgi-bin/ip")"

# ---- published port ----
ctr_http "$A" hello-from-a 80
wait_for 5 inctr "$A" curl -sf -m1 http://127.0.0.1:80/
t_eq "published port via 127.0.0.1:19700" hello-from-a "$(inh curl -s -m3 http://127.0.0.1:19700/)"
t_eq "published port via the bridge address" hello-from-a \
	"$(inh curl -s -m3 http://172.30.0.1:19700/)"
t_eq "published port from the upstream host via the host's address" hello-from-a \
	"$(ip netns exec "$NU" curl -s -m3 "http://$UP_HOST:19700/")"
t_eq "another container reaches it via the gateway (hairpin)" hello-from-a \
	"$(inctr "$B" curl -s -m3 http://172.30.0.1:19700/)"
t_match "the DNAT rule lives in table ip ctrwatch" 'tcp dport 19700 dnat to 172\.30\.[0-9.]+:80' \
	"$(inh nft list table ip ctrwatch)"

# UDP (busybox nc has no -u here: python3 on both ends): a datagram to
# 127.0.0.1:19712 arrives at the container's port 5353.
udp_recv='import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 5353)); s.settimeout(5); print(s.recvfrom(100)[0].decode(), flush=True)'
udp_send='import socket, sys; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"hello-udp", (sys.argv[1], int(sys.argv[2])))'
fake_ctr && U=$FAKE_PID
inh "$CTW_BIN" network attach -p 19712:5353/udp cu "$U" >/dev/null
inctr "$U" python3 -c "$udp_recv" >"$CTW_WORK/udp.out" 2>&1 &
udp_pid=$!
sleep 0.3
inh python3 -c "$udp_send" 127.0.0.1 19712
wait "$udp_pid"
t_eq "published UDP port via 127.0.0.1" hello-udp "$(cat "$CTW_WORK/udp.out")"
inh "$CTW_BIN" network detach cu

# ---- refusals ----
out=$(inh "$CTW_BIN" network attach -p 19700:81 cx "$B" 2>&1)
t_match "a host port published by another container is refused" \
	'publish 19700:81/tcp: already published by container ca' "$out"
nsenter --net="/run/netns/$NH" busybox nc -l -p 19713 >/dev/null 2>&1 &
on_exit "kill $!"
disown
wait_for 3 sh -c "nsenter --net=/run/netns/$NH ss -Htln 'sport = :19713' | grep -q ."
out=$(inh "$CTW_BIN" network attach -p 19713:80 cx "$B" 2>&1)
t_match "a host port a host process listens on is refused" 'in use by a host process' "$out"
t_eq "refusals left no lease behind" 2 \
	"$(inh "$CTW_BIN" network inspect --json | jq '.leases | length')"
t_fail "attach refuses the caller's own netns" inh sh -c '"$0" network attach self $$' "$CTW_BIN"
t_eq "nothing was added to the host netns by the refusal" 0 \
	"$(inh ip -o addr show | grep -c ' eth0 ')"
out=$(CTRWATCH_SUBNET=10.123.0.0/24 inh "$CTW_BIN" network attach cc "$B" 2>&1)
t_match "subnet can't change while containers hold leases" 'can change once they are gone' "$out"
t_fail "an id already leased is refused" inh "$CTW_BIN" network attach ca "$B"

# ---- teardown, gc after SIGKILL ----
t_ok "detach A" inh "$CTW_BIN" network detach ca
t_eq "A's host veth is gone" "" "$(inh ip -o link show "$VETHA" 2>/dev/null)"
t_ok "detach is idempotent" inh "$CTW_BIN" network detach ca
t_match "B still has its rules' table" 'table ip ctrwatch' "$(inh nft list tables)"
kill -9 "$B"
wait_for 5 sh -c "! test -e /proc/$B"
t_eq "gc releases the SIGKILLed container's lease" "released 1 lease" \
	"$(inh "$CTW_BIN" network gc)"
t_eq "nothing left after the last container" "veths=0 leases=0 table=0" "$(net_leftovers)"

# ---- gc from another netns only releases the lease ----
fake_ctr && C=$FAKE_PID
inh "$CTW_BIN" network attach cc "$C" >/dev/null
kill -9 "$C"
wait_for 5 sh -c "! test -e /proc/$C"
t_eq "gc from another netns releases the dead lease" "released 1 lease" \
	"$(ip netns exec "$NU" "$CTW_BIN" network gc)"
t_eq "... without creating anything there" "" \
	"$(ip netns exec "$NU" nft list tables; ip -n "$NU" -o link show ctrwatch0 2>/dev/null)"
inh "$CTW_BIN" network gc >/dev/null
t_eq "gc in the host netns removes the orphaned table" "veths=0 leases=0 table=0" \
	"$(net_leftovers)"

# ---- configured subnet, once nothing holds the old one ----
fake_ctr && D=$FAKE_PID
out=$(CTRWATCH_SUBNET=10.123.0.0/24 inh "$CTW_BIN" network attach cd "$D" 2>&1)
t_match "CTRWATCH_SUBNET applies when the network is free" '^10\.123\.0\.[0-9]+/24 10\.123\.0\.1 ' "$out"
t_eq "the bridge moved to the new gateway" "10.123.0.1/24" \
	"$(inh ip -o -4 addr show ctrwatch0 | awk '{print $4}')"
t_match "inspect shows the subnet in use" '"subnet":"10.123.0.0/24"' \
	"$(inh "$CTW_BIN" network inspect --json)"
inh "$CTW_BIN" network detach cd

# ---- 20 in parallel ----
pids=()
for i in $(seq 1 20); do
	fake_ctr && pids+=("$FAKE_PID")
done
attach_pids=()
for i in $(seq 0 19); do
	inh "$CTW_BIN" network attach "par$i" "${pids[$i]}" >"$CTW_WORK/par.$i" 2>&1 &
	attach_pids+=($!)
done
wait "${attach_pids[@]}"
distinct=$(cat "$CTW_WORK"/par.* | grep -oE '^172\.30\.[0-9.]+' | sort -u | wc -l)
t_eq "20 parallel attaches get 20 distinct addresses" 20 "$distinct"
t_eq "inspect lists 20 leases" 20 "$(inh "$CTW_BIN" network inspect --json | jq '.leases | length')"
last=${pids[19]}
t_ok "the last one pings the first" inctr "$last" busybox ping -c1 -W2 \
	"$(grep -oE '^172\.30\.[0-9.]+' "$CTW_WORK/par.0")"
kill -9 "${pids[@]}"
for p in "${pids[@]}"; do wait_for 5 sh -c "! test -e /proc/$p"; done
t_eq "gc releases all 20" "released 20 leases" "$(inh "$CTW_BIN" network gc)"

# ---- 50 runs leave nothing behind ----
links_before=$(inh ip -o link | wc -l)
ok=0
for i in $(seq 1 50); do
	fake_ctr || continue
	inh "$CTW_BIN" network attach -p 19711:80 "loop$i" "$FAKE_PID" >/dev/null 2>&1 && ok=$((ok + 1))
	if [ $((i % 2)) = 0 ]; then
		inh "$CTW_BIN" network detach "loop$i"
		kill "$FAKE_PID"
	else
		kill -9 "$FAKE_PID"
		wait_for 5 sh -c "! test -e /proc/$FAKE_PID"
		inh "$CTW_BIN" network gc >/dev/null
	fi
done
t_eq "50 attaches succeeded" 50 "$ok"
t_eq "after 50 runs: no veths, leases or nftables table" "veths=0 leases=0 table=0" \
	"$(net_leftovers)"
t_eq "after 50 runs: as many links in the host netns as before" "$links_before" \
	"$(inh ip -o link | wc -l)"

net_root_unchanged
