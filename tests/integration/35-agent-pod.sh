#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The agent run as the Helm chart runs it, taken from the rendered chart:
# its image (make oci-image), arguments, capabilities, read-only root, mounts,
# seccompProfile RuntimeDefault and the memory limit the sizing formula gives
# for this node (its CPU count, a policy applied), with `ctrwatch run`, whose
# default seccomp profile is Docker's (what RuntimeDefault is under Docker
# and containerd).  It must start every module, serve the containers beside
# it, apply the policy, and stay below the formula: the memory cgroup's peak
# (what the limit is enforced on) and the process's peak RSS plus its BPF
# maps (what the formula adds up) both under the formula's figure before
# headroom, no OOM kill.  Under a seccomp profile that lets bpf() through
# only with CAP_SYS_ADMIN (containers-common's, Podman and CRI-O's default)
# it stops with the cause named: why the chart leaves seccompProfile to you.
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd skopeo jq curl nsenter /usr/bin/python3
if ! checker=$(chart_checker); then
	t_skip "$(basename "$0")" "../shared/tools/chart-check is absent"
	exit 0
fi

export CTRWATCH_ROOT=$CTW_WORK/root-38
W=$CTW_WORK/pod38
mkdir -p "$W/policy" "$CTRWATCH_STATE"
on_exit "rm -rf '$CTRWATCH_ROOT' '$W'"
on_exit "'$CTW_BIN' policy flush; rm -rf '$CTRWATCH_BPF_PIN'"

# The containers' v2 parent: the agent watches only it (a quiet, known set).
v2=/sys/fs/cgroup
[ -f /sys/fs/cgroup/unified/cgroup.procs ] && v2=/sys/fs/cgroup/unified
own=$(sed -n 's/^0:://p' /proc/self/cgroup)
CGROOT=$v2${own%/}/$CTRWATCH_CGROUP_PARENT
mkdir -p "$CGROOT"
on_exit "cgroup_rm_tree '$CTRWATCH_CGROUP_PARENT'"

# ---- the chart, rendered for this node ----
cpus=$(nproc)
NCTR=4 # the workloads and the agent itself
cat >"$W/values.yaml" <<EOF
image: {repository: ctrwatch, tag: "$("$CTW_BIN" version --json | jq -r .version)"}
agent: {cgroupRoot: "$CGROOT"}
seccompProfile: {type: RuntimeDefault}
sizing: {nodeCpus: $cpus, containersPerNode: $NCTR}
policy:
  enabled: true
  rules:
    - name: no-metadata
      action: deny
      containers: {name: "work-*"}
      direction: egress
      match: {cidrs: [169.254.169.254/32]}
EOF
out=$("$checker" "$CTW_SRC/deploy/helm/ctrwatch" -f "$W/values.yaml" 2>&1)
t_ok "chart-check renders the chart for $cpus CPUs, $NCTR containers, a policy, RuntimeDefault" \
	test -s "$(sed -n 's/^chart-check: rendered manifests in //p' <<<"$out")"
rendered=$(sed -n 's/^chart-check: rendered manifests in //p' <<<"$out")
# The DaemonSet's container as JSON, and the policy ConfigMap's file.
/usr/bin/python3 - "$rendered" "$W" <<'PY'
import json, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
ds = next(d for d in docs if d["kind"] == "DaemonSet")
json.dump(ds["spec"]["template"]["spec"], open(sys.argv[2] + "/pod.json", "w"))
cm = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-policy"))
open(sys.argv[2] + "/policy/policy.yaml", "w").write(cm["data"]["policy.yaml"])
PY
ctr='.containers[0]'
sc=$(jq -c "$ctr.securityContext" "$W/pod.json")
t_eq "the pod: RuntimeDefault, read-only root, ALL dropped" '"RuntimeDefault" true ["ALL"]' \
	"$(jq -c '.seccompProfile.type, .readOnlyRootFilesystem, .capabilities.drop' <<<"$sc" | xargs -d '\n' echo)"
mem=$(jq -r "$ctr.resources.limits.memory" "$W/pod.json")
t_match "the pod: a memory limit from the formula ($mem)" '^[0-9]+Mi$' "$mem"
mem_mib=${mem%Mi}
# The same formula without its headroom, from values.yaml: what must hold.
bound_mib=$(/usr/bin/python3 - "$CTW_SRC/deploy/helm/ctrwatch/values.yaml" "$cpus" "$NCTR" <<'PY'
import sys, yaml
s = yaml.safe_load(open(sys.argv[1]))["sizing"]
print(round(s["baseMiB"] + s["perCpuKiB"] * int(sys.argv[2]) / 1024
            + s["perContainerKiB"] * int(sys.argv[3]) / 1024, 1))
PY
)

# ---- the image ----
t_ok "make oci-image's script builds the agent image" "$CTW_SRC/scripts/oci-image.sh" "$CTW_BIN" "$W/agent.tar"
t_match "ctrwatch import takes it" '^Imported ctrwatch:' "$("$CTW_BIN" import "$W/agent.tar" 2>&1)"

# ---- `ctrwatch run` flags from the pod spec ----
# Capabilities (SYS_RESOURCE only where our own bounding set has it), the
# hostPath volumes at their mountPaths (the state dir is this run's, and
# tracefs only where the host has it), the emptyDir /tmp as a tmpfs, the
# policy ConfigMap as a read-only directory.
run_flags=(--net host -m "${mem_mib}m")
[ "$(jq "$ctr.securityContext.readOnlyRootFilesystem" "$W/pod.json")" = true ] && run_flags+=(--read-only)
bnd=$((16#$(awk '/^CapBnd/ {print $2}' /proc/self/status)))
for c in $(jq -r "$ctr.securityContext.capabilities.drop[]" "$W/pod.json"); do run_flags+=(--cap-drop "$c"); done
for c in $(jq -r "$ctr.securityContext.capabilities.add[]" "$W/pod.json"); do
	[ "$c" = SYS_RESOURCE ] && ! (((bnd >> 24) & 1)) && continue
	run_flags+=(--cap-add "$c")
done
while IFS=$'\t' read -r name path ro; do
	src=$(jq -r --arg n "$name" '.volumes[] | select(.name == $n) | .hostPath.path // empty' "$W/pod.json")
	kind=$(jq -r --arg n "$name" '.volumes[] | select(.name == $n) | keys - ["name"] | .[0]' "$W/pod.json")
	case $kind in
	hostPath)
		[ "$src" = /run/ctrwatch ] && src=$CTRWATCH_STATE
		[ -d "$src" ] || continue
		run_flags+=(-v "$src:$path${ro:+:ro}")
		;;
	emptyDir) run_flags+=(--tmpfs "$path") ;;
	configMap) run_flags+=(-v "$W/policy:$path:ro") ;;
	esac
done < <(jq -r "$ctr.volumeMounts[] | [.name, .mountPath, (if .readOnly then \"ro\" else \"\" end)] | @tsv" "$W/pod.json")
# This run's pin directory, not the host's /sys/fs/bpf/ctrwatch.
run_flags+=(-e "CTRWATCH_BPF_PIN=$CTRWATCH_BPF_PIN")
port=$(free_port)
mapfile -t args < <(jq -r "$ctr.args[]" "$W/pod.json" | sed "s/^--listen=.*/--listen=127.0.0.1:$port/")
t_eq "the pod runs 'ctrwatch agent' with the chart's flags" agent "${args[0]}"
image=$(jq -r "$ctr.image" "$W/pod.json")

for i in 1 2 3; do
	"$CTW_BIN" run -d --name "work-$i-$$" busybox sh -c \
		'while :; do cat /etc/passwd >/dev/null; ls /nope 2>/dev/null; usleep 20000; done' >/dev/null &&
		on_exit "'$CTW_BIN' rm -f work-$i-$$"
done
agent=agent38-$$
"$CTW_BIN" run -d --name "$agent" "${run_flags[@]}" "$image" "${args[@]}" >"$W/run.out" 2>&1
t_eq "ctrwatch run -d the agent as the pod spec says" 0 $?
on_exit "'$CTW_BIN' rm -f '$agent'"
ready() { curl -fsS "http://127.0.0.1:$port/readyz"; }
if ! wait_for 30 ready; then
	t_fail "the agent container becomes ready" true
	"$CTW_BIN" logs "$agent" 2>&1 | tail -20 | sed 's/^/#   agent: /'
	exit 1
fi
t_ok "the agent container becomes ready" true
m() { curl -fsS "http://127.0.0.1:$port/metrics"; }
# Scrape a while: the scrape path's memory counts too.
for _ in $(seq 1 10); do m >/dev/null; sleep 0.5; done
t_eq "every module up under RuntimeDefault (Docker's profile) and the chart's capabilities" \
	'dns=1 policy=1 resources=1 syscalls=1 tcp=1' \
	"$(m | sed -n 's/^ctrwatch_module_up{module="\([a-z]*\)"} \([0-9]\)$/\1=\2/p' | sort | xargs)"
m | grep "^ctrwatch_container_info" | sed "s/^/# info: /"
t_eq "it watches the workloads and itself" "$NCTR" "$(m | awk '/^ctrwatch_containers / {print $2}')"
t_match "it counts the workloads' syscalls" "ctrwatch_syscalls_total\\{container=\"work-1-$$\",container_id=\"[0-9a-f]{12}\",syscall=\"openat\"\\} [1-9]" "$(m)"
t_eq "it applied the chart's policy" 1 "$(m | awk '/^ctrwatch_policy_rules / {print $2}')"
t_ok "  ... which ctrwatch policy show on the node sees" \
	sh -c "'$CTW_BIN' policy show --json | jq -e '.rules[0].name == \"no-metadata\"'"

# ---- memory against the formula ----
insp=$("$CTW_BIN" inspect "$agent")
cg2=$(jq -r '.[0].cgroup' <<<"$insp")
memcg=$(jq -r '.[0].cgroup_v1.memory // empty' <<<"$insp")
if [ -n "$memcg" ] && [ -f "$memcg/memory.max_usage_in_bytes" ]; then
	peak=$(cat "$memcg/memory.max_usage_in_bytes")
elif [ -f "$cg2/memory.peak" ]; then
	peak=$(cat "$cg2/memory.peak")
else
	peak=
fi
pid=
for p in $(cat "$cg2/cgroup.procs"); do
	[ "$(cat "/proc/$p/comm" 2>/dev/null)" = ctrwatch ] && pid=$p
done
hwm=$(awk '/^VmHWM/ {print $2 * 1024}' "/proc/$pid/status")
maps=0 percpu=0 npolicy=0
# The maps it holds open, and the pinned ones it made (the policy's): by id.
map_ids() {
	grep -h '^map_id:' /proc/"$pid"/fdinfo/* 2>/dev/null | awk '{print $2}'
	find "$CTRWATCH_BPF_PIN" -type f 2>/dev/null | while read -r f; do
		bpftool map show pinned "$f" -j 2>/dev/null | jq -r '.id // empty'
	done
}
for id in $(map_ids | sort -un); do
	mj=$(bpftool map show id "$id" -j)
	maps=$((maps + $(jq .bytes_memlock <<<"$mj")))
	case $(jq -r .type <<<"$mj") in
	percpu_*) percpu=$((percpu + $(jq .bytes_memlock <<<"$mj"))) ;;
	esac
	[ "$(jq -r .name <<<"$mj")" = ctw_pol_stats ] && npolicy=$((npolicy + 1))
done
# The per-CPU figure, against what the kernel reports for the per-CPU maps
# (which hold one value per possible CPU): the policy's counters included.
ncpu_possible=$(($(sed 's/.*-//' /sys/devices/system/cpu/possible) + 1))
per_cpu_kib=$(/usr/bin/python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["sizing"]["perCpuKiB"])' \
	"$CTW_SRC/deploy/helm/ctrwatch/values.yaml")
t_eq "the policy's per-CPU counters are among the agent's maps (pinned)" 1 "$npolicy"
t_cmp "per-CPU maps $((percpu / ncpu_possible)) bytes per CPU <= sizing.perCpuKiB ($per_cpu_kib KiB)" \
	$((percpu / ncpu_possible)) -le $((per_cpu_kib * 1024))
mib() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }
echo "# memory: cgroup peak $(mib "${peak:-0}") MiB, VmHWM $(mib "$hwm") + BPF maps $(mib "$maps") MiB;" \
	"formula $bound_mib MiB before headroom, $mem with it"
if [ -n "$peak" ]; then
	t_cmp "the memory cgroup's peak $(mib "$peak") MiB <= the formula before headroom ($bound_mib MiB)" \
		"$peak" -le "$(awk -v m="$bound_mib" 'BEGIN {printf "%d", m * 1048576}')"
else
	t_skip "the memory cgroup's peak" "no memory controller for the container here"
fi
t_cmp "peak RSS + BPF maps $(mib $((hwm + maps))) MiB <= the formula before headroom ($bound_mib MiB)" \
	$((hwm + maps)) -le "$(awk -v m="$bound_mib" 'BEGIN {printf "%d", m * 1048576}')"
t_eq "no OOM kill in the agent's container" 0 "$(m | sed -En "s/^ctrwatch_container_oom_events_total\\{container=\"$agent\",container_id=\"[^\"]+\"\\} //p")"
t_ok "still running" kill -0 "$pid"
"$CTW_BIN" stop "$agent" >/dev/null 2>&1
t_eq "it stops cleanly" 0 "$("$CTW_BIN" inspect "$agent" | jq .[0].exit_code)"
"$CTW_BIN" rm -f "$agent" >/dev/null 2>&1

# ---- a profile that gates bpf() on CAP_SYS_ADMIN ----
prof=/usr/share/containers/seccomp.json
if [ -f "$prof" ] && jq -e 'any(.syscalls[]; (.names | index("bpf")) and ((.includes.caps // []) | index("CAP_SYS_ADMIN")))' "$prof" >/dev/null; then
	port2=$(free_port)
	timeout 60 "$CTW_BIN" run --name "$agent-cc" "${run_flags[@]}" --security-opt "seccomp=$prof" "$image" \
		"${args[@]/--listen=127.0.0.1:$port/--listen=127.0.0.1:$port2}" >"$W/cc.out" 2>&1
	rc=$?
	t_cmp "containers-common's profile: the agent stops (status $rc)" "$rc" -ne 0
	t_match "  ... naming the refused call" 'Operation not permitted' "$(cat "$W/cc.out")"
else
	t_skip "containers-common's seccomp profile" "$prof absent or not gating bpf on CAP_SYS_ADMIN"
fi
