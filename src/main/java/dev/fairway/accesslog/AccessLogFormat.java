package dev.fairway.accesslog;

import dev.fairway.config.ConfigException;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * The access log line formats: nginx's {@code combined}, the seed's gunicorn format
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
        b.append(r.client()).append(clock.clf(r.epochMillis()));
        requestLine(b, r);
        b.append("\" ").append(r.status()).append(' ').append(r.bytesSent()).append(" \"");
        dash(b, r.referer()).append("\" \"");
        dash(b, r.userAgent()).append('"');
        extras(b, r);
      }
      case GUNICORN -> {
        b.append(r.client()).append(clock.clf(r.epochMillis()));
        requestLine(b, r);
        b.append("\" ").append(r.status()).append(' ');
        if (r.bytesSent() == 0) b.append('-'); else b.append(r.bytesSent());
        b.append(" \"");
        dash(b, r.referer()).append("\" \"");
        dash(b, r.userAgent()).append("\" ").append(r.durationNanos() / 1_000);
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

  private static void requestLine(LineBuffer b, AccessRecord r) {
    if (r.method() == null) {
      b.append('-'); // no request head was received (header_timeout)
      return;
    }
    b.append(r.method()).append(' ');
    escaped(b, r.uri(), "%22").append(' ').append(r.protocol());
  }

  /** Upstream ids (host:port), request ids ({@link RequestIds}) and reasons hold no quotes: written as they are. */
  private static void extras(LineBuffer b, AccessRecord r) {
    b.append(" upstream=");
    plain(b, r.upstream()).append(" upstream_time=");
    if (r.upstreamNanos() < 0) b.append('-'); else seconds(b, r.upstreamNanos());
    b.append(" queue_time=");
    seconds(b, r.queueNanos()).append(" bytes_in=").append(r.bytesReceived()).append(" request_id=");
    plain(b, r.requestId()).append(" reason=");
    plain(b, r.reason());
  }

  private static LineBuffer plain(LineBuffer b, String s) {
    return s == null || s.isEmpty() ? b.append('-') : b.append(s);
  }

  /** Seconds with three decimals, without String.format's cost. */
  private static LineBuffer seconds(LineBuffer b, long nanos) {
    long millis = Math.round(nanos / 1e6);
    long frac = millis % 1000;
    return b.append(millis / 1000).append('.').append(frac < 10 ? "00" : frac < 100 ? "0" : "").append(frac);
  }

  private static LineBuffer dash(LineBuffer b, String s) {
    return s == null || s.isEmpty() ? b.append('-') : escaped(b, s, "\\x22"); // as nginx escapes it
  }

  /** Appends {@code s} with each double quote replaced, so a value cannot end its quoted field. */
  private static LineBuffer escaped(LineBuffer b, String s, String quote) {
    if (s.indexOf('"') < 0) return b.append(s); // the common case, without a loop per character
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"') b.append(quote); else b.append(c);
    }
    return b;
  }
}
