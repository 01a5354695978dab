package dev.fairway.proxy;

/**
 * Every way a proxied request can fail, in one catalogue: the status the client gets, the reason code written to the
 * access log and metrics, the message of the short plain-text body, whether it counts against the upstream (passive
 * health) and whether another attempt may follow. Every writer of an error response takes its entry from here.
 */
enum Failure {

  METHOD_NOT_ALLOWED(405, "method_not_allowed", "method not allowed", Blame.CLIENT, Retry.NEVER),
  BAD_REQUEST(400, "bad_request", "bad request", Blame.CLIENT, Retry.NEVER),
  BODY_TOO_LARGE(413, "body_too_large", "request body is over max-body-size", Blame.CLIENT, Retry.NEVER),
  NO_HEALTHY_UPSTREAM(503, "no_healthy_upstream", "no healthy upstream", Blame.NONE, Retry.NEVER),
  QUEUE_FULL(503, "queue_full", "all upstreams are busy and the queue is full", Blame.NONE, Retry.NEVER),
  QUEUE_TIMEOUT(503, "queue_timeout", "all upstreams stayed busy for queue-timeout", Blame.NONE, Retry.NEVER),
  /** Fairway's own connection limit (pool-size) towards the upstream: not the upstream's fault. */
  POOL_FULL(503, "pool_full", "upstream connection pool is full", Blame.NONE, Retry.NEVER),
  /** Refused or unroutable: no byte was sent, so any method may go to another upstream. */
  UPSTREAM_UNREACHABLE(502, "upstream_unreachable", "upstream unreachable", Blame.UPSTREAM, Retry.ANY_METHOD),
  CONNECT_TIMEOUT(504, "connect_timeout", "upstream connect timed out", Blame.UPSTREAM, Retry.ANY_METHOD),
  /** Closed or reset before its response head: the request may have been processed, so only a safe one goes again. */
  UPSTREAM_CLOSED(502, "upstream_closed", "upstream closed the connection", Blame.UPSTREAM, Retry.IDEMPOTENT),
  UPSTREAM_TIMEOUT(504, "upstream_timeout", "upstream timed out", Blame.UPSTREAM, Retry.NEVER),
  UPSTREAM_INVALID(502, "upstream_invalid", "upstream sent an invalid response", Blame.UPSTREAM, Retry.NEVER),
  UPSTREAM_STALLED(504, "upstream_stalled", "upstream stopped reading the request body", Blame.NONE, Retry.NEVER),
  TOTAL_TIMEOUT(504, "total_timeout", "upstream timed out", Blame.NONE, Retry.NEVER),
  CLIENT_STALLED(408, "client_stalled", "request body stalled", Blame.CLIENT, Retry.NEVER),
  /** The upload went on, but slower than the route's min-upload-rate. */
  CLIENT_TOO_SLOW(408, "client_too_slow", "request body slower than min-upload-rate", Blame.CLIENT, Retry.NEVER),
  /** Over the route's rate-limit for this client; Retry-After says when a request will be taken again. */
  RATE_LIMITED(429, "rate_limited", "too many requests", Blame.CLIENT, Retry.NEVER),
  /** The client went away; nginx's 499, seen in the log and metrics only. */
  CLIENT_ABORT(499, "client_abort", "client closed the request", Blame.CLIENT, Retry.NEVER),
  /** A new connection sent no complete request head within client-header-timeout; logged as nginx does. */
  HEADER_TIMEOUT(408, "header_timeout", "request head timed out", Blame.CLIENT, Retry.NEVER),
  /** The job this request runs was cancelled (DELETE on its URL, or the admin API). */
  JOB_CANCELLED(409, "job_cancelled", "the job was cancelled", Blame.NONE, Retry.NEVER),
  /** The upstream could not be reached for a WebSocket. */
  WEBSOCKET_UNREACHABLE(502, "upstream_unreachable", "upstream refused the WebSocket", Blame.UPSTREAM, Retry.NEVER),
  /** The upstream answered the upgrade with a status of its own (say 404): an answer about the request, not a fault. */
  WEBSOCKET_DECLINED(502, "websocket_declined", "upstream declined the WebSocket", Blame.NONE, Retry.NEVER);

  /** Whose fault a failure is; only the upstream's count towards passive ejection. */
  enum Blame { CLIENT, UPSTREAM, NONE }

  /** Whether another attempt may follow, on another upstream. */
  enum Retry { NEVER, IDEMPOTENT, ANY_METHOD }

  /** Seconds a client is told to wait after a 503 for a full or slow queue, or no healthy upstream. */
  static final String RETRY_AFTER_SECONDS = "5";

  private final int status;
  private final String code;
  private final String message;
  private final Blame blame;
  private final Retry retry;

  Failure(int status, String code, String message, Blame blame, Retry retry) {
    this.status = status;
    this.code = code;
    this.message = message;
    this.blame = blame;
    this.retry = retry;
  }

  int status() {
    return status;
  }

  /** The reason code in the access log and the metrics' {@code reason} tags. */
  String code() {
    return code;
  }

  /** The body's text: the catalogue's words, then the detail if any (which limit, which timeout). */
  String message(String detail) {
    return detail == null ? message : message + " " + detail;
  }

  boolean countsAgainstUpstream() {
    return blame == Blame.UPSTREAM;
  }

  Retry retry() {
    return retry;
  }

  /** A 503 asks the client to come back later. */
  boolean asksToRetryLater() {
    return status == 503;
  }
}
