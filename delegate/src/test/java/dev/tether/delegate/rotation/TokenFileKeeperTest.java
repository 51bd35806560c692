package dev.tether.delegate.rotation;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenFileKeeperTest {

  private static final DelegateToken OLD = TokenLedger.record(DelegateToken.generate());
  private static final DelegateToken NEW = TokenLedger.record(DelegateToken.generate());
  private static final boolean ROOT = "root".equals(System.getProperty("user.name"));
  @TempDir Path dir;

  private Path tokenFile(Path in, String content, String mode) throws IOException {
    Path file = Files.writeString(in.resolve("token"), content);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
    return file;
  }

  @Test
  void keep_replacesTheValue_keepingModeOwnerGroupAndFinalLineBreak_andLeavesNoTemporaryFile() throws Exception {
    Path file = tokenFile(dir, OLD.reveal() + "\n", "rw-r-----");
    if (ROOT) {
      // another user's file, as for a delegate run as root that keeps the token of a service user
      UserPrincipalLookupService users = dir.getFileSystem().getUserPrincipalLookupService();
      PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class);
      view.setOwner(users.lookupPrincipalByName("4242"));
      view.setGroup(users.lookupPrincipalByGroupName("4343"));
    }
    Object uid = Files.getAttribute(file, "unix:uid");
    Object gid = Files.getAttribute(file, "unix:gid");

    new TokenFileKeeper(file, Optional.empty()).keep(NEW);

    assertThat(Files.readString(file).equals(NEW.reveal() + "\n")).as("the file holds the new token and a line break")
        .isTrue();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-r-----");
    assertThat(Files.getAttribute(file, "unix:uid")).isEqualTo(uid);
    assertThat(Files.getAttribute(file, "unix:gid")).isEqualTo(gid);
    assertThat(names(dir)).containsExactly("token");
  }

  @Test
  void keep_writesNoLineBreakWhereTheOldFileHadNone_andWindowsOnesWhereItHadThose() throws Exception {
    Path bare = tokenFile(Files.createDirectory(dir.resolve("bare")), OLD.reveal(), "rw-------");
    Path crlf = tokenFile(Files.createDirectory(dir.resolve("crlf")), OLD.reveal() + "\r\n", "rw-------");

    new TokenFileKeeper(bare, Optional.empty()).keep(NEW);
    new TokenFileKeeper(crlf, Optional.empty()).keep(NEW);

    assertThat(Files.readString(bare).equals(NEW.reveal())).isTrue();
    assertThat(Files.readString(crlf).equals(NEW.reveal() + "\r\n")).isTrue();
  }

  @Test
  void aReadOnlyFile_cannotBeKept_sayingSo_andStaysByteForByte() throws Exception {
    Path file = tokenFile(dir, OLD.reveal() + "\n", "r--------");
    byte[] before = Files.readAllBytes(file);

    assertThatThrownBy(() -> new TokenFileKeeper(file, Optional.empty()).keep(NEW))
        .isInstanceOf(CannotKeepException.class)
        .hasMessage("token file '" + file + "' is read-only (mode 0400): to let rotation replace it, let its owner"
            + " write it (chmod u+w); otherwise set the new token there by hand and restart the delegate");

    assertThat(Files.readAllBytes(file)).isEqualTo(before);
    assertThat(names(dir)).containsExactly("token");
  }

  @Test
  void aFileTheDelegateMayNotWrite_cannotBeKept_sayingSo() throws Exception {
    Path file = tokenFile(dir, OLD.reveal() + "\n", "rw-r--r--");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
    if (ROOT) {
      Files.getFileAttributeView(file, PosixFileAttributeView.class)
          .setOwner(dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("4242"));
    }
    byte[] before = Files.readAllBytes(file);

    String answer = keepUnprivileged(file);

    assertThat(answer).startsWith("cannot keep: token file '" + file + "' is read-only for the delegate, which runs as ")
        .contains("(mode 0644, owner 4242)");
    assertThat(Files.readAllBytes(file)).isEqualTo(before);
    assertThat(names(dir)).containsExactly("token");
  }

  @Test
  void aFileInADirectoryTheDelegateMayNotWrite_cannotBeKept_sayingSo() throws Exception {
    Path locked = Files.createDirectory(dir.resolve("locked"));
    Path file = tokenFile(locked, OLD.reveal() + "\n", "rw-------");
    Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("r-x------"));
    byte[] before = Files.readAllBytes(file);
    try {
      String answer = keepUnprivileged(file);

      assertThat(answer).isEqualTo("cannot keep: token file '" + file + "' is in a directory the delegate cannot"
          + " write (" + locked + "): the new token is written to a temporary file beside it and renamed over it;"
          + " let the delegate's user write the directory, or set the new token by hand and restart the delegate");
      assertThat(Files.readAllBytes(file)).isEqualTo(before);
      assertThat(names(locked)).containsExactly("token");
    } finally {
      Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwx------"));
    }
  }

  @Test
  void aFileWhoseOwnerTheDelegateCannotKeep_isNotReplacedByOneOwnedBySomeoneElse() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(ROOT, "only root can make a file of another user that this user"
        + " may write");
    Path file = tokenFile(dir, OLD.reveal() + "\n", "rw-rw-rw-");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
    Files.getFileAttributeView(file, PosixFileAttributeView.class)
        .setOwner(dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("4242"));
    byte[] before = Files.readAllBytes(file);

    String answer = keepUnprivileged(file);

    assertThat(answer).startsWith("cannot keep: token file '" + file + "' is owned by 4242, and the delegate, which runs"
        + " as root, cannot give the new file that owner (").endsWith("): run the delegate as 4242, or give the file"
        + " to the delegate's user");
    assertThat(Files.readAllBytes(file)).isEqualTo(before);
    assertThat(Files.getAttribute(file, "unix:uid")).isEqualTo(4242);
    assertThat(names(dir)).containsExactly("token");
  }

  @Test
  void aSymbolicLink_keepsPointingAtItsFile_whichHoldsTheNewToken() throws Exception {
    Path real = tokenFile(Files.createDirectory(dir.resolve("real")), OLD.reveal() + "\n", "rw-------");
    Path link = Files.createSymbolicLink(dir.resolve("token-link"), real);

    new TokenFileKeeper(link, Optional.empty()).keep(NEW);

    assertThat(Files.isSymbolicLink(link)).isTrue();
    assertThat(Files.readString(real).equals(NEW.reveal() + "\n")).isTrue();
  }

  @Test
  void aMountedSecretFile_cannotBeKept_becauseItIsReadOnly() throws Exception {
    // the kubelet's layout: DELEGATE_TOKEN -> ..data/DELEGATE_TOKEN, ..data -> ..2026_11_30_10_00_00.123
    Path mount = Files.createDirectory(dir.resolve("token"));
    Path version = Files.createDirectory(mount.resolve("..2026_11_30_10_00_00.123"));
    Files.writeString(version.resolve("DELEGATE_TOKEN"), OLD.reveal());
    Files.createSymbolicLink(mount.resolve("..data"), version.getFileName());
    Path file = Files.createSymbolicLink(mount.resolve("DELEGATE_TOKEN"), Path.of("..data", "DELEGATE_TOKEN"));

    assertThatThrownBy(() -> new TokenFileKeeper(file, Optional.empty()).keep(NEW))
        .hasMessageStartingWith("a mounted Secret file is read-only: token file '" + file + "' is mounted from a"
            + " Kubernetes Secret (or ConfigMap); set DELEGATE_TOKEN_SECRET to the Secret's name");
    assertThat(Files.readString(file).equals(OLD.reveal())).isTrue();
  }

  @Test
  void aSystemdCredential_cannotBeKept() throws Exception {
    Path credentials = Files.createDirectory(dir.resolve("credentials"));
    Path file = tokenFile(credentials, OLD.reveal(), "rw-------");

    assertThatThrownBy(() -> new TokenFileKeeper(file, Optional.of(credentials)).keep(NEW))
        .hasMessageStartingWith("a systemd credential is read-only: token file '" + file + "' is in the credentials"
            + " directory of the service");
    assertThat(Files.readString(file).equals(OLD.reveal())).isTrue();
  }

  @Test
  void aMissingFile_cannotBeKept_namingIt() {
    Path file = dir.resolve("absent");

    assertThatThrownBy(() -> new TokenFileKeeper(file, Optional.empty()).keep(NEW))
        .hasMessage("token file '" + file + "' cannot be read (NoSuchFileException)");
  }

  @Test
  void temporaryFilesLeftByAnInterruptedKeep_areRemovedByTheNext() throws Exception {
    Path file = tokenFile(dir, OLD.reveal(), "rw-------");
    Files.writeString(dir.resolve(".token.8273645.tmp"), "half a tok");

    new TokenFileKeeper(file, Optional.empty()).keep(NEW);

    assertThat(names(dir)).containsExactly("token");
  }

  @Test
  void describe_namesTheFile_andNothingSaysTheToken() throws Exception {
    Path file = tokenFile(dir, OLD.reveal(), "r--------");
    TokenFileKeeper keeper = new TokenFileKeeper(file, Optional.empty());

    assertThat(keeper.describe()).isEqualTo("token file '" + file + "'");
    assertThatThrownBy(() -> keeper.keep(NEW))
        .satisfies(e -> assertThat(TokenLedger.leaksIn(e.getMessage() + e)).isEmpty());
  }

  private static String keepUnprivileged(Path file) throws Exception {
    try (ChildKeep child = ChildKeep.unprivileged(file, NEW)) {
      String answer = child.line();
      assertThat(TokenLedger.leaksIn(String.valueOf(answer))).isEmpty();
      return answer;
    }
  }

  private static List<String> names(Path in) throws IOException {
    try (Stream<Path> files = Files.list(in)) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }
}
