package dev.fairway.metrics;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class LiveStatsTest {

  @Test
  void eachEventLoopsRequestsCountOnceTheSecondRolls() throws InterruptedException {
    LiveStats stats = new LiveStats(2);
    // two threads, each recording into its own slot as an event loop does
    Thread fast = new Thread(() -> {
      for (int i = 0; i < 1000; i++) stats.record(0, 2_000_000, 200);
    });
    Thread slow = new Thread(() -> {
      for (int i = 0; i < 1000; i++) stats.record(1, 4_000_000, i < 10 ? 503 : 200);
    });
    fast.start();
    slow.start();
    fast.join();
    slow.join();

    stats.roll();
    JsonObject json = stats.toJson();
    assertThat(json.getDouble("requests_per_second")).isEqualTo(2000.0);
    assertThat(json.getDouble("error_rate")).isEqualTo(0.005);
    assertThat(json.getJsonObject("latency_ms").getDouble("p50")).isCloseTo(2.0, within(0.1));
    assertThat(json.getJsonObject("latency_ms").getDouble("p99")).isCloseTo(4.0, within(0.1));
  }

  @Test
  void aRolledSecondIsNotCountedAgain() {
    LiveStats stats = new LiveStats(1);
    for (int i = 0; i < 30; i++) stats.record(0, 1_000_000, 500);
    stats.roll();
    stats.roll(); // a second with nothing in it
    JsonObject json = stats.toJson();
    assertThat(json.getDouble("requests_per_second")).as("30 requests over two seconds").isEqualTo(15.0);
    assertThat(json.getDouble("error_rate")).isEqualTo(1.0);
  }
}
