package dev.fairway.metrics;

import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class RouteFiguresTest {

  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

  @Test
  void aBucketHoldsValuesUpToAndIncludingItsBound() {
    assertThat(RouteFigures.bucket(0)).isEqualTo(0);
    assertThat(RouteFigures.bucket(5 * MS)).isEqualTo(0); // le="0.005"
    assertThat(RouteFigures.bucket(5 * MS + 1)).isEqualTo(1);
    assertThat(RouteFigures.bucket(TimeUnit.MINUTES.toNanos(30))).isEqualTo(17); // le="1800.0"
    assertThat(RouteFigures.bucket(TimeUnit.HOURS.toNanos(2))).isEqualTo(RouteFigures.BOUNDS.length); // +Inf
  }

  @Test
  void aLoopCounterSumsEveryLoopsOwnCount() throws InterruptedException {
    LoopCounter counter = new LoopCounter(3, Labels.of("code", "200"));
    Thread[] loops = new Thread[3];
    for (int l = 0; l < loops.length; l++) {
      int loop = l;
      loops[l] = new Thread(() -> {
        for (int i = 0; i < 10_000 * (loop + 1); i++) counter.increment(loop);
      });
      loops[l].start();
    }
    for (Thread t : loops) t.join();
    assertThat(counter.sum()).isEqualTo(60_000);
    assertThat(counter.snapshot().getValue()).isEqualTo(60_000.0);
  }

  @Test
  void aScrapeSumsWhatEveryEventLoopRecorded() throws InterruptedException {
    RouteFigures figures = new RouteFigures(2, Labels.of("route", "/", "upstream", "u"));
    // two threads, each adding into its own slots as an event loop does
    Thread fast = new Thread(() -> {
      for (int i = 0; i < 1000; i++) figures.request(0, 2 * MS, 10, 100);
    });
    Thread slow = new Thread(() -> {
      for (int i = 0; i < 500; i++) {
        figures.request(1, 40 * MS, 0, 1);
        figures.responseHead(1, 30 * MS);
      }
    });
    fast.start();
    slow.start();
    fast.join();
    slow.join();

    HistogramSnapshot.HistogramDataPointSnapshot duration = figures.duration();
    ClassicHistogramBuckets buckets = duration.getClassicBuckets();
    assertThat(buckets.getUpperBound(0)).isEqualTo(0.005);
    assertThat(buckets.getCount(0)).isEqualTo(1000);
    assertThat(buckets.getUpperBound(3)).isEqualTo(0.05);
    assertThat(buckets.getCount(3)).isEqualTo(500);
    assertThat(buckets.getUpperBound(buckets.size() - 1)).isEqualTo(Double.POSITIVE_INFINITY);
    assertThat(duration.getCount()).isEqualTo(1500);
    assertThat(duration.getSum()).isCloseTo(1000 * 0.002 + 500 * 0.040, within(1e-9));
    assertThat(figures.responseHead().getCount()).isEqualTo(500);
    assertThat(figures.received().getValue()).isEqualTo(10_000.0);
    assertThat(figures.sent().getValue()).isEqualTo(100_500.0);
    assertThat(duration.getLabels().equals(Labels.of("route", "/", "upstream", "u"))).isTrue();
  }
}
