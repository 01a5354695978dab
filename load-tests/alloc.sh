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
# Loads: wrk's small GET (one header), the same GET with a browser's eight headers, both 1 KiB responses from nginx,
# and 64 MiB of 256-byte server-sent events (each written on its own by a Python backend).
# Needs nginx, wrk, python3, curl and a JDK (jcmd). Loopback only; bounded (12 s of warm-up, 3 s of wrk per load, 64 MiB of events).
# Usage: [BASE_JAR=other.jar] [TOP=15] load-tests/alloc.sh      (BASE_JAR: the same loads on another build, after)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need nginx wrk python3 curl jcmd taskset
TOP=${TOP:-15}
scratch alloc
out="$here/results/alloc-$(date -u +%Y%m%dT%H%M%SZ).md"
fairway_jar

backend_conf "$work/backend.conf" 18481
taskset -c 1 nginx -c "$work/backend.conf" & pids+=($!)
events_backend 18482
cat > "$work/fairway.yaml" <<CONF
instances: 1
access-log: off
upstreams: [127.0.0.1:18481]
groups: {events: {upstreams: [127.0.0.1:18482]}}
routes: [{path: /events, group: events}]
CONF

BROWSER=(-H "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
  -H "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" -H "Accept-Language: en-GB,en;q=0.9"
  -H "Accept-Encoding: gzip, deflate, br" -H "Cookie: session=3f6c1e0b9a7d4e2f8c5b; theme=dark"
  -H "Referer: http://127.0.0.1/docs/" -H "Cache-Control: max-age=0" -H "Upgrade-Insecure-Requests: 1")

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
print(f"| {label} | {total_b:,.0f} | {total_n:.1f} | " + ", ".join(f"{k.split('.')[-1]} {b / units:,.0f}" for b, n, k in diff[:top]) + " |")
PY
}

measure() {  # target jar
  local t=$1 jar=$2 port=18490 admin=18491 pid n0 n1
  # shellcheck disable=SC2086
  taskset -c 0 java -XX:+UseSerialGC -XX:-UseTLAB -Xms3g -Xmn2560m -jar "$jar" -c "$work/fairway.yaml" -p $port \
    --admin-port $admin > "$work/$t.log" 2>&1 &
  pid=$!; pids+=("$pid")
  await_http "http://127.0.0.1:$port/"
  # warm-up: the JIT removes some allocations only once it has compiled the hot path
  taskset -c 1 wrk -t1 -c50 -d8s "${BROWSER[@]}" "http://127.0.0.1:$port/" > /dev/null
  taskset -c 1 wrk -t1 -c50 -d4s "http://127.0.0.1:$port/" > /dev/null
  taskset -c 1 curl -s -o /dev/null "http://127.0.0.1:$port/events?mib=16"
  for load in small browser; do
    jcmd "$pid" GC.run > /dev/null
    n0=$(requests $admin); histogram "$pid" "$work/a"
    if [ $load = small ]; then taskset -c 1 wrk -t1 -c50 -d3s "http://127.0.0.1:$port/" > /dev/null
    else taskset -c 1 wrk -t1 -c50 -d3s "${BROWSER[@]}" "http://127.0.0.1:$port/" > /dev/null; fi
    histogram "$pid" "$work/b"; n1=$(requests $admin)
    per_unit "$work/a" "$work/b" $((n1 - n0)) "$t, $load GET (per request, $((n1 - n0)) requests)"
  done
  jcmd "$pid" GC.run > /dev/null
  histogram "$pid" "$work/a"
  taskset -c 1 curl -s -o /dev/null "http://127.0.0.1:$port/events?mib=64"
  histogram "$pid" "$work/b"
  per_unit "$work/a" "$work/b" 64 "$t, 256-byte SSE (per MiB)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

{
  echo "# Heap allocated, counted exactly by class, $(date -u), $(java -version 2>&1 | head -1)"
  echo
  echo "\`java -XX:+UseSerialGC -XX:-UseTLAB -Xms3g -Xmn2560m -jar …\` (no collection while measured), 50 connections"
  echo
  echo "| build, load | bytes | objects | largest classes (bytes) |"
  echo "|---|---:|---:|---|"
} | tee "$out"
measure fairway "$root/target/fairway.jar" | tee -a "$out"
if [ -n "${BASE_JAR:-}" ]; then measure fairway-base "$BASE_JAR" | tee -a "$out"; fi
