package dev.fairway.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A strict reader of an HTTP/1.1 chunked body as it is on the wire: lower- or upper-case hex sizes without extensions,
 * CRLF after each size line and after each chunk's bytes, a zero-size last chunk, trailer lines, a final CRLF.
 */
public final class ChunkedBody {

  /** The decoded bytes, each chunk's size as framed, and the trailer lines. */
  public record Decoded(byte[] body, List<Integer> sizes, List<String> trailers) {
  }

  /** Thrown for bytes that are not a well-formed chunked body. */
  public static final class Malformed extends RuntimeException {
    Malformed(String message, int at) {
      super(message + " at byte " + at);
    }
  }

  private ChunkedBody() {
  }

  /**
   * Decodes the chunked body that starts at {@code from}; null while it is incomplete (more bytes may come), and
   * {@link Malformed} as soon as the bytes cannot be one.
   */
  public static Decoded decode(byte[] wire, int from) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    List<Integer> sizes = new ArrayList<>();
    int at = from;
    while (true) {
      int eol = lineEnd(wire, at);
      if (eol < 0) return null;
      String line = new String(wire, at, eol - at, StandardCharsets.US_ASCII);
      if (line.isEmpty() || !line.matches("[0-9a-fA-F]{1,8}")) throw new Malformed("bad size line '" + line + "'", at);
      int size = Integer.parseInt(line, 16);
      sizes.add(size);
      at = eol + 2;
      if (size == 0) break;
      if (wire.length < at + size + 2) return null;
      body.write(wire, at, size);
      at += size;
      if (wire[at] != '\r' || wire[at + 1] != '\n') throw new Malformed("no CRLF after a chunk's bytes", at);
      at += 2;
    }
    List<String> trailers = new ArrayList<>();
    while (true) {
      int eol = lineEnd(wire, at);
      if (eol < 0) return null;
      if (eol == at) {
        if (at + 2 != wire.length) throw new Malformed("bytes after the body", at + 2);
        return new Decoded(body.toByteArray(), sizes, trailers);
      }
      trailers.add(new String(wire, at, eol - at, StandardCharsets.ISO_8859_1));
      at = eol + 2;
    }
  }

  /** The index of the CR of the next CRLF from {@code from}, or -1 when there is none yet. */
  private static int lineEnd(byte[] wire, int from) {
    for (int i = from; i + 1 < wire.length; i++) {
      if (wire[i] == '\r') {
        if (wire[i + 1] != '\n') throw new Malformed("CR without LF", i);
        return i;
      }
      if (wire[i] == '\n') throw new Malformed("LF without CR", i);
    }
    return -1;
  }

  /** Reads a message head off {@code in}, byte by byte, through its blank line (what follows stays unread). */
  public static String readHead(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) throw new IOException("closed in the head: " + head);
      head.append((char) b);
    }
    return head.toString();
  }

  /** The index just past the blank line that ends a message head, or -1 while it is incomplete. */
  public static int headEnd(byte[] wire) {
    for (int i = 3; i < wire.length; i++) {
      if (wire[i - 3] == '\r' && wire[i - 2] == '\n' && wire[i - 1] == '\r' && wire[i] == '\n') return i + 1;
    }
    return -1;
  }
}
