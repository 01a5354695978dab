package dev.fairway.ops;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * {@code java -cp fairway.jar dev.fairway.ops.Probe URL}: exits 0 if the URL answers 200 within 2 s, else 1. For
 * container HEALTHCHECKs, since JRE images have no curl.
 */
public final class Probe {

  private Probe() {
  }

  public static void main(String[] args) {
    String url = args.length > 0 ? args[0] : "http://127.0.0.1:9901/health/live";
    try {
      HttpResponse<Void> resp = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()
        .send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
      System.exit(resp.statusCode() == 200 ? 0 : 1);
    } catch (Exception e) {
      System.err.println(url + ": " + e);
      System.exit(1);
    }
  }
}
