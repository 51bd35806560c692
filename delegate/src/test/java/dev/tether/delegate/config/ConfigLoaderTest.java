package dev.tether.delegate.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.common.token.TokenFormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  private static final String TOKEN = TokenLedger.record(DelegateToken.generate()).reveal();
  /** A custom (imported) token: no prefix, no checksum, nothing to recognise it by but its value. */
  private static final String CUSTOM = customToken();
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
    Files.setPosixFilePermissions(yaml, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));

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

  @Test
  void opsListen_isOffUnlessSet_andTakesHostPortWithIpv6InBrackets() throws Exception {
    assertThat(ConfigLoader.load(base("DELEGATE_TOKEN", TOKEN), null).opsListen()).isNull();
    for (String off : List.of("off", "OFF", " Off ", "", "  ")) {
      assertThat(ConfigLoader.load(base("DELEGATE_TOKEN", TOKEN, "DELEGATE_OPS_LISTEN", off), null).opsListen())
          .as("'%s'", off).isNull();
    }

    OpsListen all = ConfigLoader.load(base("DELEGATE_TOKEN", TOKEN, "DELEGATE_OPS_LISTEN", "0.0.0.0:9465"), null)
        .opsListen();
    assertThat(all.address()).isEqualTo(new java.net.InetSocketAddress("0.0.0.0", 9465));
    assertThat(all.setting()).isEqualTo("DELEGATE_OPS_LISTEN");
    assertThat(all).hasToString("http://0.0.0.0:9465");
    OpsListen v6 = ConfigLoader.load(base("DELEGATE_TOKEN", TOKEN, "DELEGATE_OPS_LISTEN", " [::1]:9465 "), null)
        .opsListen();
    assertThat(v6.address().getAddress()).isEqualTo(java.net.InetAddress.getByName("::1"));
    assertThat(v6.address().getPort()).isEqualTo(9465);
    assertThat(v6).hasToString("http://[0:0:0:0:0:0:0:1]:9465");
    assertThat(ConfigLoader.load(base("DELEGATE_TOKEN", TOKEN, "DELEGATE_OPS_LISTEN", "localhost:0"), null)
        .opsListen().address().getAddress().isLoopbackAddress()).isTrue();
  }

  @Test
  void opsListen_inTheYamlFile_isOverriddenByTheEnvironment_andABareOffMeansOff() throws Exception {
    Path yaml = Files.writeString(dir.resolve("config-delegate.yaml"), "accountId: a\nmanagerUrl: https://m:1\n"
        + "delegateOpsListen: \"[::1]:9465\"\n");
    OpsListen fromYaml = ConfigLoader.load(Map.of("DELEGATE_TOKEN", TOKEN), yaml).opsListen();
    assertThat(fromYaml.address().getPort()).isEqualTo(9465);
    assertThat(fromYaml.setting()).isEqualTo("delegateOpsListen in config-delegate.yaml");
    assertThat(ConfigLoader.load(Map.of("DELEGATE_TOKEN", TOKEN, "DELEGATE_OPS_LISTEN", "127.0.0.1:9466"), yaml)
        .opsListen().address()).isEqualTo(new java.net.InetSocketAddress("127.0.0.1", 9466));
    assertThat(ConfigLoader.load(Map.of("DELEGATE_TOKEN", TOKEN, "DELEGATE_OPS_LISTEN", "off"), yaml).opsListen())
        .isNull();

    // YAML 1.1 reads a bare off as the boolean false
    Path off = Files.writeString(dir.resolve("off.yaml"), "accountId: a\nmanagerUrl: https://m:1\ndelegateOpsListen: off\n");
    assertThat(ConfigLoader.load(Map.of("DELEGATE_TOKEN", TOKEN), off).opsListen()).isNull();
    Path on = Files.writeString(dir.resolve("on.yaml"), "accountId: a\nmanagerUrl: https://m:1\ndelegateOpsListen: on\n");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("DELEGATE_TOKEN", TOKEN), on))
        .isInstanceOf(ConfigException.class)
        .hasMessage("delegateOpsListen in on.yaml is 'true' (expected HOST:PORT such as 127.0.0.1:9465, 0.0.0.0:9465"
            + " or [::1]:9465, or 'off')");
    Path list = Files.writeString(dir.resolve("list.yaml"), "accountId: a\nmanagerUrl: https://m:1\n"
        + "delegateOpsListen: [a]\n");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("DELEGATE_TOKEN", TOKEN), list))
        .hasMessageStartingWith("delegateOpsListen in list.yaml is a list: an IPv6 address in brackets must be quoted");
    Path bad = Files.writeString(dir.resolve("bad.yaml"), "accountId: a\nmanagerUrl: https://m:1\n"
        + "delegateOpsListen: 9465\n");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of("DELEGATE_TOKEN", TOKEN), bad))
        .hasMessage("delegateOpsListen in bad.yaml '9465' is not HOST:PORT (expected HOST:PORT such as"
            + " 127.0.0.1:9465, 0.0.0.0:9465 or [::1]:9465, or 'off')");
  }

  @Test
  void opsListen_badValues_nameTheValueAndTheExpectedForm() {
    String expected = "(expected HOST:PORT such as 127.0.0.1:9465, 0.0.0.0:9465 or [::1]:9465, or 'off')";
    Map<String, String> refused = new java.util.LinkedHashMap<>();
    refused.put("9465", "DELEGATE_OPS_LISTEN '9465' is not HOST:PORT " + expected);
    refused.put(":9465", "DELEGATE_OPS_LISTEN ':9465' is not HOST:PORT " + expected);
    refused.put("localhost", "DELEGATE_OPS_LISTEN 'localhost' is not HOST:PORT " + expected);
    refused.put("::1:9465", "DELEGATE_OPS_LISTEN '::1:9465' is not HOST:PORT: an IPv6 address goes in brackets, as in"
        + " [::1]:9465 " + expected);
    refused.put("[127.0.0.1]:9465", "DELEGATE_OPS_LISTEN '[127.0.0.1]:9465' has '127.0.0.1' in brackets, which are"
        + " for an IPv6 address only " + expected);
    refused.put("127.0.0.1:", "DELEGATE_OPS_LISTEN '127.0.0.1:' has port '', which is not a number from 0 to 65535 "
        + expected);
    refused.put("127.0.0.1:http", "DELEGATE_OPS_LISTEN '127.0.0.1:http' has port 'http', which is not a number from 0"
        + " to 65535 " + expected);
    refused.put("127.0.0.1:65536", "DELEGATE_OPS_LISTEN '127.0.0.1:65536' has port '65536', which is not a number"
        + " from 0 to 65535 " + expected);
    refused.put("127.0.0.1:-1", "DELEGATE_OPS_LISTEN '127.0.0.1:-1' has port '-1', which is not a number from 0 to"
        + " 65535 " + expected);
    refused.put("bad host!:9465", "DELEGATE_OPS_LISTEN 'bad host!:9465' has host 'bad host!', which is neither an IP"
        + " address nor a host name " + expected);
    refused.put("no-such-host.invalid:9465", "DELEGATE_OPS_LISTEN 'no-such-host.invalid:9465' has host"
        + " 'no-such-host.invalid', which does not resolve (expected HOST:PORT such as 127.0.0.1:9465, 0.0.0.0:9465"
        + " or [::1]:9465, or 'off'; 0.0.0.0 listens on every address of this machine)");
    refused.forEach((value, message) ->
        assertThatThrownBy(() -> ConfigLoader.load(base("DELEGATE_TOKEN", TOKEN, "DELEGATE_OPS_LISTEN", value), null))
            .as(value).isInstanceOf(ConfigException.class).hasMessage(message));
    // a generated token put there by mistake is refused without being echoed
    assertRefusedWithoutEcho(base("DELEGATE_TOKEN", TOKEN, "DELEGATE_OPS_LISTEN", TOKEN + ":9465"), null, TOKEN,
        "DELEGATE_OPS_LISTEN holds ");
  }

  private static String customToken() {
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    SecureRandom random = new SecureRandom();
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < 40; i++) {
      out.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return out.toString();
  }

  private static Map<String, String> base(String... more) {
    Map<String, String> env = env("ACCOUNT_ID", "a", "MANAGER_HOST_AND_PORT", "https://m.example.com:7443");
    env.putAll(env(more));
    return env;
  }

  /** Refused with a message that starts with {@code start} and holds neither the value nor a large part of it. */
  private static void assertRefusedWithoutEcho(Map<String, String> env, Path yaml, String value, String start) {
    assertThatThrownBy(() -> ConfigLoader.load(env, yaml))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(start)
        .satisfies(e -> assertThat(e.getMessage().contains(value.substring(0, 12))).as("message echoes the value").isFalse());
  }

  /** A CA file that holds no certificate stops the delegate at start, naming the file and what it should hold. */
  @Test
  void managerCaFile_withoutACertificate_isRefusedAtStartNamingTheFile() throws Exception {
    String expected = "give the PEM certificate of the CA that signed the manager's certificate, or the manager's"
        + " own (tls/manager.crt in its data directory)";
    Path garbage = Files.writeString(dir.resolve("ca.crt"), "-----BEGIN CERTIFICATE-----\nnot base64 at all\n"
        + "-----END CERTIFICATE-----\n");
    assertThatThrownBy(() -> ConfigLoader.load(base("DELEGATE_TOKEN", TOKEN, "MANAGER_CA_FILE", garbage.toString()),
        null))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("MANAGER_CA_FILE '" + garbage + "' holds no PEM certificate (")
        .hasMessageEndingWith(expected);
    Path empty = Files.writeString(dir.resolve("empty.crt"), "");
    assertThatThrownBy(() -> ConfigLoader.load(base("DELEGATE_TOKEN", TOKEN, "MANAGER_CA_FILE", empty.toString()),
        null))
        .isInstanceOf(ConfigException.class)
        .hasMessage("MANAGER_CA_FILE '" + empty + "' holds no certificate: " + expected);
  }

  /** Tether issue 11, finding 2: the attacker's DELEGATE_TYPE was a custom token, and it was stored. */
  @Test
  void customToken_inAnyOtherSetting_isRefusedNamingTheSettingWithoutEchoingIt() throws Exception {
    String given = " holds the delegate token given in DELEGATE_TOKEN; put the token only in DELEGATE_TOKEN or"
        + " DELEGATE_TOKEN_FILE (delegateToken or delegateTokenFile in the config file), never in another setting";
    for (String setting : List.of("DELEGATE_TYPE", "DELEGATE_NAME", "DELEGATE_TAGS", "ACCOUNT_ID",
        "MANAGER_HOST_AND_PORT", "MANAGER_CA_FILE", "DELEGATE_HEALTH_DIR", "DELEGATE_OPS_LISTEN", "HOSTNAME")) {
      assertThatThrownBy(() -> ConfigLoader.load(base("DELEGATE_TOKEN", CUSTOM, setting, CUSTOM), null))
          .isInstanceOf(ConfigException.class).hasMessage(setting + given);
    }
    // a part of a setting: a tag among others, a name around it
    assertRefusedWithoutEcho(base("DELEGATE_TOKEN", CUSTOM, "DELEGATE_TAGS", "linux," + CUSTOM + ",gpu"), null,
        CUSTOM, "DELEGATE_TAGS holds the delegate token given in DELEGATE_TOKEN;");
    assertRefusedWithoutEcho(base("DELEGATE_TOKEN", CUSTOM, "DELEGATE_NAME", "builder-" + CUSTOM + "-1"), null,
        CUSTOM, "DELEGATE_NAME holds the delegate token given in DELEGATE_TOKEN;");

    // the token in a file, and the token in the YAML file
    Path tokenFile = Files.writeString(dir.resolve("token"), CUSTOM + "\n");
    assertRefusedWithoutEcho(base("DELEGATE_TOKEN_FILE", tokenFile.toString(), "DELEGATE_TYPE", CUSTOM), null, CUSTOM,
        "DELEGATE_TYPE holds the delegate token given in the file DELEGATE_TOKEN_FILE names;");
    Path yaml = Files.writeString(dir.resolve("config-delegate.yaml"), "accountId: a\ndelegateToken: " + CUSTOM
        + "\nmanagerUrl: https://m:1\ndelegateTags: [x, pre-" + CUSTOM + "]\n");
    assertRefusedWithoutEcho(Map.of(), yaml, CUSTOM, "delegateTags in config-delegate.yaml holds the delegate token"
        + " given in delegateToken in config-delegate.yaml;");
    Path key = Files.writeString(dir.resolve("key.yaml"), "accountId: a\ndelegateToken: " + CUSTOM
        + "\nmanagerUrl: https://m:1\n" + CUSTOM + ": x\n");
    assertRefusedWithoutEcho(Map.of(), key, CUSTOM, "a key of key.yaml holds the delegate token given in delegateToken"
        + " in key.yaml;");
    Path typed = Files.writeString(dir.resolve("typed.yaml"), "accountId: a\nmanagerUrl: https://m:1\ndelegateType: "
        + CUSTOM + "\n");
    assertRefusedWithoutEcho(base("DELEGATE_TOKEN", CUSTOM), typed, CUSTOM,
        "delegateType in typed.yaml holds the delegate token given in DELEGATE_TOKEN;");

    // the custom token in its own place is fine
    assertThat(ConfigLoader.load(base("DELEGATE_TOKEN", CUSTOM, "DELEGATE_TYPE", "KUBERNETES"), null).delegateType())
        .isEqualTo("KUBERNETES");
  }

  @Test
  void generatedToken_inAnyOtherSetting_isRefusedNamingTheSettingWithoutEchoingIt() {
    for (String setting : List.of("DELEGATE_TYPE", "DELEGATE_NAME", "DELEGATE_TAGS")) {
      assertRefusedWithoutEcho(base("DELEGATE_TOKEN", TOKEN, setting, TOKEN), null, TOKEN, setting + " holds ");
      assertRefusedWithoutEcho(base("DELEGATE_TOKEN", TOKEN, setting, "x-" + TOKEN), null, TOKEN, setting + " holds ");
    }
  }

  /** Tether issue 11, finding 1: format and separator characters made names lie in logs and tables. */
  @Test
  void namesWithFormatOrSeparatorCharacters_areRefusedNamingTheSettingAndTheCodePoint() throws Exception {
    for (int codePoint : new int[] {0x202E, 0x2028, 0x200B}) {
      String bad = "prod" + Character.toString(codePoint) + "exe";
      String codePointName = String.format("U+%04X", codePoint);
      for (String setting : List.of("DELEGATE_NAME", "DELEGATE_TYPE")) {
        assertThatThrownBy(() -> ConfigLoader.load(base("DELEGATE_TOKEN", TOKEN, setting, bad), null))
            .isInstanceOf(ConfigException.class)
            .hasMessageStartingWith(setting + " has " + codePointName + " ")
            .hasMessageContaining("at position 5")
            .satisfies(e -> assertThat(e.getMessage()).doesNotContain(Character.toString(codePoint)));
      }
      assertThatThrownBy(() -> ConfigLoader.load(base("DELEGATE_TOKEN", TOKEN, "DELEGATE_TAGS", "linux," + bad), null))
          .isInstanceOf(ConfigException.class)
          .hasMessageStartingWith("DELEGATE_TAGS tag 2 has " + codePointName + " ");
      assertThatThrownBy(() -> ConfigLoader.load(base("DELEGATE_TOKEN", TOKEN, "HOSTNAME", bad), null))
          .isInstanceOf(ConfigException.class)
          .hasMessageStartingWith("HOSTNAME (the host name this delegate reports) has " + codePointName + " ");
      Path yaml = Files.writeString(dir.resolve("config-delegate.yaml"), "accountId: a\ndelegateToken: " + TOKEN
          + "\nmanagerUrl: https://m:1\ndelegateName: \"prod\\u" + Integer.toHexString(codePoint) + "exe\"\n");
      assertThatThrownBy(() -> ConfigLoader.load(Map.of(), yaml))
          .isInstanceOf(ConfigException.class)
          .hasMessageStartingWith("delegateName in config-delegate.yaml has " + codePointName + " ");
    }
  }

  /** Tether issue 13: a name install-files refuses was accepted by the delegate. One rule for both now. */
  @Test
  void delegateName_followsTheOneRuleOfInstallFilesAndSaysWhatItIs() {
    assertThatThrownBy(() -> ConfigLoader.load(base("DELEGATE_TOKEN", TOKEN, "DELEGATE_NAME", "bad name/!"), null))
        .isInstanceOf(ConfigException.class)
        .hasMessage("DELEGATE_NAME 'bad name/!' is not a valid delegate name (expected 1 to 63 lowercase letters,"
            + " digits and '-', starting and ending with a letter or digit, as in a host name, for example"
            + " 'bad-name')");
    for (String refused : List.of("Builder-1", "builder_1", "-builder", "builder.example.com", "сборщик-1", "a".repeat(64))) {
      assertThatThrownBy(() -> ConfigLoader.load(base("DELEGATE_TOKEN", TOKEN, "DELEGATE_NAME", refused), null))
          .as(refused).isInstanceOf(ConfigException.class).hasMessageContaining("is not a valid delegate name");
    }
    for (String accepted : List.of("builder-1", "b", "0", "a".repeat(63))) {
      assertThat(ConfigLoader.load(base("DELEGATE_TOKEN", TOKEN, "DELEGATE_NAME", accepted), null).delegateName())
          .isEqualTo(accepted);
    }
    // the default, the host name, is made into a name that follows the rule
    assertThat(ConfigLoader.load(base("DELEGATE_TOKEN", TOKEN, "HOSTNAME", "Builder_7.Example.com"), null)
        .delegateName()).isEqualTo("builder-7-example-com");
  }

  /** Tether issue 13: DELEGATE_TYPE=kubernetess was stored as it was. */
  @Test
  void delegateType_mustBeAKnownTypeInAnyCaseAndIsReportedInUpperCase() throws Exception {
    assertThatThrownBy(() -> ConfigLoader.load(base("DELEGATE_TOKEN", TOKEN, "DELEGATE_TYPE", "kubernetess"), null))
        .isInstanceOf(ConfigException.class)
        .hasMessage("DELEGATE_TYPE 'kubernetess' is not a known delegate type (expected one of KUBERNETES, HELM,"
            + " DOCKER, ECS, SHELL_SCRIPT, SYSTEMD, in any case)");
    assertThat(ConfigLoader.load(base("DELEGATE_TOKEN", TOKEN, "DELEGATE_TYPE", "kubernetes"), null).delegateType())
        .isEqualTo("KUBERNETES");
    assertThat(ConfigLoader.load(base("DELEGATE_TOKEN", TOKEN, "DELEGATE_TYPE", "Shell_Script"), null).delegateType())
        .isEqualTo("SHELL_SCRIPT");
    assertThat(ConfigLoader.load(base("DELEGATE_TOKEN", TOKEN), null).delegateType()).isEqualTo("SHELL_SCRIPT");
    Path yaml = Files.writeString(dir.resolve("config-delegate.yaml"), "accountId: a\ndelegateToken: " + TOKEN
        + "\nmanagerUrl: https://m:1\ndelegateType: vm\n");
    assertThatThrownBy(() -> ConfigLoader.load(Map.of(), yaml))
        .hasMessageStartingWith("delegateType in config-delegate.yaml 'vm' is not a known delegate type");
  }

  /** Tether issue 13: https://127.0.0.1:abc was reported as having no host. */
  @Test
  void managerAddressWithABadPort_namesThePort() {
    String expected = " (expected https://HOST:PORT or http://HOST:PORT with a PORT from 1 to 65535, such as"
        + " https://manager.example.com:7443; without a port, 7443 is used)";
    assertThatThrownBy(() -> ConfigLoader.load(base("DELEGATE_TOKEN", TOKEN, "MANAGER_HOST_AND_PORT",
        "https://127.0.0.1:abc"), null))
        .isInstanceOf(ConfigException.class)
        .hasMessage("MANAGER_HOST_AND_PORT 'https://127.0.0.1:abc' has port 'abc', which is not a number" + expected);
    assertThatThrownBy(() -> ConfigLoader.load(base("DELEGATE_TOKEN", TOKEN, "MANAGER_HOST_AND_PORT",
        "m.example.com:99999"), null))
        .hasMessage("MANAGER_HOST_AND_PORT 'm.example.com:99999' has port '99999', which is out of range" + expected);
    assertThatThrownBy(() -> ConfigLoader.load(base("DELEGATE_TOKEN", TOKEN, "MANAGER_HOST_AND_PORT",
        "http://[::1]:7x/"), null))
        .hasMessage("MANAGER_HOST_AND_PORT 'http://[::1]:7x/' has port '7x', which is not a number" + expected);
    assertThat(ConfigLoader.load(base("DELEGATE_TOKEN", TOKEN, "MANAGER_HOST_AND_PORT", "http://[::1]:7443/"), null)
        .managers()).containsExactly(new ManagerEndpoint("::1", 7443, false));
  }

  /** Tether issue 13: with both keys set, accountSecret was ignored without a word. */
  @Test
  void delegateTokenAndAccountSecretBothSet_warnsThatAccountSecretIsIgnored() throws Exception {
    String other = TokenLedger.record(DelegateToken.generate()).reveal();
    Path yaml = Files.writeString(dir.resolve("config-delegate.yaml"), "accountId: a\ndelegateToken: " + TOKEN
        + "\naccountSecret: " + other + "\nmanagerUrl: https://m:1\n");
    Files.setPosixFilePermissions(yaml, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));

    DelegateConfig config = ConfigLoader.load(Map.of(), yaml);

    assertThat(config.token().describe()).isEqualTo("delegateToken in config-delegate.yaml");
    assertThat(config.warnings()).containsExactly("accountSecret in config-delegate.yaml is ignored because"
        + " delegateToken in config-delegate.yaml is set (accountSecret is the deprecated name of delegateToken):"
        + " remove accountSecret from config-delegate.yaml, so that the token in use is the only one written down");
    assertThat(config.warnings().toString()).doesNotContain(TOKEN).doesNotContain(other);
    // the environment's token wins over the file's, and the file's is named as ignored
    assertThat(ConfigLoader.load(Map.of("DELEGATE_TOKEN", TOKEN), yaml).warnings()).containsExactly(
        "delegateToken in config-delegate.yaml is ignored because DELEGATE_TOKEN is set: remove delegateToken from"
            + " config-delegate.yaml, so that the token in use is the only one written down",
        "accountSecret in config-delegate.yaml is ignored because DELEGATE_TOKEN is set (accountSecret is the"
            + " deprecated name of delegateToken): remove accountSecret from config-delegate.yaml, so that the token"
            + " in use is the only one written down");
  }

  /** Tether issue 13: a config file holding the token, readable by every user, gave no warning. */
  @Test
  void configFileHoldingATokenReadableByOthers_warnsWithItsModeAndTheFix() throws Exception {
    Path yaml = Files.writeString(dir.resolve("config-delegate.yaml"), "accountId: a\ndelegateToken: " + TOKEN
        + "\nmanagerUrl: https://m:1\n");
    Files.setPosixFilePermissions(yaml, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    String file = "'" + yaml.toAbsolutePath() + "'";

    assertThat(ConfigLoader.load(Map.of(), yaml).warnings()).containsExactly("config file: permissions 0644 for "
        + file + " are too open: other users can read it, and it holds the delegate token. Only its owner may read"
        + " it. Fix: chmod 600 " + file);

    Files.setPosixFilePermissions(yaml, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    assertThat(ConfigLoader.load(Map.of(), yaml).warnings()).isEmpty();
    // a file without a token may be read by anyone
    Path noToken = Files.writeString(dir.resolve("public.yaml"), "accountId: a\nmanagerUrl: https://m:1\n");
    Files.setPosixFilePermissions(noToken, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    assertThat(ConfigLoader.load(Map.of("DELEGATE_TOKEN", TOKEN), noToken).warnings()).isEmpty();
  }

  @Property(tries = 1000)
  void anyEnvironment_givesAConfigOrANamedErrorAndNeverEchoesTheToken(@ForAll("environments") Map<String, String> env) {
    try {
      DelegateConfig config = ConfigLoader.load(env, null);
      assertThat(config.accountId()).isNotBlank();
      assertThat(config.toString().contains(TOKEN)).isFalse();
      if (CUSTOM.equals(env.get("DELEGATE_TOKEN"))) {
        assertThat(List.of(config.accountId(), config.delegateName(), config.delegateType(), config.tags().toString(),
            config.managers().toString())).noneMatch(v -> v.contains(CUSTOM));
      }
    } catch (ConfigException | TokenFormatException e) {
      assertThat(e.getMessage()).isNotBlank();
      assertThat(e.getMessage().contains(TOKEN)).as("error message echoes the token").isFalse();
      if (CUSTOM.equals(env.get("DELEGATE_TOKEN"))) {
        assertThat(e.getMessage().contains(CUSTOM)).as("error message echoes the custom token").isFalse();
      }
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
        "MANAGER_HOST_AND_PORT", "DELEGATE_NAME", "DELEGATE_TYPE", "DELEGATE_TAGS", "MANAGER_CA_FILE",
        "DELEGATE_OPS_LISTEN", "OTHER");
    Arbitrary<String> values = Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(100), Arbitraries.just(TOKEN),
        Arbitraries.of(CUSTOM, "x," + CUSTOM, "builder-" + CUSTOM),
        Arbitraries.of("https://m.example.com:7443", "http://[::1]:7443", "m:99999", "acct-1", "a,b,,c", "",
            "127.0.0.1:9465", "[::1]:0", "off", "::1:9465"));
    return Arbitraries.maps(keys, values).ofMaxSize(10);
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
