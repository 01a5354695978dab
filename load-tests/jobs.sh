#!/usr/bin/env bash
# Long jobs against plain routes, on one Fairway at the same moment: a 1 GiB download and a 1 GiB upload through a job
# route (the response spooled to disk as it is relayed; the upload with an Idempotency-Key, so its body is hashed)
# and through a plain route, alternating; server-sent events' latency through both; and small requests (1 KiB,
# wrk, 50 connections, DURATION s) through both, to show what a job costs when the request itself is short. The spool is on the same
# file system as /tmp (here: the root disk), so the job download is disk-bound: it writes every byte it relays.
# (SPOOL_DIR=/dev/shm/fairway-spool takes the disk out.) Pinning as in run.sh: Fairway on CPU 0, backends and clients on CPU 1. Loopback only; each transfer is bounded by
# curl --max-time, each SSE read by N x MS.
# Needs: nginx, curl, python3, wrk (apt-get install -y nginx curl python3 wrk). Usage: ROUNDS=3 load-tests/jobs.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-3}; N=${N:-500}; MS=${MS:-10}; DURATION=${DURATION:-10}
scratch jobs
# the spool: on /tmp's file system by default; SPOOL_DIR=/dev/shm/... puts it in memory, to see Fairway's own cost
spool=${SPOOL_DIR:-$work/spool}
[ -n "${SPOOL_DIR:-}" ] && trap 'cleanup; rm -rf "$spool"' EXIT
out="$here/results/jobs-$(date -u +%Y%m%dT%H%M%SZ).md"
need nginx curl python3 taskset wrk
fairway_jar

truncate -s 1G "$work/big.bin"   # sparse: served with sendfile, costs no disk
mkdir -p "$work/job"; ln "$work/big.bin" "$work/job/big.bin"
head -c 1024 /dev/zero | tr '\0' x > "$work/small"; cp "$work/small" "$work/job/small"; chmod 644 "$work/small" "$work/job/small"
chmod 755 "$work" "$work/job"; chmod 644 "$work/big.bin"   # nginx workers run unprivileged
cat > "$work/backend.conf" <<CONF
worker_processes 1; daemon off; pid $work/backend.pid; error_log $work/backend-error.log;
events { worker_connections 1024; }
http { access_log off; sendfile on;
  server { listen 127.0.0.1:18381;
    location / { root $work; }
    location = /health { return 200 "ok\n"; } } }
CONF
# one Fairway: /job/ and /job-events are job routes, the rest plain; uploads go to a sink that counts the bytes
cat > "$work/fairway.yaml" <<CONF
instances: 1
access-log: off
upstreams: [127.0.0.1:18381]
health: {path: /health}
groups:
  sink: {upstreams: [127.0.0.1:18382]}
  sse: {upstreams: [127.0.0.1:18383]}
jobs: {dir: $spool, retention: 10s}
routes:
  - {path: /job/, jobs: {enabled: true}}
  - {path: /upload, group: sink}
  - {path: /job-upload, group: sink, jobs: {enabled: true}}
  - {path: /events, group: sse}
  - {path: /job-events, group: sse, jobs: {enabled: true}}
CONF
taskset -c 1 nginx -c "$work/backend.conf" & pids+=($!)
taskset -c 1 java -cp "$root/target/fairway.jar" dev.fairway.demo.DemoServer 127.0.0.1 18382 > "$work/sink.log" 2>&1 & pids+=($!)
taskset -c 1 python3 "$here/sse-latency.py" serve 18383 & pids+=($!)
taskset -c 0 java -jar "$root/target/fairway.jar" -c "$work/fairway.yaml" -p 18392 --admin-port 18393 \
  > "$work/fairway.log" 2>&1 & pids+=($!)
for _ in $(seq 1 200); do curl -sf -o /dev/null -r 0-0 "http://127.0.0.1:18392/big.bin" && break; sleep 0.1; done

raw="$out.raw"
down() { taskset -c 1 curl -s -o /dev/null --max-time 120 -w '%{speed_download} %{size_download} %{http_code}' "http://127.0.0.1:18392$1"; }
up() { taskset -c 1 curl -s -o /dev/null --max-time 120 -H "Transfer-Encoding: chunked" -H "Idempotency-Key: bench-$RANDOM$RANDOM" \
  -T "$work/big.bin" -w '%{speed_upload} %{size_upload} %{http_code}' "http://127.0.0.1:18392$1"; }
echo "# $(date -u) $(nproc) cores; $(java -version 2>&1 | head -1); $(git -C "$root" rev-parse --short HEAD)" > "$raw"
for path in /big.bin /job/big.bin; do down "$path" > /dev/null; done   # warm-up: the JIT compiles both paths
for path in /upload /job-upload; do up "$path" > /dev/null; done
for round in $(seq 1 "$ROUNDS"); do
  for path in /big.bin /job/big.bin; do echo "round=$round download $path $(down "$path")" | tee -a "$raw"; done
  for path in /upload /job-upload; do echo "round=$round upload $path $(up "$path")" | tee -a "$raw"; done
  for path in /events /job-events; do
    echo "round=$round sse $path $(taskset -c 1 python3 "$here/sse-latency.py" read 18392 "$N" "$MS" "$path")" | tee -a "$raw"
  done
  for path in /small /job/small; do
    rps=$(taskset -c 1 wrk -t1 -c50 -d"${DURATION}s" "http://127.0.0.1:18392$path" | awk '/Requests\/sec/ {print $2}')
    echo "round=$round small $path $rps" | tee -a "$raw"
  done
done
du -sh "$spool" >> "$raw" 2>/dev/null || true   # files come and go as retention ends
python3 - "$raw" "$ROUNDS" "$N" "$MS" <<'PY' | tee "$out"
import re, statistics, sys
rates, sse, small = {}, {}, {}
for line in open(sys.argv[1]):
    m = re.match(r"round=\d+ (download|upload) (\S+) ([\d.]+) (\d+) (\d+)", line)
    if m:
        rates.setdefault((m.group(1), m.group(2)), []).append(float(m.group(3)) / 1e6)
    m = re.match(r"round=\d+ sse (\S+) events=\d+ p50=([\d.]+) p99=([\d.]+)", line)
    if m:
        sse.setdefault(m.group(1), []).append((float(m.group(2)), float(m.group(3))))
    m = re.match(r"round=\d+ small (\S+) ([\d.]+)", line)
    if m:
        small.setdefault(m.group(1), []).append(float(m.group(2)))
print(f"# Job routes against plain routes, one Fairway, medians of {sys.argv[2]} alternating rounds\n")
print("| transfer | plain MB/s | job MB/s | job / plain |")
print("|---|---:|---:|---:|")
for kind, plain, job in (("1 GiB download", "/big.bin", "/job/big.bin"), ("1 GiB upload", "/upload", "/job-upload")):
    key = "download" if "download" in kind else "upload"
    p, j = statistics.median(rates[(key, plain)]), statistics.median(rates[(key, job)])
    print(f"| {kind} | {p:.0f} | {j:.0f} | {j / p:.2f} |")
print(f"\n| SSE, {sys.argv[3]} events every {sys.argv[4]} ms | p50 ms | p99 ms |")
print("|---|---:|---:|")
for path, rs in sse.items():
    print(f"| {path} | {statistics.median(r[0] for r in rs):.3f} | {statistics.median(r[1] for r in rs):.3f} |")
print("\n| 1 KiB responses, 50 connections | req/s |")
print("|---|---:|")
for path, rs in small.items():
    print(f"| {path} | {statistics.median(rs):.0f} |")
PY
