package dev.fairway.config;

import io.vertx.core.json.JsonObject;

import java.util.Set;

/** The admin server ({@code admin}: host, port, and TLS when it is not on loopback) and the bearer token of its {@code /admin} API. */
public final class AdminOptions {

  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 9901;

  static final ConfigKeys<AdminOptions> KEYS = new ConfigKeys<AdminOptions>()
    .restartKey("admin", (r, key, o) -> {
      ConfigReader admin = r.object(key);
      admin.rejectUnknown(Set.of("host", "port", "token", "tls"));
      o.host = admin.string("host", o.host);
      o.port = admin.port("port", o.port);
      o.token = admin.string("token", o.token);
      if (admin.has("tls")) o.tls = ServerTls.read(admin.object("tls"));
    }, o -> new JsonObject().put("host", o.host).put("port", o.port).put("token", o.token).put("tls", o.tls.toJson()));

  private String host = DEFAULT_HOST;
  private int port = DEFAULT_PORT;
  /** Bearer token of the /admin API; null: the admin API is off. */
  private String token;
  /** The admin server's certificate and key; none: plain HTTP (fine on loopback, the default). */
  private ServerTls tls = ServerTls.NONE;

  public String getHost() {
    return host;
  }

  public AdminOptions setHost(String host) {
    this.host = host;
    return this;
  }

  public int getPort() {
    return port;
  }

  public AdminOptions setPort(int port) {
    this.port = port;
    return this;
  }

  public ServerTls getTls() {
    return tls;
  }

  public AdminOptions setTls(String cert, String key) {
    this.tls = new ServerTls(cert, key);
    return this;
  }

  public String getToken() {
    return token;
  }

  public AdminOptions setToken(String token) {
    this.token = token;
    return this;
  }
}
