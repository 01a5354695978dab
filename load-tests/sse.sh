#!/usr/bin/env bash
# Server-sent events latency (each event should reach the client within a few milliseconds of the upstream
# writing it): an upstream writes N events ROUNDS times, one every MS ms, each stamped with the monotonic clock;
# the client reads them directly, through nginx (proxy_buffering off) and through Fairway, alternating, and prints
# the time from write to read. Loopback only; bounded by ROUNDS x 3 x N x MS.
# Needs: nginx, python3 (apt-get install -y nginx python3). Usage: ROUNDS=3 N=500 MS=10 load-tests/sse.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-3}; N=${N:-500}; MS=${MS:-10}
scratch sse
out="$here/results/sse-$(date -u +%Y%m%dT%H%M%SZ).md"
need nginx python3 curl taskset
fairway_jar

cat > "$work/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $work/nginx.pid; error_log $work/nginx-error.log;
events { worker_connections 1024; }
http { access_log off;
  server { listen 127.0.0.1:18290;
    location / { proxy_pass http://127.0.0.1:18281; proxy_http_version 1.1; proxy_set_header Connection "";
                 proxy_buffering off; } } }
CONF
taskset -c 1 python3 "$here/sse-latency.py" serve 18281 & pids+=($!)
taskset -c 0 nginx -c "$work/nginx.conf" & pids+=($!)
taskset -c 0 java -jar "$root/target/fairway.jar" -p 18292 --admin-port 18293 -i 1 --access-log off \
  -u 127.0.0.1:18281 --health-path /health > "$work/fairway.log" 2>&1 & pids+=($!)
port_of() { case $1 in direct) echo 18281;; nginx) echo 18290;; fairway) echo 18292;; esac; }
for t in direct nginx fairway; do
  for _ in $(seq 1 200); do curl -sf -o /dev/null "http://127.0.0.1:$(port_of "$t")/health" && break; sleep 0.1; done
done
raw="$work/raw.txt"
for round in $(seq 1 "$ROUNDS"); do
  for t in direct nginx fairway; do
    echo "round=$round target=$t $(taskset -c 1 python3 "$here/sse-latency.py" read "$(port_of "$t")" "$N" "$MS")" | tee -a "$raw"
  done
done
python3 - "$raw" "$N" "$MS" "$ROUNDS" <<'PY' | tee "$out"
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    m = re.match(r"round=\d+ target=(\S+) events=\d+ p50=([\d.]+) p99=([\d.]+) max=([\d.]+)", line)
    if m:
        runs.setdefault(m.group(1), []).append([float(x) for x in m.groups()[1:]])
print(f"# SSE latency, write to read: {sys.argv[2]} events every {sys.argv[3]} ms, medians of {sys.argv[4]} rounds\n")
print("| target | p50 ms | p99 ms | max ms |")
print("|---|---:|---:|---:|")
for t, rs in runs.items():
    med = lambda i: statistics.median(r[i] for r in rs)
    print(f"| {t} | {med(0):.3f} | {med(1):.3f} | {med(2):.3f} |")
PY
