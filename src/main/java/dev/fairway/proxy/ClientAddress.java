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
    this.header = header;
  }

  String of(HttpServerRequest req, String peerAddress) {
    if (trusted.isEmpty() || !isTrusted(peerAddress)) {
      return peerAddress;
    }
    if (header != null) {
      String value = req.getHeader(header);
      if (value != null && Cidr.literal(value.trim()) != null) {
        return value.trim();
      }
    }
    String chain = String.join(",", req.headers().getAll(ForwardedHeaders.X_FORWARDED_FOR));
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
