#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# runc's command line, operation by operation against the OCI runtime spec
# (runtime.md: create -> created, start -> running, kill, delete, state's
# fields, hooks' order and stdin, errors for unknown ids and wrong states),
# with runc and crun side by side on the same bundles: each check runs on
# the three, asserts ctrwatch, and says where the others differ ("# differs").
. "$(dirname "$0")/../lib.sh"
require_root

W=$CTW_WORK/oci91
mkdir -p "$W"
CG=$CTRWATCH_CGROUP_PARENT/oci91
# runc and crun read a relative cgroupsPath against PID 1's cgroups, which
# on a hybrid host is not ours in every hierarchy (the v1 memory one): their
# bundles get the absolute path below ours everywhere
oci_cgroup_path "$CG"
CG_ABS=$OCI_CG_PATH
# the engines' name for us: a link whose name ends in "runc"
ln -sf "$CTW_BIN" "$W/ctrwatch-runc"
RUNTIMES=(ctrwatch)
for r in runc crun; do command -v "$r" >/dev/null && RUNTIMES+=("$r"); done

rt() { # runtime args...: each with a state root of its own
	local r=$1; shift
	case $r in
	ctrwatch) "$W/ctrwatch-runc" --root "$W/state-$r" "$@" ;;
	crun)
		# crun 1.8 refuses hybrid hosts ("cgroups in hybrid mode not
		# supported"): there it runs where the v2 tree is unmounted (in a
		# mount namespace of its own), managing the v1 hierarchies only
		if [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
			unshare -m sh -c 'umount /sys/fs/cgroup/unified && exec "$@"' sh \
				crun --root "$W/state-$r" "$@"
		else
			crun --root "$W/state-$r" "$@"
		fi
		;;
	*) "$r" --root "$W/state-$r" "$@" ;;
	esac
}

cleanup() {
	local r id
	for r in "${RUNTIMES[@]}"; do
		for id in $(rt "$r" list -q 2>/dev/null); do rt "$r" delete -f "$id" >/dev/null 2>&1; done
	done
	cgroup_rm_tree "$CG"
	oci_cgroup_rm
}
on_exit cleanup

# A busybox rootfs, shared read-only by every bundle.
ROOTFS=$W/rootfs
mkdir -p "$ROOTFS"/{bin,etc,tmp,proc,sys,dev}
cp /bin/busybox "$ROOTFS/bin/busybox"
for a in $("$ROOTFS/bin/busybox" --list); do
	[ "$a" = busybox ] || ln -sf busybox "$ROOTFS/bin/$a"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$ROOTFS/etc/passwd"
echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>"$ROOTFS/etc/passwd"

# bundle NAME RUNTIME JQ-FILTER: runc's default spec with rootfs, a cgroup
# of ours, no terminal, and the filter applied.  Prints the bundle's path.
bundle() {
	local b=$W/b-$1-$2 cg=$CG/$2-$1
	[ "$2" = ctrwatch ] || cg=$CG_ABS/$2-$1
	mkdir -p "$b"
	(cd "$b" && rt ctrwatch spec) || return 1
	jq --arg rootfs "$ROOTFS" --arg cg "$cg" '
		.root.path = $rootfs | .root.readonly = true | .process.terminal = false |
		.linux.cgroupsPath = $cg | .annotations = {"org.test": "v"} | '"${3:-.}" \
		"$b/config.json" >"$b/c.tmp" && mv "$b/c.tmp" "$b/config.json"
	echo "$b"
}

# A runtime that cannot run a bundle here is left out (said so).
for i in "${!RUNTIMES[@]}"; do
	r=${RUNTIMES[$i]}
	[ "$r" = ctrwatch ] && continue
	b=$(bundle probe "$r" '.process.args = ["true"]')
	if ! rt "$r" run --bundle "$b" "probe-$r" >/dev/null 2>"$W/probe-$r"; then
		echo "# $r left out here: $(tail -1 "$W/probe-$r")"
		rt "$r" delete -f "probe-$r" >/dev/null 2>&1
		unset "RUNTIMES[$i]"
	fi
done
RUNTIMES=("${RUNTIMES[@]}")

# Each runtime's answer goes to $W/out-RUNTIME-NAME; ctrwatch's is checked,
# the others are compared with it.
differs() { # name: say which runtimes answer otherwise than ctrwatch
	local r
	for r in "${RUNTIMES[@]:1}"; do
		cmp -s "$W/out-ctrwatch-$1" "$W/out-$r-$1" ||
			echo "# differs: $1: $r answers '$(tr '\n' ' ' <"$W/out-$r-$1" | head -c 200)', ctrwatch '$(tr '\n' ' ' <"$W/out-ctrwatch-$1" | head -c 200)'"
	done
}
rec() { # runtime name cmd...: its stdout and exit status
	local r=$1 n=$2; shift 2
	"$@" >"$W/out-$r-$n" 2>"$W/err-$r-$n"
	echo "exit $?" >>"$W/out-$r-$n"
}
out() { cat "$W/out-ctrwatch-$1"; }

# ---- create, state, start, kill, delete ----
for r in "${RUNTIMES[@]}"; do
	b=$(bundle life "$r" '.process.args = ["sh", "-c", "echo started > /proc/self/fd/1; exec sleep 60"]')
	id=life-$r
	rt "$r" create --bundle "$b" --pid-file "$W/pid-$r" "$id" >"$W/create-$r.out" 2>&1
	cp "$W/create-$r.out" "$W/create-$r.out0"
	rec "$r" created-status sh -c "$(declare -f rt); W=$W; rt $r state $id | jq -r .status"
	rt "$r" state "$id" >"$W/state-$r.json"
	rec "$r" state-fields jq -r '[(.ociVersion | startswith("1.")), .id, (.pid > 0), .bundle, .annotations["org.test"]] | map(tostring) | join(" ")' "$W/state-$r.json"
	rec "$r" pid-file-is-pid sh -c "test \"\$(cat $W/pid-$r)\" = \"\$(jq .pid $W/state-$r.json)\" && echo same"
	# the user's process has not run yet: the init waits
	rec "$r" init-waits sh -c "tr '\\0' ' ' </proc/\$(cat $W/pid-$r)/cmdline | grep -q 'sleep 60' && echo ran || echo waits"
	# what waits in the container is no binary it could write (CVE-2019-5736)
	rec "$r" init-exe-ro python3 -c "import os, sys; print('ro' if os.statvfs('/proc/%s/exe' % open('$W/pid-$r').read().strip()).f_flag & os.ST_RDONLY else 'rw')"
	rec "$r" create-again rt "$r" create --bundle "$b" "$id"
	rec "$r" start rt "$r" start "$id"
	wait_for 5 sh -c "tr '\\0' ' ' </proc/\$(cat $W/pid-$r)/cmdline | grep -q 'sleep 60'"
	rec "$r" running-status sh -c "$(declare -f rt); W=$W; rt $r state $id | jq -r .status"
	rec "$r" start-again rt "$r" start "$id"
	rec "$r" delete-running rt "$r" delete "$id"
	rec "$r" list sh -c "$(declare -f rt); W=$W; rt $r list --format json | jq -r '.[] | .id + \" \" + .status'"
	rec "$r" ps sh -c "$(declare -f rt); W=$W; rt $r ps --format json $id | jq -r 'length'"
	rec "$r" kill rt "$r" kill "$id" KILL
	wait_for 5 sh -c "$(declare -f rt); W=$W; rt $r state $id | jq -e '.status == \"stopped\"'"
	rec "$r" stopped-status sh -c "$(declare -f rt); W=$W; rt $r state $id | jq -r .status"
	rec "$r" kill-stopped rt "$r" kill "$id" KILL
	rec "$r" delete rt "$r" delete "$id"
	rec "$r" state-after-delete rt "$r" state "$id"
	rec "$r" unknown-state rt "$r" state nosuch
	rec "$r" unknown-start rt "$r" start nosuch
	rec "$r" unknown-kill rt "$r" kill nosuch
	rec "$r" unknown-delete rt "$r" delete nosuch
	rec "$r" unknown-delete-force rt "$r" delete -f nosuch
done
t_eq "create prints nothing" "" "$(cat "$W/create-ctrwatch.out0")"
t_eq "the process writes to create's stdout (inherited, as engines expect)" started "$(cat "$W/create-ctrwatch.out")"
t_eq "create: status created" "created exit 0" "$(out created-status | tr '\n' ' ' | sed 's/ $//')"
t_eq "state: ociVersion, id, pid, absolute bundle, annotations" "true life-ctrwatch true $W/b-life-ctrwatch v exit 0" "$(out state-fields | tr '\n' ' ' | sed 's/ $//')"
t_eq "--pid-file holds the init's pid" "same exit 0" "$(out pid-file-is-pid | tr '\n' ' ' | sed 's/ $//')"
t_eq "created: the process has not run" "waits exit 0" "$(out init-waits | tr '\n' ' ' | sed 's/ $//')"
t_eq "created: the init's binary is read-only (runc CVE-2019-5736)" "ro exit 0" "$(out init-exe-ro | tr '\n' ' ' | sed 's/ $//')"
t_eq "create of an existing id fails" "exit 1" "$(out create-again)"
t_match "... naming the id" 'life-ctrwatch.*(exists|already)' "$(cat "$W/err-ctrwatch-create-again")"
t_eq "start exits 0" "exit 0" "$(out start)"
t_eq "start: status running" "running exit 0" "$(out running-status | tr '\n' ' ' | sed 's/ $//')"
t_eq "start of a running container fails" "exit 1" "$(out start-again)"
t_eq "delete of a running container fails" "exit 1" "$(out delete-running)"
t_eq "list --format json" "life-ctrwatch running exit 0" "$(out list | tr '\n' ' ' | sed 's/ $//')"
t_eq "ps --format json: one pid" "1 exit 0" "$(out ps | tr '\n' ' ' | sed 's/ $//')"
t_eq "kill KILL exits 0" "exit 0" "$(out kill)"
t_eq "killed: status stopped" "stopped exit 0" "$(out stopped-status | tr '\n' ' ' | sed 's/ $//')"
t_eq "delete of a stopped container" "exit 0" "$(out delete)"
t_eq "state after delete fails" "exit 1" "$(out state-after-delete)"
for op in state start kill delete; do
	t_eq "$op of an unknown id fails" "exit 1" "$(out "unknown-$op")"
done
t_match "... naming it" 'nosuch' "$(cat "$W/err-ctrwatch-unknown-state")"
t_eq "delete --force of an unknown id succeeds" "exit 0" "$(out unknown-delete-force)"
for n in created-status state-fields pid-file-is-pid init-waits init-exe-ro create-again start running-status \
	start-again delete-running list ps kill stopped-status kill-stopped delete state-after-delete \
	unknown-state unknown-start unknown-kill unknown-delete unknown-delete-force; do
	sed -i "s/life-[a-z]*/life-X/g" "$W"/out-*-"$n"
	differs "$n"
done
t_eq "nothing left of the container's cgroup" "" "$(for d in $(cgroup_dirs "$CG/ctrwatch-life"); do [ -d "$d" ] && echo "$d"; done)"

# ---- hooks: order, where they run, the state on stdin ----
# Each hook appends its name to the log and saves its stdin.
for r in "${RUNTIMES[@]}"; do
	log=$W/hooks-$r
	: >"$log"
	hook() { # kind: a hook that saves its stdin and logs its kind
		printf '{"path": "/bin/sh", "args": ["sh", "-c", "cat > %s.%s.json; echo %s >> %s"]}' "$log" "$1" "$1" "$log"
	}
	f='.hooks = {"prestart": ['"$(hook prestart)"'], "createRuntime": ['"$(hook createRuntime)"'],
		"createContainer": ['"$(hook createContainer)"'], "poststart": ['"$(hook poststart)"'],
		"poststop": ['"$(hook poststop)"'],
		"startContainer": [{"path": "/bin/busybox", "args": ["busybox", "sh", "-c", "cat > /tmp/sc-'"$r"'.json"]}]} |
		.process.args = ["sh", "-c", "exit 0"] |
		.root.readonly = false'
	b=$(bundle hooks "$r" "$f")
	id=hooks-$r
	rt "$r" create --bundle "$b" "$id" >/dev/null 2>&1
	cp "$log" "$W/hooks-after-create-$r"
	rt "$r" start "$id" >/dev/null 2>&1
	wait_for 5 sh -c "$(declare -f rt); W=$W; rt $r state $id | jq -e '.status == \"stopped\"'"
	rt "$r" delete "$id" >/dev/null 2>&1
	rec "$r" hooks-start-container jq -r '[.id, .status, (.pid > 0)] | map(tostring) | join(",")' "$ROOTFS/tmp/sc-$r.json"
	rm -f "$ROOTFS/tmp/sc-$r.json"
	rec "$r" hooks-order sh -c "tr '\n' ' ' <$log"
	rec "$r" hooks-create-order sh -c "tr '\n' ' ' <$W/hooks-after-create-$r"
	rec "$r" hooks-stdin sh -c "for k in prestart createRuntime createContainer poststart poststop; do jq -r '[.id, .status, (.pid > 0)] | map(tostring) | join(\",\")' $log.\$k.json; done | tr '\n' ' '"
done
t_eq "hooks: prestart, createRuntime, createContainer in create" "prestart createRuntime createContainer exit 0" "$(out hooks-create-order | tr '\n' ' ' | sed 's/ $//')"
t_eq "hooks: poststart after start, poststop at delete" "prestart createRuntime createContainer poststart poststop exit 0" "$(out hooks-order | tr '\n' ' ' | sed 's/ $//')"
t_match "hooks: the state on stdin (id, status, pid)" '^hooks-ctrwatch,creating,true hooks-ctrwatch,creating,true hooks-ctrwatch,creating,true hooks-ctrwatch,running,true hooks-ctrwatch,stopped,' "$(out hooks-stdin)"
# runc 1.1 runs poststart hooks in create, with the state "created"; the
# spec (config.md, Poststart): "called after the user-specified process is
# executed but before the start operation returns" - ctrwatch does that.
# The state on the create hooks' stdin: "creating" (runtime.md: "the
# container is being created"), as runc says; crun 1.8 says "created" and
# gives createContainer no pid (runtime.md: pid is required while created);
# for startContainer it says "starting", no status of the spec's, and no pid.
t_eq "hooks: startContainer, in the container (its /tmp), with the state" "hooks-ctrwatch,created,true exit 0" \
	"$(out hooks-start-container | tr '\n' ' ' | sed 's/ $//')"
differs hooks-order
differs hooks-create-order
sed -i "s/hooks-[a-z]*,/hooks-X,/g" "$W"/out-*-hooks-start-container
differs hooks-start-container
sed -i "s/hooks-[a-z]*,/hooks-X,/g" "$W"/out-*-hooks-stdin
differs hooks-stdin

# ---- a hook that fails: create fails, nothing is left ----
b=$(bundle badhook ctrwatch '.hooks = {"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "echo no way; exit 3"]}]}')
err=$(rt ctrwatch create --bundle "$b" badhook 2>&1)
t_eq "a failing createRuntime hook fails create" 1 $?
t_match "... saying which hook, its status and output" 'createRuntime.*(3|status).*no way' "$err"
t_fail "... and leaves no container" rt ctrwatch state badhook
t_eq "... nor its cgroup" "" "$(for d in $(cgroup_dirs "$CG/ctrwatch-badhook"); do [ -d "$d" ] && echo "$d"; done)"

# ---- config.json errors name the field, leave nothing ----
b=$(bundle badcfg ctrwatch '.linux.resources = {"memory": {"limit": "lots"}}')
err=$(rt ctrwatch create --bundle "$b" badcfg 2>&1)
t_eq "invalid config.json: create fails" 1 $?
t_match "... naming the field" 'config.json: linux.resources.memory.limit: not a number' "$err"
t_fail "... and leaves no container" rt ctrwatch state badcfg
b=$(bundle badns ctrwatch '.linux.namespaces += [{"type": "bogus"}]')
t_match "an unknown namespace type is named" 'linux.namespaces.*bogus' "$(rt ctrwatch create --bundle "$b" badns 2>&1)"
b=$(bundle goodcfg ctrwatch)
t_match "a bad id is refused, named" "\\.\\./x" "$(rt ctrwatch create --bundle "$b" '../x' 2>&1)"
t_match "a missing bundle is named" "$W/nosuch" "$(rt ctrwatch create --bundle "$W/nosuch" nob 2>&1)"

# ---- run: foreground exit status, output; exec ----
b=$(bundle run ctrwatch '.process.args = ["sh", "-c", "echo out; echo err >&2; exit 7"]')
t_eq "run: the process's stdout" out "$(rt ctrwatch run --bundle "$b" run1 2>/dev/null)"
rt ctrwatch run --bundle "$b" run2 >/dev/null 2>&1
t_eq "run: its exit status" 7 $?
t_fail "run: the container is gone after" rt ctrwatch state run2
b=$(bundle exec ctrwatch '.process.args = ["sleep", "60"] | .hostname = "oci91"')
rt ctrwatch run -d --bundle "$b" ex1 >/dev/null 2>&1
t_eq "run -d: running" running "$(rt ctrwatch state ex1 | jq -r .status)"
t_eq "exec: in the container (hostname)" oci91 "$(rt ctrwatch exec ex1 hostname)"
rt ctrwatch exec ex1 sh -c 'exit 4'
t_eq "exec: its exit status" 4 $?
t_eq "exec --env --cwd" "v:/tmp" "$(rt ctrwatch exec --env X=v --cwd /tmp ex1 sh -c 'echo $X:$(pwd)')"
t_eq "exec --user" "65534" "$(rt ctrwatch exec --user 65534:65534 ex1 id -u)"
ipid=$(rt ctrwatch state ex1 | jq .pid)
for ns in pid mnt uts ipc; do
	t_eq "exec: the container's $ns namespace" "$(readlink "/proc/$ipid/ns/$ns")" "$(rt ctrwatch exec ex1 readlink "/proc/self/ns/$ns")"
done
jq -n '{args: ["sh", "-c", "echo $A"], env: ["A=proc"], cwd: "/", user: {uid: 0, gid: 0}}' >"$W/process.json"
t_eq "exec --process FILE" proc "$(rt ctrwatch exec --process "$W/process.json" ex1)"
rt ctrwatch exec -d --pid-file "$W/expid" ex1 sleep 30 >/dev/null 2>&1
t_ok "exec --detach --pid-file: the pid runs" kill -0 "$(cat "$W/expid")"
t_eq "ps: both processes" 2 "$(rt ctrwatch ps --format json ex1 | jq length)"

# ---- pause, resume, update, events --stats ----
t_ok "pause" rt ctrwatch pause ex1
t_eq "paused: status" paused "$(rt ctrwatch state ex1 | jq -r .status)"
t_eq "paused: frozen in the kernel" "frozen 1" "$(grep frozen "$(cgroup2_dir "$CG/ctrwatch-exec")/cgroup.events")"
t_ok "resume" rt ctrwatch resume ex1
t_eq "resumed: running" running "$(rt ctrwatch state ex1 | jq -r .status)"
echo '{"pids": {"limit": 42}}' >"$W/res.json"
t_ok "update --resources FILE" rt ctrwatch update --resources "$W/res.json" ex1
pids_max=
for d in $(cgroup_dirs "$CG/ctrwatch-exec"); do
	[ -f "$d/pids.max" ] && pids_max=$(cat "$d/pids.max")
done
t_eq "... sets pids.max" 42 "$pids_max"
t_ok "update --pids-limit" rt ctrwatch update --pids-limit 43 ex1
stats=$(rt ctrwatch events --stats ex1)
t_eq "events --stats: a stats event" stats "$(jq -r .type <<<"$stats")"
t_eq "... with the pids limit" 43 "$(jq -r .data.pids.limit <<<"$stats")"
t_match "... and memory usage" '^[1-9][0-9]*$' "$(jq -r .data.memory.usage.usage <<<"$stats")"
t_ok "kill --all" rt ctrwatch kill --all ex1 KILL
wait_for 5 sh -c "$(declare -f rt); W=$W; rt ctrwatch state ex1 | jq -e '.status == \"stopped\"'"
t_ok "delete" rt ctrwatch delete ex1

# SIGKILL a create while its createRuntime hook (a sleep) runs; the hook too.
kill_create_in_hook() { # pid
	local hook
	wait_for 5 pgrep -P "$1" -x sleep
	hook=$(pgrep -P "$1" -x sleep)
	kill -KILL "$1"
	wait "$1" 2>/dev/null
	[ -n "$hook" ] && kill -KILL "$hook"
}

# ---- a create killed midway: delete --force leaves nothing ----
b=$(bundle killed ctrwatch '.hooks = {"createRuntime": [{"path": "/bin/sleep", "args": ["sleep", "30"]}]}')
"$W/ctrwatch-runc" --root "$W/state-ctrwatch" create --bundle "$b" killed >/dev/null 2>&1 &
kill_create_in_hook $!
t_ok "delete --force after a SIGKILLed create" rt ctrwatch delete --force killed
t_fail "... no container left" rt ctrwatch state killed
t_eq "... no cgroup left" "" "$(for d in $(cgroup_dirs "$CG/ctrwatch-killed"); do [ -d "$d" ] && echo "$d"; done)"

# ... and `ctrwatch gc` does too (a creator gone before create finished)
b=$(bundle killed2 ctrwatch '.hooks = {"createRuntime": [{"path": "/bin/sleep", "args": ["sleep", "30"]}]}')
"$W/ctrwatch-runc" --root "$W/state-ctrwatch" create --bundle "$b" killed2 >/dev/null 2>&1 &
kill_create_in_hook $!
t_match "ctrwatch gc after a SIGKILLed create" '^removed [1-9]' "$(ctw gc)"
t_fail "... no container left" rt ctrwatch state killed2
t_eq "... no cgroup left" "" "$(for d in $(cgroup_dirs "$CG/ctrwatch-killed2"); do [ -d "$d" ] && echo "$d"; done)"

# ---- the terminal: the master to --console-socket ----
b=$(bundle tty ctrwatch '.process.terminal = true | .process.args = ["sh", "-c", "tty; test -t 0 && echo interactive"]')
python3 - "$W/console.sock" >"$W/console.out" 2>&1 <<'EOF' &
import socket, sys, os, array
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1); s.settimeout(20)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 1024, 1)
master = fds[0]
out = b""
while True:
    try:
        d = os.read(master, 4096)
    except OSError:
        break
    if not d:
        break
    out += d
print(out.decode(errors="replace").replace("\r", ""), end="")
EOF
spid=$!
wait_for 5 test -S "$W/console.sock"
rt ctrwatch create --bundle "$b" --console-socket "$W/console.sock" tty1 >/dev/null 2>&1
t_eq "--console-socket: create succeeds" created "$(rt ctrwatch state tty1 | jq -r .status)"
rt ctrwatch start tty1
wait_for 10 sh -c "! kill -0 $spid"
kill $spid 2>/dev/null
t_match "the process has a terminal (from the master we were sent)" '/dev/pts/[0-9]+.*interactive' "$(tr '\n' ' ' <"$W/console.out")"
rt ctrwatch delete -f tty1

# ---- io.ctrwatch.trace: traced in the kernel from the first execve ----
b=$(bundle trace ctrwatch '.annotations["io.ctrwatch.trace"] = "-e trace=execve,openat -o '"$W"'/trace.txt" |
	.process.args = ["sh", "-c", "cat /etc/passwd > /dev/null"]')
# (create's stdout is the process's: not a pipe of ours that would wait)
rt ctrwatch create --bundle "$b" tr1 >"$W/tr1.out" 2>&1
t_eq "annotated create: attached before it returns" 0 $?
t_match "... the tracer says where" 'attached to' "$(cat "$W/state-ctrwatch/tr1/trace.err")"
rt ctrwatch start tr1
wait_for 5 sh -c "$(declare -f rt); W=$W; rt ctrwatch state tr1 | jq -e '.status == \"stopped\"'"
rt ctrwatch delete tr1
wait_for 5 grep -q 'exited with' "$W/trace.txt"
t_match "the trace's first line is the process's execve" '^[0-9]+ +execve\("/bin/sh", \["sh", "-c", "cat /etc/passwd' "$(head -1 "$W/trace.txt")"
t_match "... then its calls (cat's openat)" 'openat\(AT_FDCWD, "/etc/passwd"' "$(cat "$W/trace.txt")"
b=$(bundle badtrace ctrwatch '.annotations["io.ctrwatch.trace"] = "--no-such-option"')
rt ctrwatch create --bundle "$b" tr2 >"$W/tr2.out" 2>&1
t_match "bad trace options: create fails, naming the annotation" 'io.ctrwatch.trace: .*no-such-option' \
	"$(cat "$W/tr2.out")"
t_fail "... and leaves no container" rt ctrwatch state tr2
# The global --annotation: a default for what config.json does not set
# (runtimeArgs of an engine's runtime handler), config.json's own win.
b=$(bundle dflt ctrwatch '.process.args = ["true"] | .annotations["org.own"] = "bundle"')
"$W/ctrwatch-runc" --annotation org.added=1 --annotation org.own=global --annotation=org.eq=a=b \
	--root "$W/state-ctrwatch" create --bundle "$b" an1 >/dev/null 2>&1
t_eq "--annotation: added where config.json lacks it, config.json's own kept" "1 bundle a=b v" \
	"$(rt ctrwatch state an1 | jq -r '[.annotations["org.added"], .annotations["org.own"], .annotations["org.eq"], .annotations["org.test"]] | join(" ")')"
rt ctrwatch delete -f an1
"$W/ctrwatch-runc" --annotation =x --root "$W/state-ctrwatch" create --bundle "$b" an2 >"$W/an2.out" 2>&1
t_eq "--annotation =x: create fails (exit 1)" 1 $?
t_match "... naming the option" '--annotation =x: not KEY=VALUE' "$(cat "$W/an2.out")"
t_fail "... and leaves no container" rt ctrwatch state an2

# ---- io.ctrwatch.seccomp-record: record (in the kernel, from the first
# execve), then enforce the profile with ctrwatch run ----
b=$(bundle rec ctrwatch '.annotations["io.ctrwatch.seccomp-record"] = "'"$W"'/rec.json" |
	.process.args = ["sh", "-c", "cat /etc/passwd > /dev/null; echo recorded"]')
rt ctrwatch create --bundle "$b" rec1 >"$W/rec1.out" 2>&1
t_eq "seccomp-record: create attaches the recorder before it returns" 0 $?
rt ctrwatch start rec1
wait_for 10 sh -c "$(declare -f rt); W=$W; rt ctrwatch state rec1 | jq -e '.status == \"stopped\"'"
rt ctrwatch delete rec1
wait_for 20 test -s "$W/rec.json" # (written as the tracer ends: slow on a loaded host)
t_eq "seccomp-record: the profile allows what the container called, refuses the rest" \
	"SCMP_ACT_ERRNO true true false" \
	"$(jq -r '[.defaultAction, ([.syscalls[].names[]] | index("execve") != null),
		([.syscalls[].names[]] | index("openat") != null),
		([.syscalls[].names[]] | index("mount") != null)] | map(tostring) | join(" ")' "$W/rec.json")"
t_match "  ... the command ran and its output went through (write)" \
	'recorded' "$(cat "$W/rec1.out")"
t_eq "  ... write is in the profile" true \
	"$(jq '[.syscalls[].names[]] | index("write") != null' "$W/rec.json")"
# Fed back: ctrwatch run installs it in ctrwatch-stub right before the
# command's execve, so a profile of the command alone starts it (nothing of
# the runtime's own - PATH lookup, execveat of the stub - runs under it),
# and what the command never called stays refused.
out=$(ctw run --rootfs "$ROOTFS" --security-opt "seccomp=$W/rec.json" \
	sh -c "cat /etc/passwd > /dev/null; echo recorded" 2>&1)
t_eq "seccomp-record: run under the recorded profile: the same command runs" "0 recorded" \
	"$? $out"
out=$(ctw run --rootfs "$ROOTFS" --security-opt "seccomp=$W/rec.json" \
	sh -c "mkdir /tmp/x && echo made" 2>&1)
t_match "  ... a call it never made (mkdir) is refused" "Operation not permitted" "$out"
b=$(bundle badrec ctrwatch '.annotations["io.ctrwatch.seccomp-record"] = "rel.json"')
rt ctrwatch create --bundle "$b" rec2 >"$W/rec2.out" 2>&1
t_match "seccomp-record: a relative path fails create, naming the annotation" \
	'io.ctrwatch.seccomp-record: "rel.json" is not an absolute path' "$(cat "$W/rec2.out")"
t_fail "  ... and leaves no container" rt ctrwatch state rec2

# ---- rlimits: one that cannot be set fails the start (runc: "error setting
# rlimit type 7"), naming it; nothing runs and nothing is left ----
nr_open=$(cat /proc/sys/fs/nr_open)
for r in "${RUNTIMES[@]}"; do
	b=$(bundle rlim "$r" '.process.args = ["sh", "-c", "echo ran"]
		| .process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": '"$((nr_open + 1))"', "hard": '"$((nr_open + 1))"'}]')
	rec "$r" rlimit-fails sh -c "$(declare -f rt); W=$W; rt $r run --bundle $b rlim-$r"
	rt "$r" delete -f "rlim-$r" >/dev/null 2>&1
done
# (create itself fails, as in runc and crun: the limits are set before the
# init reports ready, not in its last steps after start)
t_eq "rlimits: NOFILE above fs.nr_open: create fails (exit 1), the process never runs" \
	"exit 1" "$(out rlimit-fails)"
t_match "  ... the error names the limit" 'process.rlimits: setrlimit RLIMIT_NOFILE' \
	"$(cat "$W/err-ctrwatch-rlimit-fails")"
t_eq "  ... nothing left in the state root" "" "$(rt ctrwatch list -q | grep rlim)"
differs rlimit-fails

# ---- features, spec, version, help ----
t_match "features: the OCI features document" '"ociVersionMax"' "$(rt ctrwatch features)"
t_eq "features: namespaces" true "$(rt ctrwatch features | jq '.linux.namespaces | index("pid") != null')"
t_match "--version names the spec" 'spec: 1\.' "$("$W/ctrwatch-runc" --version)"
t_match "create --help" 'Usage:.*create' "$("$W/ctrwatch-runc" create --help)"
t_match "an unknown command is named" 'frobnicate' "$("$W/ctrwatch-runc" frobnicate 2>&1)"
t_match "--log-format json: errors logged as JSON" '"level":"error".*nosuch' \
	"$("$W/ctrwatch-runc" --root "$W/state-ctrwatch" --log "$W/log.json" --log-format json state nosuch 2>/dev/null; cat "$W/log.json")"
t_eq "ctrwatch's own run, ps, kill keep their meaning" 0 "$(ctw ps -q | wc -l)"

# ---- the command line's syntax, as runc's CLI library reads it ----
# (what containerd, dockerd and conmon write: one or two dashes, --opt=value,
# --flag=false, options ending at the first operand; a bad one is exit 1)
syntax=(dash1 eq short badval badopt flagfalse badglobal kill-all)
for r in "${RUNTIMES[@]}"; do
	rec "$r" dash1 rt "$r" list -format json
	rec "$r" eq rt "$r" list --format=json
	rec "$r" short rt "$r" list -q
	rec "$r" badval rt "$r" list -f xml
	rec "$r" badopt rt "$r" state -bogus x
	rec "$r" flagfalse rt "$r" --debug=false list -q
	rec "$r" badglobal rt "$r" --bogus list
	rec "$r" kill-all rt "$r" kill -a nosuch
done
t_eq "-format json (one dash)" "[] exit 0" "$(out dash1 | tr '\n' ' ' | sed 's/ $//')"
t_eq "--format=json" "[] exit 0" "$(out eq | tr '\n' ' ' | sed 's/ $//')"
t_eq "-q" "exit 0" "$(out short)"
t_eq "-f xml: a bad value, exit 1" "exit 1" "$(out badval)"
t_match "  ... naming the option and the value" 'format xml' "$(cat "$W/err-ctrwatch-badval")"
t_eq "an unknown option: exit 1" "exit 1" "$(out badopt)"
t_eq "--debug=false" "exit 0" "$(out flagfalse)"
t_eq "an unknown global option: exit 1" "exit 1" "$(out badglobal)"
t_eq "kill -a of an unknown id: exit 1 (the option is read)" "exit 1" "$(out kill-all)"
t_match "  ... naming the id" 'nosuch' "$(cat "$W/err-ctrwatch-kill-all")"
for n in "${syntax[@]}"; do
	sed -i 's/^null$/[]/' "$W"/out-*-"$n" # runc lists no container as null
	differs "$n"
done

leftover=$(rt ctrwatch list -q)
t_eq "no container left in the state root" "" "$leftover"
