package dev.fairway.demo;

import io.vertx.core.Vertx;

/**
 * {@code java -cp fairway.jar dev.fairway.demo.DemoServer HOST PORT [DELAY_MS]}: one demo upstream on its own, e.g.
 * in a container or as a benchmark backend that answers after a fixed delay.
 */
public final class DemoServer {

  private DemoServer() {
  }

  public static void main(String[] args) {
    String host = args.length > 0 ? args[0] : "127.0.0.1";
    int port = args.length > 1 ? Integer.parseInt(args[1]) : 5000;
    long delay = args.length > 2 ? Long.parseLong(args[2]) : 0;
    Vertx.vertx().deployVerticle(new DemoUpstreamVerticle(host, port, delay)).await();
    System.out.println("demo upstream on http://" + host + ":" + port);
  }
}
