#!/usr/bin/env bash
# Memory given back after a burst of connections: Fairway under plain `java -jar` (its own JVM flags) serves 3 s of
# traffic, then N idle keep-alive connections are opened, held 5 s and closed; RSS before, while held, and 5, 10, 20
# and 30 s after they closed, with release-memory-after set to AFTER (2s) and to 0 (off), alternating ROUNDS times.
# The release is what brings the later columns down; without it the heap stays as the connections grew it.
# Loopback only, bounded (120 s to open, 5 s held, 30 s after). Needs nginx, wrk, python3, taskset.
# Usage: [ROUNDS=2] [AFTER=2s] load-tests/release.sh [N]      (N: 10000 by default)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${1:-10000}
ROUNDS=${ROUNDS:-2}
AFTER=${AFTER:-2s}
ulimit -n "$(ulimit -Hn)"
need nginx wrk python3 taskset curl
scratch release
out="$here/results/release-$(date -u +%Y%m%dT%H%M%SZ).md"
fairway_jar

backend_conf "$work/backend.conf" 18481
taskset -c 1 nginx -c "$work/backend.conf" & pids+=($!)
for setting in "$AFTER" 0; do
  printf 'instances: 1\naccess-log: off\nhealth: {enabled: false}\nupstreams: [127.0.0.1:18481]\nrelease-memory-after: %s\n' \
    "$setting" > "$work/fairway-$setting.yaml"
done

mib() { awk '{ printf "%.0f", $1 / 1024 }' <<< "$(proc_kib VmRSS "$1")"; }
# one_round SETTING: prints a table row
one_round() { local setting=$1 port=18482 fw client before held row s
  taskset -c 0 java -jar "$root/target/fairway.jar" -c "$work/fairway-$setting.yaml" -p "$port" \
    --admin-port $((port + 1)) > "$work/fairway-$setting.log" 2>&1 &
  fw=$!; pids+=("$fw")
  await_http "http://127.0.0.1:$port/"
  taskset -c 1 wrk -t1 -c10 -d3s "http://127.0.0.1:$port/" > /dev/null
  before=$(mib "$fw")
  taskset -c 1 python3 "$here/idle-connections.py" "$port" "$N" 5 > "$work/client.out" 2>&1 &
  client=$!
  for _ in $(seq 1 1200); do grep -q ready "$work/client.out" && break; sleep 0.1; done
  held=$(mib "$fw")
  wait "$client" || true
  row="| $setting | $before | $held |"
  for s in 5 5 10 10; do sleep "$s"; row+=" $(mib "$fw") |"; done
  kill "$fw"; wait "$fw" || true
  echo "$row $(grep -c 'quiet for a while' "$work/fairway-$setting.log" || true) |"
}
{
  echo "# Memory given back after $N idle connections closed, \`java -jar\`, $(date -u), $(nproc) cores, $(java -version 2>&1 | head -1)"
  echo
  echo "| release-memory-after | RSS before MiB | held MiB | 5 s after they closed | 10 s | 20 s | 30 s | releases logged |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
} | tee "$out"
for _ in $(seq 1 "$ROUNDS"); do
  for setting in "$AFTER" 0; do one_round "$setting" | tee -a "$out"; done
done
