# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Shared by the 7x-policy-*.sh suites: a sender and a receiver network
# namespace joined by a veth pair (names ctwp*), and a small traffic tool.
#
#   pol_netns_setup [RX_IFNAME]    creates $PS (sender ns), $PR (receiver ns),
#                                  $SIF (sender veth), $RIF (receiver veth)
#   pt ARGS...                     the traffic tool (python3), see below
#   in_s / in_r CMD...             run in the sender / receiver namespace
#   in_r_net CMD...                receiver netns only (keeps /sys/fs/bpf)

_pol_id=$(($$ % 100000))
PS=ctwp-s$_pol_id
PR=ctwp-r$_pol_id
SIF=ctwp${_pol_id}s
RIF=ctwp${_pol_id}r
PT=$CTW_WORK/ctwp-pt.py

# `pt` as the first word runs the traffic tool.
in_s() {
	[ "$1" = pt ] && { shift; set -- /usr/bin/python3 "$PT" "$@"; }
	ip netns exec "$PS" "$@"
}
in_r() {
	[ "$1" = pt ] && { shift; set -- /usr/bin/python3 "$PT" "$@"; }
	ip netns exec "$PR" "$@"
}
# `ip netns exec` remounts /sys, hiding bpffs: enter only the network.
in_r_net() { nsenter --net="/run/netns/$PR" "$@"; }

pol_netns_setup() { # [receiver ifname]
	local rxname=${1:-$RIF}
	RIF=$rxname
	ip netns add "$PS" || return 1
	on_exit "ip netns del $PS"
	ip netns add "$PR" || return 1
	on_exit "ip netns del $PR"
	ip link add "$SIF" netns "$PS" type veth peer name "ctwp${_pol_id}t" netns "$PR" || return 1
	ip -n "$PR" link set "ctwp${_pol_id}t" name "$rxname" || return 1
	ip -n "$PS" link set "$SIF" up
	ip -n "$PR" link set "$RIF" up
	ip -n "$PS" link set lo up
	ip -n "$PR" link set lo up
	# Native XDP on the receiving veth; GRO lets XDP_TX'ed frames in too.
	ip netns exec "$PR" ethtool -K "$RIF" gro on >/dev/null 2>&1 || true
	local a
	for a in 10.94.1.1/24 10.94.2.1/24 10.94.2.5/24 203.0.113.7/24; do
		ip -n "$PS" addr add "$a" dev "$SIF"
	done
	for a in 10.94.1.2/24 10.94.2.2/24 203.0.113.2/24; do
		ip -n "$PR" addr add "$a" dev "$RIF"
	done
	ip -n "$PS" addr add fd00:94::1/64 dev "$SIF" nodad
	ip -n "$PS" addr add 2001:db8:94::1/64 dev "$SIF" nodad
	ip -n "$PR" addr add fd00:94::2/64 dev "$RIF" nodad
	ip -n "$PR" addr add 2001:db8:94::2/64 dev "$RIF" nodad
	pt_write
}

pt_write() {
	cat >"$PT" <<'EOF'
import socket, sys, time
def fam(a):
    return socket.AF_INET6 if ':' in a else socket.AF_INET
cmd = sys.argv[1]
if cmd == 'udp':  # udp SRC DST DPORT COUNT [SPORT]
    src, dst, dport, count = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    sport = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    s = socket.socket(fam(dst), socket.SOCK_DGRAM)
    s.bind((src, sport))
    for i in range(count):
        s.sendto(b'ctwp' * 8, (dst, dport))
        if i % 50 == 49:
            time.sleep(0.002)
elif cmd == 'tcp':  # tcp SRC DST PORT: prints open / refused / timeout
    src, dst, port = sys.argv[2], sys.argv[3], int(sys.argv[4])
    s = socket.socket(fam(dst), socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(0.8)
    try:
        s.connect((dst, port))
        print('open')
    except ConnectionRefusedError:
        print('refused')
    except (socket.timeout, TimeoutError):
        print('timeout')
    except OSError as e:
        print('error %s' % e)
elif cmd == 'vlan':  # vlan IFNAME DSTMAC VID SRC DST DPORT COUNT: tagged UDP frames
    import struct
    ifn, dmac, vid, src, dst = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
    dport, count = int(sys.argv[7]), int(sys.argv[8])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifn, 0))
    smac = s.getsockname()[4]
    payload = b'ctwp' * 8
    udp = struct.pack('!HHHH', 40000, dport, 8 + len(payload), 0) + payload
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    c = sum(struct.unpack('!10H', ip))
    c = (c & 0xffff) + (c >> 16); c = (c & 0xffff) + (c >> 16)
    ip = ip[:10] + struct.pack('!H', ~c & 0xffff) + ip[12:]
    frame = bytes.fromhex(dmac.replace(':', '')) + smac + struct.pack('!HHH', 0x8100, vid, 0x0800) + ip + udp
    for i in range(count):
        s.send(frame)
elif cmd == 'dns':  # dns ADDR PORT [LOG [NAME=IP/TTL,...]]: answer A queries (default 192.0.2.1)
    import struct
    s = socket.socket(fam(sys.argv[2]), socket.SOCK_DGRAM)
    s.bind((sys.argv[2], int(sys.argv[3])))
    log = open(sys.argv[4], 'a') if len(sys.argv) > 4 else None
    table = {}
    for item in (sys.argv[5].split(',') if len(sys.argv) > 5 else []):
        name, rest = item.split('=')
        ip, ttl = rest.split('/')
        table[name] = (ip, int(ttl))
    while True:
        q, peer = s.recvfrom(2048)
        if len(q) < 17:
            continue
        i, labels = 12, []
        while i < len(q) and q[i]:
            labels.append(q[i + 1:i + 1 + q[i]].decode('ascii', 'replace'))
            i += 1 + q[i]
        qend = i + 5
        if log:
            log.write('.'.join(labels) + '\n'); log.flush()
        hdr = q[:2] + struct.pack('!HHHHH', 0x8180, 1, 1, 0, 0)
        ip, ttl = table.get('.'.join(labels).lower(), ('192.0.2.1', 60))
        ans = struct.pack('!HHIH', 1, 1, ttl, 4) + socket.inet_aton(ip)
        ans = struct.pack('!H', 0xc00c) + ans
        s.sendto(hdr + q[12:qend] + ans, peer)
elif cmd == 'recv':  # recv ADDR PORT SECONDS: count datagrams for SECONDS
    addr, port, secs = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    s = socket.socket(fam(addr), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((addr, port))
    open(sys.argv[5], 'w').write('ready\n') if len(sys.argv) > 5 else None
    n, end = 0, time.time() + secs
    while time.time() < end:
        s.settimeout(max(0.01, end - time.time()))
        try:
            s.recv(2048)
            n += 1
        except (socket.timeout, TimeoutError):
            break
    print(n)
EOF
}

pt() { /usr/bin/python3 "$PT" "$@"; }

# Count UDP datagrams that reach the receiver while `sender...` runs:
#   udp_through PORT BIND_ADDR -- sender command...
udp_through() {
	local port=$1 bind=$2 out ready
	shift 3
	out=$(mktemp "$CTW_WORK/rx.XXXXXX")
	ready=$out.ready
	in_r /usr/bin/python3 "$PT" recv "$bind" "$port" 2 "$ready" >"$out" &
	local pid=$!
	wait_for 3 test -s "$ready"
	"$@" >/dev/null 2>&1
	wait "$pid"
	cat "$out"
	rm -f "$out" "$ready"
}

# Sum of a rule's packets in `policy stats --json`.
rule_packets() { # rule-name [scope]
	ctw policy stats --json | jq -r --arg r "$1" --arg s "${2:-}" \
		'[.[] | select(.rule == $r and ($s == "" or .scope == $s)) | .packets] | add // 0'
}
