package dev.fairway.ops;

import dev.fairway.bus.Addresses;
import dev.fairway.config.ConfigException;
import dev.fairway.config.FairwayOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;

/**
 * Re-reads the config when asked on {@link Addresses#CONFIG_RELOAD} (SIGHUP, POST /admin/reload) or when the file
 * changes. A valid new config is published on the
 * bus and applied by each role without dropping a connection; an invalid one is rejected with its reason and the
 * running config stays. Settings that need a restart are named, not applied. Reloads run one at a time.
 */
public final class ConfigReloader {

  private static final Logger log = LoggerFactory.getLogger(ConfigReloader.class);
  private static final long WATCH_INTERVAL_MILLIS = 2_000;

  private final Vertx vertx;
  private final Supplier<FairwayOptions> loader;
  private final ObservabilitySwitch inProcess;
  /** Read and replaced only by reloads, which run one after another. */
  private volatile FairwayOptions current;
  /** The reload in progress, if any: the next one starts after it. */
  private Future<?> last = Future.succeededFuture();

  /**
   * @param loader    reads the file and applies the command-line flags again, throwing {@link ConfigException}
   * @param inProcess applies the settings that are not carried by the bus, before the new config is published
   */
  public ConfigReloader(Vertx vertx, FairwayOptions running, Supplier<FairwayOptions> loader, ObservabilitySwitch inProcess) {
    this.vertx = vertx;
    this.loader = loader;
    this.inProcess = inProcess;
    this.current = running;
  }

  /** Answers {@link Addresses#CONFIG_RELOAD} requests (the admin API's, a signal's) from now on. */
  public Future<Void> listen() {
    return vertx.eventBus().<JsonObject>localConsumer(Addresses.CONFIG_RELOAD, msg ->
      reload(msg.body() == null ? "request" : msg.body().getString("trigger", "request")).onComplete(ar -> {
        if (ar.succeeded()) msg.reply(ar.result());
        else msg.fail(400, ar.cause().getMessage());
      })).completion();
  }

  /** @return the outcome as JSON, or a failed future whose message says what is wrong */
  public synchronized Future<JsonObject> reload(String trigger) {
    Future<JsonObject> outcome = last.transform(x -> load(trigger));
    last = outcome;
    return outcome;
  }

  private Future<JsonObject> load(String trigger) {
    // reading the file is blocking I/O: off the event loop
    return vertx.executeBlocking(loader::get, false)
      .compose(next -> inProcess.apply(current, next).map(next))
      .transform(ar -> {
        if (ar.failed()) {
          String why = ar.cause() instanceof ConfigException ? ar.cause().getMessage() : String.valueOf(ar.cause());
          log.warn("config reload ({}) rejected, the running config stays: {}", trigger, why);
          return Future.failedFuture(why);
        }
        FairwayOptions next = ar.result();
        List<String> restart = current.restartNeeded(next);
        current = next;
        vertx.eventBus().publish(Addresses.CONFIG_CHANGED, next.toJson());
        if (!restart.isEmpty()) {
          log.warn("config reloaded ({}); these settings need a restart to change: {}", trigger, restart);
        } else {
          log.info("config reloaded ({})", trigger);
        }
        return Future.succeededFuture(new JsonObject().put("status", "applied").put("restart_needed", new JsonArray(restart)));
      });
  }

  /** Polls the file's modification time (no blocking call on the event loop) and reloads when it changes. */
  public void watch(Path file) {
    String path = file.toString();
    long[] lastModified = {-1};
    vertx.fileSystem().props(path).onSuccess(p -> lastModified[0] = p.lastModifiedTime());
    vertx.setPeriodic(WATCH_INTERVAL_MILLIS, id -> vertx.fileSystem().props(path).onSuccess(p -> {
      if (lastModified[0] >= 0 && p.lastModifiedTime() != lastModified[0]) {
        reload("file " + path + " changed");
      }
      lastModified[0] = p.lastModifiedTime();
    }));
  }
}
