package dev.fairway.accesslog;

import dev.fairway.config.ConfigException;
import io.vertx.core.json.JsonObject;

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
  /** The last formatted second: only the writer thread formats, and most lines share their second. */
  private static long cachedSecond = -1;
  private static String cachedTime;

  public static AccessLogFormat parse(String key, String value) {
    for (AccessLogFormat f : values()) {
      if (f.name().equalsIgnoreCase(value)) return f;
    }
    throw ConfigException.invalid(key, value, "combined, gunicorn or json");
  }

  public String format(AccessRecord r) {
    return switch (this) {
      case COMBINED -> r.client() + " - - [" + clfTime(r.epochMillis()) + "] \"" + requestLine(r)
        + "\" " + r.status() + " " + r.bytesSent() + " \"" + dash(r.referer()) + "\" \"" + dash(r.userAgent()) + "\"" + extras(r);
      case GUNICORN -> r.client() + " - - [" + clfTime(r.epochMillis()) + "] \"" + requestLine(r)
        + "\" " + r.status() + " " + (r.bytesSent() == 0 ? "-" : r.bytesSent()) + " \"" + dash(r.referer()) + "\" \""
        + dash(r.userAgent()) + "\" " + r.durationNanos() / 1_000 + extras(r);
      case JSON -> new JsonObject()
        .put("time", Instant.ofEpochMilli(r.epochMillis()).toString())
        .put("client", r.client()).put("method", r.method()).put("uri", r.uri()).put("protocol", r.protocol())
        .put("status", r.status()).put("bytes_sent", r.bytesSent()).put("bytes_received", r.bytesReceived())
        .put("referer", r.referer()).put("user_agent", r.userAgent())
        .put("duration_ms", r.durationNanos() / 1e6)
        .put("upstream", r.upstream())
        .put("upstream_ms", r.upstreamNanos() < 0 ? null : r.upstreamNanos() / 1e6)
        .put("queue_ms", r.queueNanos() / 1e6)
        .put("request_id", r.requestId()).put("reason", r.reason())
        .encode();
    };
  }

  private static synchronized String clfTime(long epochMillis) {
    long second = epochMillis / 1000;
    if (second != cachedSecond) {
      cachedSecond = second;
      cachedTime = CLF_TIME.format(Instant.ofEpochMilli(epochMillis));
    }
    return cachedTime;
  }

  private static String requestLine(AccessRecord r) {
    if (r.method() == null) return "-"; // no request head was received (header_timeout)
    return r.method() + " " + r.uri().replace("\"", "%22") + " " + r.protocol();
  }

  private static String extras(AccessRecord r) {
    return " upstream=" + dash(r.upstream())
      + " upstream_time=" + (r.upstreamNanos() < 0 ? "-" : seconds(r.upstreamNanos()))
      + " queue_time=" + seconds(r.queueNanos())
      + " bytes_in=" + r.bytesReceived()
      + " request_id=" + dash(r.requestId())
      + " reason=" + dash(r.reason());
  }

  /** Seconds with three decimals, without String.format's cost. */
  private static String seconds(long nanos) {
    long millis = Math.round(nanos / 1e6);
    long frac = millis % 1000;
    return millis / 1000 + "." + (frac < 10 ? "00" : frac < 100 ? "0" : "") + frac;
  }

  private static String dash(String s) {
    return s == null || s.isEmpty() ? "-" : s.replace("\"", "\\x22"); // as nginx escapes it
  }
}
