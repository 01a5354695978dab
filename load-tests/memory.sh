#!/usr/bin/env bash
# The JVM's share of relaying: RSS growth for Fairway started as the README starts it (plain `java -jar`, no JVM
# flags), next to BASE_JAR (another build, e.g. the one before a change) when given. (Heap allocated per relayed MiB
# is counted exactly by alloc.sh.)
#   1. 1 GiB each way: a Content-Length upload, a chunked upload (into a sink that reads every byte) and a download,
#      and 256 MiB of server-sent events (256-byte events written as fast as the client reads them).
#   2. 100 concurrent 100 MiB downloads, then 100 concurrent 100 MiB uploads; the RSS growth over the whole run.
#   3. 100 s later, with no traffic: RSS once the memory the burst took was given back (release-memory-after, 60 s by
#      default, checked every 15 s).
# Pinning as in run.sh: the proxy on CPU 0, backends and curl on CPU 1. Loopback only; every transfer is bounded by
# curl --max-time. Needs nginx, curl, python3 (apt-get install -y nginx curl python3).
# A JVM pinned to one CPU picks the serial collector; FAIRWAY_CPUS=0-1 lets it see both and pick G1, as it does on a
# machine with more cores. FAIRWAY_JVM_OPTS passes flags (none by default: plain `java -jar`).
# Usage: load-tests/memory.sh        BASE_JAR=/path/to/other/fairway.jar load-tests/memory.sh
#        FAIRWAY_CPUS=0-1 FAIRWAY_JVM_OPTS="-XX:+UseSerialGC -Xmn16m" load-tests/memory.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
scratch memory
out="$here/results/memory-$(date -u +%Y%m%dT%H%M%SZ).md"
need nginx curl python3 taskset
fairway_jar

big_file_backend "$work" 18381
cat > "$work/fairway.yaml" <<CONF
instances: 1
access-log: off
upstreams: [127.0.0.1:18381]
health: {path: /health}
groups: {sink: {upstreams: [127.0.0.1:18382]}, events: {upstreams: [127.0.0.1:18383]}}
routes: [{path: /upload, group: sink}, {path: /events, group: events}]
CONF
taskset -c 1 nginx -c "$work/backend.conf" & pids+=($!)
# the upload sink reads every byte before it answers (Fairway's demo upstream counts them)
taskset -c 1 java -cp "$root/target/fairway.jar" dev.fairway.demo.DemoServer 127.0.0.1 18382 > "$work/sink.log" 2>&1 & pids+=($!)
events_backend 18383

declare -A pid_of port_of=([fairway]=18392 [fairway-base]=18394)
start_fairway() {   # target jar
  # shellcheck disable=SC2086
  taskset -c "${FAIRWAY_CPUS:-0}" java ${FAIRWAY_JVM_OPTS:-} -jar "$2" -c "$work/fairway.yaml" -p "${port_of[$1]}" --admin-port $((port_of[$1] + 1)) > "$work/$1.log" 2>&1 &
  pids+=($!); pid_of[$1]=$!
}
targets="fairway"
start_fairway fairway "$root/target/fairway.jar"
if [ -n "${BASE_JAR:-}" ]; then targets="fairway-base fairway"; start_fairway fairway-base "$BASE_JAR"; fi
for t in $targets; do await_http "http://127.0.0.1:${port_of[$t]}/health"; done

upload() { taskset -c 1 curl -s -o /dev/null --max-time 300 "${@:2}" -T "$work/big.bin" "http://127.0.0.1:$1/upload"; }
download() { taskset -c 1 curl -s -o /dev/null --max-time 300 "${@:2}" "http://127.0.0.1:$1/big.bin"; }
events() { taskset -c 1 curl -s -o /dev/null --max-time 300 "http://127.0.0.1:$1/events?mib=256"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }

{
  echo "# RSS growth, \`java ${FAIRWAY_JVM_OPTS:-}${FAIRWAY_JVM_OPTS:+ }-jar\` on CPUs ${FAIRWAY_CPUS:-0}, $(date -u), $(nproc) cores, $(java -version 2>&1 | head -1)"
  echo
  echo "| target | RSS at start MiB | after 1 GiB each way MiB | after 100 x 100 MiB each way MiB | 100 s quiet later MiB | peak MiB |"
  echo "|---|---:|---:|---:|---:|---:|"
} | tee "$out"
for t in $targets; do
  port=${port_of[$t]}; pid=${pid_of[$t]}
  start=$(rss_kib "$pid")
  # one warm-up each way: the JIT compiles the streaming path on the first transfer
  upload "$port" >/dev/null; download "$port" >/dev/null; events "$port" >/dev/null
  upload "$port"; upload "$port" -H "Transfer-Encoding: chunked"; download "$port"; events "$port"
  after_gib=$(rss_kib "$pid")
  clients=()
  for _ in $(seq 1 100); do download "$port" -r 0-104857599 & clients+=($!); done
  for c in "${clients[@]}"; do wait "$c" || true; done
  clients=()   # 100 MiB chunked uploads (curl reads them from a pipe)
  for _ in $(seq 1 100); do
    taskset -c 1 sh -c "head -c 104857600 '$work/big.bin' | curl -s -o /dev/null --max-time 300 -T - http://127.0.0.1:$port/upload" &
    clients+=($!)
  done
  for c in "${clients[@]}"; do wait "$c" || true; done
  after_many=$(rss_kib "$pid"); peak=$(hwm_kib "$pid")
  sleep 100   # 60 s of quiet counts from the first check (every 15 s) that sees the last collection
  quiet=$(rss_kib "$pid")
  awk -v t="$t" -v r0="$start" -v r1="$after_gib" -v r2="$after_many" -v r3="$quiet" -v p="$peak" \
    'BEGIN { printf "| %s | %.0f | %.0f | %.0f | %.0f | %.0f |\n", t, r0 / 1024, r1 / 1024, r2 / 1024, r3 / 1024, p / 1024 }' | tee -a "$out"
done
echo | tee -a "$out"
echo "RSS at start: after startup, before any traffic. Growth targets compare the later columns with it." | tee -a "$out"
