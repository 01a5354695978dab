package dev.fairway.accesslog;

import java.util.concurrent.ThreadLocalRandom;

/** Request IDs: a client's well-formed X-Request-Id is kept, anything else is replaced by a fresh random one. */
public final class RequestIds {

  private static final int MAX_LENGTH = 128;

  private RequestIds() {
  }

  public static String keepOrCreate(String incoming) {
    return wellFormed(incoming) ? incoming : create();
  }

  /** 32 hex digits of randomness, like a UUID without the dashes and the cost of SecureRandom. */
  public static String create() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    return hex16(r.nextLong()) + hex16(r.nextLong());
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

  private static String hex16(long v) {
    String s = Long.toHexString(v);
    return s.length() == 16 ? s : "0".repeat(16 - s.length()) + s;
  }
}
