package dev.fairway.config;

import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;

import java.util.Set;

/** TLS from Fairway to its upstreams (proxied requests, WebSockets and health probes), with its own trust settings. */
public class UpstreamTlsOptions {

  private static final Set<String> KEYS = Set.of("enabled", "ca", "trust-all", "verify-host");

  private boolean enabled;
  /** PEM file of the CA (or self-signed certificate) to trust; null: the JVM's default trust store. */
  private String ca;
  private boolean trustAll;
  private boolean verifyHost = true;

  public UpstreamTlsOptions() {
  }

  public UpstreamTlsOptions(ConfigReader r) {
    r.rejectUnknown(KEYS);
    enabled = r.bool("enabled", false);
    ca = r.string("ca", null);
    trustAll = r.bool("trust-all", false);
    verifyHost = r.bool("verify-host", true);
  }

  public boolean isEnabled() {
    return enabled;
  }

  public UpstreamTlsOptions setEnabled(boolean enabled) {
    this.enabled = enabled;
    return this;
  }

  public UpstreamTlsOptions setCa(String ca) {
    this.ca = ca;
    return this;
  }

  public UpstreamTlsOptions setVerifyHost(boolean verifyHost) {
    this.verifyHost = verifyHost;
    return this;
  }

  public HttpClientOptions applyTo(HttpClientOptions o) {
    if (!enabled) return o;
    o.setSsl(true).setTrustAll(trustAll).setVerifyHost(verifyHost);
    if (ca != null) o.setTrustOptions(new PemTrustOptions().addCertPath(ca));
    return o;
  }

  public WebSocketClientOptions applyTo(WebSocketClientOptions o) {
    if (!enabled) return o;
    o.setSsl(true).setTrustAll(trustAll).setVerifyHost(verifyHost);
    if (ca != null) o.setTrustOptions(new PemTrustOptions().addCertPath(ca));
    return o;
  }

  public JsonObject toJson() {
    return new JsonObject().put("enabled", enabled).put("ca", ca).put("trust-all", trustAll).put("verify-host", verifyHost);
  }
}
