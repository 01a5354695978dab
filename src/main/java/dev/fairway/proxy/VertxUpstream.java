package dev.fairway.proxy;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientConnection;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.HostAndPort;

/** An upstream connection of Vert.x's HTTP client: HTTP/2 upstreams, and HTTP/1.1 over TLS. */
final class VertxUpstream implements UpstreamConnection {

  private final HttpClientConnection connection;

  VertxUpstream(HttpClientConnection connection) {
    this.connection = connection;
  }

  @Override
  public Future<UpstreamRequest> request(HttpMethod method, String uri) {
    return connection.request(new RequestOptions().setMethod(method).setURI(uri)).map(Request::new);
  }

  @Override
  public void closeHandler(Handler<Void> handler) {
    connection.closeHandler(handler);
  }

  @Override
  public void close() {
    connection.close();
  }

  @Override
  public int activeStreams() {
    return (int) connection.activeStreams();
  }

  @Override
  public int maxActiveStreams() {
    return (int) connection.maxActiveStreams();
  }

  private record Request(HttpClientRequest req) implements UpstreamRequest {
    @Override
    public MultiMap headers() {
      return req.headers();
    }

    @Override
    public void authority(HostAndPort authority) {
      req.authority(authority);
    }

    @Override
    public void setChunked(boolean chunked) {
      req.setChunked(chunked);
    }

    @Override
    public boolean isChunked() {
      return req.isChunked();
    }

    @Override
    public Future<UpstreamResponse> response() {
      return req.response().map(Response::new);
    }

    @Override
    public void write(Buffer chunk) {
      req.write(chunk);
    }

    @Override
    public void end() {
      req.end();
    }

    @Override
    public void end(Buffer body) {
      req.end(body);
    }

    @Override
    public boolean writeQueueFull() {
      return req.writeQueueFull();
    }

    @Override
    public void drainHandler(Handler<Void> handler) {
      req.drainHandler(handler);
    }

    @Override
    public void reset() {
      req.reset();
    }

    @Override
    public void closeConnection() {
      req.connection().close();
    }
  }

  private record Response(HttpClientResponse res) implements UpstreamResponse {
    @Override
    public int statusCode() {
      return res.statusCode();
    }

    @Override
    public String statusMessage() {
      return res.statusMessage();
    }

    @Override
    public MultiMap headers() {
      return res.headers();
    }

    @Override
    public String getHeader(CharSequence name) {
      return res.getHeader(name);
    }

    @Override
    public HttpVersion version() {
      return res.version();
    }

    @Override
    public MultiMap trailers() {
      return res.trailers();
    }

    @Override
    public UpstreamResponse exceptionHandler(Handler<Throwable> handler) {
      res.exceptionHandler(handler);
      return this;
    }

    @Override
    public UpstreamResponse handler(Handler<Buffer> handler) {
      res.handler(handler);
      return this;
    }

    @Override
    public UpstreamResponse pause() {
      res.pause();
      return this;
    }

    @Override
    public UpstreamResponse resume() {
      res.resume();
      return this;
    }

    @Override
    public UpstreamResponse fetch(long amount) {
      res.fetch(amount);
      return this;
    }

    @Override
    public UpstreamResponse endHandler(Handler<Void> endHandler) {
      res.endHandler(endHandler);
      return this;
    }
  }
}
