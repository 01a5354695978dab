#!/usr/bin/env bash
# Where two Fairways' CPU differs, per request: A (BASE_ARGS) and B (VARIANT_ARGS) run at once on CPU 0, each loaded
# by its own wrk on CPU 1 in front of the same nginx backend, and `perf record` samples both processes together; each
# one's samples are then divided by the requests it answered. Unlike profile.sh (one Fairway alone), this shows what
# a variant costs beyond its own frames: e.g. that with the access log on, the kernel's TCP send path costs more per
# request too (peers that went to sleep must be woken), which is why cost.sh reads about twice the log's own CPU.
#
# Needs (installs nothing itself): perf, nginx, wrk   ->  apt-get install -y linux-perf nginx wrk
# Traffic stays on 127.0.0.1; bounded: 20 s of warm-up per Fairway, 10 s together, then DURATION seconds of load.
# Usage: load-tests/profile-pair.sh
#        BASE_ARGS="--access-log off --no-metrics" VARIANT_ARGS="--access-log off" load-tests/profile-pair.sh
#        FRAMES='sock_def_readable|ProxyExchange\.finish' load-tests/profile-pair.sh
# Writes results/<run>-profile-pair.txt; the perf data stays in a scratch directory that is removed at exit.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
CONNS=${CONNS:-50}
DURATION=${DURATION:-20}
FAIRWAY_JVM_OPTS=${FAIRWAY_JVM_OPTS:-$THROUGHPUT_JVM_OPTS}
scratch profile-pair
BASE_ARGS=${BASE_ARGS:-"--access-log off --no-metrics"}
VARIANT_ARGS=${VARIANT_ARGS:-"--access-log $work/access.log"}
FRAMES=${FRAMES:-'ProxyExchange\.finish|dev\.fairway\.accesslog|dev\.fairway\.metrics|tcp_sendmsg|sock_def_readable|ksys_write|futex|__schedule'}
out="$here/results/$(date -u +%Y%m%dT%H%M%SZ)-profile-pair.txt"

need perf nginx wrk taskset python3 curl
fairway_jar

backend_conf "$work/backend.conf" 18481 18482 18483
taskset -c 1 nginx -c "$work/backend.conf" & pids+=($!)
# fairway PORT ARGS...: one Fairway (one event loop) on CPU 0, its admin port PORT+1
fairway() {
  local port=$1
  shift
  # shellcheck disable=SC2086
  taskset -c 0 java $FAIRWAY_JVM_OPTS -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit -XX:+PreserveFramePointer \
    -jar "$root/target/fairway.jar" -p "$port" --admin-port $((port + 1)) -i 1 \
    -u 127.0.0.1:18481 -u 127.0.0.1:18482 -u 127.0.0.1:18483 "$@" > "$work/fairway-$port.log" 2>&1 &
  pids+=($!)
}
# shellcheck disable=SC2086
fairway 18490 $BASE_ARGS; a=$!
# shellcheck disable=SC2086
fairway 18492 $VARIANT_ARGS; b=$!
await_http http://127.0.0.1:18490/
await_http http://127.0.0.1:18492/

for port in 18490 18492; do taskset -c 1 wrk -t1 -c"$CONNS" -d20s "http://127.0.0.1:$port/" > /dev/null; done
taskset -c 1 wrk -t1 -c"$CONNS" -d10s http://127.0.0.1:18490/ > /dev/null & w=$!
taskset -c 1 wrk -t1 -c"$CONNS" -d10s http://127.0.0.1:18492/ > /dev/null
wait "$w"
taskset -c 1 wrk -t1 -c"$CONNS" -d$((DURATION + 2))s http://127.0.0.1:18490/ > "$work/wrk-a.txt" & wa=$!
taskset -c 1 wrk -t1 -c"$CONNS" -d$((DURATION + 2))s http://127.0.0.1:18492/ > "$work/wrk-b.txt" & wb=$!
sleep 1
perf record -F 1999 -g -p "$a,$b" -o "$work/perf.data" -- sleep "$DURATION" 2> /dev/null
wait "$wa" "$wb"
kill "$a" "$b"
wait "$a" "$b" 2>/dev/null || true # the JIT symbol maps are written as the JVMs exit
perf script -i "$work/perf.data" -F comm,pid,tid,ip,sym 2>/dev/null > "$work/perf.txt"
rm -f "/tmp/perf-$a.map" "/tmp/perf-$b.map"
ra=$(awk '/Requests\/sec/ {print $2}' "$work/wrk-a.txt")
rb=$(awk '/Requests\/sec/ {print $2}' "$work/wrk-b.txt")
{
  echo "# profile-pair.sh $(date -u +%FT%TZ): A [$BASE_ARGS] vs B [$VARIANT_ARGS], $CONNS connections each, ${DURATION} s of perf at 1999 Hz"
  python3 "$here/perf-pair.py" "$work/perf.txt" "$a" "$ra" "$b" "$rb" "$FRAMES"
} | tee "$out"
