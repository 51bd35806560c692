package dev.tether.manager.install;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.marcnuri.helm.Helm;
import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every install type's generated files: parsed, linted, and checked for keys and for where the token is. */
class InstallFilesTest {

  /** The kinds its files may hold; any other fails the test. */
  private static final java.util.Set<String> KINDS = java.util.Set.of("Namespace", "Secret", "ServiceAccount", "Role",
      "RoleBinding", "Deployment");

  private static final YAMLMapper YAML = new YAMLMapper();
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path out;
  private final DelegateToken token = TokenLedger.record(DelegateToken.generate());

  private InstallSpec spec(String existingDelegateToken) {
    return new InstallSpec("acct-42", "builders", token, "https://manager.example.com:7443", "builder-1",
        "tether", "registry.example.com/tether-delegate:0.1.0", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:tether-abc",
        "arn:aws:iam::123456789012:role/ecsTaskExecutionRole", existingDelegateToken, null);
  }

  private List<Path> write(InstallType type) throws Exception {
    return InstallFiles.write(type, spec(null), out);
  }

  @Test
  void kubernetes_manifestHoldsTheTokenOnlyInTheSecretMountedAsAFile() throws Exception {
    Path manifest = out.resolve("tether-delegate.yaml");
    assertThat(write(InstallType.KUBERNETES)).contains(manifest);
    Linters.yamllint(manifest);
    assertThat(mode(manifest)).isEqualTo("rw-------");

    List<HasMetadata> objects = kubernetesObjects(Files.readString(manifest));
    assertThat(objects).extracting(HasMetadata::getKind).containsExactly("Secret", "ServiceAccount", "Role", "RoleBinding",
        "Deployment");
    Secret secret = (Secret) objects.get(0);
    assertThat(secret.getStringData()).containsOnlyKeys("DELEGATE_TOKEN");
    holdsToken(secret.getStringData().get("DELEGATE_TOKEN"), token);
    checkDelegatePod(only(objects, Deployment.class), secret.getMetadata().getName(), "KUBERNETES");
    RotationAccess.granted(objects, "tether", "builder-1", secret.getMetadata().getName());
    assertThat(occurrences(Files.readString(manifest), token.reveal())).isEqualTo(1);
  }

  @Test
  void helm_chartRendersWithTheGeneratedValuesInTheRealHelmEngine() throws Exception {
    List<Path> files = write(InstallType.HELM);
    Path values = out.resolve("values-builder-1.yaml");
    assertThat(files).contains(values);
    Linters.yamllint(values, out.resolve("tether-delegate/Chart.yaml"), out.resolve("tether-delegate/values.yaml"));
    assertThat(mode(values)).isEqualTo("rw-------");
    Map<String, Object> parsed = yaml(values);
    assertThat(parsed).containsEntry("accountId", "acct-42").containsEntry("delegateName", "builder-1")
        .containsEntry("managerUrl", "https://manager.example.com:7443");
    holdsToken(parsed.get("delegateToken"), token);

    String rendered = new Helm(out.resolve("tether-delegate")).template().withName("builder-1")
        .withNamespace("tether").withValuesFile(values).call();
    Path renderedFile = Files.writeString(out.resolve("rendered.yaml"), rendered);
    HelmOutputLint.yamllint(renderedFile);

    List<HasMetadata> objects = kubernetesObjects(rendered);
    assertThat(objects).extracting(HasMetadata::getKind)
        .containsExactlyInAnyOrder("Secret", "ServiceAccount", "Role", "RoleBinding", "Deployment");
    Secret secret = only(objects, Secret.class);
    holdsToken(secret.getStringData().get("DELEGATE_TOKEN"), token);
    Deployment deployment = only(objects, Deployment.class);
    checkDelegatePod(deployment, secret.getMetadata().getName(), "HELM");
    RotationAccess.granted(objects, "tether", "builder-1-tether-delegate", secret.getMetadata().getName());
    assertThat(deployment.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
        .isEqualTo("registry.example.com/tether-delegate:0.1.0");
  }

  @Test
  void helm_withAnExistingSecretWritesTheTokenNowhereAndMountsThatSecret() throws Exception {
    InstallFiles.write(InstallType.HELM, spec("vault-synced-token"), out);
    Path values = out.resolve("values-builder-1.yaml");
    lacksToken(Files.readString(values), token);
    assertThat(Files.readString(values)).contains("existingDelegateToken: \"vault-synced-token\"");

    String rendered = new Helm(out.resolve("tether-delegate")).template().withName("builder-1")
        .withValuesFile(values).call();

    List<HasMetadata> objects = kubernetesObjects(rendered);
    assertThat(objects).extracting(HasMetadata::getKind)
        .containsExactlyInAnyOrder("ServiceAccount", "Role", "RoleBinding", "Deployment");
    checkDelegatePod(only(objects, Deployment.class), "vault-synced-token", "HELM");
    lacksToken(rendered, token);
  }

  @Test
  void helm_opsPortAndScrapeAnnotations_comeFromTheValues() throws Exception {
    InstallFiles.write(InstallType.HELM, spec(null), out);
    Path values = out.resolve("values-builder-1.yaml");

    String rendered = new Helm(out.resolve("tether-delegate")).template().withName("builder-1")
        .withValuesFile(values).set("ops.port", "9500").set("ops.scrapeAnnotations", "false").call();
    HelmOutputLint.yamllint(Files.writeString(out.resolve("rendered.yaml"), rendered));

    Deployment deployment = only(kubernetesObjects(rendered), Deployment.class);
    Container container = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(container.getEnv()).filteredOn(e -> e.getName().equals("DELEGATE_OPS_LISTEN"))
        .singleElement().satisfies(e -> assertThat(e.getValue()).isEqualTo("0.0.0.0:9500"));
    assertThat(container.getPorts()).singleElement().satisfies(p -> assertThat(p.getContainerPort()).isEqualTo(9500));
    assertThat(container.getReadinessProbe().getHttpGet().getPort()).isEqualTo(new IntOrString("ops"));
    assertThat(deployment.getSpec().getTemplate().getMetadata().getAnnotations()).isNullOrEmpty();
  }

  @Test
  void helm_refusesToRenderWithoutAToken() throws Exception {
    InstallFiles.write(InstallType.HELM, spec(null), out);
    Path chart = out.resolve("tether-delegate");

    assertThatThrownBy(() -> new Helm(chart).template().withName("x").set("accountId", "a")
        .set("delegateName", "x").set("managerUrl", "https://m:7443").call())
        .hasMessageContaining("set delegateToken, or existingDelegateToken");
  }

  @Test
  void docker_scriptMountsATokenFileAndNeverCarriesTheToken() throws Exception {
    write(InstallType.DOCKER);
    Path script = out.resolve("docker-run.sh");
    Linters.shellcheck(script);
    String text = Files.readString(script);
    lacksToken(text, token);
    assertThat(text).contains("--env ACCOUNT_ID='acct-42'")
        .contains("--env MANAGER_HOST_AND_PORT='https://manager.example.com:7443'")
        .contains("--env DELEGATE_TOKEN_FILE=/run/secrets/tether/delegate-token")
        .contains("--volume \"$secrets:/run/secrets/tether:rw\"").doesNotContain(":ro\"");
    Path tokenFile = out.resolve("secrets/delegate-token");
    holdsToken(Files.readString(tokenFile).strip(), token);
    assertThat(mode(tokenFile)).isEqualTo("rw-------");
    assertThat(Files.isExecutable(script)).isTrue();
    assertThat(Files.readString(out.resolve("Dockerfile"))).contains("USER 10001:10001")
        .contains("ENTRYPOINT [\"java\", \"-jar\", \"/opt/tether/tether-delegate.jar\"]");
  }

  @Test
  void docker_noRotation_mountsTheTokenDirectoryReadOnly() throws Exception {
    InstallFiles.write(InstallType.DOCKER, spec(null).withRotation(false), out);
    Path script = out.resolve("docker-run.sh");
    Linters.shellcheck(script);

    assertThat(Files.readString(script)).contains("--volume \"$secrets:/run/secrets/tether:ro\"")
        .contains("rotation=false").doesNotContain(":rw\"");
  }

  @Test
  void ecs_taskDefinitionTakesTheTokenFromASecretsReference() throws Exception {
    write(InstallType.ECS);
    Path taskDefinition = out.resolve("task-definition.json");
    JsonNode task = JSON.readTree(taskDefinition.toFile());
    JsonNode container = task.path("containerDefinitions").get(0);
    Map<String, String> env = new java.util.HashMap<>();
    container.path("environment").forEach(e -> env.put(e.path("name").asText(), e.path("value").asText()));
    assertThat(env).containsEntry("ACCOUNT_ID", "acct-42").containsEntry("DELEGATE_TYPE", "ECS")
        .containsEntry("MANAGER_HOST_AND_PORT", "https://manager.example.com:7443")
        .containsEntry("DELEGATE_NAME", "builder-1").doesNotContainKey("DELEGATE_TOKEN");
    assertThat(container.path("secrets").get(0).path("name").asText()).isEqualTo("DELEGATE_TOKEN");
    assertThat(container.path("secrets").get(0).path("valueFrom").asText())
        .isEqualTo("arn:aws:secretsmanager:eu-west-1:123456789012:secret:tether-abc");
    assertThat(task.path("executionRoleArn").asText()).endsWith(":role/ecsTaskExecutionRole");
    lacksToken(Files.readString(taskDefinition), token);
    Linters.shellcheck(out.resolve("put-secret.sh"));
    assertThat(mode(out.resolve("delegate-token"))).isEqualTo("rw-------");
  }

  @Test
  void ecs_withoutASecretReferenceIsRefused() {
    InstallSpec noArn = new InstallSpec("acct-42", "builders", token, "https://m.example.com:7443", "b", "tether",
        "tether-delegate:1", null, null, null, null);

    assertThatThrownBy(() -> InstallFiles.write(InstallType.ECS, noArn, out))
        .hasMessageContaining("--type ecs needs --ecs-secret-arn");
  }

  @Test
  void shell_tokenFileHoldsTheTokenPrivatelyAndTheScriptsPassShellcheck() throws Exception {
    write(InstallType.SHELL);
    Path config = out.resolve("config-delegate.yaml");
    Linters.yamllint(config);
    Linters.shellcheck(out.resolve("start.sh"), out.resolve("stop.sh"));
    Map<String, Object> parsed = yaml(config);
    assertThat(parsed).containsEntry("accountId", "acct-42")
        .containsEntry("managerUrl", "https://manager.example.com:7443").containsEntry("delegateName", "builder-1")
        .containsEntry("delegateTokenFile", "delegate-token").doesNotContainKey("delegateToken");
    lacksToken(Files.readString(config), token);
    Path tokenFile = out.resolve("delegate-token");
    holdsToken(Files.readString(tokenFile).strip(), token);
    assertThat(mode(tokenFile)).isEqualTo("rw-------");
    lacksToken(Files.readString(out.resolve("start.sh")), token);
    // the delegate keeps a pushed token by writing a new file beside delegate-token and renaming it
    // over: the directory and the file belong to whoever wrote them, the user who runs start.sh
    String user = System.getProperty("user.name");
    assertThat(Files.getOwner(out).getName()).isEqualTo(user);
    assertThat(Files.getOwner(tokenFile).getName()).isEqualTo(user);
    assertThat(mode(out)).as("the output directory").isEqualTo("rwx------");
  }

  @Test
  void systemd_templateUnitReadsTheTokenAsACredential() throws Exception {
    write(InstallType.SYSTEMD);
    String unit = Files.readString(out.resolve("tether-delegate@.service"));
    assertThat(unit).contains("LoadCredential=delegate-token:/etc/tether-delegate/%i.token")
        .contains("EnvironmentFile=/etc/tether-delegate/%i.env")
        .contains("RestartPreventExitStatus=78")
        .contains("DynamicUser=yes");
    lacksToken(unit, token);
    Map<String, String> sections = iniKeys(unit);
    assertThat(sections).containsKeys("Unit.Description", "Service.ExecStart", "Service.MemoryMax", "Install.WantedBy");
    assertThat(Files.readString(out.resolve("delegate.env"))).contains("ACCOUNT_ID=acct-42")
        .contains("MANAGER_HOST_AND_PORT=https://manager.example.com:7443");
    lacksToken(Files.readString(out.resolve("delegate.env")), token);
    holdsToken(Files.readString(out.resolve("delegate-token")).strip(), token);
    assertThat(mode(out.resolve("delegate-token"))).isEqualTo("rw-------");
    Linters.shellcheck(out.resolve("install.sh"));
  }

  @Test
  void customTokensWithQuotesAreEscapedInEveryFormat() throws Exception {
    DelegateToken odd = TokenLedger.record(DelegateToken.parse("test", "Q'\"\\x9f$(rm_-rf)`k3Zp8#Lm2Vq7Wn4Rt6Yx1"));
    InstallSpec spec = new InstallSpec("acct-42", "odd", odd, "https://m.example.com:7443", "odd", "tether",
        "tether-delegate:1", null, null, null, null);
    InstallFiles.write(InstallType.SHELL, spec, out.resolve("shell"));
    InstallFiles.write(InstallType.KUBERNETES, spec, out.resolve("k8s"));

    holdsToken(Files.readString(out.resolve("shell/delegate-token")).strip(), odd);
    Secret secret = only(kubernetesObjects(Files.readString(out.resolve("k8s/tether-delegate.yaml"))), Secret.class);
    holdsToken(secret.getStringData().get("DELEGATE_TOKEN"), odd);
  }

  @Test
  void outputDirectoryThatIsNotEmptyIsRefusedAndLeftAlone() throws Exception {
    Path keep = Files.writeString(out.resolve("keep.txt"), "mine");

    assertThatThrownBy(() -> write(InstallType.SHELL)).hasMessageContaining("is not empty");
    assertThat(Files.readString(keep)).isEqualTo("mine");
    try (Stream<Path> files = Files.list(out)) {
      assertThat(files).containsExactly(keep);
    }
  }

  @Test
  void badValuesNameTheFlagAndWhatWasExpected() {
    assertThatThrownBy(() -> new InstallSpec("acct", "t", token, "ftp://x", "b", "tether", "i:1", null, null, null, null))
        .hasMessageContaining("--manager-url 'ftp://x' is invalid");
    assertThatThrownBy(() -> new InstallSpec("acct", "t", token, "https://m:7443", "Builder_1", "tether", "i:1", null, null, null, null))
        .hasMessageContaining("--delegate-name 'Builder_1' is not a valid delegate name (expected 1 to 63 lowercase"
            + " letters, digits and '-'");
  }

  private static void checkDelegatePod(Deployment deployment, String secretName, String type) {
    PodSpec pod = deployment.getSpec().getTemplate().getSpec();
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getRunAsUser()).isEqualTo(10001L);
    Container container = pod.getContainers().get(0);
    Map<String, String> env = container.getEnv().stream()
        .collect(Collectors.toMap(EnvVar::getName, e -> e.getValue() == null ? "" : e.getValue()));
    assertThat(env).containsEntry("ACCOUNT_ID", "acct-42")
        .containsEntry("MANAGER_HOST_AND_PORT", "https://manager.example.com:7443")
        .containsEntry("DELEGATE_NAME", "builder-1")
        .containsEntry("DELEGATE_TYPE", type)
        .containsEntry("DELEGATE_TOKEN_FILE", "/etc/tether/token/DELEGATE_TOKEN")
        .doesNotContainKey("DELEGATE_TOKEN");
    assertThat(container.getVolumeMounts()).anySatisfy(m -> {
      assertThat(m.getMountPath()).isEqualTo("/etc/tether/token");
      assertThat(m.getSubPath()).as("subPath mounts are never refreshed").isNull();
      assertThat(m.getReadOnly()).isTrue();
    });
    assertThat(pod.getVolumes()).anySatisfy(v -> assertThat(v.getSecret().getSecretName()).isEqualTo(secretName));
    assertThat(container.getResources().getRequests()).containsKeys("cpu", "memory");
    assertThat(container.getResources().getLimits()).containsKey("memory");
    checkProbes(deployment, 9465);
    assertThat(container.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
  }

  /**
   * The probes are plain HTTP GETs on the delegate's ops listener, which listens on every address
   * of the pod (the kubelet probes the pod's IP); liveness asks /healthz, never /readyz, so that a
   * delegate cut off from the manager is not restarted; Prometheus may find /metrics by annotation.
   */
  private static void checkProbes(Deployment deployment, int port) {
    PodSpec pod = deployment.getSpec().getTemplate().getSpec();
    Container container = pod.getContainers().get(0);
    assertThat(container.getEnv()).filteredOn(e -> e.getName().equals("DELEGATE_OPS_LISTEN"))
        .singleElement().satisfies(e -> assertThat(e.getValue()).isEqualTo("0.0.0.0:" + port));
    assertThat(container.getPorts()).singleElement().satisfies(p -> {
      assertThat(p.getName()).isEqualTo("ops");
      assertThat(p.getContainerPort()).isEqualTo(port);
      assertThat(p.getProtocol()).isEqualTo("TCP");
    });
    Probe readiness = container.getReadinessProbe();
    assertThat(readiness.getExec()).isNull();
    assertThat(readiness.getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(readiness.getHttpGet().getPort()).isEqualTo(new IntOrString("ops"));
    assertThat(readiness.getHttpGet().getScheme()).as("plain HTTP, the default").isNull();
    assertThat(readiness.getPeriodSeconds()).isEqualTo(10);
    Probe liveness = container.getLivenessProbe();
    assertThat(liveness.getExec()).isNull();
    assertThat(liveness.getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(liveness.getHttpGet().getPort()).isEqualTo(new IntOrString("ops"));
    assertThat(liveness.getInitialDelaySeconds()).isEqualTo(30);
    // a minute of failed /healthz before a restart: a busy node's pause is not a dead delegate
    assertThat(liveness.getPeriodSeconds() * liveness.getFailureThreshold()).isGreaterThanOrEqualTo(60);
    assertThat(deployment.getSpec().getTemplate().getMetadata().getAnnotations())
        .containsEntry("prometheus.io/scrape", "true")
        .containsEntry("prometheus.io/port", String.valueOf(port))
        .containsEntry("prometheus.io/path", "/metrics");
  }

  private static List<HasMetadata> kubernetesObjects(String yaml) throws Exception {
    return KubernetesObjects.parse(yaml, KINDS);
  }

  private static <T> T only(List<HasMetadata> objects, Class<T> type) {
    return KubernetesObjects.only(objects, type);
  }

  /** Compares without ever printing the token, even when the check fails. */
  private static void holdsToken(Object value, DelegateToken expected) {
    assertThat(expected.reveal().equals(value)).as("the value is the token %s", expected).isTrue();
  }

  private static void lacksToken(String text, DelegateToken token) {
    assertThat(text.contains(token.reveal())).as("text holds token %s", token).isFalse();
  }

  private static Map<String, Object> yaml(Path file) throws Exception {
    return YAML.readValue(file.toFile(), new com.fasterxml.jackson.core.type.TypeReference<Map<String, Object>>() { });
  }

  private static int occurrences(String text, String needle) {
    int count = 0;
    for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
      count++;
    }
    return count;
  }

  private static String mode(Path file) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
  }

  private static Map<String, String> iniKeys(String unit) {
    Map<String, String> keys = new java.util.LinkedHashMap<>();
    String section = "";
    for (String line : unit.split("\n")) {
      String l = line.strip();
      if (l.isEmpty() || l.startsWith("#")) {
        continue;
      }
      if (l.startsWith("[") && l.endsWith("]")) {
        section = l.substring(1, l.length() - 1);
      } else {
        int eq = l.indexOf('=');
        assertThat(eq).as("systemd line '%s' has no '='", l).isPositive();
        keys.put(section + "." + l.substring(0, eq), l.substring(eq + 1));
      }
    }
    return keys;
  }
}
