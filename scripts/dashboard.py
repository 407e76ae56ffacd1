#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The ctrwatch Grafana dashboard, declared once and written as JSON.

    scripts/dashboard.py           print the dashboard JSON
    scripts/dashboard.py --write   write deploy/helm/ctrwatch/files/ctrwatch-dashboard.json
    scripts/dashboard.py --check   exit 1 when that file differs from this definition

The JSON is what ships (deploy/monitoring/ links to it, the chart puts it in
a ConfigMap); this file is where it is edited.  Every query of every panel is
run against a real Prometheus scraping a real agent by
tests/integration/39-agent-monitoring.sh, and scripts/promdash.py draws the
picture in docs/ from the panels named in PICTURE.
"""
import json
import os
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "deploy", "helm",
                   "ctrwatch", "files", "ctrwatch-dashboard.json")

# Label matchers: the agent's own series, and per-container series.
AGENT = 'job=~"$job", instance=~"$instance"'
CTR = AGENT + ', namespace=~"$namespace", container=~"$container"'
# Per-container aggregation: a container is (namespace, pod, container) on a node.
BY_CTR = "instance, namespace, pod, container"
RI = "$__rate_interval"
DS = {"type": "prometheus", "uid": "${datasource}"}

# The panels scripts/promdash.py draws into docs/dashboard.png (by title).
PICTURE = [
    "Syscalls per second",
    "Syscall errors per second",
    "TCP throughput",
    "TCP connection duration",
    "DNS latency",
    "DNS errors per second",
    "Denied packets per second by rule",
    "Scrape time",
]


def rate(metric, sel=CTR):
    return f"rate({metric}{{{sel}}}[{RI}])"


def target(expr, legend, ref, instant=False):
    t = {"datasource": DS, "expr": expr, "legendFormat": legend, "refId": ref}
    if instant:
        t.update({"instant": True, "range": False, "format": "table"})
    return t


def timeseries(title, desc, targets, unit="short", stack=False, legend_calcs=("mean", "max"),
               w=12, h=8, min0=True):
    defaults = {
        "unit": unit,
        "custom": {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10 if stack else 0,
                   "showPoints": "never", "spanNulls": False,
                   "stacking": {"mode": "normal" if stack else "none", "group": "A"}},
    }
    if min0:
        defaults["min"] = 0
    return {
        "type": "timeseries", "title": title, "description": desc, "datasource": DS,
        "gridPos": {"w": w, "h": h},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {"legend": {"displayMode": "table", "placement": "right",
                               "calcs": list(legend_calcs), "showLegend": True},
                    "tooltip": {"mode": "multi", "sort": "desc"}},
        "targets": [target(e, lg, chr(ord("A") + i)) for i, (e, lg) in enumerate(targets)],
    }


def stat(title, desc, expr, legend="", unit="short", mappings=None, thresholds=None, w=4, h=4):
    defaults = {"unit": unit, "mappings": mappings or [],
                "thresholds": {"mode": "absolute",
                               "steps": thresholds or [{"color": "green", "value": None}]}}
    return {
        "type": "stat", "title": title, "description": desc, "datasource": DS,
        "gridPos": {"w": w, "h": h},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "colorMode": "background", "graphMode": "none", "textMode": "auto",
                    "justifyMode": "auto", "orientation": "auto"},
        "targets": [target(expr, legend, "A")],
    }


def bargauge(title, desc, expr, legend, unit="short", w=12, h=8):
    return {
        "type": "bargauge", "title": title, "description": desc, "datasource": DS,
        "gridPos": {"w": w, "h": h},
        "fieldConfig": {"defaults": {"unit": unit, "min": 0,
                                     "thresholds": {"mode": "absolute",
                                                    "steps": [{"color": "blue", "value": None}]}},
                        "overrides": []},
        "options": {"displayMode": "gradient", "orientation": "horizontal",
                    "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "showUnfilled": True},
        "targets": [target(expr, legend, "A", instant=True)],
    }


def row(title):
    return {"type": "row", "title": title, "collapsed": False, "gridPos": {"w": 24, "h": 1},
            "panels": []}


UP_DOWN = [{"type": "value", "options": {"0": {"text": "down", "color": "red"},
                                         "1": {"text": "up", "color": "green"}}}]
OK_FAILED = [{"type": "value", "options": {"0": {"text": "failed", "color": "red"},
                                           "1": {"text": "ok", "color": "green"}}}]
RED_BELOW_1 = [{"color": "red", "value": None}, {"color": "green", "value": 1}]
RED_ABOVE_0 = [{"color": "green", "value": None}, {"color": "red", "value": 1}]
LEG = "{{container}} {{pod}}"

PANELS = [
    row("Overview"),
    stat("Agents up", "Agent targets Prometheus scrapes successfully, of all it knows.",
         f"sum(up{{{AGENT}}}) / count(up{{{AGENT}}})", unit="percentunit",
         thresholds=[{"color": "red", "value": None}, {"color": "green", "value": 1}]),
    stat("Containers watched", "Containers the agents found (every engine).",
         f"sum(ctrwatch_containers{{{AGENT}}})"),
    stat("Syscalls/s, all", "All watched containers together.",
         f"sum({rate('ctrwatch_syscalls_total')})", unit="short"),
    stat("DNS queries/s, all", "All watched containers together.",
         f"sum({rate('ctrwatch_dns_queries_total')})", unit="short"),
    stat("Events lost (1h)", "Ring buffer events the kernel dropped (TCP, DNS) in the last hour.",
         f"sum(increase(ctrwatch_events_lost_total{{{AGENT}}}[1h])) or sum(ctrwatch_events_total{{{AGENT}}}) * 0",
         thresholds=RED_ABOVE_0),
    stat("Modules down", "Probe modules that failed to start, on all agents.",
         f"count(ctrwatch_module_up{{{AGENT}}} == 0) or sum(ctrwatch_module_up{{{AGENT}}}) * 0",
         thresholds=RED_ABOVE_0),

    row("Syscalls"),
    timeseries("Syscalls per second", "Syscalls made by each container (tp_btf sys_exit).",
               [(f"sum by ({BY_CTR}) ({rate('ctrwatch_syscalls_total')})", LEG)], unit="ops"),
    timeseries("Syscall errors per second",
               "Syscalls that returned an error, the 10 busiest container/syscall pairs.",
               [(f"topk(10, sum by ({BY_CTR}, syscall) ({rate('ctrwatch_syscall_errors_total')}))",
                 "{{container}} {{syscall}}")], unit="ops"),
    bargauge("Busiest syscalls", "The 15 most frequent syscalls of the selected containers.",
             f"topk(15, sum by (syscall) ({rate('ctrwatch_syscalls_total')}))", "{{syscall}}",
             unit="ops"),
    bargauge("Syscalls failing most", "The 15 syscalls returning errors most often.",
             f"topk(15, sum by (syscall) ({rate('ctrwatch_syscall_errors_total')}))", "{{syscall}}",
             unit="ops"),

    row("Resources"),
    timeseries("CPU", "CPU time used by each container (its cgroup's usage).",
               [(f"sum by ({BY_CTR}) ({rate('ctrwatch_container_cpu_usage_seconds_total')})",
                 LEG)], unit="percentunit"),
    timeseries("Memory", "Memory used by each container (its cgroup's usage).",
               [(f"sum by ({BY_CTR}) (ctrwatch_container_memory_usage_bytes{{{CTR}}})", LEG)],
               unit="bytes"),

    row("TCP"),
    timeseries("TCP connections per second",
               "Connections that were established, counted when they close; active = connect, "
               "passive = accept.",
               [(f"sum by ({BY_CTR}, direction) ({rate('ctrwatch_tcp_connections_total')})",
                 "{{container}} {{direction}}")], unit="ops"),
    timeseries("TCP throughput", "Bytes sent and received on closed connections.",
               [(f"sum by ({BY_CTR}) ({rate('ctrwatch_tcp_sent_bytes_total')})",
                 "{{container}} sent"),
                (f"sum by ({BY_CTR}) ({rate('ctrwatch_tcp_received_bytes_total')})",
                 "{{container}} received")], unit="Bps"),
    timeseries("TCP connection duration", "Lifetime of closed connections, SYN to close.",
               [(f"histogram_quantile(0.5, sum by ({BY_CTR}, le) "
                 f"({rate('ctrwatch_tcp_connection_duration_seconds_bucket')}))",
                 "{{container}} p50"),
                (f"histogram_quantile(0.99, sum by ({BY_CTR}, le) "
                 f"({rate('ctrwatch_tcp_connection_duration_seconds_bucket')}))",
                 "{{container}} p99")], unit="s"),
    timeseries("TCP failed connects and open connections",
               "Outgoing connections never established (refused, timed out) per second, and "
               "connections open now.",
               [(f"sum by ({BY_CTR}) ({rate('ctrwatch_tcp_connect_failures_total')})",
                 "{{container}} failed/s"),
                (f"sum by ({BY_CTR}) (ctrwatch_tcp_connections_open{{{CTR}}})",
                 "{{container}} open")]),

    row("DNS"),
    timeseries("DNS queries per second", "Queries sent by each container, by query type.",
               [(f"sum by ({BY_CTR}, qtype) ({rate('ctrwatch_dns_queries_total')})",
                 "{{container}} {{qtype}}")], unit="ops"),
    timeseries("DNS latency", "Query to response, quantiles of the latency histogram.",
               [(f"histogram_quantile({q}, sum by ({BY_CTR}, le) "
                 f"({rate('ctrwatch_dns_request_duration_seconds_bucket')}))",
                 "{{container}} p" + q[2:].ljust(2, "0")) for q in ("0.5", "0.9", "0.99")],
               unit="s"),
    timeseries("DNS errors per second",
               "Responses with an error rcode (NXDOMAIN, SERVFAIL, REFUSED, ...) and queries "
               "that got no response (timeout).",
               [(f"sum by ({BY_CTR}, rcode) (rate(ctrwatch_dns_responses_total{{{CTR}, "
                 f'rcode!="NOERROR"}}[{RI}]))', "{{container}} {{rcode}}"),
                (f"sum by ({BY_CTR}) ({rate('ctrwatch_dns_timeouts_total')})",
                 "{{container}} timeout")], unit="ops"),
    timeseries("DNS SERVFAIL and timeout ratio",
               "Share of queries that failed with SERVFAIL or got no answer: what the "
               "CtrwatchDNSErrorsHigh alert watches (fires above 5 %).",
               [(f"sum by ({BY_CTR}) (rate(ctrwatch_dns_responses_total{{{CTR}, "
                 f'rcode="SERVFAIL"}}[{RI}]) or {rate("ctrwatch_dns_timeouts_total")}) '
                 f"/ sum by ({BY_CTR}) ({rate('ctrwatch_dns_queries_total')})", LEG)],
               unit="percentunit"),

    row("Network policy"),
    timeseries("Denied packets per second by rule",
               "Packets dropped by each deny rule: XDP on node interfaces and per-container "
               "cgroup rules.",
               [(f"sum by (instance, rule, scope) (rate(ctrwatch_policy_packets_total{{{AGENT}, "
                 f'action="deny"}}[{RI}]))', "{{rule}} ({{scope}})")], unit="pps"),
    timeseries("Packets per second by rule and action",
               "Every packet a policy judged, by rule (\"default\": no rule matched) and action.",
               [(f"sum by (instance, rule, action, scope) (rate(ctrwatch_policy_packets_total{{"
                 f"{AGENT}}}[{RI}]))", "{{rule}} {{action}} ({{scope}})")], unit="pps"),
    stat("Rules enforced", "Rules in the enforced policy (the smallest over the agents).",
         f"min(ctrwatch_policy_rules{{{AGENT}}})", w=8),
    stat("Last reload OK", "Whether every agent's last policy load succeeded.",
         f"min(ctrwatch_policy_last_reload_success{{{AGENT}}})", mappings=OK_FAILED,
         thresholds=RED_BELOW_1, w=8),
    stat("Reload errors (24h)", "Policy files rejected in the last day (the running policy stayed).",
         f"sum(increase(ctrwatch_policy_reload_errors_total{{{AGENT}}}[24h]))",
         thresholds=RED_ABOVE_0, w=8),

    row("Agent health"),
    timeseries("Events lost per second",
               "Ring buffer events the kernel dropped, by source, and syscall counts lost to a "
               "full count table.",
               [(f"sum by (instance, source) (rate(ctrwatch_events_lost_total{{{AGENT}}}[{RI}])) "
                 f"or sum by (instance, source) (rate(ctrwatch_events_total{{{AGENT}}}[{RI}])) * 0",
                 "{{instance}} {{source}}"),
                (f"sum by (instance) (rate(ctrwatch_syscall_counts_lost_total{{{AGENT}}}[{RI}]))",
                 "{{instance}} syscall counts")], unit="ops"),
    timeseries("Series per scrape and dropped",
               "Samples in each scrape, and series the agent left out at its max_series cap "
               "(per second).",
               [(f"scrape_samples_scraped{{{AGENT}}}", "{{instance}} series"),
                (f"sum by (instance) (rate(ctrwatch_series_dropped_total{{{AGENT}}}[{RI}]))",
                 "{{instance}} dropped/s")]),
    timeseries("Scrape time",
               "The agent's time to build /metrics (p99 of its histogram) and Prometheus' "
               "whole scrape of it.",
               [(f"histogram_quantile(0.99, sum by (instance, le) "
                 f"(rate(ctrwatch_scrape_duration_seconds_bucket{{{AGENT}}}[{RI}])))",
                 "{{instance}} build p99"),
                (f"scrape_duration_seconds{{{AGENT}}}", "{{instance}} scrape")], unit="s"),
    timeseries("Agent CPU and memory", "The agent process itself.",
               [(f"rate(process_cpu_seconds_total{{{AGENT}}}[{RI}])", "{{instance}} CPU"),
                (f"process_resident_memory_bytes{{{AGENT}}} / 2^20", "{{instance}} RSS MiB")]),
    stat("Module up", "Each probe module on each agent.",
         f"ctrwatch_module_up{{{AGENT}}}", legend="{{instance}} {{module}}", mappings=UP_DOWN,
         thresholds=RED_BELOW_1, w=24),
]


def variable(name, label, query, multi=True, default_all=True):
    v = {"name": name, "label": label, "type": "query", "datasource": DS,
         "query": {"query": query, "refId": name}, "definition": query,
         "refresh": 2, "sort": 1, "multi": multi, "includeAll": multi}
    if multi:
        v["allValue"] = ".*"
        if default_all:
            v["current"] = {"text": ["All"], "value": ["$__all"]}
    return v


TEMPLATING = [
    {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
     "current": {}, "hide": 0, "refresh": 1, "regex": ""},
    variable("job", "Job", "label_values(ctrwatch_build_info, job)", multi=False),
    variable("instance", "Agent", 'label_values(ctrwatch_build_info{job=~"$job"}, instance)'),
    variable("namespace", "Namespace",
             'label_values(ctrwatch_container_info{job=~"$job", instance=~"$instance"}, namespace)'),
    variable("container", "Container",
             'label_values(ctrwatch_container_info{job=~"$job", instance=~"$instance", '
             'namespace=~"$namespace"}, container)'),
]


def layout(panels):
    """Grafana wants absolute grid positions: flow the panels left to right."""
    x = y = rowh = 0
    for i, p in enumerate(panels):
        p["id"] = i + 1
        g = p["gridPos"]
        if p["type"] == "row" or x + g["w"] > 24:
            x, y, rowh = 0, y + rowh, 0
        g["x"], g["y"] = x, y
        x += g["w"]
        rowh = max(rowh, g["h"])
        if p["type"] == "row":
            x, y, rowh = 0, y + 1, 0
    return panels


def dashboard():
    return {
        "uid": "ctrwatch-containers",
        "title": "ctrwatch: containers",
        "description": "Per-container syscalls, TCP, DNS and network policy from the ctrwatch "
                       "eBPF agent, and the agents' own health.",
        "tags": ["ctrwatch", "containers", "ebpf"],
        "editable": True,
        "graphTooltip": 1,
        "refresh": "30s",
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-1h", "to": "now"},
        "timezone": "browser",
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts", "type": "dashboard"}]},
        "links": [],
        "templating": {"list": TEMPLATING},
        "panels": layout(PANELS),
    }


def render():
    return json.dumps(dashboard(), indent=2, sort_keys=True) + "\n"


def main(argv):
    text = render()
    if argv[1:] == ["--write"]:
        with open(OUT, "w") as f:
            f.write(text)
    elif argv[1:] == ["--check"]:
        with open(OUT) as f:
            if f.read() != text:
                print(f"{OUT}: differs from scripts/dashboard.py; run scripts/dashboard.py --write",
                      file=sys.stderr)
                return 1
    elif argv[1:]:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
