package dev.fairway.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/** An IPv4 or IPv6 network such as {@code 10.0.0.0/8} or {@code ::1/128}; a bare address is a single host. */
public final class Cidr {

  private static final Pattern LITERAL = Pattern.compile("[0-9.]+|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*");

  private final byte[] network;
  private final int prefix;
  private final String text;

  private Cidr(byte[] network, int prefix, String text) {
    this.network = network;
    this.prefix = prefix;
    this.text = text;
  }

  public static Cidr parse(String key, String value) {
    String[] parts = value.trim().split("/", 2);
    byte[] address = literal(parts[0]);
    int prefix = address == null ? -1 : address.length * 8;
    if (address != null && parts.length == 2) {
      try {
        prefix = Integer.parseInt(parts[1]);
      } catch (NumberFormatException e) {
        prefix = -1;
      }
    }
    if (address == null || prefix < 0 || prefix > address.length * 8) {
      throw ConfigException.invalid(key, value, "an IP network such as 10.0.0.0/8, 127.0.0.1 or ::1/128");
    }
    return new Cidr(address, prefix, value.trim());
  }

  /** Parses an IP literal without ever asking DNS; null if {@code s} is not one. */
  public static byte[] literal(String s) {
    if (s == null || s.isEmpty() || !LITERAL.matcher(s).matches()) return null;
    if (!s.contains(":") && s.split("\\.", -1).length != 4) return null;
    try {
      return InetAddress.getByName(s).getAddress();
    } catch (UnknownHostException e) {
      return null;
    }
  }

  public boolean contains(byte[] address) {
    if (address == null || address.length != network.length) return false;
    int full = prefix / 8;
    for (int i = 0; i < full; i++) {
      if (address[i] != network[i]) return false;
    }
    int rest = prefix % 8;
    if (rest == 0) return true;
    int mask = 0xff << (8 - rest);
    return (address[full] & mask) == (network[full] & mask);
  }

  @Override
  public String toString() {
    return text;
  }
}
