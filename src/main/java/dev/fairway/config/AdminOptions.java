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
      ConfigReader tls = admin.object("tls");
      tls.rejectUnknown(Set.of("cert", "key"));
      o.tlsCert = tls.string("cert", o.tlsCert);
      o.tlsKey = tls.string("key", o.tlsKey);
      if ((o.tlsCert == null) != (o.tlsKey == null)) {
        throw ConfigException.invalid(tls.key(o.tlsCert == null ? "cert" : "key"), "missing", "both admin.tls.cert and admin.tls.key (PEM files)");
      }
    }, o -> new JsonObject().put("host", o.host).put("port", o.port).put("token", o.token)
      .put("tls", o.tlsCert == null ? null : new JsonObject().put("cert", o.tlsCert).put("key", o.tlsKey)));

  private String host = DEFAULT_HOST;
  private int port = DEFAULT_PORT;
  /** Bearer token of the /admin API; null: the admin API is off. */
  private String token;
  /** PEM files of the admin server's certificate and key; null: plain HTTP (fine on loopback, the default). */
  private String tlsCert;
  private String tlsKey;

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

  public String getTlsCert() {
    return tlsCert;
  }

  public String getTlsKey() {
    return tlsKey;
  }

  public AdminOptions setTls(String cert, String key) {
    this.tlsCert = cert;
    this.tlsKey = key;
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
