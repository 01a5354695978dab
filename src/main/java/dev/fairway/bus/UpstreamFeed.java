package dev.fairway.bus;

import dev.fairway.upstream.UpstreamSet;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;

import java.util.function.Consumer;

/**
 * Follows the balancer's snapshots for one verticle: asks for the current one at start, then takes each published
 * revision, dropping any older than the one it holds.
 */
public final class UpstreamFeed {

  private static final DeliveryOptions GET_TIMEOUT = new DeliveryOptions().setSendTimeout(5_000);

  private final Consumer<UpstreamSet> onChange;
  private long revision = -1;

  private UpstreamFeed(Consumer<UpstreamSet> onChange) {
    this.onChange = onChange;
  }

  /** @return a future completed once the first snapshot has been handed to {@code onChange} */
  public static Future<Void> follow(Vertx vertx, Consumer<UpstreamSet> onChange) {
    UpstreamFeed feed = new UpstreamFeed(onChange);
    return vertx.eventBus().<JsonObject>localConsumer(Addresses.UPSTREAMS_CHANGED, msg -> feed.accept(msg.body()))
      .completion()
      .compose(v -> vertx.eventBus().<JsonObject>request(Addresses.UPSTREAMS_GET, null, GET_TIMEOUT))
      .map(reply -> {
        feed.accept(reply.body());
        return null;
      });
  }

  private void accept(JsonObject json) {
    UpstreamSet set = UpstreamSet.fromJson(json);
    if (set.revision() > revision) {
      revision = set.revision();
      onChange.accept(set);
    }
  }
}
