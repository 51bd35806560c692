package dev.tether.delegate.rotation;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Where the Kubernetes API server is and how to authenticate to it: the base URI, an HTTP client
 * that trusts the API server's certificate, and the bearer token read afresh for each request
 * (Kubernetes rotates a pod's projected service account token).
 */
public final class KubernetesApi {

  /** Where Kubernetes mounts the pod's service account: token, ca.crt and namespace. */
  public static final Path SERVICE_ACCOUNT = Path.of("/var/run/secrets/kubernetes.io/serviceaccount");
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

  private final URI base;
  private final HttpClient http;
  private final Path tokenFile;

  /**
   * @param base the API server, e.g. {@code https://10.96.0.1:443/}
   * @param tokenFile the service account token sent as the bearer token, or null to send none
   */
  public KubernetesApi(URI base, HttpClient http, Path tokenFile) {
    this.base = Objects.requireNonNull(base, "base");
    this.http = Objects.requireNonNull(http, "http");
    this.tokenFile = tokenFile;
  }

  /**
   * The API server as a pod sees it: {@code KUBERNETES_SERVICE_HOST} and {@code _PORT} from the
   * environment Kubernetes gives every container, trusting only the cluster's CA from the service
   * account mount.
   */
  public static KubernetesApi inCluster(Map<String, String> env, Path serviceAccount) throws CannotKeepException {
    String host = env.get("KUBERNETES_SERVICE_HOST");
    String port = env.get("KUBERNETES_SERVICE_PORT");
    if (host == null || host.isBlank() || port == null || port.isBlank()) {
      throw new CannotKeepException("the Kubernetes API is unknown: KUBERNETES_SERVICE_HOST and"
          + " KUBERNETES_SERVICE_PORT are not set (expected a delegate running in a Kubernetes pod, where they"
          + " always are)");
    }
    String authority = (host.contains(":") ? "[" + host.strip() + "]" : host.strip()) + ":" + port.strip();
    URI base;
    try {
      base = URI.create("https://" + authority + "/");
    } catch (IllegalArgumentException e) {
      throw new CannotKeepException("the Kubernetes API address https://" + authority + " from KUBERNETES_SERVICE_HOST"
          + " and KUBERNETES_SERVICE_PORT is not a valid address (expected a host and a port number)");
    }
    HttpClient http = HttpClient.newBuilder()
        .sslContext(trusting(serviceAccount.resolve("ca.crt")))
        .connectTimeout(CONNECT_TIMEOUT)
        .followRedirects(HttpClient.Redirect.NEVER)
        .build();
    return new KubernetesApi(base, http, serviceAccount.resolve("token"));
  }

  private static SSLContext trusting(Path caFile) throws CannotKeepException {
    try (InputStream in = Files.newInputStream(caFile)) {
      KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
      trusted.load(null, null);
      int i = 0;
      for (Certificate ca : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        trusted.setCertificateEntry("ca-" + i++, ca);
      }
      if (i == 0) {
        throw new CannotKeepException("the Kubernetes API's CA " + caFile + " holds no certificate (expected the"
            + " cluster's CA certificate, which Kubernetes mounts with the service account)");
      }
      TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trust.init(trusted);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trust.getTrustManagers(), null);
      return context;
    } catch (NoSuchFileException e) {
      throw new CannotKeepException("the Kubernetes API's CA " + caFile + " does not exist: the pod does not mount"
          + " its service account (set automountServiceAccountToken: true, as the generated manifests do)");
    } catch (IOException e) {
      throw new CannotKeepException("the Kubernetes API's CA " + caFile + " cannot be read ("
          + FileReplacer.cause(e) + ")");
    } catch (GeneralSecurityException e) {
      throw new CannotKeepException("the Kubernetes API's CA " + caFile + " is not a usable certificate ("
          + e.getClass().getSimpleName() + ": " + e.getMessage() + "; expected the cluster's CA certificate in PEM)");
    }
  }

  URI base() {
    return base;
  }

  HttpClient http() {
    return http;
  }

  /** The bearer token for one request, or null when none is sent. */
  String bearerToken() throws CannotKeepException {
    if (tokenFile == null) {
      return null;
    }
    try {
      return Files.readString(tokenFile, StandardCharsets.US_ASCII).strip();
    } catch (IOException e) {
      throw new CannotKeepException("the delegate's service account token " + tokenFile + " cannot be read ("
          + FileReplacer.cause(e) + "): check that the pod mounts its service account token");
    }
  }

  @Override
  public String toString() {
    return "KubernetesApi[" + base + "]";
  }
}
