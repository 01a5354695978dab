#!/usr/bin/env bash
# HTTP/2 clients: h2load (cleartext HTTP/2 with prior knowledge) through nginx, HAProxy and Fairway, each in front of
# the same HTTP/1.1 nginx backend (3 ports, 1 KiB responses), as a browser or gRPC-style client would use them:
# CONNS connections with STREAMS concurrent streams each. Targets alternate over ROUNDS; each run lasts DURATION
# seconds. Reports req/s, mean and max time per request, and the proxy's CPU time per request. Pinning as in run.sh:
# the proxy alone on CPU 0, backend and h2load on CPU 1. Loopback only; bounded by ROUNDS x 3 x DURATION.
# Needs: nginx, haproxy, h2load (apt-get install -y nginx haproxy nghttp2-client).
# Usage: ROUNDS=5 DURATION=8 CONNS=50 STREAMS=10 load-tests/h2.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-8}
CONNS=${CONNS:-50}
STREAMS=${STREAMS:-10}
FAIRWAY_JVM_OPTS=${FAIRWAY_JVM_OPTS:-$THROUGHPUT_JVM_OPTS}
need nginx haproxy h2load taskset curl python3
scratch h2
fairway_jar
out="$here/results/h2-$(date -u +%Y%m%dT%H%M%SZ).txt"

backend_conf "$work/backend.conf" 18181 18182 18183
nginx_proxy_conf "$work/nginx.conf" "127.0.0.1:18190 http2" 18181 18182 18183
haproxy_conf "$work/haproxy.cfg" "127.0.0.1:18191 proto h2" 18181 18182 18183
cat > "$work/fairway.yaml" <<CONF
listen: {host: 127.0.0.1, port: 18192}
admin: {host: 127.0.0.1, port: 18193}
instances: 1
http2-cleartext: true
access-log: off
upstreams: [127.0.0.1:18181, 127.0.0.1:18182, 127.0.0.1:18183]
CONF

taskset -c 1 nginx -c "$work/backend.conf" & pids+=($!)
declare -A pid_of port_of=([nginx]=18190 [haproxy]=18191 [fairway]=18192)
taskset -c 0 nginx -c "$work/nginx.conf" & pids+=($!); pid_of[nginx]=$!
taskset -c 0 haproxy -f "$work/haproxy.cfg" -db & pids+=($!); pid_of[haproxy]=$!
# shellcheck disable=SC2086
taskset -c 0 java $FAIRWAY_JVM_OPTS -jar "$root/target/fairway.jar" -c "$work/fairway.yaml" > "$work/fairway.log" 2>&1 &
pids+=($!); pid_of[fairway]=$!

targets="nginx haproxy fairway"
for t in $targets; do
  await_http "http://127.0.0.1:${port_of[$t]}/" --http2-prior-knowledge
done
load() { taskset -c 1 h2load -t1 -c"$CONNS" -m"$STREAMS" -D "$1" "http://127.0.0.1:${port_of[$2]}/"; }
load 10 fairway > /dev/null # JIT warm-up
for t in $targets; do load 2 "$t" > /dev/null; done

{
  echo "# $(date -u) HTTP/2 (h2c) rounds=$ROUNDS duration=${DURATION}s conns=$CONNS streams=$STREAMS fairway_jvm=[$FAIRWAY_JVM_OPTS]"
  echo "# $(nproc) cores, $(uname -r), $(java -version 2>&1 | head -1), $(nginx -v 2>&1), $(haproxy -v | head -1), $(h2load --version | head -1)"
} | tee "$out"
hz=$(getconf CLK_TCK)
for round in $(seq 1 "$ROUNDS"); do
  for t in $targets; do
    before=$(cpu_ticks "${pid_of[$t]}")
    report=$(load "$DURATION" "$t")
    after=$(cpu_ticks "${pid_of[$t]}")
    # h2load: "finished in 8.00s, 51234.50 req/s, ...", "requests: ... N succeeded, N failed, N errored, ...",
    # "time for request:  min  max  mean  sd  +/- sd"
    echo "$report" | awk -v r="$round" -v t="$t" -v a="$before" -v b="$after" -v hz="$hz" -v d="$DURATION" '
      function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; return v * 1000 }
      /^finished in/ { rps = $4 }
      /^requests:/ { ok = $8; failed = $10 + $12 }
      /^time for request:/ { max = ms($5); mean = ms($6) }
      END { printf "round=%s target=%s rps=%.0f mean_ms=%.2f max_ms=%.2f succeeded=%s failed=%s cpu_us=%.2f\n",
              r, t, rps, mean, max, ok, failed, (rps > 0 ? (b - a) * 1e6 / hz / (rps * d) : 0) }' | tee -a "$out"
  done
done
for t in $targets; do echo "peak_rss_kib target=$t $(proc_kib VmHWM "${pid_of[$t]}")" | tee -a "$out"; done

python3 - "$out" <<'PY' | tee "${out%.txt}.md"
import collections, statistics, sys
rows = collections.defaultdict(list)
rss = {}
for line in open(sys.argv[1]):
    if line.startswith("round="):
        kv = dict(f.split("=", 1) for f in line.split())
        rows[kv["target"]].append(kv)
    elif line.startswith("peak_rss_kib"):
        _, t, kib = line.split()
        rss[t.split("=")[1]] = int(kib) // 1024
med = lambda t, k: statistics.median(float(r[k]) for r in rows[t])
print(open(sys.argv[1]).readline().strip())
print()
print("| target | req/s (median) | vs nginx | mean ms | max ms | failed | proxy CPU µs/req | peak RSS MiB |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for t in rows:
    print(f"| {t} | {med(t, 'rps'):,.0f} | {med(t, 'rps') / med('nginx', 'rps'):.2f}x | {med(t, 'mean_ms'):.2f} | "
          f"{med(t, 'max_ms'):.1f} | {sum(int(r['failed']) for r in rows[t])} | {med(t, 'cpu_us'):.2f} | {rss.get(t, '-')} |")
PY
