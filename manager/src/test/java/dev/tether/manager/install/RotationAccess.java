package dev.tether.manager.install;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.List;
import java.util.Map;

/**
 * What the Kubernetes manifest and the Helm chart must hold for zero-touch rotation, checked the
 * same way for both: the delegate's ServiceAccount may get, update and patch its token's Secret and
 * nothing else, and the pod has that account's API token and the Secret's name and namespace.
 */
final class RotationAccess {

  private RotationAccess() {}

  /** Rotation enabled: a Role on {@code secret} alone, bound to {@code serviceAccount}, used by the pod. */
  static void granted(List<HasMetadata> objects, String namespace, String serviceAccount, String secret) {
    GenericKubernetesResource role = KubernetesObjects.only(objects, "Role");
    assertThat(role.getApiVersion()).isEqualTo("rbac.authorization.k8s.io/v1");
    assertThat(role.getMetadata().getNamespace()).isEqualTo(namespace);
    assertThat(KubernetesObjects.rules(role)).as("the Role's rules").containsExactly(Map.of(
        "apiGroups", List.of(""), "resources", List.of("secrets"), "resourceNames", List.of(secret),
        "verbs", List.of("get", "update", "patch")));

    GenericKubernetesResource binding = KubernetesObjects.only(objects, "RoleBinding");
    assertThat(binding.getMetadata().getNamespace()).isEqualTo(namespace);
    assertThat(KubernetesObjects.field(binding, "roleRef")).isEqualTo(Map.of(
        "apiGroup", "rbac.authorization.k8s.io", "kind", "Role", "name", role.getMetadata().getName()));
    assertThat(KubernetesObjects.field(binding, "subjects")).isEqualTo(List.of(Map.of(
        "kind", "ServiceAccount", "name", serviceAccount, "namespace", namespace)));

    PodSpec pod = pod(objects);
    assertThat(pod.getServiceAccountName()).isEqualTo(serviceAccount);
    assertThat(pod.getAutomountServiceAccountToken()).as("the pod mounts its account's API token").isTrue();
    assertThat(pod.getVolumes()).filteredOn(v -> v.getSecret() != null).singleElement()
        .satisfies(v -> assertThat(v.getSecret().getSecretName()).as("the mounted Secret").isEqualTo(secret));
    Container container = pod.getContainers().get(0);
    assertThat(env(container, "DELEGATE_TOKEN_SECRET").getValue()).isEqualTo(secret);
    EnvVar namespaceVar = env(container, "DELEGATE_TOKEN_SECRET_NAMESPACE");
    assertThat(namespaceVar.getValue()).isNull();
    assertThat(namespaceVar.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.namespace");
  }

  /** Rotation disabled: no Role, no RoleBinding, no API token in the pod, no Secret to update named. */
  static void withheld(List<HasMetadata> objects) {
    assertThat(objects).extracting(HasMetadata::getKind).doesNotContain("Role", "RoleBinding");
    PodSpec pod = pod(objects);
    assertThat(pod.getAutomountServiceAccountToken()).as("the pod mounts no API token").isFalse();
    assertThat(pod.getContainers().get(0).getEnv()).extracting(EnvVar::getName)
        .doesNotContain("DELEGATE_TOKEN_SECRET", "DELEGATE_TOKEN_SECRET_NAMESPACE");
  }

  private static PodSpec pod(List<HasMetadata> objects) {
    return KubernetesObjects.only(objects, Deployment.class).getSpec().getTemplate().getSpec();
  }

  private static EnvVar env(Container container, String name) {
    List<EnvVar> matching = container.getEnv().stream().filter(e -> e.getName().equals(name)).toList();
    assertThat(matching).as("environment variable %s", name).hasSize(1);
    return matching.get(0);
  }
}
