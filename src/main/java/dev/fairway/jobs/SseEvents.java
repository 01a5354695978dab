package dev.fairway.jobs;

import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;

/**
 * Follows a text/event-stream response as it is relayed, chunk by chunk, and notes where each event ends in the spool,
 * so a reader with {@code Last-Event-ID} resumes just after it. With numbering on, an event that comes without an
 * {@code id:} line gets {@code id: N} (1, 2, ...) added just before the blank line that ends it: the SSE format lets a
 * field come anywhere in its event, and the client's EventSource then sends that id when it reconnects. Lines end
 * with LF (a CR before it is ignored); comment-only blocks (heartbeats) are not events and get no id.
 */
final class SseEvents {

  private static final int MAX_ID = 256;

  private final Job job;
  private final boolean number;
  private long next = 1;
  private int lineLength;
  /** The current line's field name so far, while it may still be "id". */
  private final StringBuilder name = new StringBuilder(3);
  private boolean nameDone;
  private boolean comment;
  private boolean idLine;
  private final StringBuilder idValue = new StringBuilder();
  private boolean eventHasField;
  private String eventId;

  SseEvents(Job job, boolean number) {
    this.job = job;
    this.number = number;
  }

  /**
   * @param offset the spool offset at which {@code chunk} starts
   * @return the chunk as it goes to the client and the spool: itself, or a copy with ids added
   */
  Buffer apply(Buffer chunk, long offset) {
    Buffer out = null;
    int copiedTo = 0;
    int n = chunk.length();
    for (int i = 0; i < n; i++) {
      byte b = chunk.getByte(i);
      if (b == '\n') {
        if (lineLength == 0) {
          if (eventHasField) {
            String id = eventId;
            if (id == null && number) {
              id = String.valueOf(next++);
              if (out == null) out = Buffer.buffer(n + 16);
              out.appendBuffer(chunk, copiedTo, i - copiedTo).appendString("id: " + id + "\n");
              copiedTo = i;
            }
            long outLength = out == null ? i + 1 : out.length() + (i + 1 - copiedTo);
            if (id != null) job.eventEnded(id, offset + outLength);
          }
          eventHasField = false;
          eventId = null;
        } else {
          endLine();
        }
        lineLength = 0;
        name.setLength(0);
        nameDone = false;
        comment = false;
        idLine = false;
        idValue.setLength(0);
      } else if (b != '\r') {
        lineChar(b);
      }
    }
    if (out == null) return chunk;
    return out.appendBuffer(chunk, copiedTo, n - copiedTo);
  }

  private void lineChar(byte b) {
    if (lineLength++ == 0 && b == ':') {
      comment = true;
      return;
    }
    if (comment) return;
    if (!nameDone) {
      if (b == ':') {
        nameDone = true;
        idLine = name.toString().equals("id");
      } else if (name.length() < 3) {
        name.append((char) b);
      } else {
        nameDone = true; // longer than "id"
      }
    } else if (idLine && idValue.length() < MAX_ID) {
      if (!(idValue.length() == 0 && b == ' ')) idValue.append((char) (b & 0xff)); // one leading space is not the value's
    }
  }

  private void endLine() {
    if (comment) return;
    eventHasField = true;
    if (!nameDone && name.toString().equals("id")) { // "id" alone: an empty id
      eventId = "";
    } else if (idLine) {
      eventId = new String(idValue.toString().getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
    }
  }
}
