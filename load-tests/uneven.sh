#!/usr/bin/env bash
# Scenario 5: balancing under uneven load. Three backends answer after 1, 5 and 50 ms (Fairway's demo
# upstream with a delay); Fairway runs with round-robin, least-conn and p2c in turn, alternating over ROUNDS; wrk
# gives req/s and p99 for each. Loopback only, bounded by ROUNDS x 3 x DURATION.
# Usage: ROUNDS=3 DURATION=8 load-tests/uneven.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
out="$here/results/uneven-$(date -u +%Y%m%dT%H%M%SZ).txt"
need wrk curl taskset
fairway_jar

for spec in 18381:1 18382:5 18383:50; do
  taskset -c 1 java -XX:+UseSerialGC -cp "$root/target/fairway.jar" dev.fairway.demo.DemoServer 127.0.0.1 "${spec%%:*}" "${spec##*:}" \
    > /dev/null 2>&1 & pids+=($!)
done
for port in 18381 18382 18383; do   # the backends must be up before Fairway's first probe
  for _ in $(seq 1 200); do curl -sf -o /dev/null "http://127.0.0.1:$port/api/system/health" && break; sleep 0.1; done
done
echo "# $(date -u) rounds=$ROUNDS duration=${DURATION}s backends: 1 ms, 5 ms, 50 ms; wrk -c50" | tee "$out"
for round in $(seq 1 "$ROUNDS"); do
  for strategy in round-robin least-conn p2c; do
    taskset -c 0 java -XX:+UseParallelGC -jar "$root/target/fairway.jar" -p 18392 --admin-port 18393 -i 1 --access-log off \
      -s "$strategy" -u 127.0.0.1:18381 -u 127.0.0.1:18382 -u 127.0.0.1:18383 --health-path /api/system/health > /dev/null 2>&1 &
    fw=$!
    for _ in $(seq 1 200); do   # until all three upstreams are UP
      [ "$(curl -s http://127.0.0.1:18393/health | grep -o '"status":"UP"' | wc -l)" -ge 5 ] && break; sleep 0.1
    done
    taskset -c 1 wrk -t1 -c50 -d3s http://127.0.0.1:18392/ > /dev/null
    line=$(taskset -c 1 wrk -t1 -c50 -d"${DURATION}s" -s "$here/percentiles.lua" http://127.0.0.1:18392/ | grep '^RESULT')
    echo "round=$round strategy=$strategy ${line#RESULT }" | tee -a "$out"
    kill "$fw"; wait "$fw" 2>/dev/null || true
  done
done
python3 - "$out" <<'PY' | tee "${out%.txt}.md"
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    m = re.match(r"round=\d+ strategy=(\S+) rps=(\d+) p50=(\d+) p99=(\d+) p999=(\d+)", line)
    if m:
        runs.setdefault(m.group(1), []).append([int(x) for x in m.groups()[1:]])
print("| strategy | req/s (median) | p50 ms | p99 ms | p99.9 ms |")
print("|---|---:|---:|---:|---:|")
for s, rs in runs.items():
    med = lambda i: statistics.median(r[i] for r in rs)
    print(f"| {s} | {med(0):,.0f} | {med(1) / 1000:.2f} | {med(2) / 1000:.2f} | {med(3) / 1000:.2f} |")
PY
