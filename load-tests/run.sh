#!/usr/bin/env bash
# Side-by-side throughput benchmark: direct (the ceiling), nginx, HAProxy and Fairway in front of the same
# nginx backend (3 ports, 1 KiB responses), HTTP/1.1 keep-alive, alternating targets over several rounds.
#
# Needs (installs nothing itself): nginx, haproxy, wrk   ->  apt-get install -y nginx haproxy wrk
# Pinning on a 2-core machine: the proxy under test runs alone on CPU 0 (taskset -c 0; nginx and HAProxy with one
# worker/thread, Fairway with -i 1); the backend and wrk share CPU 1.
# Traffic stays on 127.0.0.1. Every run is bounded: ROUNDS x targets x connection counts x DURATION, plus the warm-ups.
#
# Writes results/<run>.txt (raw), .md (medians and ratios) and .svg (chart of requests/s and p99).
# Usage: load-tests/run.sh            (ROUNDS=5 DURATION=10 CONNS="50 500" WARMUP=20 by default: seconds of load each
#                                      JVM target gets at each connection count before the rounds)
#        ROUNDS=3 DURATION=5 load-tests/run.sh
#        TARGETS="nginx fairway-bare fairway fairway-log" load-tests/run.sh   (cost of observability:
#          fairway-bare: no access log, no per-request metrics; fairway: metrics; fairway-log: metrics and access log;
#          nginx-log: nginx with its access log on, for comparison)
#        TARGETS="nginx vertx-pipe fairway-bare fairway" load-tests/run.sh   (vertx-pipe: load-tests/VertxPipe.java,
#          the least a proxy on Vert.x's core HTTP server and client does: what Vert.x itself costs, next to Fairway)
#        TARGETS="nginx netty-pipe vertx-pipe fairway" load-tests/run.sh   (netty-pipe: load-tests/NettyPipe.java, a
#          proxy straight on Netty's HTTP codecs with no features: what the JVM and Netty cost, under Vert.x)
#        TARGETS="nginx raw-pipe netty-pipe fairway" load-tests/run.sh   (raw-pipe: load-tests/RawPipe.java, a proxy on
#          Netty with no HTTP codec that passes each request's and response's bytes as they came: the floor on Netty)
#        TARGETS="nginx vertx-http-proxy fairway" load-tests/run.sh   (vertx-http-proxy: load-tests/VertxHttpProxy.java,
#          the Web Proxy library's HttpProxy at the BOM's version, with X-Forwarded-* on, fetched through Maven)
#        TARGETS="nginx fairway-vertx fairway" load-tests/run.sh   (fairway-vertx: the same build with --no-direct-http1,
#          every request through Vert.x's HTTP/1 server, next to Fairway's own HTTP/1.1 path, the default)
#        TARGETS="nginx fairway fairway-cluster" load-tests/run.sh   (fairway-cluster: one node of a three-node cluster,
#          started with --cluster on loopback; the load goes to that node, the other two run on CPU 1)
#        BASE_JAR=/path/to/other/fairway.jar TARGETS="nginx fairway-base fairway" load-tests/run.sh   (two builds
#          side by side: fairway-base runs BASE_JAR with the same flags as fairway, e.g. the build before a change;
#          BASE_JVM_OPTS gives it other flags: BASE_JAR=target/fairway.jar BASE_JVM_OPTS="-XX:+UseParallelGC -Xmx256m"
#          FAIRWAY_JVM_OPTS=" " compares Fairway's own JVM defaults, a bare java -jar, with those flags; BASE_JAVA runs it
#          on another Java: BASE_JAR=target/fairway.jar BASE_JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java)
# Each round starts one target further along the list, so no target always runs right after the same other one.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}
CONNS=${CONNS:-"50 500"}
WARMUP=${WARMUP:-20}
TARGETS=${TARGETS:-"direct nginx haproxy fairway"}
FAIRWAY_JVM_OPTS=${FAIRWAY_JVM_OPTS:-$THROUGHPUT_JVM_OPTS}
scratch bench
out="$here/results/$(date -u +%Y%m%dT%H%M%SZ).txt"

need nginx haproxy wrk taskset python3 curl
fairway_jar

backend_conf "$work/backend.conf" 18081 18082 18083
nginx_proxy_conf "$work/nginx.conf" 127.0.0.1:18090 18081 18082 18083
# nginx-log: the same nginx with its access log on, to a file: what a log costs nginx, next to Fairway's
sed -e "s#access_log off;#access_log $work/nginx-access.log combined;#" -e "s#18090#18098#" -e "s#nginx.pid#nginx-log.pid#" \
  "$work/nginx.conf" > "$work/nginx-log.conf"
haproxy_conf "$work/haproxy.cfg" 127.0.0.1:18091 18081 18082 18083

taskset -c 1 nginx -c "$work/backend.conf" & pids+=($!)
declare -A pid_of   # target -> process to measure (nginx: the master; its worker is a child)
taskset -c 0 nginx -c "$work/nginx.conf" & pids+=($!); pid_of[nginx]=$!
if [[ " $TARGETS " == *" nginx-log "* ]]; then taskset -c 0 nginx -c "$work/nginx-log.conf" & pids+=($!); pid_of[nginx-log]=$!; fi
taskset -c 0 haproxy -f "$work/haproxy.cfg" -db & pids+=($!); pid_of[haproxy]=$!
# shellcheck disable=SC2086
taskset -c 0 java $FAIRWAY_JVM_OPTS -jar "$root/target/fairway.jar" -p 18092 --admin-port 18093 -i 1 \
  -u 127.0.0.1:18081 -u 127.0.0.1:18082 -u 127.0.0.1:18083 --access-log off > "$work/fairway.log" 2>&1 & pids+=($!)
fairway_pid=$!; pid_of[fairway]=$!
if [[ " $TARGETS " == *" fairway-vertx "* ]]; then
  # the same Fairway with its own HTTP/1.1 path off (--no-direct-http1): every request through Vert.x's server
  # shellcheck disable=SC2086
  taskset -c 0 java $FAIRWAY_JVM_OPTS -jar "$root/target/fairway.jar" -p 18104 --admin-port 18105 -i 1 --no-direct-http1 \
    -u 127.0.0.1:18081 -u 127.0.0.1:18082 -u 127.0.0.1:18083 --access-log off > "$work/fairway-vertx.log" 2>&1 &
  pids+=($!); pid_of[fairway-vertx]=$!
fi
if [[ " $TARGETS " == *" fairway-log "* ]]; then
  # the cost of observability: the same Fairway with the access log on, to a file
  # shellcheck disable=SC2086
  taskset -c 0 java $FAIRWAY_JVM_OPTS -jar "$root/target/fairway.jar" -p 18094 --admin-port 18095 -i 1 \
    -u 127.0.0.1:18081 -u 127.0.0.1:18082 -u 127.0.0.1:18083 --access-log "$work/access.log" > "$work/fairway-log.log" 2>&1 &
  pids+=($!); pid_of[fairway-log]=$!
fi
if [[ " $TARGETS " == *" fairway-bare "* ]]; then
  # and with neither access log nor per-request metrics: the baseline of that comparison
  # shellcheck disable=SC2086
  taskset -c 0 java $FAIRWAY_JVM_OPTS -jar "$root/target/fairway.jar" -p 18096 --admin-port 18097 -i 1 \
    -u 127.0.0.1:18081 -u 127.0.0.1:18082 -u 127.0.0.1:18083 --access-log off --no-metrics > "$work/fairway-bare.log" 2>&1 &
  pids+=($!); pid_of[fairway-bare]=$!
fi

if [[ " $TARGETS " == *" fairway-base "* ]]; then
  [ -f "${BASE_JAR:-}" ] || { echo "fairway-base needs BASE_JAR, the jar of the build to compare with" >&2; exit 2; }
  # shellcheck disable=SC2086
  taskset -c 0 "${BASE_JAVA:-java}" ${BASE_JVM_OPTS:-$FAIRWAY_JVM_OPTS} -jar "$BASE_JAR" -p 18100 --admin-port 18101 -i 1 \
    -u 127.0.0.1:18081 -u 127.0.0.1:18082 -u 127.0.0.1:18083 --access-log off > "$work/fairway-base.log" 2>&1 &
  pids+=($!); pid_of[fairway-base]=$!
fi

if [[ " $TARGETS " == *" fairway-cluster "* ]]; then
  # three nodes of one cluster on loopback; the measured one alone on CPU 0, like the others under test
  for n in 1 2 3; do
    others=$(for m in 1 2 3; do [ "$m" = "$n" ] || printf '127.0.0.1:%s,' $((18110 + m)); done)
    cpu=$([ "$n" = 1 ] && echo 0 || echo 1)
    # shellcheck disable=SC2086
    taskset -c "$cpu" java $FAIRWAY_JVM_OPTS -jar "$root/target/fairway.jar" -p $((18101 + n * 2)) --admin-port $((18102 + n * 2)) -i 1 \
      -u 127.0.0.1:18081 -u 127.0.0.1:18082 -u 127.0.0.1:18083 --access-log off \
      --cluster-host 127.0.0.1 --cluster-port $((18110 + n)) --cluster-members "${others%,}" > "$work/fairway-cluster-$n.log" 2>&1 &
    pids+=($!)
    if [ "$n" = 1 ]; then pid_of[fairway-cluster]=$!; fi
  done
fi

if [[ " $TARGETS " == *" vertx-pipe "* ]]; then
  # shellcheck disable=SC2086
  taskset -c 0 java $FAIRWAY_JVM_OPTS -cp "$root/target/fairway.jar" "$here/VertxPipe.java" 18099 18081 18082 18083 \
    > "$work/vertx-pipe.log" 2>&1 & pids+=($!); pid_of[vertx-pipe]=$!
fi

if [[ " $TARGETS " == *" netty-pipe "* ]]; then
  # shellcheck disable=SC2086
  taskset -c 0 java $FAIRWAY_JVM_OPTS -cp "$root/target/fairway.jar" "$here/NettyPipe.java" 18121 18081 18082 18083 \
    > "$work/netty-pipe.log" 2>&1 & pids+=($!); pid_of[netty-pipe]=$!
fi

if [[ " $TARGETS " == *" raw-pipe "* ]]; then
  # shellcheck disable=SC2086
  taskset -c 0 java $FAIRWAY_JVM_OPTS -cp "$root/target/fairway.jar" "$here/RawPipe.java" 18122 18081 18082 18083 \
    > "$work/raw-pipe.log" 2>&1 & pids+=($!); pid_of[raw-pipe]=$!
fi

if [[ " $TARGETS " == *" vertx-http-proxy "* ]]; then
  # shellcheck disable=SC2086
  taskset -c 0 java $FAIRWAY_JVM_OPTS -cp "$root/target/fairway.jar:$(http_proxy_jar)" "$here/VertxHttpProxy.java" 18120 18081 18082 18083 \
    > "$work/vertx-http-proxy.log" 2>&1 & pids+=($!); pid_of[vertx-http-proxy]=$!
fi

port_of() { case $1 in direct) echo 18081;; vertx-pipe) echo 18099;; vertx-http-proxy) echo 18120;; netty-pipe) echo 18121;; raw-pipe) echo 18122;; nginx) echo 18090;; haproxy) echo 18091;; fairway) echo 18092;; fairway-log) echo 18094;; fairway-bare) echo 18096;; nginx-log) echo 18098;; fairway-base) echo 18100;; fairway-cluster) echo 18103;; fairway-vertx) echo 18104;; esac; }
for t in $TARGETS; do
  await_http "http://127.0.0.1:$(port_of "$t")/"
done
# JIT warm-up for each JVM target at each connection count (its compiler shares the proxy's CPU here, and was still
# compiling after 10 s at 50 connections: p99 30 ms in its first 8 s under load, 4.3 in the next, 1.1-2.1 from the
# fourth on), then a short warm-up for every target
for t in $TARGETS; do
  case $t in fairway*|vertx-*|*-pipe)
    for c in $CONNS; do taskset -c 1 wrk -t1 -c"$c" -d"${WARMUP}s" "http://127.0.0.1:$(port_of "$t")/" >/dev/null; done;;
  esac
done
for t in $TARGETS; do taskset -c 1 wrk -t1 -c50 -d2s "http://127.0.0.1:$(port_of "$t")/" >/dev/null; done

{
  echo "# $(date -u) rounds=$ROUNDS duration=${DURATION}s conns=[$CONNS] fairway_jvm=[$FAIRWAY_JVM_OPTS]${BASE_JAR:+ base_jvm=[${BASE_JVM_OPTS:-$FAIRWAY_JVM_OPTS}]}${BASE_JAVA:+ base_java=[$("$BASE_JAVA" -version 2>&1 | head -1)]}"
  echo "# $(nproc) cores, $(uname -r), $(java -version 2>&1 | head -1), $(nginx -v 2>&1), $(haproxy -v | head -1)"
} | tee "$out"
hz=$(getconf CLK_TCK)
read -ra target_list <<< "$TARGETS"
for round in $(seq 1 "$ROUNDS"); do
  # rotate: round r starts at target r (a target that always ran after the same other one would inherit its wake:
  # a JIT compile or GC finishing on the shared CPU, the backend's connections being replaced)
  shift_by=$(( (round - 1) % ${#target_list[@]} ))
  order=("${target_list[@]:shift_by}" "${target_list[@]:0:shift_by}")
  for c in $CONNS; do
    for t in "${order[@]}"; do
      pid=${pid_of[$t]:-}
      before=$([ -n "$pid" ] && cpu_ticks "$pid" || echo 0)
      before_user=$([ -n "$pid" ] && cpu_ticks "$pid" user || echo 0)
      line=$(taskset -c 1 wrk -t1 -c"$c" -d"${DURATION}s" -s "$here/percentiles.lua" "http://127.0.0.1:$(port_of "$t")/" | grep '^RESULT')
      cpu=""
      if [ -n "$pid" ]; then   # the proxy's CPU time per request, in microseconds: steadier than req/s on a busy machine
        # (and of it, the time in user space: what the proxy's own code and libraries take, the kernel's work aside)
        cpu=$(awk -v a="$before" -v b="$(cpu_ticks "$pid")" -v ua="$before_user" -v ub="$(cpu_ticks "$pid" user)" \
          -v hz="$hz" -v d="$DURATION" -v l="$line" 'BEGIN { match(l, /rps=[0-9]+/); r = substr(l, RSTART + 4, RLENGTH - 4)
            if (r > 0) printf " cpu_us=%.2f user_us=%.2f", (b - a) * 1e6 / hz / (r * d), (ub - ua) * 1e6 / hz / (r * d) }')
      fi
      echo "round=$round conns=$c target=$t ${line#RESULT }$cpu" | tee -a "$out"
    done
  done
done
for t in $TARGETS; do
  [ -n "${pid_of[$t]:-}" ] && echo "peak_rss_kib target=$t $(proc_kib VmHWM "${pid_of[$t]}")" | tee -a "$out"
done
python3 "$here/summarize.py" "$out" | tee "${out%.txt}.md"
