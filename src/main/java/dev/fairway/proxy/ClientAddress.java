package dev.fairway.proxy;

import dev.fairway.config.Cidr;
import io.vertx.core.http.HttpServerRequest;

import java.util.List;

/**
 * Who the client really is. Only a trusted peer (a load balancer or tunnel in {@code trusted-proxies}) is believed
 * about it: then the configured header (e.g. CF-Connecting-IP) or else the rightmost untrusted X-Forwarded-For hop is
 * the client. From anyone else, a client-sent X-Forwarded-For is just data and the peer address is the client.
 */
final class ClientAddress {

  private final List<Cidr> trusted;
  private final String header;

  ClientAddress(List<Cidr> trusted, String header) {
    this.trusted = List.copyOf(trusted);
    this.header = header == null ? null : header.toLowerCase(java.util.Locale.ROOT);
  }

  String of(HttpServerRequest req, String peerAddress) {
    if (!believes(peerAddress)) return peerAddress;
    return believed(peerAddress, header == null ? null : req.getHeader(header),
      String.join(",", req.headers().getAll(ForwardedHeaders.X_FORWARDED_FOR)));
  }

  /** The same for a head the direct HTTP/1.1 path read (which noted the {@link #header} and X-Forwarded-For values). */
  String of(RequestHead head, String peerAddress) {
    if (!believes(peerAddress)) return peerAddress;
    return believed(peerAddress, head.clientHeader, head.forwardedFor == null ? "" : head.forwardedFor);
  }

  /** The header a trusted peer names the client in (e.g. cf-connecting-ip), in lower case; null: X-Forwarded-For. */
  String header() {
    return header;
  }

  private boolean believes(String peerAddress) {
    return !trusted.isEmpty() && isTrusted(peerAddress);
  }

  /** What a trusted peer says: {@code headerValue}, if an address, else the rightmost untrusted hop of {@code chain}. */
  private String believed(String peerAddress, String headerValue, String chain) {
    if (headerValue != null && Cidr.literal(headerValue.trim()) != null) {
      return headerValue.trim();
    }
    if (chain.isBlank()) {
      return peerAddress;
    }
    String[] hops = chain.split(",");
    for (int i = hops.length - 1; i >= 0; i--) {
      String hop = hops[i].trim();
      if (Cidr.literal(hop) == null) {
        return peerAddress; // garbage in the chain: believe nothing to the left of it
      }
      if (!isTrusted(hop)) {
        return hop;
      }
    }
    return hops[0].trim();
  }

  private boolean isTrusted(String address) {
    byte[] bytes = Cidr.literal(address);
    for (Cidr cidr : trusted) {
      if (cidr.contains(bytes)) return true;
    }
    return false;
  }
}
