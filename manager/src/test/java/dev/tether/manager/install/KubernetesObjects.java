package dev.tether.manager.install;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Parses generated or rendered Kubernetes YAML into fabric8's typed objects, for the install tests. */
final class KubernetesObjects {

  /**
   * kubernetes-model-policy and kubernetes-model-rbac are not test dependencies: a budget, a Role
   * and a RoleBinding are checked as generic resources (see {@link #rules} and {@link #field}).
   */
  private static final Map<String, Class<? extends HasMetadata>> TYPES = Map.of(
      "Namespace", Namespace.class, "Secret", Secret.class, "ServiceAccount", ServiceAccount.class,
      "Service", Service.class, "Deployment", Deployment.class, "StatefulSet", StatefulSet.class,
      "PodDisruptionBudget", GenericKubernetesResource.class, "Role", GenericKubernetesResource.class,
      "RoleBinding", GenericKubernetesResource.class);

  private KubernetesObjects() {}

  /** Every non-empty document of {@code yaml}; a kind outside {@code expectedKinds} fails the test. */
  static List<HasMetadata> parse(String yaml, Set<String> expectedKinds) throws IOException {
    List<HasMetadata> objects = new ArrayList<>();
    ObjectMapper mapper = new ObjectMapper(new YAMLFactory());
    try (var parser = new YAMLFactory().createParser(yaml)) {
      var documents = mapper.readValues(parser, JsonNode.class);
      while (documents.hasNext()) {
        JsonNode doc = documents.next();
        if (doc == null || doc.isNull() || doc.isEmpty()) {
          continue;
        }
        String kind = doc.path("kind").asText();
        if (!expectedKinds.contains(kind) || !TYPES.containsKey(kind)) {
          throw new AssertionError("unexpected kind " + kind);
        }
        objects.add(mapper.treeToValue(doc, TYPES.get(kind)));
      }
    }
    return objects;
  }

  /** The one object of {@code kind} (for kinds parsed as generic resources). */
  static GenericKubernetesResource only(List<HasMetadata> objects, String kind) {
    List<HasMetadata> matching = objects.stream().filter(o -> kind.equals(o.getKind())).toList();
    assertThat(matching).as("objects of kind %s", kind).hasSize(1);
    return (GenericKubernetesResource) matching.get(0);
  }

  /** A Role's rules, each as its lists: apiGroups, resources, resourceNames and verbs. */
  @SuppressWarnings("unchecked")
  static List<Map<String, List<String>>> rules(GenericKubernetesResource role) {
    assertThat(role.getKind()).isEqualTo("Role");
    return (List<Map<String, List<String>>>) role.getAdditionalProperties().get("rules");
  }

  /** A field of a generic resource by its path, such as {@code "roleRef", "name"}. */
  static Object field(GenericKubernetesResource object, Object... path) {
    return object.get(path);
  }

  /** The one object of {@code type}. */
  static <T> T only(List<HasMetadata> objects, Class<T> type) {
    List<T> matching = objects.stream().filter(type::isInstance).map(type::cast).toList();
    assertThat(matching).hasSize(1);
    return matching.get(0);
  }
}
