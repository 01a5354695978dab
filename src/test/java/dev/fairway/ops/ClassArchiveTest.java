package dev.fairway.ops;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Which flags the restarted JVM gets for its class-data archive; the archive's writing is FatJarIT's. */
class ClassArchiveTest {

  private static final String JAVA_HOME = System.getProperty("java.home");
  private static final List<String> FLAGS = List.of("-XX:+UseSerialGC", "-Xms32m");

  private static List<String> flags(Path cache, Path jar) {
    return ClassArchive.flags(Map.of("XDG_CACHE_HOME", cache.toString()), jar, FLAGS, JAVA_HOME, "17.0.15+6");
  }

  private static Path jar(Path dir) throws IOException {
    return Files.writeString(dir.resolve("fairway.jar"), "not really a jar");
  }

  @Test
  void withoutAnArchiveTheJvmRecordsOneToWriteAtItsStop(@TempDir Path cache, @TempDir Path dir) throws IOException {
    Path jar = jar(dir);
    String archive = cache.resolve("fairway").resolve("fairway-" + ClassArchive.key(jar, FLAGS, JAVA_HOME, "17.0.15+6") + ".jsa").toString();
    assertThat(flags(cache, jar)).containsExactly("-Xlog:cds*=off", "-XX:+RecordDynamicDumpInfo", "-Dfairway.class-archive=" + archive);
  }

  @Test
  void anArchiveIsUsedOnlyWhileItMatchesTheChecksumWrittenWithIt(@TempDir Path cache, @TempDir Path dir) throws IOException {
    Path jar = jar(dir);
    Path archive = Path.of(flags(cache, jar).get(2).substring("-Dfairway.class-archive=".length()));
    Files.createDirectories(archive.getParent());
    Files.write(archive, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
    assertThat(flags(cache, jar)).as("no checksum yet: as if the writing stopped before it").contains("-XX:+RecordDynamicDumpInfo");
    Files.writeString(archive.resolveSibling(archive.getFileName() + ".crc"), ClassArchive.fingerprint(archive) + "\n");
    assertThat(flags(cache, jar)).containsExactly("-Xlog:cds*=off", "-XX:SharedArchiveFile=" + archive);

    Files.write(archive, new byte[] {1, 2, 3, 4, 5, 6, 7, 9}); // same size, one byte changed
    assertThat(flags(cache, jar)).contains("-XX:+RecordDynamicDumpInfo");
    Files.write(archive, new byte[] {1, 2, 3, 4}); // cut short
    assertThat(flags(cache, jar)).contains("-XX:+RecordDynamicDumpInfo");
  }

  @Test
  void anotherJarJavaOrFlagsGetsAnArchiveOfItsOwn(@TempDir Path dir) throws IOException {
    Path jar = jar(dir);
    String key = ClassArchive.key(jar, FLAGS, JAVA_HOME, "17.0.15+6");
    assertThat(ClassArchive.key(jar, FLAGS, JAVA_HOME, "17.0.16+8")).isNotEqualTo(key);
    assertThat(ClassArchive.key(jar, List.of("-XX:+UseSerialGC"), JAVA_HOME, "17.0.15+6")).isNotEqualTo(key);
    Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() - 60_000)); // a rebuilt jar
    assertThat(ClassArchive.key(jar, FLAGS, JAVA_HOME, "17.0.15+6")).isNotEqualTo(key);
  }

  @Test
  void writingOneRemovesLeftoversAndAllButTheTwoNewestOtherArchives(@TempDir Path dir) throws IOException {
    long now = System.currentTimeMillis();
    Path kept = touch(dir.resolve("fairway-00000000.jsa"), now);
    for (int i = 1; i <= 4; i++) { // archives of other jars or Javas, the newest first
      touch(dir.resolve("fairway-0000000" + i + ".jsa"), now - i * 60_000L);
      touch(dir.resolve("fairway-0000000" + i + ".jsa.crc"), now - i * 60_000L);
    }
    touch(dir.resolve("fairway-00000005.jsa.77.tmp"), now - 120_000); // a stop cut short
    touch(dir.resolve("fairway-00000005.jsa.77.tmp.temp"), now - 120_000);
    touch(dir.resolve("fairway-00000006.jsa.78.tmp"), now); // another Fairway's, being written
    touch(dir.resolve("notes.txt"), now - 600_000);

    ClassArchive.tidy(kept);

    try (var left = Files.list(dir)) {
      assertThat(left.map(p -> p.getFileName().toString()).sorted()).containsExactly("fairway-00000000.jsa",
        "fairway-00000001.jsa", "fairway-00000001.jsa.crc", "fairway-00000002.jsa", "fairway-00000002.jsa.crc",
        "fairway-00000006.jsa.78.tmp", "notes.txt");
    }
  }

  private static Path touch(Path file, long modified) throws IOException {
    Files.writeString(file, "x");
    Files.setLastModifiedTime(file, FileTime.fromMillis(modified));
    return file;
  }

  @Test
  void nothingWhenSwitchedOffWithoutAUsableCacheDirectoryOrWithoutTheJavasOwnArchive(@TempDir Path cache, @TempDir Path dir) throws IOException {
    Path jar = jar(dir);
    assertThat(ClassArchive.flags(Map.of("XDG_CACHE_HOME", cache.toString(), "FAIRWAY_CLASS_ARCHIVE", "off"), jar, FLAGS, JAVA_HOME, "v")).isEmpty();
    assertThat(ClassArchive.flags(Map.of(), jar, FLAGS, JAVA_HOME, "v")).isEmpty();
    assertThat(ClassArchive.flags(Map.of("XDG_CACHE_HOME", cache.toString()), jar, FLAGS, dir.toString(), "v")).isEmpty();
    assertThat(ClassArchive.flags(Map.of("XDG_CACHE_HOME", jar.toString()), jar, FLAGS, JAVA_HOME, "v"))
      .as("a cache directory that cannot be made: nothing recorded for a stop that could not write it").isEmpty();
    assertThat(ClassArchive.directory(Map.of("HOME", "/home/u"))).isEqualTo(Path.of("/home/u/.cache/fairway"));
  }
}
