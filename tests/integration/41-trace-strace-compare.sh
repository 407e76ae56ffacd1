#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Correctness against a peer: one deterministic busybox workload (files,
# processes, a TCP connection to a local listener) under `strace -f -c` and
# under `ctrwatch trace -c`; per-syscall calls and errors must be the same.
#
# The only allowed differences are the syscalls of the launcher's own exec,
# which ctrwatch sees and strace does not: the workload waits inside the
# cgroup in `exec /bin/busybox sh SCRIPT < FIFO` until the tracer is
# attached, and dash's redirection before that exec costs
#   fcntl(0, F_DUPFD, 10), close(0), fcntl(11, F_SETFD, FD_CLOEXEC),
#   dup2(3, 0), close(3)
# so ctrwatch must count exactly fcntl +2, close +2, dup2 +1 more.
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd busybox strace python3

declare -A expect_extra=([fcntl]=2 [close]=2 [dup2]=1)

port=$(free_port)
cg=$(cgroup2_dir "$CTW_RUN_ID-trace41")
mkdir -p "$cg" || { t_fail "create cgroup $cg" true; exit 1; }
on_exit "rmdir '$cg' 2>/dev/null"

python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
while True:
    c, _ = s.accept()
    while c.recv(4096): pass
    c.close()' "$port" &
on_exit "kill $!"
wait_for 5 sh -c "ss -Htln 'sport = :$port' | grep -q ."

dir=$CTW_WORK/trace41
wl=$CTW_WORK/trace41.sh
cat >"$wl" <<EOF
cd $dir
echo hello > a.txt
cat a.txt > b.txt
mkdir -p sub
mv b.txt sub/c.txt
ls sub > /dev/null
rm -f sub/c.txt
cat /nonexistent-ctw41 2>/dev/null
echo ping | busybox nc 127.0.0.1 $port
true
EOF

# "name calls errors" per syscall from a strace -c table
counts() {
	awk '$1 ~ /^[0-9.]+$/ && $NF != "total" { print $NF, $4, (NF == 6 ? $5 : 0) }' "$1" | sort
}

rm -rf "$dir"; mkdir -p "$dir"
# in the background like the traced run below: a background job starts with
# SIGINT and SIGQUIT ignored, which changes how many rt_sigaction ash makes
strace -f -c -o "$CTW_WORK/strace.txt" /bin/busybox sh "$wl" </dev/null &
wait $!
counts "$CTW_WORK/strace.txt" >"$CTW_WORK/strace.counts"

rm -rf "$dir"; mkdir -p "$dir"
fifo=$CTW_WORK/trace41.fifo
mkfifo "$fifo"
sh -c 'echo $$ > "$1/cgroup.procs" && exec /bin/busybox sh "$2" < "$0"' "$fifo" "$cg" "$wl" &
wl_pid=$!
wait_for 5 grep -qx "$wl_pid" "$cg/cgroup.procs"
"$CTW_BIN" trace -c -o "$CTW_WORK/ctrwatch.txt" "$cg" 2>"$CTW_WORK/ctrwatch.err" &
tracer=$!
wait_for 10 grep -q attached "$CTW_WORK/ctrwatch.err"
echo >"$fifo"
wait "$wl_pid"
wait_for 5 rmdir "$cg"
wait_for 10 sh -c "! kill -0 $tracer 2>/dev/null" || kill -INT "$tracer"
wait "$tracer"
counts "$CTW_WORK/ctrwatch.txt" >"$CTW_WORK/ctrwatch.counts"

t_cmp "strace saw a real workload" "$(wc -l <"$CTW_WORK/strace.counts")" -ge 25
t_eq "same set of syscalls (strace only | ctrwatch only)" "" \
	"$(comm -3 <(cut -d' ' -f1 "$CTW_WORK/strace.counts") <(cut -d' ' -f1 "$CTW_WORK/ctrwatch.counts") | tr '\n\t' ' |')"

declare -A sc se cc ce
while read -r n c e; do sc[$n]=$c; se[$n]=$e; done <"$CTW_WORK/strace.counts"
while read -r n c e; do cc[$n]=$c; ce[$n]=$e; done <"$CTW_WORK/ctrwatch.counts"
bad=()
for n in "${!sc[@]}"; do
	want=$(( ${sc[$n]} + ${expect_extra[$n]:-0} ))
	[ "${cc[$n]:-0}" = "$want" ] || bad+=("$n calls: strace ${sc[$n]} ctrwatch ${cc[$n]:-0} (expected $want)")
	[ "${ce[$n]:-0}" = "${se[$n]}" ] || bad+=("$n errors: strace ${se[$n]} ctrwatch ${ce[$n]:-0}")
done
t_eq "same calls and errors per syscall (apart from the launcher's exec)" "" "${bad[*]:-}"
for n in connect socket execve clone wait4 openat; do
	t_eq "$n: ctrwatch count equals strace's" "${sc[$n]:-missing}" "${cc[$n]:-missing}"
done
