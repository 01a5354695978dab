package dev.fairway.proxy;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.HostAndPort;

/**
 * The upstream side of one exchange, as {@link ProxyExchange} drives it: the head goes with the first write (or the
 * end), the body follows under back-pressure, and the response comes as a future.
 */
interface UpstreamRequest {

  /** Headers to send; filled before the first write. */
  MultiMap headers();

  /** The Host header (HTTP/1.1) or :authority (HTTP/2). */
  void authority(HostAndPort authority);

  void setChunked(boolean chunked);

  boolean isChunked();

  /** The upstream's response head; fails if the connection closes, or the request is reset, before it comes. */
  Future<UpstreamResponse> response();

  void write(Buffer chunk);

  void end();

  /** Ends with the whole body: sets Content-Length unless the request is chunked or has one. */
  void end(Buffer body);

  boolean writeQueueFull();

  void drainHandler(Handler<Void> handler);

  /** Gives up on the request: an HTTP/1.1 connection is closed, an HTTP/2 stream reset. */
  void reset();

  /** Closes the connection the request went on: its framing can no longer be trusted. */
  void closeConnection();
}
