package dev.tether.manager.install;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The delegate image that install files name when {@code --image} is not given: the one the
 * release workflow published for this very build ({@code ghcr.io/OWNER/tether-delegate:VERSION}),
 * or, for a build of one's own, the local name {@code tether-delegate:VERSION} that
 * {@code docker build -t} gives it. Both come from {@code release.properties}, which Maven writes
 * when it builds the manager ({@code -Dtether.image.registry=ghcr.io/OWNER} in the workflow).
 */
public final class DelegateImage {

  static final String RESOURCE = "release.properties";
  static final String NAME = "tether-delegate";

  private DelegateImage() {
  }

  /** The default image of this build. */
  public static String defaultImage() {
    return of(release());
  }

  /** The default image that a build with these release properties names. */
  static String of(Properties release) {
    String version = release.getProperty("version", "").trim();
    if (version.isEmpty() || version.contains("${")) {
      throw new IllegalStateException(RESOURCE + " has no project version (was the manager built by Maven?)");
    }
    String registry = release.getProperty("image.registry", "").trim();
    while (registry.endsWith("/")) {
      registry = registry.substring(0, registry.length() - 1);
    }
    return (registry.isEmpty() ? "" : registry + "/") + NAME + ":" + version;
  }

  static Properties release() {
    Properties properties = new Properties();
    try (InputStream in = DelegateImage.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is missing from the manager's jar");
      }
      properties.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCE, e);
    }
    return properties;
  }
}
