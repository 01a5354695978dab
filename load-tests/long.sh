#!/usr/bin/env bash
# Scenario 4: N concurrent requests held open against backends that answer after HOLD seconds; every
# one must succeed, and Fairway's RSS is sampled every 10 s to show it flat. Three demo backends, so each holds a
# third. Loopback only; bounded by HOLD + 60 s.
# Usage: N=1000 HOLD=180 load-tests/long.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${N:-1000}
HOLD=${HOLD:-180}
out="$here/results/long-$(date -u +%Y%m%dT%H%M%SZ).md"
ulimit -n "$(ulimit -Hn)"
need python3 curl taskset
fairway_jar

for port in 18481 18482 18483; do
  java -XX:+UseSerialGC -cp "$root/target/fairway.jar" dev.fairway.demo.DemoServer 127.0.0.1 "$port" "$((HOLD * 1000))" \
    > /dev/null 2>&1 & pids+=($!)
done
for port in 18481 18482 18483; do
  for _ in $(seq 1 200); do curl -sf -o /dev/null "http://127.0.0.1:$port/api/system/health" && break; sleep 0.1; done
done
java -XX:+UseSerialGC -Xmx128m -jar "$root/target/fairway.jar" -p 18492 --admin-port 18493 -i 2 --access-log off \
  -u 127.0.0.1:18481 -u 127.0.0.1:18482 -u 127.0.0.1:18483 --health-path /api/system/health > /dev/null 2>&1 &
pids+=($!); fairway_pid=$!
for _ in $(seq 1 200); do curl -sf -o /dev/null http://127.0.0.1:18493/health/ready && break; sleep 0.1; done

python3 "$here/long-requests.py" 18492 "$N" "$((HOLD + 60))" > "$out.client" 2>&1 &
client=$!
{
  echo "# $N requests held ${HOLD}s through Fairway (-i 2, -Xmx128m), $(date -u)"
  echo
  echo "| t (s) | Fairway RSS MiB | in flight |"
  echo "|---:|---:|---:|"
} | tee "$out"
start=$(date +%s)
while kill -0 "$client" 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$fairway_pid/status")
  inflight=$(curl -s http://127.0.0.1:18493/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["in_flight"])')
  echo "| $(( $(date +%s) - start )) | $rss | $inflight |" | tee -a "$out"
  sleep 10
done
echo >> "$out"; echo "client: $(cat "$out.client")" | tee -a "$out"; rm -f "$out.client"
