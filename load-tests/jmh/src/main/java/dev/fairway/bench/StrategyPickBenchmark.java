package dev.fairway.bench;

import dev.fairway.balancer.Candidates;
import dev.fairway.balancer.Strategy;
import dev.fairway.config.StrategyName;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One pick plus its release, as the request path does it, from two threads at once (the in-flight counters and the
 * round-robin sequence are shared, so this includes their contention). Target: under 100 ns per pick.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Threads(2)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class StrategyPickBenchmark {

  @Param({"round-robin", "least-conn", "ip-hash", "hash", "p2c", "random"})
  public String strategy;

  @Param({"3", "100"})
  public int upstreams;

  private Strategy picker;
  private Candidates candidates;
  private final AtomicLong sequence = new AtomicLong();
  private String[] clients;

  @Setup
  public void setUp() {
    int[] weights = new int[upstreams];
    Arrays.fill(weights, 1);
    candidates = Candidates.of(weights);
    picker = Strategy.create(StrategyName.parseOrDefault(strategy), candidates, sequence::getAndIncrement);
    clients = new String[1024];
    for (int i = 0; i < clients.length; i++) clients[i] = "10.0." + (i >> 8) + "." + (i & 255);
  }

  @State(Scope.Thread)
  public static class Cursor {
    int next;
  }

  @Benchmark
  public int pickAndRelease(Cursor cursor) {
    String key = clients[cursor.next++ & 1023];
    int i = picker.pick(key);
    candidates.inFlight(i).decrementAndGet();
    return i;
  }
}
