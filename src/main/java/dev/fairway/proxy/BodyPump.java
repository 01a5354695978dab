package dev.fairway.proxy;

import io.vertx.core.Handler;
import io.vertx.core.streams.ReadStream;
import io.vertx.core.streams.WriteStream;

import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The one relay loop of request bodies, response bodies and WebSocket frames: each item is written on, and the source
 * is paused while the destination's write queue is full, until it drains. Hand-written rather than
 * {@code ReadStream.pipeTo}, which allocates a pipe and promises per stream on the hottest path.
 */
final class BodyPump {

  private BodyPump() {
  }

  /** Writes one item on, or drops it (a chunk past a limit or after the exchange ended, a control frame). */
  @FunctionalInterface
  interface Writer<T> {
    /** @return whether the item was written: only then is the destination's queue looked at (it may be closed) */
    boolean write(T item);
  }

  /**
   * @return the handler to install on {@code from} (its {@code handler} or, for WebSocket frames, {@code frameHandler})
   */
  static <T> Handler<T> between(ReadStream<?> from, WriteStream<?> to, Writer<T> writer) {
    Handler<Void> resume = v -> from.resume();
    return item -> {
      if (writer.write(item) && to.writeQueueFull()) {
        from.pause();
        to.drainHandler(resume);
      }
    };
  }

  /** The same loop towards a destination that is not one stream (a job's client and its spool). */
  static <T> Handler<T> between(ReadStream<?> from, BooleanSupplier full, Consumer<Handler<Void>> onDrain, Writer<T> writer) {
    Handler<Void> resume = v -> from.resume();
    return item -> {
      if (writer.write(item) && full.getAsBoolean()) {
        from.pause();
        onDrain.accept(resume);
      }
    };
  }
}
