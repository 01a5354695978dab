package dev.fairway.config;

import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;

import java.util.Set;

/** A listener's PEM certificate and key ({@code tls: {cert, key}}): both, or neither for plain HTTP. */
public record ServerTls(String cert, String key) {

  public static final ServerTls NONE = new ServerTls(null, null);

  /** Reads {@code {cert, key}} from {@code tls}; @throws ConfigException when only one of them is set */
  static ServerTls read(ConfigReader tls) {
    tls.rejectUnknown(Set.of("cert", "key"));
    ServerTls read = new ServerTls(tls.string("cert", null), tls.string("key", null));
    if ((read.cert == null) != (read.key == null)) {
      throw ConfigException.invalid(tls.key(read.cert == null ? "cert" : "key"), "missing",
        "both " + tls.key("cert") + " and " + tls.key("key") + " (PEM files)");
    }
    return read;
  }

  public boolean enabled() {
    return cert != null;
  }

  /** Makes {@code options} a TLS listener with these files, if set. */
  public HttpServerOptions applyTo(HttpServerOptions options) {
    return enabled() ? options.setSsl(true).setKeyCertOptions(new PemKeyCertOptions().setCertPath(cert).setKeyPath(key)) : options;
  }

  /** The config file's form, or null when off. */
  JsonObject toJson() {
    return enabled() ? new JsonObject().put("cert", cert).put("key", key) : null;
  }
}
