#!/usr/bin/env bash
# Heap allocated per request and per relayed MiB, counted exactly, by class. CPU per request moves 10-20 % with
# whatever else a shared machine runs; the objects a request allocates do not, so this is the figure to compare
# builds by when a change is meant to make fewer of them.
#
# Fairway runs with TLABs off (every allocation lands in one shared eden, so no filler arrays are counted) and a
# young generation no load here fills, so nothing is collected while it is measured. A class histogram of every
# object, reachable or not (`jcmd GC.class_histogram -all`), before and after the load; the difference per request
# (from Fairway's own request counter) or per MiB relayed is what the load allocated.
#
# Loads: wrk's small GET (one header), the same GET with a browser's eight headers, both 1 KiB responses from nginx;
# per relayed MiB, 64 MiB of 256-byte server-sent events (each written on its own by a Python backend), a 1 GiB
# download from nginx, and 1 GiB uploads into Fairway's demo upstream with Content-Length and chunked.
# Needs nginx, wrk, python3, curl and a JDK (jcmd). Loopback only; bounded (12 s of warm-up, 3 s of wrk per load, 128 MiB of events, 2 GiB of each transfer).
# Usage: [BASE_JAR=other.jar] [NETTY_PIPE=1] [TOP=15] load-tests/alloc.sh
#   BASE_JAR: the same loads on another build, after. NETTY_PIPE=1: the SSE load also through load-tests/NettyPipe.java
#   (a proxy on Netty's HTTP codecs with no features), what Netty's codecs allocate per relayed chunk on their own.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need nginx wrk python3 curl jcmd javac taskset
TOP=${TOP:-15}
scratch alloc
out="$here/results/alloc-$(date -u +%Y%m%dT%H%M%SZ).md"
fairway_jar

backend_conf "$work/backend.conf" 18481
taskset -c 1 nginx -c "$work/backend.conf" & pids+=($!)
events_backend 18482
mkdir "$work/files"
chmod 755 "$work"   # nginx's workers run unprivileged and must reach the file
big_file_backend "$work/files" 18483
taskset -c 1 nginx -c "$work/files/backend.conf" & pids+=($!)
# the upload sink reads every byte before it answers (Fairway's demo upstream counts them)
taskset -c 1 java -cp "$root/target/fairway.jar" dev.fairway.demo.DemoServer 127.0.0.1 18484 > "$work/sink.log" 2>&1 & pids+=($!)
cat > "$work/fairway.yaml" <<CONF
instances: 1
access-log: off
upstreams: [127.0.0.1:18481]
groups: {events: {upstreams: [127.0.0.1:18482]}, files: {upstreams: [127.0.0.1:18483]}, sink: {upstreams: [127.0.0.1:18484]}}
routes: [{path: /events, group: events}, {path: /big.bin, group: files}, {path: /upload, group: sink}]
CONF

BROWSER=(-H "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
  -H "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" -H "Accept-Language: en-GB,en;q=0.9"
  -H "Accept-Encoding: gzip, deflate, br" -H "Cookie: session=3f6c1e0b9a7d4e2f8c5b; theme=dark"
  -H "Referer: http://127.0.0.1/docs/" -H "Cache-Control: max-age=0" -H "Upgrade-Insecure-Requests: 1")

# stream PORT HOW: 64 MiB of SSE (events), or 1 GiB down (download) or up (upload, with any extra curl flags)
stream() {
  local port=$1 how=$2
  case $how in
    events) taskset -c 1 curl -sf -o /dev/null --max-time 300 "http://127.0.0.1:$port/events?mib=64" ;;
    chunked-events) taskset -c 1 curl -sf -o /dev/null --max-time 300 "http://127.0.0.1:$port/events?mib=64&chunked=1" ;;
    download) taskset -c 1 curl -sf -o /dev/null --max-time 300 "http://127.0.0.1:$port/big.bin" ;;
    upload*) # shellcheck disable=SC2086
      taskset -c 1 curl -sf -o /dev/null --max-time 300 ${how#upload} -T "$work/files/big.bin" "http://127.0.0.1:$port/upload" ;;
  esac
}
requests() { curl -s "http://127.0.0.1:$1/metrics" | awk '/^fairway_requests_total/ { n += $NF } END { printf "%.0f\n", n }'; }
histogram() { jcmd "$1" GC.class_histogram -all > "$2"; }
# per_unit BEFORE AFTER UNITS LABEL: the histogram difference per unit, as one table row and the top classes
per_unit() {
  python3 - "$@" "$TOP" <<'PY'
import re, sys
def load(path):
    rows = {}
    for line in open(path):
        p = line.split()
        if len(p) >= 4 and p[0].endswith(':'):
            name = re.sub(r'\$\$Lambda\$.*', '$$Lambda', p[3])  # lambda classes: numbered anew in each JVM
            n, b = rows.get(name, (0, 0))
            rows[name] = (n + int(p[1]), b + int(p[2]))
    return rows
before, after, units, label, top = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3]), sys.argv[4], int(sys.argv[5])
diff = sorted(((b - before.get(k, (0, 0))[1], n - before.get(k, (0, 0))[0], k) for k, (n, b) in after.items()), reverse=True)
total_b = sum(d[0] for d in diff) / units
total_n = sum(d[1] for d in diff) / units
# body chunks relayed: Netty's HTTP decoders make one content object per chunk they pass on
chunks = sum(n for b, n, k in diff if k == 'io.netty.handler.codec.http.DefaultHttpContent') / units
per_chunk = f"{chunks:.0f} ({total_b / chunks:,.0f} B each)" if chunks >= 1 else "-"
print(f"| {label} | {total_b:,.0f} | {total_n:.1f} | {per_chunk} | " + ", ".join(f"{k.split('.')[-1]} {b / units:,.0f}" for b, n, k in diff[:top]) + " |")
PY
}

measure() {  # target jar
  local t=$1 jar=$2 port=18490 admin=18491 pid n0 n1
  # shellcheck disable=SC2086
  taskset -c 0 java -XX:+UseSerialGC -XX:-UseTLAB -Xms3g -Xmn2560m ${ALLOC_JVM_OPTS:-} -jar "$jar" -c "$work/fairway.yaml" -p $port \
    --admin-port $admin > "$work/$t.log" 2>&1 &
  pid=$!; pids+=("$pid")
  await_http "http://127.0.0.1:$port/"
  # warm-up: the JIT removes some allocations only once it has compiled the hot path
  taskset -c 1 wrk -t1 -c50 -d8s "${BROWSER[@]}" "http://127.0.0.1:$port/" > /dev/null
  taskset -c 1 wrk -t1 -c50 -d4s "http://127.0.0.1:$port/" > /dev/null
  for load in small browser; do
    jcmd "$pid" GC.run > /dev/null
    n0=$(requests $admin); histogram "$pid" "$work/a"
    if [ $load = small ]; then taskset -c 1 wrk -t1 -c50 -d3s "http://127.0.0.1:$port/" > /dev/null
    else taskset -c 1 wrk -t1 -c50 -d3s "${BROWSER[@]}" "http://127.0.0.1:$port/" > /dev/null; fi
    histogram "$pid" "$work/b"; n1=$(requests $admin)
    per_unit "$work/a" "$work/b" $((n1 - n0)) "$t, $load GET (per request, $((n1 - n0)) requests)"
  done
  # streams, per relayed MiB (each after one of its kind, so the JIT has compiled its path)
  local name
  for load in "256-byte SSE:64:events" "256-byte SSE, chunked:64:chunked-events" "download:1024:download" "Content-Length upload:1024:upload" \
              "chunked upload:1024:upload -H Transfer-Encoding:chunked"; do
    IFS=: read -r name mib how <<< "$load"
    stream "$port" "$how"
    jcmd "$pid" GC.run > /dev/null
    histogram "$pid" "$work/a"
    stream "$port" "$how"
    histogram "$pid" "$work/b"
    per_unit "$work/a" "$work/b" "$mib" "$t, $name (per MiB)"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

# The SSE load through NettyPipe (it has no request counter, so no per-request loads).
measure_pipe() {
  local port=18495 pid
  javac -cp "$root/target/fairway.jar" -d "$work/pipe" "$here/NettyPipe.java"
  taskset -c 0 java -XX:+UseSerialGC -XX:-UseTLAB -Xms3g -Xmn2560m ${ALLOC_JVM_OPTS:-} -cp "$root/target/fairway.jar:$work/pipe" NettyPipe \
    $port 18482 > "$work/netty-pipe.log" 2>&1 &
  pid=$!; pids+=("$pid")
  await_http "http://127.0.0.1:$port/health"
  stream "$port" events
  jcmd "$pid" GC.run > /dev/null
  histogram "$pid" "$work/a"
  stream "$port" events
  histogram "$pid" "$work/b"
  per_unit "$work/a" "$work/b" 64 "netty-pipe, 256-byte SSE (per MiB)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

{
  echo "# Heap allocated, counted exactly by class, $(date -u), $(java -version 2>&1 | head -1)"
  echo
  echo "\`java -XX:+UseSerialGC -XX:-UseTLAB -Xms3g -Xmn2560m ${ALLOC_JVM_OPTS:+$ALLOC_JVM_OPTS }-jar …\` (no collection while measured), 50 connections"
  echo
  echo "Per MiB of a stream, the bytes follow how many chunks its reads made (which moves with timing); per chunk they do not."
  echo
  echo "| build, load | bytes | objects | body chunks | largest classes (bytes) |"
  echo "|---|---:|---:|---:|---|"
} | tee "$out"
measure fairway "$root/target/fairway.jar" | tee -a "$out"
if [ -n "${BASE_JAR:-}" ]; then measure fairway-base "$BASE_JAR" | tee -a "$out"; fi
if [ -n "${NETTY_PIPE:-}" ]; then measure_pipe | tee -a "$out"; fi
