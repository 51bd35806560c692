package dev.tether.manager.install;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Install files of every type: the directory holding the token is private, and so is every file holding it. */
class InstallFilesPrivacyTest {

  @TempDir Path root;
  private final DelegateToken token = TokenLedger.record(DelegateToken.generate());

  @ParameterizedTest
  @EnumSource(InstallType.class)
  void everyFileHoldingTheTokenIsOwnerOnly_insideDirectoriesOnlyTheOwnerCanOpen(InstallType type) throws Exception {
    Path out = root.resolve("install-" + type);
    InstallFiles.write(type, new InstallSpec("acct-42", "builders", token, "https://manager.example.com:7443",
        "builder-1", "tether", "registry.example.com/tether-delegate:0.1.0",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:tether-abc",
        "arn:aws:iam::123456789012:role/ecsTaskExecutionRole", null, null), out);

    assertThat(mode(out)).as("--out").isEqualTo("rwx------");
    List<Path> files;
    try (Stream<Path> walk = Files.walk(out)) {
      files = walk.filter(Files::isRegularFile).toList();
    }
    List<Path> holdingToken = files.stream().filter(f -> read(f).contains(token.reveal())).toList();
    assertThat(holdingToken).as("files holding the token").isNotEmpty();
    for (Path file : holdingToken) {
      assertThat(mode(file)).as(out.relativize(file).toString()).isEqualTo("rw-------");
      assertThat(mode(file.getParent())).as(out.relativize(file.getParent()) + "/").isEqualTo("rwx------");
    }
    assertThat(files).as("no temporary file left").noneMatch(f -> f.getFileName().toString().startsWith(".")
        && !f.getFileName().toString().equals(".helmignore"));
  }

  private static String read(Path file) {
    try {
      return new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String mode(Path path) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
  }
}
