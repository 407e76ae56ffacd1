#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Default containers are at least as confined as Docker's: escapes fail,
# masked and read-only paths, capabilities, no_new_privs, seccomp.
. "$(dirname "$0")/../lib.sh"
require_root

H=$CTW_BUILD/tests/helpers
[ -x "$H/ctw-testinit" ] || { t_skip "11-runtime-security" "no $H/ctw-testinit (make all)"; exit 0; }
on_exit 'ctw gc'
probe() { ctw run -v "$H:/t:ro" "$@"; }

# Each escape attempt from a default container fails with EPERM.
for p in bpf keyctl add_key request_key kexec_load kexec_file_load init_module finit_module \
	delete_module unshare-user unshare-net unshare-ns setns mount umount2 pivot_root \
	perf_event_open userfaultfd io_uring_setup open_by_handle_at reboot swapon clone-newns; do
	t_eq "escape: $p refused" EPERM "$(probe busybox /t/ctw-testinit try "$p")"
done
t_eq "escape: chroot out of the root" contained "$(probe busybox /t/ctw-testinit chroot-escape)"
t_eq "escape: a block device node cannot be opened (devices cgroup)" EPERM \
	"$(probe busybox /t/ctw-testinit try mknod-disk)"
t_nomatch "escape: /proc/kcore unreadable" '.' "$(ctw run busybox head -c 16 /proc/kcore 2>/dev/null)"
t_fail "escape: write /proc/sys/kernel/hostname" \
	ctw run busybox sh -c 'echo evil > /proc/sys/kernel/hostname'
t_fail "escape: write /proc/sysrq-trigger" ctw run busybox sh -c 'echo h > /proc/sysrq-trigger'
t_fail "escape: write /sys" ctw run busybox sh -c 'echo 1 > /sys/kernel/profiling'
t_fail "escape: write /sys/fs/cgroup" ctw run busybox mkdir /sys/fs/cgroup/unified/x
# Every hierarchy in its /sys/fs/cgroup shows its own cgroup, with nothing
# below it: none where it has no cgroup of its own (there the namespace's
# root would be ours, with our other cgroups in it: a sibling made for the
# test in each hierarchy, below our own cgroup, shows it).
sib=ctw11sib$$
for d in $(cgroup_dirs "$sib"); do mkdir -p "$d"; done
on_exit "for d in \$(cgroup_dirs $sib); do rmdir \"\$d\" 2>/dev/null; done; :"
t_eq "escape: no cgroup but its own visible" "0" \
	"$(ctw run busybox sh -c 'find /sys/fs/cgroup/ -mindepth 2 -type d | wc -l')"
for d in $(cgroup_dirs "$sib"); do rmdir "$d" 2>/dev/null; done
t_eq "escape: host PIDs invisible" "1 2" "$(ctw run busybox sh -c 'echo $(ls /proc | grep -E "^[0-9]+$" | sort -n | head -2)')"
t_eq "escape: no host mount points visible" 0 "$(ctw run busybox awk '{print $5}' /proc/self/mountinfo | grep -c -e "$CTW_WORK" -e '^/work' -e '^/boot')"

# Masked paths (as runc): empty.
out=$(ctw run busybox sh -c 'cat /proc/keys /proc/timer_list /proc/sched_debug 2>/dev/null | wc -c; ls /sys/firmware | wc -l')
t_eq "masked: /proc/keys, timer_list, sched_debug empty; /sys/firmware empty" "0 0" "$(echo $out)"
t_match "read-only: /proc/sys, /proc/bus, /proc/irq, /proc/fs" \
	'^(ro ){4}$' "$(ctw run busybox sh -c 'for p in sys bus irq fs; do grep " /proc/$p " /proc/self/mountinfo | grep -q " ro[, ]" && printf "ro "; done')"
t_match "/proc mounted nosuid,nodev,noexec" 'nosuid,nodev,noexec' \
	"$(ctw run busybox grep ' /proc proc' /proc/mounts)"
t_match "/sys read-only" '^sysfs /sys sysfs ro' "$(ctw run busybox grep ' /sys sysfs' /proc/mounts)"

# Capabilities: Docker's set; non-root gets none but the bounding set.
DEF=00000000a80425fb
caps=$(ctw run busybox grep ^Cap /proc/self/status | awk '{print $2}' | tr '\n' ' ')
t_eq "root: inh prm eff bnd amb" "0000000000000000 $DEF $DEF $DEF 0000000000000000 " "$caps"
caps=$(ctw run -u nobody busybox grep ^Cap /proc/self/status | awk '{print $2}' | tr '\n' ' ')
t_eq "non-root: no caps but the bounding set" \
	"0000000000000000 0000000000000000 0000000000000000 $DEF 0000000000000000 " "$caps"
t_eq "-u nobody drops to uid 65534" "65534" "$(ctw run -u nobody busybox id -u)"
t_fail "-u nobody cannot write /etc" ctw run -u nobody busybox touch /etc/x
eff=$(ctw run --cap-drop ALL busybox grep CapEff /proc/self/status | awk '{print $2}')
t_eq "--cap-drop ALL" 0000000000000000 "$eff"
eff=$(ctw run --cap-drop ALL --cap-add NET_BIND_SERVICE busybox grep CapEff /proc/self/status | awk '{print $2}')
t_eq "--cap-drop ALL --cap-add NET_BIND_SERVICE" 0000000000000400 "$eff"
eff=$(ctw run --cap-drop CHOWN busybox grep CapEff /proc/self/status | awk '{print $2}')
t_eq "--cap-drop CHOWN" 00000000a80425fa "$eff"
t_fail "--cap-drop CHOWN: chown fails" ctw run --cap-drop CHOWN busybox chown 1 /tmp
t_eq "--cap-add SYS_ADMIN: mount allowed by seccomp and caps" OK \
	"$(probe --cap-add SYS_ADMIN busybox /t/ctw-testinit try mount)"
t_match "--cap-add SYS_MODULE: init_module reaches the kernel" '^E(FAULT|NOSYS|INVAL|NOEXEC)$' \
	"$(probe --cap-add SYS_MODULE busybox /t/ctw-testinit try init_module)"
t_match "--privileged: all capabilities we have" "CapEff:\s+$(awk '/CapBnd/ {print $2}' /proc/self/status)" \
	"$(ctw run --privileged busybox grep CapEff /proc/self/status)"

# no_new_privs and seccomp.
t_match "no_new_privs on by default" 'NoNewPrivs:\s+1' "$(ctw run busybox grep NoNewPrivs /proc/self/status)"
t_match "no-new-privileges=false" 'NoNewPrivs:\s+0' \
	"$(ctw run --security-opt no-new-privileges=false busybox grep NoNewPrivs /proc/self/status)"
t_match "seccomp filter on by default" 'Seccomp:\s+2' "$(ctw run busybox grep Seccomp: /proc/self/status)"
t_match "seccomp=unconfined" 'Seccomp:\s+0' \
	"$(ctw run --security-opt seccomp=unconfined busybox grep Seccomp: /proc/self/status)"
t_match "--privileged: no seccomp" 'Seccomp:\s+0' "$(ctw run --privileged busybox grep Seccomp: /proc/self/status)"

prof=$CTW_WORK/deny-mkdir.json
cat >"$prof" <<'EOF'
{
  "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [
    { "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13 }
  ]
}
EOF
out=$(ctw run --security-opt "seccomp=$prof" busybox mkdir /tmp/x 2>&1)
t_match "seccomp=PATH: profile applied (mkdir EACCES)" 'Permission denied' "$out"
t_ok "seccomp=PATH: other calls work" ctw run --security-opt "seccomp=$prof" busybox touch /tmp/x
bad=$CTW_WORK/bad.json
printf '{\n  "defaultAction": "SCMP_ACT_ERRNO",\n  "syscalls": [ { "names": ["read"] "action": 1 } ]\n}\n' >"$bad"
out=$(ctw run --security-opt "seccomp=$bad" busybox true 2>&1)
t_eq "bad profile: 125" 125 $?
t_match "bad profile: error names file:line:column" "bad.json:3:[0-9]+" "$out"
printf '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_NOPE"}]}' >"$bad"
out=$(ctw run --security-opt "seccomp=$bad" busybox true 2>&1)
t_match "bad action: error names the JSON path" 'syscalls\[0\]\.action: unknown action SCMP_ACT_NOPE' "$out"

# Device access: a BPF device filter on the v2 cgroup (what unified hosts
# rely on), independent of the v1 devices controller.
ctw run -d --name devs busybox sleep 30 >/dev/null
sj=$(ctw inspect devs)
if command -v bpftool >/dev/null; then
	t_match "device filter attached to the v2 cgroup" 'cgroup_device +multi +ctw_devices' \
		"$(bpftool cgroup list "$(jq -r '.[0].cgroup' <<<"$sj")")"
fi
# The container gets no v1 devices cgroup (the filter is the one gate on
# every layout): it stays in the caller's, which allows everything here.
t_eq "no v1 devices cgroup of its own" "" "$(jq -r '.[0].cgroup_v1.devices // empty' <<<"$sj")"
out=$(ctw exec devs sh -c 'mknod /tmp/mem c 1 1; head -c 1 /tmp/mem | wc -c; mknod /tmp/sda b 8 0; head -c 1 /tmp/sda | wc -c; head -c 1 /dev/zero | wc -c' 2>/dev/null | tr '\n' ' ')
t_eq "BPF device filter alone: /dev/mem and a disk refused, /dev/zero works" "0 0 1 " "$out"
ctw rm -f devs

# No fd of the caller reaches the container (an open directory fd would be
# a way out of the root).
exec 9<"$CTW_WORK"
t_eq "no inherited fd in the command" "0 1 2 3 " "$(ctw run busybox ls /proc/self/fd | tr '\n' ' ')"
exec 9<&-
