#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The agent's HTTP face and settings: exact Content-Type, gzip (Content-
# Encoding, Vary, same series once decoded), HEAD, 405, 404, /healthz,
# /readyz; idle connections cut after --http-timeout; basic auth and TLS;
# settings from flags, CTRWATCH_* and --config with precedence; bad values
# and config lines rejected with their place; SIGHUP re-reads the config;
# a required module that cannot start fails the start naming it and why,
# an optional one is skipped and shown down.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/agent-lib.bash"
require_root
require_cmd curl python3 promtool openssl jq

port=$(free_port)
agent_start "$port" --http-timeout 2s || exit 1
url=http://127.0.0.1:$port

hdr=$(curl -fsS -D - -o "$CTW_WORK/plain.txt" "$url/metrics")
t_match "Content-Type is exactly text/plain; version=0.0.4; charset=utf-8" \
	$'\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r' "$hdr"
t_match "Vary: Accept-Encoding" $'\r\nVary: Accept-Encoding\r' "$hdr"
t_nomatch "no Content-Encoding without Accept-Encoding" 'Content-Encoding' "$hdr"

hdr=$(curl -fsS -D - -H 'Accept-Encoding: gzip' -o "$CTW_WORK/body.gz" "$url/metrics")
t_match "gzip when asked: Content-Encoding: gzip" $'\r\nContent-Encoding: gzip\r' "$hdr"
t_ok "the gzip body decodes" sh -c "gzip -dc '$CTW_WORK/body.gz' >'$CTW_WORK/gunzipped.txt'"
keys() { grep -v '^#' "$1" | sed -E 's/ [^ ]+$//' | grep -v '^ctrwatch_scrape_duration' | sort; }
t_eq "decoded gzip body has the same series as the plain one" \
	"$(keys "$CTW_WORK/plain.txt")" "$(keys "$CTW_WORK/gunzipped.txt")"
t_ok "decoded gzip body is promtool-clean" sh -c "promtool check metrics <'$CTW_WORK/gunzipped.txt'"
hdr=$(curl -fsS -D - -H 'Accept-Encoding: gzip;q=0, br' -o /dev/null "$url/metrics")
t_nomatch "gzip;q=0 is honoured" 'Content-Encoding' "$hdr"

hdr=$(curl -sS -I "$url/metrics")
t_match "HEAD /metrics: 200" '^HTTP/1.1 200' "$hdr"
t_match "HEAD /metrics: Content-Type" 'Content-Type: text/plain; version=0.0.4; charset=utf-8' "$hdr"
t_eq "HEAD /metrics: no body" "" "$(curl -sS -X HEAD --max-time 3 "$url/metrics" 2>/dev/null | head -c 10)"
for m in POST PUT DELETE PATCH OPTIONS; do
	t_eq "$m /metrics: 405" 405 "$(curl -s -o /dev/null -w '%{http_code}' -X "$m" "$url/metrics")"
done
t_match "405 says Allow: GET, HEAD" 'Allow: GET, HEAD' "$(curl -s -D - -o /dev/null -X POST "$url/metrics")"
t_eq "unknown path: 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$url/nope")"
t_eq "/healthz: 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")"
t_eq "/readyz: 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz")"

# Idle connections: 50 sockets that never send a request are closed by the
# server after --http-timeout (2 s), and the agent keeps serving.
idle=$(python3 - "$port" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(50)]
time.sleep(4.5)
closed = 0
for s in socks:
    s.settimeout(0.5)
    try:
        if s.recv(1) == b"":
            closed += 1
    except (ConnectionResetError, BrokenPipeError):
        closed += 1
    except socket.timeout:
        pass
print(closed)
PY
)
t_eq "50 idle connections closed by the server after the timeout" 50 "$idle"
t_eq "still serving after that" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$url/metrics")"
agent_stop

# ---- basic auth + TLS ----
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
	-keyout "$CTW_WORK/key.pem" -out "$CTW_WORK/cert.pem" >/dev/null 2>&1
echo 'prom:s3cret' >"$CTW_WORK/auth"
port=$(free_port)
# (not agent_start: it polls plain http, which a TLS server never answers)
AGENT_LOG=$CTW_WORK/agent-tls.log
"$CTW_BIN" agent --listen "127.0.0.1:$port" --tls-cert "$CTW_WORK/cert.pem" \
	--tls-key "$CTW_WORK/key.pem" --basic-auth-file "$CTW_WORK/auth" >"$AGENT_LOG" 2>&1 &
AGENT_PID=$!
on_exit "kill -TERM $AGENT_PID 2>/dev/null; sleep 0.3; kill -KILL $AGENT_PID 2>/dev/null"
if ! wait_for 20 curl -fsk "https://127.0.0.1:$port/readyz"; then
	echo "# the TLS agent did not become ready:"
	sed 's/^/#   /' "$AGENT_LOG"
fi
surl=https://127.0.0.1:$port
t_eq "TLS: /healthz over https without credentials" 200 \
	"$(curl -sk -o /dev/null -w '%{http_code}' "$surl/healthz")"
t_eq "TLS: /metrics without credentials is 401" 401 \
	"$(curl -sk -o /dev/null -w '%{http_code}' "$surl/metrics")"
t_eq "TLS: wrong password is 401" 401 \
	"$(curl -sk -o /dev/null -w '%{http_code}' -u prom:nope "$surl/metrics")"
t_match "TLS + basic auth: /metrics" '^ctrwatch_build_info' \
	"$(curl -sk -u prom:s3cret "$surl/metrics")"
t_ok "TLS: the certificate is the one given" sh -c \
	"curl -sS --cacert '$CTW_WORK/cert.pem' -u prom:s3cret -o /dev/null '$surl/metrics'"
t_fail "TLS: plain http is refused" curl -fsS --max-time 3 "http://127.0.0.1:$port/metrics"
agent_stop

# ---- settings ----
t_eq "bad option: exit 2" 2 "$("$CTW_BIN" agent --bogus >/dev/null 2>&1; echo $?)"
t_eq "stray argument: exit 2" 2 "$("$CTW_BIN" agent extra >/dev/null 2>&1; echo $?)"
out=$("$CTW_BIN" agent --check --max-series lots 2>&1); rc=$?
t_eq "bad number: exit 1" 1 "$rc"
t_match "bad number: names the setting" 'max_series .lots.' "$out"
t_match "bad duration: names the setting" 'discovery_interval' \
	"$("$CTW_BIN" agent --check --discovery-interval soon 2>&1)"
t_match "unknown metric group is refused" "unknown group 'bogus'" \
	"$("$CTW_BIN" agent --check --metrics syscalls,bogus 2>&1)"
t_match "bad log format is refused" 'log format' \
	"$("$CTW_BIN" agent --check --log-format xml 2>&1)"
printf 'listen: 127.0.0.1:1\n# comment\nmax-series: 10\nthis line is wrong\n' >"$CTW_WORK/bad.yaml"
t_match "bad config line: FILE:LINE" "bad.yaml:4: expected KEY: VALUE" \
	"$("$CTW_BIN" agent --check --config "$CTW_WORK/bad.yaml" 2>&1)"
t_match "--set KEY=VALUE reaches any setting" "max_series 'x'" \
	"$("$CTW_BIN" agent --check --set max_series=x 2>&1)"
t_eq "--set without '=': exit 2" 2 "$("$CTW_BIN" agent --set nonsense >/dev/null 2>&1; echo $?)"
# each setting its flag with a metavar by its kind, module settings too
help=$("$CTW_BIN" agent --help)
for f in '--max-series N' '--exit-grace DUR' '--listen VALUE' '--bpf-stats ' '--dns-timeout DUR' \
	'--dns-names ' '--policy VALUE' '--syscall-time '; do
	t_match "--help documents $f" "^ +${f}" "$help"
done
t_match "--set checks a module's setting by its kind" "dns_names_max '0': expected a number from 1" \
	"$("$CTW_BIN" agent --check --set dns_names_max=0 2>&1)"
t_match "a module's setting from the environment is checked too" "syscall_time 'sometimes'" \
	"$(CTRWATCH_SYSCALL_TIME=sometimes "$CTW_BIN" agent --check 2>&1)"
t_match "a boolean flag takes its value as the next word" "agent settings: ok" \
	"$("$CTW_BIN" agent --check --dns-names false --syscall-time 2>&1)"

# ---- modules that cannot start: bpf() refused (a seccomp filter, as on a
# host that forbids BPF): a required module (syscalls) fails the start with
# its name and why, and starts nothing after it; an optional one is skipped
# with its reason and exported as ctrwatch_module_up 0. ----
# shellcheck disable=SC2016
NOBPF='import ctypes, os, struct, sys
f = [(0x20, 0, 0, 4), (0x15, 0, 3, 0xc000003e), (0x20, 0, 0, 0),
     (0x15, 0, 1, 321), (0x06, 0, 0, 0x00050000 | 1), (0x06, 0, 0, 0x7fff0000)]
buf = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *i) for i in f))
prog = ctypes.create_string_buffer(struct.pack("HxxxxxxQ", len(f), ctypes.addressof(buf)))
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(38, 1, 0, 0, 0) or libc.prctl(22, 2, prog, 0, 0):
    sys.exit("seccomp: " + os.strerror(ctypes.get_errno()))
os.execvp(sys.argv[1], sys.argv[1:])'
if [ "$(uname -m)" = x86_64 ]; then # the filter: x86_64's audit arch, bpf is 321
	port=$(free_port)
	out=$(timeout 30 python3 -c "$NOBPF" "$CTW_BIN" agent --listen "127.0.0.1:$port" 2>&1)
	rc=$?
	t_eq "bpf() refused: the required syscalls module fails the start (exit 1)" 1 "$rc"
	t_match "  ... in one error line naming the module and why" \
		'^ctrwatch: agent: module syscalls \(required\): load BPF: Operation not permitted$' "$out"
	t_match "  ... an optional module before it was skipped with its reason" \
		'^ctrwatch: warning: module dns: load BPF programs: Operation not permitted \(skipped\)$' \
		"$out"
	t_eq "  ... and no module after it was started" "" "$(grep -E 'module (tcp|resources)' <<<"$out")"
	port=$(free_port)
	python3 -c "$NOBPF" "$CTW_BIN" agent --listen "127.0.0.1:$port" --metrics dns,resources \
		>"$CTW_WORK/nobpf.log" 2>&1 &
	AGENT_PID=$!
	on_exit "kill -KILL $AGENT_PID 2>/dev/null"
	if wait_for 30 curl -fsS "http://127.0.0.1:$port/readyz"; then
		t_ok "bpf() refused, no required module enabled: the agent serves" true
		t_eq "  ... the failed module shown as down, the others up" \
			'dns=0 resources=1' \
			"$(scrape "$port" | sed -n 's/^ctrwatch_module_up{module="\([a-z]*\)"} \([0-9]\)$/\1=\2/p' | sort | xargs)"
	else
		t_fail "bpf() refused, no required module enabled: the agent serves" true
		sed 's/^/#   agent: /' "$CTW_WORK/nobpf.log" | tail -10
	fi
	kill -TERM "$AGENT_PID"
	rc=0
	wait "$AGENT_PID" || rc=$?
	t_eq "  ... and stops with 0" 0 "$rc"
	t_match "  ... the skipped module's reason is logged" \
		'module dns: load BPF programs: Operation not permitted \(skipped\)' "$(cat "$CTW_WORK/nobpf.log")"
else
	t_skip "bpf() refused: required and optional modules" "the seccomp filter is x86_64's"
fi

# Precedence: flag > CTRWATCH_* > config file > default.  The config sets
# the port and a tiny cap, the environment overrides the cap, a flag the
# syscall set.
port=$(free_port)
cat >"$CTW_WORK/agent.yaml" <<YAML
# ctrwatch agent settings
listen: "127.0.0.1:$port"
max-series: 5
syscalls: all
log_level: info
YAML
CTRWATCH_MAX_SERIES=100000 "$CTW_BIN" agent --config "$CTW_WORK/agent.yaml" \
	--syscalls list:openat >"$CTW_WORK/agent-cfg.log" 2>&1 &
AGENT_PID=$!
on_exit "kill -KILL $AGENT_PID 2>/dev/null"
t_ok "the config file's listen address is used" wait_for 10 curl -fsS "http://127.0.0.1:$port/readyz"
m=$(scrape "$port")
t_cmp "the environment overrides the config's cap (series: $(grep -vc '^#' <<<"$m"))" \
	"$(grep -vc '^#' <<<"$m")" -gt 20
t_eq "no series dropped" 0 "$(series_value "$m" '^ctrwatch_series_dropped_total ')"
t_eq "no sample refused as invalid (ctrwatch_series_invalid_total exported)" 0 \
	"$(series_value "$m" '^ctrwatch_series_invalid_total ')"
# SIGHUP re-reads the file: debug logging shows the rescan it triggers.
sed -i 's/^log_level: info/log_level: debug/' "$CTW_WORK/agent.yaml"
kill -HUP "$AGENT_PID"
t_ok "SIGHUP is logged as a reload" wait_for 5 grep -q 'SIGHUP: reloading' "$CTW_WORK/agent-cfg.log"
t_ok "the reloaded config took effect (debug logging)" wait_for 5 \
	grep -q 'discovery: scan [0-9]*: [0-9]* containers' "$CTW_WORK/agent-cfg.log"
t_eq "still serving after the reload" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")"
kill -TERM "$AGENT_PID"; rc=0; wait "$AGENT_PID" || rc=$?
t_eq "exit 0 after SIGTERM" 0 "$rc"

# JSON log lines for the DaemonSet.
port=$(free_port)
agent_start "$port" --log-format json -v || exit 1
agent_stop
t_ok "--log-format json: every stderr line is a JSON object with time, level, msg" \
	sh -c "[ -s '$AGENT_LOG' ] && jq -e 'has(\"time\") and has(\"level\") and has(\"msg\")' '$AGENT_LOG' >/dev/null"
t_match "--log-format json: the stop is logged" '"msg":"signal 15: stopping"' "$(cat "$AGENT_LOG")"

# A cap that bites: dropped series are counted, own metrics still present.
port=$(free_port)
agent_start "$port" --max-series 3 || exit 1
m=$(scrape "$port")
t_cmp "the cap drops series and counts them" "$(series_value "$m" '^ctrwatch_series_dropped_total ')" -gt 0
t_match "the agent's own metrics survive the cap" '^process_resident_memory_bytes ' "$m"
agent_stop
