package dev.fairway.jobs;

import io.vertx.core.http.HttpServerRequest;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Who a job belongs to, by the route's key-scope: a hash of the Authorization header (or another), of the client's
 * address, or one scope for all. Only the hash is kept (in memory and in the spool's metadata), never the credential.
 * The scope's kind leads, so a reader is checked against the rule the job was created under.
 */
public final class JobScope {

  private JobScope() {
  }

  /** @param keyScope {@code header:NAME}, {@code client-ip} or {@code none} */
  public static String of(String keyScope, HttpServerRequest req, String client) {
    if (keyScope.equals("none")) return "none|";
    String value = keyScope.equals("client-ip") ? client : req.getHeader(keyScope.substring("header:".length()));
    return keyScope + "|" + sha256(value == null ? "" : value).substring(0, 32);
  }

  /** Whether {@code req} has the scope of a job created with {@code scope}. */
  static boolean same(String scope, HttpServerRequest req, String client) {
    int bar = scope.indexOf('|');
    return bar > 0 && MessageDigest.isEqual(scope.getBytes(StandardCharsets.UTF_8),
      of(scope.substring(0, bar), req, client).getBytes(StandardCharsets.UTF_8));
  }

  static String sha256(String s) {
    return HexFormat.of().formatHex(digest().digest(s.getBytes(StandardCharsets.UTF_8)));
  }

  static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e); // every Java has it
    }
  }
}
