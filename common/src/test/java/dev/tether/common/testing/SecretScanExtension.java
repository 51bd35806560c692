package dev.tether.common.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * After every test class, scans the log files the tests wrote (the folders named by the system
 * property {@code tether.secret.scan}) for every token value recorded in the {@link TokenLedger}.
 * A hit fails the class: a token value must never reach a log. Registered for all test classes
 * through JUnit's extension auto-detection.
 */
public final class SecretScanExtension implements AfterAllCallback {

  @Override
  public void afterAll(ExtensionContext context) {
    String roots = System.getProperty("tether.secret.scan");
    if (roots == null || roots.isBlank() || TokenLedger.values().isEmpty()) {
      return;
    }
    List<String> leaks = new ArrayList<>();
    for (String root : roots.split(",")) {
      Path dir = Path.of(root.strip());
      if (!Files.isDirectory(dir)) {
        continue;
      }
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path file : files.filter(Files::isRegularFile).toList()) {
          String text = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
          for (String leaked : TokenLedger.leaksIn(text)) {
            leaks.add(file + " holds token " + leaked.substring(0, 8) + "...");
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    assertThat(leaks).as("token values found in test logs after " + context.getDisplayName()).isEmpty();
  }
}
