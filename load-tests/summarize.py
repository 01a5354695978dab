#!/usr/bin/env python3
"""Median of each target's rounds, and its ratio to nginx: a Markdown table on stdout and an SVG chart of
requests/s and p99 per target next to the raw file (results/<run>.svg)."""
import re
import statistics
import sys
from collections import defaultdict

TARGETS = ["direct", "nginx", "nginx-log", "haproxy", "raw-pipe", "netty-pipe", "vertx-pipe", "vertx-http-proxy", "fairway-base", "fairway-bare", "fairway-vertx", "fairway", "fairway-log", "fairway-cluster"]
COLORS = {"direct": "#9aa5b1", "nginx": "#2f9e44", "nginx-log": "#8ce99a", "haproxy": "#1c7ed6", "raw-pipe": "#94d82d", "netty-pipe": "#5c940d", "vertx-pipe": "#7048e8", "vertx-http-proxy": "#9c36b5", "fairway-base": "#868e96", "fairway-bare": "#c2255c", "fairway-vertx": "#d9480f", "fairway": "#e8590c", "fairway-log": "#f59f00", "fairway-cluster": "#d6336c"}

runs = defaultdict(list)
by_round = defaultdict(dict)   # (round, conns) -> target -> (req/s, CPU us per request or None)
cpu = defaultdict(list)   # proxy CPU microseconds per request, when the raw file has them
user = defaultdict(list)  # of it, in user space (raw files from 2026-12-08 on)
rss = {}                  # peak RSS in KiB per target
for line in open(sys.argv[1]):
    m = re.match(r"round=(\d+) conns=(\d+) target=([\w-]+) rps=(\d+) p50=(\d+) p99=(\d+) p999=(\d+) errors=(\d+)( cpu_us=([\d.]+))?( user_us=([\d.]+))?", line)
    if m:
        r, c, t = int(m.group(1)), int(m.group(2)), m.group(3)
        runs[(c, t)].append(tuple(int(x) for x in m.groups()[3:8]))
        cpu_us = float(m.group(10)) if m.group(10) else None
        if cpu_us is not None:
            cpu[(c, t)].append(cpu_us)
        if m.group(12):
            user[(c, t)].append(float(m.group(12)))
        by_round[(r, c)][t] = (int(m.group(4)), cpu_us)
    m = re.match(r"peak_rss_kib target=([\w-]+) (\d+)", line)
    if m:
        rss[m.group(1)] = int(m.group(2))

medians = {}
print("| conns | target | req/s (median) | vs nginx | p50 ms | p99 ms | p99.9 ms | errors | proxy CPU µs/req | of it user | peak RSS MiB |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for c in sorted({c for c, _ in runs}):
    base = statistics.median(r[0] for r in runs[(c, "nginx")]) if (c, "nginx") in runs else None
    for t in TARGETS:
        rs = runs.get((c, t))
        if not rs:
            continue
        med = lambda i: statistics.median(r[i] for r in rs)
        medians[(c, t)] = (med(0), med(2) / 1000)
        cpu_us = f"{statistics.median(cpu[(c, t)]):.2f}" if cpu.get((c, t)) else "-"
        user_us = f"{statistics.median(user[(c, t)]):.2f}" if user.get((c, t)) else "-"
        ratio = f"{med(0) / base:.2f}x" if base else "-"
        rss_mib = f"{rss[t] / 1024:.0f}" if t in rss else "-"
        print(f"| {c} | {t} | {med(0):,.0f} | {ratio} | {med(1) / 1000:.2f} | {med(2) / 1000:.2f} | "
              f"{med(3) / 1000:.2f} | {sum(r[4] for r in rs)} | {cpu_us} | {user_us} | {rss_mib} |")


# What one thing costs: each pair is compared within a round (the two ran back to back, on the same machine's mood),
# and the median of those per-round ratios is given: steadier than a ratio of medians.
PAIRS = [("per-request metrics", "fairway", "fairway-bare"), ("access log", "fairway-log", "fairway"),
         ("metrics and access log", "fairway-log", "fairway-bare"), ("nginx's access log", "nginx-log", "nginx"),
         ("Fairway over plain Vert.x", "fairway-bare", "vertx-pipe"), ("Vert.x over Netty's codecs", "vertx-pipe", "netty-pipe"),
         ("passing bytes on Netty over nginx", "raw-pipe", "nginx"), ("Netty's codecs over passing bytes", "netty-pipe", "raw-pipe"),
         ("Fairway over passing bytes on Netty", "fairway", "raw-pipe"),
         ("Fairway over nginx", "fairway", "nginx"),
         ("the Vert.x path over Fairway's own (--no-direct-http1)", "fairway-vertx", "fairway"), ("Fairway over the Web Proxy library", "fairway", "vertx-http-proxy"), ("this build over BASE_JAR's", "fairway", "fairway-base"),
         ("a node of a 3-node cluster over a single node", "fairway-cluster", "fairway")]
paired = []
for name, a, b in PAIRS:
    for c in sorted({c for _, c in by_round}):
        rounds = [v for (r, rc), v in sorted(by_round.items()) if rc == c and a in v and b in v and v[b][0] > 0]
        if not rounds:
            continue
        rps = [v[a][0] / v[b][0] - 1 for v in rounds]
        line = f"| {name} ({a} vs {b}) | {c} | {statistics.median(rps):+.1%} | {' '.join(f'{x:+.0%}' for x in rps)} |"
        cpus = [v[a][1] / v[b][1] - 1 for v in rounds if v[a][1] and v[b][1]]
        paired.append(line + (f" {statistics.median(cpus):+.1%} |" if cpus else " - |"))
if paired:
    print()
    print("| cost of | conns | req/s, median of rounds | req/s by round | CPU/req, median of rounds |")
    print("|---|---:|---:|---|---:|")
    print("\n".join(paired))

def panel(x0, title, value_of, unit):
    """One bar chart: a group of bars per connection count, one bar per target."""
    conns = sorted({c for c, _ in medians})
    targets = [t for t in TARGETS if any((c, t) in medians for c in conns)]
    top = max(value_of(v) for v in medians.values()) or 1
    w, h, bar = 360, 200, 14
    parts = [f'<text x="{x0 + 10}" y="20" font-size="13" font-weight="600">{title}</text>']
    for gi, c in enumerate(conns):
        gx = x0 + 20 + gi * (len(targets) * bar + 40)
        for ti, t in enumerate(targets):
            if (c, t) not in medians:
                continue
            v = value_of(medians[(c, t)])
            bh = v / top * (h - 60)
            x, y = gx + ti * bar, h - 30 - bh
            parts.append(f'<rect x="{x}" y="{y:.1f}" width="{bar - 2}" height="{bh:.1f}" fill="{COLORS[t]}">'
                         f'<title>{t} at {c} connections: {v:,.1f} {unit}</title></rect>')
        parts.append(f'<text x="{gx}" y="{h - 12}" font-size="11">{c} conns</text>')
    return parts


if medians and len(sys.argv) > 1:
    legend = [f'<rect x="{20 + i * 110}" y="215" width="10" height="10" fill="{COLORS[t]}"/>'
              f'<text x="{34 + i * 110}" y="224" font-size="11">{t}</text>'
              for i, t in enumerate(t for t in TARGETS if any(k[1] == t for k in medians))]
    svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="760" height="235" font-family="sans-serif">',
           '<rect width="760" height="235" fill="white"/>']
    svg += panel(0, "requests/s (median; higher is better)", lambda v: v[0], "req/s")
    svg += panel(380, "p99 latency, ms (median; lower is better)", lambda v: v[1], "ms")
    svg += legend + ["</svg>"]
    with open(re.sub(r"\.txt$", "", sys.argv[1]) + ".svg", "w") as f:
        f.write("\n".join(svg))
