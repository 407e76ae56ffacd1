#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Leaked host fds (runc CVE-2024-21626 class), tried for real: a container
# watches /proc for the process `exec` starts and walks `..` from every
# directory its /proc/PID/{fd/N,cwd,root} reaches, looking for a host file;
# `run -w`, `exec -w` and an image's WorkingDir name /proc/self/fd/N (a
# directory fd the runtime held).  Each found the host's / before (the fd
# walk in the first exec or two, -w with fd 9, exec -w with fd 12); now none
# does, and a working directory in /proc is refused with a clear error.
# Also the init's signals (tini's: synchronous ones unblocked, SIGTTIN and
# SIGTTOU ignored).
. "$(dirname "$0")/../lib.sh"
require_root

require_helper ctw-hostile
H=$CTW_BUILD/tests/helpers
on_exit 'ctw gc'
W=$CTW_WORK/hostile15
mkdir -p "$W"
on_exit "rm -rf '$W'"
# The host file an escaped process looks for (a path from the host's /).
marker=$W/host-marker-$$
echo host >"$marker"

# The fd walk while `exec` starts processes: NAME [run options]
fdwalk() {
	local name=$1; shift
	# (it stops at its first escape, else when we stop it)
	ctw run -d --name "$name" "$@" -v "$H:/t:ro" busybox /t/ctw-hostile fdwalk "$marker" 120 \
		>/dev/null || return 1
	local ok=0
	for _ in $(seq 20); do
		ctw exec "$name" true && ok=$((ok + 1))
	done
	echo "execs=$ok"
	ctw logs "$name"
	ctw rm -f "$name" >/dev/null
}
out=$(fdwalk walk15)
t_match "exec: 20 processes started while a container walks their /proc/PID/{fd,cwd,root}" \
	'^execs=20' "$out"
t_nomatch "  ... none of them reaches the host's /" 'escaped' "$out"
out=$(fdwalk walk15p --cap-add SYS_PTRACE)
t_nomatch "  ... not even from a container with CAP_SYS_PTRACE (20 execs)" \
	'escaped|^execs=1?[0-9]$' "$out"

# The working directory names an fd: every fd number a runtime holds.
up=$(printf '../%.0s' $(seq 30))
probe="test -e $up${marker#/} && echo escaped || echo inside"
esc=0 msgs=0
for n in $(seq 3 16); do
	out=$(ctw run -w "/proc/self/fd/$n" busybox sh -c "$probe" 2>&1)
	rc=$?
	case $out in *escaped*) esc=$((esc + 1)) ;; esac
	[ $rc -eq 125 ] && [[ $out == *"working directory \`/proc/self/fd/$n\` is in /proc: refused"* ]] &&
		msgs=$((msgs + 1))
done
t_eq "run -w /proc/self/fd/N (N = 3..16): no container starts on the host" 0 "$esc"
t_eq "  ... each is refused (125) naming the directory" 14 "$msgs"

ctw run -d --name wd15 busybox sleep 60 >/dev/null
esc=0 msgs=0
for n in $(seq 3 16); do
	out=$(ctw exec -w "/proc/self/fd/$n" wd15 sh -c "$probe" 2>&1)
	rc=$?
	case $out in *escaped*) esc=$((esc + 1)) ;; esac
	[ $rc -eq 125 ] && [[ $out == *"is in /proc: refused"* ]] && msgs=$((msgs + 1))
done
t_eq "exec -w /proc/self/fd/N (N = 3..16): no process starts on the host" 0 "$esc"
t_eq "  ... each is refused (125)" 14 "$msgs"
out=$(ctw exec -w /proc wd15 pwd 2>&1)
t_match "exec -w /proc: refused" 'working directory `/proc` is in /proc: refused' "$out"
t_eq "exec -w /a/../proc/1: refused too" 125 "$(ctw exec -w /a/../proc/1 wd15 pwd >/dev/null 2>&1; echo $?)"
t_eq "exec -w of a new directory still works (made for the user)" "/srv/new nobody" \
	"$(ctw exec -u nobody -w /srv/new wd15 sh -c 'echo $(pwd) $(stat -c %U .)' 2>&1)"
ctw rm -f wd15 >/dev/null

t_match "run -w /proc: refused" 'working directory `/proc` is in /proc: refused' \
	"$(ctw run -w /proc busybox pwd 2>&1)"
t_eq "run -w of a new directory: made, owned by the user" "/data/x/y nobody" \
	"$(ctw run -u nobody -w /data/x/y busybox sh -c 'echo $(pwd) $(stat -c %U .)' 2>&1)"

# An image's WorkingDir: /proc/self/fd/N, and a symlink to it.
if command -v umoci >/dev/null && command -v python3 >/dev/null; then
	# shellcheck source=tests/integration/image-fixtures.bash
	. "$(dirname "$0")/image-fixtures.bash"
	export CTRWATCH_ROOT=$CTW_WORK/root-15
	on_exit "rm -rf '$CTRWATCH_ROOT'"
	L=$W/oci
	if img_layout "$L" >/dev/null 2>&1 &&
		img_add_layer "$L" v1 lnk "l:wd:/proc/1/cwd" >/dev/null 2>&1; then
		esc=0 msgs=0
		for n in $(seq 6 12); do
			umoci config --image "$L:v1" --tag "fd$n" --config.workingdir="/proc/self/fd/$n" \
				>/dev/null 2>&1 && ctw import "$L" "wd:fd$n" >/dev/null 2>&1 || continue
			out=$(ctw run "wd:fd$n" sh -c "$probe" 2>&1)
			case $out in *escaped*) esc=$((esc + 1)) ;; esac
			[[ $out == *"is in /proc: refused"* ]] && msgs=$((msgs + 1))
		done
		t_eq "image WorkingDir /proc/self/fd/N (N = 6..12): no container starts on the host" 0 "$esc"
		t_eq "  ... each refused" 7 "$msgs"
		umoci config --image "$L:lnk" --config.workingdir=/wd >/dev/null 2>&1
		ctw import "$L" wd:lnk >/dev/null 2>&1
		out=$(ctw run wd:lnk sh -c "$probe" 2>&1)
		t_match "image WorkingDir /wd, a symlink to /proc/1/cwd (a magic link): refused" \
			'working directory `/wd`: refused \(a magic link' "$out"
	else
		t_skip "image WorkingDir /proc/self/fd/N" "could not build the test image"
	fi
else
	t_skip "image WorkingDir /proc/self/fd/N" "needs umoci and python3"
fi

# The init: synchronous signals unblocked, terminal stop signals ignored.
ign=$(ctw run busybox awk '/^SigIgn/ {print $2}' /proc/1/status)
t_eq "init ignores SIGTTIN and SIGTTOU (tini)" 3 "$(((0x$ign >> 20) & 3))"
