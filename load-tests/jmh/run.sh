#!/usr/bin/env bash
# JMH: each strategy's pick for 3 and 100 upstreams at 2 threads (StrategyPickBenchmark, results.txt), or one access
# log line's formatting (BENCH=AccessLogFormatBenchmark, results-AccessLogFormatBenchmark.txt). Installs Fairway's jar
# into the local Maven repository (skipping tests), builds the benchmark jar, runs it. Extra arguments go to JMH
# (e.g. -f 1 -wi 2 -i 3).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
(cd "$here/../.." && mvn -B -q install -DskipTests)
(cd "$here" && mvn -B -q package)
BENCH=${BENCH:-StrategyPickBenchmark}
results=$here/results.txt
[ "$BENCH" = StrategyPickBenchmark ] || results=$here/results-$BENCH.txt
java -jar "$here/target/benchmarks.jar" "$BENCH" -rf text -rff "$results" "$@"
