#!/usr/bin/env bash
# Scenario 3: 10,000 idle keep-alive client connections held open through each proxy; the proxy's RSS
# before and while they are held. Needs nginx, haproxy, wrk, python3 and a JDK (jcmd). Loopback only, bounded (120 s to open, SETTLE + 6 s held).
# Usage: [FAIRWAY_JAR=…] [BASE_JAR=…] [FAIRWAY_JVM_OPTS=…] [TARGETS="nginx haproxy fairway"] [SETTLE=4] load-tests/idle.sh [N]
#   (default 9000: HAProxy needs two descriptors per connection and a 20,000-descriptor limit is common;
#    TARGETS="nginx fairway" load-tests/idle.sh 10000 for the full 10,000 without HAProxy;
#    TARGETS="nginx netty-pipe fairway" adds load-tests/NettyPipe.java, a proxy on Netty's HTTP codecs with no
#    features, under Fairway's JVM flags: what the JVM and Netty hold per connection before any of Fairway's or Vert.x's;
#    raw-pipe adds load-tests/RawPipe.java, a proxy on Netty without an HTTP codec: Netty's channel and one handler;
#    fairway-vertx is the same jar with --no-direct-http1 (Vert.x's server holds the connections from their accept);
#    BASE_JAR adds fairway-base, another build under the same flags)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${1:-9000}
SETTLE=${SETTLE:-4}
TARGETS=${TARGETS:-"nginx haproxy fairway${BASE_JAR:+ fairway-base}"}
ulimit -n "$(ulimit -Hn)"
need nginx haproxy wrk python3 jcmd javac taskset
scratch idle
out="$here/results/idle-$(date -u +%Y%m%dT%H%M%SZ).md"
fairway_jar

cat > "$work/backend.conf" <<CONF
worker_processes 1; daemon off; pid $work/backend.pid; error_log $work/backend-error.log;
worker_rlimit_nofile 30000;
events { worker_connections 20000; }
http { access_log off; server { listen 127.0.0.1:18281; location / { return 200 "ok\n"; } } }
CONF
cat > "$work/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $work/nginx.pid; error_log $work/nginx-error.log;
worker_rlimit_nofile 30000;
events { worker_connections 20000; }
http { access_log off; keepalive_timeout 300s; keepalive_requests 100000;
  upstream b { server 127.0.0.1:18281; keepalive 64; }
  server { listen 127.0.0.1:18290; location / { proxy_pass http://b; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
CONF
cat > "$work/haproxy.cfg" <<CONF
global
  nbthread 1
  maxconn 9500
defaults
  mode http
  maxconn 9500
  timeout connect 60s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s
frontend fe
  bind 127.0.0.1:18291
  default_backend be
backend be
  server s1 127.0.0.1:18281
CONF
taskset -c 1 nginx -c "$work/backend.conf" & pids+=($!)
taskset -c 0 nginx -c "$work/nginx.conf" & pids+=($!); nginx_pid=$!
taskset -c 0 haproxy -f "$work/haproxy.cfg" -db & pids+=($!); haproxy_pid=$!
pipe_pid=
if [[ " $TARGETS " == *" netty-pipe "* ]]; then # compiled first, so that javac's memory is not in its RSS
  javac -cp "${FAIRWAY_JAR:-$root/target/fairway.jar}" -d "$work/pipe" "$here/NettyPipe.java"
  taskset -c 0 java -XX:+UseSerialGC -Xms32m -Xmn16m -cp "${FAIRWAY_JAR:-$root/target/fairway.jar}:$work/pipe" NettyPipe \
    18294 18281 > "$work/netty-pipe.log" 2>&1 & pids+=($!); pipe_pid=$!
fi
raw_pid=
if [[ " $TARGETS " == *" raw-pipe "* ]]; then
  javac -cp "${FAIRWAY_JAR:-$root/target/fairway.jar}" -d "$work/raw" "$here/RawPipe.java"
  taskset -c 0 java -XX:+UseSerialGC -Xms32m -Xmn16m -cp "${FAIRWAY_JAR:-$root/target/fairway.jar}:$work/raw" RawPipe \
    18295 18281 > "$work/raw-pipe.log" 2>&1 & pids+=($!); raw_pid=$!
fi
taskset -c 0 java ${FAIRWAY_JVM_OPTS:--XX:+UseSerialGC} -jar "${FAIRWAY_JAR:-$root/target/fairway.jar}" -p 18292 --admin-port 18293 -i 1 --access-log off \
  -u 127.0.0.1:18281 > "$work/fairway.log" 2>&1 & pids+=($!); fairway_pid=$!
vertx_pid=
if [[ " $TARGETS " == *" fairway-vertx "* ]]; then
  taskset -c 0 java ${FAIRWAY_JVM_OPTS:--XX:+UseSerialGC} -jar "${FAIRWAY_JAR:-$root/target/fairway.jar}" --no-direct-http1 \
    -p 18298 --admin-port 18299 -i 1 --access-log off -u 127.0.0.1:18281 > "$work/fairway-vertx.log" 2>&1 & pids+=($!); vertx_pid=$!
fi
base_pid=
if [ -n "${BASE_JAR:-}" ]; then
  taskset -c 0 java ${FAIRWAY_JVM_OPTS:--XX:+UseSerialGC} -jar "$BASE_JAR" -p 18296 --admin-port 18297 -i 1 --access-log off \
    -u 127.0.0.1:18281 > "$work/fairway-base.log" 2>&1 & pids+=($!); base_pid=$!
fi

# Bytes of live objects on a JVM's heap (the histogram runs a full GC first).
live_heap() { jcmd "$1" GC.class_histogram | awk '$1 == "Total" {print $3}'; }
# Holds N connections; prints the proxy's RSS (KiB) as the last one got its response and again after SETTLE seconds
# held idle (and with 'heap', then saves its live heap).
hold_connections() { local port=$1 pid=$2 held idle
  taskset -c 1 python3 "$here/idle-connections.py" "$port" "$N" $((SETTLE + 6)) > "$work/client.out" 2>&1 &
  local client=$!
  for _ in $(seq 1 1200); do grep -q ready "$work/client.out" && break; sleep 0.1; done
  held=$(proc_kib VmRSS "$pid")
  sleep "$SETTLE"
  idle=$(proc_kib VmRSS "$pid")
  [ "${3:-}" = heap ] && live_heap "$pid" > "$work/heap-held"
  wait "$client" || true
  for _ in $(seq 1 100); do
    [ "$(ss -Htn state established "( sport = :$port )" | wc -l)" -eq 0 ] && break; sleep 0.1; done
  echo "$held $idle"
}
{
  echo "# $N idle keep-alive connections, $(date -u), $(java -version 2>&1 | head -1)"
  echo
  echo "Fairway: \`java ${FAIRWAY_JVM_OPTS:--XX:+UseSerialGC} -jar ${FAIRWAY_JAR:-target/fairway.jar}\`${BASE_JAR:+; fairway-base: \`$BASE_JAR\`}"
  echo
  echo "Each proxy first serves 3 s of traffic (wrk, 10 connections), so that a JVM's one-off costs (JIT, first touch"
  echo "of its young generation) are not counted per connection; then N connections are opened and held. A JVM's live"
  echo "heap is what a full GC leaves, before and while they are held. RSS is read $SETTLE s after that full GC (before),"
  echo "as the last connection got its response (held: with what opening them left, such as the JIT's compiler memory"
  echo "and garbage not yet collected), and after they were held idle for $SETTLE s (idle: the figure that stays)."
  echo
  echo "| target | RSS before MiB | RSS held MiB | per connection KiB | RSS idle MiB | per connection, idle KiB | live heap per connection KiB |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
} | tee "$out"
for t in nginx:18290:$nginx_pid haproxy:18291:$haproxy_pid netty-pipe:18294:$pipe_pid raw-pipe:18295:$raw_pid fairway:18292:$fairway_pid \
  fairway-vertx:18298:$vertx_pid fairway-base:18296:$base_pid; do
  IFS=: read -r name port pid <<< "$t"
  [[ " $TARGETS " == *" $name "* ]] || continue
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
  taskset -c 1 wrk -t1 -c10 -d3s "http://127.0.0.1:$port/" > /dev/null
  jvm=; case $name in fairway*|netty-pipe|raw-pipe) jvm=heap;; esac
  [ -n "$jvm" ] && heap_before=$(live_heap "$pid") # first: its full GC may give memory back
  sleep "$SETTLE" # a JVM gives back freed native memory about once a second (Fairway's JVM flags)
  before=$(proc_kib VmRSS "$pid")
  read -r held idle <<< "$(hold_connections "$port" "$pid" "$jvm")"
  per_heap=-
  [ -n "$jvm" ] && per_heap=$(awk -v b="$heap_before" -v h="$(cat "$work/heap-held")" -v n="$N" 'BEGIN { printf "%.2f", (h - b) / n / 1024 }')
  awk -v t="$name" -v b="$before" -v h="$held" -v i="$idle" -v n="$N" -v l="$per_heap" \
    'BEGIN { printf "| %s | %.0f | %.0f | %.1f | %.0f | %.1f | %s |\n", t, b / 1024, h / 1024, (h - b) / n, i / 1024, (i - b) / n, l }' \
    | tee -a "$out"
done
