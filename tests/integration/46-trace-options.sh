#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# trace's strace options on a workload in a cgroup of its own
# (tests/helpers/ctw-syscalls: files, signals, children that exit, are
# killed by SIGKILL, SIGTERM and a fault, are stopped): -o FILE's pid-first lines, -ff -o PREFIX
# (a file per process), -e signal=, --quiet=exit, -q, -qq, -e status=, -s,
# -y, --json's signal and exit events, --record and --replay, and errors for
# bad options.
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd jq

wl=$CTW_BUILD/tests/helpers/ctw-syscalls
[ -x "$wl" ] || { t_fail "the workload $wl is built" true; exit 1; }
dir=$CTW_WORK/t46
cg=$(cgroup2_dir "$CTW_RUN_ID-trace46")
fifo=$CTW_WORK/trace46.fifo
on_exit "rmdir '$cg' 2>/dev/null"

# traced NAME [TRACE OPTIONS...]: the workload in $cg, waiting on a fifo
# until `ctrwatch trace --from-exec OPTIONS $cg` is attached; the tracer's
# stdout goes to $CTW_WORK/NAME, its stderr to NAME.err; sets wl_pid
traced() {
	local out=$CTW_WORK/$1 tracer; shift
	rm -rf "$dir" && mkdir -p "$dir" "$cg" && rm -f "$fifo" && mkfifo "$fifo" || return 1
	(cd "$dir" && exec sh -c 'echo $$ >"$0/cgroup.procs" && read -r x <"$1" && shift && exec "$@"' \
		"$cg" "$fifo" "$wl" files signals procs </dev/null >/dev/null 2>&1) &
	wl_pid=$!
	wait_for 5 grep -qx "$wl_pid" "$cg/cgroup.procs" || return 1
	"$CTW_BIN" trace --from-exec "$@" "$cg" >"$out" 2>"$out.err" &
	tracer=$!
	# -q says nothing when attached: give it a moment
	wait_for 10 grep -q attached "$out.err" || sleep 1
	echo go >"$fifo"
	wait "$wl_pid"
	wait_for 5 rmdir "$cg"
	wait_for 10 sh -c "! kill -0 $tracer 2>/dev/null" || kill -INT "$tracer"
	wait "$tracer"
}

# ---- -f -o FILE (-f: strace's spelling, children are always followed) ----
traced o -f -o "$CTW_WORK/o.txt"
out=$(cat "$CTW_WORK/o.txt")
t_match "-o: strace -f -o's lines, the pid first" "^$wl_pid +execve\(" "$(head -1 <<<"$out")"
t_match "-o: a child's exit status" '^[0-9]+ +\+\+\+ exited with 3 \+\+\+$' "$out"
t_match "-o: a child killed by SIGKILL" '^[0-9]+ +\+\+\+ killed by SIGKILL \+\+\+$' "$out"
t_match "-o: a child killed by SIGTERM's default action, its signal line first" \
	'--- SIGTERM \{si_signo=SIGTERM, si_code=SI_USER, si_pid='"$wl_pid"', si_uid=0\} ---' "$out"
t_match "-o: the parent's SIGCHLD" "^$wl_pid +--- SIGCHLD \{si_signo=SIGCHLD, si_code=CLD_KILLED, " "$out"
t_match "-o: a handled signal" "^$wl_pid +--- SIGUSR1 \{si_signo=SIGUSR1, si_code=SI_USER, " "$out"
t_match "-o: an ignored signal (SIG_IGN) is shown too, as strace shows it" \
	"^$wl_pid +--- SIGPIPE \{si_signo=SIGPIPE" "$out"
t_match "-o: a stop signal left to its default action: strace's stop line" \
	'^[0-9]+ +--- SIGSTOP \{si_signo=SIGSTOP, si_code=SI_USER, si_pid='"$wl_pid"', si_uid=0\} ---$' "$out"
t_match "  ... then" '^[0-9]+ +--- stopped by SIGSTOP ---$' "$out"
t_match "-o: a real fault, its address" \
	'^[0-9]+ +--- SIGSEGV \{si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x8\} ---$' "$out"
t_match "  ... and the child killed by it" '^[0-9]+ +\+\+\+ killed by SIGSEGV \+\+\+$' "$out"
t_match "-o: killed in the call: no return value" 'kill\([0-9]+, SIGKILL\) += \?$' "$out"
t_match "-o: the workload's own exit, last" "^$wl_pid +\+\+\+ exited with 0 \+\+\+$" "$(tail -1 <<<"$out")"
t_eq "-o: nothing on stdout" "" "$(cat "$CTW_WORK/o")"

# ---- -ff -o PREFIX ----
traced ff -ff -o "$CTW_WORK/ff"
files=$(find "$CTW_WORK" -maxdepth 1 -name 'ff.[0-9]*' | wc -l)
t_cmp "-ff: a file per process (the workload and its 3 children)" "$files" -ge 4
t_match "-ff: PREFIX.PID holds that process's lines, without a pid" '^wait4\(' \
	"$(cat "$CTW_WORK/ff.$wl_pid")"
t_nomatch "-ff: no pid prefix" '^[0-9]+ ' "$(cat "$CTW_WORK/ff.$wl_pid")"
t_eq "-ff: every file ends with its process's exit line" 0 \
	"$(for f in "$CTW_WORK"/ff.[0-9]*; do tail -1 "$f"; done | grep -cv '^+++ ')"
t_fail "-ff needs -o" "$CTW_BIN" trace -ff --all

# ---- -e signal=, --quiet=exit, -q, -qq ----
traced nosig -e signal=none
t_nomatch "-e signal=none: no signal lines" '\] --- ' "$(cat "$CTW_WORK/nosig")"
t_match "-e signal=none: exit lines stay" '\] \+\+\+ exited with 3 \+\+\+' "$(cat "$CTW_WORK/nosig")"
t_nomatch "-e signal=none: no killed-by lines either, as strace" '\+\+\+ killed by' \
	"$(cat "$CTW_WORK/nosig")"
traced chld --signal=SIGCHLD
t_match "--signal=SIGCHLD: SIGCHLD lines" '\] --- SIGCHLD' "$(cat "$CTW_WORK/chld")"
t_nomatch "--signal=SIGCHLD: no other signals" '\] --- SIG(USR1|PIPE|URG|TERM)' "$(cat "$CTW_WORK/chld")"
traced noexit --quiet=exit
t_nomatch "--quiet=exit: no exit lines" '\+\+\+ exited' "$(cat "$CTW_WORK/noexit")"
t_match "--quiet=exit: killed-by lines stay, as strace's" '\] \+\+\+ killed by SIGKILL \+\+\+' \
	"$(cat "$CTW_WORK/noexit")"
t_match "--quiet=exit: signals stay" '--- SIGCHLD' "$(cat "$CTW_WORK/noexit")"
t_match "--quiet=exit: a fatal signal's line too (shown at the exit)" '\] --- SIGTERM \{' \
	"$(cat "$CTW_WORK/noexit")"
traced qq -qq
t_nomatch "-qq: no exit lines" '\+\+\+ exited' "$(cat "$CTW_WORK/qq")"
t_nomatch "-qq: no attach message" 'attached' "$(cat "$CTW_WORK/qq.err")"
t_match "-qq: the calls are still there" '\] wait4\(' "$(cat "$CTW_WORK/qq")"

# ---- -e status= ----
traced failed -e status=failed
calls=$(grep -E '^\[pid +[0-9]+\] [a-z0-9_]+\(' "$CTW_WORK/failed")
t_match "-e status=failed: the failing read" 'read\(-1, 0x[0-9a-f]+, 1\) += -1 EBADF' "$calls"
t_eq "-e status=failed: only failed calls" "" "$(grep -Ev '= (-1 E|\? E)' <<<"$calls")"
traced ok -e status=successful
calls=$(grep -E '^\[pid +[0-9]+\] [a-z0-9_]+\(' "$CTW_WORK/ok")
t_match "-e status=successful: successful calls" 'wait4\(' "$calls"
t_eq "-e status=successful: no failed or unfinished calls" "" "$(grep -E '= (-1|\?)' <<<"$calls")"

# ---- -s, -y ----
traced sy -s 5 -y
out=$(cat "$CTW_WORK/sy")
# (fd numbers are not fixed: the workload inherits whatever the caller
# left open, e.g. `flock LOCK make test`'s lock on fd 3)
t_match "-s 5: data cut at 5 bytes" 'write\([0-9]+</[^>]*/data.txt>, "hello"\.\.\., 12\) += 12' "$out"
t_match "-y: the working directory for AT_FDCWD and the file returned" \
	"openat\(AT_FDCWD<$dir>, \"data.txt\", O_WRONLY\|O_CREAT\|O_TRUNC, 0640\) += [0-9]+<$dir/data.txt>" "$out"
t_match "-y: a closed fd still says what it was" "close\([0-9]+<$dir/data.txt>\) += 0" "$out"

# ---- --json ----
traced json --json
t_ok "--json: every line parses" jq -e . "$CTW_WORK/json"
t_eq "--json: signal events" "true" \
	"$(jq -s 'any(.[]; .event == "signal" and .signal == "SIGCHLD" and (.siginfo | startswith("{si_signo=SIGCHLD")))' "$CTW_WORK/json")"
t_eq "--json: exit events, a status or the signal" "true true" \
	"$(jq -s '[any(.[]; .event == "exit" and .exit_code == 3), any(.[]; .event == "exit" and .killed_by == "SIGKILL" and .core_dumped == false)] | join(" ")' "$CTW_WORK/json" | tr -d '"')"
t_eq "--json: syscalls say so" "true" "$(jq -s 'all(.[]; .event == "syscall" or .event == "signal" or .event == "exit")' "$CTW_WORK/json")"

# ---- --record, --replay ----
traced rec --record "$CTW_WORK/rec.raw"
t_eq "--record: no lines while tracing" "" "$(cat "$CTW_WORK/rec")"
"$CTW_BIN" trace --replay "$CTW_WORK/rec.raw" -o "$CTW_WORK/replay.txt"
t_eq "--replay decodes the recording" 0 "$?"
t_match "--replay: strace's lines, as -o writes them" \
	"^$wl_pid +wait4\([0-9]+, \[\{WIFEXITED\(s\) && WEXITSTATUS\(s\) == 3\}\], 0, NULL\) += [0-9]+" \
	"$(cat "$CTW_WORK/replay.txt")"
t_match "--replay: signals and exits too" '\+\+\+ killed by SIGKILL \+\+\+' "$(cat "$CTW_WORK/replay.txt")"
t_match "--replay --json" '"event":"exit"' "$("$CTW_BIN" trace --replay "$CTW_WORK/rec.raw" --json)"
t_fail "--replay of something else fails" "$CTW_BIN" trace --replay /etc/hostname

# ---- errors ----
t_fail "-e with an unknown qualifier fails" "$CTW_BIN" trace -e verbose=all --all
err=$("$CTW_BIN" trace -e signal=SIGNOPE --all 2>&1)
t_eq "-e signal= with an unknown signal: usage error" 2 "$?"
t_match "... naming it" "invalid signal 'SIGNOPE'" "$err"
t_fail "an unknown option fails" "$CTW_BIN" trace --no-such-option --all
t_fail "--with-init needs -- IMAGE" "$CTW_BIN" trace --with-init --all
