#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The host binary reachable from a container (runc CVE-2019-5736 class),
# tried for real on a private copy of ctrwatch: a container with
# CAP_SYS_PTRACE opens /proc/PID/exe of the ctrwatch process in it (its init,
# or a process `exec` starts) and hands that handle over a socket on a shared
# volume to a process that outlives every ctrwatch, which opens it for
# writing once the file is no longer busy.  Before, that overwrote the host's
# binary; now what runs in a container is a read-only copy (a detached
# read-only bind mount, runtime/exe.c): the write fails with EROFS and the
# binary is intact.
. "$(dirname "$0")/../lib.sh"
require_root

require_helper ctw-hostile
H=$CTW_BUILD/tests/helpers
W=$CTW_WORK/hostile16
mkdir -p "$W/bin" "$W/sock"
on_exit "rm -rf '$W'"
cp "$CTW_BIN" "$W/bin/ctrwatch"
V=$W/bin/ctrwatch
vic() { "$V" "$@"; }
# (with our own binary: the copy is garbage once an attack went through)
on_exit 'ctw rm -f bin16init bin16exec bin16noptrace bin16ro; ctw gc'

sum=$(sha256sum <"$V")

# attack MODE: init (the container's PID 1) or exec (a process exec starts
# in a container without our init), from a container with CAP_SYS_PTRACE.
# (CVE-2019-5736's own way in, a command that is a `#!/proc/self/exe`
# script, is refused by this kernel: it does not exec a file of a mount
# outside the caller's mount namespace through that link.)  Prints the
# receiver's verdict.
attack() {
	local mode=$1 name=bin16$1 recv opts=(--cap-add SYS_PTRACE) secs=8
	if [ "$mode" = noptrace ]; then
		opts=() secs=2
	fi
	"$H/ctw-hostile" recv-write "$W/sock/s" "$secs" >"$W/recv.out" 2>&1 &
	recv=$!
	wait_for 3 test -S "$W/sock/s"
	[ "$mode" = exec ] && opts+=(--no-init)
	vic run -d --name "$name" "${opts[@]}" -v "$H:/t:ro" -v "$W/sock:/sock" busybox \
		sh -c "/t/ctw-hostile grab-exe /sock/s $((secs / 2)); sleep 30" >/dev/null
	if [ "$mode" = exec ]; then
		for _ in $(seq 10); do vic exec "$name" true; done
	fi
	wait_for 4 grep -q -e sent -e none < <(vic logs "$name")
	vic logs "$name" | tail -1
	# Every ctrwatch of this binary goes: it is no longer busy.
	vic rm -f "$name" >/dev/null
	wait "$recv"
	tail -1 "$W/recv.out"
	rm -f "$W/sock/s"
}

out=$(attack init)
t_match "run: the container got a handle on its init's /proc/1/exe" '^sent 1$' "$out"
t_match "  ... the write through it fails: read-only" '^(EROFS|EPERM)$' "$(echo "$out" | tail -1)"
t_eq "  ... the binary is intact" "$sum" "$(sha256sum <"$V")"

# Without CAP_SYS_PTRACE the command no longer waits for its init to
# become ctrwatch-stub (runtime/container.c): until that exec the init is
# ctrwatch, but not dumpable, so out of the container's reach all the same.
# (The attack starts the moment the command does; a grab in the instant
# between the stub's exec and its PR_SET_DUMPABLE gets the sealed memfd.)
for i in 1 2 3; do
	out=$(attack noptrace)
	# (our binary, had it been reached, is busy while the run lives:
	# ETXTBSY, or overwritten after; the stub's memfd is sealed: EPERM)
	t_nomatch "no CAP_SYS_PTRACE ($i): the init's binary is out of reach" \
		'overwritten|ETXTBSY' "$out"
	t_eq "  ... the binary is intact" "$sum" "$(sha256sum <"$V")"
done

out=$(attack exec)
t_match "exec: the container got a handle on /proc/PID/exe of a process exec started" \
	'^sent [0-9]+$' "$out"
t_match "  ... the write through it fails: read-only" '^(EROFS|EPERM)$' "$(echo "$out" | tail -1)"
t_eq "  ... the binary is intact" "$sum" "$(sha256sum <"$V")"

# What a container could reach is never writable: its init is ctrwatch-stub
# from a sealed memfd, and `exec` runs from a read-only copy of our binary
# (access(W_OK) is EROFS there, even for root).
vic run -d --name bin16ro busybox sleep 30 >/dev/null
pid=$(vic inspect bin16ro | jq -r '.[0].pid')
t_match "the container's init is ctrwatch-stub, from a sealed memfd" '^/memfd:ctrwatch-init' \
	"$(readlink "/proc/$pid/exe")"
t_match "  ... nothing of our binary is mapped in it" '^0$' \
	"$(grep -c "$V" "/proc/$pid/maps")"
"$V" exec bin16ro sleep 5 &
ex=$!
t_ok "exec runs from a read-only copy of the binary" wait_for 5 test ! -w "/proc/$ex/exe"
t_ok "  ... the same program as ours" cmp "/proc/$ex/exe" "$V"
kill "$ex" 2>/dev/null
wait "$ex" 2>/dev/null
vic rm -f bin16ro >/dev/null
