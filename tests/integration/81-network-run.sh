#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `ctrwatch run` networking, run from a netns that plays the host: bridge
# by default, containers reaching each other, masquerade to an upstream
# test host, published ports, --net none/host/container:C, the files in
# /etc, ps/inspect showing the address, 20 parallel runs, 50 runs and a
# SIGKILLed run leaving nothing behind.  The root netns is compared before
# and after.  Ports 19720-19739.
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd nft jq curl nsenter
# shellcheck source=tests/integration/network-lib.bash
. "$(dirname "$0")/network-lib.bash"

if ! net_lib_setup; then
	t_fail "test network namespaces" true
	exit 1
fi
# (busybox 1.35's wget crashes with -T: the timeout comes from outside.)
run() { inh timeout 60 "$CTW_BIN" run "$@"; }
ctw_h() { inh "$CTW_BIN" "$@"; }
rmf() { ctw_h rm -f "$@" >/dev/null 2>&1; }
ctr_ip() { ctw_h inspect "$1" | jq -r '.[0].ip'; }
# HTTP GET with busybox nc (the body's last line), from inside a container.
nc_get() { printf 'printf "GET %s HTTP/1.0\\r\\n\\r\\n" | nc -w 3 %s %s | tail -1' "$3" "$1" "$2"; }

N1=net81a-$$
N2=net81b-$$
on_exit "inh '$CTW_BIN' rm -f $N1 $N2"

# ---- bridge is the built-in default; --subnet picks the pool ----
out=$(env -u CTRWATCH_NET nsenter --net="/run/netns/$NH" timeout 60 "$CTW_BIN" run --rm busybox ip -o -4 addr show eth0 2>&1)
t_match "run without --net or CTRWATCH_NET: on the bridge" 'inet 172\.30\.[0-9]+\.[0-9]+/16' "$out"
out=$(inh timeout 60 "$CTW_BIN" run --rm --net bridge --subnet 10.99.0.0/24 busybox ip -o -4 addr show eth0 2>&1)
t_match "run --subnet: the address comes from that subnet" 'inet 10\.99\.0\.[0-9]+/24' "$out"

# ---- CTRWATCH_NET sets the default ----
out=$(CTRWATCH_NET=bridge inh timeout 60 "$CTW_BIN" run --rm busybox ip -o -4 addr show eth0 2>&1)
t_match "run without --net, CTRWATCH_NET=bridge: on the bridge" 'inet 172\.30\.[0-9]+\.[0-9]+/16' "$out"

# ---- two containers ----
web='mkdir -p /tmp/w && echo "hello-$(hostname)" >/tmp/w/index.html && exec httpd -f -p 80 -h /tmp/w'
run -d --net bridge --name "$N1" -p 19720:80 -p 127.0.0.1:19721:80 busybox sh -c "$web" >/dev/null
run -d --net bridge --name "$N2" --dns 192.0.2.53 busybox sleep 600 >/dev/null
IP1=$(ctr_ip "$N1")
IP2=$(ctr_ip "$N2")
t_match "inspect shows the address (state.json ip)" '^172\.30\.[0-9]+\.[0-9]+$' "$IP1"
t_ok "addresses differ" test -n "$IP2" -a "$IP1" != "$IP2"
t_match "ps shows each container's address" "$IP2 +$N2" "$(ctw_h ps)"
wait_for 10 inh curl -sf -m1 "http://$IP1/"

t_ok "container pings the other by address" run --rm --net bridge busybox ping -c1 -W2 "$IP1"
t_eq "container fetches a page from the other (busybox wget)" "hello-$N1" \
	"$(run --rm --net bridge busybox wget -q -O- "http://$IP1/" 2>&1)"
t_eq "... and with busybox nc" "hello-$N1" \
	"$(run --rm --net bridge busybox sh -c "$(nc_get "$IP1" 80 /)" 2>&1)"

# ---- what a container sees ----
out=$(run --rm --net bridge --name "net81c-$$" busybox sh -c \
	'ip -o link show eth0; ip -o link show lo; ip route; cat /etc/hostname /etc/hosts /etc/resolv.conf' 2>&1)
t_match "eth0 has the host's MTU ($NET_MTU)" "eth0.* mtu $NET_MTU " "$out"
t_match "lo is up" 'lo: <LOOPBACK,UP' "$out"
t_match "default route via the bridge" 'default via 172\.30\.0\.1 dev eth0' "$out"
t_match "/etc/hosts has its own name and address" "172\.30\.[0-9.]+	net81c-$$" "$out"
t_match "/etc/hostname is its name" "^net81c-$$" "$out"
t_eq "/etc/resolv.conf: the host's nameservers" "$(grep '^nameserver' /etc/resolv.conf | grep -v ' 127\.')" \
	"$(printf '%s\n' "$out" | grep '^nameserver')"
t_eq "--dns replaces the nameservers" "nameserver 192.0.2.53" \
	"$(inh timeout 30 "$CTW_BIN" exec "$N2" cat /etc/resolv.conf 2>&1 | grep nameserver)"

# ---- masquerade ----
upstream_http 19730
t_eq "container reaches the upstream host, which sees the host's address" "$UP_HOST" \
	"$(run --rm --net bridge busybox sh -c "$(nc_get $UP_PEER 19730 /cgi-bin/ip)" 2>&1)"

# ---- published ports ----
t_eq "published port via 127.0.0.1" "hello-$N1" "$(inh curl -s -m3 http://127.0.0.1:19720/)"
t_eq "published port via the bridge address" "hello-$N1" "$(inh curl -s -m3 http://172.30.0.1:19720/)"
t_eq "published port from the upstream host" "hello-$N1" \
	"$(ip netns exec "$NU" curl -s -m3 "http://$UP_HOST:19720/")"
t_eq "127.0.0.1-only port via 127.0.0.1" "hello-$N1" "$(inh curl -s -m3 http://127.0.0.1:19721/)"
t_fail "127.0.0.1-only port not from upstream" ip netns exec "$NU" curl -sf -m2 "http://$UP_HOST:19721/"

# ---- other modes ----
t_eq "--net none has only lo" "lo" \
	"$(run --rm --net none busybox sh -c 'ip -o link | cut -d: -f2 | tr -d " "' 2>&1)"
out=$(run --rm --net host busybox ip -o link 2>&1)
t_match "--net host sees the host's interfaces" 'ctwn-up.*ctrwatch0|ctrwatch0.*ctwn-up' "$(echo $out)"
t_match "--net container:C shares C's address" "inet $IP2/16" \
	"$(run --rm --net "container:$N2" busybox ip -o -4 addr show eth0 2>&1)"
t_ok "--net container:C reaches C's loopback" \
	run --rm --net "container:$N1" busybox wget -q -O /dev/null http://127.0.0.1/

# ---- rm releases ----
rmf "$N1"
t_nomatch "rm: its published port's rule is gone" 'dport 19720' "$(inh nft list ruleset)"
t_nomatch "rm: its lease is gone" "$IP1\"" "$(ctw_h network inspect --json)"
rmf "$N2"
t_eq "last container gone: no veths, leases, table" "veths=0 leases=0 table=0" "$(net_leftovers)"

# ---- 20 in parallel ----
pids=()
for i in $(seq 1 20); do
	run -d --net bridge --name "net81p$i-$$" busybox sleep 600 >/dev/null 2>&1 &
	pids+=($!)
done
wait "${pids[@]}"
on_exit "inh '$CTW_BIN' rm -f $(printf "net81p%s-$$ " $(seq 1 20))"
ips=$(for i in $(seq 1 20); do ctr_ip "net81p$i-$$"; done | grep -cE '^172\.30\.' )
t_eq "20 parallel runs are all bridged" 20 "$ips"
t_eq "... with 20 distinct addresses" 20 \
	"$(for i in $(seq 1 20); do ctr_ip "net81p$i-$$"; done | sort -u | grep -c .)"
mapfile -t par_names < <(printf "net81p%s-$$\n" $(seq 1 20))
rmf "${par_names[@]}"
t_eq "after removing them: nothing left" "veths=0 leases=0 table=0" "$(net_leftovers)"

# ---- 50 runs ----
links_before=$(inh ip -o link | wc -l)
ok=0
for i in $(seq 1 50); do
	run --rm --net bridge -p 19722:80 busybox true >/dev/null 2>&1 && ok=$((ok + 1))
done
t_eq "50 bridged runs with a published port succeeded" 50 "$ok"
t_eq "after 50 runs: no veths, leases or nftables table" "veths=0 leases=0 table=0" \
	"$(net_leftovers)"
t_eq "after 50 runs: as many links in the host netns as before" "$links_before" \
	"$(inh ip -o link | wc -l)"

# ---- a SIGKILLed run, then gc ----
# nsenter execs ctrwatch: $! is the runtime itself.
nsenter --net="/run/netns/$NH" "$CTW_BIN" run --net bridge -p 19723:80 --name "net81k-$$" \
	busybox sleep 600 >/dev/null 2>&1 &
rpid=$!
disown
on_exit "inh '$CTW_BIN' rm -f net81k-$$"
# Killed once it runs (its setup done: lease and rules in place); a kill
# between the lease and the rules leaves a set-up half for gc, not this.
set_up() { [ "$(net_leftovers)" = "veths=1 leases=1 table=1" ]; }
wait_for 10 set_up
kill -9 "$rpid"
wait_for 5 sh -c "! test -e /proc/$rpid"
# The container dies with its runtime; whether its network is released at
# once (the runtime's clone helper outlives it) or left for gc depends on
# timing.  Either way nothing may stay half-released: a release under way
# (table gone, lease not yet) must end within seconds.
settled() { [[ $(net_leftovers) =~ ^veths=[01]\ leases=(0\ table=0|1\ table=1)$ ]]; }
wait_for 5 settled
t_match "after SIGKILL: network released whole or left whole for gc" \
	'^veths=[01] leases=(0 table=0|1 table=1)$' "$(net_leftovers)"
ctw_h gc >/dev/null 2>&1
t_eq "gc after a SIGKILLed run: no veths, leases or table" "veths=0 leases=0 table=0" \
	"$(net_leftovers)"

net_root_unchanged
