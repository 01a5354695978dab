import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.httpproxy.ForwardedHeadersOptions;
import io.vertx.httpproxy.HttpProxy;
import io.vertx.httpproxy.OriginRequestProvider;
import io.vertx.httpproxy.ProxyOptions;

/**
 * The reference point for run.sh's "vertx-http-proxy" target: the Web Proxy library's HttpProxy (vertx-http-proxy,
 * the version the Vert.x BOM manages) on the core HttpServer and HttpClient, round-robin over the upstreams, with
 * X-Forwarded-For/-Proto/-Host on as Fairway and the nginx config send them. What a user would get by writing a
 * proxy on the library instead of running Fairway.
 *
 * Run with the fat jar and the library's jar: java -cp target/fairway.jar:vertx-http-proxy.jar
 *   load-tests/VertxHttpProxy.java PORT UPSTREAM_PORT...   (run.sh fetches the jar through Maven)
 */
public class VertxHttpProxy {
  public static void main(String[] args) {
    int port = Integer.parseInt(args[0]);
    SocketAddress[] upstreams = new SocketAddress[args.length - 1];
    for (int i = 1; i < args.length; i++) upstreams[i - 1] = SocketAddress.inetSocketAddress(Integer.parseInt(args[i]), "127.0.0.1");
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(1));
    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true),
      new PoolOptions().setHttp1MaxSize(1000));
    int[] next = {0};
    HttpProxy proxy = HttpProxy.reverseProxy(new ProxyOptions().setForwardedHeadersOptions(new ForwardedHeadersOptions()
        .setEnabled(true).setForwardFor(true).setForwardProto(true).setForwardHost(true)), client)
      .origin(OriginRequestProvider.selector(context -> Future.succeededFuture(upstreams[next[0]++ % upstreams.length])));
    vertx.createHttpServer(new HttpServerOptions().setTcpNoDelay(true)).requestHandler(proxy).listen(port).await();
    System.out.println("vertx-http-proxy on " + port + " (" + (vertx.isNativeTransportEnabled() ? "native" : "nio") + ")");
  }
}
