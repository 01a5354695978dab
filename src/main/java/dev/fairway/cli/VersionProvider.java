package dev.fairway.cli;

import picocli.CommandLine.IVersionProvider;

/** Reads the version that the build writes into the jar manifest. */
public class VersionProvider implements IVersionProvider {

  public static String version() {
    String v = VersionProvider.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  @Override
  public String[] getVersion() {
    return new String[] {"fairway " + version()};
  }
}
