package dev.fairway.accesslog;

import dev.fairway.config.ConfigException;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * The access log line formats: nginx's {@code combined}, the gunicorn format of the usual Flask setup
 * ({@code %(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)s}), and {@code json}. The text formats
 * end with Fairway's own fields as {@code key=value}: upstream, upstream time, queue wait, bytes in, request id,
 * failure reason.
 */
public enum AccessLogFormat {
  COMBINED, GUNICORN, JSON;

  private static final DateTimeFormatter CLF_TIME =
    DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT).withZone(ZoneId.systemDefault());

  /**
   * The time as the text formats write it, with the fields around it ({@code  - - [...] "}), formatted once a second:
   * each event loop has its own.
   */
  static final class Clock {
    private long second = -1;
    private byte[] text;

    byte[] clf(long epochMillis) {
      if (epochMillis / 1000 != second) {
        second = epochMillis / 1000;
        text = (" - - [" + CLF_TIME.format(Instant.ofEpochMilli(epochMillis)) + "] \"").getBytes(StandardCharsets.ISO_8859_1);
      }
      return text;
    }
  }

  public static AccessLogFormat parse(String key, String value) {
    for (AccessLogFormat f : values()) {
      if (f.name().equalsIgnoreCase(value)) return f;
    }
    throw ConfigException.invalid(key, value, "combined, gunicorn or json");
  }

  public String format(AccessRecord r) {
    LineBuffer line = new LineBuffer(256);
    appendTo(line, r, new Clock());
    return line.toString();
  }

  /** Appends one line (without its newline) to an event loop's block of lines. */
  void appendTo(LineBuffer b, AccessRecord r, Clock clock) {
    switch (this) {
      case COMBINED -> {
        head(b, r, clock);
        b.append(r.bytesSent()).append(QUOTE_OPEN);
        dash(b, r.referer()).append(QUOTES_BETWEEN);
        dash(b, r.userAgent()).append('"');
        extras(b, r);
      }
      case GUNICORN -> {
        head(b, r, clock);
        if (r.bytesSent() == 0) b.append('-'); else b.append(r.bytesSent());
        b.append(QUOTE_OPEN);
        dash(b, r.referer()).append(QUOTES_BETWEEN);
        dash(b, r.userAgent()).append(QUOTE_CLOSE).append(r.durationNanos() / 1_000);
        extras(b, r);
      }
      case JSON -> b.append(new JsonObject()
        .put("time", Instant.ofEpochMilli(r.epochMillis()).toString())
        .put("client", r.client()).put("method", r.method()).put("uri", r.uri()).put("protocol", r.protocol())
        .put("status", r.status()).put("bytes_sent", r.bytesSent()).put("bytes_received", r.bytesReceived())
        .put("referer", r.referer()).put("user_agent", r.userAgent())
        .put("duration_ms", r.durationNanos() / 1e6)
        .put("upstream", r.upstream())
        .put("upstream_ms", r.upstreamNanos() < 0 ? null : r.upstreamNanos() / 1e6)
        .put("queue_ms", r.queueNanos() / 1e6)
        .put("request_id", r.requestId()).put("reason", r.reason())
        .encode());
    }
  }

  // The fixed text between fields, as bytes: each is one array copy, with no String to take apart.
  private static final byte[] QUOTE_OPEN = bytes(" \"");
  private static final byte[] QUOTE_CLOSE = bytes("\" ");
  private static final byte[] QUOTES_BETWEEN = bytes("\" \"");
  private static final byte[] UPSTREAM = bytes(" upstream=");
  private static final byte[] UPSTREAM_TIME = bytes(" upstream_time=");
  private static final byte[] QUEUE_TIME = bytes(" queue_time=");
  private static final byte[] BYTES_IN = bytes(" bytes_in=");
  private static final byte[] REQUEST_ID = bytes(" request_id=");
  private static final byte[] REASON = bytes(" reason=");

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  /** {@code client - - [time] "request line" status }, the start both text formats share. */
  private static void head(LineBuffer b, AccessRecord r, Clock clock) {
    b.append(r.client()).append(clock.clf(r.epochMillis()));
    if (r.method() == null) {
      b.append('-'); // no request head was received (header_timeout)
    } else {
      b.append(r.method()).append(' ');
      escaped(b, r.uri(), "%").append(' ').append(r.protocol());
    }
    b.append(QUOTE_CLOSE).append(r.status()).append(' ');
  }

  /** Upstream ids (host:port), request ids ({@link RequestIds}) and reasons hold no quotes: written as they are. */
  private static void extras(LineBuffer b, AccessRecord r) {
    plain(b.append(UPSTREAM), r.upstream()).append(UPSTREAM_TIME);
    if (r.upstreamNanos() < 0) b.append('-'); else b.appendMillisAsSeconds(millis(r.upstreamNanos()));
    b.append(QUEUE_TIME).appendMillisAsSeconds(millis(r.queueNanos()));
    b.append(BYTES_IN).append(r.bytesReceived());
    plain(b.append(REQUEST_ID), r.requestId()).append(REASON);
    plain(b, r.reason());
  }

  private static long millis(long nanos) {
    return (nanos + 500_000) / 1_000_000; // rounded to the nearest, as nanos are never negative here
  }

  private static LineBuffer plain(LineBuffer b, String s) {
    return s == null || s.isEmpty() ? b.append('-') : b.append(s);
  }

  private static LineBuffer dash(LineBuffer b, String s) {
    return s == null || s.isEmpty() ? b.append('-') : escaped(b, s, "\\x"); // as nginx escapes it
  }

  /**
   * Appends {@code s} with each double quote, backslash and control byte written as {@code prefix} and two hex digits
   * ({@code \x22} in a header, {@code %22} in the URI), so a value can neither end its quoted field nor start a line
   * of its own (an HTTP/2 header may carry a newline). Other bytes, UTF-8 included, are written as they came.
   */
  private static LineBuffer escaped(LineBuffer b, String s, String prefix) {
    int first = firstToEscape(s);
    if (first < 0) return b.append(s); // the common case: one scan, one copy
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (i >= first && mustEscape(c)) {
        b.append(prefix).append(HEX[(c >> 4) & 0xF]).append(HEX[c & 0xF]);
      } else {
        b.append(c);
      }
    }
    return b;
  }

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private static int firstToEscape(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (mustEscape(s.charAt(i))) return i;
    }
    return -1;
  }

  private static boolean mustEscape(char c) {
    return c < 0x20 || c == '"' || c == '\\' || c == 0x7F;
  }
}
