package dev.fairway.proxy;

import io.netty.buffer.ByteBuf;

/**
 * Where a chunked HTTP/1.1 body (RFC 9112 7.1) stands, read as it arrives: enough to pass it on byte for byte, in
 * its canonical form only (a size line of hex digits and CRLF, CRLF after each chunk's data), and to stop before its
 * last chunk. Chunk data is skipped by its size, never looked at, except for how many newlines end it (a server-sent
 * event's boundary). What Netty's decoder also takes (an extension, spaces after the size) is followed when asked, so
 * that the decoder can be given such a line; what it refuses (a bare LF, anything else) is broken framing here too.
 */
final class ChunkFraming {

  /** What a scan stopped at. */
  enum Stop {
    /** The bytes ran out. */
    END,
    /** The last chunk's size line ({@code 0}) starts at {@link #lineAt()}. */
    LAST_CHUNK,
    /** A size line not in canonical form (an extension, a space) starts at {@link #lineAt()}. */
    UNUSUAL_LINE,
    /** A chunk ended at {@link #stoppedAt()} ({@link #scanToBoundary} only). */
    BOUNDARY,
    /** The framing is broken: nothing after it can be relayed. */
    INVALID
  }

  private enum State { SIZE, SIZE_SPACE, EXTENSION, SIZE_LF, DATA, DATA_CR, DATA_LF }

  private enum Mode { LENIENT, CANONICAL, TO_BOUNDARY }

  private State state = State.SIZE;
  private Mode mode;
  private boolean digits;
  private long size;
  private long remaining;
  /** Where the size line being read began in the bytes scanned, -1 if in an earlier scan. */
  private int lineStart = -1;
  private int stoppedAt = -1;
  private long payload;
  private int trailingNewlines = 2;

  /** Reads {@code buf} from {@code from} to {@code to} as Netty's decoder would, stopping at the last chunk. */
  Stop scan(ByteBuf buf, int from, int to) {
    return read(buf, from, to, Mode.LENIENT);
  }

  /** As {@link #scan}, and stops at the first size line or chunk end that is not in canonical form. */
  Stop scanCanonical(ByteBuf buf, int from, int to) {
    return read(buf, from, to, Mode.CANONICAL);
  }

  /** As {@link #scan}, and stops at the end of the first chunk that ends in these bytes too. */
  Stop scanToBoundary(ByteBuf buf, int from, int to) {
    return read(buf, from, to, Mode.TO_BOUNDARY);
  }

  private Stop read(ByteBuf buf, int from, int to, Mode mode) {
    this.mode = mode;
    lineStart = atBoundary() ? from : -1;
    int i = from;
    while (i < to) {
      if (state == State.DATA) {
        int n = (int) Math.min(remaining, to - i);
        trailingNewlines = trailingNewlines(buf, i, i + n, trailingNewlines);
        payload += n;
        remaining -= n;
        i += n;
        if (remaining == 0) state = State.DATA_CR;
        continue;
      }
      byte b = buf.getByte(i++);
      Stop stop = state == State.DATA_CR || state == State.DATA_LF ? afterData(b, i) : sizeLine(b);
      if (stop != null) {
        stoppedAt = i;
        return stop;
      }
    }
    return Stop.END;
  }

  /** One byte of the CRLF after a chunk's data ({@code next}: the index after it); null to go on. */
  private Stop afterData(byte b, int next) {
    if (state == State.DATA_CR) {
      return b == '\r' ? goTo(State.DATA_LF) : Stop.INVALID;
    }
    if (b != '\n') return Stop.INVALID;
    state = State.SIZE;
    lineStart = next;
    return mode == Mode.TO_BOUNDARY ? Stop.BOUNDARY : null;
  }

  /** One byte of a size line; null to go on. */
  private Stop sizeLine(byte b) {
    switch (state) {
      case SIZE -> {
        int digit = Character.digit(b, 16);
        if (digit >= 0) {
          if (size > Integer.MAX_VALUE >> 4) return Stop.INVALID; // what Netty's decoder takes: an int
          size = size << 4 | digit;
          digits = true;
          return null;
        }
        if (!digits) return Stop.INVALID;
        if (b == '\r') {
          state = State.SIZE_LF;
          return null;
        }
        if (b != ' ' && b != '\t' && b != ';') return Stop.INVALID;
        state = b == ';' ? State.EXTENSION : State.SIZE_SPACE;
        return mode == Mode.CANONICAL ? Stop.UNUSUAL_LINE : null;
      }
      case SIZE_SPACE -> {
        return b == ' ' || b == '\t' ? null : b == ';' ? goTo(State.EXTENSION) : b == '\r' ? goTo(State.SIZE_LF)
          : Stop.INVALID;
      }
      case EXTENSION -> {
        return b == '\r' ? goTo(State.SIZE_LF) : b == '\n' ? Stop.INVALID : null;
      }
      case SIZE_LF -> {
        return b == '\n' ? lineEnded() : Stop.INVALID;
      }
      default -> throw new IllegalStateException(state.name());
    }
  }

  private Stop goTo(State next) {
    state = next;
    return null;
  }

  private Stop lineEnded() {
    if (size == 0) return Stop.LAST_CHUNK;
    remaining = size;
    size = 0;
    digits = false;
    state = State.DATA;
    return null;
  }

  /** Between chunks: the next byte starts a size line (a decoder at this point holds nothing of the body). */
  boolean atBoundary() {
    return state == State.SIZE && !digits;
  }

  /** Inside a size line. */
  boolean inSizeLine() {
    return !atBoundary() && state != State.DATA && state != State.DATA_CR && state != State.DATA_LF;
  }

  /** Where the size line the last scan ended or stopped in began in the bytes it scanned; -1 if in an earlier one. */
  int lineAt() {
    return lineStart;
  }

  /** The index right after the byte the last scan stopped at. */
  int stoppedAt() {
    return stoppedAt;
  }

  /** Payload bytes scanned so far (framing aside). */
  long payload() {
    return payload;
  }

  /** Newlines (CRs aside) that end the payload so far: two or more is a boundary between server-sent events. */
  int trailingNewlines() {
    return trailingNewlines;
  }

  /** {@link SseHeartbeat#trailingNewlines} over bytes {@code from} to {@code to} of {@code buf}. */
  static int trailingNewlines(ByteBuf buf, int from, int to, int before) {
    int n = 0;
    for (int i = to - 1; i >= from; i--) {
      byte b = buf.getByte(i);
      if (b == '\n') n++;
      else if (b != '\r') return n;
    }
    return before + n;
  }
}
