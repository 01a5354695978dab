#!/usr/bin/env bash
# The cost of Fairway's metrics and access log (scenario 6), measured in pairs run at the same time: a Fairway
# without either and a Fairway with one or both, pinned together to CPU 0 and loaded together by two wrk on CPU 1.
# Both halves of a pair see the same machine at the same moment, so the drift that makes one-after-the-other
# comparisons disagree by ±10-20% between rounds cancels out; the "same" pair (two identical Fairways) shows what is
# left of the noise. nginx against nginx with its access log is the yardstick.
#
# The figure that counts is CPU per request: each process's CPU time (user + system, its log writer thread
# included) over the requests it answered. On a saturated CPU, throughput is the inverse of it, so the throughput cost
# is 1 - base/variant of it. Requests/s in a pair are printed too but understate the cost: the scheduler shares the
# CPU per thread, so a variant's extra thread (the log writer) also takes its time from the other process.
#
# Needs (installs nothing itself): nginx, wrk   ->  apt-get install -y nginx wrk
# Traffic stays on 127.0.0.1. Bounded: ROUNDS x pairs x connection counts x DURATION, plus about 3 minutes of warm-up.
# Each pair has its own base process and the pairs rotate, so no half of a pair has run more than the other. Two
# identical JVMs still differ by 1-3% (each JIT compiles the request path its own way), the same way in every round:
# for a 1-2% question, run it again (fresh processes) rather than for more rounds.
# Writes results/<run>-cost.txt (raw) and .md (medians).
# Usage: load-tests/cost.sh          (ROUNDS=6 DURATION=6 CONNS="50 500" by default)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-6}
DURATION=${DURATION:-6}
CONNS=${CONNS:-"50 500"}
FAIRWAY_JVM_OPTS=${FAIRWAY_JVM_OPTS:-$THROUGHPUT_JVM_OPTS}
scratch cost
out="$here/results/$(date -u +%Y%m%dT%H%M%SZ)-cost.txt"

need nginx wrk taskset python3 curl
fairway_jar

backend_conf "$work/backend.conf" 18181 18182 18183
nginx_proxy_conf "$work/nginx.conf" 127.0.0.1:18190 18181 18182 18183
sed -e "s#access_log off;#access_log $work/nginx-access.log combined;#" -e "s#18190#18191#" -e "s#nginx.pid#nginx-log.pid#" \
  "$work/nginx.conf" > "$work/nginx-log.conf"
taskset -c 1 nginx -c "$work/backend.conf" & pids+=($!)

declare -A pid_of port_of
taskset -c 0 nginx -c "$work/nginx.conf" & pids+=($!); pid_of[nginx]=$!; port_of[nginx]=18190
taskset -c 0 nginx -c "$work/nginx-log.conf" & pids+=($!); pid_of[nginx-log]=$!; port_of[nginx-log]=18191
# fairway NAME PORT ARGS...: one Fairway (one event loop) on CPU 0, its admin port PORT+100
fairway() {
  local name=$1 port=$2
  shift 2
  # shellcheck disable=SC2086
  taskset -c 0 java $FAIRWAY_JVM_OPTS -jar "$root/target/fairway.jar" -p "$port" --admin-port $((port + 100)) -i 1 \
    -u 127.0.0.1:18181 -u 127.0.0.1:18182 -u 127.0.0.1:18183 "$@" > "$work/$name.out" 2>&1 &
  pids+=($!); pid_of[$name]=$!; port_of[$name]=$port
}
fairway same-base 18192 --access-log off --no-metrics
fairway same 18193 --access-log off --no-metrics
fairway metrics-base 18194 --access-log off --no-metrics
fairway metrics 18195 --access-log off
fairway log-base 18196 --access-log off --no-metrics
fairway log 18197 --access-log "$work/access-log-only.log" --no-metrics
fairway both-base 18198 --access-log off --no-metrics
fairway both 18199 --access-log "$work/access.log"
pairs=(same metrics log both nginx-log)
base_of() { case $1 in nginx-log) echo nginx;; *) echo "$1-base";; esac; }
for t in "${!port_of[@]}"; do
  await_http "http://127.0.0.1:${port_of[$t]}/"
done

# load_pair SECONDS CONNS BASE VARIANT [SWAP]: both wrk at once (the variant's first if SWAP is given); prints
# "base_requests variant_requests base_ticks variant_ticks"
load_pair() {
  local d=$1 c=$2 a=$3 b=$4 a0 b0 first=$3 second=$4 w1 w2
  if [ -n "${5:-}" ]; then first=$b; second=$a; fi
  a0=$(cpu_ticks "${pid_of[$a]}"); b0=$(cpu_ticks "${pid_of[$b]}")
  taskset -c 1 wrk -t1 -c"$c" -d"${d}s" "http://127.0.0.1:${port_of[$first]}/" > "$work/wrk-$first" & w1=$!
  taskset -c 1 wrk -t1 -c"$c" -d"${d}s" "http://127.0.0.1:${port_of[$second]}/" > "$work/wrk-$second" & w2=$!
  wait "$w1" "$w2"
  echo "$(awk '/requests in/ {print $1}' "$work/wrk-$a") $(awk '/requests in/ {print $1}' "$work/wrk-$b")" \
    "$(($(cpu_ticks "${pid_of[$a]}") - a0)) $(($(cpu_ticks "${pid_of[$b]}") - b0))"
}

# JIT warm-up: each Fairway alone at full speed (C2 is still compiling after 15 s at half speed), then each pair
for t in "${!port_of[@]}"; do
  case $t in nginx*) ;; *) taskset -c 1 wrk -t1 -c50 -d20s "http://127.0.0.1:${port_of[$t]}/" > /dev/null;; esac
done
for p in "${pairs[@]}"; do load_pair 5 50 "$(base_of "$p")" "$p" > /dev/null; done

{
  echo "# $(date -u) cost pairs, rounds=$ROUNDS duration=${DURATION}s conns=[$CONNS] fairway_jvm=[$FAIRWAY_JVM_OPTS]"
  echo "# $(nproc) cores, $(uname -r), $(java -version 2>&1 | head -1), $(nginx -v 2>&1)"
} | tee "$out"
hz=$(getconf CLK_TCK)
for round in $(seq 1 "$ROUNDS"); do
  shift_by=$(( (round - 1) % ${#pairs[@]} ))
  order=("${pairs[@]:shift_by}" "${pairs[@]:0:shift_by}")
  for c in $CONNS; do
    for p in "${order[@]}"; do
      a=$(base_of "$p")
      swap=""; if ((round % 2 == 0)); then swap=1; fi   # every other round the variant's wrk starts first
      read -r na nb ta tb <<< "$(load_pair "$DURATION" "$c" "$a" "$p" "$swap")"
      awk -v r="$round" -v c="$c" -v p="$p" -v na="$na" -v nb="$nb" -v ta="$ta" -v tb="$tb" -v hz="$hz" -v d="$DURATION" \
        'BEGIN { printf "round=%s conns=%s pair=%s base_rps=%d variant_rps=%d base_cpu_us=%.2f variant_cpu_us=%.2f\n",
                 r, c, p, na / d, nb / d, na ? ta * 1e6 / hz / na : 0, nb ? tb * 1e6 / hz / nb : 0 }' | tee -a "$out"
    done
  done
done
python3 "$here/summarize-cost.py" "$out" | tee "${out%.txt}.md"
