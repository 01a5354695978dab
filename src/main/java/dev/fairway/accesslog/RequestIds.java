package dev.fairway.accesslog;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

/** Request IDs: a client's well-formed X-Request-Id is kept, anything else is replaced by a fresh random one. */
public final class RequestIds {

  private static final int MAX_LENGTH = 128;
  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.ISO_8859_1);

  private RequestIds() {
  }

  public static String keepOrCreate(String incoming) {
    return wellFormed(incoming) ? incoming : create();
  }

  /** 32 hex digits of randomness, like a UUID without the dashes and the cost of SecureRandom. */
  public static String create() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    byte[] id = new byte[32];
    hex16(id, 0, r.nextLong());
    hex16(id, 16, r.nextLong());
    return new String(id, StandardCharsets.ISO_8859_1); // one copy, rather than three strings and a concatenation
  }

  static boolean wellFormed(String id) {
    if (id == null || id.isEmpty() || id.length() > MAX_LENGTH) return false;
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == ':';
      if (!ok) return false;
    }
    return true;
  }

  private static void hex16(byte[] into, int at, long v) {
    for (int i = at + 15; i >= at; i--, v >>>= 4) {
      into[i] = HEX[(int) v & 0xf];
    }
  }
}
