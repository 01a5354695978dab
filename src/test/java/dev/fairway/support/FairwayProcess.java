package dev.fairway.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The fat jar run as a child process, as a user runs it; output is collected so tests can wait for a line. */
public final class FairwayProcess implements AutoCloseable {

  private final Process process;
  private final StringBuffer stdout = new StringBuffer();
  private final StringBuffer stderr = new StringBuffer();

  private FairwayProcess(Process process, boolean readStdout) {
    this.process = process;
    if (readStdout) drain(process.getInputStream(), stdout);
    drain(process.getErrorStream(), stderr);
  }

  public static FairwayProcess start(List<String> jvmArgs, String... args) {
    return start(true, null, jvmArgs, args);
  }

  /** Started by {@code wrapper} (say {@code nohup}), which then runs the JVM. */
  public static FairwayProcess startUnder(String wrapper, String... args) {
    return start(true, wrapper, List.of(), args);
  }

  /** Like {@link #start(String...)}, but nothing reads its stdout: once the pipe is full, writes to it block. */
  public static FairwayProcess startWithStdoutUnread(String... args) {
    return start(false, null, List.of(), args);
  }

  private static FairwayProcess start(boolean readStdout, String wrapper, List<String> jvmArgs, String... args) {
    String jar = System.getProperty("fairway.jar", "target/fairway.jar");
    List<String> cmd = new ArrayList<>();
    if (wrapper != null) cmd.add(wrapper);
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmArgs);
    cmd.add("-jar");
    cmd.add(jar);
    cmd.addAll(List.of(args));
    try {
      return new FairwayProcess(new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start(),
        readStdout);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public static FairwayProcess start(String... args) {
    return start(List.of(), args);
  }

  private static void drain(java.io.InputStream in, StringBuffer into) {
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

  private void awaitDrained() {
    if (!process.isAlive()) {
      // the drain threads finish right after the process; give them a moment with a deadline
      long deadline = System.nanoTime() + 2_000_000_000L;
      while (System.nanoTime() < deadline && (stderr.length() == 0 && stdout.length() == 0)) {
        Thread.onSpinWait();
      }
    }
  }

  public long pid() {
    return process.pid();
  }

  /** Sends SIGTERM to this process only, and waits for it to exit. */
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
