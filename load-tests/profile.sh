#!/usr/bin/env bash
# Where a Fairway's CPU goes under load: one Fairway (one event loop) pinned to CPU 0 in front of three nginx
# backends, wrk on CPU 1, and `perf record` of the whole process (kernel included) for DURATION seconds after a
# warm-up; the JVM writes its JIT symbol map (/tmp/perf-PID.map) at exit so perf can name Java frames.
# `perf-report.py` then prints the CPU by thread and by code (kernel, each Java package) and the share of every frame
# named in FRAMES, inclusive (e.g. the end-of-request recording: ProxyExchange.finish).
#
# Needs (installs nothing itself): perf, nginx, wrk   ->  apt-get install -y linux-perf nginx wrk
# Traffic stays on 127.0.0.1; bounded: 15 s warm-up plus DURATION seconds of load.
# Usage: load-tests/profile.sh [fairway args...]       e.g.  load-tests/profile.sh --access-log off --no-metrics
#        CONNS=500 DURATION=10 FRAMES='ProxyExchange\.finish|AccessLog' load-tests/profile.sh
# Writes results/<run>-profile.txt; the perf data stays in a scratch directory that is removed at exit.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
CONNS=${CONNS:-50}
DURATION=${DURATION:-10}
FRAMES=${FRAMES:-'ProxyExchange\.finish|ProxyExchange\.relay|dev\.fairway\.accesslog|dev\.fairway\.metrics|io\.micrometer'}
FAIRWAY_JVM_OPTS=${FAIRWAY_JVM_OPTS:-$THROUGHPUT_JVM_OPTS}
scratch profile
out="$here/results/$(date -u +%Y%m%dT%H%M%SZ)-profile.txt"

need perf nginx wrk taskset python3 curl
fairway_jar

backend_conf "$work/backend.conf" 18381 18382 18383
taskset -c 1 nginx -c "$work/backend.conf" & pids+=($!)
args=("$@")
if ((${#args[@]} == 0)); then args=(--access-log "$work/access.log"); fi
# shellcheck disable=SC2086
taskset -c 0 java $FAIRWAY_JVM_OPTS -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit -XX:+PreserveFramePointer \
  -jar "$root/target/fairway.jar" -p 18390 --admin-port 18391 -i 1 \
  -u 127.0.0.1:18381 -u 127.0.0.1:18382 -u 127.0.0.1:18383 "${args[@]}" > "$work/fairway.log" 2>&1 &
fairway=$!
pids+=("$fairway")
await_http http://127.0.0.1:18390/

taskset -c 1 wrk -t1 -c"$CONNS" -d15s http://127.0.0.1:18390/ > /dev/null
taskset -c 1 wrk -t1 -c"$CONNS" -d$((DURATION + 2))s http://127.0.0.1:18390/ > "$work/wrk.txt" &
load=$!
sleep 1
perf record -F 1999 -g -p "$fairway" -o "$work/perf.data" -- sleep "$DURATION" 2> /dev/null
wait "$load"
kill "$fairway"
wait "$fairway" 2>/dev/null || true # the JIT symbol map is written as the JVM exits
perf script -i "$work/perf.data" 2>/dev/null > "$work/perf.txt"
rm -f "/tmp/perf-$fairway.map"
{
  echo "# profile.sh $(date -u +%FT%TZ): fairway ${args[*]}, $CONNS connections, ${DURATION} s of perf at 1999 Hz"
  grep -E 'Requests/sec' "$work/wrk.txt"
  python3 "$here/perf-report.py" "$work/perf.txt" "$FRAMES"
} | tee "$out"
