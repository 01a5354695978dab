package dev.fairway.accesslog;

/**
 * What is known about one finished request, captured on the event loop as plain values and formatted there, into
 * that loop's block of lines (see {@link AccessLog.Lines}).
 *
 * @param upstreamNanos time to the upstream's response head, or -1 if none came
 * @param queueNanos    time spent in the wait queue, 0 if none
 * @param reason        why the request failed (e.g. {@code upstream_timeout}, {@code client_abort}), or null
 */
public record AccessRecord(long epochMillis, String client, String method, String uri, String protocol, int status,
                           long bytesSent, long bytesReceived, String referer, String userAgent, long durationNanos,
                           String upstream, long upstreamNanos, long queueNanos, String requestId, String reason) {
}
