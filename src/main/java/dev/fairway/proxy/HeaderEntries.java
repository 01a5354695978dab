package dev.fairway.proxy;

import io.netty.util.AsciiString;
import io.vertx.core.MultiMap;

import java.util.Iterator;
import java.util.Map;

/**
 * A request's headers walked as they are held. Vert.x's HTTP/1.x headers are also Netty's, whose entries come as they
 * are; Vert.x's own iterator wraps each in a new entry and copies each name the decoder made into a new String, and
 * its getAll makes a list. These run for every header of every request. Other maps (HTTP/2's) are walked as usual.
 */
final class HeaderEntries {

  private HeaderEntries() {
  }

  static Iterator<? extends Map.Entry<? extends CharSequence, ? extends CharSequence>> of(MultiMap headers) {
    return headers instanceof io.netty.handler.codec.http.HttpHeaders netty ? netty.iteratorCharSequence() : headers.iterator();
  }

  /** How many times {@code lowerCaseName} appears, in any case. */
  static int count(MultiMap headers, String lowerCaseName) {
    int n = 0;
    for (var entries = of(headers); entries.hasNext(); ) {
      if (is(entries.next().getKey(), lowerCaseName)) n++;
    }
    return n;
  }

  /** Whether {@code name} is {@code lowerCaseName} in any case (lengths first: most names differ in length). */
  static boolean is(CharSequence name, String lowerCaseName) {
    return name.length() == lowerCaseName.length() && AsciiString.contentEqualsIgnoreCase(lowerCaseName, name);
  }
}
