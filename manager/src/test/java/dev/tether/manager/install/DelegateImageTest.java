package dev.tether.manager.install;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The default image of install files: this build's, from the properties Maven filtered. */
public class DelegateImageTest {

  private static final Pattern PARENT_VERSION = Pattern.compile("<artifactId>tether-parent</artifactId>\\s*<version>([^<]+)</version>");

  /** The project version, from the parent pom (the tests run in the manager module's directory). */
  public static String projectVersion() {
    try {
      Matcher m = PARENT_VERSION.matcher(Files.readString(Path.of("..", "pom.xml")));
      assertThat(m.find()).as("../pom.xml names tether-parent's version").isTrue();
      return m.group(1);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void thisBuild_namesTheProjectVersion_andNoRegistry() {
    // mvn verify without -Dtether.image.registry, as CI and a developer run it
    assertThat(DelegateImage.release().getProperty("version")).isEqualTo(projectVersion());
    assertThat(DelegateImage.defaultImage()).isEqualTo("tether-delegate:" + projectVersion());
  }

  @Test
  void aReleaseBuild_namesThePublishedImage() {
    assertThat(DelegateImage.of(release("1.4.0", "ghcr.io/acme"))).isEqualTo("ghcr.io/acme/tether-delegate:1.4.0");
    assertThat(DelegateImage.of(release("1.4.0", "ghcr.io/acme/"))).isEqualTo("ghcr.io/acme/tether-delegate:1.4.0");
    assertThat(DelegateImage.of(release("1.4.0", ""))).isEqualTo("tether-delegate:1.4.0");
  }

  @Test
  void unfilteredProperties_areRefusedRatherThanNamingAnImageThatCannotExist() {
    assertThatThrownBy(() -> DelegateImage.of(release("${project.version}", "")))
        .hasMessageContaining("release.properties has no project version");
  }

  private static Properties release(String version, String registry) {
    Properties p = new Properties();
    p.setProperty("version", version);
    p.setProperty("image.registry", registry);
    return p;
  }
}
