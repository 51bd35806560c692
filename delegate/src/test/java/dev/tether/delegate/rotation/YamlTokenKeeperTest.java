package dev.tether.delegate.rotation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.config.ConfigLoader;
import dev.tether.delegate.config.DelegateConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class YamlTokenKeeperTest {

  private static final DelegateToken OLD = TokenLedger.record(DelegateToken.generate());
  private static final DelegateToken NEW = TokenLedger.record(DelegateToken.generate());
  @TempDir Path dir;

  private Path config(String text) throws Exception {
    Path file = Files.writeString(dir.resolve("config-delegate.yaml"), text);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    return file;
  }

  @Test
  void keep_replacesOnlyTheTokensCharacters_andTheConfigThenYieldsTheSuccessor() throws Exception {
    String before = """
        # Tether delegate (installed by install-files)
        accountId: acme   # the account
        managerUrl: "https://manager.example.com:7443"

        # the token; rotation rewrites this line only
        delegateToken: %s
        delegateTags:
          - linux   # build hosts
          - 'x86'
        delegateName: builder-1
        """.formatted(OLD.reveal());
    Path file = config(before);

    DelegateConfig loaded = ConfigLoader.load(Map.of(), file);
    assertThat(loaded.keeper().describe()).isEqualTo("delegateToken in config file '" + file + "'");
    loaded.keeper().keep(NEW);

    assertThat(Files.readString(file).equals(before.replace(OLD.reveal(), NEW.reveal())))
        .as("every byte but the token's is unchanged").isTrue();
    assertThat(ConfigLoader.load(Map.of(), file).token().current()).isEqualTo(NEW);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(f -> f.getFileName().toString())).containsExactly("config-delegate.yaml");
    }
  }

  @Test
  void theLegacyAccountSecret_isKeptUnderItsOwnName() throws Exception {
    String before = "accountId: acme\naccountSecret: '" + OLD.reveal() + "'\nmanagerUrl: http://localhost:7443\n";
    Path file = config(before);

    DelegateConfig loaded = ConfigLoader.load(Map.of(), file);
    assertThat(loaded.keeper().describe()).isEqualTo("accountSecret in config file '" + file + "'");
    loaded.keeper().keep(NEW);

    assertThat(Files.readString(file).equals(before.replace(OLD.reveal(), NEW.reveal()))).isTrue();
    assertThat(ConfigLoader.load(Map.of(), file).token().current()).isEqualTo(NEW);
  }

  @Test
  void aDoubleQuotedToken_staysDoubleQuoted_andABlockScalarBecomesOneLine() throws Exception {
    Path quoted = config("delegateToken: \"" + OLD.reveal() + "\" # quoted\naccountId: a\n");

    new YamlTokenKeeper(quoted, "delegateToken").keep(NEW);

    assertThat(Files.readString(quoted).equals("delegateToken: \"" + NEW.reveal() + "\" # quoted\naccountId: a\n"))
        .isTrue();

    Path block = config("delegateToken: |\n  " + OLD.reveal() + "\naccountId: a\n");

    new YamlTokenKeeper(block, "delegateToken").keep(NEW);

    assertThat(Files.readString(block).equals("delegateToken: \"" + NEW.reveal() + "\"\naccountId: a\n")).isTrue();
  }

  @Test
  void aCustomTokenYamlWouldReadAsANumber_isWrittenQuoted() throws Exception {
    DelegateToken digits = DelegateToken.parse("test", "12345678901234567890123456789012");
    Path file = config("accountId: a\ndelegateToken: " + OLD.reveal() + "\nmanagerUrl: http://localhost:7443\n");

    new YamlTokenKeeper(file, "delegateToken").keep(digits);

    assertThat(Files.readString(file))
        .isEqualTo("accountId: a\ndelegateToken: \"12345678901234567890123456789012\"\nmanagerUrl: http://localhost:7443\n");
    assertThat(ConfigLoader.load(Map.of(), file).token().current()).isEqualTo(digits);
  }

  @Test
  void aKeyThatIsNoLongerThere_orNoLongerOneValue_cannotBeKept_andTheFileStays() throws Exception {
    Path file = config("accountId: a\n");
    assertThatThrownBy(() -> new YamlTokenKeeper(file, "delegateToken").keep(NEW))
        .hasMessage("delegateToken in config file '" + file + "': the key is no longer in the file");

    String list = "accountId: a\ndelegateToken: [" + OLD.reveal() + "]\n";
    Files.writeString(file, list);
    assertThatThrownBy(() -> new YamlTokenKeeper(file, "delegateToken").keep(NEW))
        .hasMessage("delegateToken in config file '" + file + "' is not a single value (an alias, list or mapping)");
    assertThat(Files.readString(file).equals(list)).isTrue();
  }

  @Test
  void aReadOnlyConfigFile_cannotBeKept_andStaysByteForByte() throws Exception {
    String before = "accountId: a\ndelegateToken: " + OLD.reveal() + "\n";
    Path file = config(before);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--r-----"));

    assertThatThrownBy(() -> new YamlTokenKeeper(file, "delegateToken").keep(NEW))
        .isInstanceOf(CannotKeepException.class)
        .hasMessageStartingWith("config file '" + file + "' is read-only (mode 0440)")
        .satisfies(e -> assertThat(TokenLedger.leaksIn(e.getMessage())).isEmpty());
    assertThat(Files.readString(file).equals(before)).isTrue();
  }
}
