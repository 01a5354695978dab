package dev.fairway.balancer;

import dev.fairway.bus.Addresses;
import dev.fairway.bus.StatusChange;
import dev.fairway.config.FairwayOptions;
import dev.fairway.config.UpstreamOptions;
import dev.fairway.upstream.Upstream;
import dev.fairway.upstream.UpstreamSet;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * The only writer of upstream state. It applies health transitions to its snapshot and publishes each new revision;
 * proxy instances keep the latest one locally, so no request ever waits on the bus.
 */
public class BalancerVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(BalancerVerticle.class);

  private final FairwayOptions options;
  private UpstreamSet current;

  public BalancerVerticle(FairwayOptions options) {
    this.options = options;
  }

  @Override
  public Future<?> start() {
    current = initialSet(options);
    return Future.all(
      vertx.eventBus().consumer(Addresses.HEALTH_STATUS_CHANGED, this::onStatusChanged).completion(),
      vertx.eventBus().consumer(Addresses.UPSTREAMS_GET, this::onGet).completion());
  }

  /**
   * Without health checks upstreams are UP. With them, an upstream takes traffic only once a probe has passed,
   * unless {@code health.initial-state: up}, where the first failing probe takes it out.
   */
  static UpstreamSet initialSet(FairwayOptions options) {
    boolean checked = options.getHealth().isEnabled();
    boolean up = !checked || options.getHealth().isInitiallyUp();
    String reason = checked ? "not checked yet" : "health checks off";
    List<Upstream> ups = options.getUpstreams().stream().map(u -> toUpstream(u, up, reason)).toList();
    return new UpstreamSet(1, options.getStrategy().configName(), ups);
  }

  private static Upstream toUpstream(UpstreamOptions u, boolean up, String reason) {
    return new Upstream(u.id(), u.getHost(), u.getPort(), u.getWeight(), u.getMaxConns(), u.isBackup(), u.isDown(),
      up, reason);
  }

  private void onGet(Message<JsonObject> msg) {
    msg.reply(current.toJson());
  }

  private void onStatusChanged(Message<JsonObject> msg) {
    StatusChange change = StatusChange.fromJson(msg.body());
    UpstreamSet next = current.withHealth(change.upstream(), change.up(), change.reason());
    if (next != current) {
      current = next;
      log.info("upstream {} is {} ({}), revision {}", change.upstream(), change.up() ? "UP" : "DOWN", change.reason(), next.revision());
      vertx.eventBus().publish(Addresses.UPSTREAMS_CHANGED, current.toJson());
    }
  }
}
