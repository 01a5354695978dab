package dev.fairway.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** HTTP as raw bytes over a plain socket, for requests no well-behaved client would send. */
public final class RawHttp {

  /** The response as text, and whether the server then closed the connection. */
  public record Response(String text, boolean closed) {
    public int status() {
      return Integer.parseInt(text.substring(9, 12));
    }
  }

  private RawHttp() {
  }

  /** Sends {@code request} and reads one response (by its Content-Length, chunks, or until close). */
  public static Response exchange(int port, String request) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(5_000);
      s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = s.getInputStream();
      String head = readHead(in);
      if (head == null) return new Response("", true);
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      String lower = head.toLowerCase();
      int cl = lower.indexOf("\r\ncontent-length:");
      if (cl >= 0) {
        int len = Integer.parseInt(lower.substring(cl + 17, lower.indexOf("\r\n", cl + 2)).trim());
        body.write(in.readNBytes(len));
      } else if (lower.contains("transfer-encoding: chunked")) {
        while (!body.toString(StandardCharsets.ISO_8859_1).endsWith("0\r\n\r\n")) {
          int b = in.read();
          if (b < 0) break;
          body.write(b);
        }
      } else if (!head.startsWith("HTTP/1.1 1")) {
        body.write(in.readAllBytes());
      }
      boolean closed;
      try {
        closed = in.read() < 0;
      } catch (IOException e) {
        closed = true;
      }
      return new Response(head + body.toString(StandardCharsets.ISO_8859_1), closed);
    }
  }

  private static String readHead(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    int b;
    while ((b = in.read()) >= 0) {
      head.append((char) b);
      if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) return head.toString();
    }
    return head.length() == 0 ? null : head.toString();
  }
}
