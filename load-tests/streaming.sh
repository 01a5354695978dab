#!/usr/bin/env bash
# Scenario 2: a 1 GiB upload and a 1 GiB download through nginx, HAProxy and Fairway (default heap and
# -Xmx64m) in front of the same nginx backend; MB/s each way and each proxy's peak RSS. Then 64 MiB of 256-byte
# server-sent events, each its own chunk, from a Python backend: MB/s and the proxy's CPU per MiB relayed. Pinning as
# in run.sh: proxy on CPU 0, backends and curl on CPU 1. Loopback only; each transfer is bounded by curl --max-time.
#
# Each target gets one warm-up transfer each way, then ROUNDS measured ones (median).
# Needs: nginx, haproxy, curl (apt-get install -y nginx haproxy curl). Usage: ROUNDS=3 load-tests/streaming.sh
# (FW_OPTS="-D..." passes JVM options to both Fairways, for A/B runs; BASE_JAR=/path/to/other/fairway.jar adds
# fairway-base, that build at its default heap, e.g. the build before a change.)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
FW_OPTS=${FW_OPTS:-}
ROUNDS=${ROUNDS:-3}
scratch stream
out="$here/results/streaming-$(date -u +%Y%m%dT%H%M%SZ).md"
need nginx haproxy curl taskset python3
fairway_jar


big_file_backend "$work" 18181
cat > "$work/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $work/nginx.pid; error_log $work/nginx-error.log;
events { worker_connections 1024; }
http { access_log off;
  server { listen 127.0.0.1:18190; client_max_body_size 0;
    location / { proxy_pass http://127.0.0.1:18181; proxy_http_version 1.1; proxy_set_header Connection "";
                 proxy_buffering off; proxy_request_buffering off; }
    location /upload { proxy_pass http://127.0.0.1:18182; proxy_http_version 1.1; proxy_set_header Connection "";
                 proxy_buffering off; proxy_request_buffering off; }
    location /events { proxy_pass http://127.0.0.1:18183; proxy_http_version 1.1; proxy_set_header Connection "";
                 proxy_buffering off; } } }
CONF
cat > "$work/haproxy.cfg" <<CONF
global
  nbthread 1
defaults
  mode http
  timeout connect 60s
  timeout client 1800s
  timeout server 1800s
frontend fe
  bind 127.0.0.1:18191
  acl upload path_beg /upload
  acl events path_beg /events
  use_backend sink if upload
  use_backend events if events
  default_backend be
backend be
  server s1 127.0.0.1:18181
backend sink
  server s2 127.0.0.1:18182
backend events
  server s3 127.0.0.1:18183
CONF
# Fairway: the same split, with an upstream group for the upload sink
cat > "$work/fairway.yaml" <<CONF
instances: 1
access-log: off
upstreams: [127.0.0.1:18181]
health: {path: /health}
groups: {sink: {upstreams: [127.0.0.1:18182]}, events: {upstreams: [127.0.0.1:18183]}}
routes: [{path: /upload, group: sink}, {path: /events, group: events}]
CONF
taskset -c 1 nginx -c "$work/backend.conf" & pids+=($!)
events_backend 18183
# the upload sink reads every byte before it answers (Fairway's demo upstream counts them)
taskset -c 1 java -cp "$root/target/fairway.jar" dev.fairway.demo.DemoServer 127.0.0.1 18182 > "$work/sink.log" 2>&1 & pids+=($!)
taskset -c 0 nginx -c "$work/nginx.conf" & pids+=($!); nginx_pid=$!
taskset -c 0 haproxy -f "$work/haproxy.cfg" -db & pids+=($!); haproxy_pid=$!
taskset -c 0 java $FW_OPTS -jar "$root/target/fairway.jar" -c "$work/fairway.yaml" -p 18192 --admin-port 18193 \
  > "$work/fairway.log" 2>&1 & pids+=($!); fairway_pid=$!
taskset -c 0 java -Xmx64m $FW_OPTS -jar "$root/target/fairway.jar" -c "$work/fairway.yaml" -p 18194 --admin-port 18195 \
  > "$work/fairway64.log" 2>&1 & pids+=($!); fairway64_pid=$!

targets="direct nginx haproxy fairway fairway-64m"
base_pid=""
if [ -n "${BASE_JAR:-}" ]; then
  # shellcheck disable=SC2086
  taskset -c 0 java $FW_OPTS -jar "$BASE_JAR" -c "$work/fairway.yaml" -p 18196 --admin-port 18197 \
    > "$work/fairway-base.log" 2>&1 & pids+=($!); base_pid=$!
  targets="direct nginx haproxy fairway-base fairway fairway-64m"
fi

port_of() { case $1 in direct) echo 18181;; nginx) echo 18190;; haproxy) echo 18191;; fairway) echo 18192;; fairway-64m) echo 18194;; fairway-base) echo 18196;; esac; }
pid_of() { case $1 in nginx) echo "$nginx_pid";; haproxy) echo "$haproxy_pid";; fairway) echo "$fairway_pid";; fairway-64m) echo "$fairway64_pid";; fairway-base) echo "$base_pid";; *) echo "";; esac; }
for t in $targets; do
  for _ in $(seq 1 100); do curl -sf -o /dev/null -r 0-0 "http://127.0.0.1:$(port_of "$t")/big.bin" && break; sleep 0.1; done
done

{
  echo "# Streaming 1 GiB each way, $(date -u), $(nproc) cores; one warm-up transfer each way, then medians of $ROUNDS"
  echo
  echo "| target | upload MB/s | download MB/s | peak RSS MiB | 256-byte SSE MB/s | SSE CPU ms per MiB |"
  echo "|---|---:|---:|---:|---:|---:|"
} | tee "$out"
transfer() {   # one upload and one download through target $1; prints "up_bytes_per_s down_bytes_per_s"
  local port upport up down
  port=$(port_of "$1")
  upport=$([ "$1" = direct ] && echo 18182 || echo "$port")
  up=$(taskset -c 1 curl -s -o /dev/null --max-time 120 -H "Transfer-Encoding: chunked" -T "$work/big.bin" \
    -w '%{speed_upload} %{size_upload} %{http_code}' "http://127.0.0.1:$upport/upload")
  down=$(taskset -c 1 curl -s -o /dev/null --max-time 120 -w '%{speed_download} %{size_download} %{http_code}' "http://127.0.0.1:$port/big.bin")
  echo "  $1: upload $up; download $down (bytes/s, bytes, status)" >> "$out.raw"
  echo "${up%% *} ${down%% *}"
}
# events TARGET: 64 MiB of chunked 256-byte events through it; prints "bytes_per_s cpu_ms_per_mib" (the proxy's CPU)
events() {
  local pid t0 t1 got
  pid=$(pid_of "$1")
  t0=$([ -n "$pid" ] && cpu_ticks "$pid" || echo 0)
  got=$(taskset -c 1 curl -s -o /dev/null --max-time 120 -w '%{speed_download} %{size_download} %{http_code}' \
    "http://127.0.0.1:$(events_port "$1")/events?mib=64&chunked=1")
  t1=$([ -n "$pid" ] && cpu_ticks "$pid" || echo 0)
  echo "  $1: events $got, CPU ticks $((t1 - t0))" >> "$out.raw"
  awk -v s="${got%% *}" -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { print s, t * 1000 / hz / 64 }'
}
events_port() { [ "$1" = direct ] && echo 18183 || port_of "$1"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for t in $targets; do
  echo "  $t warm-up:" >> "$out.raw"
  transfer "$t" > /dev/null   # the JVM's JIT compiles the streaming path on the first GiB (a cold Fairway uploads ~3x slower)
  : > "$work/rates"
  for _ in $(seq 1 "$ROUNDS"); do transfer "$t" >> "$work/rates"; done
  up=$(cut -d' ' -f1 "$work/rates" | median); down=$(cut -d' ' -f2 "$work/rates" | median)
  events "$t" > /dev/null # warm-up
  : > "$work/events"
  for _ in $(seq 1 "$ROUNDS"); do events "$t" >> "$work/events"; done
  sse=$(cut -d' ' -f1 "$work/events" | median); sse_cpu=$(cut -d' ' -f2 "$work/events" | median)
  pid=$(pid_of "$t")
  rss=$([ -n "$pid" ] && echo $(($(proc_kib VmHWM "$pid") / 1024)) || echo "-")
  awk -v t="$t" -v up="$up" -v down="$down" -v rss="$rss" -v sse="$sse" -v cpu="$sse_cpu" -v direct="$([ "$t" = direct ] && echo 1)" \
    'BEGIN { printf "| %s | %.0f | %.0f | %s | %.0f | %s |\n", t, up / 1e6, down / 1e6, rss, sse / 1e6, direct ? "-" : sprintf("%.1f", cpu) }' | tee -a "$out"
done
