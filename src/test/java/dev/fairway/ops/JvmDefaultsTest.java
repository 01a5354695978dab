package dev.fairway.ops;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/** When a bare {@code java -jar} is restarted with Fairway's JVM flags, and with what command. */
class JvmDefaultsTest {

  private static final String JAVA = "/opt/jdk/bin/java";
  private static final String[] ARGS = {"-u", "127.0.0.1:5000", "-p", "8080"};

  private static List<String> relaunch(List<String> jvmArgs, Map<String, String> env, String os, String classPath, String command) {
    return JvmDefaults.relaunchCommand(jvmArgs, env, os, classPath, command, JAVA, () -> JvmDefaults.flags(17, false, option -> false), ARGS);
  }

  @Test
  void bareJavaJarIsRestartedWithTheFlagsTheSameJarAndArguments() {
    assertThat(relaunch(List.of(), Map.of(), "Linux", "target/fairway.jar", "target/fairway.jar -u 127.0.0.1:5000 -p 8080"))
      .containsExactly(JAVA, "-XX:+UseSerialGC", "-Xms32m", "-Xmn16m", "-XX:-ShrinkHeapInSteps", "-XX:MaxHeapFreeRatio=50", "-Dfairway.jvm-defaults=on",
        "-jar", "target/fairway.jar", "-u", "127.0.0.1:5000", "-p", "8080");
    assertThat(relaunch(List.of(), Map.of(), "Mac OS X", "/opt/fairway.jar", "/opt/fairway.jar")).isNotNull();
  }

  @Test
  void freedNativeMemoryIsTrimmedWhereTheJvmCanAndFromJava25OnObjectHeadersAreCompactToo() {
    Predicate<String> all = option -> true;
    assertThat(JvmDefaults.flags(17, true, option -> false)).containsExactly("-XX:+UseSerialGC", "-Xms32m", "-Xmn16m", "-XX:-ShrinkHeapInSteps", "-XX:MaxHeapFreeRatio=50");
    // unlocked: the first Java 17 and 21 updates with the option have it as an experimental one
    assertThat(JvmDefaults.flags(17, true, all)).containsExactly("-XX:+UseSerialGC", "-Xms32m", "-Xmn16m", "-XX:-ShrinkHeapInSteps", "-XX:MaxHeapFreeRatio=50",
      "-XX:+UnlockExperimentalVMOptions", "-XX:TrimNativeHeapInterval=1000");
    assertThat(JvmDefaults.flags(17, false, all)).as("glibc's trim: Linux only").doesNotContain("-XX:TrimNativeHeapInterval=1000");
    assertThat(JvmDefaults.flags(21, true, all)).isEqualTo(JvmDefaults.flags(17, true, all));
    assertThat(JvmDefaults.flags(24, true, all)).doesNotContain("-XX:+UseCompactObjectHeaders");
    assertThat(JvmDefaults.flags(25, true, all)).containsExactly("-XX:+UseSerialGC", "-Xms32m", "-Xmn16m", "-XX:-ShrinkHeapInSteps", "-XX:MaxHeapFreeRatio=50",
      "-XX:+UnlockExperimentalVMOptions", "-XX:TrimNativeHeapInterval=1000", "-XX:+UseCompactObjectHeaders");
    assertThat(JvmDefaults.flags(26, false, "UseCompactObjectHeaders"::equals)).contains("-XX:+UseCompactObjectHeaders");
    assertThat(JvmDefaults.flags(25, true, "TrimNativeHeapInterval"::equals)).as("a JVM without the option")
      .doesNotContain("-XX:+UseCompactObjectHeaders");
  }

  @Test
  void itsMainPrintsTheFlagsForThisJava() {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    java.io.PrintStream stdout = System.out;
    System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
    try {
      JvmDefaults.main(new String[0]);
    } finally {
      System.setOut(stdout);
    }
    assertThat(out.toString(java.nio.charset.StandardCharsets.UTF_8).strip()).isEqualTo(String.join(" ", JvmDefaults.flags()))
      .startsWith("-XX:+UseSerialGC -Xms32m -Xmn16m");
  }

  @Test
  void anyJvmFlagLeavesTheJvmAsStarted() {
    assertThat(relaunch(List.of("-Xmx64m"), Map.of(), "Linux", "fairway.jar", "fairway.jar")).isNull();
    // JAVA_TOOL_OPTIONS and JDK_JAVA_OPTIONS reach the JVM as input arguments too
    assertThat(relaunch(List.of("-Dsomething=1"), Map.of(), "Linux", "fairway.jar", "fairway.jar")).isNull();
    // and the restarted JVM has flags, so it never restarts again
    List<String> restarted = relaunch(List.of(), Map.of(), "Linux", "fairway.jar", "fairway.jar");
    assertThat(relaunch(restarted.subList(1, restarted.indexOf("-jar")), Map.of(), "Linux", "fairway.jar", "fairway.jar")).isNull();
  }

  @Test
  void aJvmThatWillNotRestartDoesNotLookItsOptionsUp() {
    assertThat(JvmDefaults.relaunchCommand(List.of("-Xmx64m"), Map.of(), "Linux", "fairway.jar", "fairway.jar", JAVA,
      () -> { throw new AssertionError("options looked up"); }, ARGS)).isNull();
  }

  @Test
  void theSwitchTurnsItOff() {
    assertThat(relaunch(List.of(), Map.of("FAIRWAY_JVM_DEFAULTS", "off"), "Linux", "fairway.jar", "fairway.jar")).isNull();
    assertThat(relaunch(List.of(), Map.of("FAIRWAY_JVM_DEFAULTS", "on"), "Linux", "fairway.jar", "fairway.jar")).isNotNull();
  }

  @Test
  void onlyAJarStartedWithDashJarOnAPlatformWithExecv() {
    assertThat(relaunch(List.of(), Map.of(), "Windows 11", "fairway.jar", "fairway.jar")).isNull();
    // java -cp fairway.jar dev.fairway.Fairway: the main class is named, not the jar
    assertThat(relaunch(List.of(), Map.of(), "Linux", "fairway.jar", "dev.fairway.Fairway -p 8080")).isNull();
    // an IDE or a test run: a class path of directories and jars
    assertThat(relaunch(List.of(), Map.of(), "Linux", "target/classes:lib/a.jar", "dev.fairway.Fairway")).isNull();
  }
}
