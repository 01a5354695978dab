#!/usr/bin/env bash
# The cost of Fairway's metrics and access log (scenario 6), measured so that neither the machine's drift nor the
# difference between two JVMs counts: two Fairways, A and B, pinned together to CPU 0 and loaded at the same moment by
# two wrk on CPU 1, and a reload switches them between rounds. In each round's first half A runs with the variant
# (metrics, log or both; none: the control, both without either) and B with neither; in its second half, the other way round. Running at the same time cancels
# the drift (on these shared machines throughput moves by 10-30% from one minute to the next); swapping cancels the
# JVMs' own difference (two identical JVMs differ by 1-3% in CPU per request however long they run, as each JIT
# compiles the request path its own way). A round's cost is the geometric mean of its two halves' ratios of CPU per
# request (each process's user + system time, its log writer thread included, over the requests it answered), in
# which A's and B's own factors cancel; on a saturated CPU the throughput cost is 1 - 1/that ratio.
#
# The access log goes to a fresh file each time it is switched on; closed ones are deleted.
# Needs (installs nothing itself): nginx, wrk   ->  apt-get install -y nginx wrk
# Traffic stays on 127.0.0.1. Bounded: about 1.5 minutes of warm-up, then ROUNDS x variants x connection counts x 2
# halves x (DURATION + 1 s settling) seconds.
# Writes results/<run>-toggle.txt (raw) and .md (medians).
# Usage: load-tests/toggle.sh        (ROUNDS=6 DURATION=6 CONNS="50 500" VARIANTS="both log metrics none" by default)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-6}
DURATION=${DURATION:-6}
CONNS=${CONNS:-"50 500"}
VARIANTS=${VARIANTS:-"both log metrics none"}
FAIRWAY_JVM_OPTS=${FAIRWAY_JVM_OPTS:-$THROUGHPUT_JVM_OPTS}
scratch toggle
out="$here/results/$(date -u +%Y%m%dT%H%M%SZ)-toggle.txt"
token=toggle-bench
declare -A port=([a]=18290 [b]=18292) pid

need nginx wrk taskset python3 curl
fairway_jar

backend_conf "$work/backend.conf" 18281 18282 18283
taskset -c 1 nginx -c "$work/backend.conf" & pids+=($!)

switches=0
# switch FAIRWAY STATE: reloads Fairway a or b into STATE (none, metrics, log or both); a log goes to a new file,
# and the files of logs closed by then (a reload answers once the previous log is closed) are deleted
switch() {
  local f=$1 metrics=false log=off
  switches=$((switches + 1))
  case $2 in metrics) metrics=true;; log) log="$work/access-$switches.log";; both) metrics=true; log="$work/access-$switches.log";; esac
  cat > "$work/$f.yaml" <<CONF
listen: {host: 127.0.0.1, port: ${port[$f]}}
admin: {host: 127.0.0.1, port: $((port[$f] + 1)), token: $token}
instances: 1
watch-config: false
upstreams: [127.0.0.1:18281, 127.0.0.1:18282, 127.0.0.1:18283]
metrics: $metrics
access-log: $log
CONF
  if [ -n "${pid[$f]:-}" ]; then
    curl -sf -X POST -H "Authorization: Bearer $token" "http://127.0.0.1:$((port[$f] + 1))/admin/reload" | grep -q '"applied"' \
      || { echo "reload of $f into $2 was not applied" >&2; exit 1; }
  fi
  for l in "$work"/access-*.log; do
    [ -e "$l" ] && ! grep -qF "$l" "$work/a.yaml" "$work/b.yaml" && rm -f "$l"
  done
  return 0
}

for f in a b; do
  switch "$f" none
  # shellcheck disable=SC2086
  taskset -c 0 java $FAIRWAY_JVM_OPTS -jar "$root/target/fairway.jar" --config "$work/$f.yaml" > "$work/$f.out" 2>&1 &
  pids+=($!); pid[$f]=$!
done
for f in a b; do await_http "http://127.0.0.1:${port[$f]}/"; done

# load SECONDS CONNS: both wrk at once; prints "a_requests b_requests a_ticks b_ticks"
load() {
  local a0 b0 w1 w2
  a0=$(cpu_ticks "${pid[a]}"); b0=$(cpu_ticks "${pid[b]}")
  taskset -c 1 wrk -t1 -c"$2" -d"$1s" "http://127.0.0.1:${port[a]}/" > "$work/wrk-a" & w1=$!
  taskset -c 1 wrk -t1 -c"$2" -d"$1s" "http://127.0.0.1:${port[b]}/" > "$work/wrk-b" & w2=$!
  wait "$w1" "$w2"
  echo "$(awk '/requests in/ {print $1}' "$work/wrk-a") $(awk '/requests in/ {print $1}' "$work/wrk-b")" \
    "$(($(cpu_ticks "${pid[a]}") - a0)) $(($(cpu_ticks "${pid[b]}") - b0))"
}

# JIT warm-up: each Fairway alone at full speed in every state, so its request path is compiled with each branch taken
for s in both none metrics log none both; do
  for f in a b; do
    switch "$f" "$s"
    taskset -c 1 wrk -t1 -c50 -d7s "http://127.0.0.1:${port[$f]}/" > /dev/null
  done
done

{
  echo "# $(date -u) toggle: two Fairways switched by reload, crossed over; rounds=$ROUNDS duration=${DURATION}s conns=[$CONNS] variants=[$VARIANTS] fairway_jvm=[$FAIRWAY_JVM_OPTS]"
  echo "# $(nproc) cores, $(uname -r), $(java -version 2>&1 | head -1)"
} | tee "$out"
hz=$(getconf CLK_TCK)
for round in $(seq 1 "$ROUNDS"); do
  for c in $CONNS; do
    for v in $VARIANTS; do
      # which Fairway carries the variant first alternates by round
      halves=("a b" "b a"); if ((round % 2 == 0)); then halves=("b a" "a b"); fi
      for h in "${halves[@]}"; do
        read -r on off <<< "$h"
        switch "$on" "$v"; switch "$off" none
        load 1 "$c" > /dev/null   # settle: new log file, new connections
        read -r na nb ta tb <<< "$(load "$DURATION" "$c")"
        awk -v r="$round" -v c="$c" -v v="$v" -v on="$on" -v na="$na" -v nb="$nb" -v ta="$ta" -v tb="$tb" -v hz="$hz" -v d="$DURATION" \
          'BEGIN { printf "round=%s conns=%s variant=%s on=%s a_rps=%d b_rps=%d a_cpu_us=%.2f b_cpu_us=%.2f\n",
                   r, c, v, on, na / d, nb / d, na ? ta * 1e6 / hz / na : 0, nb ? tb * 1e6 / hz / nb : 0 }' | tee -a "$out"
      done
    done
  done
done
python3 "$here/summarize-toggle.py" "$out" | tee "${out%.txt}.md"
