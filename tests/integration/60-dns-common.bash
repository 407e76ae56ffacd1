# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Shared by the 6x-dns-*.sh suites (sourced; not a suite itself: run.sh runs
# *.sh only).  Sets up:
#   - a network namespace $DNS_NS (prefix ctwd) with lo up, so that port 53,
#     127.0.0.53 and ::1 are ours alone;
#   - dnsmasq in it, the peer: local records
#       web.example.test   A 10.0.0.10, AAAA fd00::10
#       www.example.test   CNAME web.example.test
#       nope.example.test  NXDOMAIN (the example.test zone is local)
#     on 127.0.0.53, ::1 and $DNS_ROUTED (an address on the netns's lo that
#     bridged containers reach through their gateway when ctrwatch runs in
#     the netns), --log-queries into $DNS_LOG;
#   - a cgroup v2 directory for the "container" (dns_cgroup VAR NAME), below the
#     test's own cgroup, into which in_cg starts processes that also join
#     $DNS_NS (their sockets are the container's: cgroup_skb follows the
#     socket's cgroup, whatever its netns).
#   - dns_send: a small python3 sender of crafted DNS packets.

DNS_NS=ctwd$$
DNS_DIR=$CTW_WORK/dns$$
DNS_LOG=$DNS_DIR/dnsmasq.log
# shellcheck disable=SC2034 # used by the suites that source this
DNS_SERVER=127.0.0.53
DNS_ROUTED=10.253.53.53

dns_v2_mount() {
	if [ -d /sys/fs/cgroup/unified ] && [ -f /sys/fs/cgroup/unified/cgroup.procs ]; then
		echo /sys/fs/cgroup/unified
	else
		echo /sys/fs/cgroup
	fi
}

# dns_cgroup VAR NAME: create NAME below $CTRWATCH_CGROUP_PARENT below our
# own v2 cgroup and put its path in VAR (not echoed: the cleanup must be
# registered in this shell, not in a $(...) subshell).  Removed on exit
# (rmdir: empty by then).
dns_cgroup() {
	local own parent dir
	own=$(sed -n 's/^0:://p' /proc/self/cgroup)
	own=${own%/}
	parent=$(dns_v2_mount)$own/$CTRWATCH_CGROUP_PARENT
	dir=$parent/$2
	if [ ! -d "$parent" ]; then
		mkdir -p "$parent" || return 1
		on_exit "rmdir '$parent'"
	fi
	mkdir "$dir" || return 1
	on_exit "rmdir '$dir'"
	printf -v "$1" '%s' "$dir"
}

# Call directly (not in $(...) or t_ok): it registers cleanups.
dns_setup() {
	mkdir -p "$DNS_DIR"
	ip netns add "$DNS_NS" || return 1
	on_exit "ip netns del '$DNS_NS'"
	ip -n "$DNS_NS" link set lo up || return 1
	ip -n "$DNS_NS" addr add "$DNS_ROUTED/32" dev lo || return 1
	nsenter --net="/run/netns/$DNS_NS" dnsmasq --keep-in-foreground --conf-file=/dev/null \
		--no-resolv --no-hosts --bind-interfaces --listen-address=127.0.0.53,::1,$DNS_ROUTED \
		--port=53 --local=/example.test/ \
		--host-record=web.example.test,10.0.0.10,fd00::10 \
		--cname=www.example.test,web.example.test \
		--log-queries --log-facility="$DNS_LOG" --pid-file="$DNS_DIR/dnsmasq.pid" \
		>"$DNS_DIR/dnsmasq.out" 2>&1 &
	local pid=$!
	on_exit "kill $pid; wait $pid"
	wait_for 5 grep -q 'using only locally-known' "$DNS_LOG" || return 1
	# Answers from here on; the log is the peer's record of what it saw.
	wait_for 5 nsenter --net="/run/netns/$DNS_NS" dig +short +time=1 +tries=1 \
		@127.0.0.53 web.example.test || return 1
	: >"$DNS_LOG"
}

# in_cg CGDIR CMD...: run CMD in the cgroup and the test netns.
in_cg() {
	local cg=$1; shift
	sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec nsenter --net="/run/netns/$0" "$@"' \
		"$DNS_NS" "$cg" "$@"
}

# The crafted packets, one per kind: dns_send SERVER KIND...
#   short loop label name qd0 qd65535 random   malformed
#   query:NAME[:TYPE]                             a valid query (no answer awaited)
dns_send() {
	python3 - "$@" <<'EOF'
import random, socket, struct, sys, time
server, kinds = sys.argv[1], sys.argv[2:]
def hdr(id, qd, flags=0x0100):
    return struct.pack('>HHHHHH', id, flags, qd, 0, 0, 0)
def name(n):
    return b''.join(bytes([len(l)]) + l.encode() for l in n.split('.') if l) + b'\0'
q = struct.pack('>HH', 1, 1)
pk = {
    'short': b'\x12\x34\x01\x00\x00',
    'loop': hdr(0x1001, 1) + b'\xc0\x0c' + q,
    'label': hdr(0x1002, 1) + bytes([64]) + b'a' * 64 + b'\0' + q,
    'name': hdr(0x1003, 1) + (bytes([63]) + b'b' * 63) * 5 + b'\0' + q,
    'qd0': hdr(0x1004, 0),
    'qd65535': hdr(0x1005, 65535) + name('web.example.test') + q,
    # fixed seed: the same 48 bytes every run
    'random': random.Random(7).randbytes(48),
}
fam = socket.AF_INET6 if ':' in server else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
for k in kinds:
    if k.startswith('query:'):
        parts = k.split(':')
        t = {'A': 1, 'AAAA': 28}.get(parts[2] if len(parts) > 2 else 'A', 1)
        p = hdr(0x2000 + len(parts[1]), 1) + name(parts[1]) + struct.pack('>HH', t, 1)
    else:
        p = pk[k]
    s.sendto(p, (server, 53))
    time.sleep(0.05)
EOF
}
