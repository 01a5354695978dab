package dev.fairway.ops;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGTERM and SIGINT start a graceful drain (a second one exits at once); SIGHUP reloads the config. Uses
 * {@code sun.misc.Signal} (module jdk.unsupported), the JDK's only way to handle a signal without exiting on it.
 */
public final class Signals {

  private static final Logger log = LoggerFactory.getLogger(Signals.class);

  private Signals() {
  }

  public static void install(Runnable onStop, Runnable onReload) {
    Runnable[] stopping = {null};
    for (String name : new String[] {"TERM", "INT"}) {
      handle(name, () -> {
        synchronized (stopping) {
          if (stopping[0] != null) {
            log.warn("second stop signal: exiting now");
            Runtime.getRuntime().halt(1);
          }
          stopping[0] = onStop;
        }
        Thread drain = new Thread(onStop, "fairway-drain");
        // the signal's thread is a daemon, and so would this one be: the JVM would exit under it once Vert.x's threads
        // are gone, before the stop's last steps (writing the class-data archive) are done
        drain.setDaemon(false);
        drain.start();
      });
    }
    if (!handle("HUP", onReload)) {
      log.warn("SIGHUP is ignored by this process (started under nohup?), so a reload by signal does nothing: reload "
        + "with POST /admin/reload or by saving the config file (watch-config), or run Fairway under a service manager");
    }
  }

  /** @return false if the signal was ignored when the JVM started (nohup does that to HUP): then the JVM leaves it so */
  private static boolean handle(String name, Runnable action) {
    try {
      return Signal.handle(new Signal(name), sig -> action.run()) != SignalHandler.SIG_IGN;
    } catch (IllegalArgumentException e) {
      log.debug("signal {} not available on this platform", name); // e.g. HUP on Windows
      return true;
    }
  }
}
