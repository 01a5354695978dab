package dev.fairway.jobs;

import dev.fairway.config.ConfigException;
import dev.fairway.config.JobOptions;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Every job of this Fairway, shared by all proxy instances: the jobs by id and by Idempotency-Key, their spool files
 * ({@code <id>.body}, mode 0600) and metadata ({@code <id>.json}, read back at start), the spool's total size, and
 * retention. Finding a job is a map lookup; the files are written on Vert.x's file threads, never on an event loop.
 */
public final class JobStore {

  private static final Logger log = LoggerFactory.getLogger(JobStore.class);
  /** 128 random bits in URL-safe base64 without padding. */
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{22}");
  private static final SecureRandom RANDOM = new SecureRandom();
  static final long META_DELAY_MILLIS = 1_000;

  /** What {@link #claim} found: a new job to run, or the one a repeated Idempotency-Key belongs to. */
  public record Claim(Job job, boolean fresh) {
  }

  private final Vertx vertx;
  private final JobOptions options;
  private final Path dir;
  private final Map<String, Job> jobs = new ConcurrentHashMap<>();
  private final Map<String, Job> byKey = new ConcurrentHashMap<>();
  private final Map<String, Future<Void>> metaWrites = new ConcurrentHashMap<>();
  private volatile JobDirectory directory;
  /** Jobs whose metadata is to be written shortly ({@link #writeMetaSoon}). */
  private final java.util.Set<String> metaDue = ConcurrentHashMap.newKeySet();
  private final AtomicLong spoolBytes = new AtomicLong();
  private final Counter resumes;
  private final Counter replays;
  private final Counter conflicts;
  private final Counter truncations;
  private long sweeper = -1;

  private JobStore(Vertx vertx, JobOptions options, MeterRegistry registry) {
    this.vertx = vertx;
    this.options = options;
    this.dir = options.getDir();
    for (JobState state : JobState.values()) {
      Gauge.builder("fairway.jobs", this, s -> s.count(state)).tag("state", state.json())
        .description("Jobs known to Fairway, by state").register(registry);
    }
    Gauge.builder("fairway.jobs.spool.bytes", spoolBytes, AtomicLong::get).baseUnit("bytes")
      .description("Bytes of job responses held in the spool").register(registry);
    resumes = Counter.builder("fairway.job.resumes").description("Reads of a job's response through its URL").register(registry);
    replays = Counter.builder("fairway.job.idempotent.replays")
      .description("Requests with an Idempotency-Key that attached to an existing job instead of running").register(registry);
    conflicts = Counter.builder("fairway.job.idempotency.conflicts")
      .description("Requests answered 422: an Idempotency-Key reused for a different request").register(registry);
    truncations = Counter.builder("fairway.job.truncations")
      .description("Jobs whose spool stopped at max-size, max-total or a write error").register(registry);
  }

  /**
   * Opens the spool folder (created mode 0600 if missing) and reads back the jobs it holds; blocking, at start.
   *
   * @throws ConfigException naming {@code jobs.dir} if the folder cannot be created or written
   */
  public static JobStore open(Vertx vertx, JobOptions options, MeterRegistry registry) {
    JobStore store = new JobStore(vertx, options, registry);
    store.load();
    long every = Math.max(100, Math.min(60_000, options.getRetentionMillis() / 4));
    store.sweeper = vertx.setPeriodic(every, id -> store.sweep());
    return store;
  }

  private void load() {
    try {
      if (!Files.isDirectory(dir)) {
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      }
      Path probe = Files.createTempFile(dir, ".probe", null);
      Files.delete(probe);
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      throw ConfigException.invalid("jobs.dir", dir, "a folder Fairway can create and write (" + e + ")");
    }
    long now = System.currentTimeMillis();
    int interrupted = 0;
    try (Stream<Path> files = Files.list(dir)) {
      for (Path meta : files.filter(p -> p.getFileName().toString().endsWith(".json")).toList()) {
        try {
          JsonObject m = new JsonObject(Files.readString(meta));
          boolean wasActive = !JobState.of(m.getString("state")).ended();
          Job job = Job.fromMeta(m, now);
          Path body = bodyFile(job.id());
          if (job.state() == JobState.INTERRUPTED && Files.exists(body)) {
            job.spooled(Files.size(body)); // the metadata may lag the file: what is on disk counts
          }
          if (job.state() != JobState.EXPIRED) spoolBytes.addAndGet(job.bytes());
          jobs.put(job.id(), job);
          if (job.idempotencyKey() != null && job.state() != JobState.EXPIRED) byKey.put(keyOf(job.scope(), job.idempotencyKey()), job);
          if (wasActive) {
            interrupted++;
            writeMeta(job);
          }
        } catch (IOException | RuntimeException e) {
          log.warn("jobs: skipping {}: {}", meta, e.toString());
        }
      }
    } catch (IOException e) {
      throw ConfigException.invalid("jobs.dir", dir, "a folder Fairway can read (" + e + ")");
    }
    log.info("jobs: spool {} holds {} job(s){}", dir, jobs.size(),
      interrupted == 0 ? "" : ", " + interrupted + " left running by the last stop and now interrupted");
  }

  public JobOptions options() {
    return options;
  }

  public static boolean wellFormedId(String id) {
    return ID.matcher(id).matches();
  }

  /** Where the cluster's other jobs run; null when not clustered. */
  public JobDirectory directory() {
    return directory;
  }

  /** Set once, as a clustered Fairway starts: from then on its jobs are recorded for the other nodes. */
  public void useDirectory(JobDirectory directory) {
    this.directory = directory;
  }

  private void record(Job job) {
    JobDirectory d = directory;
    if (d != null) d.recorded(job);
  }

  public Job get(String id) {
    return jobs.get(id);
  }

  /**
   * A new job for a request, or, for a repeated Idempotency-Key in the same scope, the job that key belongs to.
   *
   * @param key the request's Idempotency-Key, or null
   */
  public Claim claim(String route, String method, String path, String scope, String key) {
    byte[] bits = new byte[16];
    RANDOM.nextBytes(bits);
    String id = Base64.getUrlEncoder().withoutPadding().encodeToString(bits);
    Job job = new Job(id, route, method, path, scope, key, System.currentTimeMillis(), JobState.QUEUED);
    if (key != null) {
      Job earlier = byKey.putIfAbsent(keyOf(scope, key), job);
      if (earlier != null) return new Claim(earlier, false);
    }
    jobs.put(id, job);
    writeMetaSoon(job);
    record(job);
    return new Claim(job, true);
  }

  private static String keyOf(String scope, String key) {
    return scope + ' ' + key;
  }

  /** The job's spool for the exchange that runs it; its file (created with mode 0600) opens meanwhile. */
  Spool spool(Job job) {
    Path body = bodyFile(job.id());
    return new Spool(this, job, vertx, vertx.executeBlocking(() -> Spool.open(body), false), options.getMaxSize());
  }

  /**
   * Opens the job's spool file to read (created empty if its writer has not yet opened it: a reader may come as soon
   * as the job has its response head). Opened for writing too, because the JDK ignores "create" on a file opened only
   * to read, and the open would fail.
   */
  Future<io.vertx.core.file.AsyncFile> openToRead(Job job) {
    return vertx.fileSystem().open(bodyFile(job.id()).toString(), new OpenOptions().setRead(true).setWrite(true).setCreate(true)
      .setTruncateExisting(false).setPerms("rw-------"))
      .onFailure(err -> log.warn("job {}: spool not opened to read: {}", job.id(), err.toString()));
  }

  /** Deletes a job's spooled response, if it is there. */
  void dropBody(String id) {
    vertx.fileSystem().delete(bodyFile(id).toString()).otherwiseEmpty();
  }

  Path bodyFile(String id) {
    return dir.resolve(id + ".body");
  }

  boolean reserve(long bytes) {
    long max = options.getMaxTotal();
    while (true) {
      long now = spoolBytes.get();
      if (now + bytes > max) return false;
      if (spoolBytes.compareAndSet(now, now + bytes)) return true;
    }
  }

  void release(long bytes) {
    spoolBytes.addAndGet(-bytes);
  }

  void truncated(Job job, long kept, String why) {
    truncations.increment();
    log.warn("job {}: spool stopped at {} bytes ({}); the client still gets the whole response", job.id(), kept, why);
  }

  /** Not written to disk: the response head follows soon, and a job a crash leaves running is interrupted anyway. */
  void started(Job job, String upstream) {
    job.running(upstream, System.currentTimeMillis());
  }

  void head(Job job, int status, io.vertx.core.MultiMap headers) {
    job.head(status, headers);
    writeMetaSoon(job);
  }

  /** Answered 202: its client holds only the URL now, so the job is on disk at once. */
  void accepted(Job job) {
    metaDue.remove(job.id());
    writeMeta(job);
  }

  /** Ends {@code job}; one that never reached the upstream whole also frees its Idempotency-Key for a retry. */
  void end(Job job, JobState state, boolean reachedUpstream) {
    if (!job.end(state, System.currentTimeMillis())) return;
    if (!reachedUpstream) {
      forgetKey(job);
      job.fingerprint().completeExceptionally(new IllegalStateException("the request never reached the upstream whole"));
    }
    metaDue.remove(job.id());
    writeMeta(job);
    record(job);
  }

  private void forgetKey(Job job) {
    if (job.idempotencyKey() != null) byKey.remove(keyOf(job.scope(), job.idempotencyKey()), job);
  }

  /** Cancels a queued or running job (DELETE): its upstream request is reset by the exchange that runs it. */
  public boolean cancel(Job job) {
    if (job.state().ended()) return false;
    job.cancel();
    return true;
  }

  public void resumed() {
    resumes.increment();
  }

  public void replayed() {
    replays.increment();
  }

  public void conflict() {
    conflicts.increment();
  }

  /**
   * Writes the job's metadata within {@link #META_DELAY_MILLIS}, unless it ends first (then its end is written): a
   * short job costs one metadata write, not three, and a crash loses at most that much of a running job's state.
   */
  private void writeMetaSoon(Job job) {
    String id = job.id();
    if (!metaDue.add(id)) return;
    vertx.setTimer(META_DELAY_MILLIS, t -> {
      if (metaDue.remove(id)) writeMeta(job);
    });
  }

  /** Writes the job's metadata (to a temporary file, then moved over), in order per job. */
  private void writeMeta(Job job) {
    Path meta = dir.resolve(job.id() + ".json");
    metaWrites.compute(job.id(), (id, previous) -> {
      Future<Void> after = previous == null ? Future.succeededFuture() : previous.otherwiseEmpty();
      return after.compose(v -> vertx.executeBlocking(() -> {
        Buffer json = job.toMeta().toBuffer();
        Path tmp = dir.resolve(job.id() + ".json.tmp");
        Files.write(tmp, json.getBytes());
        Files.move(tmp, meta, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return null;
      }, false)).onFailure(err -> log.warn("job {}: metadata not written: {}", job.id(), err.toString())).mapEmpty();
    });
  }

  /** Jobs whose retention ended lose their spool (their id answers 410 for another retention period, then is gone). */
  private void sweep() {
    long now = System.currentTimeMillis();
    long retention = options.getRetentionMillis();
    for (Job job : jobs.values()) {
      if (!job.state().ended() || now - job.endedAt() < retention) continue;
      if (job.state() != JobState.EXPIRED) {
        forgetKey(job);
        release(job.bytes());
        job.expire();
        dropBody(job.id());
        writeMeta(job);
      } else if (now - job.endedAt() >= 2 * retention) {
        jobs.remove(job.id());
        String id = job.id();
        metaWrites.getOrDefault(id, Future.succeededFuture()).otherwiseEmpty()
          .compose(v -> vertx.fileSystem().delete(dir.resolve(id + ".json").toString())).otherwiseEmpty()
          .onComplete(v -> metaWrites.remove(id));
      }
    }
  }

  private int count(JobState state) {
    int n = 0;
    for (Job job : jobs.values()) if (job.state() == state) n++;
    return n;
  }

  /** Jobs still queued or running (a stop waits for them as for any request in flight). */
  public int active() {
    return count(JobState.QUEUED) + count(JobState.RUNNING);
  }

  /** Every job, newest first, as the admin API lists them. */
  public JsonArray list() {
    return recent(Integer.MAX_VALUE);
  }

  /** The {@code limit} newest jobs, newest first. */
  public JsonArray recent(int limit) {
    List<Job> all = new ArrayList<>(jobs.values());
    all.sort(Comparator.comparingLong(Job::createdAt).reversed());
    return new JsonArray(all.stream().limit(limit).map(Job::statusJson).toList());
  }

  /**
   * At stop, after shutdown-timeout: jobs still queued or running become interrupted, and every metadata write is
   * waited for, so the next start reads what this one knew.
   */
  public Future<Void> close() {
    if (sweeper >= 0) vertx.cancelTimer(sweeper);
    int interrupted = 0;
    for (Job job : jobs.values()) {
      if (!job.state().ended()) {
        Runnable stopUpstream = job.cancellation();
        end(job, JobState.INTERRUPTED, true); // first: the exchange, cancelled on its own event loop, finds it ended
        stopUpstream.run();
        interrupted++;
      }
    }
    if (interrupted > 0) log.warn("jobs: {} job(s) still running at stop are interrupted; their spools keep what arrived", interrupted);
    return Future.join(new ArrayList<>(metaWrites.values())).otherwiseEmpty().mapEmpty();
  }
}
