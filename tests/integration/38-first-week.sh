#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The rough edges a first week with ctrwatch found (issue 18), each kept
# fixed:
#   - `agent --check` refuses what a start refuses (listen address, syscall
#     set, module settings, TLS files), with the same message, and a start
#     refuses it before anything is loaded;
#   - a port in use is the agent's one error line, before any module loads;
#   - not root: agent, trace, tcplife, dns, probe and ps say in one line what
#     they need (root or the capabilities) and exit 1; root without the
#     capabilities is told which are missing;
#   - the counters whose labels are known in advance are there at 0 from
#     the first scrape (events and losses of every module with a ring
#     buffer, policy reload errors);
#   - `policy show/stats --json` print JSON also when there is no policy;
#   - a container name nothing matches: one message and the hint in every
#     command that takes one.
# (import's RepoTags and ref names: suite 20; dns --served: suite 60.)
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd setpriv python3 curl ss
# shellcheck source=tests/integration/agent-lib.bash
. "$(dirname "$0")/agent-lib.bash"
# shellcheck source=tests/integration/60-dns-common.bash
. "$(dirname "$0")/60-dns-common.bash"

W=$CTW_WORK/first-week-$$
mkdir -p "$W"
on_exit "rm -rf '$W'"
# A state dir of our own, root's only, as /run/ctrwatch is.
export CTRWATCH_STATE=$W/state
mkdir -m 0700 "$CTRWATCH_STATE"

# ---- agent --check: one validation for --check and a start ----
printf 'listen: 19775\n' >"$W/bad.yaml"
bads=("--listen 127.0.0.1:99999" "--listen 19775" "--syscalls top:abc" "--syscalls list:read,nosuchcall"
	"--set dns_timeout=abc" "--dns-names-max 0" "--set bpf_stats=maybe"
	"--tls-cert /nonexistent.pem --tls-key /nonexistent.key" "--config $W/bad.yaml")
for bad in "${bads[@]}"; do
	# shellcheck disable=SC2086 # the words of $bad are the options
	chk=$(ctw agent --check $bad 2>&1)
	crc=$?
	# shellcheck disable=SC2086
	run=$(timeout 30 "$CTW_BIN" agent -v $bad 2>&1)
	rrc=$?
	t_eq "--check $bad: refused (exit 1)" "1 ctrwatch: agent:" "$crc $(head -c 16 <<<"$chk")"
	t_eq "  ... a start: exit 1, the same message, nothing loaded first" "1 $chk" "$rrc $run"
done
t_match "--check names the listen address and the form" \
	"listen address '127.0.0.1:99999': expected ADDR:PORT, :PORT or \\[V6\\]:PORT \\(port 0-65535\\)" \
	"$(ctw agent --check --listen 127.0.0.1:99999 2>&1)"
t_match "--check: a bare port is told how to write it" "a port alone is written :19775" \
	"$(ctw agent --check --listen 19775 2>&1)"
t_eq "--check accepts good settings" "agent settings: ok" \
	"$(ctw agent --check --listen :9464 --syscalls top:30 --set dns_timeout=2s --dns-names true 2>&1)"

# ---- a port in use: reported before any module loads ----
port=$(free_port)
/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
time.sleep(120)' "$port" &
holder=$!
on_exit "kill $holder 2>/dev/null; wait $holder 2>/dev/null"
wait_for 5 sh -c "ss -Htln 'sport = :$port' | grep -q ."
out=$(timeout 30 "$CTW_BIN" agent -v --listen "127.0.0.1:$port" 2>&1)
rc=$?
t_eq "port in use: exit 1" 1 "$rc"
t_eq "port in use: the one line, no module loaded before it" \
	"ctrwatch: agent: listen on 127.0.0.1:$port: Address already in use" "$out"
kill "$holder"
wait "$holder" 2>/dev/null

# ---- not root: one line naming what is needed ----
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$CTW_BIN" "$@" </dev/null; }
for cmd in "agent --listen 127.0.0.1:0" "trace --all" "trace -- busybox true" "tcplife -d 1" "dns -d 1"; do
	# shellcheck disable=SC2086
	out=$(nobody $cmd 2>&1)
	rc=$?
	t_eq "not root: $cmd: exit 1, one line" "1 1" "$rc $(grep -c . <<<"$out")"
	t_match "  ... naming root or the capabilities" \
		"^ctrwatch: ${cmd%% *}: needs root, or the capabilities CAP_BPF and CAP_(PERFMON|NET_ADMIN) \\(running as uid 65534\\)\$" \
		"$out"
done
out=$(nobody probe 2>&1)
rc=$?
t_eq "not root: probe: exit 1, no feature table" "1 1" "$rc $(grep -c . <<<"$out")"
t_match "  ... naming root or the capabilities" \
	'^ctrwatch: probe: needs root, or the capabilities CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN' "$out"
out=$(nobody ps 2>&1)
rc=$?
t_eq "not root: ps: exit 1, no empty table" "1 1" "$rc $(grep -c . <<<"$out")"
t_match "  ... saying the state is root's" \
	"^ctrwatch: ps: needs root: the container state in $CTRWATCH_STATE is readable by root only" "$out"
out=$(setpriv --bounding-set=-bpf,-perfmon,-sys_admin "$CTW_BIN" trace --all 2>&1)
rc=$?
t_eq "root without CAP_BPF/CAP_PERFMON: trace says which are missing" \
	"1 ctrwatch: trace: needs the capabilities CAP_BPF and CAP_PERFMON (root without CAP_BPF, CAP_PERFMON)" \
	"$rc $out"
out=$(setpriv --bounding-set=-net_admin "$CTW_BIN" dns -d 1 2>&1)
t_eq "root without CAP_NET_ADMIN: dns says so" \
	"ctrwatch: dns: needs the capabilities CAP_BPF and CAP_NET_ADMIN (root without CAP_NET_ADMIN)" "$out"
t_eq "not root: trace --replay needs no privilege (decoding a recording)" \
	'ctrwatch: trace: open `/nonexistent`: No such file or directory' \
	"$(nobody trace --replay /nonexistent 2>&1)"

# ---- counters known in advance: at 0 from the first scrape ----
# An empty cgroup tree to watch: no container, so no DNS or TCP event.
dns_cgroup ROOT first-week-root || { t_fail "an empty cgroup tree" true; exit 1; }
port=$(free_port)
if agent_start "$port" --cgroup-root "$ROOT" --metrics syscalls,tcp,dns,policy; then
	m=$(scrape "$port")
	t_eq "ctrwatch_events_total{source} for every module with events, at 0" \
		'dns 0 tcp 0' \
		"$(sed -n 's/^ctrwatch_events_total{source="\([a-z]*\)"} \(.*\)$/\1 \2/p' <<<"$m" | sort | xargs)"
	t_eq "ctrwatch_events_lost_total{source,container=\"\"} too, at 0" \
		'dns 0 tcp 0' \
		"$(sed -n 's/^ctrwatch_events_lost_total{source="\([a-z]*\)",container=""} \(.*\)$/\1 \2/p' <<<"$m" | sort | xargs)"
	t_eq "ctrwatch_policy_reload_errors_total 0 with no policy" 0 \
		"$(series_value "$m" '^ctrwatch_policy_reload_errors_total ')"
	agent_stop
	t_eq "the agent stops cleanly" 0 "$?"
else
	t_fail "agent on an empty cgroup tree" true
fi

# ---- policy show/stats --json: JSON whatever happens ----
out=$(CTRWATCH_BPF_PIN=/sys/fs/bpf/ctw-none-$$ ctw policy show --json 2>"$W/err")
rc=$?
t_eq "policy show --json, no policy: null on stdout, exit 1" "1 null" "$rc $out"
t_eq "  ... the reason on stderr" "ctrwatch: policy show: no policy applied" "$(cat "$W/err")"
out=$(CTRWATCH_BPF_PIN=/sys/fs/bpf/ctw-none-$$ ctw policy stats --json 2>/dev/null)
t_eq "policy stats --json, no policy: []" "[]" "$out"

# ---- a wrong container name: the same message and hint everywhere ----
for cmd in logs inspect stop kill rm wait "exec -- true" "trace" "tcplife -d 1" "dns -d 1"; do
	name=no-such-ctr-$$
	set -- $cmd
	first=$1
	shift
	out=$(timeout 20 "$CTW_BIN" "$first" "$name" "$@" 2>&1 >/dev/null)
	t_eq "$first $name: the one message, with the hint" \
		"ctrwatch: $first: no such container: $name (\`ctrwatch containers\` lists them)" "$out"
done
