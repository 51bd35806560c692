package dev.tether.manager.install;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The docker and ECS install files: linted and parsed, and their scripts run against stand-ins for
 * the docker and aws commands (shell scripts on PATH that record their arguments), since neither a
 * Docker engine nor AWS is reachable from a test.
 */
class ContainerInstallFilesTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PARTIAL_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:tether-abc";
  private static final String FULL_ARN = PARTIAL_ARN + "-Xy12Zq";
  private static final String ROLE_ARN = "arn:aws:iam::210987654321:role/ecsTaskExecutionRole";

  @TempDir Path root;
  private final DelegateToken token = TokenLedger.record(DelegateToken.generate());
  private int written;

  private InstallSpec spec(String secretArn, Path delegateJar) {
    return new InstallSpec("acct-42", "builders", token, "https://manager.example.com:7443", "builder-1", "tether",
        "registry.example.com/tether-delegate:0.1.0", secretArn, ROLE_ARN, null, delegateJar);
  }

  private Path write(InstallType type, InstallSpec spec) throws Exception {
    Path out = root.resolve("out-" + type + "-" + ++written);
    InstallFiles.write(type, spec, out);
    return out;
  }

  // ---- docker

  @Test
  void docker_everyScriptPassesShellcheckAndHoldsNoToken() throws Exception {
    Path out = write(InstallType.DOCKER, spec(PARTIAL_ARN, null));
    List<Path> scripts = List.of(out.resolve("docker-run.sh"), out.resolve("docker-stop.sh"), out.resolve("docker-upgrade.sh"));
    Linters.shellcheck(scripts.toArray(Path[]::new));
    for (Path script : scripts) {
      assertThat(Files.isExecutable(script)).as(script.getFileName().toString()).isTrue();
      assertThat(Files.readString(script).contains(token.reveal())).as("%s holds the token", script.getFileName()).isFalse();
    }
  }

  @Test
  void dockerRun_runsHardenedAsTheImageUser_neverAsTheCaller() throws Exception {
    Path out = write(InstallType.DOCKER, spec(PARTIAL_ARN, null));
    assertThat(Files.readString(out.resolve("docker-run.sh"))).doesNotContain("$(id -g)").doesNotContain("--user \"$(id");
    FakeTools tools = new FakeTools(root.resolve("bin")).rootUser();

    Run run = tools.run(out.resolve("docker-run.sh"));

    assertThat(run.exit).as(run.output()).isZero();
    List<String> args = tools.docker("run");
    assertThat(pairs(args)).containsEntry("--user", "10001:10001")
        .containsEntry("--cap-drop", "ALL")
        .containsEntry("--security-opt", "no-new-privileges")
        .containsEntry("--memory", "384m")
        .containsEntry("--memory-swap", "384m")
        .as("rotation (the default): the delegate replaces its token file in that directory")
        .containsEntry("--volume", out.resolve("secrets") + ":/run/secrets/tether:rw")
        .containsEntry("--name", "builder-1");
    assertThat(args).contains("--read-only", "--detach");
    assertThat(pairs(args).get("--tmpfs")).startsWith("/tmp:").contains("noexec");
    assertThat(envOf(args)).containsEntry("DELEGATE_TOKEN_FILE", "/run/secrets/tether/delegate-token")
        .containsEntry("DELEGATE_OPS_LISTEN", "127.0.0.1:9465")
        .containsEntry("DELEGATE_TYPE", "DOCKER")
        .containsEntry("ACCOUNT_ID", "acct-42")
        .containsEntry("MANAGER_HOST_AND_PORT", "https://manager.example.com:7443")
        .doesNotContainKey("DELEGATE_TOKEN");
    assertThat(pairs(args).get("--health-cmd")).contains("http://127.0.0.1:9465/readyz").contains("--fail");
    assertThat(args.get(args.size() - 1)).isEqualTo("registry.example.com/tether-delegate:0.1.0");
    heapFits(envOf(args).get("JAVA_TOOL_OPTIONS"), mebibytes(pairs(args).get("--memory")));
    // the token file went to the image's user, its alone; writable, so that a pushed token can replace it
    // (the delegate refuses to replace a file without write permission)
    assertThat(tools.calls("chown")).containsExactly(List.of("-R", "10001:10001", out.resolve("secrets").toString()));
    assertThat(mode(out.resolve("secrets/delegate-token"))).isEqualTo("rw-------");
  }

  @Test
  void dockerRun_noRotation_mountsTheTokenDirectoryReadOnly() throws Exception {
    Path out = write(InstallType.DOCKER, spec(PARTIAL_ARN, null).withRotation(false));
    FakeTools tools = new FakeTools(root.resolve("bin")).rootUser();

    Run run = tools.run(out.resolve("docker-run.sh"));

    assertThat(run.exit).as(run.output()).isZero();
    List<String> args = tools.docker("run");
    assertThat(pairs(args)).containsEntry("--volume", out.resolve("secrets") + ":/run/secrets/tether:ro");
    assertThat(args).contains("--read-only");
    assertThat(tools.calls("chown")).containsExactly(List.of("-R", "10001:10001", out.resolve("secrets").toString()));
    assertThat(mode(out.resolve("secrets/delegate-token"))).isEqualTo("r--------");
  }

  @Test
  void dockerRun_withoutRoot_refusesATokenDirectoryTheImageUserCannotWrite_onlyWithRotation() throws Exception {
    // the directory must belong to UID 10001, which only root can arrange here
    Path probe = Files.createFile(root.resolve("probe"));
    org.junit.jupiter.api.Assumptions.assumeTrue((Integer) Files.getAttribute(probe, "unix:uid") == 0, "runs as root");
    Path rotating = write(InstallType.DOCKER, spec(PARTIAL_ARN, null));
    Path fixed = write(InstallType.DOCKER, spec(PARTIAL_ARN, null).withRotation(false));
    for (Path out : List.of(rotating, fixed)) {
      Path secrets = out.resolve("secrets");
      Files.setAttribute(secrets, "unix:uid", 10001);
      Files.setAttribute(secrets, "unix:gid", 10001);
      Files.setPosixFilePermissions(secrets, PosixFilePermissions.fromString("r-x------"));
    }

    FakeTools tools = new FakeTools(root.resolve("bin")).user(1000);
    Run refused = tools.run(rotating.resolve("docker-run.sh"));
    assertThat(refused.exit).as(refused.output()).isEqualTo(1);
    assertThat(refused.stderr).contains("is not writable by UID 10001, so the delegate could not keep a token the"
        + " manager pushes (rotation is enabled)").contains("sudo chmod 0700 '" + rotating.resolve("secrets") + "'");
    assertThat(tools.dockerCommands()).isEmpty();

    FakeTools readOnly = new FakeTools(root.resolve("bin2")).user(1000);
    Run started = readOnly.run(fixed.resolve("docker-run.sh"));
    assertThat(started.exit).as(started.output()).isZero();
    assertThat(pairs(readOnly.docker("run"))).containsEntry("--volume", fixed.resolve("secrets") + ":/run/secrets/tether:ro");
  }

  @Test
  void dockerRun_withoutRootAndATokenFileTheImageUserCannotRead_saysHowToFixItAndStartsNothing() throws Exception {
    Path out = write(InstallType.DOCKER, spec(PARTIAL_ARN, null));
    FakeTools tools = new FakeTools(root.resolve("bin")).user(1000);

    Run run = tools.run(out.resolve("docker-run.sh"));

    assertThat(run.exit).isEqualTo(1);
    assertThat(run.stderr).contains("does not belong to UID 10001")
        .contains("sudo chown -R 10001:10001 '" + out.resolve("secrets") + "'");
    assertThat(tools.dockerCommands()).isEmpty();
  }

  @Test
  void dockerRun_again_refusesTheExistingContainer_andReplacesItOnlyWhenAsked() throws Exception {
    Path out = write(InstallType.DOCKER, spec(PARTIAL_ARN, null));
    FakeTools tools = new FakeTools(root.resolve("bin")).rootUser().containerExists(true);

    Run refused = tools.run(out.resolve("docker-run.sh"));
    assertThat(refused.exit).isEqualTo(1);
    assertThat(refused.stderr).contains("a container named 'builder-1' already exists; nothing was started")
        .contains("./docker-stop.sh").contains("--replace").contains("./docker-upgrade.sh");
    assertThat(tools.dockerCommands()).containsExactly("container");

    Run replaced = tools.run(out.resolve("docker-run.sh"), "--replace");
    assertThat(replaced.exit).as(replaced.output()).isZero();
    assertThat(tools.dockerCommands()).containsExactly("container", "container", "stop", "rm", "run");
    assertThat(tools.docker("stop")).containsExactly("stop", "--time", "30", "builder-1");
  }

  @Test
  void dockerStop_stopsAndRemovesTheContainer_andIsQuietWhenThereIsNone() throws Exception {
    Path out = write(InstallType.DOCKER, spec(PARTIAL_ARN, null));
    FakeTools tools = new FakeTools(root.resolve("bin")).containerExists(true);

    Run stopped = tools.run(out.resolve("docker-stop.sh"));
    assertThat(stopped.exit).as(stopped.output()).isZero();
    assertThat(tools.dockerCommands()).containsExactly("container", "stop", "rm");
    assertThat(tools.docker("rm")).containsExactly("rm", "builder-1");

    FakeTools none = new FakeTools(root.resolve("bin2")).containerExists(false);
    Run nothing = none.run(out.resolve("docker-stop.sh"));
    assertThat(nothing.exit).isZero();
    assertThat(nothing.stdout).contains("no container named 'builder-1'");
    assertThat(none.dockerCommands()).containsExactly("container");
  }

  @Test
  void dockerUpgrade_pullsTheNewImageAndReplacesTheContainerWithIt() throws Exception {
    Path out = write(InstallType.DOCKER, spec(PARTIAL_ARN, null));
    FakeTools tools = new FakeTools(root.resolve("bin")).rootUser().containerExists(true);

    Run missingArgument = tools.run(out.resolve("docker-upgrade.sh"));
    assertThat(missingArgument.exit).isEqualTo(2);
    assertThat(missingArgument.stderr).contains("expected one argument, the image to move to");

    Run run = tools.run(out.resolve("docker-upgrade.sh"), "registry.example.com/tether-delegate:0.2.0");
    assertThat(run.exit).as(run.output()).isZero();
    assertThat(tools.dockerCommands()).containsExactly("pull", "container", "stop", "rm", "run");
    assertThat(tools.docker("pull")).containsExactly("pull", "registry.example.com/tether-delegate:0.2.0");
    List<String> args = tools.docker("run");
    assertThat(args.get(args.size() - 1)).isEqualTo("registry.example.com/tether-delegate:0.2.0");
  }

  @Test
  void dockerfile_buildsFromTheOutputDirectory_withTheJarBesideIt() throws Exception {
    Path jar = Files.writeString(root.resolve("tether-delegate.jar"), "a jar");
    Path out = write(InstallType.DOCKER, spec(PARTIAL_ARN, jar));
    String dockerfile = Files.readString(out.resolve("Dockerfile"));

    Map<String, String> args = new HashMap<>();
    List<String> sources = new ArrayList<>();
    for (String line : dockerfile.split("\n")) {
      String[] words = line.strip().split("\\s+");
      if (words[0].equals("ARG") && words[1].contains("=")) {
        args.put(words[1].substring(0, words[1].indexOf('=')), words[1].substring(words[1].indexOf('=') + 1));
      } else if (words[0].equals("COPY")) {
        // COPY [--flags] SOURCE... DEST
        List<String> rest = new ArrayList<>(List.of(words).subList(1, words.length));
        rest.removeIf(w -> w.startsWith("--"));
        for (String source : rest.subList(0, rest.size() - 1)) {
          sources.add(expand(source, args));
        }
      }
    }
    assertThat(sources).isNotEmpty();
    for (String source : sources) {
      assertThat(out.resolve(source)).as("COPY source %s in the build context %s", source, out).isRegularFile();
    }
    assertThat(dockerfile).contains("USER 10001:10001").contains("--uid 10001")
        .contains("ENV DELEGATE_OPS_LISTEN=127.0.0.1:9465")
        .containsPattern("HEALTHCHECK .*\\\\\n.*\"curl\".*\"http://127\\.0\\.0\\.1:9465/readyz\"")
        .contains("VOLUME [\"/tmp\"]");
  }

  // ---- ECS

  @Test
  void ecs_taskDefinitionLogsToItsGroup_checksHealth_readOnlyRoot_sizedLikeKubernetes() throws Exception {
    Path out = write(InstallType.ECS, spec(PARTIAL_ARN, null));
    JsonNode task = JSON.readTree(out.resolve("task-definition.json").toFile());
    JsonNode container = task.path("containerDefinitions").get(0);

    JsonNode logs = container.path("logConfiguration");
    assertThat(logs.path("logDriver").asText()).isEqualTo("awslogs");
    assertThat(logs.path("options").path("awslogs-group").asText()).isEqualTo("/tether/delegate/builder-1");
    assertThat(logs.path("options").path("awslogs-region").asText()).as("the secret's region").isEqualTo("eu-west-1");
    assertThat(logs.path("options").path("awslogs-stream-prefix").asText()).isNotEmpty();

    Map<String, String> env = new HashMap<>();
    container.path("environment").forEach(e -> env.put(e.path("name").asText(), e.path("value").asText()));
    assertThat(env).containsEntry("DELEGATE_OPS_LISTEN", "127.0.0.1:9465");
    JsonNode health = container.path("healthCheck");
    List<String> command = new ArrayList<>();
    health.path("command").forEach(c -> command.add(c.asText()));
    assertThat(command.get(0)).isEqualTo("CMD");
    assertThat(command).contains("curl", "--fail", "http://127.0.0.1:9465/healthz");
    assertThat(health.path("startPeriod").asInt()).isPositive();
    assertThat(health.path("timeout").asInt()).isLessThan(health.path("interval").asInt());

    assertThat(container.path("readonlyRootFilesystem").asBoolean()).isTrue();
    JsonNode tmp = container.path("mountPoints").get(0);
    assertThat(tmp.path("containerPath").asText()).isEqualTo("/tmp");
    assertThat(tmp.path("readOnly").asBoolean()).isFalse();
    assertThat(task.path("volumes")).anySatisfy(v -> assertThat(v.path("name").asText()).isEqualTo(tmp.path("sourceVolume").asText()));
    assertThat(container.path("linuxParameters").path("capabilities").path("drop").get(0).asText()).isEqualTo("ALL");
    assertThat(container.path("user").asText()).isEqualTo("10001:10001");

    // the Kubernetes manifest's request and limit, in MiB, are the container's reservation and hard limit
    Map<String, Integer> kubernetes = kubernetesMemory();
    assertThat(container.path("memoryReservation").asInt()).isEqualTo(kubernetes.get("requests"));
    assertThat(container.path("memory").asInt()).isEqualTo(kubernetes.get("limits"));
    heapFits(env.get("JAVA_TOOL_OPTIONS"), container.path("memory").asInt());
    // the smallest Fargate size (0.25 vCPU, 512 MiB) holds the container
    assertThat(task.path("cpu").asText()).isEqualTo("256");
    assertThat(task.path("memory").asText()).isEqualTo("512");
    assertThat(Integer.parseInt(task.path("memory").asText())).isGreaterThanOrEqualTo(container.path("memory").asInt());
    assertThat(container.path("cpu").asInt()).isLessThanOrEqualTo(Integer.parseInt(task.path("cpu").asText()));
    assertThat(Files.readString(out.resolve("task-definition.json")).contains(token.reveal())).isFalse();
  }

  @Test
  void ecs_iamPolicyReadsExactlyThatSecretAndWritesOnlyThatLogGroup() throws Exception {
    Path full = write(InstallType.ECS, spec(FULL_ARN, null));
    JsonNode policy = JSON.readTree(full.resolve("execution-role-policy.json").toFile());
    assertThat(policy.path("Version").asText()).isEqualTo("2012-10-17");
    Map<String, JsonNode> byAction = new LinkedHashMap<>();
    policy.path("Statement").forEach(s -> {
      assertThat(s.path("Effect").asText()).isEqualTo("Allow");
      byAction.put(s.path("Action").toString(), s.path("Resource"));
    });
    assertThat(byAction).containsOnlyKeys("\"secretsmanager:GetSecretValue\"", "[\"logs:CreateLogStream\",\"logs:PutLogEvents\"]");
    assertThat(byAction.get("\"secretsmanager:GetSecretValue\"").asText()).isEqualTo(FULL_ARN);
    // the log group is in the task's account, the execution role's, and the secret's region
    assertThat(byAction.get("[\"logs:CreateLogStream\",\"logs:PutLogEvents\"]").asText())
        .isEqualTo("arn:aws:logs:eu-west-1:210987654321:log-group:/tether/delegate/builder-1:*");

    // a partial ARN (no 6-character suffix yet) matches its one secret through AWS's ARN-?????? form
    Path partial = write(InstallType.ECS, spec(PARTIAL_ARN, null));
    JsonNode partialPolicy = JSON.readTree(partial.resolve("execution-role-policy.json").toFile());
    assertThat(partialPolicy.path("Statement").get(0).path("Resource").asText()).isEqualTo(PARTIAL_ARN + "-??????");
  }

  @Test
  void ecs_scriptsPassShellcheck() throws Exception {
    Path out = write(InstallType.ECS, spec(PARTIAL_ARN, null));
    Linters.shellcheck(out.resolve("put-secret.sh"), out.resolve("create-log-group.sh"));
    assertThat(Files.isExecutable(out.resolve("create-log-group.sh"))).isTrue();
  }

  @Test
  void putSecret_createsTheSecretWhenItDoesNotExist_andPointsTheTaskAtItsFullArn() throws Exception {
    Path out = write(InstallType.ECS, spec(PARTIAL_ARN, null));
    FakeTools tools = new FakeTools(root.resolve("bin")).secret("missing");

    Run run = tools.run(out.resolve("put-secret.sh"));

    assertThat(run.exit).as(run.output()).isZero();
    List<List<String>> calls = tools.calls("aws");
    assertThat(calls).extracting(c -> c.get(1)).containsExactly("describe-secret", "create-secret");
    Map<String, String> create = pairs(calls.get(1));
    assertThat(create).containsEntry("--name", "tether-abc").containsEntry("--region", "eu-west-1")
        .containsEntry("--secret-string", "file://" + out.resolve("delegate-token"));
    assertThat(out.resolve("delegate-token")).as("the local copy is deleted").doesNotExist();
    JsonNode task = JSON.readTree(out.resolve("task-definition.json").toFile());
    assertThat(task.path("containerDefinitions").get(0).path("secrets").get(0).path("valueFrom").asText())
        .isEqualTo(PARTIAL_ARN + "-AbC123");
    assertThat(run.output().contains(token.reveal())).isFalse();
  }

  @Test
  void putSecret_updatesTheSecretWhenItExists() throws Exception {
    Path out = write(InstallType.ECS, spec(FULL_ARN, null));
    FakeTools tools = new FakeTools(root.resolve("bin")).secret("exists");

    Run run = tools.run(out.resolve("put-secret.sh"));

    assertThat(run.exit).as(run.output()).isZero();
    List<List<String>> calls = tools.calls("aws");
    assertThat(calls).extracting(c -> c.get(1)).containsExactly("describe-secret", "put-secret-value");
    assertThat(pairs(calls.get(1))).containsEntry("--secret-id", FULL_ARN)
        .containsEntry("--secret-string", "file://" + out.resolve("delegate-token"));
    assertThat(out.resolve("delegate-token")).doesNotExist();
    assertThat(run.stdout).contains("stored a new version of " + FULL_ARN);
  }

  @Test
  void putSecret_onAnyOtherAwsError_storesNothingAndKeepsTheLocalCopy() throws Exception {
    Path out = write(InstallType.ECS, spec(PARTIAL_ARN, null));
    FakeTools tools = new FakeTools(root.resolve("bin")).secret("denied");

    Run run = tools.run(out.resolve("put-secret.sh"));

    assertThat(run.exit).isEqualTo(1);
    assertThat(run.stderr).contains("AccessDeniedException").contains("nothing was stored");
    assertThat(tools.calls("aws")).extracting(c -> c.get(1)).containsExactly("describe-secret");
    assertThat(out.resolve("delegate-token")).exists();
  }

  @Test
  void putSecret_withAFullArnThatDoesNotExist_explainsWhyItCannotCreateIt() throws Exception {
    Path out = write(InstallType.ECS, spec(FULL_ARN, null));
    FakeTools tools = new FakeTools(root.resolve("bin")).secret("missing");

    Run run = tools.run(out.resolve("put-secret.sh"));

    assertThat(run.exit).isEqualTo(1);
    assertThat(run.stderr).contains("ends in the 6 random characters AWS adds");
    assertThat(tools.calls("aws")).extracting(c -> c.get(1)).containsExactly("describe-secret");
    assertThat(out.resolve("delegate-token")).exists();
  }

  @Test
  void createLogGroup_createsTheGroupWithRetention_onceOnly() throws Exception {
    Path out = write(InstallType.ECS, spec(PARTIAL_ARN, null));
    FakeTools tools = new FakeTools(root.resolve("bin")).logGroup(false);

    Run created = tools.run(out.resolve("create-log-group.sh"));
    assertThat(created.exit).as(created.output()).isZero();
    List<List<String>> calls = tools.calls("aws");
    assertThat(calls).extracting(c -> c.get(1)).containsExactly("describe-log-groups", "create-log-group", "put-retention-policy");
    assertThat(pairs(calls.get(1))).containsEntry("--log-group-name", "/tether/delegate/builder-1").containsEntry("--region", "eu-west-1");

    FakeTools again = new FakeTools(root.resolve("bin2")).logGroup(true);
    Run kept = again.run(out.resolve("create-log-group.sh"));
    assertThat(kept.exit).isZero();
    assertThat(again.calls("aws")).extracting(c -> c.get(1)).containsExactly("describe-log-groups");
  }

  @Test
  void ecs_withAnArnThatIsNotASecretsManagerSecret_isRefusedNamingIt() {
    InstallSpec ssm = spec("arn:aws:ssm:eu-west-1:123456789012:parameter/tether/token", null);
    assertThatThrownBy(() -> InstallFiles.write(InstallType.ECS, ssm, root.resolve("ssm")))
        .hasMessageContaining("--ecs-secret-arn 'arn:aws:ssm:eu-west-1:123456789012:parameter/tether/token' is not the ARN"
            + " of a Secrets Manager secret (expected arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME");
  }

  // ---- helpers

  /**
   * The heap JAVA_TOOL_OPTIONS allows leaves at least 96 MiB of the memory limit for metaspace, stacks and
   * buffers, and running out of it ends the JVM.
   */
  private static void heapFits(String javaToolOptions, int limitMib) {
    Matcher m = Pattern.compile("-XX:MaxRAMPercentage=([0-9]+)").matcher(javaToolOptions);
    assertThat(m.find()).as("JAVA_TOOL_OPTIONS %s sets MaxRAMPercentage", javaToolOptions).isTrue();
    // a JVM out of heap exits for its supervisor to restart, rather than run on with a thread lost
    assertThat(javaToolOptions).contains("-XX:+ExitOnOutOfMemoryError");
    double heap = limitMib * Integer.parseInt(m.group(1)) / 100.0;
    assertThat(limitMib - heap).as("MiB left beside the heap in %d MiB", limitMib).isGreaterThanOrEqualTo(96);
  }

  private static int mebibytes(String dockerSize) {
    assertThat(dockerSize).endsWith("m");
    return Integer.parseInt(dockerSize.substring(0, dockerSize.length() - 1));
  }

  /** The Kubernetes manifest's memory request and limit, in MiB. */
  private Map<String, Integer> kubernetesMemory() throws Exception {
    Path out = write(InstallType.KUBERNETES, spec(PARTIAL_ARN, null));
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    Map<String, Integer> memory = new HashMap<>();
    try (var parser = new YAMLFactory().createParser(out.resolve("tether-delegate.yaml").toFile())) {
      var documents = yaml.readValues(parser, JsonNode.class);
      while (documents.hasNext()) {
        JsonNode doc = documents.next();
        if (doc != null && "Deployment".equals(doc.path("kind").asText())) {
          JsonNode resources = doc.at("/spec/template/spec/containers/0/resources");
          for (String kind : List.of("requests", "limits")) {
            String value = resources.path(kind).path("memory").asText();
            assertThat(value).endsWith("Mi");
            memory.put(kind, Integer.parseInt(value.substring(0, value.length() - 2)));
          }
        }
      }
    }
    assertThat(memory).containsOnlyKeys("requests", "limits");
    return memory;
  }

  private static String expand(String word, Map<String, String> args) {
    Matcher m = Pattern.compile("\\$\\{([A-Z_]+)}").matcher(word);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      assertThat(args).as("ARG %s has a default", m.group(1)).containsKey(m.group(1));
      m.appendReplacement(out, Matcher.quoteReplacement(args.get(m.group(1))));
    }
    return m.appendTail(out).toString();
  }

  /** Each option followed by its value ("--memory" → "384m"); a repeated option keeps its last value. */
  private static Map<String, String> pairs(List<String> args) {
    Map<String, String> pairs = new LinkedHashMap<>();
    for (int i = 0; i + 1 < args.size(); i++) {
      if (args.get(i).startsWith("--")) {
        pairs.put(args.get(i), args.get(i + 1));
      }
    }
    return pairs;
  }

  private static Map<String, String> envOf(List<String> args) {
    Map<String, String> env = new LinkedHashMap<>();
    for (int i = 0; i + 1 < args.size(); i++) {
      if (args.get(i).equals("--env")) {
        String pair = args.get(i + 1);
        env.put(pair.substring(0, pair.indexOf('=')), pair.substring(pair.indexOf('=') + 1));
      }
    }
    return env;
  }

  private static String mode(Path file) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
  }

  private record Run(int exit, String stdout, String stderr) {
    String output() {
      return "exit " + exit + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr;
    }
  }

  /**
   * Stand-ins for docker, aws, id and chown: each records its arguments, one per line, in
   * {@code calls/NAME}, a line "--" ending each call, and answers as a test sets it up.
   */
  private static final class FakeTools {
    private final Path bin;
    private final Map<String, String> env = new HashMap<>();

    FakeTools(Path bin) throws IOException {
      this.bin = Files.createDirectories(bin);
      Files.createDirectories(bin.resolve("calls"));
      tool("docker", """
          case "$1" in
            container) [ "${FAKE_CONTAINER_EXISTS:-0}" = 1 ] ;;
            run) echo 0123456789ab ;;
          esac
          """);
      tool("aws", """
          case "$2" in
            describe-secret)
              case "${FAKE_SECRET:-missing}" in
                exists) echo "%s" ;;
                missing) echo "An error occurred (ResourceNotFoundException) when calling the DescribeSecret operation: Secrets Manager can't find the specified secret." >&2; exit 254 ;;
                *) echo "An error occurred (AccessDeniedException) when calling the DescribeSecret operation: not allowed" >&2; exit 254 ;;
              esac ;;
            create-secret) echo "%s-AbC123" ;;
            describe-log-groups) if [ "${FAKE_LOG_GROUP:-0}" = 1 ]; then echo /tether/delegate/builder-1; fi ;;
          esac
          """.formatted(FULL_ARN, PARTIAL_ARN));
      tool("id", """
          if [ "$1" = -u ]; then echo "${FAKE_UID:-1000}"; else echo "${FAKE_UID:-1000}"; fi
          """);
      tool("chown", "");
    }

    FakeTools rootUser() {
      return user(0);
    }

    FakeTools user(int uid) {
      env.put("FAKE_UID", String.valueOf(uid));
      return this;
    }

    FakeTools containerExists(boolean exists) {
      env.put("FAKE_CONTAINER_EXISTS", exists ? "1" : "0");
      return this;
    }

    FakeTools secret(String state) {
      env.put("FAKE_SECRET", state);
      return this;
    }

    FakeTools logGroup(boolean exists) {
      env.put("FAKE_LOG_GROUP", exists ? "1" : "0");
      return this;
    }

    private void tool(String name, String body) throws IOException {
      Path calls = bin.resolve("calls").resolve(name);
      String script = "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> '" + calls + "'; done\n"
          + "echo -- >> '" + calls + "'\n" + body;
      Files.writeString(bin.resolve(name), script);
      Files.setPosixFilePermissions(bin.resolve(name), PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    Run run(Path script, String... args) throws Exception {
      List<String> command = new ArrayList<>(List.of("sh", script.toString()));
      command.addAll(List.of(args));
      ProcessBuilder builder = new ProcessBuilder(command);
      builder.environment().putAll(env);
      builder.environment().put("PATH", bin + ":" + System.getenv("PATH"));
      Path stdout = Files.createTempFile(bin, "stdout", ".txt");
      Path stderr = Files.createTempFile(bin, "stderr", ".txt");
      Process process = builder.redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("%s finished", script.getFileName()).isTrue();
      return new Run(process.exitValue(), Files.readString(stdout), Files.readString(stderr));
    }

    List<List<String>> calls(String tool) throws IOException {
      Path file = bin.resolve("calls").resolve(tool);
      List<List<String>> calls = new ArrayList<>();
      if (!Files.exists(file)) {
        return calls;
      }
      List<String> current = new ArrayList<>();
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        if (line.equals("--")) {
          calls.add(current);
          current = new ArrayList<>();
        } else {
          current.add(line);
        }
      }
      return calls;
    }

    /** The docker subcommands called, in order. */
    List<String> dockerCommands() throws IOException {
      return calls("docker").stream().map(c -> c.get(0)).toList();
    }

    /** The arguments of the only docker call with this subcommand. */
    List<String> docker(String subcommand) throws IOException {
      List<List<String>> matching = calls("docker").stream().filter(c -> c.get(0).equals(subcommand)).toList();
      assertThat(matching).as("docker %s calls", subcommand).hasSize(1);
      return matching.get(0);
    }
  }
}
