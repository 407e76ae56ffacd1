#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Discovery of containers ctrwatch did not start: the cgroup layouts of
# Docker (systemd and cgroupfs drivers), containerd, CRI-O, Podman and the
# kubelet (systemd and cgroupfs drivers), made as real cgroup directories
# below this test's own cgroup with a real process in each, plus the
# runtimes' own files (Docker's config.v2.json, OCI bundle annotations) in
# a fake host root.  Checks the labels of each and that its syscalls are
# counted under them; then that removing one takes its series away after
# the exit grace period.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/agent-lib.bash"
require_root
require_cmd curl jq

base=$(cgroup2_dir "$CTW_RUN_ID-agent33")
host=$CTW_WORK/host
# Ids seeded with the run's id: another run of this suite on the same host
# (the agent sees every cgroup there) makes containers of its own.
hex() { printf '%s-%s' "$1" "$CTW_RUN_ID" | sha256sum | cut -c1-64; }
D1=$(hex docker-systemd) D2=$(hex docker-cgroupfs) C1=$(hex containerd)
R1=$(hex crio) P1=$(hex podman) K1=$(hex kubelet-systemd) K2=$(hex kubelet-cgroupfs)
UID1=0b1c2d3e-aaaa-bbbb-cccc-00000000$$
UID1_=${UID1//-/_}
UID2=0b1c2d3e-aaaa-bbbb-cccc-11111111$$

declare -A dir=(
	[docker]="system.slice/docker-$D1.scope"
	[dockerfs]="docker/$D2"
	[containerd]="system.slice/cri-containerd-$C1.scope"
	[crio]="kubepods.slice/kubepods-pod$UID1_.slice/crio-$R1.scope"
	[podman]="machine.slice/libpod-$P1.scope"
	[kubesd]="kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$UID1_.slice/cri-containerd-$K1.scope"
	[kubefs]="kubepods/besteffort/pod$UID2/$K2"
)
on_exit "cg_rmdir '$base'"
for k in "${!dir[@]}"; do
	cg_spawn "$base/${dir[$k]}" sh -c 'while :; do cat /etc/hostname >/dev/null; sleep 0.01; done' ||
		t_fail "spawn into $k" true
done
# not containers: conmon scopes and a plain service
cg_spawn "$base/machine.slice/libpod-conmon-$P1.scope" sleep 1000
cg_spawn "$base/system.slice/ssh.service" sleep 1000

mkdir -p "$host/var/lib/docker/containers/$D1" "$host/var/lib/docker/containers/$D2"
echo '{"Name":"/web","Config":{"Image":"nginx:1.25","Labels":{}}}' \
	>"$host/var/lib/docker/containers/$D1/config.v2.json"
echo '{"Name":"/legacy","Config":{"Image":"redis:7","Labels":{"io.kubernetes.pod.name":"old-pod","io.kubernetes.pod.namespace":"kube-old","io.kubernetes.container.name":"redis"}}}' \
	>"$host/var/lib/docker/containers/$D2/config.v2.json"
mkdir -p "$host/run/containerd/io.containerd.runtime.v2.task/k8s.io/$K1"
cat >"$host/run/containerd/io.containerd.runtime.v2.task/k8s.io/$K1/config.json" <<JSON
{"ociVersion":"1.0.2","annotations":{"io.kubernetes.cri.container-type":"container",
 "io.kubernetes.cri.container-name":"app","io.kubernetes.cri.sandbox-name":"shop-7d9f",
 "io.kubernetes.cri.sandbox-namespace":"prod","io.kubernetes.cri.image-name":"registry.test/shop:2"}}
JSON
mkdir -p "$host/run/containers/storage/overlay-containers/$R1/userdata"
cat >"$host/run/containers/storage/overlay-containers/$R1/userdata/config.json" <<JSON
{"annotations":{"io.kubernetes.container.name":"db","io.kubernetes.pod.name":"db-0",
 "io.kubernetes.pod.namespace":"data","io.kubernetes.cri-o.ImageName":"postgres:16"}}
JSON

# A hybrid host's runtime makes the same directory in the v1 hierarchies
# too: one (pids) is enough to tell whether the agent walks them.
v1=$(cgroup_dirs "$CTW_RUN_ID-agent33" | grep '/pids/' | head -1)
if [ -n "$v1" ]; then
	mkdir -p "$v1/${dir[docker]}"
	on_exit "cg_rmdir '$v1'"
fi

port=$(free_port)
# --cgroup-root /sys/fs/cgroup as the Helm chart passes it: on a hybrid host
# the agent must walk the v2 tree below it (unified/), not the v1 ones.
agent_start "$port" --host-root "$host" --discovery-interval 1s --exit-grace 5s \
	--cgroup-root /sys/fs/cgroup || exit 1
m=$(scrape "$port")
info() { printf '%s\n' "$m" | grep "^ctrwatch_container_info{.*full_id=\"$1\""; }

t_match "Docker (systemd): name and image from config.v2.json" \
	"container=\"web\",container_id=\"${D1:0:12}\",image=\"nginx:1.25\",runtime=\"docker\"" "$(info "$D1")"
if [ -n "$v1" ]; then
	t_eq "hybrid host: a v1 copy of a container's cgroup is no second container" 1 \
		"$(printf '%s\n' "$m" | grep -c "^ctrwatch_container_info{.*full_id=\"$D1\"")"
fi
t_match "Docker (cgroupfs /docker/<id>): pod labels from dockershim labels" \
	"container=\"redis\",pod=\"old-pod\",namespace=\"kube-old\",container_id=\"${D2:0:12}\",image=\"redis:7\",runtime=\"docker\"" \
	"$(info "$D2")"
t_match "containerd outside Kubernetes: short id as the name" \
	"container=\"${C1:0:12}\",container_id=\"${C1:0:12}\",image=\"\",runtime=\"containerd\"" "$(info "$C1")"
t_match "CRI-O pod: names from the OCI annotations" \
	"container=\"db\",pod=\"db-0\",namespace=\"data\",container_id=\"${R1:0:12}\",image=\"postgres:16\",runtime=\"cri-o\"" \
	"$(info "$R1")"
t_match "Podman" "container_id=\"${P1:0:12}\",.*runtime=\"podman\"" "$(info "$P1")"
t_match "kubelet (systemd driver) + containerd: CRI annotations" \
	"container=\"app\",pod=\"shop-7d9f\",namespace=\"prod\",container_id=\"${K1:0:12}\",image=\"registry.test/shop:2\",runtime=\"containerd\"" \
	"$(info "$K1")"
t_match "kubelet (cgroupfs driver): bare id under pod<uid>" \
	"container_id=\"${K2:0:12}\",.*runtime=\"kubelet\"" "$(info "$K2")"
# Its pod name comes from the hostname seen through /proc/<pid>/root (ours).
t_match "kubelet (cgroupfs): pod name from the container's hostname file" \
	"pod=\"$(cat /etc/hostname)\"" "$(info "$K2")"
t_nomatch "conmon and plain services are no containers" \
	"full_id=\"(libpod-conmon|ssh)" "$(printf '%s\n' "$m" | grep '^ctrwatch_container_info')"

counted() {
	scrape "$port" | grep -qE "^ctrwatch_syscalls_total\\{container=\"$1\"(,pod=\"[^\"]*\",namespace=\"[^\"]*\")?,container_id=\"[^\"]+\",syscall=\"(openat|clock_nanosleep|nanosleep)\"\\} [1-9]"
}
for n in web redis db app "${C1:0:12}"; do
	t_ok "syscalls counted under container=\"$n\"" wait_for 5 counted "$n"
done
t_match "pod and namespace labels on the syscall series" \
	'^ctrwatch_syscalls_total\{container="app",pod="shop-7d9f",namespace="prod",container_id="[0-9a-f]{12}",syscall="[a-z_0-9]+"\} [0-9]+' \
	"$(scrape "$port")"
t_eq "every series is unique" "" "$(scrape "$port" | duplicate_series)"
scrape "$port" >"$CTW_WORK/scrape33.txt"
t_eq "with pods (pod, namespace): every family and label set is the one its table declares" "" \
	"$(metrics_vs_tables "$CTW_WORK/scrape33.txt")"

# One goes away: its series stay for the exit grace (5 s from the rmdir,
# which the kernel's cgroup stream reports), then leave.
pid=$(head -1 "$base/${dir[docker]}/cgroup.procs")
kill -KILL "$pid"
while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
scans() { series_value "$(scrape "$port")" '^ctrwatch_discovery_scans_total '; }
t0=$(date +%s%3N) # before the rmdir: the grace starts after it
t_ok "its cgroup is removed" cg_rmdir "$base/${dir[docker]}"
s0=$(scans)
# (the syscalls and resources series; other modules answer for their own)
gone() { ! scrape "$port" | grep -E '^ctrwatch_(syscall|container_)' | grep -q 'container="web"'; }
# a whole discovery scan (every 1 s) has run since the cgroup went
rescanned() { [ "$(scans)" -gt "$((s0 + 1))" ]; }
wait_for 4 rescanned
t_ok "a removed container's series stay during the exit grace" counted web
t_ok "... and leave after it (within grace + discovery interval + 5 s of slack)" wait_for 11 gone
t1=$(date +%s%3N)
t_cmp "... not before the grace ran out ($((t1 - t0)) ms)" $((t1 - t0)) -ge 5000
t_ok "the others stay" counted db
agent_stop

# A cgroup created later inside a known container counts for it at once,
# without waiting for the periodic rescan (60 s here): the agent watches
# container directories and their nested ones with inotify.  (On a host
# where other cgroups come and go, as on a shared test machine, their
# inotify events trigger rescans too, so this passed here even without the
# watches: it guards the behaviour, not the watch itself.)
N1=$(hex nested)
cgn="$base/system.slice/cri-containerd-$N1.scope"
mkdir -p "$cgn"
on_exit "cg_rmdir '$cgn'"
port=$(free_port)
agent_start "$port" --host-root "$host" --discovery-interval 60s || exit 1
t_ok "an empty container cgroup is discovered" \
	wait_for 5 sh -c "curl -fsS http://127.0.0.1:$port/metrics | grep -q 'full_id=\"$N1\"'"
t0=$SECONDS
mkdir -p "$cgn/inner/deeper"
nested_conn() {
	sh -c 'echo $$ >"$1/cgroup.procs" && exec curl -fsS -o /dev/null "$2"' sh \
		"$cgn/inner/deeper" "http://127.0.0.1:$port/healthz"
	scrape "$port" | grep -q "^ctrwatch_tcp_connections_total{container=\"${N1:0:12}\""
}
t_ok "a connection from a cgroup created inside it later counts for it at once" \
	wait_for 8 nested_conn
t_cmp "... long before the periodic rescan ($((SECONDS - t0)) s)" $((SECONDS - t0)) -lt 30
agent_stop
