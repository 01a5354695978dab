#!/usr/bin/env bash
# Which garbage collector costs Fairway the least CPU per request, on its small heap: each round starts a fresh
# Fairway per collector (JIT and heap layout differ from one JVM to the next, so one JVM per figure would mislead),
# warms it up for DURATION s of wrk, then measures DURATION s more: requests/s, the proxy's CPU µs per request, the
# share of that CPU spent collecting (jstat's GC time) and peak RSS. Collectors alternate; the table gives medians.
# The proxy runs on CPU 0 (the JVM sees one CPU and sizes itself for it; PIN_AFTER=1 pins it only once started, so the
# JVM sizes itself for the machine), the nginx backend and wrk on CPU 1. Loopback only; bounded: ROUNDS x collectors x
# 2 x DURATION s. Needs nginx, wrk, taskset, jstat (a JDK).
# Usage: [ROUNDS=4] [DURATION=10] [CONNS=500] [COLLECTORS="serial parallel g1"] load-tests/collectors.sh
#        FLAGS="-Xms32m -Xmn16m" sets what goes with each collector's flag (default: Fairway's heap flags)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-4}
DURATION=${DURATION:-10}
CONNS=${CONNS:-500}
COLLECTORS=${COLLECTORS:-"serial parallel"}
FLAGS=${FLAGS:-"-Xms32m -Xmn16m"}
need nginx wrk taskset jstat curl
scratch collectors
stamp=$(date -u +%Y%m%dT%H%M%SZ)
raw="$here/results/collectors-$stamp.txt"
out="$here/results/collectors-$stamp.md"
fairway_jar

backend_conf "$work/backend.conf" 18581 18582 18583
taskset -c 1 nginx -c "$work/backend.conf" & backend=$!; pids+=("$backend")
hz=$(getconf CLK_TCK)

flag_of() {
  case $1 in serial) echo -XX:+UseSerialGC;; parallel) echo -XX:+UseParallelGC;; g1) echo -XX:+UseG1GC;;
    *) echo "unknown collector $1 (serial, parallel or g1)" >&2; exit 2;; esac
}
# gc_seconds PID: the JVM's total collection time so far (jstat's GCT, the last column)
gc_seconds() { jstat -gc "$1" | awk 'END { print $NF }'; }

# one_run COLLECTOR ROUND: starts a Fairway, warms it up, measures, stops it; appends a line to the raw file
one_run() { local gc=$1 round=$2 port=18584 fw cpu0 gc0 rps cpu1 gc1
  local pin=(taskset -c 0)
  [ "${PIN_AFTER:-0}" = 1 ] && pin=()   # started unpinned, so that the JVM sizes itself for the machine
  # shellcheck disable=SC2046,SC2086
  "${pin[@]}" java $(flag_of "$gc") $FLAGS -jar "$root/target/fairway.jar" -p "$port" --admin-port $((port + 1)) -i 1 \
    -u 127.0.0.1:18581 -u 127.0.0.1:18582 -u 127.0.0.1:18583 --access-log off > "$work/fairway-$gc.log" 2>&1 &
  fw=$!; pids+=("$fw")
  [ "${PIN_AFTER:-0}" = 1 ] && taskset -a -p -c 0 "$fw" > /dev/null
  await_http "http://127.0.0.1:$port/"
  taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" "http://127.0.0.1:$port/" > /dev/null
  cpu0=$(cpu_ticks "$fw"); gc0=$(gc_seconds "$fw")
  rps=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" "http://127.0.0.1:$port/" | awk '/Requests\/sec/ { printf "%.0f", $2 }')
  cpu1=$(cpu_ticks "$fw"); gc1=$(gc_seconds "$fw")
  [ "${rps:-0}" -gt 0 ] || { echo "no requests measured through the $gc Fairway (its log: $work/fairway-$gc.log)" >&2; exit 1; }
  awk -v r="$round" -v g="$gc" -v rps="$rps" -v c0="$cpu0" -v c1="$cpu1" -v g0="$gc0" -v g1="$gc1" -v hz="$hz" \
    -v d="$DURATION" -v rss="$(proc_kib VmHWM "$fw")" 'BEGIN {
      cpu = (c1 - c0) / hz
      printf "round=%s collector=%s rps=%s cpu_us=%.2f gc_share=%.1f peak_rss_mib=%.0f\n", r, g, rps,
        cpu * 1e6 / (rps * d), 100 * (g1 - g0) / cpu, rss / 1024 }' | tee -a "$raw"
  kill "$fw"; wait "$fw" || true
  pids=("$backend") # that PID is no longer ours to stop
}

echo "# collectors=$COLLECTORS flags=$FLAGS conns=$CONNS duration=$DURATION pin_after=${PIN_AFTER:-0} $(java -version 2>&1 | head -1)" | tee "$raw"
set -f; read -r -a list <<< "$COLLECTORS"; set +f
for round in $(seq 1 "$ROUNDS"); do
  for i in "${!list[@]}"; do one_run "${list[$(( (i + round) % ${#list[@]} ))]}" "$round"; done
done

{
  echo "Collectors side by side: $(head -1 "$raw" | cut -c3-), $ROUNDS rounds ($stamp); medians of fresh JVMs"
  echo
  echo "| collector | req/s | CPU µs/req | CPU collecting | peak RSS MiB | req/s by round |"
  echo "|---|---:|---:|---:|---:|---|"
  for gc in "${list[@]}"; do
    grep "collector=$gc " "$raw" | awk -v gc="$gc" '
      function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
      { for (f = 1; f <= NF; f++) { split($f, kv, "="); v[kv[1]] = kv[2] }
        n++; r[n] = v["rps"]; c[n] = v["cpu_us"]; s[n] = v["gc_share"]; m[n] = v["peak_rss_mib"]; by = by " " v["rps"] }
      END { printf "| %s | %.0f | %.2f | %.1f %% | %.0f |%s |\n", gc, median(r, n), median(c, n), median(s, n), median(m, n), by }'
  done
} | tee "$out"
