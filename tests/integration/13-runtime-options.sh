#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run's options: environment, workdir, user, volumes, tmpfs, read-only root,
# entrypoint, stdin, tty, /dev and the image's config.
. "$(dirname "$0")/../lib.sh"
require_root
on_exit 'ctw gc'

t_eq "-e K=V" "v1" "$(ctw run -e K=v1 busybox sh -c 'echo $K')"
t_eq "-e K (from our env)" "mine" "$(FROMHOST=mine ctw run -e FROMHOST busybox sh -c 'echo $FROMHOST')"
printf 'A=1\n# comment\n\nB=two words\n' >"$CTW_WORK/env.list"
t_eq "--env-file" "1/two words" "$(ctw run --env-file "$CTW_WORK/env.list" busybox sh -c 'echo "$A/$B"')"
t_eq "-e overrides PATH" "/bin" "$(ctw run -e PATH=/bin busybox sh -c 'echo $PATH')"
t_eq "HOSTNAME in env" "envhost" "$(ctw run --name envhost busybox sh -c 'echo $HOSTNAME')"
t_eq "-w" "/tmp" "$(ctw run -w /tmp busybox pwd)"
t_eq "-w creates a missing dir" "/new/dir" "$(ctw run -w /new/dir busybox pwd)"
t_eq "-u nobody" "65534:65534" "$(ctw run -u nobody busybox sh -c 'echo $(id -u):$(id -g)')"
t_eq "-u 1234:5678 (numeric, not in passwd)" "1234:5678" "$(ctw run -u 1234:5678 busybox sh -c 'echo $(id -u):$(id -g)')"
t_eq "-u nobody:root (group by name)" "65534:0" "$(ctw run -u nobody:root busybox sh -c 'echo $(id -u):$(id -g)')"
out=$(ctw run -u nosuchuser busybox true 2>&1)
t_eq "-u unknown user: 125" 125 $?
t_match "-u unknown user: says so" 'unable to find user nosuchuser' "$out"

vol=$CTW_WORK/vol
mkdir -p "$vol"
echo host >"$vol/f"
t_eq "-v rw: read" "host" "$(ctw run -v "$vol:/data" busybox cat /data/f)"
ctw run -v "$vol:/data" busybox sh -c 'echo ctr > /data/g'
t_eq "-v rw: written through to the host" "ctr" "$(cat "$vol/g" 2>/dev/null)"
t_fail "-v ro: write refused" ctw run -v "$vol:/data:ro" busybox sh -c 'echo x > /data/h'
t_ok "-v ro: nothing written" test ! -e "$vol/h"
t_eq "-v ro: readable" "host" "$(ctw run -v "$vol:/data:ro" busybox cat /data/f)"
t_eq "-v of a file" "host" "$(ctw run -v "$vol/f:/etc/f1:ro" busybox cat /etc/f1)"
out=$(ctw run -v relative:/data busybox true 2>&1)
t_eq "-v with a relative host path: 125" 125 $?
t_match "--tmpfs" '^tmpfs /scratch tmpfs' "$(ctw run --tmpfs /scratch busybox grep ' /scratch ' /proc/mounts)"
t_fail "--read-only: root not writable" ctw run --read-only busybox touch /x
t_ok "--read-only: tmpfs still writable" ctw run --read-only --tmpfs /tmp busybox touch /tmp/x
t_ok "writes go to the container's own upper layer" \
	sh -c "'$CTW_BIN' run busybox sh -c 'echo x > /etc/x' && ! '$CTW_BIN' run busybox test -e /etc/x"
# The next container takes the emptied directory of the last (spare.c):
# nothing of what it wrote, removed or changed shows.
ctw run busybox sh -c 'echo x > /top; mkdir -p /d/e; echo y > /d/e/f; rm /bin/ls; setfattr -n user.k -v 1 /etc 2>/dev/null' >/dev/null
t_eq "a new container sees nothing of the last one's writes" "gone" \
	"$(ctw run busybox sh -c 'test -e /top || test -e /d || test ! -e /bin/ls || echo gone')"
ctw run busybox chmod 700 / >/dev/null
t_eq "nor its chmod of /" "755" "$(ctw run busybox stat -c %a /)"
# An upper layer removed at exit (foreground, or -d --rm) is not synced when
# it goes (volatile); a detached container's, which stays, is.
rootopts() { awk '$2 == "/" && $3 == "overlay" { print $4 }'; }
t_match "a removed container's upper layer is volatile" 'volatile' \
	"$(ctw run busybox cat /proc/mounts | rootopts)"
t_match "  and still writable" '^x$' "$(ctw run busybox sh -c 'echo x > /x; cat /x')"
did=$(ctw run -d busybox sleep 30)
t_nomatch "a detached container's upper layer is not volatile" 'volatile' \
	"$(ctw exec "$did" cat /proc/mounts | rootopts)"
ctw rm -f "$did" >/dev/null
did=$(ctw run -d --rm busybox sleep 30)
t_match "-d --rm: volatile" 'volatile' "$(ctw exec "$did" cat /proc/mounts | rootopts)"
ctw rm -f "$did" >/dev/null

t_eq "--entrypoint" "ep" "$(ctw run --entrypoint /bin/echo busybox ep)"
t_eq "no command: the image's Cmd runs (sh on /dev/null stdin)" "0" "$(ctw run busybox; echo $?)"
t_eq "-i passes stdin" "hello" "$(echo hello | ctw run -i busybox cat)"
t_eq "without -i stdin is empty" "" "$(echo hello | ctw run busybox cat)"

if command -v script >/dev/null; then
	out=$(script -qec "stty cols 77 rows 22; '$CTW_BIN' run -t busybox sh -c 'tty; stty size'" /dev/null | tr -d '\r')
	t_match "-t: a pty inside" '^/dev/pts/0' "$out"
	t_match "-t: window size copied" '22 77' "$out"
	out=$(script -qec "printf 'exit 3\n' | '$CTW_BIN' run -it busybox sh; echo rc=\$?" /dev/null | tr -d '\r')
	t_match "-it: interactive shell, exit status" 'rc=3' "$out"
else
	t_skip "-t" "no script(1)"
fi

out=$(ctw run busybox ls /dev | tr '\n' ' ')
for d in null zero full random urandom tty pts shm mqueue ptmx fd; do
	t_match "/dev has $d" "(^| )$d( |$)" "$out"
done
t_match "/dev/pts is a new instance" 'devpts /dev/pts devpts rw.*ptmxmode=666' "$(ctw run busybox grep ' /dev/pts ' /proc/mounts)"
t_match "/dev/mqueue mounted" 'mqueue /dev/mqueue' "$(ctw run busybox grep mqueue /proc/mounts)"
t_match "/sys/fs/cgroup read-only" '/sys/fs/cgroup.* ro,' "$(ctw run busybox grep ' /sys/fs/cgroup ' /proc/mounts)"
t_eq "/etc/hostname is the container's" "ho" "$(ctw run --name ho busybox cat /etc/hostname)"
t_match "/etc/hosts names the container" 'ho$' "$(ctw run --name ho busybox grep ho /etc/hosts)"
t_eq "--stop-signal is recorded" 10 "$(ctw run -d --name ss --stop-signal USR1 busybox sleep 30 >/dev/null; ctw inspect ss | jq -r '.[0].config.stop_signal'; ctw rm -f ss)"
ctw run -d --rm --name rmd busybox true >/dev/null
wait_for 5 sh -c "! '$CTW_BIN' ps -a | grep -q rmd"
t_eq "-d --rm: removed on exit" "" "$("$CTW_BIN" ps -aq)"

# --net container:C joins another container's network namespace.
ctw run -d --name netsrc busybox sleep 30 >/dev/null
src=$(ctw inspect netsrc | jq -r '.[0].pid')
t_eq "--net container:C shares C's netns" "$(readlink "/proc/$src/ns/net")" \
	"$(ctw run --net container:netsrc busybox readlink /proc/self/ns/net)"
t_eq "--net none: a netns of its own" 1 \
	"$(ctw run --net none busybox readlink /proc/self/ns/net | grep -vc "$(readlink "/proc/$src/ns/net")")"
if command -v script >/dev/null; then
	out=$(script -qec "stty cols 91 rows 33; '$CTW_BIN' exec -t netsrc sh -c 'tty; stty size'" /dev/null | tr -d '\r')
	t_match "exec -t: a pty and the window size" '/dev/pts/[0-9]+ 33 91' "$(echo $out)"
fi
ctw rm -f netsrc

# The spec a run executes (issue 16): built from the image and the flags,
# it is what the container gets (command, env, cwd, user, capabilities,
# seccomp) and it is in the state directory as config.json.
vol13=$CTW_WORK/vol13
mkdir -p "$vol13"
ctw run -d --name spec13 -e FOO=bar -w /tmp -u nobody --memory 64m --cap-drop NET_RAW \
	-v "$vol13:/data:ro" --hostname h13 busybox sleep 30 >/dev/null
id13=$(ctw inspect spec13 | jq -r '.[0].id')
cfg=$CTRWATCH_STATE/$id13/config.json
t_ok "run writes its spec to the state: config.json" test -s "$cfg"
t_eq "  ... process.args" '["sleep","30"]' "$(jq -c .process.args "$cfg")"
t_eq "  ... process.env: -e, HOSTNAME, PATH" "FOO=bar HOSTNAME=h13 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
	"$(jq -r '.process.env[]' "$cfg" | grep -E '^(FOO|HOSTNAME|PATH)=' | sort | tr '\n' ' ' | sed 's/ $//')"
t_eq "  ... process.cwd and user (a name: resolved in the container)" "/tmp nobody" \
	"$(jq -r '"\(.process.cwd) \(.process.user.username)"' "$cfg")"
t_eq "  ... hostname" h13 "$(jq -r .hostname "$cfg")"
t_eq "  ... memory limit" 67108864 "$(jq -r .linux.resources.memory.limit "$cfg")"
t_eq "  ... --cap-drop NET_RAW: not in the bounding set" 0 \
	"$(jq -r '.process.capabilities.bounding[]' "$cfg" | grep -c CAP_NET_RAW)"
t_eq "  ... the volume, read-only" '{"destination":"/data","ro":true}' \
	"$(jq -c --arg s "$vol13" '.mounts[] | select(.source == $s) | {destination, ro: (.options | index("ro") != null)}' "$cfg")"
t_eq "  ... Docker's seccomp profile" SCMP_ACT_ERRNO "$(jq -r .linux.seccomp.defaultAction "$cfg")"
# What the container got is what the spec says.
pid13=$(ctw inspect spec13 | jq -r '.[0].pid')
cmd13=$(pgrep -P "$pid13" sleep || true)
t_eq "  ... the command's environment is process.env (and HOME, of its user)" \
	"$(jq -r '.process.env[]' "$cfg" | sort)" "$(tr '\0' '\n' <"/proc/$cmd13/environ" | grep -v '^HOME=' | sort)"
t_eq "  ... its bounding set is process.capabilities.bounding" \
	"$(jq -r '.process.capabilities.bounding | length' "$cfg")" \
	"$(awk '/^CapBnd/ {print $2}' "/proc/$cmd13/status" | python3 -c 'import sys; print(bin(int(sys.stdin.read(), 16)).count("1"))')"
# The same config.json through the OCI runtime's path (a busybox bundle,
# another command and cgroup): it is a spec that path executes.
b13=$CTW_WORK/bundle13
mkdir -p "$b13/rootfs"/{bin,etc,tmp,proc,sys,dev,data}
cp /bin/busybox "$b13/rootfs/bin/busybox"
ln -sf busybox "$b13/rootfs/bin/sh"
ln -sf busybox "$b13/rootfs/bin/id"
echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >"$b13/rootfs/etc/passwd"
jq --arg cg "$CTRWATCH_CGROUP_PARENT/oci13" '.root.path = "rootfs" | .linux.cgroupsPath = $cg
	| .process.args = ["/bin/sh", "-c", "echo $FOO $(id -u) $(pwd) $(hostname)"]' \
	"$cfg" >"$b13/config.json"
out=$(ctw oci --root "$CTW_WORK/oci13" run --bundle "$b13" spec13oci 2>&1)
t_eq "  ... run's config.json runs through ctrwatch oci run" "bar 65534 /tmp h13" "$out"
ctw oci --root "$CTW_WORK/oci13" delete -f spec13oci >/dev/null 2>&1
ctw rm -f spec13 >/dev/null
t_ok "  ... and goes with the container" test ! -e "$cfg"
