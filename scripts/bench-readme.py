#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Make the README's performance table from the benchmarks' results.

  scripts/bench-readme.py [RESULTS [README]]   (make bench-readme)

RESULTS (docs/bench/latest.txt, written by `make bench`) holds one section
per benchmark: a `## bench=NAME date=... kernel=... cpus=... load_start=...
load_end=... rev=...` header, then RESULT and GOAL lines of KEY=VALUE words
(tests/bench/result.sh).  The table replaces what lies between the
`// bench-table begin` and `// bench-table end` lines of README; nothing in
it is typed by hand.  Every ratio names what it is measured against.  A
benchmark without results leaves its row out.
"""
import re
import sys

BEGIN = "// bench-table begin"
END = "// bench-table end"


def parse(path):
    """{bench: {"head": {...}, "results": [{...}], "goals": [{...}]}}"""
    benches = {}
    cur = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            words = line.split()
            if not words:
                continue
            if words[0] == "##":
                head = dict(w.split("=", 1) for w in words[1:] if "=" in w)
                cur = benches.setdefault(head.get("bench", "?"), {"head": head, "results": [], "goals": []})
                cur["head"] = head
            elif cur is not None and words[0] in ("RESULT", "GOAL"):
                kv = dict(w.split("=", 1) for w in words[1:] if "=" in w)
                cur["results" if words[0] == "RESULT" else "goals"].append(kv)
    return benches


def num(v, fmt="{:.0f}"):
    try:
        return fmt.format(float(v))
    except (TypeError, ValueError):
        return "–"


def ratio(a, b, fmt="{:.2f}"):
    try:
        a, b = float(a), float(b)
        return fmt.format(a / b) if a > 0 and b > 0 else "–"
    except (TypeError, ValueError):
        return "–"


def when(b):
    h = b["head"]
    load = h.get("load_start", "?").split(",")[0]
    return f"run {h.get('date', '?')[:10]}, {h.get('cpus', '?')} CPUs, load average {load} at its start"


def row_syscall(b):
    r = b["results"][-1]
    g = lambda m: r.get(f"{m}_getppid_ns")
    bp = lambda m: r.get(f"{m}_bpf_ns")
    u = g("untraced")
    over = lambda m: (float(g(m)) - float(u)) if g(m) and u and float(g(m)) > float(u) else None
    parts = [f"getppid ns per call, medians of {r.get('passes', '?')} passes: untraced {num(u)}"]
    if g("trace"):
        parts.append(f"`ctrwatch trace` streaming every call with its arguments {num(g('trace'))} "
                     f"({ratio(g('trace'), u)} × untraced)")
    oc = lambda m: r.get(f"{m}_openclose_ns")
    if oc("trace") and oc("untraced"):
        parts.append(f"openat+close pair, paths and flags decoded: untraced {num(oc('untraced'))} ns, "
                     f"streaming {num(oc('trace'))} ({ratio(oc('trace'), oc('untraced'))} × untraced)")
    if r.get("trace_lost") not in (None, "-"):
        parts.append(f"events lost while streaming: {r['trace_lost']}")
    if g("strace") and g("trace"):
        parts.append(f"strace {num(g('strace'))} ({ratio(g('strace'), g('trace'), '{:.0f}')} × "
                     f"slower than ctrwatch streaming)")
    if over("agent") is not None:
        s = f"always-on agent counting +{num(over('agent'))} ns"
        if over("floor"):
            s += f" against +{num(over('floor'))} for a bare tp_btf counter (the floor: " \
                 f"{ratio(over('agent'), over('floor'))} × floor)"
        if over("syscount"):
            s += f" and +{num(over('syscount'))} for libbpf-tools syscount " \
                 f"({ratio(over('agent'), over('syscount'))} × syscount)"
        parts.append(s)
    if bp("agent"):
        s = f"in the kernel (BPF statistics): agent {num(bp('agent'), '{:.1f}')} ns per syscall"
        if bp("floor"):
            s += f", floor {num(bp('floor'), '{:.1f}')} ({ratio(bp('agent'), bp('floor'))} × floor)"
        if bp("syscount"):
            s += f", syscount {num(bp('syscount'), '{:.1f}')} ({ratio(bp('agent'), bp('syscount'))} × syscount)"
        parts.append(s)
    return "syscall tracing and counting (`tests/bench/syscall-bench.sh`)", "; ".join(parts)


def row_tcplife(b):
    r = b["results"][-1]
    parts = []
    if r.get("ctrwatch_ns_per_hit"):
        s = f"in-kernel cost per tracepoint hit: ctrwatch {num(r['ctrwatch_ns_per_hit'])} ns"
        if r.get("peer_ns_per_hit"):
            s += f", libbpf-tools tcplife {num(r['peer_ns_per_hit'])} ns " \
                 f"({ratio(r['ctrwatch_ns_per_hit'], r['peer_ns_per_hit'])} × tcplife)"
        parts.append(s)
    if r.get("base_conn_per_s"):
        s = f"loopback connections/s (median): untraced {num(r['base_conn_per_s'])}"
        for k, n in (("ctrwatch", "`ctrwatch tcplife`"), ("peer", "libbpf-tools tcplife")):
            if r.get(f"{k}_conn_per_s"):
                s += f", {n} {num(r[f'{k}_conn_per_s'])} ({ratio(r[f'{k}_conn_per_s'], r['base_conn_per_s'])} × untraced)"
        parts.append(s)
    return "TCP lifetimes (`tests/bench/tcplife-bench.sh`)", "; ".join(parts)


def row_xdp(b):
    rs = sorted(b["results"], key=lambda r: int(r.get("prefixes", "0")))
    if not rs:
        return None
    ns = " / ".join(f"{int(r['prefixes']):,}".replace(",", " ") for r in rs)
    filters = [k[:-5] for k in rs[0] if k.endswith("_mpps")]
    names = {"ctrwatch": "ctrwatch", "xdp_filter": "xdp-filter", "nft": "nftables",
             "iptables": "iptables raw", "tc": "tc BPF (LPM)"}
    parts = [f"Mpps dropped with {ns} source prefixes"]
    for f in filters:
        parts.append(f"{names.get(f, f)} " + " / ".join(num(r.get(f"{f}_mpps"), "{:.2f}") for r in rs))
    for f in filters:
        if f == "ctrwatch":
            continue
        parts.append(f"ctrwatch ÷ {names.get(f, f)} " +
                     " / ".join(ratio(r.get("ctrwatch_mpps"), r.get(f"{f}_mpps")) for r in rs))
    return ("XDP firewall (`tests/bench/xdp-bench.sh`; xdp-filter holds at most 10 000 "
            "addresses: its last column ran with 10 000)", "; ".join(parts))


def row_agent(b):
    rows = []
    scale = [r for r in b["results"] if r.get("bench") == "agent"]
    for r in sorted(scale, key=lambda r: int(r.get("containers", "0"))):
        n = r.get("containers")
        rows.append(
            f"{n} containers, {r.get('series', '?')} series ({num(float(r.get('text_bytes', 0)) / 1e6, '{:.1f}')} MB, "
            f"{num(float(r.get('gzip_bytes', 0)) / 1e3)} kB gzip): "
            f"scrape p50/p99 cached {num(r.get('cached_p50_ms'), '{:.2f}')}/{num(r.get('cached_p99_ms'), '{:.2f}')} ms, "
            f"uncached {num(r.get('uncached_p50_ms'), '{:.1f}')}/{num(r.get('uncached_p99_ms'), '{:.1f}')} ms"
            + (f" (max {num(r['uncached_max_ms'], '{:.1f}')})" if 'uncached_max_ms' in r else "") + ", "
            f"cold gzip {num(r.get('cold_gzip_p50_ms'), '{:.1f}')}/{num(r.get('cold_gzip_p99_ms'), '{:.1f}')} ms"
            + (f" (max {num(r['cold_gzip_max_ms'], '{:.1f}')})" if 'cold_gzip_max_ms' in r else "") + ", "
            f"steady-interval gzip (built ahead) p50 {num(r.get('steady_gzip_p50_ms'), '{:.2f}')} ms; "
            f"RSS {num(float(r.get('rss_kib', 0)) / 1024, '{:.1f}')} MiB + BPF maps "
            f"{num(float(r.get('map_kib', 0)) / 1024, '{:.1f}')} MiB"
            + (f" + scrape text held at rest {num(float(r['memfd_kib']) / 1024, '{:.1f}')} MiB (a memfd, dropped when its cache expires)" if 'memfd_kib' in r else "")
            + "; "
            f"syscall counts lost {r.get('syscall_counts_lost', '?')}, containers with syscall series "
            f"{r.get('with_syscall_series', '?')}; BPF {num(r.get('bpf_ns_per_syscall'), '{:.0f}')} ns per syscall; "
            f"idle {r.get('idle_cpu_pct', '?')} % of a core")
    for r in b["results"]:
        if r.get("bench") == "agent-churn":
            rows.append(
                f"churn: {r.get('runs_ok', '?')} of 300 `ctrwatch run` containers ran while scraped; "
                f"their series left 2.5 s after: {r.get('series_left', '?')}; RSS "
                f"{num(float(r.get('rss_before_kib', 0)) / 1024, '{:.1f}')} -> "
                f"{num(float(r.get('rss_after_kib', 0)) / 1024, '{:.1f}')} MiB")
    return ("agent (`tests/bench/agent-bench.sh`: every module, every container active: a syscall "
            "burst every second with 100 containers, every 5 ms x N beyond; a TCP connection and a DNS "
            "query 10 times less often)", " +\n".join(rows))


def row_scrape(b):
    rows = []
    for r in sorted(b["results"], key=lambda r: int(r.get("containers", "0"))):
        rows.append(
            f"{r.get('containers')} containers, {r.get('series')} series: render "
            f"{num(r.get('render_ms'), '{:.2f}')} ms; gzip by the unit cache "
            f"{num(r.get('gzip_all_changed_ms'), '{:.2f}')} ms with every container changed, "
            f"{num(r.get('gzip_fifth_changed_ms'), '{:.2f}')} ms with a fifth, "
            f"{num(r.get('gzip_none_changed_ms'), '{:.2f}')} ms with none, against "
            f"{num(r.get('gzip_whole_text_ms'), '{:.2f}')} ms for the whole text at once (what the agent streams when units do not pay); "
            f"a gzip-only build and its gzip with a fifth changed {num(r.get('gzip_only_fifth_changed_ms'), '{:.2f}')} ms "
            f"({r.get('left_out_fifth_pct', '–')} % of the text left out)")
    return ("the exporter alone (`tests/bench/scrape-bench.sh`: render and gzip, no kernel reads, "
            "best of 7)", " +\n".join(rows))


def row_run(b):
    r = b["results"][-1]
    return ("container start (`tests/bench/run-latency.sh`, `run ... true`, medians)",
            f"ctrwatch {num(r.get('ctrwatch_image_ms'), '{:.1f}')} ms (image) / "
            f"{num(r.get('ctrwatch_rootfs_ms'), '{:.1f}')} ms (`--rootfs`), crun {num(r.get('crun_ms'), '{:.1f}')} ms, "
            f"runc {num(r.get('runc_ms'), '{:.1f}')} ms; median of per-round ratios to crun "
            f"{r.get('round_ratio_crun_image', '–')} (image) and {r.get('round_ratio_crun_rootfs', '–')} "
            f"(the same rootfs); {r.get('ratio_runc_image', '–')} × runc")


def row_oci(b):
    r = b["results"][-1]
    return ("ctrwatch as an OCI runtime (`tests/bench/oci-start-bench.sh`: one bundle with runc's "
            "spec and Podman's seccomp profile; medians)",
            f"create+start+delete: ctrwatch {num(r.get('oci_ctrwatch_ms'), '{:.1f}')} ms, "
            f"crun {num(r.get('oci_crun_ms'), '{:.1f}')} ms, runc {num(r.get('oci_runc_ms'), '{:.1f}')} ms; "
            f"median of per-round ratios {r.get('oci_round_ratio_crun', '–')} × crun, "
            f"{r.get('oci_round_ratio_runc', '–')} × runc +\n"
            f"`podman run --rm --runtime X busybox true`: ctrwatch {num(r.get('podman_ctrwatch_ms'), '{:.1f}')} ms, "
            f"crun {num(r.get('podman_crun_ms'), '{:.1f}')} ms, runc {num(r.get('podman_runc_ms'), '{:.1f}')} ms; "
            f"{r.get('podman_round_ratio_crun', '–')} × crun, {r.get('podman_round_ratio_runc', '–')} × runc")


def row_trace_conformance(b):
    r = b["results"][-1]
    below = r.get("below_100", "none")
    below = "none" if below == "none" else ", ".join(
        f"{k.replace('_', ' ')} {v} %" for k, v in (x.rsplit(":", 1) for x in below.split(",")))
    return ("`ctrwatch trace` lines identical to strace's (`tests/bench/trace-conformance-bench.sh`: "
            "suite 45's workloads under `strace -f` and `ctrwatch trace`)",
            f"{r.get('identical_pct', '–')} % of {r.get('strace_lines', '?')} lines "
            f"({r.get('identical_lines', '?')} identical); per workload: the syscall workload "
            f"{r.get('syscalls_pct', '–')} %, busybox script {r.get('busybox_pct', '–')} %, "
            f"the syscall workload with `-yy` {r.get('syscalls_yy_pct', '–')} %; below 100 %: {below}")


ROWS = [("syscall-bench", row_syscall), ("trace-conformance-bench", row_trace_conformance),
        ("tcplife-bench", row_tcplife), ("xdp-bench", row_xdp), ("agent-bench", row_agent),
        ("scrape-bench", row_scrape), ("run-latency", row_run), ("oci-start-bench", row_oci)]


def table(benches):
    out = [BEGIN + ": generated by `make bench-readme` from docs/bench/latest.txt; do not edit",
           '[cols="2,5"]', "|==="]
    for name, fn in ROWS:
        b = benches.get(name)
        if not b or not b["results"]:
            continue
        row = fn(b)
        if not row:
            continue
        out.append(f"| {row[0]} +\n({when(b)})\n| {row[1]}")
    out.append("|===")
    out.append("")
    out.append("Goals (each benchmark prints them with the measured value):")
    out.append("")
    out.append('[cols="3,2,2,3,1"]')
    out.append("|===")
    out.append("| goal | measured | limit | against | result")
    for name, _ in ROWS:
        b = benches.get(name)
        if not b:
            continue
        for g in b["goals"]:
            unit = g.get("unit", "").replace("_", " ")
            peer = g.get("peer", "").replace("_", " ")
            out.append(f"| {name}: {g.get('goal', '?').replace('_', ' ')} | {g.get('value', '–')} {unit} "
                       f"| {g.get('op', '')} {g.get('limit', '')} {unit} | {peer or '–'} | {g.get('status', '?')}")
    out.append("|===")
    out.append(END)
    return "\n".join(out)


def main():
    results = sys.argv[1] if len(sys.argv) > 1 else "docs/bench/latest.txt"
    readme = sys.argv[2] if len(sys.argv) > 2 else "README.adoc"
    benches = parse(results)
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    pat = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    if not pat.search(text):
        sys.exit(f"bench-readme: no '{BEGIN}' ... '{END}' lines in {readme}")
    new = pat.sub(lambda _: table(benches), text, count=1)
    if new != text:
        with open(readme, "w", encoding="utf-8") as f:
            f.write(new)
        print(f"bench-readme: {readme} updated from {results}")
    else:
        print(f"bench-readme: {readme} already matches {results}")


if __name__ == "__main__":
    main()
