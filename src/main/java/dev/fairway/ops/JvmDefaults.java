package dev.fairway.ops;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.management.HotSpotDiagnosticMXBean;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Fairway's JVM flags for {@code java -jar fairway.jar} started without any. A JVM without flags sizes its heap from the
 * machine (up to a quarter of its memory, with a young generation of hundreds of MiB on a large one), and a proxy
 * allocates as it relays, so its memory grows with traffic to what the machine allows. Flags can only be set as a JVM
 * starts, so Fairway replaces its own process with the same java, jar and arguments plus {@link #flags()}, through
 * execv(2): the process keeps its PID, descriptors and environment, so a shell, a supervisor or a pipe sees one process
 * throughout. Any JVM flag (on the command line, in JAVA_TOOL_OPTIONS or JDK_JAVA_OPTIONS) means the JVM is the
 * user's to size and nothing happens; so does {@code FAIRWAY_JVM_DEFAULTS=off}. The restarted JVM also gets a
 * class-data archive of Fairway's classes, or records one ({@link ClassArchive}).
 */
public final class JvmDefaults {

  /**
   * A small fixed young generation that relayed chunks cycle through, and a heap that starts small and grows only with
   * what stays live (load-tests/memory.sh: the figures behind these are in load-tests/RESULTS.md). After a full
   * collection ({@link MemoryRelease}'s, once a burst is over) the heap shrinks at once to at most twice what is live,
   * where the serial collector's defaults shrink it to at most 3.3 times that, over four collections.
   */
  public static final List<String> FLAGS = List.of("-XX:+UseSerialGC", "-Xms32m", "-Xmn16m",
    "-XX:-ShrinkHeapInSteps", "-XX:MaxHeapFreeRatio=50");
  /**
   * From Java 25 on, also 8-byte object headers instead of 12 (JEP 519, a product flag there): 8 % less heap per
   * request and per idle connection (load-tests/alloc.sh and idle.sh on Java 25).
   */
  static final String COMPACT_HEADERS = "-XX:+UseCompactObjectHeaders";
  static final int COMPACT_HEADERS_SINCE = 25;
  /**
   * On Linux, where the JVM has it (17.0.9 and later), also give memory that was freed back to the system every second
   * (glibc's malloc_trim): glibc keeps what the JIT's compiler arenas and freed direct buffers gave back, so RSS stayed
   * 10-15 MiB higher after a burst of transfers (load-tests/memory.sh: +26 / +27 MiB against +39 / +40 after 100 x 100
   * MiB each way).
   */
  static final String TRIM_NATIVE_HEAP = "-XX:TrimNativeHeapInterval=1000";
  /**
   * The trim option came to Java 17 and 21 updates as an experimental one, and only later became a product option:
   * a JVM of those first updates refuses it unless experimental options are unlocked (a no-op where it is product).
   */
  static final String UNLOCK_EXPERIMENTAL = "-XX:+UnlockExperimentalVMOptions";
  /** Set by {@link #flags()}' JVM so that Fairway can say what it runs with. */
  static final String MARKER = "-Dfairway.jvm-defaults=on";
  public static final String ENV_SWITCH = "FAIRWAY_JVM_DEFAULTS";

  private JvmDefaults() {
  }

  /** The C library's execv (replaces the process image, returning only if it could not), and fcntl. */
  private interface LibC extends Library {
    int execv(String path, String[] argv);

    int fcntl(int fd, int cmd, int arg);
  }

  private static final String JNA_SEARCH_PATH = "jna.platform.library.path";
  private static final int F_SETFD = 2;
  private static final int FD_CLOEXEC = 1;

  /**
   * Starts Fairway again under {@link #flags()} when this JVM was started as a bare {@code java -jar} on Linux or macOS;
   * returns (and Fairway starts in this JVM) otherwise, or if the exec fails, having said why on standard error.
   */
  public static void applyOrContinue(String[] args) {
    String jar = System.getProperty("java.class.path", "");
    List<String> argv = relaunchCommand(ManagementFactory.getRuntimeMXBean().getInputArguments(), System.getenv(),
      System.getProperty("os.name", ""), jar, System.getProperty("sun.java.command", ""), javaExecutable(),
      () -> withClassArchive(flags(), jar), args);
    if (argv == null) return;
    try {
      System.out.flush();
      System.err.flush();
      // the C library by its file name (libc.so.6), which the dynamic loader finds itself: with a search path given,
      // JNA does not spawn ldconfig to build one (up to a fifth of a second of the start on one CPU)
      if (System.getProperty(JNA_SEARCH_PATH) == null) System.setProperty(JNA_SEARCH_PATH, "");
      LibC libc = Native.load(Platform.C_LIBRARY_NAME, LibC.class);
      closeOnExec(libc, argv.get(argv.indexOf("-jar") + 1));
      libc.execv(argv.get(0), argv.toArray(String[]::new));
      notRestarted("errno " + Native.getLastError());
    } catch (Throwable e) { // no native access (a read-only temp directory for JNA's library, an exotic platform)
      notRestarted(e.toString());
    }
  }

  private static void notRestarted(String why) {
    System.err.println("fairway: could not restart with " + String.join(" ", flags()) + " (" + why + "); running with the JVM's own defaults");
  }

  /**
   * Prints the flags Fairway gives this Java, for running it with flags of one's own on top:
   * {@code java $(java -cp fairway.jar dev.fairway.ops.JvmDefaults) -XX:… -jar fairway.jar …}.
   */
  public static void main(String[] args) {
    System.out.println(String.join(" ", flags()));
  }

  /** The flags, and those that give the JVM a class-data archive made for them, or have it record one. */
  private static List<String> withClassArchive(List<String> flags, String jar) {
    List<String> all = new ArrayList<>(flags);
    all.addAll(ClassArchive.flags(System.getenv(), Path.of(jar), flags, System.getProperty("java.home"),
      System.getProperty("java.vm.version", "")));
    return all;
  }

  /** Fairway's flags for the Java this runs on (the restarted JVM is the same java). */
  public static List<String> flags() {
    boolean linux = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");
    return flags(Runtime.version().feature(), linux, JvmDefaults::hasVmOption);
  }

  /** @param knownOption whether the JVM has an option (by name, without -XX:) */
  static List<String> flags(int javaFeatureVersion, boolean linux, Predicate<String> knownOption) {
    List<String> flags = new ArrayList<>(FLAGS);
    if (linux && knownOption.test("TrimNativeHeapInterval")) {
      flags.add(UNLOCK_EXPERIMENTAL);
      flags.add(TRIM_NATIVE_HEAP);
    }
    // on Java 24 the option exists but is experimental, and refused without unlocking those
    if (javaFeatureVersion >= COMPACT_HEADERS_SINCE && knownOption.test("UseCompactObjectHeaders")) flags.add(COMPACT_HEADERS);
    return List.copyOf(flags);
  }

  /** Whether this JVM knows the option: a flag it does not know would stop the restarted JVM from starting. */
  private static boolean hasVmOption(String name) {
    try {
      ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class).getVMOption(name);
      return true;
    } catch (IllegalArgumentException | UnsupportedOperationException | NullPointerException e) {
      return false; // unknown to this JVM, or not a HotSpot JVM
    }
  }

  /** The flags Fairway restarted this JVM with, as the JVM was given them; empty when it did not restart it. */
  public static List<String> applied() {
    List<String> given = ManagementFactory.getRuntimeMXBean().getInputArguments();
    int marker = given.indexOf(MARKER);
    return marker < 0 ? List.of() : given.subList(0, marker);
  }

  /**
   * The command that restarts this JVM with Fairway's flags, or null when it should run as it is: flags were given,
   * the switch is off, the platform has no execv, or Fairway was not started with {@code -jar}.
   */
  static List<String> relaunchCommand(List<String> jvmArguments, Map<String, String> env, String osName, String classPath,
                                      String javaCommand, String java, Supplier<List<String>> flags, String[] args) {
    if (!jvmArguments.isEmpty() || java == null) return null;
    if ("off".equalsIgnoreCase(env.getOrDefault(ENV_SWITCH, ""))) return null;
    String os = osName.toLowerCase(Locale.ROOT);
    if (!os.contains("linux") && !os.contains("mac")) return null;
    boolean startedWithJar = classPath.endsWith(".jar") && !classPath.contains(File.pathSeparator)
      && (javaCommand.equals(classPath) || javaCommand.startsWith(classPath + " "));
    if (!startedWithJar) return null;
    List<String> argv = new ArrayList<>();
    argv.add(java);
    argv.addAll(flags.get()); // only now: looking options up starts the JVM's management beans
    argv.add(MARKER);
    argv.add("-jar");
    argv.add(classPath);
    argv.addAll(List.of(args));
    return argv;
  }

  /**
   * Marks the descriptors this JVM opened on its own runtime image and on the jar to close on exec: the JVM opens them
   * without, and the new JVM opens its own. Descriptors Fairway was started with (a supervisor's) are left alone.
   */
  private static void closeOnExec(LibC libc, String jar) {
    Path fds = Path.of("/proc/self/fd");
    if (!Files.isDirectory(fds)) return; // not Linux: the two descriptors stay open, unused
    Path javaHome = Path.of(System.getProperty("java.home")).toAbsolutePath();
    Path jarPath = Path.of(jar).toAbsolutePath();
    try (var entries = Files.list(fds)) {
      for (Path fd : (Iterable<Path>) entries::iterator) {
        int n = Integer.parseInt(fd.getFileName().toString());
        if (n < 3) continue;
        try {
          Path target = Files.readSymbolicLink(fd);
          if (target.startsWith(javaHome) || target.equals(jarPath)) libc.fcntl(n, F_SETFD, FD_CLOEXEC);
        } catch (java.io.IOException closedMeanwhile) {
          // the directory stream's own descriptor, gone once listed
        }
      }
    } catch (java.io.IOException | RuntimeException e) {
      // best effort: at worst two descriptors stay open
    }
  }

  private static String javaExecutable() {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    return Files.isExecutable(java) ? java.toString() : null;
  }
}
