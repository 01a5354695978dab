package dev.fairway.ops;

import dev.fairway.config.ConfigException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes the process id for init systems and scripts, and removes the file on exit. */
public final class PidFile {

  private PidFile() {
  }

  public static void write(Path file) {
    try {
      Files.writeString(file, ProcessHandle.current().pid() + "\n");
    } catch (IOException e) {
      throw ConfigException.invalid("--pid-file", file, "a writable path (" + e.getMessage() + ")");
    }
    file.toFile().deleteOnExit();
  }
}
