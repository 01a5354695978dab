package dev.fairway.config;

import io.vertx.core.json.JsonArray;

import java.util.ArrayList;
import java.util.List;

/**
 * What Fairway allows and believes of clients: how long a connection may sit without a request, which peers' client
 * addresses are believed ({@code trusted-proxies}, {@code client-ip-header}), and headers with underscores.
 */
public final class ClientOptions {

  /** nginx's client_header_timeout (60 s in nginx; 10 s in Fairway, as slowloris advice has it). */
  public static final long DEFAULT_HEADER_TIMEOUT = 10_000;
  /** nginx's keepalive_timeout. */
  public static final long DEFAULT_KEEPALIVE_TIMEOUT = 75_000;

  static final ConfigKeys<ClientOptions> KEYS = new ConfigKeys<ClientOptions>()
    .key("client-header-timeout", (r, key, o) -> o.headerTimeoutMillis = r.duration(key, o.headerTimeoutMillis),
      o -> Durations.format(o.headerTimeoutMillis))
    .key("client-keepalive-timeout", (r, key, o) -> o.keepAliveTimeoutMillis = r.duration(key, o.keepAliveTimeoutMillis),
      o -> Durations.format(o.keepAliveTimeoutMillis))
    .key("trusted-proxies", (r, key, o) -> {
      JsonArray cidrs = r.array(key);
      if (cidrs.isEmpty()) return;
      List<Cidr> trusted = new ArrayList<>();
      for (int i = 0; i < cidrs.size(); i++) trusted.add(Cidr.parse(key + "[" + i + "]", String.valueOf(cidrs.getValue(i))));
      o.trustedProxies = List.copyOf(trusted);
    }, o -> new JsonArray(o.trustedProxies.stream().map(Cidr::toString).toList()))
    .key("client-ip-header", (r, key, o) -> o.clientIpHeader = r.string(key, o.clientIpHeader), o -> o.clientIpHeader)
    .key("max-connections", (r, key, o) -> o.maxConnections = r.integer(key, o.maxConnections, 0, 10_000_000), o -> o.maxConnections)
    .key("max-client-connections", (r, key, o) -> o.maxClientConnections = r.integer(key, o.maxClientConnections, 0, 10_000_000),
      o -> o.maxClientConnections)
    .key("underscores-in-headers", (r, key, o) -> {
      String underscores = r.string(key, o.dropUnderscoreHeaders ? "drop" : "allow");
      if (!underscores.equals("drop") && !underscores.equals("allow")) {
        throw ConfigException.invalid(r.key(key), underscores, "drop or allow");
      }
      o.dropUnderscoreHeaders = underscores.equals("drop");
    }, o -> o.dropUnderscoreHeaders ? "drop" : "allow");

  /** A new client connection must complete its first request head within this; 0 = no limit. */
  private long headerTimeoutMillis = DEFAULT_HEADER_TIMEOUT;
  /** A kept-alive client connection with no request in progress is closed after this; 0 = never. */
  private long keepAliveTimeoutMillis = DEFAULT_KEEPALIVE_TIMEOUT;
  /** Peers whose X-Forwarded-For (or client-ip-header) is believed. */
  private List<Cidr> trustedProxies = List.of();
  /** A header a trusted peer sets to the client address, e.g. CF-Connecting-IP; null = use X-Forwarded-For. */
  private String clientIpHeader;
  /** Open client connections at most, across all proxy instances; more are closed as they open. 0 = no cap. */
  private int maxConnections;
  /** Open connections at most from one client address (the TCP peer); 0 = no cap. */
  private int maxClientConnections;
  /** Drop request headers whose names contain '_' (many backends read them as '-'): nginx's default. */
  private boolean dropUnderscoreHeaders = true;

  public long getHeaderTimeoutMillis() {
    return headerTimeoutMillis;
  }

  public ClientOptions setHeaderTimeoutMillis(long millis) {
    this.headerTimeoutMillis = millis;
    return this;
  }

  public long getKeepAliveTimeoutMillis() {
    return keepAliveTimeoutMillis;
  }

  public ClientOptions setKeepAliveTimeoutMillis(long millis) {
    this.keepAliveTimeoutMillis = millis;
    return this;
  }

  public List<Cidr> getTrustedProxies() {
    return trustedProxies;
  }

  public ClientOptions setTrustedProxies(List<Cidr> trustedProxies) {
    this.trustedProxies = List.copyOf(trustedProxies);
    return this;
  }

  public String getClientIpHeader() {
    return clientIpHeader;
  }

  public ClientOptions setClientIpHeader(String clientIpHeader) {
    this.clientIpHeader = clientIpHeader;
    return this;
  }

  public int getMaxConnections() {
    return maxConnections;
  }

  public int getMaxClientConnections() {
    return maxClientConnections;
  }

  public ClientOptions setConnectionCaps(int maxConnections, int maxClientConnections) {
    this.maxConnections = maxConnections;
    this.maxClientConnections = maxClientConnections;
    return this;
  }

  public boolean isDropUnderscoreHeaders() {
    return dropUnderscoreHeaders;
  }
}
