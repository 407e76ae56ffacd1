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
#   - $DNS_SEND: a small static sender of crafted DNS packets (dns_build_sender).

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
	# agents and `ctrwatch dns` (every container) attach here, above the
	# test's containers and its `ctrwatch run` ones
	export CTRWATCH_DNS_CGROUP=$parent
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

# dns_watching ERRFILE [N]: the CLI (run with CTRWATCH_LOG_LEVEL=info) said it
# is watching (N cgroups, default 1).  Its links are attached by then; what
# bpftool lists may still include links of a watcher that just exited (the
# kernel releases them asynchronously), so it is no proof.
dns_watching() { [ "$(grep -c 'dns: watching' "$1" 2>/dev/null)" -ge "${2:-1}" ]; }

# in_cg CGDIR CMD...: run CMD in the cgroup and the test netns.
in_cg() {
	local cg=$1; shift
	sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec nsenter --net="/run/netns/$0" "$@"' \
		"$DNS_NS" "$cg" "$@"
}

# The crafted packets: a small static C sender, built once per suite into
# $DNS_DIR (static: it also runs inside a busybox container).
#   $DNS_SEND SERVER KIND...
#   short loop label name qd0 qd65535 random   malformed, one packet each
#   query:NAME[:AAAA]                             a valid query (no answer awaited)
# 50 ms apart; DNS_SEND_GAP_US=N sets the gap (0: a burst).
DNS_SEND=$DNS_DIR/dns-send
dns_build_sender() {
	mkdir -p "$DNS_DIR"
	gcc -std=gnu11 -O1 -Wall -Werror -static -o "$DNS_SEND" -x c - <<'CSRC'
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static unsigned char pkt[512];
static size_t n;

static void put(const void *d, size_t l)
{
	memcpy(pkt + n, d, l);
	n += l;
}

static void put16(unsigned v)
{
	unsigned char b[2] = { v >> 8, v & 0xff };
	put(b, 2);
}

static void hdr(unsigned id, unsigned qd)
{
	n = 0;
	put16(id);
	put16(0x0100);
	put16(qd);
	put16(0);
	put16(0);
	put16(0);
}

static void name(const char *s)
{
	while (*s) {
		size_t l = strcspn(s, ".");
		unsigned char c = l;
		put(&c, 1);
		put(s, l);
		s += l;
		if (*s)
			s++;
	}
	put("", 1);
}

static void q(unsigned type)
{
	put16(type);
	put16(1);
}

static void fill(unsigned char c, int count)
{
	while (count-- > 0)
		put(&c, 1);
}

int main(int argc, char **argv)
{
	const char *g = getenv("DNS_SEND_GAP_US");
	unsigned gap = g ? (unsigned)atoi(g) : 50000;
	/* 48 fixed "random" bytes (Python's random.Random(7).randbytes(48)) */
	static const unsigned char rnd[48] = {
		0x38, 0xb4, 0xe6, 0x52, 0xe4, 0x4d, 0xa7, 0xf2, 0x37, 0x0d, 0x9e, 0x26,
		0x0e, 0x27, 0x13, 0x65, 0x50, 0xa4, 0xa3, 0xa6, 0xd0, 0x7f, 0x5c, 0x0c,
		0x33, 0x2f, 0x8b, 0x12, 0x24, 0x08, 0x3f, 0xd2, 0x2b, 0x90, 0x2f, 0x89,
		0x11, 0xe8, 0x18, 0x18, 0xf8, 0xc9, 0x9d, 0x5d, 0x5d, 0x98, 0x31, 0x95,
	};
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(53) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(53) };
	int v6, fd;

	if (argc < 3)
		return 2;
	v6 = strchr(argv[1], ':') != NULL;
	if (v6 ? inet_pton(AF_INET6, argv[1], &a6.sin6_addr) != 1
	       : inet_pton(AF_INET, argv[1], &a4.sin_addr) != 1)
		return 2;
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return 1;
	for (int i = 2; i < argc; i++) {
		const char *k = argv[i];
		if (!strcmp(k, "short")) { /* a truncated header */
			n = 0;
			put("\x12\x34\x01\x00\x00", 5);
		} else if (!strcmp(k, "loop")) { /* a pointer to itself */
			hdr(0x1001, 1);
			put("\xc0\x0c", 2);
			q(1);
		} else if (!strcmp(k, "label")) { /* a 64-byte label */
			hdr(0x1002, 1);
			fill(64, 1);
			fill('a', 64);
			fill(0, 1);
			q(1);
		} else if (!strcmp(k, "name")) { /* 5 x 63: 321 bytes */
			hdr(0x1003, 1);
			for (int j = 0; j < 5; j++) {
				fill(63, 1);
				fill('b', 63);
			}
			fill(0, 1);
			q(1);
		} else if (!strcmp(k, "qd0")) {
			hdr(0x1004, 0);
		} else if (!strcmp(k, "qd65535")) {
			hdr(0x1005, 65535);
			name("web.example.test");
			q(1);
		} else if (!strcmp(k, "random")) {
			n = 0;
			put(rnd, sizeof(rnd));
		} else if (!strncmp(k, "query:", 6)) {
			char nm[256], *t;
			unsigned type = 1;
			snprintf(nm, sizeof(nm), "%s", k + 6);
			t = strchr(nm, ':');
			if (t) {
				*t++ = '\0';
				type = strcmp(t, "AAAA") ? 1 : 28;
			}
			hdr(0x2000 + strlen(nm), 1);
			name(nm);
			q(type);
		} else {
			fprintf(stderr, "dns-send: unknown kind %s\n", k);
			return 2;
		}
		if (sendto(fd, pkt, n, 0, v6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a4,
			   v6 ? sizeof(a6) : sizeof(a4)) < 0)
			return 1;
		if (gap)
			usleep(gap);
	}
	return 0;
}
CSRC
}
