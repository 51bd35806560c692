package dev.tether.manager.install;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.marcnuri.helm.Helm;
import dev.tether.manager.cli.TetherManagerCli;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The manager's packaging shipped in scripts/ and .github/: its Dockerfile and systemd unit
 * parsed and checked against the delegate's hardening and the manager's own flags, its Helm chart
 * rendered by the real Helm engine, and the release workflow parsed.
 */
class ManagerPackagingTest {

  /** The kinds its files may hold; any other fails the test. */
  private static final java.util.Set<String> KINDS =
      java.util.Set.of("Service", "Secret", "Deployment", "StatefulSet", "PodDisruptionBudget");

  private static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  private static final Path DOCKER = REPO.resolve("scripts/docker");
  private static final Path UNIT = REPO.resolve("scripts/systemd/tether-manager.service");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern EXPOSURE = Pattern.compile("Overall exposure level for \\S+: ([0-9]+\\.[0-9])");
  private static final Pattern OUTPUT_FILE = Pattern.compile("<outputFile>\\$\\{project.build.directory}/([^<]+)</outputFile>");

  @TempDir Path tmp;

  // ---------------------------------------------------------------- Dockerfile

  @Test
  void dockerfile_copiesTheJarTheBuildWrites_runsAsTheDelegatesNonRootUser_andExposesTheThreeListeners() throws Exception {
    Dockerfile manager = Dockerfile.parse(DOCKER.resolve("manager.Dockerfile"));
    Dockerfile delegate = Dockerfile.parse(DOCKER.resolve("Dockerfile"));

    assertThat(manager.only("FROM")).isEqualTo(delegate.only("FROM"));
    String user = manager.only("USER");
    assertThat(user).isEqualTo(delegate.only("USER")).matches("[0-9]+:[0-9]+");
    assertThat(Integer.parseInt(user.split(":")[0])).as("USER %s", user).isPositive();
    assertThat(manager.index("USER")).as("USER comes before the command runs").isLessThan(manager.index("ENTRYPOINT"));

    // the jar comes from the build context (manager/target) under the name the shade plugin writes
    String copy = manager.only("COPY");
    assertThat(copy).startsWith("--chmod=0444 ${MANAGER_JAR} /opt/tether/tether-manager.jar");
    String jar = manager.argDefault("MANAGER_JAR");
    Matcher shaded = OUTPUT_FILE.matcher(Files.readString(REPO.resolve("manager/pom.xml")));
    assertThat(shaded.find()).as("manager/pom.xml names the shaded jar's outputFile").isTrue();
    assertThat(jar).isEqualTo(shaded.group(1));
    assertThat(jar).isNotEqualTo(delegate.argDefault("DELEGATE_JAR"));
    assertThat(manager.jsonArgs("ENTRYPOINT")).containsExactly("java", "-jar", "/opt/tether/tether-manager.jar");

    // the same hardening as the delegate's image: fixed non-root user, read-only jar, -XX limits
    String run = manager.only("RUN");
    assertThat(run).contains("groupadd --system --gid 10001 tether")
        .contains("useradd --system --uid 10001 --gid tether --home-dir /nonexistent --shell /usr/sbin/nologin tether")
        .contains("install -d -m 0700 -o 10001 -g 10001 /var/lib/tether");
    assertThat(manager.all("ENV")).anyMatch(e -> e.contains("-XX:MaxRAMPercentage=75"));
    // the delegate's JVM, out of heap, exits for its supervisor to restart it (docs/security.md)
    assertThat(delegate.all("ENV")).anyMatch(e -> e.startsWith("JAVA_TOOL_OPTIONS=")
        && e.contains("-XX:+ExitOnOutOfMemoryError"));
    assertThat(manager.only("STOPSIGNAL")).isEqualTo("SIGTERM");

    assertThat(manager.only("EXPOSE").split("\\s+")).containsExactlyInAnyOrder("7443", "7444", "9464");
    assertThat(manager.jsonArgs("VOLUME")).contains("/var/lib/tether", "/tmp");
  }

  @Test
  void dockerfile_servesOnAllInterfacesWithTheDataDirectoryInTheVolume_andChecksReadyzOnTheOpsPort() throws Exception {
    Dockerfile manager = Dockerfile.parse(DOCKER.resolve("manager.Dockerfile"));

    List<String> cmd = manager.jsonArgs("CMD");
    Map<String, String> serve = serveOptions(cmd);
    assertThat(serve).containsEntry("--data-dir", "/var/lib/tether").containsEntry("--listen", "0.0.0.0:7443")
        .containsEntry("--admin-listen", "0.0.0.0:7444").containsEntry("--ops-listen", "0.0.0.0:9464");
    assertThat(serve).doesNotContainKeys("--plaintext", "--allow-plaintext-on-network");
    assertThat(manager.all("ENV")).anyMatch(e -> e.equals("TETHER_DATA_DIR=/var/lib/tether"));

    String health = manager.only("HEALTHCHECK");
    assertThat(health).contains("--start-period=");
    List<String> check = JSON.readValue(health.substring(health.indexOf("CMD") + 3).strip(), new TypeReference<>() { });
    assertThat(check.get(0)).isEqualTo("curl");
    assertThat(check).contains("--fail").last().isEqualTo("http://127.0.0.1:" + port(serve.get("--ops-listen")) + "/readyz");
  }

  // ---------------------------------------------------------------- systemd

  @Test
  void systemd_unitPassesVerify_andRatesAtMost2InSecurity() throws Exception {
    Path copy = Files.copy(UNIT, tmp.resolve("tether-manager.service"));

    Linters.Analysis verify = systemdAnalyze("verify", copy.toString());
    assertThat(verify.exit()).as(verify.output()).isZero();
    assertThat(verify.output()).as("systemd-analyze verify says nothing").isBlank();

    Linters.Analysis security = systemdAnalyze("security", "--offline=true", copy.toString());
    Matcher score = EXPOSURE.matcher(security.output());
    assertThat(score.find()).as(security.output()).isTrue();
    assertThat(Double.parseDouble(score.group(1))).as(security.output()).isLessThanOrEqualTo(2.0);
  }

  @Test
  void systemd_unitKeepsTheDataDirectoryInItsStateDirectory_boundedInMemory_withRoomForManyDelegates() throws Exception {
    Map<String, List<String>> service = unitSection(Files.readString(UNIT), "Service");

    assertThat(service.get("DynamicUser")).containsExactly("yes");
    assertThat(service.get("StateDirectory")).containsExactly("tether");
    assertThat(service.get("StateDirectoryMode")).containsExactly("0700");
    assertThat(service.get("ProtectSystem")).containsExactly("strict");
    assertThat(service.get("CapabilityBoundingSet")).containsExactly("");
    assertThat(service.get("NoNewPrivileges")).containsExactly("yes");

    String exec = service.get("ExecStart").get(0);
    List<String> words = List.of(exec.split("\\s+"));
    assertThat(words.subList(0, 3)).containsExactly("java", "-jar", "/opt/tether/tether-manager.jar");
    List<String> args = words.subList(3, words.size()).stream().filter(w -> !w.equals("$TETHER_SERVE_OPTIONS")).toList();
    assertThat(serveOptions(args)).containsEntry("--data-dir", "/var/lib/tether");

    long memoryMax = bytes(service.get("MemoryMax").get(0));
    Matcher heap = Pattern.compile("-Xmx([0-9]+[kmgKMG])").matcher(String.join(" ", service.get("Environment")));
    assertThat(heap.find()).as("a -Xmx in Environment=").isTrue();
    long xmx = bytes(heap.group(1));
    assertThat(xmx).as("heap %s under MemoryMax %s", heap.group(1), service.get("MemoryMax")).isLessThanOrEqualTo(memoryMax * 3 / 4);
    // 19 800 delegates held in the benchmark needed 1.16 GB of RSS (docs/benchmarks.md, streams-held)
    assertThat(memoryMax).isGreaterThanOrEqualTo(1_160_000_000L);
    assertThat(Long.parseLong(service.get("LimitNOFILE").get(0))).isGreaterThanOrEqualTo(20_000);
    assertThat(service.get("Environment")).contains("TETHER_DATA_DIR=/var/lib/tether");
  }

  // ---------------------------------------------------------------- Helm chart

  @Test
  void helm_h2Default_isAStatefulSetOfOneWithAVolumeForTheDataDirectory_probedOnTheOpsListener() throws Exception {
    String rendered = render(Map.of());
    Linters.yamllint(Files.writeString(tmp.resolve("rendered.yaml"), rendered));
    List<HasMetadata> objects = kubernetesObjects(rendered);

    assertThat(objects).extracting(HasMetadata::getKind)
        .containsExactlyInAnyOrder("StatefulSet", "Service", "Service", "Service");
    everyObjectIsInTheReleaseNamespaceAndNamedFromTheRelease(objects);
    StatefulSet set = only(objects, StatefulSet.class);
    assertThat(set.getSpec().getReplicas()).isEqualTo(1);
    PersistentVolumeClaim claim = set.getSpec().getVolumeClaimTemplates().get(0);
    assertThat(claim.getMetadata().getName()).isEqualTo("data");
    assertThat(claim.getSpec().getResources().getRequests().get("storage").toString()).isEqualTo("2Gi");
    assertThat(set.getSpec().getServiceName()).isEqualTo("tm-tether-manager-pods");
    Service headless = service(objects, "tm-tether-manager-pods");
    assertThat(headless.getSpec().getClusterIP()).isEqualTo("None");

    PodSpec pod = set.getSpec().getTemplate().getSpec();
    Container manager = checkManagerPod(pod);
    assertThat(pod.getInitContainers()).isNullOrEmpty();
    assertThat(pod.getVolumes()).extracting(Volume::getName).doesNotContain("data");
    assertThat(manager.getVolumeMounts()).anySatisfy(m -> {
      assertThat(m.getName()).isEqualTo("data");
      assertThat(m.getMountPath()).isEqualTo("/var/lib/tether");
    });
    Map<String, String> serve = serveOptions(manager.getArgs());
    assertThat(serve).doesNotContainKey("--db-url");
    assertThat(serve.get("--tls-name").split(",")).contains("tm-tether-manager.tether.svc", "tm-tether-manager-admin.tether.svc");
    checkServices(objects, set.getSpec().getSelector().getMatchLabels());
  }

  @Test
  void helm_postgresWith3Replicas_isADeploymentWithABudget_andTheDatabasePasswordOnlyInASecretReference() throws Exception {
    String rendered = render(Map.of("replicas", "3", "database.url", "jdbc:postgresql://db.example.com:5432/tether",
        "database.existingSecret", "tether-db", "keys.existingSecret", "tether-keys", "tls.existingSecret", "tether-tls"));
    Linters.yamllint(Files.writeString(tmp.resolve("rendered.yaml"), rendered));
    List<HasMetadata> objects = kubernetesObjects(rendered);

    assertThat(objects).extracting(HasMetadata::getKind)
        .containsExactlyInAnyOrder("Deployment", "PodDisruptionBudget", "Service", "Service", "Service");
    everyObjectIsInTheReleaseNamespaceAndNamedFromTheRelease(objects);
    Deployment deployment = only(objects, Deployment.class);
    assertThat(deployment.getSpec().getReplicas()).isEqualTo(3);
    GenericKubernetesResource budget = only(objects, GenericKubernetesResource.class);
    assertThat(budget.getApiVersion()).isEqualTo("policy/v1");
    @SuppressWarnings("unchecked")
    Map<String, Object> budgetSpec = (Map<String, Object>) budget.getAdditionalProperties().get("spec");
    assertThat(budgetSpec).containsEntry("maxUnavailable", 1)
        .containsEntry("selector", Map.of("matchLabels", deployment.getSpec().getSelector().getMatchLabels()));

    PodSpec pod = deployment.getSpec().getTemplate().getSpec();
    Container manager = checkManagerPod(pod);
    assertThat(serveOptions(manager.getArgs())).containsEntry("--db-url", "jdbc:postgresql://db.example.com:5432/tether")
        .containsEntry("--tls-cert", "/etc/tether/tls/tls.crt").containsEntry("--tls-key", "/etc/tether/tls/tls.key")
        .doesNotContainKey("--tls-name");
    assertThat(volume(pod, "tls").getSecret().getSecretName()).isEqualTo("tether-tls");
    EnvVar user = env(manager, "TETHER_DB_USER");
    assertThat(user.getValue()).isNull();
    assertThat(user.getValueFrom().getSecretKeyRef().getName()).isEqualTo("tether-db");
    assertThat(user.getValueFrom().getSecretKeyRef().getKey()).isEqualTo("user");
    // the password: a file from the Secret, never a value in the pod spec
    assertThat(manager.getEnv()).noneMatch(e -> e.getName().equals("TETHER_DB_PASSWORD"));
    assertThat(env(manager, "TETHER_DB_PASSWORD_FILE").getValue()).isEqualTo("/etc/tether/db/password");
    Volume db = volume(pod, "db");
    assertThat(db.getSecret().getSecretName()).isEqualTo("tether-db");
    assertThat(db.getSecret().getItems()).singleElement().satisfies(i -> {
      assertThat(i.getKey()).isEqualTo("password");
      assertThat(i.getPath()).isEqualTo("password");
    });
    assertThat(manager.getVolumeMounts()).anySatisfy(m -> {
      assertThat(m.getName()).isEqualTo("db");
      assertThat(m.getMountPath()).isEqualTo("/etc/tether/db");
    });
    assertThat(objects).noneMatch(o -> o instanceof Secret);
    assertThat(rendered).doesNotContainIgnoringCase("password=").doesNotContain("TETHER_DB_PASSWORD\n");

    // every replica gets the shared master.key and admin.key, copied 0600 into its data directory
    assertThat(volume(pod, "data").getEmptyDir()).isNotNull();
    assertThat(volume(pod, "keys").getSecret().getSecretName()).isEqualTo("tether-keys");
    Container keys = pod.getInitContainers().get(0);
    assertThat(String.join(" ", keys.getCommand())).contains("install -m 0600 /etc/tether/keys/master.key /var/lib/tether/data/master.key")
        .contains("install -m 0600 /etc/tether/keys/admin.key /var/lib/tether/data/admin.key");
    assertThat(keys.getImage()).isEqualTo(manager.getImage());
    checkServices(objects, deployment.getSpec().getSelector().getMatchLabels());
  }

  @Test
  void helm_schemaAndTemplatesRefuseWhatCannotWork_sayingWhy() {
    assertRefused(Map.of("replicas", "3"), "replicas: replicas does not match: 1");
    String url = "jdbc:postgresql://db:5432/tether";
    assertRefused(Map.of("database.url", url, "keys.existingSecret", "k", "tls.existingSecret", "t"), "database.existingSecret: String length");
    assertRefused(Map.of("database.url", url, "database.existingSecret", "d", "tls.existingSecret", "t"), "keys.existingSecret: String length");
    assertRefused(Map.of("database.url", url, "database.existingSecret", "d", "keys.existingSecret", "k"), "tls.existingSecret: String length");
    assertRefused(Map.of("database.url", url + "?password=hunter2", "database.existingSecret", "d",
        "keys.existingSecret", "k", "tls.existingSecret", "t"), "database.url: Must not validate");
    assertRefused(Map.of("database.url", "jdbc:mysql://db:3306/tether", "database.existingSecret", "d",
        "keys.existingSecret", "k", "tls.existingSecret", "t"), "database.url: Does not match pattern");
    assertRefused(Map.of("database.password", "hunter2"), "Additional property password is not allowed");
    assertRefused(Map.of("ports.ops", "70000"), "ports.ops: Must be less than or equal to 65535");
    assertRefused(Map.of("nameOverride", "Tether_Manager"), "nameOverride: Does not match pattern");
  }

  @Test
  void helm_notesSayWhereDelegatesAndAdminsConnect_inBothForms() {
    Path chart = REPO.resolve("scripts/helm/tether-manager");
    String h2 = new Helm(chart).install().withName("tm").withNamespace("tether").dryRun().clientOnly().call().getOutput();
    assertThat(h2).contains("one pod on the embedded H2 database")
        .contains("Delegates connect to tm-tether-manager.tether.svc:7443 (TLS).")
        .contains("Admins use tm-tether-manager-admin.tether.svc:7444")
        .contains("rollout status statefulset/tm-tether-manager")
        .contains("exec statefulset/tm-tether-manager -- cat /var/lib/tether/data/tls/manager.crt")
        .contains("Back up the volume");

    String replicas = new Helm(chart).install().withName("tm").withNamespace("tether").dryRun().clientOnly()
        .set("replicas", 3).set("database.url", "jdbc:postgresql://db:5432/tether").set("database.existingSecret", "d")
        .set("keys.existingSecret", "k").set("tls.existingSecret", "t").call().getOutput();
    assertThat(replicas).contains("3 replica(s) on PostgreSQL").contains("rollout status deployment/tm-tether-manager")
        .doesNotContain("manager.crt").doesNotContain("Back up the volume");
  }

  @Test
  void helm_chartFilesPassYamllint_andNamesComeFromTheRelease() throws Exception {
    Path chart = REPO.resolve("scripts/helm/tether-manager");
    Linters.yamllint(chart.resolve("Chart.yaml"), chart.resolve("values.yaml"));
    JSON.readTree(chart.resolve("values.schema.json").toFile());
    assertThat(chart.resolve("templates/NOTES.txt")).exists();
    assertThat(chart.resolve(".helmignore")).exists();

    List<HasMetadata> objects = kubernetesObjects(render(Map.of("fullnameOverride", "manager-east")));
    assertThat(objects).extracting(o -> o.getMetadata().getName())
        .containsExactlyInAnyOrder("manager-east", "manager-east", "manager-east-admin", "manager-east-pods");
  }

  private String render(Map<String, String> values) {
    var template = new Helm(REPO.resolve("scripts/helm/tether-manager")).template().withName("tm").withNamespace("tether");
    values.forEach(template::set);
    return template.call();
  }

  private void assertRefused(Map<String, String> values, String naming) {
    assertThatThrownBy(() -> render(values)).as("values %s", values).hasMessageContaining(naming);
  }

  private static void everyObjectIsInTheReleaseNamespaceAndNamedFromTheRelease(List<HasMetadata> objects) {
    for (HasMetadata o : objects) {
      assertThat(o.getMetadata().getNamespace()).as("%s %s", o.getKind(), o.getMetadata().getName()).isEqualTo("tether");
      assertThat(o.getMetadata().getName()).startsWith("tm-tether-manager");
      assertThat(o.getMetadata().getLabels()).containsEntry("app.kubernetes.io/instance", "tm")
          .containsEntry("app.kubernetes.io/managed-by", "Helm").containsKey("app.kubernetes.io/version");
    }
  }

  /** The manager container: non-root as the image's user, listening on all interfaces, probed on the ops port. */
  private Container checkManagerPod(PodSpec pod) throws IOException {
    String imageUser = Dockerfile.parse(DOCKER.resolve("manager.Dockerfile")).only("USER").split(":")[0];
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getRunAsUser()).isEqualTo(Long.parseLong(imageUser));
    assertThat(pod.getAutomountServiceAccountToken()).isFalse();
    Container manager = pod.getContainers().get(0);
    assertThat(manager.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(manager.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(manager.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(manager.getImage()).isEqualTo("tether-manager:0.1.0-SNAPSHOT");

    Map<String, String> serve = serveOptions(manager.getArgs());
    assertThat(serve).containsEntry("--data-dir", "/var/lib/tether/data").containsEntry("--listen", "0.0.0.0:7443")
        .containsEntry("--admin-listen", "0.0.0.0:7444").containsEntry("--ops-listen", "0.0.0.0:9464")
        .doesNotContainKey("--plaintext");
    assertThat(env(manager, "TETHER_DATA_DIR").getValue()).isEqualTo(serve.get("--data-dir"));
    assertThat(manager.getPorts()).extracting(ContainerPort::getName, ContainerPort::getContainerPort)
        .containsExactlyInAnyOrder(tuple("delegate", 7443), tuple("admin", 7444), tuple("ops", 9464));

    Probe readiness = manager.getReadinessProbe();
    assertThat(readiness.getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(readiness.getHttpGet().getPort()).isEqualTo(new IntOrString("ops"));
    Probe liveness = manager.getLivenessProbe();
    assertThat(liveness.getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(liveness.getHttpGet().getPort()).isEqualTo(new IntOrString("ops"));
    assertThat(manager.getStartupProbe().getHttpGet().getPort()).isEqualTo(new IntOrString("ops"));
    assertThat(manager.getVolumeMounts()).anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/tmp"));
    return manager;
  }

  private static void checkServices(List<HasMetadata> objects, Map<String, String> podSelector) {
    Service delegates = service(objects, "tm-tether-manager");
    assertThat(delegates.getSpec().getPorts()).singleElement().satisfies(p -> {
      assertThat(p.getPort()).isEqualTo(7443);
      assertThat(p.getTargetPort()).isEqualTo(new IntOrString("delegate"));
    });
    Service admin = service(objects, "tm-tether-manager-admin");
    assertThat(admin.getSpec().getPorts()).singleElement().satisfies(p -> {
      assertThat(p.getPort()).isEqualTo(7444);
      assertThat(p.getTargetPort()).isEqualTo(new IntOrString("admin"));
    });
    assertThat(service(objects, "tm-tether-manager-pods").getSpec().getPorts()).singleElement()
        .satisfies(p -> assertThat(p.getTargetPort()).isEqualTo(new IntOrString("ops")));
    for (HasMetadata o : objects) {
      if (o instanceof Service s) {
        assertThat(s.getSpec().getSelector()).isEqualTo(podSelector);
      }
    }
  }

  private static Service service(List<HasMetadata> objects, String name) {
    return objects.stream().filter(o -> o instanceof Service && o.getMetadata().getName().equals(name)).map(Service.class::cast)
        .findFirst().orElseThrow(() -> new AssertionError("no Service " + name));
  }

  private static EnvVar env(Container container, String name) {
    return container.getEnv().stream().filter(e -> e.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no environment variable " + name));
  }

  private static Volume volume(PodSpec pod, String name) {
    return pod.getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no volume " + name));
  }

  private static List<HasMetadata> kubernetesObjects(String yaml) throws IOException {
    return KubernetesObjects.parse(yaml, KINDS);
  }

  private static <T> T only(List<HasMetadata> objects, Class<T> type) {
    return KubernetesObjects.only(objects, type);
  }

  // ---------------------------------------------------------------- release workflow

  @Test
  void releaseWorkflow_runsOnVersionTags_mayWritePackagesAndReleases_andBuildsEachImageFromADockerfileThatExists() throws Exception {
    Path workflow = REPO.resolve(".github/workflows/release.yml");
    Linters.yamllint(workflow);
    JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(workflow.toFile());

    assertThat(root.path("on").path("push").path("tags")).extracting(JsonNode::asText).containsExactly("v*");
    assertThat(root.path("on").path("push").has("branches")).isFalse();
    assertThat(root.path("permissions").path("packages").asText()).isEqualTo("write");
    assertThat(root.path("permissions").path("contents").asText()).isEqualTo("write");

    List<JsonNode> steps = new ArrayList<>();
    root.path("jobs").forEach(job -> job.path("steps").forEach(steps::add));
    // the jars it publishes default install-files' --image to the delegate image it publishes
    assertThat(steps).anySatisfy(s -> assertThat(s.path("run").asText())
        .contains("mvn -B -ntp verify -Dtether.image.registry=ghcr.io/${{ steps.names.outputs.owner }}"));

    Map<String, JsonNode> images = new LinkedHashMap<>();
    for (JsonNode step : steps) {
      if (step.path("uses").asText().startsWith("docker/build-push-action@")) {
        JsonNode with = step.path("with");
        images.put(with.path("tags").asText(), with);
      }
    }
    assertThat(images.keySet()).containsExactlyInAnyOrder(
        "ghcr.io/${{ steps.names.outputs.owner }}/tether-manager:${{ steps.names.outputs.version }}",
        "ghcr.io/${{ steps.names.outputs.owner }}/tether-delegate:${{ steps.names.outputs.version }}");
    for (JsonNode with : images.values()) {
      Path dockerfile = REPO.resolve(with.path("file").asText());
      assertThat(dockerfile).as("file: of %s", with.path("tags").asText()).isRegularFile();
      assertThat(with.path("push").asBoolean()).isTrue();
      // the context is the module's target directory, where the Dockerfile's jar is written
      String context = with.path("context").asText();
      String module = context.substring(0, context.indexOf("/target"));
      String jarArg = with.path("tags").asText().contains("tether-manager") ? "MANAGER_JAR" : "DELEGATE_JAR";
      String jar = Dockerfile.parse(dockerfile).argDefault(jarArg);
      Matcher shaded = OUTPUT_FILE.matcher(Files.readString(REPO.resolve(module).resolve("pom.xml")));
      assertThat(shaded.find()).as("%s/pom.xml names its shaded jar", module).isTrue();
      assertThat(context).isEqualTo(module + "/target");
      assertThat(shaded.group(1)).isEqualTo(jar);
    }

    String charts = steps.stream().map(s -> s.path("run").asText()).filter(r -> r.contains("helm package")).findFirst()
        .orElseThrow(() -> new AssertionError("no step runs helm package"));
    assertThat(charts).contains("for chart in tether-manager tether-delegate");
    assertThat(REPO.resolve("scripts/helm/tether-manager/Chart.yaml")).isRegularFile();
    assertThat(REPO.resolve("scripts/helm/tether-delegate/Chart.yaml")).isRegularFile();
    assertThat(steps).anySatisfy(s -> assertThat(s.path("run").asText()).contains("helm push").contains("oci://ghcr.io/"));
    JsonNode release = steps.stream().filter(s -> s.path("uses").asText().startsWith("softprops/action-gh-release@"))
        .findFirst().orElseThrow(() -> new AssertionError("no step attaches files to the release"));
    assertThat(release.path("with").path("files").asText())
        .contains("manager/target/tether-manager.jar").contains("delegate/target/tether-delegate.jar");
  }

  // ---------------------------------------------------------------- helpers

  /** The options of a {@code serve} command line, parsed by the manager's own picocli model: an unknown flag fails. */
  private static Map<String, String> serveOptions(List<String> args) {
    assertThat(args).isNotEmpty();
    assertThat(args.get(0)).isEqualTo("serve");
    CommandLine.ParseResult parsed = TetherManagerCli.commandLine().parseArgs(args.toArray(String[]::new));
    assertThat(parsed.subcommand()).as("serve subcommand").isNotNull();
    Map<String, String> options = new LinkedHashMap<>();
    for (int i = 1; i < args.size(); i++) {
      int eq = args.get(i).indexOf('=');
      if (args.get(i).startsWith("--") && eq > 0) {
        options.put(args.get(i).substring(0, eq), args.get(i).substring(eq + 1));
      } else if (args.get(i).startsWith("--")) {
        boolean valued = i + 1 < args.size() && !args.get(i + 1).startsWith("--");
        options.put(args.get(i), valued ? args.get(++i) : "");
      }
    }
    return options;
  }

  private static int port(String hostPort) {
    return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
  }

  private static long bytes(String size) {
    long n = Long.parseLong(size.substring(0, size.length() - 1));
    return switch (Character.toUpperCase(size.charAt(size.length() - 1))) {
      case 'K' -> n << 10;
      case 'M' -> n << 20;
      case 'G' -> n << 30;
      default -> throw new IllegalArgumentException("size '" + size + "' (expected a number and K, M or G)");
    };
  }

  /** The settings of one section of a unit file, each key with its values in order (continuation lines joined). */
  private static Map<String, List<String>> unitSection(String text, String section) {
    Map<String, List<String>> settings = new LinkedHashMap<>();
    String current = null;
    for (String line : text.replace("\\\n", " ").split("\n")) {
      String l = line.strip();
      if (l.isEmpty() || l.startsWith("#") || l.startsWith(";")) {
        continue;
      }
      if (l.startsWith("[")) {
        current = l.substring(1, l.length() - 1);
      } else if (section.equals(current)) {
        int eq = l.indexOf('=');
        settings.computeIfAbsent(l.substring(0, eq), k -> new ArrayList<>()).add(l.substring(eq + 1));
      }
    }
    return settings;
  }

  private Linters.Analysis systemdAnalyze(String... args) throws Exception {
    return Linters.systemdAnalyze(tmp, args);
  }

  /** A Dockerfile's instructions in order, continuation lines joined and comments left out. */
  private record Dockerfile(List<Map.Entry<String, String>> instructions) {

    static Dockerfile parse(Path file) throws IOException {
      List<Map.Entry<String, String>> instructions = new ArrayList<>();
      StringBuilder pending = new StringBuilder();
      for (String line : Files.readAllLines(file)) {
        String l = line.strip();
        if (l.startsWith("#") || (l.isEmpty() && pending.isEmpty())) {
          continue;
        }
        if (l.endsWith("\\")) {
          pending.append(l, 0, l.length() - 1).append(' ');
          continue;
        }
        pending.append(l);
        String whole = pending.toString().strip();
        pending.setLength(0);
        int space = whole.indexOf(' ');
        instructions.add(Map.entry(whole.substring(0, space).toUpperCase(java.util.Locale.ROOT),
            whole.substring(space + 1).strip().replaceAll("\\s+", " ")));
      }
      assertThat(pending).as("%s ends inside a continued instruction", file).isEmpty();
      return new Dockerfile(instructions);
    }

    List<String> all(String instruction) {
      return instructions.stream().filter(e -> e.getKey().equals(instruction)).map(Map.Entry::getValue).toList();
    }

    String only(String instruction) {
      List<String> found = all(instruction);
      assertThat(found).as("%s instructions", instruction).hasSize(1);
      return found.get(0);
    }

    int index(String instruction) {
      for (int i = 0; i < instructions.size(); i++) {
        if (instructions.get(i).getKey().equals(instruction)) {
          return i;
        }
      }
      throw new AssertionError("no " + instruction + " instruction");
    }

    List<String> jsonArgs(String instruction) throws IOException {
      return JSON.readValue(only(instruction), new TypeReference<List<String>>() { });
    }

    String argDefault(String name) {
      return all("ARG").stream().filter(a -> a.startsWith(name + "=")).map(a -> a.substring(name.length() + 1))
          .findFirst().orElseThrow(() -> new AssertionError("no ARG " + name + "=DEFAULT"));
    }
  }
}
