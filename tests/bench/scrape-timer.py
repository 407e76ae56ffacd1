#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Time GETs of /metrics for tests/bench/agent-bench.sh.

  scrape-timer.py PORT MODE COUNT GAP_S ENCODING

MODE back  : COUNT GETs back to back on one keep-alive connection
MODE spaced: COUNT GETs GAP_S apart plus a random 0-100 ms (no steady
             interval: the agent cannot build ahead of them), one connection
MODE steady: COUNT + 2 GETs exactly GAP_S apart; the first two teach the
             agent the interval and are not counted
Prints "p50=.. p99=.. max=.. n=.." in milliseconds (p99 of fewer than 100
samples is the nearest rank, the max for under 100).
"""
import http.client
import random
import sys
import time


def main():
    port, mode, count, gap, enc = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)
    times = []
    start = time.perf_counter()
    total = count + 2 if mode == "steady" else count
    for i in range(total):
        if mode == "spaced":
            time.sleep(gap + random.random() * 0.1)
        elif mode == "steady":
            time.sleep(max(0.0, start + gap * (i + 1) - time.perf_counter()))
        t0 = time.perf_counter()
        c.request("GET", "/metrics", headers={"Accept-Encoding": enc})
        r = c.getresponse()
        r.read()
        if r.status != 200:
            sys.exit(f"scrape-timer: HTTP {r.status}")
        if mode != "steady" or i >= 2:
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    n = len(times)

    def rank(p):
        return times[min(n - 1, max(0, int(p * n + 0.999999) - 1))]

    print(f"p50={rank(0.5):.2f} p99={rank(0.99):.2f} max={times[-1]:.2f} n={n}")


if __name__ == "__main__":
    main()
