package dev.fairway.accesslog;

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
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * One access log line formatted into an event loop's block, as {@link AccessLog.Lines#log} does it (in this package
 * to reach the formatting itself; the block is reset when full, as a hand-off would). The record is the one a load
 * test's request makes: a GET of /, 1 KiB answered, no referer or user agent, a generated request id.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class AccessLogFormatBenchmark {

  @Param({"combined", "gunicorn"})
  public String format;

  private AccessLogFormat f;
  private final AccessLogFormat.Clock clock = new AccessLogFormat.Clock();
  private final LineBuffer block = new LineBuffer(256 * 1024 + 1024);
  private final AccessRecord[] records = new AccessRecord[16];
  private int next;

  @Setup
  public void setUp() {
    f = AccessLogFormat.parse("format", format);
    long now = System.currentTimeMillis();
    for (int i = 0; i < records.length; i++) {
      records[i] = new AccessRecord(now + i * 7, "127.0.0.1", "GET", "/", "HTTP/1.1", 200, 1024, 0, null, null,
        180_000 + i * 1_000, "127.0.0.1:1818" + (i % 3), 150_000 + i * 900, 0, "0f3a9c2e7b1d4a5f" + i, null);
    }
  }

  @Benchmark
  public int formatLine() {
    if (block.length() >= 256 * 1024) block.setLength(0);
    f.appendTo(block, records[next++ & 15], clock);
    block.append('\n');
    return block.length();
  }
}
