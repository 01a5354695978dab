package dev.fairway.ops;

import org.slf4j.LoggerFactory;

import javax.management.ObjectName;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.CRC32;

/**
 * A class-data archive of Fairway's classes for the JVM {@link JvmDefaults} restarts, made once and reused: a start
 * takes about 0.7 s less (load-tests/startup.sh: 1.99 s against 2.76 to ready). The JVM can write one as it runs
 * ({@code VM.cds dynamic_dump}, when started with {@code -XX:+RecordDynamicDumpInfo}), and Fairway asks it to at a
 * graceful stop, once it has served: an archive of every class a run loaded, never of a {@code --help}.
 * <p>
 * It lives in {@code $XDG_CACHE_HOME/fairway} (else {@code ~/.cache/fairway}), named for the jar, the Java and the
 * flags. The JVM ignores an archive of another jar or Java, but one damaged after it was written stops it from
 * starting, so each is written under a temporary name, renamed when complete, and used only while its size and
 * checksum match what was written next to it. {@code FAIRWAY_CLASS_ARCHIVE=off} turns all of this off.
 */
public final class ClassArchive {

  public static final String ENV_SWITCH = "FAIRWAY_CLASS_ARCHIVE";
  /** Where the restarted JVM is to write the archive at its stop; set only when there is none yet. */
  static final String WRITE_TO = "fairway.class-archive";
  static final String RECORD = "-XX:+RecordDynamicDumpInfo";
  /** The JVM reports on its archive (a mismatch, say) as warnings on standard output: those are Fairway's to decide. */
  static final String QUIET = "-Xlog:cds*=off";
  private static final String PREFIX = "fairway-";
  private static final String SUFFIX = ".jsa";
  private static final String CHECKSUM = ".crc";
  /** Free space the archive's file system must have for one to be written (one is 15-25 MiB). */
  private static final long MIN_FREE_BYTES = 256L << 20;
  /** Archives of other jars or Javas kept besides the one in use (each is 15-25 MiB). */
  private static final int KEEP = 2;

  private ClassArchive() {
  }

  /**
   * The flags that give the restarted JVM its archive, or have it record one: none where there is no cache directory,
   * the switch is off, or this Java has no base archive to build on.
   *
   * @param jvmFlags the flags it restarts with (the archive is made for them)
   */
  static List<String> flags(Map<String, String> env, Path jar, List<String> jvmFlags, String javaHome, String vmVersion) {
    if ("off".equalsIgnoreCase(env.getOrDefault(ENV_SWITCH, ""))) return List.of();
    if (!Files.isRegularFile(Path.of(javaHome, "lib", "server", "classes.jsa"))) return List.of(); // no base archive
    Path dir = directory(env);
    if (dir == null) return List.of();
    Path archive;
    try {
      Files.createDirectories(dir); // here rather than at the stop: a directory Fairway cannot write means no recording
      if (!Files.isWritable(dir)) return List.of();
      archive = dir.resolve(PREFIX + key(jar, jvmFlags, javaHome, vmVersion) + SUFFIX);
    } catch (IOException | RuntimeException e) {
      return List.of();
    }
    if (intact(archive)) return List.of(QUIET, "-XX:SharedArchiveFile=" + archive);
    return List.of(QUIET, RECORD, "-D" + WRITE_TO + "=" + archive);
  }

  static Path directory(Map<String, String> env) {
    String cache = env.get("XDG_CACHE_HOME");
    if (cache != null && !cache.isBlank()) return Path.of(cache, "fairway");
    String home = env.get("HOME");
    return home == null || home.isBlank() ? null : Path.of(home, ".cache", "fairway");
  }

  /** The jar (by path, size and time), the Java and the flags, in hex. */
  static String key(Path jar, List<String> jvmFlags, String javaHome, String vmVersion) throws IOException {
    CRC32 crc = new CRC32();
    String id = jar.toAbsolutePath() + "\n" + Files.size(jar) + "\n" + Files.getLastModifiedTime(jar).toMillis() + "\n"
      + javaHome + "\n" + vmVersion + "\n" + String.join(" ", jvmFlags);
    crc.update(id.getBytes(StandardCharsets.UTF_8));
    return Long.toHexString(crc.getValue());
  }

  /** Whether the archive is there whole: its size and checksum as written next to it when it was made. */
  static boolean intact(Path archive) {
    try {
      String expected = Files.readString(checksumOf(archive)).trim();
      return expected.equals(fingerprint(archive));
    } catch (IOException | RuntimeException e) {
      return false; // none yet, or unreadable: a new one is recorded
    }
  }

  /**
   * At a graceful stop: writes the archive this JVM was started to record, if any (the JVM pauses about a second for
   * it), then its checksum. Never fails the stop; says what happened in the log.
   */
  public static void writeIfAsked() {
    String to = System.getProperty(WRITE_TO);
    if (to == null) return;
    Path archive = Path.of(to);
    String temporary = "." + ProcessHandle.current().pid() + ".tmp";
    Path partial = archive.resolveSibling(archive.getFileName() + temporary);
    Path partialSum = archive.resolveSibling(archive.getFileName() + CHECKSUM + temporary);
    long started = System.nanoTime();
    try {
      // a JVM that cannot finish writing an archive ends at once ("Unable to write to shared archive file", status 1
      // on Java 17): a full disk must not end a stop that way
      Files.createDirectories(archive.getParent()); // made at the start, but it may have gone since
      long free = Files.getFileStore(archive.getParent()).getUsableSpace();
      if (free < MIN_FREE_BYTES) throw new IOException("only " + (free >> 20) + " MiB free there");
      dump(partial);
      Files.writeString(partialSum, fingerprint(partial) + "\n");
      Files.move(partial, archive, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      Files.move(partialSum, checksumOf(archive), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      LoggerFactory.getLogger(ClassArchive.class).info("class-data archive written to {} ({} ms): the next start will use it",
        archive, (System.nanoTime() - started) / 1_000_000);
      tidy(archive);
    } catch (Exception e) {
      LoggerFactory.getLogger(ClassArchive.class).warn("no class-data archive written to {}: {}", archive, e.toString());
      try {
        Files.deleteIfExists(partial);
        Files.deleteIfExists(partialSum);
      } catch (IOException ignored) {
        // a temporary file left behind is removed by the next archive written
      }
    }
  }

  /** The JVM's {@code VM.cds dynamic_dump FILE}, in this process through its diagnostic command bean. */
  private static void dump(Path file) throws Exception {
    String out = (String) ManagementFactory.getPlatformMBeanServer().invoke(
      new ObjectName("com.sun.management:type=DiagnosticCommand"), "vmCds",
      new Object[] {new String[] {"dynamic_dump", file.toString()}}, new String[] {String[].class.getName()});
    if (!Files.isRegularFile(file) || Files.size(file) == 0) throw new IOException("the JVM wrote none: " + out.trim());
  }

  /**
   * Size and CRC-32 of the file's bytes. CRC-32, not CRC-32C: the JDK computes it natively even before the JIT has
   * compiled anything, and this runs in each start's first JVM (about 30 against 40 ms for a 20 MiB archive).
   */
  static String fingerprint(Path file) throws IOException {
    CRC32 crc = new CRC32();
    ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
    long size = 0;
    try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
      for (int n; (n = in.read(buffer.clear())) >= 0; size += n) crc.update(buffer.flip());
    }
    return size + " " + Long.toHexString(crc.getValue());
  }

  private static Path checksumOf(Path archive) {
    return archive.resolveSibling(archive.getFileName() + CHECKSUM);
  }

  /**
   * Removes temporary files other runs left, and all but the newest {@link #KEEP} archives besides this one; as far as
   * it can, as nothing depends on it.
   */
  static void tidy(Path kept) {
    try (Stream<Path> files = Files.list(kept.getParent())) {
      List<Path> ours = files.filter(p -> p.getFileName().toString().startsWith(PREFIX)).toList();
      long minuteAgo = System.currentTimeMillis() - 60_000;
      for (Path p : ours) {
        // ".tmp", and ".tmp.temp" where the JVM writes to a name of its own first (Java 25)
        if (p.getFileName().toString().contains(".tmp") && Files.getLastModifiedTime(p).toMillis() < minuteAgo) Files.deleteIfExists(p);
      }
      List<Path> others = ours.stream().filter(p -> p.getFileName().toString().endsWith(SUFFIX) && !p.equals(kept))
        .sorted(Comparator.comparing(ClassArchive::modified).reversed()).toList();
      for (Path old : others.subList(Math.min(KEEP, others.size()), others.size())) {
        Files.deleteIfExists(checksumOf(old));
        Files.deleteIfExists(old);
      }
    } catch (IOException e) {
      LoggerFactory.getLogger(ClassArchive.class).debug("older class-data archives not removed: {}", e.toString());
    }
  }

  private static long modified(Path p) {
    try {
      return Files.getLastModifiedTime(p).toMillis();
    } catch (IOException e) {
      return 0;
    }
  }
}
