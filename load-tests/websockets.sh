#!/usr/bin/env bash
# Scenario 3b: N open WebSockets through each proxy, opened as a browser opens them (offering permessage-deflate),
# each having echoed MESSAGES 1 KiB text messages; the proxy's RSS before and while they are held. Needs nginx, a JDK
# (javac, jcmd) and python3. Loopback only, bounded (120 s to open, 5 s held).
# Usage: [FAIRWAY_JAR=…] [BASE_JAR=…] [BASE_OPTS=…] [MESSAGES=20] [TARGETS="nginx fairway fairway-base"] load-tests/websockets.sh [N]
#   (default 500 WebSockets, under the 512 upstream connections a Fairway instance keeps per upstream; fairway-base runs only with BASE_JAR; BASE_OPTS adds Fairway options to it only, say
#    "--config with-compression.yaml")
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${1:-500}
MESSAGES=${MESSAGES:-20}
TARGETS=${TARGETS:-"nginx fairway${BASE_JAR:+ fairway-base}"}
ulimit -n "$(ulimit -Hn)"
need nginx javac jcmd taskset curl
scratch websockets
out="$here/results/websockets-$(date -u +%Y%m%dT%H%M%SZ).md"
fairway_jar
jar=${FAIRWAY_JAR:-$root/target/fairway.jar}
javac -cp "$jar" -d "$work/hold" "$here/WebSocketHold.java"
hold() { java -XX:+UseSerialGC -cp "$jar:$work/hold" WebSocketHold "$@"; }

taskset -c 1 java -XX:+UseSerialGC -cp "$jar:$work/hold" WebSocketHold 18381 0 > "$work/upstream.log" 2>&1 & pids+=($!)
cat > "$work/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $work/nginx.pid; error_log $work/nginx-error.log;
worker_rlimit_nofile 30000;
events { worker_connections 20000; }
http { access_log off;
  server { listen 127.0.0.1:18390; location / { proxy_pass http://127.0.0.1:18381; proxy_http_version 1.1;
    proxy_set_header Upgrade \$http_upgrade; proxy_set_header Connection "upgrade"; proxy_read_timeout 300s; } } }
CONF
taskset -c 0 nginx -c "$work/nginx.conf" & pids+=($!); nginx_pid=$!
fairway() { # PORT ADMIN_PORT JAR [OPTIONS...]
  local port=$1 admin=$2 jar=$3; shift 3
  taskset -c 0 java ${FAIRWAY_JVM_OPTS:-} -jar "$jar" -p "$port" --admin-port "$admin" -i 1 --access-log off \
    -u 127.0.0.1:18381 "$@" > "$work/fairway-$port.log" 2>&1 & pids+=($!)
}
fairway 18392 18393 "$jar"; fairway_pid=$!
base_pid=
if [ -n "${BASE_JAR:-}" ]; then fairway 18394 18395 "$BASE_JAR" ${BASE_OPTS:-}; base_pid=$!; fi

live_heap() { jcmd "$1" GC.class_histogram | awk '$1 == "Total" {print $3}'; }
{
  echo "# $N WebSockets, $MESSAGES messages each, $(date -u), $(java -version 2>&1 | head -1)"
  echo
  echo "Fairway: \`java ${FAIRWAY_JVM_OPTS:-} -jar ${FAIRWAY_JAR:-target/fairway.jar}\` (its own JVM flags unless given);"
  echo "fairway-base: \`${BASE_JAR:-none}\` ${BASE_OPTS:-}"
  echo
  echo "Each WebSocket is opened as a browser opens it (offering permessage-deflate) and echoes $MESSAGES 1 KiB text"
  echo "messages, one after another, before all $N are held. Fifty are opened and closed first, so that one-off costs are"
  echo "not counted per socket. The extensions column is what the proxy agreed to."
  echo
  echo "| target | RSS before MiB | RSS held MiB | per WebSocket KiB | live heap per WebSocket KiB | extensions |"
  echo "|---|---:|---:|---:|---:|---|"
} | tee "$out"
for t in nginx:18390:$nginx_pid fairway:18392:$fairway_pid fairway-base:18394:$base_pid; do
  IFS=: read -r name port pid <<< "$t"
  [[ " $TARGETS " == *" $name "* ]] || continue
  await_http "http://127.0.0.1:$port/"
  hold 18382 "$port" 50 0 "$MESSAGES" > /dev/null
  jvm=; [[ $name == fairway* ]] && jvm=yes
  [ -n "$jvm" ] && heap_before=$(live_heap "$pid")
  before=$(proc_kib VmRSS "$pid")
  hold 18382 "$port" "$N" 5 "$MESSAGES" > "$work/client.out" 2>&1 & client=$!
  for _ in $(seq 1 1300); do grep -q ready "$work/client.out" && break; sleep 0.1; done
  grep -q ready "$work/client.out" || { echo "$name: the WebSockets did not open:" >&2; tail -5 "$work/client.out" >&2; exit 1; }
  held=$(proc_kib VmRSS "$pid")
  per_heap=-
  [ -n "$jvm" ] && per_heap=$(awk -v b="$heap_before" -v h="$(live_heap "$pid")" -v n="$N" 'BEGIN { printf "%.2f", (h - b) / n / 1024 }')
  extensions=$(sed -n 's/^ready [0-9]* extensions: //p' "$work/client.out")
  wait "$client" || true
  awk -v t="$name" -v b="$before" -v h="$held" -v n="$N" -v l="$per_heap" -v e="$extensions" \
    'BEGIN { printf "| %s | %.0f | %.0f | %.1f | %s | %s |\n", t, b / 1024, h / 1024, (h - b) / n, l, e }' | tee -a "$out"
  sleep 2 # the held sockets close
done
