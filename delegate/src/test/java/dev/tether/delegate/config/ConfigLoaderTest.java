package dev.tether.delegate.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.common.token.DelegateToken;
import dev.tether.common.token.TokenFormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  private static final String TOKEN = DelegateToken.generate().reveal();
  @TempDir Path dir;

  private static Map<String, String> env(String... pairs) {
    Map<String, String> env = new HashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      env.put(pairs[i], pairs[i + 1]);
    }
    return env;
  }

  @Test
  void environment_overridesTheYamlKeyByKey() throws Exception {
    Path yaml = Files.writeString(dir.resolve("config-delegate.yaml"), "accountId: from-yaml\ndelegateToken: " + TOKEN
        + "\nmanagerUrl: https://yaml.example.com:7443\ndelegateName: yaml-name\ndelegateTags: [a, b]\n");

    DelegateConfig config = ConfigLoader.load(env("ACCOUNT_ID", "from-env", "DELEGATE_NAME", "env-name"), yaml);

    assertThat(config.accountId()).isEqualTo("from-env");
    assertThat(config.delegateName()).isEqualTo("env-name");
    assertThat(config.managers()).containsExactly(new ManagerEndpoint("yaml.example.com", 7443, true));
    assertThat(config.tags()).containsExactly("a", "b");
    assertThat(config.token().describe()).isEqualTo("delegateToken in config-delegate.yaml");
  }

  @Test
  void severalManagers_areListedAndMustShareAScheme() {
    DelegateConfig config = ConfigLoader.load(env("ACCOUNT_ID", "a", "DELEGATE_TOKEN", TOKEN,
        "MANAGER_HOST_AND_PORT", "https://m1.example.com:7443, https://m2.example.com:7443,m3.example.com"), null);

    assertThat(config.managers()).containsExactly(new ManagerEndpoint("m1.example.com", 7443, true),
        new ManagerEndpoint("m2.example.com", 7443, true), new ManagerEndpoint("m3.example.com", 7443, true));
    assertThatThrownBy(() -> ConfigLoader.load(env("ACCOUNT_ID", "a", "DELEGATE_TOKEN", TOKEN,
        "MANAGER_HOST_AND_PORT", "https://m1:7443,http://m2:7443"), null))
        .hasMessage("MANAGER_HOST_AND_PORT mixes https:// and http:// managers (expected all TLS or all plaintext)");
  }

  @Test
  void legacyAccountSecret_isAcceptedWithADeprecationWarning() throws Exception {
    Path yaml = Files.writeString(dir.resolve("config-delegate.yaml"), "accountId: a\naccountSecret: " + TOKEN
        + "\nmanagerUrl: http://localhost:7443\n");

    DelegateConfig config = ConfigLoader.load(Map.of(), yaml);

    assertThat(config.warnings()).containsExactly("accountSecret in config-delegate.yaml is deprecated: rename the key to delegateToken");
    assertThat(config.token().current().reveal().equals(TOKEN)).isTrue();
    assertThat(config.manager().tls()).isFalse();
  }

  @Test
  void missingAndMalformedSettings_nameTheSetting() throws Exception {
    assertThatThrownBy(() -> ConfigLoader.load(env("DELEGATE_TOKEN", TOKEN, "MANAGER_HOST_AND_PORT", "m:1"), null))
        .hasMessageStartingWith("ACCOUNT_ID is not set");
    assertThatThrownBy(() -> ConfigLoader.load(env("ACCOUNT_ID", "a", "MANAGER_HOST_AND_PORT", "m:1"), null))
        .hasMessageStartingWith("no delegate token: set DELEGATE_TOKEN or DELEGATE_TOKEN_FILE");
    assertThatThrownBy(() -> ConfigLoader.load(env("ACCOUNT_ID", "a", "DELEGATE_TOKEN", TOKEN,
        "DELEGATE_TOKEN_FILE", "/x", "MANAGER_HOST_AND_PORT", "m:1"), null))
        .hasMessageStartingWith("both DELEGATE_TOKEN and DELEGATE_TOKEN_FILE are set");
    assertThatThrownBy(() -> ConfigLoader.load(env("ACCOUNT_ID", "a", "DELEGATE_TOKEN", TOKEN,
        "MANAGER_HOST_AND_PORT", "ftp://m:1"), null))
        .hasMessage("MANAGER_HOST_AND_PORT 'ftp://m:1' has scheme 'ftp' (expected https:// for TLS or http:// for plaintext)");
    assertThatThrownBy(() -> ConfigLoader.load(env("ACCOUNT_ID", "a", "DELEGATE_TOKEN", TOKEN.substring(0, 30),
        "MANAGER_HOST_AND_PORT", "m:1"), null))
        .isInstanceOf(TokenFormatException.class).hasMessageStartingWith("DELEGATE_TOKEN is malformed");
    Path unknownKey = Files.writeString(dir.resolve("bad.yaml"), "accountId: a\nmanagerURL: x\n");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of(), unknownKey))
        .hasMessageContaining("bad.yaml has an unknown key 'managerURL' (expected one of accountId,");
  }

  /** Found by the environment fuzzer in CI: the path was kept and shown by the config's toString(). */
  @Test
  void tokenGivenAsTheTokenFilePath_isRefusedWithoutEchoingIt() throws Exception {
    assertThatThrownBy(() -> ConfigLoader.load(env("ACCOUNT_ID", "a", "DELEGATE_TOKEN_FILE", TOKEN,
        "MANAGER_HOST_AND_PORT", "m:1"), null))
        .isInstanceOf(ConfigException.class)
        .hasMessage("DELEGATE_TOKEN_FILE holds what looks like the delegate token itself (expected the path of a"
            + " file holding the token; to give the value directly use DELEGATE_TOKEN)");
    Path yaml = Files.writeString(dir.resolve("config-delegate.yaml"), "accountId: a\ndelegateTokenFile: /run/"
        + TOKEN + "\nmanagerUrl: https://m:1\n");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of(), yaml))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("delegateTokenFile in config-delegate.yaml holds what looks like the delegate token")
        .satisfies(e -> assertThat(e.getMessage().contains(TOKEN)).isFalse());
  }

  @Test
  void yamlErrors_reportThePositionButNeverEchoTheText() throws Exception {
    Path broken = Files.writeString(dir.resolve("broken.yaml"), "accountId: a\ndelegateToken: [" + TOKEN + "\n");

    assertThatThrownBy(() -> ConfigLoader.load(Map.of(), broken))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("is not valid YAML at line")
        .satisfies(e -> assertThat(e.getMessage().contains(TOKEN)).isFalse());
  }

  @Property(tries = 1000)
  void anyEnvironment_givesAConfigOrANamedErrorAndNeverEchoesTheToken(@ForAll("environments") Map<String, String> env) {
    try {
      DelegateConfig config = ConfigLoader.load(env, null);
      assertThat(config.accountId()).isNotBlank();
      assertThat(config.toString().contains(TOKEN)).isFalse();
    } catch (ConfigException | TokenFormatException e) {
      assertThat(e.getMessage()).isNotBlank();
      assertThat(e.getMessage().contains(TOKEN)).as("error message echoes the token").isFalse();
    }
  }

  @Property(tries = 1000)
  void anyYamlText_givesAConfigOrANamedError(@ForAll("yamlTexts") String text) throws Exception {
    Path file = Files.writeString(Files.createTempFile("fuzz", ".yaml"), text);
    try {
      ConfigLoader.load(Map.of(), file);
    } catch (ConfigException | TokenFormatException e) {
      assertThat(e.getMessage()).isNotBlank();
      assertThat(e.getMessage().contains(TOKEN)).isFalse();
    } finally {
      Files.delete(file);
    }
  }

  @Provide
  Arbitrary<Map<String, String>> environments() {
    Arbitrary<String> keys = Arbitraries.of("ACCOUNT_ID", "DELEGATE_TOKEN", "DELEGATE_TOKEN_FILE",
        "MANAGER_HOST_AND_PORT", "DELEGATE_NAME", "DELEGATE_TYPE", "DELEGATE_TAGS", "MANAGER_CA_FILE", "OTHER");
    Arbitrary<String> values = Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(100), Arbitraries.just(TOKEN),
        Arbitraries.of("https://m.example.com:7443", "http://[::1]:7443", "m:99999", "acct-1", "a,b,,c", ""));
    return Arbitraries.maps(keys, values).ofMaxSize(9);
  }

  @Provide
  Arbitrary<String> yamlTexts() {
    Arbitrary<String> lines = Arbitraries.oneOf(
        Arbitraries.of("accountId: a", "delegateToken: " + TOKEN, "accountSecret: " + TOKEN, "managerUrl: https://m:1",
            "delegateTags: [x, y]", "delegateTags: {a: b}", "managerUrl: [1, 2]", "- item", "&a [*a, *a]", "? complex",
            "delegateName: !!binary aGVsbG8=", "accountId: a\naccountId: b", "---", "\t", "key: 'unterminated"),
        Arbitraries.strings().ofMaxLength(60));
    return lines.list().ofMaxSize(8).map(l -> String.join("\n", l));
  }

}
