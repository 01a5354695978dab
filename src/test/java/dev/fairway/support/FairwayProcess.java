package dev.fairway.support;

import dev.fairway.ops.ClassArchive;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The fat jar run as a child process, as a user runs it; output is collected so tests can wait for a line. */
public final class FairwayProcess implements AutoCloseable {

  private final Process process;
  private final StringBuffer stdout = new StringBuffer();
  private final StringBuffer stderr = new StringBuffer();
  private final List<Thread> drains = new ArrayList<>();

  private FairwayProcess(Process process, boolean readStdout) {
    this.process = process;
    if (readStdout) drains.add(drain(process.getInputStream(), stdout));
    drains.add(drain(process.getErrorStream(), stderr));
  }

  public static FairwayProcess start(List<String> jvmArgs, String... args) {
    return start(true, null, jvmArgs, Map.of(), args);
  }

  /**
   * With {@code env} added to the environment. Every other process starts without the class-data archive
   * ({@code FAIRWAY_CLASS_ARCHIVE=off}), so that no test writes one to the home directory or waits for it at a stop.
   */
  public static FairwayProcess startWithEnv(Map<String, String> env, String... args) {
    return start(true, null, List.of(), env, args);
  }

  /** Started by {@code wrapper} (say {@code nohup}), which then runs the JVM. */
  public static FairwayProcess startUnder(String wrapper, String... args) {
    return start(true, wrapper, List.of(), Map.of(), args);
  }

  /** Like {@link #start(String...)}, but nothing reads its stdout: once the pipe is full, writes to it block. */
  public static FairwayProcess startWithStdoutUnread(String... args) {
    return start(false, null, List.of(), Map.of(), args);
  }

  private static FairwayProcess start(boolean readStdout, String wrapper, List<String> jvmArgs, Map<String, String> env, String... args) {
    String jar = System.getProperty("fairway.jar", "target/fairway.jar");
    List<String> cmd = new ArrayList<>();
    if (wrapper != null) cmd.add(wrapper);
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmArgs);
    cmd.add("-jar");
    cmd.add(jar);
    cmd.addAll(List.of(args));
    try {
      ProcessBuilder builder = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
      builder.environment().put(ClassArchive.ENV_SWITCH, "off");
      builder.environment().putAll(env);
      return new FairwayProcess(builder.start(), readStdout);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public static FairwayProcess start(String... args) {
    return start(List.of(), args);
  }

  private static Thread drain(java.io.InputStream in, StringBuffer into) {
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) into.append(line).append('\n');
      } catch (IOException ignored) {
        // the process ended
      }
    });
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** Waits for the process to exit by itself and returns its exit code. */
  public int exitCode(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError("fairway did not exit within " + timeout + "; stderr: " + stderr);
      }
      process.getInputStream().close();
      return process.exitValue();
    } catch (InterruptedException | IOException e) {
      throw new AssertionError(e);
    }
  }

  public void awaitOutput(String text, Duration timeout) {
    Http.await("'" + text + "' in fairway's output (stderr so far: " + stderr + ")", timeout,
      () -> stderr.indexOf(text) >= 0 || stdout.indexOf(text) >= 0 || !process.isAlive());
    awaitDrained();
    if (stderr.indexOf(text) < 0 && stdout.indexOf(text) < 0) {
      throw new AssertionError("fairway exited with " + process.exitValue() + " before printing '" + text + "': " + stderr);
    }
  }

  public String stdout() {
    awaitDrained();
    return stdout.toString();
  }

  public String stderr() {
    awaitDrained();
    return stderr.toString();
  }

  /** Once the process has exited, waits (with a deadline) until its output has been read to the end. */
  private void awaitDrained() {
    if (process.isAlive()) return;
    try {
      for (Thread t : drains) t.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public long pid() {
    return process.pid();
  }

  /** Sends this process the signal ({@code TERM}, {@code HUP}, …), as {@code kill} does. */
  public void signal(String name) throws IOException, InterruptedException {
    assertThat(new ProcessBuilder("kill", "-" + name, String.valueOf(pid())).start().waitFor()).isZero();
  }

  /**
   * Sends SIGTERM to this process only, and waits for it to exit. This also closes the pipes its output is read from,
   * so what it writes as it stops is lost: to read that, {@link #signal} it and wait for {@link #exitCode}.
   */
  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
    }
  }
}
