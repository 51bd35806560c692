package dev.tether.delegate.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.rotation.CannotKeepException;
import dev.tether.delegate.rotation.FixedSourceKeeper;
import dev.tether.delegate.rotation.SecretTokenKeeper;
import dev.tether.delegate.rotation.TokenFileKeeper;
import dev.tether.delegate.rotation.YamlTokenKeeper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ConfigLoader gives each token source its keeper, and checks the settings of the Secret keeper. */
class KeeperChoiceTest {

  private static final DelegateToken TOKEN = TokenLedger.record(DelegateToken.generate());
  private static final DelegateToken NEW = TokenLedger.record(DelegateToken.generate());
  @TempDir Path dir;

  private static Map<String, String> env(String... pairs) {
    Map<String, String> env = new HashMap<>(Map.of("ACCOUNT_ID", "acme", "MANAGER_HOST_AND_PORT", "http://m:7443"));
    for (int i = 0; i < pairs.length; i += 2) {
      env.put(pairs[i], pairs[i + 1]);
    }
    return env;
  }

  @Test
  void aTokenFromTheEnvironment_cannotBeKept_sayingWhereToSetItInstead() {
    DelegateConfig config = ConfigLoader.load(env("DELEGATE_TOKEN", TOKEN.reveal()), null);

    assertThat(config.keeper()).isInstanceOf(FixedSourceKeeper.class);
    assertThat(config.keeper().describe()).isEqualTo("the environment variable DELEGATE_TOKEN");
    assertThatThrownBy(() -> config.keeper().keep(NEW)).isInstanceOf(CannotKeepException.class)
        .hasMessage("the token comes from the environment variable DELEGATE_TOKEN, which a running process cannot"
            + " change: set the new token where the delegate is installed and restart it");
  }

  @Test
  void underSystemdOrEcs_theReasonNamesTheCredentialOrTheSecret() {
    DelegateConfig systemd = ConfigLoader.load(env("DELEGATE_TOKEN", TOKEN.reveal(), "CREDENTIALS_DIRECTORY",
        "/run/credentials/tether-delegate@b.service"), null);
    DelegateConfig ecs = ConfigLoader.load(env("DELEGATE_TOKEN", TOKEN.reveal(), "ECS_CONTAINER_METADATA_URI_V4",
        "http://169.254.170.2/v4/abc"), null);

    assertThatThrownBy(() -> systemd.keeper().keep(NEW))
        .hasMessage("the token comes from the environment variable DELEGATE_TOKEN, set from a systemd credential,"
            + " which a running process cannot change: replace the credential's file (LoadCredential= of the unit)"
            + " with the new token and restart the service");
    assertThatThrownBy(() -> ecs.keeper().keep(NEW))
        .hasMessage("the token comes from the environment variable DELEGATE_TOKEN, set from an ECS secret, which a"
            + " running task cannot change: put the new token in the secret the task definition names and start a"
            + " new deployment of the service");
  }

  @Test
  void aTokenFile_isKeptInThatFile_fromTheEnvironmentOrTheYaml() throws Exception {
    Path token = Files.writeString(dir.resolve("token"), TOKEN.reveal() + "\n");
    Path yaml = Files.writeString(dir.resolve("config-delegate.yaml"), "delegateTokenFile: " + token + "\n");

    DelegateConfig fromEnv = ConfigLoader.load(env("DELEGATE_TOKEN_FILE", token.toString()), null);
    DelegateConfig fromYaml = ConfigLoader.load(env(), yaml);

    assertThat(fromEnv.keeper()).isInstanceOf(TokenFileKeeper.class);
    assertThat(fromEnv.keeper().describe()).isEqualTo("token file '" + token + "'");
    assertThat(fromYaml.keeper().describe()).isEqualTo("token file '" + token + "'");
    fromYaml.keeper().keep(NEW);
    assertThat(fromEnv.token().current()).isEqualTo(NEW);
  }

  @Test
  void theYamlKey_isKeptInTheYaml_unlessTheEnvironmentOverridesIt() throws Exception {
    Path yaml = Files.writeString(dir.resolve("config-delegate.yaml"), "delegateToken: " + TOKEN.reveal() + "\n");

    assertThat(ConfigLoader.load(env(), yaml).keeper()).isInstanceOf(YamlTokenKeeper.class);
    assertThat(ConfigLoader.load(env("DELEGATE_TOKEN", NEW.reveal()), yaml).keeper())
        .isInstanceOf(FixedSourceKeeper.class);
  }

  @Test
  void delegateTokenSecret_makesTheSecretTheKeeper_whateverTheTokensSource() throws Exception {
    Path token = Files.writeString(dir.resolve("token"), TOKEN.reveal());

    DelegateConfig config = ConfigLoader.load(env("DELEGATE_TOKEN_FILE", token.toString(), "DELEGATE_TOKEN_SECRET",
        "tether-builders-token", "DELEGATE_TOKEN_SECRET_NAMESPACE", "ci"), null);
    DelegateConfig ownNamespace = ConfigLoader.load(env("DELEGATE_TOKEN", TOKEN.reveal(), "DELEGATE_TOKEN_SECRET",
        "tether.token"), null);

    assertThat(config.keeper()).isInstanceOf(SecretTokenKeeper.class);
    assertThat(config.keeper().describe()).isEqualTo("Kubernetes Secret ci/tether-builders-token (key DELEGATE_TOKEN)");
    assertThat(ownNamespace.keeper().describe())
        .isEqualTo("Kubernetes Secret tether.token in the delegate's namespace (key DELEGATE_TOKEN)");
  }

  @Test
  void malformedSecretSettings_areRefusedAtStart_namingTheSetting() {
    assertThatThrownBy(() -> ConfigLoader.load(env("DELEGATE_TOKEN", TOKEN.reveal(), "DELEGATE_TOKEN_SECRET",
        "Tether_Token"), null))
        .isInstanceOf(ConfigException.class)
        .hasMessage("DELEGATE_TOKEN_SECRET 'Tether_Token' is not a Kubernetes Secret name (expected at most 253"
            + " lowercase letters, digits, '-' and '.', starting and ending with a letter or digit: the name of the"
            + " Secret holding the key DELEGATE_TOKEN)");
    assertThatThrownBy(() -> ConfigLoader.load(env("DELEGATE_TOKEN", TOKEN.reveal(), "DELEGATE_TOKEN_SECRET",
        "t", "DELEGATE_TOKEN_SECRET_NAMESPACE", "ci.example"), null))
        .hasMessage("DELEGATE_TOKEN_SECRET_NAMESPACE 'ci.example' is not a Kubernetes namespace name (expected at"
            + " most 63 lowercase letters, digits and '-', starting and ending with a letter or digit; unset it to"
            + " use the delegate's own namespace)");
    assertThatThrownBy(() -> ConfigLoader.load(env("DELEGATE_TOKEN", TOKEN.reveal(), "DELEGATE_TOKEN_SECRET",
        "t".repeat(254)), null))
        .hasMessageStartingWith("DELEGATE_TOKEN_SECRET '" + "t".repeat(254) + "' is not a Kubernetes Secret name");
    assertThatThrownBy(() -> ConfigLoader.load(env("DELEGATE_TOKEN", TOKEN.reveal(),
        "DELEGATE_TOKEN_SECRET_NAMESPACE", "ci"), null))
        .hasMessage("DELEGATE_TOKEN_SECRET_NAMESPACE is set but DELEGATE_TOKEN_SECRET is not (set"
            + " DELEGATE_TOKEN_SECRET to the name of the Secret holding the token, or unset both)");
  }

  @Test
  void theTokenPutInTheSecretSettings_isRefusedWithoutEchoingIt() {
    for (String key : List.of("DELEGATE_TOKEN_SECRET", "DELEGATE_TOKEN_SECRET_NAMESPACE")) {
      assertThatThrownBy(() -> ConfigLoader.load(env("DELEGATE_TOKEN", TOKEN.reveal(), key, TOKEN.reveal()), null))
          .hasMessageStartingWith(key + " holds the delegate token given in DELEGATE_TOKEN")
          .satisfies(e -> assertThat(TokenLedger.leaksIn(e.getMessage())).isEmpty());
    }
    DelegateToken other = TokenLedger.record(DelegateToken.generate());
    assertThatThrownBy(() -> ConfigLoader.load(env("DELEGATE_TOKEN", TOKEN.reveal(), "DELEGATE_TOKEN_SECRET",
        other.reveal()), null))
        .hasMessageStartingWith("DELEGATE_TOKEN_SECRET holds what looks like a delegate token")
        .satisfies(e -> assertThat(TokenLedger.leaksIn(e.getMessage())).isEmpty());
  }

  @Test
  void aConfigBuiltInCode_getsTheKeeperOfItsTokenSource() throws Exception {
    Path token = Files.writeString(dir.resolve("token"), TOKEN.reveal());
    DelegateConfig fixed = new DelegateConfig("a", new TokenSource.Fixed("DELEGATE_TOKEN", TOKEN),
        List.of(new ManagerEndpoint("m", 1, false)), "d", "shell", List.of(), null, null, List.of());
    DelegateConfig file = new DelegateConfig("a", new TokenSource.File("DELEGATE_TOKEN_FILE", token),
        List.of(new ManagerEndpoint("m", 1, false)), "d", "shell", List.of(), null, null, null, List.of());

    assertThat(fixed.keeper().describe()).isEqualTo("the environment variable DELEGATE_TOKEN");
    assertThat(file.keeper().describe()).isEqualTo("token file '" + token + "'");
    assertThat(file.withOpsListen(null).keeper()).isSameAs(file.keeper());
  }
}
