#!/usr/bin/env python3
"""The table of cost.sh: per pair and connection count, the variant's extra CPU per request over its base and the
throughput that costs (1 - base/variant), as the median of the rounds, with every round's figure."""
import re
import statistics
import sys
from collections import defaultdict

LABELS = {
    "same": "nothing (two identical Fairways: the noise left)",
    "metrics": "per-request metrics",
    "log": "access log (to a file)",
    "both": "metrics and access log",
    "nginx-log": "nginx's access log (to a file), for comparison",
}

rounds = defaultdict(list)  # (pair, conns) -> [(throughput cost from CPU, req/s cost)]
for line in open(sys.argv[1]):
    m = re.match(r"round=\d+ conns=(\d+) pair=([\w-]+) base_rps=(\d+) variant_rps=(\d+) "
                 r"base_cpu_us=([\d.]+) variant_cpu_us=([\d.]+)", line)
    if not m:
        continue
    c, pair = int(m.group(1)), m.group(2)
    base_rps, variant_rps, base_cpu, variant_cpu = (float(x) for x in m.groups()[2:])
    if base_rps == 0 or variant_rps == 0 or variant_cpu == 0:
        continue
    rounds[(pair, c)].append((1 - base_cpu / variant_cpu, 1 - variant_rps / base_rps))

print("| cost of | conns | throughput cost from CPU per request (median) | by round | req/s in the pair (median) |")
print("|---|---:|---:|---|---:|")
for pair in LABELS:
    for c in sorted({c for p, c in rounds if p == pair}):
        costs = rounds[(pair, c)]
        by_round = " ".join(f"{x:+.1%}" for x, _ in costs)
        print(f"| {LABELS[pair]} | {c} | {statistics.median(x for x, _ in costs):+.1%} | {by_round} | "
              f"{statistics.median(y for _, y in costs):+.1%} |")
