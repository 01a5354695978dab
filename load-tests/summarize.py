#!/usr/bin/env python3
"""Median of each target's rounds, and its ratio to nginx, as a Markdown table."""
import re
import statistics
import sys
from collections import defaultdict

runs = defaultdict(list)
for line in open(sys.argv[1]):
    m = re.match(r"round=\d+ conns=(\d+) target=([\w-]+) rps=(\d+) p50=(\d+) p99=(\d+) p999=(\d+) errors=(\d+)", line)
    if m:
        c, t = int(m.group(1)), m.group(2)
        runs[(c, t)].append(tuple(int(x) for x in m.groups()[2:]))

print("| conns | target | req/s (median) | vs nginx | p50 ms | p99 ms | p99.9 ms | errors |")
print("|---:|---|---:|---:|---:|---:|---:|---:|")
for c in sorted({c for c, _ in runs}):
    base = statistics.median(r[0] for r in runs.get((c, "nginx"), [(1,)]))
    for t in ["direct", "nginx", "haproxy", "fairway", "fairway-log"]:
        rs = runs.get((c, t))
        if not rs:
            continue
        med = lambda i: statistics.median(r[i] for r in rs)
        print(f"| {c} | {t} | {med(0):,.0f} | {med(0) / base:.2f}x | {med(1) / 1000:.2f} | {med(2) / 1000:.2f} | "
              f"{med(3) / 1000:.2f} | {sum(r[4] for r in rs)} |")
