package dev.tether.manager.install;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kubernetes manifest and the Helm chart as an operator meets them: the shared namespace kept
 * apart, an existing Secret honoured, the recommended labels, the chart rendered by the real Helm
 * engine across its values and its schema refusing what the API server would refuse.
 */
class KubernetesInstallFilesTest {

  /** The kinds its files may hold; any other fails the test. */
  private static final java.util.Set<String> KINDS = java.util.Set.of("Namespace", "Secret", "ServiceAccount", "Role", "RoleBinding",
      "Deployment");

  private static final String IMAGE = "registry.example.com/tether-delegate:0.1.0";

  @TempDir Path root;
  private final DelegateToken token = TokenLedger.record(DelegateToken.generate());
  private int written;

  private InstallSpec spec(String delegateName, String managerUrl, String existingDelegateToken) {
    return new InstallSpec("acct-42", "builders", token, managerUrl, delegateName, "tether", IMAGE,
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:tether-abc",
        "arn:aws:iam::123456789012:role/ecsTaskExecutionRole", existingDelegateToken, null);
  }

  private Path write(InstallType type, InstallSpec spec) throws Exception {
    Path out = root.resolve("out-" + ++written);
    InstallFiles.write(type, spec, out);
    return out;
  }

  // ---- kubernetes

  @Test
  void kubernetes_namespaceIsAFileOfItsOwn_soDeletingOneDelegateLeavesTheOthers() throws Exception {
    Path first = write(InstallType.KUBERNETES, spec("builder-1", "https://manager.example.com:7443", null));
    Path second = write(InstallType.KUBERNETES, spec("builder-2", "https://manager.example.com:7443", null));

    Path namespaceFile = first.resolve("namespace.yaml");
    Linters.yamllint(namespaceFile, first.resolve("tether-delegate.yaml"));
    List<HasMetadata> namespace = objects(Files.readString(namespaceFile));
    assertThat(namespace).singleElement().isInstanceOf(Namespace.class)
        .satisfies(n -> assertThat(n.getMetadata().getName()).isEqualTo("tether"));
    lacksToken(Files.readString(namespaceFile));
    for (Path out : List.of(first, second)) {
      String manifest = Files.readString(out.resolve("tether-delegate.yaml"));
      assertThat(objects(manifest)).extracting(HasMetadata::getKind)
          .containsExactly("Secret", "ServiceAccount", "Role", "RoleBinding", "Deployment");
      assertThat(objects(manifest)).allSatisfy(o -> assertThat(o.getMetadata().getNamespace()).isEqualTo("tether"));
      assertThat(manifest).contains("kubectl apply -f namespace.yaml").contains("once per namespace");
    }
  }

  @Test
  void kubernetes_existingDelegateToken_leavesNoSecretAndNoTokenInAnyFile() throws Exception {
    Path out = write(InstallType.KUBERNETES, spec("builder-1", "https://manager.example.com:7443", "vault-synced-token"));

    try (Stream<Path> files = Files.walk(out)) {
      List<Path> regular = files.filter(Files::isRegularFile).toList();
      assertThat(regular).extracting(p -> out.relativize(p).toString())
          .containsExactlyInAnyOrder("namespace.yaml", "tether-delegate.yaml");
      for (Path file : regular) {
        lacksToken(Files.readString(file));
      }
    }
    Path manifest = out.resolve("tether-delegate.yaml");
    Linters.yamllint(manifest);
    List<HasMetadata> objects = objects(Files.readString(manifest));
    assertThat(objects).extracting(HasMetadata::getKind).containsExactly("ServiceAccount", "Role", "RoleBinding", "Deployment");
    // the Role reaches the existing Secret, the one the pod mounts, and no other
    RotationAccess.granted(objects, "tether", "builder-1", "vault-synced-token");
    PodSpec pod = only(objects, Deployment.class).getSpec().getTemplate().getSpec();
    assertThat(pod.getVolumes()).filteredOn(v -> v.getSecret() != null).singleElement()
        .satisfies(v -> assertThat(v.getSecret().getSecretName()).isEqualTo("vault-synced-token"));
    assertThat(env(pod.getContainers().get(0))).containsEntry("DELEGATE_TOKEN_FILE", "/etc/tether/token/DELEGATE_TOKEN")
        .doesNotContainKey("DELEGATE_TOKEN");
    assertThat(Files.readString(manifest)).contains("existing Secret 'vault-synced-token'")
        .contains("If a sync (External Secrets, Vault) owns that Secret").doesNotContain("this file holds the old token");
  }

  @Test
  void kubernetes_everyObjectCarriesTheVersionAndManagedByLabels() throws Exception {
    Path out = write(InstallType.KUBERNETES, spec("builder-1", "https://manager.example.com:7443", null));

    List<HasMetadata> objects = objects(Files.readString(out.resolve("tether-delegate.yaml")));
    List<Map<String, String>> labelSets = new ArrayList<>();
    objects.forEach(o -> labelSets.add(o.getMetadata().getLabels()));
    labelSets.add(only(objects, Deployment.class).getSpec().getTemplate().getMetadata().getLabels());
    assertThat(labelSets).hasSize(6).allSatisfy(labels -> assertThat(labels)
        .containsEntry("app.kubernetes.io/name", "tether-delegate")
        .containsEntry("app.kubernetes.io/instance", "builder-1")
        .containsEntry("app.kubernetes.io/version", "0.1.0")
        .containsEntry("app.kubernetes.io/managed-by", "tether-manager"));
  }

  @Test
  void kubernetes_rotation_letsTheDelegatesOwnAccountUpdateItsTokenSecretAndNothingElse() throws Exception {
    Path out = write(InstallType.KUBERNETES, spec("builder-1", "https://manager.example.com:7443", null));
    Path manifest = out.resolve("tether-delegate.yaml");
    Linters.yamllint(manifest);

    List<HasMetadata> objects = objects(Files.readString(manifest));
    ServiceAccount account = only(objects, ServiceAccount.class);
    assertThat(account.getMetadata().getName()).as("named like the Deployment")
        .isEqualTo(only(objects, Deployment.class).getMetadata().getName()).isEqualTo("builder-1");
    assertThat(account.getMetadata().getNamespace()).isEqualTo("tether");
    assertThat(account.getAutomountServiceAccountToken()).as("only the delegate's pod asks for the API token").isFalse();
    RotationAccess.granted(objects, "tether", "builder-1", only(objects, Secret.class).getMetadata().getName());
    assertThat(only(objects, Secret.class).getMetadata().getName()).isEqualTo("builder-1-token");
    assertThat(Files.readString(manifest)).contains("Rotation is enabled")
        .contains("After a rotation this file holds the old token");
  }

  @Test
  void kubernetes_noRotation_grantsNothingAndMountsNoApiToken() throws Exception {
    for (String existing : java.util.Arrays.asList(null, "vault-synced-token")) {
      Path out = write(InstallType.KUBERNETES, spec("builder-1", "https://manager.example.com:7443", existing)
          .withRotation(false));
      Path manifest = out.resolve("tether-delegate.yaml");
      Linters.yamllint(manifest);

      List<HasMetadata> objects = objects(Files.readString(manifest));
      assertThat(objects).as("existing Secret %s", existing).extracting(HasMetadata::getKind)
          .containsExactlyElementsOf(existing == null ? List.of("Secret", "Deployment") : List.of("Deployment"));
      RotationAccess.withheld(objects);
      assertThat(only(objects, Deployment.class).getSpec().getTemplate().getSpec().getServiceAccountName()).isNull();
      assertThat(Files.readString(manifest)).contains("Rotation is disabled (--no-rotation)");
    }
  }

  @Test
  void kubernetes_theJvmOutOfHeapExits_forItsDeploymentToRestartIt() throws Exception {
    for (String existing : java.util.Arrays.asList(null, "vault-synced-token")) {
      Path out = write(InstallType.KUBERNETES, spec("builder-1", "https://manager.example.com:7443", existing));

      PodSpec pod = only(objects(Files.readString(out.resolve("tether-delegate.yaml"))), Deployment.class)
          .getSpec().getTemplate().getSpec();

      // the pod's JAVA_TOOL_OPTIONS replaces the image's, so it must carry the flag itself (docs/security.md)
      assertThat(env(pod.getContainers().get(0)).get("JAVA_TOOL_OPTIONS")).as("existing Secret %s", existing)
          .contains("-XX:+ExitOnOutOfMemoryError");
    }
  }

  @Test
  void versionLabel_isAValidLabelValueForAnyImageTag() {
    assertThat(InstallFiles.versionLabel("0.1.0-SNAPSHOT")).isEqualTo("0.1.0-SNAPSHOT");
    assertThat(InstallFiles.versionLabel("_build.7_")).isEqualTo("build.7");
    assertThat(InstallFiles.versionLabel("x".repeat(128))).hasSize(63);
    assertThat(InstallFiles.versionLabel("___")).isEqualTo("unknown");
  }

  // ---- the loopback warning

  @Test
  void containerTypes_warnWhenTheManagerUrlIsLoopback_hostTypesDoNot() {
    for (String url : List.of("http://localhost:7443", "https://127.0.0.1:7443", "https://127.1.2.3:7443",
        "https://[::1]:7443", "http://0.0.0.0:7443", "https://api.localhost:7443")) {
      InstallSpec loopback = spec("builder-1", url, null);
      for (InstallType type : List.of(InstallType.KUBERNETES, InstallType.HELM, InstallType.DOCKER, InstallType.ECS)) {
        assertThat(InstallFiles.warnings(type, loopback)).as("%s %s", type, url).singleElement().asString()
            .contains("--manager-url '" + url + "' is a loopback address").contains("cannot reach")
            .contains("(" + type + ")");
      }
      for (InstallType type : List.of(InstallType.SHELL, InstallType.SYSTEMD)) {
        assertThat(InstallFiles.warnings(type, loopback)).as("%s %s", type, url).isEmpty();
      }
    }
    for (String url : List.of("https://manager.example.com:7443", "https://10.0.0.7:7443", "https://[fd00::1]:7443",
        "https://localhost.example.com:7443")) {
      assertThat(InstallFiles.warnings(InstallType.KUBERNETES, spec("builder-1", url, null))).as(url).isEmpty();
    }
  }

  // ---- helm

  /** One row of the values matrix: an overlay on the generated values file and what it must render to. */
  private record Case(String name, String release, String overlay, Consumer<Rendered> check) { }

  private record Rendered(String release, List<HasMetadata> objects, Deployment deployment) {
    PodSpec pod() {
      return deployment.getSpec().getTemplate().getSpec();
    }

    Container container() {
      return pod().getContainers().get(0);
    }
  }

  @Test
  void helm_rendersEveryValueIntoTheReleaseNamespace_withNamesFromTheRelease() throws Exception {
    Path out = write(InstallType.HELM, spec("builder-1", "https://manager.example.com:7443", null));
    Path chart = out.resolve("tether-delegate");
    Path values = out.resolve("values-builder-1.yaml");
    List<Case> cases = List.of(
        new Case("defaults", "builder-1", "{}", r -> {
          assertThat(r.objects()).extracting(HasMetadata::getKind)
              .containsExactlyInAnyOrder("Secret", "ServiceAccount", "Role", "RoleBinding", "Deployment");
          assertThat(r.deployment().getMetadata().getName()).isEqualTo("builder-1-tether-delegate");
          assertThat(only(r.objects(), Secret.class).getMetadata().getName()).isEqualTo("builder-1-tether-delegate-token");
          // rotation is on by default, with an account of the release's own, never "default"
          assertThat(only(r.objects(), ServiceAccount.class).getMetadata().getName()).isEqualTo("builder-1-tether-delegate");
          assertThat(only(r.objects(), ServiceAccount.class).getAutomountServiceAccountToken()).isFalse();
          RotationAccess.granted(r.objects(), "delegates", "builder-1-tether-delegate", "builder-1-tether-delegate-token");
          assertThat(KubernetesObjects.only(r.objects(), "Role").getMetadata().getName())
              .isEqualTo("builder-1-tether-delegate-token-rotation");
          assertThat(r.deployment().getMetadata().getLabels()).containsEntry("helm.sh/chart", "tether-delegate-0.4.0");
          assertThat(r.pod().getSecurityContext().getRunAsUser()).isEqualTo(10001L);
          assertThat(r.container().getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
          assertThat(r.deployment().getSpec().getReplicas()).isEqualTo(1);
          assertThat(r.deployment().getMetadata().getLabels()).containsEntry("app.kubernetes.io/version", "0.1.0")
              .containsEntry("app.kubernetes.io/managed-by", "Helm").containsEntry("app.kubernetes.io/instance", "builder-1");
        }),
        new Case("a release named apart from the delegate", "blue", "{}", r -> {
          assertThat(r.deployment().getMetadata().getName()).isEqualTo("blue-tether-delegate");
          assertThat(env(r.container())).containsEntry("DELEGATE_NAME", "builder-1");
          assertThat(r.deployment().getSpec().getSelector().getMatchLabels())
              .containsEntry("app.kubernetes.io/instance", "blue");
        }),
        new Case("nameOverride", "blue", "nameOverride: agent", r -> {
          assertThat(r.deployment().getMetadata().getName()).isEqualTo("blue-agent");
          assertThat(r.deployment().getMetadata().getLabels()).containsEntry("app.kubernetes.io/name", "agent");
        }),
        new Case("fullnameOverride", "blue", "fullnameOverride: ci-delegate", r -> {
          assertThat(r.deployment().getMetadata().getName()).isEqualTo("ci-delegate");
          assertThat(only(r.objects(), Secret.class).getMetadata().getName()).isEqualTo("ci-delegate-token");
          RotationAccess.granted(r.objects(), "delegates", "ci-delegate", "ci-delegate-token");
        }),
        new Case("pod and container securityContext", "blue",
            "podSecurityContext: {runAsNonRoot: true, runAsUser: 20000, fsGroup: 20000}\n"
                + "securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsUser: 20001}", r -> {
          assertThat(r.pod().getSecurityContext().getRunAsUser()).isEqualTo(20000L);
          assertThat(r.pod().getSecurityContext().getFsGroup()).isEqualTo(20000L);
          assertThat(r.container().getSecurityContext().getRunAsUser()).isEqualTo(20001L);
        }),
        new Case("nodeSelector, tolerations, affinity", "blue",
            "nodeSelector: {disktype: ssd}\n"
                + "tolerations: [{key: dedicated, operator: Equal, value: tether, effect: NoSchedule}]\n"
                + "affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms:"
                + " [{matchExpressions: [{key: zone, operator: In, values: [a, b]}]}]}}}", r -> {
          assertThat(r.pod().getNodeSelector()).containsExactly(Map.entry("disktype", "ssd"));
          assertThat(r.pod().getTolerations()).singleElement().satisfies(t -> {
            assertThat(t.getKey()).isEqualTo("dedicated");
            assertThat(t.getEffect()).isEqualTo("NoSchedule");
          });
          assertThat(r.pod().getAffinity().getNodeAffinity().getRequiredDuringSchedulingIgnoredDuringExecution()
              .getNodeSelectorTerms().get(0).getMatchExpressions().get(0).getValues()).containsExactly("a", "b");
        }),
        new Case("podAnnotations and podLabels", "blue",
            "podAnnotations: {team: ci, prometheus.io/path: /elsewhere}\n"
                + "podLabels: {team: ci, app.kubernetes.io/name: other}", r -> {
          var metadata = r.deployment().getSpec().getTemplate().getMetadata();
          assertThat(metadata.getAnnotations()).containsEntry("team", "ci")
              .as("the chart's own annotations win").containsEntry("prometheus.io/path", "/metrics");
          assertThat(metadata.getLabels()).containsEntry("team", "ci")
              .as("the selector's labels cannot be overridden").containsEntry("app.kubernetes.io/name", "tether-delegate");
        }),
        new Case("imagePullSecrets", "blue", "imagePullSecrets: [{name: regcred}]", r ->
            assertThat(r.pod().getImagePullSecrets()).singleElement()
                .satisfies(s -> assertThat(s.getName()).isEqualTo("regcred"))),
        new Case("serviceAccount created", "blue", "serviceAccount: {create: true, annotations: {owner: ci}}", r -> {
          ServiceAccount account = only(r.objects(), ServiceAccount.class);
          assertThat(account.getMetadata().getName()).isEqualTo("blue-tether-delegate");
          assertThat(account.getMetadata().getAnnotations()).containsEntry("owner", "ci");
          assertThat(account.getAutomountServiceAccountToken()).isFalse();
          assertThat(r.pod().getServiceAccountName()).isEqualTo("blue-tether-delegate");
          RotationAccess.granted(r.objects(), "delegates", "blue-tether-delegate", "blue-tether-delegate-token");
        }),
        new Case("serviceAccount named", "blue", "serviceAccount: {create: false, name: ci-runner}", r -> {
          assertThat(r.objects()).noneMatch(ServiceAccount.class::isInstance);
          assertThat(r.pod().getServiceAccountName()).isEqualTo("ci-runner");
          // the Role goes to the account the pod runs as
          RotationAccess.granted(r.objects(), "delegates", "ci-runner", "blue-tether-delegate-token");
        }),
        new Case("rotation disabled", "blue", "rotation: {enabled: false}", r -> {
          assertThat(r.objects()).extracting(HasMetadata::getKind)
              .containsExactlyInAnyOrder("Secret", "ServiceAccount", "Deployment");
          RotationAccess.withheld(r.objects());
          assertThat(r.pod().getServiceAccountName()).isEqualTo("blue-tether-delegate");
        }),
        new Case("rotation disabled, no account of its own", "blue",
            "rotation: {enabled: false}\nserviceAccount: {create: false}", r -> {
          assertThat(r.objects()).extracting(HasMetadata::getKind).containsExactlyInAnyOrder("Secret", "Deployment");
          RotationAccess.withheld(r.objects());
          assertThat(r.pod().getServiceAccountName()).isEqualTo("default");
        }),
        new Case("extraEnv", "blue",
            "extraEnv: [{name: MANAGER_CA_FILE, value: /etc/tether/ca/ca.pem},"
                + " {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}]", r -> {
          assertThat(env(r.container())).containsEntry("MANAGER_CA_FILE", "/etc/tether/ca/ca.pem")
              .containsEntry("DELEGATE_NAME", "builder-1");
          assertThat(r.container().getEnv()).filteredOn(e -> e.getName().equals("NODE")).singleElement()
              .satisfies(e -> assertThat(e.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("spec.nodeName"));
        }),
        new Case("delegateType and delegateTags, the delegate's own names", "blue",
            "delegateType: HELM-GPU\ndelegateTags: [gpu, eu-west]", r ->
            assertThat(env(r.container())).containsEntry("DELEGATE_TYPE", "HELM-GPU")
                .containsEntry("DELEGATE_TAGS", "gpu,eu-west")),
        new Case("replicas 0", "blue", "replicas: 0", r ->
            assertThat(r.deployment().getSpec().getReplicas()).isZero()));

    for (Case c : cases) {
      Path overlay = Files.writeString(root.resolve("overlay-" + cases.indexOf(c) + ".yaml"), c.overlay() + "\n");
      String rendered = template(chart, c.release(), values, overlay).call();
      Path renderedFile = Files.writeString(root.resolve("rendered-" + cases.indexOf(c) + ".yaml"), rendered);
      HelmOutputLint.yamllint(renderedFile);
      List<HasMetadata> objects = objects(rendered);
      String fullname = only(objects, Deployment.class).getMetadata().getName();
      assertThat(objects).as(c.name()).allSatisfy(o -> {
        assertThat(o.getMetadata().getNamespace()).as("%s: namespace of %s", c.name(), o.getKind()).isEqualTo("delegates");
        assertThat(o.getMetadata().getName()).as("%s: name of %s", c.name(), o.getKind()).startsWith(fullname);
        assertThat(o.getMetadata().getLabels()).as(c.name()).containsEntry("app.kubernetes.io/instance", c.release())
            .containsKeys("app.kubernetes.io/version", "app.kubernetes.io/managed-by", "helm.sh/chart");
      });
      Rendered r = new Rendered(c.release(), objects, only(objects, Deployment.class));
      // the probes on the ops listener stay whatever the values
      assertThat(r.container().getReadinessProbe().getHttpGet().getPath()).as(c.name()).isEqualTo("/readyz");
      assertThat(r.container().getLivenessProbe().getHttpGet().getPath()).as(c.name()).isEqualTo("/healthz");
      // and so does a JVM out of heap exiting, for the Deployment to restart it: the pod's JAVA_TOOL_OPTIONS
      // replaces the image's, so it must carry the flag itself (docs/security.md)
      assertThat(env(r.container()).get("JAVA_TOOL_OPTIONS")).as(c.name()).contains("-XX:+ExitOnOutOfMemoryError");
      c.check().accept(r);
    }
  }

  @Test
  void helm_existingDelegateToken_rendersNoSecretAndMountsThatOne() throws Exception {
    Path out = write(InstallType.HELM, spec("builder-1", "https://manager.example.com:7443", "vault-synced-token"));
    String rendered = template(out.resolve("tether-delegate"), "builder-1", out.resolve("values-builder-1.yaml")).call();

    List<HasMetadata> objects = objects(rendered);
    assertThat(objects).extracting(HasMetadata::getKind)
        .containsExactlyInAnyOrder("ServiceAccount", "Role", "RoleBinding", "Deployment");
    assertThat(objects).allSatisfy(o -> assertThat(o.getMetadata().getNamespace()).isEqualTo("delegates"));
    // the Role names the existing Secret, the one the pod mounts
    RotationAccess.granted(objects, "delegates", "builder-1-tether-delegate", "vault-synced-token");
    lacksToken(rendered);
  }

  @Test
  void helm_schemaRefusesWhatTheApiServerOrTheDelegateWould() throws Exception {
    Path out = write(InstallType.HELM, spec("builder-1", "https://manager.example.com:7443", null));
    Path chart = out.resolve("tether-delegate");
    Path values = out.resolve("values-builder-1.yaml");
    Map<String, String> refused = new java.util.LinkedHashMap<>();
    refused.put("delegateName: Builder_1", "delegateName: Does not match pattern");
    refused.put("replicas: 2", "replicas: Must be less than or equal to 1");
    refused.put("replicas: two", "replicas: Invalid type. Expected: integer, given: string");
    refused.put("ops: {port: \"9465\"}", "ops.port: Invalid type. Expected: integer, given: string");
    refused.put("nodeSelector: [ssd]", "nodeSelector: Invalid type. Expected: object, given: array");
    refused.put("fullnameOverride: Ci_Delegate", "fullnameOverride: Does not match pattern");
    refused.put("image: {pullPolicy: Sometimes}", "image.pullPolicy: image.pullPolicy must be one of the following");
    refused.put("extraEnv: [{name: DELEGATE_TOKEN, value: x}]", "extraEnv.0.name: Must not validate the schema (not)");
    refused.put("extraEnv: [{name: DELEGATE_TOKEN_SECRET, value: x}]", "extraEnv.0.name: Must not validate the schema (not)");
    refused.put("rotation: {enabled: \"yes\"}", "rotation.enabled: Invalid type. Expected: boolean, given: string");
    refused.put("rotation: {enabled: true, secret: other}", "Additional property secret is not allowed");
    // the chart's names before 0.3.0, when they differed from the delegate's own (managerUrl, delegateTags)
    refused.put("managerEndpoint: https://m:7443", "Additional property managerEndpoint is not allowed");
    refused.put("tags: [ssd]", "Additional property tags is not allowed");
    int i = 0;
    for (Map.Entry<String, String> e : refused.entrySet()) {
      Path overlay = Files.writeString(root.resolve("bad-" + i++ + ".yaml"), e.getKey() + "\n");
      assertThatThrownBy(() -> template(chart, "builder-1", values, overlay).call()).as(e.getKey())
          .hasMessageContaining("values don't meet the specifications of the schema")
          .hasMessageContaining(e.getValue());
    }
  }

  @Test
  void helm_rotationRefusesToBindTheRoleToTheNamespacesDefaultAccount() throws Exception {
    Path out = write(InstallType.HELM, spec("builder-1", "https://manager.example.com:7443", null));
    Path chart = out.resolve("tether-delegate");
    Path values = out.resolve("values-builder-1.yaml");

    for (String overlay : List.of("serviceAccount: {create: false}", "serviceAccount: {create: false, name: default}")) {
      Path file = Files.writeString(root.resolve("default-account-" + overlay.length() + ".yaml"), overlay + "\n");
      assertThatThrownBy(() -> template(chart, "blue", values, file).call()).as(overlay)
          .hasMessageContaining("rotation.enabled would bind the Role that may update the token's Secret to the"
              + " ServiceAccount \"default\"")
          .hasMessageContaining("set serviceAccount.create=true (the default), or serviceAccount.name to an account only"
              + " this delegate uses, or rotation.enabled=false");
    }
  }

  @Test
  void helm_generatedValuesCarryTheRotationChoice() throws Exception {
    InstallSpec spec = spec("builder-1", "https://manager.example.com:7443", null);
    for (boolean rotation : new boolean[] {true, false}) {
      Path out = write(InstallType.HELM, spec.withRotation(rotation));
      Path values = out.resolve("values-builder-1.yaml");
      Linters.yamllint(values);
      assertThat(Files.readString(values)).contains("rotation:\n  enabled: " + rotation + "\n");

      List<HasMetadata> objects = objects(template(out.resolve("tether-delegate"), "builder-1", values).call());
      if (rotation) {
        RotationAccess.granted(objects, "delegates", "builder-1-tether-delegate", "builder-1-tether-delegate-token");
      } else {
        RotationAccess.withheld(objects);
      }
    }
  }

  @Test
  void helm_notesSayWhereTheDelegateIsAndHowToCheckIt() throws Exception {
    Path out = write(InstallType.HELM, spec("builder-1", "https://manager.example.com:7443", null));

    String output = new Helm(out.resolve("tether-delegate")).install().withName("blue").withNamespace("delegates")
        .withValuesFile(out.resolve("values-builder-1.yaml")).clientOnly().dryRun().call().getOutput();

    assertThat(output).contains("Tether delegate \"builder-1\" of account \"acct-42\"")
        .contains("installed as Deployment blue-tether-delegate in namespace delegates")
        .contains("kubectl --namespace delegates rollout status deployment/blue-tether-delegate")
        .contains("tether-manager delegate list --account acct-42")
        .contains("Token rotation is enabled").contains("Secret blue-tether-delegate-token")
        .contains("ServiceAccount\nblue-tether-delegate, whose Role blue-tether-delegate-token-rotation may get, update and patch");
    lacksToken(output);

    String disabled = new Helm(out.resolve("tether-delegate")).install().withName("blue").withNamespace("delegates")
        .withValuesFile(out.resolve("values-builder-1.yaml")).set("rotation.enabled", "false").clientOnly().dryRun()
        .call().getOutput();
    assertThat(disabled).contains("Token rotation is disabled (rotation.enabled=false)").doesNotContain("Role");
  }

  @Test
  void helm_chartShipsItsSchemaNotesAndHelmignore() throws Exception {
    Path out = write(InstallType.HELM, spec("builder-1", "https://manager.example.com:7443", null));
    Path chart = out.resolve("tether-delegate");

    assertThat(chart.resolve("values.schema.json")).isRegularFile();
    assertThat(chart.resolve("templates/NOTES.txt")).isRegularFile();
    assertThat(chart.resolve(".helmignore")).content().contains("values-*.yaml").contains("*.token");
    Linters.yamllint(chart.resolve("values.yaml"), chart.resolve("Chart.yaml"));
    // packaged from scripts/helm/tether-delegate: a values file with a token never goes into the chart
    try (var helmignore = InstallFiles.class.getResourceAsStream("/install/helm-chart/.helmignore")) {
      assertThat(helmignore).as(".helmignore in the jar").isNotNull();
      assertThat(new String(helmignore.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8))
          .contains("values-*.yaml").contains("*.token");
    }
  }

  // ---- helpers

  private static TemplateCommand template(Path chart, String release, Path... valuesFiles) {
    TemplateCommand command = new Helm(chart).template().withName(release).withNamespace("delegates");
    for (Path file : valuesFiles) {
      command = command.withValuesFile(file);
    }
    return command;
  }

  private static List<HasMetadata> objects(String yaml) throws Exception {
    return KubernetesObjects.parse(yaml, KINDS);
  }

  private static <T> T only(List<HasMetadata> objects, Class<T> type) {
    return KubernetesObjects.only(objects, type);
  }

  private static Map<String, String> env(Container container) {
    return container.getEnv().stream().filter(e -> e.getValue() != null)
        .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
  }

  private void lacksToken(String text) {
    assertThat(text.contains(token.reveal())).as("text holds token %s", token).isFalse();
  }
}
