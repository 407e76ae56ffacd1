#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Files a container controls, read by the agent (issue 17 item 4): a pod's
# name and namespace come from /etc/hostname and the service-account
# namespace file inside the container's root.  Here three fake pods (the
# kubelet's cgroupfs layout below this test's cgroup, a chrooted process in
# each) plant what an attacker would:
#   - an absolute symlink to a host file: must resolve inside the
#     container's root (where it leads nowhere), never show the host file;
#   - a FIFO: must never be opened (it would block the agent: no /metrics,
#     no /healthz);
#   - a plain file: read as before.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/agent-lib.bash"
require_root
require_cmd curl chroot mkfifo

base=$(cgroup2_dir "$CTW_RUN_ID-agent36")
hex() { printf '%s' "$1$$" | sha256sum | cut -c1-64; }
K1=$(hex symlink) K2=$(hex fifo) K3=$(hex plain)
U=0b1c2d3e-aaaa-bbbb-cccc-3535353
secret=$CTW_WORK/host-secret
echo "host-secret-$$" >"$secret"
ns_dir=var/run/secrets/kubernetes.io/serviceaccount

mkroot() { # name -> a root with busybox
	local r=$CTW_WORK/root-$1
	mkdir -p "$r/bin" "$r/etc" "$r/$ns_dir"
	cp /bin/busybox "$r/bin/busybox"
	printf '%s\n' "$r"
}
r1=$(mkroot symlink) r2=$(mkroot fifo) r3=$(mkroot plain)
ln -s "$secret" "$r1/etc/hostname"
ln -s "$secret" "$r1/$ns_dir/namespace"
mkfifo "$r2/etc/hostname" "$r2/$ns_dir/namespace"
echo "plain-pod-$$" >"$r3/etc/hostname"
echo "plain-ns" >"$r3/$ns_dir/namespace"

on_exit "cg_rmdir '$base'"
cg_spawn "$base/kubepods/besteffort/pod${U}01/$K1" chroot "$r1" /bin/busybox sleep 1000 ||
	t_fail "spawn symlink pod" true
cg_spawn "$base/kubepods/besteffort/pod${U}02/$K2" chroot "$r2" /bin/busybox sleep 1000 ||
	t_fail "spawn fifo pod" true
cg_spawn "$base/kubepods/besteffort/pod${U}03/$K3" chroot "$r3" /bin/busybox sleep 1000 ||
	t_fail "spawn plain pod" true

port=$(free_port)
agent_start "$port" --discovery-interval 1s || exit 1
m=$(scrape "$port")
info() { printf '%s\n' "$m" | grep "^ctrwatch_container_info{.*full_id=\"$1\""; }

t_match "a pod whose hostname is a symlink to a host file is still listed" \
	"full_id=\"$K1\"" "$(info "$K1")"
t_nomatch "the host file behind the symlink is not published as its pod or namespace" \
	"host-secret" "$m"
t_match "a pod whose hostname and namespace are FIFOs is listed" \
	"full_id=\"$K2\"" "$(info "$K2")"
t_ok "the agent still answers /healthz with FIFOs in a container's root" \
	timeout 5 curl -fsS "http://127.0.0.1:$port/healthz"
t_ok "and /metrics" timeout 5 curl -fsS -o /dev/null "http://127.0.0.1:$port/metrics"
t_match "a plain hostname file inside the root names the pod" \
	"pod=\"plain-pod-$$\"" "$(info "$K3")"
t_match "a plain namespace file inside the root gives its namespace" \
	"namespace=\"plain-ns\"" "$(info "$K3")"
agent_stop; rc=$?
t_eq "the agent stops cleanly" 0 "$rc"
