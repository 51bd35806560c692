package dev.tether.delegate.rotation;

import dev.tether.common.token.DelegateToken;
import dev.tether.common.token.Secrets;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Keeps a successor in the Kubernetes Secret the delegate was installed from (key
 * {@code DELEGATE_TOKEN}), through the Kubernetes API with the pod's service account. The update
 * carries the resourceVersion that was read, so a concurrent change of the Secret is never
 * overwritten: the keeper reads it again and retries a few times.
 */
public final class SecretTokenKeeper implements TokenKeeper {

  /** The Secret's key that holds the token, as the generated manifests and the Helm chart write it. */
  public static final String KEY = "DELEGATE_TOKEN";
  /** Where Kubernetes mounts the namespace of the pod's service account. */
  public static final Path SERVICE_ACCOUNT_NAMESPACE = Path.of("/var/run/secrets/kubernetes.io/serviceaccount/namespace");
  private static final int ATTEMPTS = 3;

  private final String name;
  private final String namespace;
  private final Path namespaceFile;
  private final Supplier<KubernetesClient> clients;

  /**
   * @param namespace the Secret's namespace, or null for the pod's own (read from {@code namespaceFile})
   * @param clients makes a client for one keep; it is closed after it
   */
  public SecretTokenKeeper(String name, String namespace, Path namespaceFile, Supplier<KubernetesClient> clients) {
    this.name = Objects.requireNonNull(name, "name");
    this.namespace = namespace;
    this.namespaceFile = Objects.requireNonNull(namespaceFile, "namespaceFile");
    this.clients = Objects.requireNonNull(clients, "clients");
  }

  /** The keeper of a delegate running in a pod: the client is configured from the pod's service account. */
  public static SecretTokenKeeper inCluster(String name, String namespace) {
    return new SecretTokenKeeper(name, namespace, SERVICE_ACCOUNT_NAMESPACE, () -> new KubernetesClientBuilder().build());
  }

  @Override
  public String describe() {
    return "Kubernetes Secret " + (namespace == null ? name + " in the delegate's namespace" : namespace + "/" + name)
        + " (key " + KEY + ")";
  }

  @Override
  public void keep(DelegateToken successor) throws CannotKeepException {
    Objects.requireNonNull(successor, "successor");
    String ns = namespace();
    String secret = ns + "/" + name;
    String encoded = Base64.getEncoder().encodeToString(successor.reveal().getBytes(StandardCharsets.US_ASCII));
    try (KubernetesClient client = clients.get()) {
      for (int attempt = 1; ; attempt++) {
        Secret current = client.secrets().inNamespace(ns).withName(name).get();
        if (current == null) {
          throw new CannotKeepException("Secret " + secret + " does not exist (expected the Secret named by"
              + " DELEGATE_TOKEN_SECRET, holding the key " + KEY + ")");
        }
        boolean holdsKey = (current.getData() != null && current.getData().containsKey(KEY))
            || (current.getStringData() != null && current.getStringData().containsKey(KEY));
        if (!holdsKey) {
          throw new CannotKeepException("Secret " + secret + " has no key " + KEY + ", so the delegate's token does"
              + " not come from it (expected the Secret the delegate was installed from)");
        }
        Secret updated = new SecretBuilder(current).addToData(KEY, encoded).removeFromStringData(KEY).build();
        try {
          // update() sends the resourceVersion read above: the API server refuses it (409) if the Secret changed
          client.secrets().inNamespace(ns).resource(updated).update();
          return;
        } catch (KubernetesClientException e) {
          if (e.getCode() != 409 || attempt == ATTEMPTS) {
            throw e;
          }
        }
      }
    } catch (KubernetesClientException e) {
      throw new CannotKeepException(reason(secret, e, successor.reveal(), encoded));
    }
  }

  private String namespace() throws CannotKeepException {
    if (namespace != null) {
      return namespace;
    }
    try {
      String read = Files.readString(namespaceFile, StandardCharsets.UTF_8).strip();
      if (read.isEmpty()) {
        throw new CannotKeepException("the namespace of Secret " + name + " is unknown: " + namespaceFile
            + " is empty; set DELEGATE_TOKEN_SECRET_NAMESPACE");
      }
      return read;
    } catch (IOException e) {
      throw new CannotKeepException("the namespace of Secret " + name + " is unknown: " + namespaceFile
          + " cannot be read (" + FileReplacer.cause(e) + "); set DELEGATE_TOKEN_SECRET_NAMESPACE");
    }
  }

  private static String reason(String secret, KubernetesClientException e, String value, String encoded) {
    String reason = switch (e.getCode()) {
      case 403 -> "the Kubernetes API refused to update Secret " + secret + " (403 Forbidden): the delegate's service"
          + " account needs a Role that may update it (install with rotation enabled)";
      case 401 -> "the Kubernetes API did not accept the delegate's service account (401 Unauthorized) to update"
          + " Secret " + secret + ": check that the pod mounts its service account token";
      case 404 -> "Secret " + secret + " does not exist (404 Not Found; expected the Secret named by"
          + " DELEGATE_TOKEN_SECRET)";
      case 409 -> "Secret " + secret + " kept changing while the delegate updated it (409 Conflict, " + ATTEMPTS
          + " times): something else is writing it";
      case 0 -> "the Kubernetes API cannot be reached to update Secret " + secret + " (" + rootCause(e) + ")";
      default -> "the Kubernetes API refused to update Secret " + secret + " (" + e.getCode()
          + (e.getStatus() != null && e.getStatus().getReason() != null ? " " + e.getStatus().getReason() : "")
          + "): " + (e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage()
              : rootCause(e));
    };
    // a server's message could quote what was sent
    return Secrets.redact(reason, value, encoded);
  }

  private static String rootCause(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
  }

  @Override
  public String toString() {
    return "SecretTokenKeeper[" + describe() + "]";
  }
}
