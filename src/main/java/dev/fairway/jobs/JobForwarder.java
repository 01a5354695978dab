package dev.fairway.jobs;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;

import java.util.Set;

/**
 * Passes a request about a job to the node of the cluster that runs it, and streams its answer back, with
 * back-pressure both ways: a resume reads the spool where it is, and a repeated Idempotency-Key reaches the job.
 * One per proxy instance; its client is made on first use, on the instance's event loop.
 */
public final class JobForwarder {

  private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
    "trailer", "upgrade");

  private final Vertx vertx;
  private HttpClient client;

  public JobForwarder(Vertx vertx) {
    this.vertx = vertx;
  }

  /** @param address the other node's proxy port, host:port; the request may be paused (its body waits for the pipe) */
  public void forward(HttpServerRequest req, String address) {
    int colon = address.lastIndexOf(':');
    RequestOptions options = new RequestOptions().setMethod(req.method()).setURI(req.uri())
      .setHost(address.substring(0, colon).replace("[", "").replace("]", "")).setPort(Integer.parseInt(address.substring(colon + 1)));
    copy(req.headers(), options.getHeaders() == null ? setHeaders(options) : options.getHeaders());
    options.putHeader(JobDirectory.FORWARDED, "1");
    HttpServerResponse resp = req.response();
    client().request(options)
      .compose(upstream -> {
        boolean body = req.getHeader(HttpHeaders.CONTENT_LENGTH) != null || req.getHeader(HttpHeaders.TRANSFER_ENCODING) != null;
        if (body && req.getHeader(HttpHeaders.CONTENT_LENGTH) == null) upstream.setChunked(true);
        if (body) return upstream.send(req);
        req.resume(); // nothing to read but its end
        return upstream.send();
      })
      .onSuccess(answer -> {
        resp.setStatusCode(answer.statusCode()).setStatusMessage(answer.statusMessage());
        copy(answer.headers(), resp.headers());
        if (answer.getHeader(HttpHeaders.CONTENT_LENGTH) == null) resp.setChunked(true);
        answer.pipeTo(resp);
      })
      .onFailure(err -> {
        if (!resp.headWritten()) {
          Problem.send(resp, 502, "job's node did not answer", "the node that runs the job could not be reached: " + err.getMessage());
        } else {
          resp.reset();
        }
      });
  }

  private static MultiMap setHeaders(RequestOptions options) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    options.setHeaders(headers);
    return headers;
  }

  private static void copy(MultiMap from, MultiMap to) {
    from.forEach(e -> {
      if (!HOP_BY_HOP.contains(e.getKey().toLowerCase(java.util.Locale.ROOT))) to.add(e.getKey(), e.getValue());
    });
  }

  private HttpClient client() {
    if (client == null) client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(5_000));
    return client;
  }
}
