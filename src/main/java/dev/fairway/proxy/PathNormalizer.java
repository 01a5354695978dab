package dev.fairway.proxy;

/**
 * The path routes are matched on: percent-encoded unreserved characters decoded, runs of slashes collapsed, and
 * {@code .} and {@code ..} segments removed (RFC 3986 6.2.2 and 5.2.4), so {@code /x/../limited}, {@code //limited}
 * and {@code /%6Cimited} all meet {@code /limited}'s rules. The request goes upstream as it came, as nginx forwards
 * it: the upstream reads the same path either way, and its own normalisation stays its own.
 */
final class PathNormalizer {

  private PathNormalizer() {
  }

  static String normalize(String path) {
    if (path == null || path.isEmpty()) return "/";
    if (isNormal(path)) return path; // the common case: one scan, no copy
    String decoded = decodeUnreserved(path);
    StringBuilder out = new StringBuilder(decoded.length());
    int i = 0;
    int n = decoded.length();
    while (i < n) {
      while (i < n && decoded.charAt(i) == '/') i++; // a run of slashes is one
      int end = decoded.indexOf('/', i);
      if (end < 0) end = n;
      String segment = decoded.substring(i, end);
      if (segment.equals("..")) {
        int cut = out.lastIndexOf("/");
        out.setLength(Math.max(cut, 0));
      } else if (!segment.equals(".") && !segment.isEmpty()) {
        out.append('/').append(segment);
      }
      i = end;
    }
    boolean trailingSlash = decoded.endsWith("/") || decoded.endsWith("/.") || decoded.endsWith("/..");
    if (out.length() == 0 || trailingSlash) out.append('/');
    return out.toString();
  }

  private static boolean isNormal(String path) {
    if (path.charAt(0) != '/') return false;
    for (int i = 1; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c == '%') return false;
      if (c == '/' && path.charAt(i - 1) == '/') return false;
      if (c == '.' && path.charAt(i - 1) == '/') return false;
    }
    return true;
  }

  /** Decodes %XX where XX is an unreserved character (letters, digits, - . _ ~); every other escape stays. */
  private static String decodeUnreserved(String path) {
    if (path.indexOf('%') < 0) return path;
    StringBuilder b = new StringBuilder(path.length());
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c == '%' && i + 2 < path.length()) {
        int high = Character.digit(path.charAt(i + 1), 16);
        int low = Character.digit(path.charAt(i + 2), 16);
        if (high >= 0 && low >= 0 && unreserved((char) (high * 16 + low))) {
          b.append((char) (high * 16 + low));
          i += 2;
          continue;
        }
      }
      b.append(c);
    }
    return b.toString();
  }

  private static boolean unreserved(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
  }
}
