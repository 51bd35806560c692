package dev.tether.manager.store;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.io.BaseEncoding;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.HandshakeException;
import dev.tether.manager.testing.ManagerFixture;
import dev.tether.manager.token.MasterKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatabaseSecretsTest {

  @TempDir Path dataDir;
  @TempDir Path stolenDir;

  @Test
  void databaseFile_holdsNoTokenValueAndNoTokenKey() throws Exception {
    List<DelegateToken> created = new ArrayList<>();
    List<String> accounts = new ArrayList<>();
    try (ManagerFixture fixture = new ManagerFixture(dataDir)) {
      for (int a = 0; a < 3; a++) {
        var account = fixture.account("acct-" + a);
        accounts.add(account.account().id());
        created.add(account.defaultToken().value());
        for (int t = 0; t < 5; t++) {
          created.add(fixture.token(account.account().id(), "t" + t).value());
        }
      }
    }
    byte[] database = databaseBytes(dataDir);
    assertThat(database.length).isGreaterThan(1000);

    for (int i = 0; i < created.size(); i++) {
      DelegateToken token = created.get(i);
      String accountId = accounts.get(i / 6);
      byte[] key = token.credential(accountId).key();
      assertThat(indexOf(database, token.reveal().getBytes(UTF_8))).as("token value in database").isEqualTo(-1);
      assertThat(indexOf(database, token.reveal().substring(4, 40).getBytes(UTF_8))).as("token body").isEqualTo(-1);
      assertThat(indexOf(database, key)).as("raw token key in database").isEqualTo(-1);
      assertThat(indexOf(database, BaseEncoding.base64().encode(key).getBytes(UTF_8))).as("base64 key").isEqualTo(-1);
      assertThat(indexOf(database, token.publicId().getBytes(UTF_8))).as("public id is stored").isNotEqualTo(-1);
    }
  }

  @Test
  void aCopyOfTheDatabaseAloneDoesNotPassTheHandshake() throws Exception {
    String accountId;
    DelegateToken token;
    try (ManagerFixture fixture = new ManagerFixture(dataDir)) {
      var account = fixture.account("acme");
      accountId = account.account().id();
      token = account.defaultToken().value();
    }
    try (Stream<Path> files = Files.list(dataDir)) {
      for (Path file : files.filter(f -> f.getFileName().toString().endsWith(".db")).toList()) {
        Files.copy(file, stolenDir.resolve(file.getFileName()));
      }
    }
    assertThat(stolenDir.resolve(MasterKey.FILE_NAME)).doesNotExist();

    // the thief runs a manager on the stolen database (a new master key is generated)
    try (ManagerFixture thief = new ManagerFixture(stolenDir)) {
      assertThat(thief.manager().tokens().listTokens(accountId)).hasSize(1);
      assertThatThrownBy(() -> thief.handshake(accountId, token, "victim"))
          .isInstanceOf(HandshakeException.class);
    }
  }

  static byte[] databaseBytes(Path dir) throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      var out = new java.io.ByteArrayOutputStream();
      for (Path file : files.filter(f -> f.getFileName().toString().endsWith(".db")).toList()) {
        out.write(Files.readAllBytes(file));
      }
      return out.toByteArray();
    }
  }

  static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
