#!/usr/bin/env python3
"""The table of toggle.sh. Each round has two halves: the variant on Fairway a and not b, then on b and not a. A
round's ratio of CPU per request is the geometric mean of the two halves' (variant / none), in which a's and b's own
speeds cancel; the throughput cost is 1 - 1/ratio. Printed: the median over rounds, every round, and the pooled
figure (the geometric mean over all rounds)."""
import math
import re
import statistics
import sys
from collections import defaultdict

LABELS = {"both": "metrics and access log", "metrics": "per-request metrics", "log": "access log (to a file)",
          "none": "nothing (both without either: the noise left)"}

halves = defaultdict(dict)  # (round, conns, variant) -> on -> (cpu ratio variant/none, rps ratio none/variant)
for line in open(sys.argv[1]):
    m = re.match(r"round=(\d+) conns=(\d+) variant=(\w+) on=(\w) a_rps=(\d+) b_rps=(\d+) "
                 r"a_cpu_us=([\d.]+) b_cpu_us=([\d.]+)", line)
    if not m:
        continue
    r, c, v, on = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
    a_rps, b_rps, a_cpu, b_cpu = (float(x) for x in m.groups()[4:])
    if min(a_rps, b_rps, a_cpu, b_cpu) == 0:
        continue
    halves[(r, c, v)][on] = (a_cpu / b_cpu, b_rps / a_rps) if on == "a" else (b_cpu / a_cpu, a_rps / b_rps)

print("| cost of | conns | throughput cost from CPU per request (median of rounds) | by round | pooled | "
      "req/s in the pair (median) |")
print("|---|---:|---:|---|---:|---:|")
for v, label in LABELS.items():
    for c in sorted({c for _, c, vv in halves if vv == v}):
        rounds = [h for (r, cc, vv), h in sorted(halves.items()) if cc == c and vv == v and len(h) == 2]
        if not rounds:
            continue
        cpu = [math.sqrt(h["a"][0] * h["b"][0]) for h in rounds]
        rps = [math.sqrt(h["a"][1] * h["b"][1]) for h in rounds]
        cost = [1 - 1 / x for x in cpu]
        pooled = 1 - 1 / math.exp(statistics.fmean(math.log(x) for x in cpu))
        print(f"| {label} | {c} | {statistics.median(cost):+.1%} | {' '.join(f'{x:+.1%}' for x in cost)} | "
              f"{pooled:+.1%} | {1 - 1 / statistics.median(rps):+.1%} |")
