#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What ships for monitoring the agent, tested on the real thing:
#   - the alerting rules: `promtool check rules`, and `promtool test rules`
#     with a firing and a not-firing case for every alert;
#   - the Grafana dashboard: the JSON is what scripts/dashboard.py declares,
#     every panel's every query, run against a real Prometheus (Debian's, on
#     a test netns's loopback, temp storage, scraping every second) that
#     scrapes a real agent watching three busy `ctrwatch run` containers
#     (syscalls and errors, HTTP over TCP, refused connects, DNS answered,
#     NXDOMAIN, SERVFAIL and unanswered, packets a policy rule denies),
#     returns data; the template variables list the containers; one
#     container picked keeps only its series;
#   - the same Prometheus loads the rules: all healthy, and the only alert
#     active is the DNS error one, pending for the container that makes
#     SERVFAIL and timeouts;
#   - the picture: scripts/promdash.py draws the main panels into a PNG.
# `make dashboard-picture` runs this suite with CTW_PICTURE=docs/dashboard.png
# and LAB_SECONDS=240 to refresh the picture in the docs.
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd prometheus promtool dnsmasq jq curl nsenter gnuplot /usr/bin/python3
# shellcheck source=tests/integration/60-dns-common.bash
. "$(dirname "$0")/60-dns-common.bash"

MON=$CTW_SRC/deploy/monitoring
DASH=$MON/ctrwatch-dashboard.json
PROMDASH=$CTW_SRC/scripts/promdash.py
LAB_SECONDS=${LAB_SECONDS:-30}

# ---- the files themselves ----
t_ok "promtool check rules" promtool check rules "$MON/ctrwatch-alerts.yaml"
t_ok "promtool test rules (every alert firing and not firing)" \
	promtool test rules "$MON/tests/alerts_test.yaml"
alerts=$(sed -n 's/^ *- alert: //p' "$MON/ctrwatch-alerts.yaml" | sort)
tested=$(sed -n 's/^ *alertname: //p' "$MON/tests/alerts_test.yaml" | sort -u)
t_eq "the unit tests cover every alert" "$alerts" "$tested"
untested=""
for a in $alerts; do
	# a firing case (exp_alerts with a list item) and a not-firing one (exp_alerts: [])
	grep -A1 "alertname: $a\$" "$MON/tests/alerts_test.yaml" | grep -q 'exp_alerts: \[\]' ||
		untested="$untested $a(not firing)"
	grep -A2 "alertname: $a\$" "$MON/tests/alerts_test.yaml" | grep -q 'exp_labels' ||
		untested="$untested $a(firing)"
done
t_eq "each alert has a firing and a not-firing case" "" "$untested"
t_ok "the dashboard JSON is what scripts/dashboard.py declares" \
	/usr/bin/python3 "$CTW_SRC/scripts/dashboard.py" --check
t_eq "the chart's files are the ones deploy/monitoring/ links to" \
	"$(readlink -f "$CTW_SRC/deploy/helm/ctrwatch/files/ctrwatch-dashboard.json") $(readlink -f "$CTW_SRC/deploy/helm/ctrwatch/files/ctrwatch-alerts.yaml")" \
	"$(readlink -f "$DASH") $(readlink -f "$MON/ctrwatch-alerts.yaml")"
t_eq "dashboard: unique panel ids, every panel on the 24-column grid, every query on \${datasource}" \
	"ok" "$(jq -r '[.panels[]] as $p |
		if ([$p[].id] | length) != ([$p[].id] | unique | length) then "duplicate ids"
		elif any($p[]; .gridPos.x + .gridPos.w > 24) then "off the grid"
		elif any($p[] | .targets[]?; .datasource.uid != "${datasource}") then "a query without ${datasource}"
		else "ok" end' "$DASH")"

# ---- the lab: a netns playing the node ----
dns_setup || { t_fail "netns $DNS_NS with dnsmasq" true; exit 1; }
NS=$DNS_NS
in_ns() { nsenter --net="/run/netns/$NS" "$@"; }
# For a command started with &: the program itself is $!, so that on_exit's
# kill reaches it (a function run with & is a subshell whose kill leaves
# nsenter's program running).
in_ns_bg() { exec nsenter --net="/run/netns/$NS" "$@"; }
# Packets to 10.253.99.0/24 are local in the netns (an address on lo) and
# denied by the policy below for the client container.
ip -n "$NS" addr add 10.253.99.1/24 dev lo
# A resolver that answers every query SERVFAIL, on 127.0.0.55.
in_ns_bg /usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.55", 53))
while True:
    q, peer = s.recvfrom(512)
    if len(q) >= 12:   # same id and question, QR RD RA, rcode 2
        s.sendto(q[:2] + bytes([0x81 | (q[2] & 1), 0x82]) + q[4:6] + b"\0\0\0\0\0\0" + q[12:], peer)
' >"$CTW_WORK/servfail.log" 2>&1 &
sf=$!
on_exit "kill $sf"

# The containers' v2 parent, made now so the agent can watch only it.
v2=$(dns_v2_mount)
own=$(sed -n 's/^0:://p' /proc/self/cgroup)
CGROOT=$v2${own%/}/$CTRWATCH_CGROUP_PARENT
mkdir -p "$CGROOT"
on_exit "cgroup_rm_tree '$CTRWATCH_CGROUP_PARENT'"

W=$CTW_WORK/mon39
mkdir -p "$W/www"
head -c 20000 /dev/urandom >"$W/www/small"
head -c 300000 /dev/urandom >"$W/www/large"
cat >"$W/policy.yaml" <<EOF
rules:
  - name: no-backend-net
    action: deny
    containers: {name: "client-*"}
    direction: egress
    match: {cidrs: [10.253.99.0/24]}
EOF
on_exit "'$CTW_BIN' policy flush; rm -rf '$CTRWATCH_BPF_PIN'"

WEB=web-$$ CLIENT=client-$$ WORKER=worker-$$
HPORT=18080
run_ctr() { # name cmd...
	local name=$1; shift
	in_ns "$CTW_BIN" run -d --name "$name" --net host -v "$W/www:/www:ro" busybox "$@" \
		>"$W/$name.run" 2>&1 && on_exit "'$CTW_BIN' rm -f '$name'"
}
run_ctr "$WEB" httpd -f -p "127.0.0.1:$HPORT" -h /www ||
	{ t_fail "ctrwatch run $WEB" true; sed 's/^/#   /' "$W/$WEB.run"; exit 1; }
run_ctr "$CLIENT" sh -c "
	while :; do
		wget -q -O /dev/null http://127.0.0.1:$HPORT/small
		wget -q -O /dev/null http://127.0.0.1:$HPORT/large
		wget -q -O /dev/null http://127.0.0.1:$((HPORT + 1))/refused 2>/dev/null
		nslookup web.example.test 127.0.0.53 >/dev/null 2>&1
		nslookup nope.example.test 127.0.0.53 >/dev/null 2>&1
		nslookup x.fail.test 127.0.0.55 >/dev/null 2>&1
		timeout 1 nslookup x.nobody.test 127.0.0.56 >/dev/null 2>&1
		echo x | timeout 1 nc 10.253.99.2 80 >/dev/null 2>&1
		cat /www/missing 2>/dev/null
		sleep 0.3
	done" || { t_fail "ctrwatch run $CLIENT" true; exit 1; }
run_ctr "$WORKER" sh -c '
	while :; do
		i=0
		while [ $i -lt 40 ]; do cat /etc/passwd >/dev/null; ls /nonexistent 2>/dev/null; i=$((i + 1)); done
		usleep 100000
	done' || { t_fail "ctrwatch run $WORKER" true; exit 1; }

APORT=19464
# (its DNS programs attached above the containers: --dns-cgroup)
in_ns_bg "$CTW_BIN" agent --listen "127.0.0.1:$APORT" --cgroup-root "$CGROOT" \
	--dns-cgroup "$CGROOT" \
	--discovery-interval 1s --dns-timeout 1s --policy "$W/policy.yaml" \
	>"$W/agent.log" 2>&1 &
apid=$!
on_exit "kill $apid; wait $apid"
if ! wait_for 20 in_ns curl -fsS "http://127.0.0.1:$APORT/readyz"; then
	t_fail "agent ready" true
	sed 's/^/#   agent: /' "$W/agent.log" | tail -20
	exit 1
fi
t_ok "agent ready in netns $NS" true

PPORT=19090
cat >"$W/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $MON/ctrwatch-alerts.yaml
scrape_configs:
  - job_name: ctrwatch
    static_configs:
      - targets: ['127.0.0.1:$APORT']
EOF
in_ns_bg prometheus --config.file="$W/prometheus.yml" --storage.tsdb.path="$W/tsdb" \
	--web.listen-address="127.0.0.1:$PPORT" >"$W/prometheus.log" 2>&1 &
ppid=$!
on_exit "kill $ppid; wait $ppid"
PROM=http://127.0.0.1:$PPORT
t_ok "prometheus ready" wait_for 30 in_ns curl -fsS "$PROM/-/ready"
start=$(date +%s)
pq() { in_ns curl -fsS "$PROM/api/v1/query" --data-urlencode "query=$1"; }
up1() { [ "$(pq 'up{job="ctrwatch"}' | jq -r '.data.result[0].value[1]')" = 1 ]; }
t_ok "prometheus scrapes the agent (up == 1)" wait_for 20 up1

# Let the containers work while Prometheus scrapes: rates need a window.
sleep "$LAB_SECONDS"
end=$(date +%s)

# ---- every panel query returns data ----
ev=(/usr/bin/python3 "$PROMDASH" evaluate "$DASH" --prom "$PROM" --start "$start" --end "$end"
	--step 2 --rate-interval 10s --var job=ctrwatch)
in_ns "${ev[@]}" >"$W/eval.json" 2>"$W/eval.err"
t_cmp "the dashboard has panel queries ($(wc -l <"$W/eval.json"))" "$(wc -l <"$W/eval.json")" -ge 30
while IFS=$'\t' read -r n name expr error; do
	if [ "$n" -gt 0 ]; then
		_t_report ok "query returns data: $name ($n series)"
	else
		_t_report fail "query returns data: $name"
		printf '#   expr: %s\n#   error: %s\n' "$expr" "$error"
	fi
done < <(jq -r '[.series, "\(.panel) [\(.refId)]", .expr, (.error // "no series with a number")] | @tsv' "$W/eval.json")
has_label() { # panel refId regex: some series of that query is labelled so
	jq -se --arg p "$1" --arg r "$2" --arg re "$3" \
		'any(.[] | select(.panel == $p and .refId == $r) | .labels[]; test($re))' "$W/eval.json" >/dev/null
}
t_eq "syscalls: the three containers" "$(printf '%s\n' "$CLIENT" "$WEB" "$WORKER" | sort | xargs)" \
	"$(jq -r 'select(.panel == "Syscalls per second" and .refId == "A") | .labels[] | split(" ")[0]' \
		"$W/eval.json" | sort -u | xargs)"
t_ok "TCP: the client's active and the web server's passive connections" \
	sh -c "$(declare -f has_label); W='$W'; has_label 'TCP connections per second' A '^$CLIENT active' &&
		has_label 'TCP connections per second' A '^$WEB passive'"
t_ok "DNS errors: NXDOMAIN, SERVFAIL and timeouts of the client" \
	sh -c "$(declare -f has_label); W='$W'; has_label 'DNS errors per second' A '^$CLIENT NXDOMAIN' &&
		has_label 'DNS errors per second' A '^$CLIENT SERVFAIL' && has_label 'DNS errors per second' B '^$CLIENT timeout'"
t_ok "policy: the deny rule's drops" has_label "Denied packets per second by rule" A '^no-backend-net \(egress\)$'
t_ok "DNS latency quantiles" has_label "DNS latency" C "^$CLIENT p99"

# One container picked: per-container panels keep only its series.
in_ns "${ev[@]}" --var container="$CLIENT" >"$W/eval1.json" 2>&1
t_eq "container=$CLIENT: syscall panel shows it alone" "[\"$CLIENT\"]" \
	"$(jq -c 'select(.panel == "Syscalls per second" and .refId == "A") | [.labels[] | split(" ")[0]] | unique' "$W/eval1.json")"
t_eq "container=$CLIENT: TCP throughput shows it alone" "[\"$CLIENT\"]" \
	"$(jq -c 'select(.panel == "TCP throughput" and .refId == "A") | [.labels[] | split(" ")[0]] | unique' "$W/eval1.json")"

# ---- template variables ----
in_ns /usr/bin/python3 "$PROMDASH" variables "$DASH" --prom "$PROM" --start "$start" --end "$end" \
	--var job=ctrwatch >"$W/vars.json" 2>&1
t_eq "variable job lists ctrwatch" '["ctrwatch"]' "$(jq -c 'select(.variable == "job") | .values' "$W/vars.json")"
t_eq "variable instance lists the agent" "[\"127.0.0.1:$APORT\"]" \
	"$(jq -c 'select(.variable == "instance") | .values' "$W/vars.json")"
t_eq "variable container lists the three containers" "$(printf '%s\n' "$CLIENT" "$WEB" "$WORKER" | sort | jq -R . | jq -sc .)" \
	"$(jq -c 'select(.variable == "container") | .values | sort' "$W/vars.json")"
t_eq "variable namespace: a valid query (empty outside Kubernetes)" "null" \
	"$(jq -c 'select(.variable == "namespace") | .error' "$W/vars.json")"

# ---- ctrwatch_container_info: the labels a cAdvisor user joins on ----
info=$(pq "ctrwatch_container_info{container=\"$CLIENT\"}" | jq -c '.data.result[0].metric')
cg=$("$CTW_BIN" inspect "$CLIENT" | jq -r '.[0].cgroup')
full=$("$CTW_BIN" inspect "$CLIENT" | jq -r '.[0].id')
t_eq "container_info: image, container_id (short), full_id, and id = the cgroup path below the root (cAdvisor's id)" \
	"busybox ${full:0:12} $full ${cg#"$CGROOT"}" \
	"$(jq -r '"\(.image) \(.container_id) \(.full_id) \(.id)"' <<<"$info")"

# ---- the PromQL examples of the docs return data ----
/usr/bin/python3 - "$CTW_SRC/deploy/helm/ctrwatch/README.md" "$MON/README.md" "$CTW_SRC/README.adoc" \
	>"$W/examples.txt" <<'PY'
import re, sys
for path in sys.argv[1:]:
    text = open(path).read()
    blocks = re.findall(r"```promql\n(.*?)```", text, re.S)
    blocks += re.findall(r"\[source,promql\]\n----\n(.*?)----", text, re.S)
    for b in blocks:
        print(path.split("/")[-1] + "\t" + " ".join(b.split()))
PY
t_cmp "the docs have PromQL examples ($(wc -l <"$W/examples.txt"))" "$(wc -l <"$W/examples.txt")" -ge 5
while IFS=$'\t' read -r doc expr; do
	res=$(in_ns curl -fsS "$PROM/api/v1/query" --data-urlencode "query=$expr" --data-urlencode "time=$end")
	n=$(jq '[.data.result[] | select(.value[1] | test("^-?[0-9]"))] | length' <<<"$res" 2>/dev/null)
	if [ "${n:-0}" -gt 0 ]; then
		_t_report ok "$doc example returns data ($n series): ${expr:0:70}"
	else
		_t_report fail "$doc example returns data: $expr"
		echo "#   $res" | head -c 400
	fi
done <"$W/examples.txt"
join=$(in_ns curl -fsS "$PROM/api/v1/query" --data-urlencode "time=$end" --data-urlencode \
	"query=rate(ctrwatch_syscalls_total{container=\"$CLIENT\"}[5m]) * on(container_id) group_left(image, full_id) ctrwatch_container_info")
t_eq "the join gives the client's syscall series its image and id" "busybox $(jq -r .full_id <<<"$info")" \
	"$(jq -r '.data.result | map("\(.metric.image) \(.metric.full_id)") | unique | join(",")' <<<"$join")"

# ---- the rules in the real Prometheus ----
rules=$(in_ns curl -fsS "$PROM/api/v1/rules")
t_eq "prometheus loaded every rule, all healthy" "$(wc -w <<<"$alerts") ok" \
	"$(jq -r '[.data.groups[].rules[]] | "\(length) \(map(.health) | unique | join(","))"' <<<"$rules")"
active=$(in_ns curl -fsS "$PROM/api/v1/alerts" | jq -r '.data.alerts[] | "\(.labels.alertname) \(.labels.container // "-") \(.state)"' | sort)
t_eq "active alerts: only DNS errors of the client, pending" "CtrwatchDNSErrorsHigh $CLIENT pending" "$active"

# ---- the picture ----
out=${CTW_PICTURE:-$W/dashboard.png}
mkdir -p "$(dirname "$out")"
panels=$(/usr/bin/python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import dashboard; print(",".join(dashboard.PICTURE))' \
	"$CTW_SRC/scripts")
in_ns /usr/bin/python3 "$PROMDASH" picture "$DASH" --prom "$PROM" --start "$start" --end "$end" \
	--step 2 --rate-interval 10s --var job=ctrwatch --panels "$panels" --out "$out" \
	--title "ctrwatch dashboard: $((end - start)) s of a real agent watching 3 ctrwatch run containers (tests/integration/39-agent-monitoring.sh)" \
	>"$W/picture.json" 2>"$W/picture.err"
t_eq "promdash draws the picture's panels" "$(tr ',' '\n' <<<"$panels" | wc -l)" \
	"$(jq '.panels | length' "$W/picture.json" 2>/dev/null)"
t_cmp "  ... with series in them ($(jq .series "$W/picture.json" 2>/dev/null))" \
	"$(jq .series "$W/picture.json" 2>/dev/null || echo 0)" -ge 12
t_eq "  ... into a PNG" "PNG image data" "$(file -b "$out" | cut -d, -f1)"
t_match "  ... 1600 pixels wide" '1600 x [0-9]+' "$(file -b "$out")"
