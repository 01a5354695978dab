#!/usr/bin/env bash
# Start-up: how long a plain `java -jar target/fairway.jar` takes from exec until its admin port answers
# /health/live (Fairway restarting itself under its JVM flags included), and its RSS a second later. BASE_JAR adds
# another build, alternating with this one round by round, so both see the same machine. One upstream that is down
# (127.0.0.1:9): start-up does not wait for upstreams. Each build is started and stopped once before the rounds, as
# a first run, so that the rounds measure the starts after it: with the class-data archive Fairway writes at its first
# stop (in this script's scratch directory: XDG_CACHE_HOME), for builds that write one; FIRST=1 measures first starts
# instead (no archive kept between starts). Loopback only; bounded: ROUNDS starts of each, 30 s each at most.
# Usage: [ROUNDS=5] [BASE_JAR=other.jar] [CPUS=0] [FIRST=1] load-tests/startup.sh      (CPUS: pin the JVMs, e.g. to one CPU)
#        CDS=1 load-tests/startup.sh: instead, the build under Fairway's JVM flags given explicitly, without and with
#        a class-data archive of its own (made by one start and stop with -XX:ArchiveClassesAtExit, as the README shows)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
need java curl taskset
fairway_jar
out="$here/results/startup-$(date -u +%Y%m%dT%H%M%SZ).md"
jars=("fairway:$root/target/fairway.jar")
[ -n "${BASE_JAR:-}" ] && jars+=("fairway-base:$BASE_JAR")
declare -A flags_of=([fairway]="" [fairway-base]="")
scratch startup
export XDG_CACHE_HOME="$work/cache"
if [ -n "${CDS:-}" ]; then
  defaults=$(java -cp "$root/target/fairway.jar" dev.fairway.ops.JvmDefaults)
  java $defaults -Xlog:cds=off -Xlog:cds+dynamic=off -XX:ArchiveClassesAtExit="$work/fairway.jsa" \
    -jar "$root/target/fairway.jar" -u 127.0.0.1:9 -p 18171 --admin-port 18172 > /dev/null 2>&1 &
  pid=$!; pids+=("$pid")
  await_http http://127.0.0.1:18172/health/live
  kill "$pid"; wait "$pid" 2>/dev/null || true   # the archive is written as the JVM exits
  jars=("fairway:$root/target/fairway.jar" "fairway-cds:$root/target/fairway.jar")
  flags_of=([fairway]="$defaults" [fairway-cds]="$defaults -Xlog:cds=off -Xlog:cds+dynamic=off -XX:SharedArchiveFile=$work/fairway.jsa")
fi
pin=(); [ -n "${CPUS:-}" ] && pin=(taskset -c "$CPUS")

start_once() { # jar [JVM flags]: prints ms until ready and RSS KiB a second later
  local began ready pid
  began=$(date +%s%N)
  # shellcheck disable=SC2086
  "${pin[@]}" java ${2:-} -jar "$1" -u 127.0.0.1:9 -p 18171 --admin-port 18172 > /dev/null 2>&1 &
  pid=$!; pids+=("$pid")
  for _ in $(seq 1 3000); do curl -sf -o /dev/null http://127.0.0.1:18172/health/live && break; sleep 0.01; done
  ready=$(date +%s%N)
  sleep 1
  echo "$(( (ready - began) / 1000000 )) $(proc_kib VmRSS "$pid")"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

declare -A ms rss
for entry in "${jars[@]}"; do # the first run of each
  IFS=: read -r name jar <<< "$entry"
  [ -z "${FIRST:-}" ] && start_once "$jar" "${flags_of[$name]}" > /dev/null
done
for round in $(seq 1 "$ROUNDS"); do
  [ -n "${FIRST:-}" ] && rm -rf "$XDG_CACHE_HOME"
  for entry in "${jars[@]}"; do
    IFS=: read -r name jar <<< "$entry"
    read -r m r <<< "$(start_once "$jar" "${flags_of[$name]}")"
    echo "round=$round target=$name ready_ms=$m rss_kib=$r"
    ms[$name]+="$m "; rss[$name]+="$r "
  done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
{
  echo "# Start-up of \`java ${defaults:+$defaults }-jar\`${CDS:+, without and with a class-data archive}${CPUS:+ on CPUs $CPUS}${FIRST:+, first starts}, $(date -u), $(nproc) cores, $(java -version 2>&1 | head -1)"
  echo
  echo "| target | ready ms, median of $ROUNDS | by start | RSS MiB a second later (median) |"
  echo "|---|---:|---|---:|"
  for entry in "${jars[@]}"; do
    IFS=: read -r name _ <<< "$entry"
    echo "| $name | $(echo "${ms[$name]}" | median) | ${ms[$name]}| $(( $(echo "${rss[$name]}" | median | cut -d. -f1) / 1024 )) |"
  done
} | tee "$out"
