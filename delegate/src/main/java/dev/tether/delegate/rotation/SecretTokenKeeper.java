package dev.tether.delegate.rotation;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.common.token.DelegateToken;
import dev.tether.common.token.Secrets;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import javax.net.ssl.SSLHandshakeException;

/**
 * Keeps a successor in the Kubernetes Secret the delegate was installed from (key
 * {@code DELEGATE_TOKEN}), through the Kubernetes API with the pod's service account. The update
 * carries the resourceVersion that was read, so a concurrent change of the Secret is never
 * overwritten: the keeper reads it again and retries a few times.
 *
 * <p>Two calls of the core API (read and replace one Secret) over the JDK's HTTP client: a
 * Kubernetes client library would add some 7 MB and 600 classes to the delegate for them. The
 * Secret is handled as a JSON tree, so fields this code does not know are sent back as read.
 */
public final class SecretTokenKeeper implements TokenKeeper {

  /** The Secret's key that holds the token, as the generated manifests and the Helm chart write it. */
  public static final String KEY = "DELEGATE_TOKEN";
  /** Where Kubernetes mounts the namespace of the pod's service account. */
  public static final Path SERVICE_ACCOUNT_NAMESPACE = KubernetesApi.SERVICE_ACCOUNT.resolve("namespace");
  private static final int ATTEMPTS = 3;
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Finds the API server for one keep. */
  @FunctionalInterface
  public interface ApiSource {
    KubernetesApi get() throws CannotKeepException;
  }

  private final String name;
  private final String namespace;
  private final Path namespaceFile;
  private final ApiSource apis;

  /**
   * @param namespace the Secret's namespace, or null for the pod's own (read from {@code namespaceFile})
   * @param apis the API server, asked at each keep (so a delegate started outside a pod fails only
   *     when it has a token to keep, with the reason)
   */
  public SecretTokenKeeper(String name, String namespace, Path namespaceFile, ApiSource apis) {
    this.name = Objects.requireNonNull(name, "name");
    this.namespace = namespace;
    this.namespaceFile = Objects.requireNonNull(namespaceFile, "namespaceFile");
    this.apis = Objects.requireNonNull(apis, "apis");
  }

  /** The keeper of a delegate running in a pod: the API server and credentials of the pod's service account. */
  public static SecretTokenKeeper inCluster(String name, String namespace, Map<String, String> env) {
    return new SecretTokenKeeper(name, namespace, SERVICE_ACCOUNT_NAMESPACE,
        () -> KubernetesApi.inCluster(env, KubernetesApi.SERVICE_ACCOUNT));
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
    KubernetesApi api = apis.get();
    URI uri = api.base().resolve("api/v1/namespaces/" + segment(ns) + "/secrets/" + segment(name));
    for (int attempt = 1; ; attempt++) {
      HttpResponse<String> read = send(api, secret, HttpRequest.newBuilder(uri).GET(), successor, encoded);
      if (read.statusCode() == 404) {
        throw new CannotKeepException("Secret " + secret + " does not exist (expected the Secret named by"
            + " DELEGATE_TOKEN_SECRET, holding the key " + KEY + ")");
      }
      if (read.statusCode() != 200) {
        throw new CannotKeepException(reason(secret, read, successor.reveal(), encoded));
      }
      ObjectNode current = secretIn(read, secret);
      boolean holdsKey = current.path("data").has(KEY) || current.path("stringData").has(KEY);
      if (!holdsKey) {
        throw new CannotKeepException("Secret " + secret + " has no key " + KEY + ", so the delegate's token does"
            + " not come from it (expected the Secret the delegate was installed from)");
      }
      current.withObjectProperty("data").put(KEY, encoded);
      if (current.get("stringData") instanceof ObjectNode stringData) {
        stringData.remove(KEY);
      }
      // the body carries the resourceVersion read above: the API server refuses it (409) if the Secret changed
      HttpResponse<String> written = send(api, secret, HttpRequest.newBuilder(uri)
          .header("Content-Type", "application/json")
          .PUT(HttpRequest.BodyPublishers.ofString(current.toString(), StandardCharsets.UTF_8)), successor, encoded);
      if (written.statusCode() == 200 || written.statusCode() == 201) {
        return;
      }
      if (written.statusCode() != 409 || attempt == ATTEMPTS) {
        throw new CannotKeepException(reason(secret, written, successor.reveal(), encoded));
      }
    }
  }

  private static String segment(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static HttpResponse<String> send(KubernetesApi api, String secret, HttpRequest.Builder request,
      DelegateToken successor, String encoded) throws CannotKeepException {
    request.timeout(REQUEST_TIMEOUT).header("Accept", "application/json");
    String bearer = api.bearerToken();
    if (bearer != null && !bearer.isEmpty()) {
      request.header("Authorization", "Bearer " + bearer);
    }
    try {
      return api.http().send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (SSLHandshakeException e) {
      throw new CannotKeepException("the Kubernetes API at " + api.base() + " did not prove itself with a certificate"
          + " the delegate trusts (the cluster's CA from the pod's service account) to update Secret " + secret
          + " (" + describe(e) + ")");
    } catch (IOException e) {
      throw new CannotKeepException(Secrets.redact("the Kubernetes API at " + api.base() + " cannot be reached to"
          + " update Secret " + secret + " (" + describe(e) + ")", successor.reveal(), encoded));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CannotKeepException("interrupted while updating Secret " + secret + " (the delegate is stopping)");
    }
  }

  private static ObjectNode secretIn(HttpResponse<String> read, String secret) throws CannotKeepException {
    try {
      if (JSON.readTree(read.body()) instanceof ObjectNode object && "Secret".equals(object.path("kind").asText())) {
        return object;
      }
    } catch (JacksonException e) {
      // answered below: the body is not a Secret
    }
    throw new CannotKeepException("the Kubernetes API answered the read of Secret " + secret + " with something"
        + " other than a Secret (expected a JSON object of kind Secret)");
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

  private static String reason(String secret, HttpResponse<String> answer, String value, String encoded) {
    int code = answer.statusCode();
    String reason = switch (code) {
      case 403 -> "the Kubernetes API refused to update Secret " + secret + " (403 Forbidden): the delegate's service"
          + " account needs a Role that may update it (install with rotation enabled)";
      case 401 -> "the Kubernetes API did not accept the delegate's service account (401 Unauthorized) to update"
          + " Secret " + secret + ": check that the pod mounts its service account token";
      case 404 -> "Secret " + secret + " does not exist (404 Not Found; expected the Secret named by"
          + " DELEGATE_TOKEN_SECRET)";
      case 409 -> "Secret " + secret + " kept changing while the delegate updated it (409 Conflict, " + ATTEMPTS
          + " times): something else is writing it";
      default -> {
        JsonNode status = status(answer.body());
        String statusReason = status.path("reason").asText("");
        String message = status.path("message").asText("");
        yield "the Kubernetes API refused to update Secret " + secret + " (" + code
            + (statusReason.isEmpty() ? "" : " " + statusReason) + ")"
            + (message.isEmpty() ? "" : ": " + message);
      }
    };
    // a server's message could quote what was sent
    return Secrets.redact(reason, value, encoded);
  }

  private static JsonNode status(String body) {
    try {
      return JSON.readTree(body == null ? "" : body);
    } catch (JacksonException e) {
      return JSON.createObjectNode();
    }
  }

  /** The failure's own class (the JDK's HTTP client wraps a refused connection's cause) and the first message. */
  private static String describe(IOException e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t.getMessage() != null && !t.getMessage().isBlank()) {
        return e.getClass().getSimpleName() + ": " + t.getMessage();
      }
    }
    return e.getClass().getSimpleName();
  }

  @Override
  public String toString() {
    return "SecretTokenKeeper[" + describe() + "]";
  }
}
