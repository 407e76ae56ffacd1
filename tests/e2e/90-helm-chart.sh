#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Helm chart, rendered and strictly checked by ../shared/tools/chart-check
# (helm is not packaged here) for the default values and each documented
# toggle (each of agent.bindNodeIP, agent.tls, agent.basicAuth on and off);
# then the rendered DaemonSet's key fields are asserted, and an agent started
# with the chart's flags (as the kubelet would expand them) serves HTTPS with
# basic auth on the node's address only.
. "$(dirname "$0")/../lib.sh"

chart="$CTW_SRC/deploy/helm/ctrwatch"
if ! checker=$(chart_checker); then
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
		# parsed once: q reads the objects as JSON (fast), not the YAML again
		/usr/bin/python3 -c 'import json, sys, yaml
json.dump([d for d in yaml.safe_load_all(open(sys.argv[1])) if d], open(sys.argv[2], "w"))' \
			"$CTW_WORK/$name.yaml" "$CTW_WORK/$name.json"
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
import os, sys, yaml, json
cache = sys.argv[1][:-len(".yaml")] + ".json"
if sys.argv[1].endswith(".yaml") and os.path.exists(cache):
    docs = json.load(open(cache))
else:
    docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
def by(kind):
    return next((d for d in docs if d.get("kind") == kind), {})
def ctr():
    return by("DaemonSet")["spec"]["template"]["spec"]["containers"][0]
def ep():
    return by("ServiceMonitor")["spec"]["endpoints"][0]
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

# Every new value on and off: the defaults above, then renders that turn
# several unrelated values on at once (each checked strictly by chart-check).
#   values-a: scrapeAnnotations=service, seccomp RuntimeDefault, sizing for 2
#             CPUs, ServiceMonitor and PrometheusRule asked for without the API
#   values-b: privileged, scrapeAnnotations=none, seccomp Localhost, memory given
#   monitor:  ServiceMonitor, PrometheusRule, dashboard with their defaults
#   monitor-values: each of their values set
render values-a -set scrapeAnnotations=service -set seccompProfile.type=RuntimeDefault \
	-set sizing.nodeCpus=2 -set sizing.containersPerNode=20 \
	-set serviceMonitor.enabled=true -set prometheusRule.enabled=true
render values-b -set privileged=true -set scrapeAnnotations=none -set seccompProfile.type=Localhost \
	-set seccompProfile.localhostProfile=profiles/ctrwatch.json \
	-set resources.requests.memory=200Mi -set resources.limits.memory=1Gi
va="$CTW_WORK/values-a.yaml" vb="$CTW_WORK/values-b.yaml"

# prometheus.io/scrape on one kind of object only (pods by default), never both.
annotated='[k for k, o in (("pod", by("DaemonSet")["spec"]["template"]["metadata"]), ("service", by("Service")["metadata"])) if "prometheus.io/scrape" in (o.get("annotations") or {})]'
t_eq "default: scrape annotations on the pods only" '["pod"]' "$(q "$d" "$annotated")"
t_eq "scrapeAnnotations=service: on the Service only" '["service"]' "$(q "$va" "$annotated")"
t_eq "  ... with its port, path and scheme" '["9464", "/metrics", "http"]' \
	"$(q "$va" '[by("Service")["metadata"]["annotations"][k] for k in ("prometheus.io/port", "prometheus.io/path", "prometheus.io/scheme")]')"
t_eq "scrapeAnnotations=none: on neither" '[]' "$(q "$vb" "$annotated")"
t_match "scrapeAnnotations=both is refused, naming the choices" 'scrapeAnnotations: "both" is not one of pod, service, none' \
	"$("$checker" "$chart" -set scrapeAnnotations=both 2>&1)"

# seccomp: the cluster's choice by default, RuntimeDefault or any profile on request.
t_eq "default: no seccompProfile (the cluster's default)" null "$(q "$d" 'ctr()["securityContext"].get("seccompProfile")')"
t_eq "seccompProfile=RuntimeDefault" '{"type": "RuntimeDefault"}' "$(q "$va" 'ctr()["securityContext"]["seccompProfile"]')"
t_eq "seccompProfile=Localhost with its file" '{"localhostProfile": "profiles/ctrwatch.json", "type": "Localhost"}' \
	"$(q "$vb" 'ctr()["securityContext"]["seccompProfile"]')"

# Memory from the one formula in values.yaml (README "Sizing"), request = limit.
formula() { # [KEY=VALUE...]: the formula computed here from the chart's values.yaml
	/usr/bin/python3 - "$chart/values.yaml" "$@" <<'PY'
import math, sys, yaml
s = yaml.safe_load(open(sys.argv[1]))["sizing"]
for kv in sys.argv[2:]:
    k, v = kv.split("=")
    s[k] = int(v)
kib = s["baseMiB"] * 1024 + s["perCpuKiB"] * s["nodeCpus"] + s["perContainerKiB"] * s["containersPerNode"]
print(f'{math.ceil(kib * (100 + s["headroomPercent"]) / 100 / 1024)}Mi')
PY
}
mem='[ctr()["resources"][k]["memory"] for k in ("requests", "limits")]'
want=$(formula)
t_eq "default: memory request = limit = the formula ($want)" "[\"$want\", \"$want\"]" "$(q "$d" "$mem")"
want=$(formula nodeCpus=2 containersPerNode=20)
t_eq "sizing for 2 CPUs and 20 containers: $want" "[\"$want\", \"$want\"]" "$(q "$va" "$mem")"
t_eq "resources.*.memory set: used as given" '["200Mi", "1Gi"]' "$(q "$vb" "$mem")"
# The README's sizing table is the formula's output.
while IFS='|' read -r _ node figure _; do
	c=$(sed -n 's/^ *\([0-9]*\) CPUs, \([0-9]*\) containers.*/nodeCpus=\1 containersPerNode=\2/p' <<<"$node")
	[ -n "$c" ] || continue
	# shellcheck disable=SC2086 # two KEY=VALUE words
	t_eq "README sizing table:$node" "$(formula $c)" "$(tr -d ' ' <<<"$figure")"
done <"$chart/README.md"
t_eq "CPU as given" '["20m", "500m"]' "$(q "$d" '[ctr()["resources"][k]["cpu"] for k in ("requests", "limits")]')"

# The Pod Security level the pod needs, said where an admin looks.
psa='pod-security.kubernetes.io/enforce=privileged'
# NOTES.txt rendered as helm install prints it (helmlite, chart-check's
# renderer, skips NOTES: render a copy where it is an ordinary template).
helmlite=${CHART_CHECK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ctrwatch-chart-check}/helmlite
notes() { # helmlite options...
	rm -rf "$CTW_WORK/notes-chart"
	cp -r "$chart" "$CTW_WORK/notes-chart"
	mv "$CTW_WORK/notes-chart/templates/NOTES.txt" "$CTW_WORK/notes-chart/templates/notes.txt"
	"$helmlite" -strict -name ctrwatch -namespace kube-system "$@" "$CTW_WORK/notes-chart" |
		sed -n '/^# Source: ctrwatch\/templates\/notes.txt/,/^---/p'
}
if [ -x "$helmlite" ]; then
	n=$(notes)
	t_match "NOTES: the privileged Pod Security level and the namespace label to set" \
		"kubectl label ns kube-system $psa" "$n"
	t_match "NOTES: the memory from the sizing formula" "Memory per agent: $(formula)" "$n"
	t_match "NOTES: scraped through the pods' annotations" 'annotations of the pods' "$n"
	t_match "NOTES: the join with ctrwatch_container_info" 'on\(container_id\) group_left\(image, full_id\) ctrwatch_container_info' "$n"
	n=$(notes -set serviceMonitor.enabled=true -set prometheusRule.enabled=true -set grafanaDashboard.enabled=true \
		-set resources.limits.memory=1Gi -api-versions monitoring.coreos.com/v1)
	t_match "NOTES with the Operator: ServiceMonitor, PrometheusRule, dashboard, memory as set" \
		'ServiceMonitor ctrwatch .*PrometheusRule ctrwatch .*ConfigMap ctrwatch-dashboard .*' "$(tr '\n' ' ' <<<"$n")"
	t_match "  ... memory as set" 'Memory per agent: 1Gi\.' "$n"
else
	t_skip "NOTES rendered" "no helmlite in chart-check's cache"
fi
t_match "README too" "$psa" "$(cat "$chart/README.md")"

# The Prometheus Operator objects and the dashboard.
alerts="$CTW_SRC/deploy/monitoring/ctrwatch-alerts.yaml"
dash="$CTW_SRC/deploy/monitoring/ctrwatch-dashboard.json"
render monitor -set serviceMonitor.enabled=true -set prometheusRule.enabled=true \
	-set grafanaDashboard.enabled=true -api-versions monitoring.coreos.com/v1
m="$CTW_WORK/monitor.yaml"
t_eq "ServiceMonitor rendered when enabled and the API exists" metrics "$(q "$m" 'ep()["port"]')"
t_eq "ServiceMonitor: honorLabels (the agent's container/pod/namespace labels kept)" true "$(q "$m" 'ep()["honorLabels"]')"
t_eq "ServiceMonitor: job label from the Service's app.kubernetes.io/name (the alerts' job=\"ctrwatch\")" \
	'["app.kubernetes.io/name", "ctrwatch"]' \
	"$(q "$m" '[by("ServiceMonitor")["spec"]["jobLabel"], by("Service")["metadata"]["labels"]["app.kubernetes.io/name"]]')"
t_eq "ServiceMonitor: interval, timeout, scheme" '["15s", "10s", "http"]' "$(q "$m" '[ep()[k] for k in ("interval", "scrapeTimeout", "scheme")]')"
t_eq "ServiceMonitor: the node relabeling only; no tlsConfig, no metricRelabelings" '[["node"], []]' \
	"$(q "$m" '[[r["targetLabel"] for r in ep()["relabelings"]], sorted(k for k in ep() if k in ("tlsConfig", "metricRelabelings"))]')"
t_eq "no scrape annotations with a ServiceMonitor" '[]' "$(q "$m" "$annotated")"
t_eq "PrometheusRule: its spec is deploy/monitoring/ctrwatch-alerts.yaml" true \
	"$(q "$m" "by(\"PrometheusRule\")[\"spec\"] == yaml.safe_load(open(\"$alerts\"))")"
t_eq "PrometheusRule: every alert" "$(grep -c '^ *- alert:' "$alerts")" \
	"$(q "$m" 'len([r for g in by("PrometheusRule")["spec"]["groups"] for r in g["rules"]])')"
t_eq "dashboard ConfigMap: the JSON of deploy/monitoring/ctrwatch-dashboard.json" true \
	"$(q "$m" "json.loads(by(\"ConfigMap\")[\"data\"][\"ctrwatch-dashboard.json\"]) == json.load(open(\"$dash\"))")"
t_eq "dashboard ConfigMap: the sidecar's label, in the release namespace" '["1", "kube-system"]' \
	"$(q "$m" '[by("ConfigMap")["metadata"]["labels"]["grafana_dashboard"], by("ConfigMap")["metadata"]["namespace"]]')"
t_eq "by default: no ServiceMonitor, PrometheusRule or ConfigMap" '[]' \
	"$(q "$d" '[x["kind"] for x in docs if x["kind"] in ("ServiceMonitor", "PrometheusRule", "ConfigMap")]')"

cat >"$CTW_WORK/monitor-values.yaml.in" <<'YAML'
scrapeAnnotations: service
serviceMonitor:
  enabled: true
  honorLabels: false
  interval: 30s
  scrapeTimeout: 20s
  jobLabel: ""
  relabelings:
    - targetLabel: cluster
      replacement: prod-1
  metricRelabelings:
    - sourceLabels: [__name__]
      regex: ctrwatch_syscall_seconds_total
      action: drop
  labels: {release: kps}
prometheusRule:
  enabled: true
  labels: {release: kps}
grafanaDashboard:
  enabled: true
  labels: {dashboards: ctrwatch}
  annotations: {grafana_folder: ctrwatch}
  namespace: monitoring
YAML
render monitor-values -f "$CTW_WORK/monitor-values.yaml.in" -api-versions monitoring.coreos.com/v1
mv="$CTW_WORK/monitor-values.yaml"
t_eq "ServiceMonitor values: interval, timeout, honorLabels" '["30s", "20s", false]' \
	"$(q "$mv" '[ep()[k] for k in ("interval", "scrapeTimeout", "honorLabels")]')"
t_eq "ServiceMonitor values: relabelings after the chart's node label" '["node", "cluster"]' \
	"$(q "$mv" '[r["targetLabel"] for r in ep()["relabelings"]]')"
t_eq "ServiceMonitor values: metricRelabelings" '["drop"]' "$(q "$mv" '[r["action"] for r in ep()["metricRelabelings"]]')"
t_eq "ServiceMonitor values: no jobLabel, selector labels" '[null, "kps"]' \
	"$(q "$mv" '[by("ServiceMonitor")["spec"].get("jobLabel"), by("ServiceMonitor")["metadata"]["labels"]["release"]]')"
t_eq "  ... and no scrape annotations, whatever scrapeAnnotations says" '[]' "$(q "$mv" "$annotated")"
t_eq "PrometheusRule values: ruleSelector labels" kps "$(q "$mv" 'by("PrometheusRule")["metadata"]["labels"]["release"]')"
t_eq "dashboard values: labels, folder annotation, namespace" '["ctrwatch", "ctrwatch", "monitoring"]' \
	"$(q "$mv" '[by("ConfigMap")["metadata"]["labels"]["dashboards"], by("ConfigMap")["metadata"]["annotations"]["grafana_folder"], by("ConfigMap")["metadata"]["namespace"]]')"

t_eq "no ServiceMonitor or PrometheusRule without the API" '[]' \
	"$(q "$va" '[x["kind"] for x in docs if x["kind"] in ("ServiceMonitor", "PrometheusRule")]')"
t_eq "  ... and the scrape annotations stay (on the Service there)" '["service"]' "$(q "$va" "$annotated")"

# runtimeClass: off by default; on, a RuntimeClass naming the handler
t_eq "default: no RuntimeClass" '[]' "$(q "$d" '[x for x in docs if x["kind"] == "RuntimeClass"]')"
render runtimeclass -set runtimeClass.enabled=true -set runtimeClass.handler=ctw-handler \
	-set runtimeClass.nodeSelector.ctrwatch/runtime=yes
rc="$CTW_WORK/runtimeclass.yaml"
t_eq "runtimeClass: node.k8s.io/v1 RuntimeClass ctrwatch, its handler, no namespace" \
	'["node.k8s.io/v1", "ctrwatch", "ctw-handler", null]' \
	"$(q "$rc" '[by("RuntimeClass")["apiVersion"], by("RuntimeClass")["metadata"]["name"], by("RuntimeClass")["handler"], by("RuntimeClass")["metadata"].get("namespace")]')"
t_eq "runtimeClass: scheduling.nodeSelector" '{"ctrwatch/runtime": "yes"}' \
	"$(q "$rc" 'by("RuntimeClass")["scheduling"]["nodeSelector"]')"

render no-engines -set engines.enabled=false
t_eq "engines off: no engine mounts" '[]' \
	"$(q "$CTW_WORK/no-engines.yaml" '[m["mountPath"] for m in ctr()["volumeMounts"] if m["name"].startswith("engine-")]')"
t_eq "engines off: no engine volumes, no --host-root" '[[], []]' \
	"$(q "$CTW_WORK/no-engines.yaml" '[[v["name"] for v in by("DaemonSet")["spec"]["template"]["spec"]["volumes"] if v["name"].startswith("engine-")], [a for a in ctr()["args"] if a.startswith("--host-root")]]')"
printf 'engines:\n  hostRoot: /node\n  paths: [/data/docker/containers]\n' >"$CTW_WORK/engines-values.yaml"
render engines-custom -f "$CTW_WORK/engines-values.yaml"
t_eq "engines: a custom root and path" '[["/node/data/docker/containers", true]]' \
	"$(q "$CTW_WORK/engines-custom.yaml" '[[m["mountPath"], m.get("readOnly")] for m in ctr()["volumeMounts"] if m["name"].startswith("engine-")]')"

t_eq "privileged toggle" true "$(q "$vb" 'ctr()["securityContext"]["privileged"]')"

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

# ---- the agent's endpoint: node address, TLS, basic auth (each on and off) ----
arg() { q "$1" "[a for a in ctr()[\"args\"] if a.startswith(\"$2\")]"; }
t_eq "default: listens on every address" '["--listen=0.0.0.0:9464"]' "$(arg "$d" --listen)"
t_eq "default: no HOST_IP" '[]' "$(q "$d" '[e for e in ctr()["env"] if e["name"] == "HOST_IP"]')"
t_eq "default: no TLS or auth flags" '[]' \
	"$(q "$d" '[a for a in ctr()["args"] if a.startswith(("--tls", "--basic"))]')"
t_eq "default: no Secret mounted" '[]' \
	"$(q "$d" '[v["name"] for v in by("DaemonSet")["spec"]["template"]["spec"]["volumes"] if "secret" in v]')"
t_eq "default: probes over HTTP" '["HTTP", "HTTP", "HTTP"]' \
	"$(q "$d" '[ctr()[p]["httpGet"]["scheme"] for p in ("livenessProbe","readinessProbe","startupProbe")]')"
t_eq "default: scrape annotation scheme http" http \
	"$(q "$d" 'by("DaemonSet")["spec"]["template"]["metadata"]["annotations"]["prometheus.io/scheme"]')"

render nodeip -set agent.bindNodeIP=true
n="$CTW_WORK/nodeip.yaml"
t_eq "bindNodeIP: listens on the node's address" '["--listen=[$(HOST_IP)]:9464"]' "$(arg "$n" --listen)"
t_eq "bindNodeIP: HOST_IP from the downward API" status.hostIP \
	"$(q "$n" '[e for e in ctr()["env"] if e["name"] == "HOST_IP"][0]["valueFrom"]["fieldRef"]["fieldPath"]')"
t_eq "bindNodeIP: still host networking" true "$(q "$n" 'by("DaemonSet")["spec"]["template"]["spec"]["hostNetwork"]')"

render tls -set agent.tls.enabled=true -set agent.tls.secretName=ctw-tls
t="$CTW_WORK/tls.yaml"
t_eq "tls: certificate and key flags" '["--tls-cert=/etc/ctrwatch/tls/tls.crt", "--tls-key=/etc/ctrwatch/tls/tls.key"]' \
	"$(arg "$t" --tls)"
t_eq "tls: the Secret, mode 0400, its two keys" '["ctw-tls", 256, ["tls.crt", "tls.key"]]' \
	"$(q "$t" '[[v["secret"]["secretName"], v["secret"]["defaultMode"], [i["key"] for i in v["secret"]["items"]]] for v in by("DaemonSet")["spec"]["template"]["spec"]["volumes"] if v["name"] == "tls"][0]')"
t_eq "tls: mounted read-only" '[["/etc/ctrwatch/tls", true]]' \
	"$(q "$t" '[[m["mountPath"], m.get("readOnly")] for m in ctr()["volumeMounts"] if m["name"] == "tls"]')"
t_eq "tls: probes over HTTPS" '["HTTPS", "HTTPS", "HTTPS"]' \
	"$(q "$t" '[ctr()[p]["httpGet"]["scheme"] for p in ("livenessProbe","readinessProbe","startupProbe")]')"
t_eq "tls: the scrape annotations (the pods', scrapeAnnotations=pod) say https" '["https", null]' \
	"$(q "$t" '[by("DaemonSet")["spec"]["template"]["metadata"]["annotations"]["prometheus.io/scheme"], (by("Service")["metadata"]["annotations"] or {}).get("prometheus.io/scheme")]')"
t_eq "tls: no basic auth by itself" '[]' "$(arg "$t" --basic)"
out=$("$checker" "$chart" -set agent.tls.enabled=true 2>&1)
t_match "tls without a Secret: refused, naming the value" "agent\.tls\.secretName" "$out"

render auth -set agent.basicAuth.enabled=true -set agent.basicAuth.secretName=ctw-auth \
	-set agent.basicAuth.key=htpass
a="$CTW_WORK/auth.yaml"
t_eq "basicAuth: the file flag, the Secret's key" '["--basic-auth-file=/etc/ctrwatch/auth/htpass"]' \
	"$(arg "$a" --basic)"
t_eq "basicAuth: the Secret, mode 0400" '["ctw-auth", 256, ["htpass"]]' \
	"$(q "$a" '[[v["secret"]["secretName"], v["secret"]["defaultMode"], [i["key"] for i in v["secret"]["items"]]] for v in by("DaemonSet")["spec"]["template"]["spec"]["volumes"] if v["name"] == "auth"][0]')"
t_eq "basicAuth: probes stay plain HTTP (they need no credentials)" '["HTTP", "HTTP", "HTTP"]' \
	"$(q "$a" '[ctr()[p]["httpGet"]["scheme"] for p in ("livenessProbe","readinessProbe","startupProbe")]')"
out=$("$checker" "$chart" -set agent.basicAuth.enabled=true 2>&1)
t_match "basicAuth without a Secret: refused, naming the value" "agent\.basicAuth\.secretName" "$out"

cat >"$CTW_WORK/endpoint-values.yaml" <<'YAML'
agent:
  bindNodeIP: true
  tls: {enabled: true, secretName: ctw-tls}
  basicAuth: {enabled: true, secretName: ctw-auth}
serviceMonitor:
  enabled: true
  tlsConfig:
    ca: {secret: {name: ctw-tls, key: ca.crt}}
    serverName: ctrwatch.kube-system.svc
  basicAuth:
    username: {name: ctw-auth, key: username}
    password: {name: ctw-auth, key: password}
YAML
render endpoint -f "$CTW_WORK/endpoint-values.yaml" -api-versions monitoring.coreos.com/v1
e="$CTW_WORK/endpoint.yaml"
t_eq "ServiceMonitor: https, the CA and the credentials" '["https", "ctw-tls", "ctw-auth"]' \
	"$(q "$e" '[by("ServiceMonitor")["spec"]["endpoints"][0][k] for k in ("scheme",)] + [by("ServiceMonitor")["spec"]["endpoints"][0]["tlsConfig"]["ca"]["secret"]["name"], by("ServiceMonitor")["spec"]["endpoints"][0]["basicAuth"]["password"]["name"]]')"
render monitor-plain -set serviceMonitor.enabled=true -set serviceMonitor.tlsConfig.insecureSkipVerify=true \
	-api-versions monitoring.coreos.com/v1
t_eq "ServiceMonitor without agent TLS: http, no tlsConfig" '["http", false]' \
	"$(q "$CTW_WORK/monitor-plain.yaml" '[by("ServiceMonitor")["spec"]["endpoints"][0]["scheme"], "tlsConfig" in by("ServiceMonitor")["spec"]["endpoints"][0]]')"

# The agent started with the chart's flags, as the kubelet expands them
# (HOST_IP = 127.0.0.1 here; the Secret's files at the mount paths):
# HTTPS, basic auth on /metrics only, bound to that address only.
if [ "$(id -u)" -ne 0 ] || ! command -v openssl >/dev/null; then
	t_skip "the agent with the chart's endpoint flags" "needs root and openssl"
else
	sec=$CTW_WORK/secrets
	mkdir -p "$sec"
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
		-keyout "$sec/tls.key" -out "$sec/tls.crt" >/dev/null 2>&1
	echo 'prom:s3cret' >"$sec/auth"
	port=$(free_port)
	mapfile -t args < <(q "$e" '"\n".join(ctr()["args"])')
	run=()
	for x in "${args[@]}"; do
		x=${x//\$(HOST_IP)/127.0.0.1}
		x=${x//:9464/:$port}
		x=${x//\/etc\/ctrwatch\/tls/$sec}
		x=${x//\/etc\/ctrwatch\/auth/$sec}
		case $x in --proc-root=* | --cgroup-root=*) continue ;; esac # host paths of a pod
		run+=("$x")
	done
	"$CTW_BIN" "${run[@]}" --metrics resources >"$CTW_WORK/agent-chart.log" 2>&1 &
	apid=$!
	on_exit "kill -TERM $apid 2>/dev/null; sleep 0.3; kill -KILL $apid 2>/dev/null"
	surl=https://127.0.0.1:$port
	t_ok "chart flags: the agent serves HTTPS" wait_for 20 curl -fsk "$surl/readyz"
	t_eq "  ... /healthz without credentials (the probes)" 200 \
		"$(curl -sk -o /dev/null -w '%{http_code}' "$surl/healthz")"
	t_eq "  ... /metrics without credentials is 401" 401 \
		"$(curl -sk -o /dev/null -w '%{http_code}' "$surl/metrics")"
	t_match "  ... /metrics with the Secret's credentials" '^ctrwatch_build_info' \
		"$(curl -sk -u prom:s3cret "$surl/metrics")"
	t_eq "  ... bound to the node's address only" "127.0.0.1:$port" \
		"$(ss -Hltn "sport = :$port" | awk '{print $4}' | sort -u | tr '\n' ' ' | sed 's/ $//')"
	t_fail "  ... plain http refused" curl -fsS --max-time 3 "http://127.0.0.1:$port/metrics"
	kill -TERM "$apid" 2>/dev/null
	wait "$apid" 2>/dev/null
fi

# values map 1:1 to agent flags: the agent itself must accept what the chart passes.
for r in default policy no-engines; do
	mapfile -t args < <(q "$CTW_WORK/$r.yaml" '"\n".join(ctr()["args"])')
	if [ "${args[0]:-}" = agent ]; then
		t_ok "$r: the agent accepts the chart's flags" "$CTW_BIN" "${args[@]}" --check
	else
		_t_report fail "$r: the container runs 'ctrwatch agent'"
	fi
done
