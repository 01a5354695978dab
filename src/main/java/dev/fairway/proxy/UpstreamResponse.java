package dev.fairway.proxy;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.streams.ReadStream;

/** An upstream's response: its head at once, its body as a stream of chunks, then its trailers. */
interface UpstreamResponse extends ReadStream<Buffer> {

  int statusCode();

  String statusMessage();

  MultiMap headers();

  String getHeader(CharSequence name);

  HttpVersion version();

  /** Trailers: complete once the end handler has been called, empty if there were none. */
  MultiMap trailers();
}
