#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ctrwatch trace on a workload in a cgroup this test creates: strace -f's
# lines (openat with its return, ENOENT, connect to 127.0.0.1:PORT, execve
# argv and its environment's size, wait statuses, SIGCHLD and exit lines),
# -T, --json, -e trace=%class, -c, -p, -tt, --failed, and the end of tracing
# when the cgroup goes away.
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd busybox jq python3

port=$(free_port)
cg=$(cgroup2_dir "$CTW_RUN_ID-trace40")
mkdir -p "$cg" || { t_fail "create cgroup $cg" true; exit 1; }
on_exit "rmdir '$cg' 2>/dev/null"

# a listener outside the traced cgroup: reads each connection to its end
python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
while True:
    c, _ = s.accept()
    while c.recv(4096): pass
    c.close()' "$port" &
srv=$!
on_exit "kill $srv"
wait_for 5 sh -c "ss -Htln 'sport = :$port' | grep -q ."

wl=$CTW_WORK/trace40.sh
cat >"$wl" <<EOF
cat /etc/hostname >/dev/null
cat /nonexistent-ctw40 2>/dev/null
echo hi | busybox nc 127.0.0.1 $port
true
EOF

# run_traced OUT [TRACE OPTIONS...]: the workload waits on a fifo inside the
# cgroup until the tracer is attached; the tracer ends when the cgroup is
# removed after the workload exits.  Sets wl_pid; @PID@ in the options
# stands for it.
run_traced() {
	local out=$1; shift
	local fifo=$CTW_WORK/trace40.fifo tracer a args=()
	rm -f "$fifo"; mkfifo "$fifo"
	sh -c 'echo $$ > "$1/cgroup.procs" && exec /bin/busybox sh "$2" < "$0"' \
		"$fifo" "$cg" "$wl" &
	wl_pid=$!
	wait_for 5 grep -qx "$wl_pid" "$cg/cgroup.procs"
	for a in "$@"; do args+=("${a//@PID@/$wl_pid}"); done
	"$CTW_BIN" trace "${args[@]}" "$cg" >"$out" 2>"$out.err" &
	tracer=$!
	wait_for 10 grep -q attached "$out.err"
	echo >"$fifo"
	wait "$wl_pid"
	# the cgroup is empty now: removing it ends the trace
	wait_for 5 rmdir "$cg"
	if ! wait_for 10 sh -c "! kill -0 $tracer 2>/dev/null"; then
		kill -INT "$tracer"
	fi
	wait "$tracer"
	tracer_rc=$?
	mkdir -p "$cg"
}

run_traced "$CTW_WORK/t40.txt" -T -s 64
out=$(cat "$CTW_WORK/t40.txt")
t_eq "tracer exits 0 when the cgroup goes away" 0 "$tracer_rc"
t_match "openat of a known path with its fd, strace -f's [pid N] first" \
	'^\[pid +[0-9]+\] openat\(AT_FDCWD, "/etc/hostname", O_RDONLY\) += [0-9]+ <0\.[0-9]{6}>$' \
	"$(grep hostname <<<"$out")"
t_match "failing openat shows ENOENT" \
	'openat\(AT_FDCWD, "/nonexistent-ctw40", O_RDONLY\) = -1 ENOENT \(No such file or directory\)' "$out"
t_match "connect shows the sockaddr and succeeds" \
	"connect\([0-9]+, \{sa_family=AF_INET, sin_port=htons\($port\), sin_addr=inet_addr\(\"127.0.0.1\"\)\}, 16\) = 0" \
	"$out"
t_match "execve shows filename, argv and the environment's size, with the workload's pid" \
	"^\[pid +$wl_pid\] execve\(\"/bin/busybox\", \[\"/bin/busybox\", \"sh\", \"$wl\"\], 0x[0-9a-f]+ /\* [0-9]+ vars? \*/\) += 0" "$out"
t_match "write shows its data quoted" 'write\(1, "hi\\n", 3\) += 3' "$out"
t_match "exit_group has no return value" 'exit_group\(0\) += \?$' "$out"
t_match "the workload's exit has its line" "^\[pid +$wl_pid\] \+\+\+ exited with 0 \+\+\+$" "$out"
t_match "the shell's children are reaped with a decoded status" \
	'wait4\(-1, \[\{WIFEXITED\(s\) && WEXITSTATUS\(s\) == 0\}\], 0, NULL\) += [0-9]+' "$out"
t_match "the shell gets SIGCHLD lines" '\] --- SIGCHLD \{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=[0-9]+, ' "$out"
t_nomatch "no events lost" 'lost' "$(cat "$CTW_WORK/t40.txt.err")"

run_traced "$CTW_WORK/t40.json" --json
t_ok "--json lines all parse" jq -e . "$CTW_WORK/t40.json"
t_eq "--json openat of /etc/hostname" "true" \
	"$(jq -s 'any(.[]; .syscall=="openat" and .args[1]=="/etc/hostname" and .ret>=0 and .errno==null and .duration_ns>0 and (.container|endswith("trace40")))' "$CTW_WORK/t40.json")"
t_eq "--json comm follows exec (cat opens /etc/hostname)" "true" \
	"$(jq -s 'any(.[]; .syscall=="openat" and .args[1]=="/etc/hostname" and .comm=="cat")' "$CTW_WORK/t40.json")"
t_eq "--json failing openat has errno ENOENT" "true" \
	"$(jq -s 'any(.[]; .syscall=="openat" and .args[1]=="/nonexistent-ctw40" and .ret==-1 and .errno=="ENOENT")' "$CTW_WORK/t40.json")"
t_eq "--json pid, tid, comm, ts_ns present" "true" \
	"$(jq -s 'all(.[]; (.pid|type)=="number" and (.tid|type)=="number" and (.comm|type)=="string" and .ts_ns>0)' "$CTW_WORK/t40.json")"

run_traced "$CTW_WORK/t40.net" -e trace=%network
out=$(cat "$CTW_WORK/t40.net")
t_match "-e trace=%network keeps connect" 'connect\(' "$out"
t_nomatch "-e trace=%network drops openat and execve" 'openat|execve|write\(' "$out"

run_traced "$CTW_WORK/t40.c" -c -e trace=openat,connect,execve
out=$(cat "$CTW_WORK/t40.c")
t_match "-c prints strace's header" '^% time +seconds +usecs/call +calls +errors syscall$' "$(head -1 <<<"$out")"
t_match "-c counts openat with one error" '^ *[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+ +1 openat$' "$out"
t_match "-c counts one connect" '^ *[0-9.]+ +[0-9.]+ +[0-9]+ +1 +connect$' "$out"
t_match "-c ends with the total" '^100\.00 +[0-9.]+ +[0-9]+ +[0-9]+ +[0-9]+ total$' "$(tail -1 <<<"$out")"
t_nomatch "-c prints no event lines" '^\[' "$out"

run_traced "$CTW_WORK/t40.p" -p @PID@
out=$(cat "$CTW_WORK/t40.p")
t_match "-p PID traces that process" "^\[pid +$wl_pid\] execve\(" "$out"
t_eq "-p PID traces only that process (not its children)" "$wl_pid" \
	"$(sed -n 's/^\[pid *\([0-9]*\)\] .*/\1/p' "$CTW_WORK/t40.p" | sort -u | tr '\n' ' ' | xargs)"

run_traced "$CTW_WORK/t40.tt" -tt --failed
out=$(cat "$CTW_WORK/t40.tt")
t_match "-tt prefixes the time of day with microseconds" '^\[pid +[0-9]+\] [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} ' "$out"
t_nomatch "--failed shows no successful call" '\) += [0-9]' "$out"
t_match "--failed shows the ENOENT" 'nonexistent-ctw40.*ENOENT' "$out"
