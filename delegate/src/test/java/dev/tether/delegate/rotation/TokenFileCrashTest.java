package dev.tether.delegate.rotation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A keep killed with SIGKILL at each step of the replacement leaves the token file holding exactly
 * the old token (before the rename) or exactly the new one (from the rename on), never a mix, an
 * empty file or no file; and the next keep removes what the killed one left.
 */
class TokenFileCrashTest {

  private static final DelegateToken OLD = TokenLedger.record(DelegateToken.generate());
  private static final DelegateToken NEW = TokenLedger.record(DelegateToken.generate());
  @TempDir Path dir;

  @ParameterizedTest
  @EnumSource(FileReplacer.Step.class)
  void aKeepKilledAtEachStep_leavesTheOldTokenOrTheNewOneWhole(FileReplacer.Step step) throws Exception {
    Path file = Files.writeString(dir.resolve("token"), OLD.reveal() + "\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));

    try (ChildKeep child = ChildKeep.start(file, step.name(), NEW)) {
      assertThat(child.line()).isEqualTo("at " + step);
      child.kill();
    }

    boolean renamed = step.compareTo(FileReplacer.Step.RENAMED) >= 0;
    String expected = (renamed ? NEW : OLD).reveal() + "\n";
    assertThat(Files.readString(file).equals(expected))
        .as("after a kill at %s the file holds exactly the %s token", step, renamed ? "new" : "old").isTrue();
    assertThat(DelegateToken.parse("the token file", Files.readString(file))).isEqualTo(renamed ? NEW : OLD);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-r-----");

    // the next keep (as the restarted delegate would do it) finishes the job and tidies up
    new TokenFileKeeper(file, Optional.empty()).keep(NEW);
    assertThat(Files.readString(file).equals(NEW.reveal() + "\n")).isTrue();
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(f -> f.getFileName().toString())).containsExactly("token");
    }
  }
}
