#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Helm chart, rendered and strictly checked by ../shared/tools/chart-check
# (helm is not packaged here) for the default values and each documented
# toggle; then the rendered DaemonSet's key fields are asserted.
. "$(dirname "$0")/../lib.sh"

chart="$CTW_SRC/deploy/helm/ctrwatch"
checker="$CTW_SRC/../shared/tools/chart-check/chart-check"
if [ ! -x "$checker" ]; then
	t_skip "helm chart" "../shared/tools/chart-check is absent"
	exit 0
fi
require_cmd go node npm /usr/bin/python3

# render NAME [chart-check options]: check strictly, keep the YAML in $CTW_WORK/NAME.yaml
render() {
	local name=$1; shift
	local out
	if out=$("$checker" "$chart" "$@" 2>&1); then
		_t_report ok "chart-check: $name"
		cp "$(sed -n 's/^chart-check: rendered manifests in //p' <<<"$out")" "$CTW_WORK/$name.yaml"
	else
		_t_report fail "chart-check: $name"
		printf '%s\n' "$out" | tail -20 | sed 's/^/#   /'
		: >"$CTW_WORK/$name.yaml"
	fi
}

# q FILE EXPR: evaluate a Python expression over the rendered objects
# (`docs`: list, `by(kind)`: the first object of that kind, or {}).
q() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import sys, yaml, json
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
def by(kind):
    return next((d for d in docs if d.get("kind") == kind), {})
def ctr():
    return by("DaemonSet")["spec"]["template"]["spec"]["containers"][0]
v = eval(sys.argv[2])
print(json.dumps(v, sort_keys=True) if not isinstance(v, str) else v)
PY
}

mkdir -p "$CTW_WORK"
render default
d="$CTW_WORK/default.yaml"
t_eq "default: kinds" '["DaemonSet", "Service", "ServiceAccount"]' "$(q "$d" 'sorted(x["kind"] for x in docs)')"
t_eq "default: not privileged" false "$(q "$d" 'ctr()["securityContext"]["privileged"]')"
t_eq "default: drops ALL capabilities" '["ALL"]' "$(q "$d" 'ctr()["securityContext"]["capabilities"]["drop"]')"
t_eq "default: adds only the BPF set" '["BPF", "NET_ADMIN", "PERFMON", "SYS_PTRACE", "SYS_RESOURCE"]' \
	"$(q "$d" 'sorted(ctr()["securityContext"]["capabilities"]["add"])')"
t_eq "default: read-only root filesystem" true "$(q "$d" 'ctr()["securityContext"]["readOnlyRootFilesystem"]')"
t_eq "default: hostNetwork" true "$(q "$d" 'by("DaemonSet")["spec"]["template"]["spec"]["hostNetwork"]')"
t_eq "default: dnsPolicy" ClusterFirstWithHostNet "$(q "$d" 'by("DaemonSet")["spec"]["template"]["spec"]["dnsPolicy"]')"
t_eq "default: priority class" system-node-critical "$(q "$d" 'by("DaemonSet")["spec"]["template"]["spec"]["priorityClassName"]')"
t_eq "default: tolerates everything" '[{"operator": "Exists"}]' "$(q "$d" 'by("DaemonSet")["spec"]["template"]["spec"]["tolerations"]')"
t_eq "default: linux nodes" '{"kubernetes.io/os": "linux"}' "$(q "$d" 'by("DaemonSet")["spec"]["template"]["spec"]["nodeSelector"]')"
t_eq "default: rolling update, 1 unavailable" '{"rollingUpdate": {"maxUnavailable": 1}, "type": "RollingUpdate"}' \
	"$(q "$d" 'by("DaemonSet")["spec"]["updateStrategy"]')"
t_eq "default: mounts" '[["/host/proc", true, null], ["/run/ctrwatch", true, null], ["/sys/fs/bpf", null, "HostToContainer"], ["/sys/fs/cgroup", true, null], ["/sys/kernel/btf", true, null], ["/sys/kernel/tracing", true, null], ["/tmp", null, null]]' \
	"$(q "$d" 'sorted([m["mountPath"], m.get("readOnly"), m.get("mountPropagation")] for m in ctr()["volumeMounts"] if not m["name"].startswith("engine-"))')"
t_eq "default: engine dirs mounted read-only below /host" \
	'[["/host/etc/docker", true], ["/host/run/containerd", true], ["/host/run/containers", true], ["/host/run/crun", true], ["/host/run/docker", true], ["/host/run/runc", true], ["/host/var/lib/containerd/io.containerd.metadata.v1.bolt", true], ["/host/var/lib/containers/storage/libpod", true], ["/host/var/lib/containers/storage/overlay-containers", true], ["/host/var/lib/docker/containers", true]]' \
	"$(q "$d" 'sorted([m["mountPath"], m.get("readOnly")] for m in ctr()["volumeMounts"] if m["name"].startswith("engine-"))')"
t_eq "default: each from the same host path" '[]' \
	"$(q "$d" '[v["hostPath"]["path"] for v in by("DaemonSet")["spec"]["template"]["spec"]["volumes"] if v["name"].startswith("engine-") and "/host" + v["hostPath"]["path"] not in [m["mountPath"] for m in ctr()["volumeMounts"] if m["name"] == v["name"]]]')"
t_eq "default: the agent reads engine files below /host" '["--host-root=/host"]' \
	"$(q "$d" '[a for a in ctr()["args"] if a.startswith("--host-root")]')"
t_eq "default: probes" '["/healthz", "/readyz", "/healthz"]' \
	"$(q "$d" '[ctr()[p]["httpGet"]["path"] for p in ("livenessProbe","readinessProbe","startupProbe")]')"
t_eq "default: scrape annotations without ServiceMonitor" '"true"' \
	"$(q "$d" 'json.dumps(by("DaemonSet")["spec"]["template"]["metadata"]["annotations"]["prometheus.io/scrape"])')"
t_eq "default: agent listens on the metrics port" '--listen=0.0.0.0:9464' "$(q "$d" '[a for a in ctr()["args"] if a.startswith("--listen")][0]')"
t_eq "default: no policy flag" '[]' "$(q "$d" '[a for a in ctr()["args"] if a.startswith("--policy")]')"
t_match "default: resources requested" '"memory"' "$(q "$d" 'ctr()["resources"]["requests"]')"

render monitor -set serviceMonitor.enabled=true -api-versions monitoring.coreos.com/v1
m="$CTW_WORK/monitor.yaml"
t_eq "ServiceMonitor rendered when enabled and the API exists" metrics "$(q "$m" 'by("ServiceMonitor")["spec"]["endpoints"][0]["port"]')"
t_eq "no scrape annotations with a ServiceMonitor" False "$(q "$m" 'str("prometheus.io/scrape" in (by("DaemonSet")["spec"]["template"]["metadata"].get("annotations") or {}))')"

render monitor-noapi -set serviceMonitor.enabled=true
t_eq "no ServiceMonitor without the API" '{}' "$(q "$CTW_WORK/monitor-noapi.yaml" 'by("ServiceMonitor")')"

render no-engines -set engines.enabled=false
t_eq "engines off: no engine mounts" '[]' \
	"$(q "$CTW_WORK/no-engines.yaml" '[m["mountPath"] for m in ctr()["volumeMounts"] if m["name"].startswith("engine-")]')"
t_eq "engines off: no engine volumes, no --host-root" '[[], []]' \
	"$(q "$CTW_WORK/no-engines.yaml" '[[v["name"] for v in by("DaemonSet")["spec"]["template"]["spec"]["volumes"] if v["name"].startswith("engine-")], [a for a in ctr()["args"] if a.startswith("--host-root")]]')"
printf 'engines:\n  hostRoot: /node\n  paths: [/data/docker/containers]\n' >"$CTW_WORK/engines-values.yaml"
render engines-custom -f "$CTW_WORK/engines-values.yaml"
t_eq "engines: a custom root and path" '[["/node/data/docker/containers", true]]' \
	"$(q "$CTW_WORK/engines-custom.yaml" '[[m["mountPath"], m.get("readOnly")] for m in ctr()["volumeMounts"] if m["name"].startswith("engine-")]')"

render privileged -set privileged=true
t_eq "privileged toggle" true "$(q "$CTW_WORK/privileged.yaml" 'ctr()["securityContext"]["privileged"]')"

cat >"$CTW_WORK/policy-values.yaml" <<'YAML'
policy:
  enabled: true
  rules:
    - name: no-metadata
      action: deny
      containers: {name: "web-*"}
      direction: egress
      match:
        cidrs: [169.254.169.254/32]
YAML
render policy -f "$CTW_WORK/policy-values.yaml"
p="$CTW_WORK/policy.yaml"
t_eq "policy: ConfigMap carries the rules" no-metadata \
	"$(q "$p" 'yaml.safe_load(by("ConfigMap")["data"]["policy.yaml"])["rules"][0]["name"]')"
t_eq "policy: mounted as a directory (no subPath, hot reload)" '[["/etc/ctrwatch/policy", null]]' \
	"$(q "$p" '[[m["mountPath"], m.get("subPath")] for m in ctr()["volumeMounts"] if m["name"] == "policy"]')"
t_eq "policy: agent gets --policy" '["--policy=/etc/ctrwatch/policy/policy.yaml"]' \
	"$(q "$p" '[a for a in ctr()["args"] if a.startswith("--policy")]')"

# values map 1:1 to agent flags: the agent itself must accept what the chart passes.
for r in default policy no-engines; do
	mapfile -t args < <(q "$CTW_WORK/$r.yaml" '"\n".join(ctr()["args"])')
	if [ "${args[0]:-}" = agent ]; then
		t_ok "$r: the agent accepts the chart's flags" "$CTW_BIN" "${args[@]}" --check
	else
		_t_report fail "$r: the container runs 'ctrwatch agent'"
	fi
done
