import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

/**
 * The reference point for run.sh's "vertx-pipe" target: the least a proxy on Vert.x's core HttpServer and HttpClient
 * can do (round-robin, every header copied both ways, bodies piped), with none of Fairway's features. What Fairway
 * costs over it is Fairway's own; what it costs over nginx is Vert.x's.
 *
 * Run from the fat jar's classes: java -cp target/fairway.jar load-tests/VertxPipe.java PORT UPSTREAM_PORT...
 */
public class VertxPipe {
  public static void main(String[] args) {
    int port = Integer.parseInt(args[0]);
    int[] upstreams = new int[args.length - 1];
    for (int i = 1; i < args.length; i++) upstreams[i - 1] = Integer.parseInt(args[i]);
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(1));
    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true),
      new PoolOptions().setHttp1MaxSize(1000));
    int[] next = {0};
    vertx.createHttpServer(new HttpServerOptions().setTcpNoDelay(true)).requestHandler(req -> {
      int upstream = upstreams[next[0]++ % upstreams.length];
      req.pause(); // until the upstream request can take the body
      client.request(new RequestOptions().setMethod(req.method()).setURI(req.uri()).setHost("127.0.0.1").setPort(upstream))
        .compose(creq -> {
          creq.headers().setAll(req.headers());
          return creq.send(req);
        })
        .onSuccess(cresp -> {
          req.response().setStatusCode(cresp.statusCode()).headers().setAll(cresp.headers());
          req.response().send(cresp);
        })
        .onFailure(err -> req.response().setStatusCode(502).end());
    }).listen(port).await();
    System.out.println("vertx-pipe on " + port + " (" + (vertx.isNativeTransportEnabled() ? "native" : "nio") + ")");
  }
}
