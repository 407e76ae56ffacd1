#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Run a Grafana dashboard's queries against a Prometheus, as Grafana would.

    promdash.py queries   DASHBOARD [--var NAME=VALUE]...
    promdash.py evaluate  DASHBOARD --prom URL --start T --end T [--var ...]
    promdash.py variables DASHBOARD --prom URL --start T --end T [--var ...]
    promdash.py picture   DASHBOARD --prom URL --start T --end T --out PNG
                          [--panels TITLE,...] [--title TEXT] [--var ...]

Grafana's variables are expanded first: $__rate_interval, $__interval and
$__range from the options (--rate-interval, --step, the time range), each
template variable from --var or, for a multi-value one left out, its "All"
value (allValue).  `evaluate` prints one JSON line per panel query: panel,
refId, expr, and how many series came back with at least one number (not
NaN): a query "returns data" when that is above 0.  `variables` does the same
for the template variables' label_values() queries.  `picture` draws the
chosen panels' range queries with gnuplot into one PNG.  T is a Unix time;
--end now and --start -600 (relative to the end) work too.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request


# ---- dashboard and variables ----

def load(path):
    with open(path) as f:
        return json.load(f)


def panels(dash):
    """Every panel, rows' nested ones included, in order."""
    for p in dash.get("panels", []):
        yield p
        yield from p.get("panels", [])


def var_values(dash, given):
    """NAME -> regex text, for every template variable."""
    out = {}
    for v in dash.get("templating", {}).get("list", []):
        name = v["name"]
        if name in given:
            vals = given[name]
            out[name] = vals[0] if len(vals) == 1 else "(" + "|".join(vals) + ")"
        elif v.get("includeAll"):
            out[name] = v.get("allValue") or ".*"
        elif v.get("type") == "datasource":
            out[name] = ""
        else:
            raise SystemExit(f"promdash: variable ${name} needs --var {name}=VALUE")
    return out


def expand(expr, values, builtins):
    def sub(m):
        name = m.group(1) or m.group(2)
        if name in builtins:
            return builtins[name]
        if name in values:
            return values[name]
        raise SystemExit(f"promdash: unknown variable ${name} in: {expr}")
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", sub, expr)


def queries(dash, values, builtins):
    for p in panels(dash):
        for t in p.get("targets", []):
            yield {"panel": p["title"], "type": p["type"], "refId": t["refId"],
                   "legend": t.get("legendFormat", ""), "instant": bool(t.get("instant")),
                   "expr": expand(t["expr"], values, builtins)}


# ---- Prometheus HTTP API ----

def api(prom, path, params):
    url = prom.rstrip("/") + path + "?" + urllib.parse.urlencode(params, doseq=True)
    with urllib.request.urlopen(url, timeout=30) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError(body.get("error", "query failed"))
    return body["data"]


def finite(v):
    try:
        return math.isfinite(float(v))
    except ValueError:
        return False


def run_query(prom, q, start, end, step):
    if q["instant"]:
        data = api(prom, "/api/v1/query", {"query": q["expr"], "time": end})
        return [(s["metric"], [(float(s["value"][0]), s["value"][1])]) for s in data["result"]]
    data = api(prom, "/api/v1/query_range",
               {"query": q["expr"], "start": start, "end": end, "step": step})
    return [(s["metric"], [(float(t), v) for t, v in s["values"]]) for s in data["result"]]


def legend(fmt, metric):
    text = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: metric.get(m.group(1), ""), fmt)
    return " ".join(text.split()) or "{" + ",".join(f'{k}="{v}"' for k, v in
                                                      sorted(metric.items())) + "}"


# ---- commands ----

def cmd_queries(a, dash, values, builtins):
    for q in queries(dash, values, builtins):
        print(json.dumps(q, sort_keys=True))
    return 0


def cmd_evaluate(a, dash, values, builtins):
    empty = 0
    for q in queries(dash, values, builtins):
        try:
            res = run_query(a.prom, q, a.start, a.end, a.step)
            q["series"] = sum(1 for _, vals in res if any(finite(v) for _, v in vals))
            q["labels"] = sorted({legend(q["legend"], m) for m, _ in res})[:50]
        except Exception as e:  # a bad query is a result to report, not a crash
            q["series"], q["error"] = 0, str(e)
        empty += q["series"] == 0
        print(json.dumps(q, sort_keys=True))
    return 1 if empty else 0


def cmd_variables(a, dash, values, builtins):
    bad = 0
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        text = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
        m = re.fullmatch(r"\s*label_values\((?:(.*),\s*)?(\w+)\)\s*", text)
        out = {"variable": v["name"], "query": text}
        if not m:
            out.update(values=[], error="not a label_values() query")
        else:
            sel = expand(m.group(1) or "", values, builtins)
            params = {"start": a.start, "end": a.end}
            if sel:
                params["match[]"] = sel
            try:
                out["values"] = api(a.prom, f"/api/v1/label/{m.group(2)}/values", params)
            except Exception as e:
                out.update(values=[], error=str(e))
        bad += "error" in out
        print(json.dumps(out, sort_keys=True))
    return 1 if bad else 0


UNITS = {  # gnuplot y format per Grafana unit
    "ops": ('%g/s', 1), "pps": ('%g/s', 1), "Bps": ('%.1s%cB/s', 1),
    "bytes": ('%.1s%cB', 1), "s": ('%.1s%cs', 1), "percentunit": ('%.0f%%', 100),
    "short": ('%.1s%c', 1),
}
COLORS = ["#73bf69", "#f2cc0c", "#8ab8ff", "#ff780a", "#f2495c", "#5794f2", "#b877d9",
          "#705da0", "#37872d", "#fade2a", "#c4162a", "#1f60c4"]


def gp_quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def cmd_picture(a, dash, values, builtins):
    want = [t.strip() for t in a.panels.split(",")] if a.panels else None
    chosen = [p for p in panels(dash) if p["type"] == "timeseries" and
              (want is None or p["title"] in want)]
    if want:
        chosen.sort(key=lambda p: want.index(p["title"]))
        missing = set(want) - {p["title"] for p in chosen}
        if missing:
            raise SystemExit(f"promdash: no timeseries panel titled {sorted(missing)}")
    tmp = tempfile.mkdtemp(prefix="promdash.")
    cols = 2
    rows = (len(chosen) + cols - 1) // cols
    width, height = 1600, 80 + rows * 330
    g = [f"set terminal pngcairo size {width},{height} background rgb '#111217' "
         "font 'DejaVu Sans,10'",
         f"set output {gp_quote(a.out)}",
         "set border lw 0.5 lc rgb '#5a5d66'", "set tics textcolor rgb '#ccccdc'",
         "set grid lc rgb '#2c2f36' lw 0.5", "set key textcolor rgb '#ccccdc' top left",
         "set key opaque box lc rgb '#2c2f36' samplen 1.5 spacing 0.9 font ',8' maxrows 6",
         "set xdata time", "set timefmt '%s'", "set format x '%M:%S'",
         "set xtics font ',8'", "set ytics font ',8'", "set termoption noenhanced",
         "set lmargin 10", "set rmargin 3", "set tmargin 2.5", "set bmargin 2",
         f"set multiplot layout {rows},{cols} title " +
         gp_quote(a.title or dash.get("title", "")) + " textcolor rgb '#ffffff' font ',15'"]
    t0 = float(a.start)
    plotted = 0
    for p in chosen:
        unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit", "short")
        fmt, scale = UNITS.get(unit, UNITS["short"])
        lines = []
        for t in p["targets"]:
            q = {"expr": expand(t["expr"], values, builtins), "instant": False}
            for metric, vals in run_query(a.prom, q, a.start, a.end, a.step):
                pts = [(ts - t0, float(v) * scale) for ts, v in vals if finite(v)]
                if not pts:
                    continue
                f = os.path.join(tmp, f"s{plotted}.dat")
                plotted += 1
                with open(f, "w") as out:
                    out.writelines(f"{x:.0f} {y:.6g}\n" for x, y in pts)
                lines.append((f, legend(t.get("legendFormat", ""), metric)))
        lines = lines[:12]
        g.append(f"set title {gp_quote(p['title'])} textcolor rgb '#ffffff' font ',11'")
        g.append(f"set format y '{fmt}'")
        g.append("set yrange [0:*]")
        if not lines:
            g.append("unset key; plot NaN notitle; set key")
            continue
        g.append("plot " + ", ".join(
            f"{gp_quote(f)} using 1:2 with lines lw 1.6 lc rgb '{COLORS[i % len(COLORS)]}' "
            f"title {gp_quote(title)}" for i, (f, title) in enumerate(lines)))
    g.append("unset multiplot")
    script = os.path.join(tmp, "plot.gp")
    with open(script, "w") as f:
        f.write("\n".join(g) + "\n")
    r = subprocess.run(["gnuplot", script], capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        return 1
    for name in os.listdir(tmp):
        os.unlink(os.path.join(tmp, name))
    os.rmdir(tmp)
    print(json.dumps({"out": a.out, "panels": [p["title"] for p in chosen], "series": plotted}))
    return 0


def when(text, end=None):
    if text == "now":
        return time.time()
    v = float(text)
    return end + v if v < 0 and end is not None else v


def main(argv):
    ap = argparse.ArgumentParser(prog="promdash.py", description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=["queries", "evaluate", "variables", "picture"])
    ap.add_argument("dashboard")
    ap.add_argument("--prom", default="http://127.0.0.1:9090")
    ap.add_argument("--start", default="-600")
    ap.add_argument("--end", default="now")
    ap.add_argument("--step", default="2")
    ap.add_argument("--rate-interval", default="1m")
    ap.add_argument("--var", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--out", default="dashboard.png")
    ap.add_argument("--panels", default="")
    ap.add_argument("--title", default="")
    a = ap.parse_args(argv[1:])
    a.end = when(a.end)
    a.start = when(a.start, a.end)
    given = {}
    for kv in a.var:
        k, _, v = kv.partition("=")
        given.setdefault(k, []).append(v)
    dash = load(a.dashboard)
    values = var_values(dash, given)
    builtins = {"__rate_interval": a.rate_interval, "__interval": f"{a.step}s",
                "__range": f"{int(a.end - a.start)}s"}
    cmd = {"queries": cmd_queries, "evaluate": cmd_evaluate, "variables": cmd_variables,
           "picture": cmd_picture}[a.command]
    return cmd(a, dash, values, builtins)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
