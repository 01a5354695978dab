package dev.fairway.config;

import io.vertx.core.json.JsonObject;

/**
 * Where clients connect: {@code listen} (host, port), {@code tls} (cert, key), {@code http2-cleartext} and
 * {@code websocket-compression}, {@code direct-http1}.
 */
public final class ListenOptions {

  public static final String DEFAULT_HOST = "0.0.0.0";
  public static final int DEFAULT_PORT = 8080;

  static final ConfigKeys<ListenOptions> KEYS = new ConfigKeys<ListenOptions>()
    .restartKey("listen", (r, key, o) -> {
      ConfigReader listen = r.object(key);
      listen.rejectUnknown(java.util.Set.of("host", "port"));
      o.host = listen.string("host", o.host);
      o.port = listen.port("port", o.port);
    }, o -> new JsonObject().put("host", o.host).put("port", o.port))
    .restartKey("tls", (r, key, o) -> {
      if (r.has(key)) o.tls = ServerTls.read(r.object(key));
    }, o -> o.tls.toJson())
    .restartKey("http2-cleartext", (r, key, o) -> o.http2Cleartext = r.bool(key, o.http2Cleartext), o -> o.http2Cleartext)
    .restartKey("websocket-compression", (r, key, o) -> o.webSocketCompression = r.bool(key, o.webSocketCompression),
      o -> o.webSocketCompression)
    .restartKey("direct-http1", (r, key, o) -> o.directHttp1 = r.bool(key, o.directHttp1), o -> o.directHttp1);

  private String host = DEFAULT_HOST;
  private int port = DEFAULT_PORT;
  /** The proxy's TLS certificate and key; none: plain HTTP. */
  private ServerTls tls = ServerTls.NONE;
  /** HTTP/2 without TLS (prior knowledge) on the listen port. */
  private boolean http2Cleartext;
  /**
   * Compress WebSocket messages to and from clients that offer it (permessage-deflate), between the client and
   * Fairway only: the upstream side is never compressed. Off by default: each compressed WebSocket keeps a zlib
   * deflater and inflater (202 against 37 KiB of RSS per socket after twenty messages), and every connection a handler
   * that looks at each request for an upgrade (load-tests/websockets.sh and idle.sh).
   */
  private boolean webSocketCompression;
  /**
   * Plain connections are held by Fairway's own HTTP/1.1 path, which passes plain GET and HEAD requests on simple
   * routes beneath Vert.x (a fifth to a third less CPU per request, load-tests/run.sh, and less than half the memory
   * per idle connection, load-tests/idle.sh); at the first other request the connection goes to Vert.x. On by
   * default; off, every connection is Vert.x's from its accept.
   */
  private boolean directHttp1 = true;

  public String getHost() {
    return host;
  }

  public ListenOptions setHost(String host) {
    this.host = host;
    return this;
  }

  public int getPort() {
    return port;
  }

  public ListenOptions setPort(int port) {
    this.port = port;
    return this;
  }

  public ServerTls getTls() {
    return tls;
  }

  public ListenOptions setTls(String cert, String key) {
    this.tls = new ServerTls(cert, key);
    return this;
  }

  public boolean isHttp2Cleartext() {
    return http2Cleartext;
  }

  public ListenOptions setHttp2Cleartext(boolean http2Cleartext) {
    this.http2Cleartext = http2Cleartext;
    return this;
  }

  public boolean isWebSocketCompression() {
    return webSocketCompression;
  }

  public boolean isDirectHttp1() {
    return directHttp1;
  }

  public ListenOptions setDirectHttp1(boolean directHttp1) {
    this.directHttp1 = directHttp1;
    return this;
  }

  public ListenOptions setWebSocketCompression(boolean webSocketCompression) {
    this.webSocketCompression = webSocketCompression;
    return this;
  }
}
