# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Shared by the 8x-network-*.sh suites (sourced after tests/lib.sh).
#
# Nothing here touches the machine's own network namespace: ctrwatch runs
# inside $NH, a namespace that plays the host (its bridge, nftables table
# and ip_forward live there), and $NU is an 'upstream' test host behind
# it.  All names start with ctwn.
#
#   NH  host netns      lo up, 198.18.0.1/24 on ctwn-up (MTU 1400), default
#                       route via 198.18.0.2
#   NU  upstream netns  198.18.0.2/24 on ctwn-down, no route back to the
#                       containers' subnet: replies only work when
#                       masquerade rewrote the source to 198.18.0.1

NET_MTU=1400
UP_HOST=198.18.0.1
UP_PEER=198.18.0.2
NET_PORT_BASE=${NET_PORT_BASE:-19700}

# What must be identical before and after a suite, in the root netns.
# Other suites running at the same time may own links named ctw* (not
# ours: ours are ctwn*/ctwv*/ctrwatch*, and never in the root netns).
root_net_snapshot() {
	{
		ip -o link | sed -E 's/^[0-9]+: //' | grep -vE '^ctw[^nv]' | sed -E 's/ state [A-Z]+//'
		ip -o addr | grep -vE '^[0-9]+: ctw[^nv]'
		ip route | grep -vE ' dev ctw[^nv]'
		nft list tables
		sysctl -n net.ipv4.ip_forward
	} 2>&1
}

net_lib_setup() {
	NH=ctwn-h$$
	NU=ctwn-u$$
	NET_ROOT_BEFORE=$(root_net_snapshot)
	ip netns add "$NH" || return 1
	on_exit "ip netns del $NH"
	ip netns add "$NU" || return 1
	on_exit "ip netns del $NU"
	ip -n "$NH" link set lo up
	ip -n "$NU" link set lo up
	# Created from inside NH: never exists in the root netns, not even briefly.
	ip -n "$NH" link add ctwn-up mtu $NET_MTU type veth peer name ctwn-down mtu $NET_MTU \
		netns "$NU" || return 1
	ip -n "$NH" addr add $UP_HOST/24 dev ctwn-up
	ip -n "$NU" addr add $UP_PEER/24 dev ctwn-down
	ip -n "$NH" link set ctwn-up up
	ip -n "$NU" link set ctwn-down up
	ip -n "$NH" route add default via $UP_PEER
	NH_NS=$(ip netns exec "$NH" readlink /proc/self/ns/net)
}

# Run a command in the host netns.
inh() { nsenter --net="/run/netns/$NH" "$@"; }

# Assert the root netns looks as it did when net_lib_setup ran.
net_root_unchanged() {
	t_eq "root netns: links, addresses, routes, nft tables, ip_forward unchanged" \
		"$NET_ROOT_BEFORE" "$(root_net_snapshot)"
}

# Is pid's netns a fresh one (neither the root's nor NH's)?
_own_netns() {
	local ns
	ns=$(readlink "/proc/$1/ns/net" 2>/dev/null) || return 1
	[ "$(cat "/proc/$1/comm" 2>/dev/null)" = sleep ] && [ "$ns" != "$NH_NS" ] &&
		[ "$ns" != "$(readlink /proc/self/ns/net)" ]
}

# A stand-in container for plumbing tests: a process in its own netns,
# started from NH.  Sets FAKE_PID (not a $(...): on_exit must run here).
fake_ctr() {
	ip netns exec "$NH" unshare -n sleep 600 >/dev/null 2>&1 &
	FAKE_PID=$!
	disown # out of the job table: no `wait`, no "Killed" noise
	on_exit "kill $FAKE_PID"
	wait_for 5 _own_netns "$FAKE_PID"
}

# Inside a process's netns (plus the host's files: busybox, curl).
inctr() { local pid=$1; shift; nsenter -t "$pid" -n "$@"; }

# A web root whose / says TEXT and whose /cgi-bin/ip says the client's
# address (busybox httpd sets REMOTE_ADDR for CGI).  Prints the dir.
_www() {
	local dir
	dir=$(mktemp -d "$CTW_WORK/www.XXXXXX")
	mkdir -p "$dir/cgi-bin"
	printf '%s\n' "$1" >"$dir/index.html"
	# REMOTE_ADDR may come IPv4-mapped: [::ffff:198.18.0.1]
	printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "$REMOTE_ADDR" | sed -E "s/^\\[::ffff:(.*)\\]$/\\1/"\n' \
		>"$dir/cgi-bin/ip"
	chmod +x "$dir/cgi-bin/ip"
	echo "$dir"
}

# busybox httpd serving TEXT on PORT in the netns of PID.
ctr_http() { # PID TEXT PORT
	local dir
	dir=$(_www "$2")
	nsenter -t "$1" -n busybox httpd -f -p "$3" -h "$dir" >/dev/null 2>&1 &
	on_exit "kill $!"
	disown
}

# busybox httpd in the upstream netns on PORT.
upstream_http() { # PORT
	local dir
	dir=$(_www upstream)
	ip netns exec "$NU" busybox httpd -f -p "$1" -h "$dir" >/dev/null 2>&1 &
	on_exit "kill $!"
	disown
	wait_for 5 ip netns exec "$NU" curl -sf -m 1 "http://$UP_PEER:$1/"
}

# Count what the network left in NH: veths of ours, leases, table.
net_leftovers() {
	local links leases table
	links=$(inh ip -o link | grep -c ' ctwv')
	leases=$(inh "$CTW_BIN" network inspect --json | jq '.leases | length')
	table=$(inh nft list tables | grep -c ' ctrwatch$')
	echo "veths=$links leases=$leases table=$table"
}
