#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The store and the containers' directories, tried for real: root in a
# container plants a setuid-root copy of a program in its upper layer (and
# in the /etc/hosts ctrwatch binds in from the state directory), and an
# unprivileged user of the host runs it.  Before, containers/ and each
# container's directory were 0755 below a 0711 store root (and the state
# directory 0711): the host user became root.  Now the store root,
# containers/ and each container's directories are 0700, an existing store
# with looser modes is fixed (with a warning) and one that is not ours is
# refused.
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd setpriv

require_helper ctw-hostile
H=$CTW_BUILD/tests/helpers
# A store and state an unprivileged user could reach but for their modes
# (the suites' own work directory is 0700).
S=$(mktemp -d /tmp/ctw17.XXXXXX)
chmod 0755 "$S"
on_exit "rm -rf '$S'"
export CTRWATCH_ROOT=$S/root CTRWATCH_STATE=$S/state
on_exit 'ctw rm -f store17 >/dev/null 2>&1; ctw gc'
# (the unprivileged shell makes the exec: setpriv's own exec of a path is not
# a fair test of what the user may reach)
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups /bin/sh -c 'exec "$@"' nobody "$@"; }
mode() { stat -c %a "$1"; }

id=$(ctw run -d --name store17 -v "$H:/t:ro" busybox sh -c \
	'cp /t/ctw-hostile /planted; chmod 4755 /planted
	 cat /t/ctw-hostile >/etc/hosts; chmod 4755 /etc/hosts; touch /planted.done; sleep 30')
wait_for 5 test -e "$CTRWATCH_ROOT/containers/$id/upper/planted.done"
t_ok "the container planted a setuid-root program in its upper layer" \
	test -u "$CTRWATCH_ROOT/containers/$id/upper/planted"
t_match "  ... and made the /etc/hosts bound from its state directory one" '^4755$' \
	"$(mode "$CTRWATCH_STATE/$id/hosts")"
out=$(nobody "$CTRWATCH_ROOT/containers/$id/upper/planted" euid - 0 2>&1)
t_nomatch "a host user cannot run it through the store" 'euid=' "$out"
t_match "  ... the way is closed: permission denied" 'Permission denied' "$out"
t_nomatch "  ... nor through the state directory" 'euid=' \
	"$(nobody "$CTRWATCH_STATE/$id/hosts" euid - 0 2>&1)"
t_eq "store root, containers/, the container's directory: 0700" "700 700 700" \
	"$(mode "$CTRWATCH_ROOT") $(mode "$CTRWATCH_ROOT/containers") $(mode "$CTRWATCH_ROOT/containers/$id")"
t_eq "the container's state directory: 0700" 700 "$(mode "$CTRWATCH_STATE/$id")"
t_eq "  ... its upper layer keeps 0755 (the container's /)" 755 \
	"$(mode "$CTRWATCH_ROOT/containers/$id/upper")"
ctw rm -f store17 >/dev/null

# A store made by an older ctrwatch (or by hand) with loose modes is fixed.
chmod 0755 "$CTRWATCH_ROOT" "$CTRWATCH_ROOT/containers"
out=$(ctw run busybox true 2>&1)
t_match "a loose store root is fixed, with a warning naming it" \
	"$CTRWATCH_ROOT was mode 0755, now 0700" "$out"
t_eq "  ... store root and containers/ are 0700 again" "700 700" \
	"$(mode "$CTRWATCH_ROOT") $(mode "$CTRWATCH_ROOT/containers")"
chmod 0755 "$CTRWATCH_ROOT"
t_match "ctrwatch import fixes it too" "was mode 0755, now 0700" \
	"$(ctw import /dev/null x 2>&1)"

# One that is not ours is refused, not used.
chown 65534 "$CTRWATCH_ROOT/containers"
out=$(ctw run busybox true 2>&1)
rc=$?
t_eq "a containers/ owned by another user: the run is refused (125)" 125 "$rc"
t_match "  ... naming it" "containers is owned by uid 65534, not by us" "$out"
chown 0 "$CTRWATCH_ROOT/containers"

# gc while containers start: nothing a starting run uses is touched (the
# spare directory it claimed, its state).  4 x 15 runs, gc in a loop.
(while :; do ctw gc >/dev/null 2>&1; done) &
gcloop=$!
on_exit "kill $gcloop 2>/dev/null"
for k in 1 2 3 4; do
	(f=0; for _ in $(seq 15); do
		ctw run busybox true >/dev/null 2>>"$S/race.err" || f=$((f + 1))
	done; echo "$f" >"$S/fails.$k") &
done
wait_for 120 test -e "$S/fails.1" -a -e "$S/fails.2" -a -e "$S/fails.3" -a -e "$S/fails.4"
kill "$gcloop" 2>/dev/null
wait "$gcloop" 2>/dev/null
fails=$(cat "$S"/fails.* | awk '{s += $1} END {print s + 0}')
t_eq "60 runs while gc runs in a loop: none fails" 0 "$fails"
[ "$fails" -eq 0 ] || sed 's/^/#   /' "$S/race.err" | sort | uniq -c | head -5

# gc after kills: a state directory without its state file (a run killed
# while it wrote its first state, or while its state went) is removed; a
# live one is not.
ctw run -d --name live17 busybox sleep 60 >/dev/null
torn=$CTRWATCH_STATE/$(printf 'a%.0s' $(seq 64))
empty=$CTRWATCH_STATE/$(printf 'b%.0s' $(seq 64))
mkdir -p "$torn" "$empty"
echo '{"id": "aaa' >"$torn/.state.json.tmp"
echo 'nameserver 1.1.1.1' >"$torn/resolv.conf"
ctw gc >/dev/null
t_ok "gc removes a torn state directory" test ! -e "$torn"
t_ok "  ... and an empty one" test ! -e "$empty"
t_eq "  ... not a running container's" running "$(ctw inspect live17 | jq -r '.[0].status')"
ctw rm -f live17 >/dev/null
# For real: runs killed at every stage of their start and end.  (The binary
# itself in the background: `ctw ... &` is a subshell, and killing it would
# leave the run going on behind gc's back.)
for i in $(seq 20); do
	"$CTW_BIN" run busybox true >/dev/null 2>&1 &
	sleep "0.0$((i % 10))"
	kill -KILL $! 2>/dev/null
	wait $! 2>/dev/null
done
ctw gc >/dev/null
t_eq "20 runs killed at random, then gc: no state directory is left" 0 \
	"$(find "$CTRWATCH_STATE" -mindepth 1 -maxdepth 1 -name '[0-9a-f]*' | wc -l)"

# A full disk: the log of a detached container cannot take its output.
F=$S/full
mkdir -p "$F"
mount -t tmpfs -o size=24m "ctw17-$$" "$F"
on_exit "ctw gc >/dev/null 2>&1; umount -l '$F'"
export CTRWATCH_ROOT=$F/root
ctw run busybox true >/dev/null # the busybox image, the seccomp cache
head -c $(( $(df --output=avail -B1 "$F" | tail -1) - 65536 )) /dev/zero >"$F/filler" 2>/dev/null
ctw run -d --name full17 busybox sh -c \
	'i=0; while [ $i -lt 3000 ]; do echo "line $i: some output to fill the log with"; i=$((i+1)); done' >/dev/null
ctw wait full17 >/dev/null
ctw logs full17 >"$S/logs.out" 2>"$S/logs.err"
lines=$(wc -l <"$S/logs.out")
lost=$(ctw inspect full17 | jq -r '.[0].log_lost_entries')
t_cmp "a full disk: entries were lost" "$lost" -gt 0
t_match "  ... logs says so on stderr" "log entries \([0-9]+ bytes\) of full17 were lost: the log could not take them \(No space left on device\)" \
	"$(cat "$S/logs.err")"
# (an entry is a line, or a piece of one that a read of the pipe cut)
t_cmp "  ... what was written plus what was lost covers every line" $((lines + lost)) -ge 3000
t_eq "  ... and the log holds whole lines only" 0 \
	"$(grep -cvE '^line [0-9]+: some output to fill the log with$' "$S/logs.out")"
t_match "  ... inspect shows why" '"log_lost_error": "No space left on device"' "$(ctw inspect full17)"
ctw rm -f full17 >/dev/null
