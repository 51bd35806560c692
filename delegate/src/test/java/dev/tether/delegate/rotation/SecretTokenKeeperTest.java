package dev.tether.delegate.rotation;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Secret keeper against fabric8's mock Kubernetes API server. */
@EnableKubernetesMockClient(crud = true, https = false)
class SecretTokenKeeperTest {

  private static final DelegateToken OLD = TokenLedger.record(DelegateToken.generate());
  private static final DelegateToken NEW = TokenLedger.record(DelegateToken.generate());
  private static final String PATH = "/api/v1/namespaces/builds/secrets/tether-token";

  KubernetesMockServer server;
  KubernetesClient client;
  @TempDir Path dir;

  /** The keeper's view of a mock API server: plain HTTP, no bearer token. */
  private static KubernetesApi api(KubernetesMockServer mock) {
    return new KubernetesApi(URI.create(mock.url("/")), HttpClient.newHttpClient(), null);
  }

  private static Secret secret(DelegateToken token) {
    return new SecretBuilder().withNewMetadata().withName("tether-token").withNamespace("builds")
        .addToLabels("app.kubernetes.io/name", "tether-delegate").endMetadata()
        .addToData(SecretTokenKeeper.KEY, base64(token)).addToData("other", base64("kept")).build();
  }

  private static String base64(DelegateToken token) {
    return base64(token.reveal());
  }

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(US_ASCII));
  }

  @Test
  void keep_updatesTheSecretsDelegateToken_andNothingElse() throws Exception {
    client.secrets().inNamespace("builds").resource(secret(OLD)).create();
    SecretTokenKeeper keeper = new SecretTokenKeeper("tether-token", "builds", dir.resolve("absent"),
        () -> api(server));

    keeper.keep(NEW);

    Secret after = client.secrets().inNamespace("builds").withName("tether-token").get();
    assertThat(after.getData().get(SecretTokenKeeper.KEY).equals(base64(NEW))).isTrue();
    assertThat(after.getData()).containsEntry("other", base64("kept"));
    assertThat(after.getMetadata().getLabels()).containsEntry("app.kubernetes.io/name", "tether-delegate");
    assertThat(keeper.describe()).isEqualTo("Kubernetes Secret builds/tether-token (key DELEGATE_TOKEN)");
  }

  @Test
  void theNamespace_isThePodsOwnWhenNotGiven() throws Exception {
    client.secrets().inNamespace("builds").resource(secret(OLD)).create();
    Path namespaceFile = Files.writeString(dir.resolve("namespace"), "builds");
    SecretTokenKeeper keeper = new SecretTokenKeeper("tether-token", null, namespaceFile, () -> api(server));

    keeper.keep(NEW);

    assertThat(client.secrets().inNamespace("builds").withName("tether-token").get().getData()
        .get(SecretTokenKeeper.KEY).equals(base64(NEW))).isTrue();
    assertThat(keeper.describe()).isEqualTo("Kubernetes Secret tether-token in the delegate's namespace (key"
        + " DELEGATE_TOKEN)");
  }

  @Test
  void aMissingSecret_orOneWithoutTheKey_cannotBeKept() {
    SecretTokenKeeper keeper = new SecretTokenKeeper("tether-token", "builds", dir.resolve("absent"),
        () -> api(server));
    assertThatThrownBy(() -> keeper.keep(NEW)).isInstanceOf(CannotKeepException.class)
        .hasMessage("Secret builds/tether-token does not exist (expected the Secret named by DELEGATE_TOKEN_SECRET,"
            + " holding the key DELEGATE_TOKEN)");

    client.secrets().inNamespace("builds").resource(new SecretBuilder(secret(OLD))
        .withData(Map.of("token", base64(OLD))).build()).create();
    assertThatThrownBy(() -> keeper.keep(NEW))
        .hasMessage("Secret builds/tether-token has no key DELEGATE_TOKEN, so the delegate's token does not come from"
            + " it (expected the Secret the delegate was installed from)");
  }

  @Test
  void anUnknownNamespace_cannotBeKept_sayingWhatToSet() {
    SecretTokenKeeper keeper = new SecretTokenKeeper("tether-token", null, dir.resolve("absent"), () -> api(server));

    assertThatThrownBy(() -> keeper.keep(NEW))
        .hasMessage("the namespace of Secret tether-token is unknown: " + dir.resolve("absent") + " cannot be read"
            + " (NoSuchFileException); set DELEGATE_TOKEN_SECRET_NAMESPACE");
  }

  @Test
  void aServiceAccountWithoutTheRole_getsAClearReason() throws Exception {
    KubernetesMockServer strict = new KubernetesMockServer(false);
    strict.init();
    try {
      strict.expect().get().withPath(PATH).andReturn(200, secret(OLD)).always();
      strict.expect().put().withPath(PATH).andReturn(403, new StatusBuilder().withCode(403).withReason("Forbidden")
          .withMessage("secrets \"tether-token\" is forbidden: User \"system:serviceaccount:builds:tether\" cannot"
              + " update resource \"secrets\" in API group \"\" in the namespace \"builds\"").build()).always();
      SecretTokenKeeper keeper = new SecretTokenKeeper("tether-token", "builds", dir.resolve("absent"),
          () -> api(strict));

      assertThatThrownBy(() -> keeper.keep(NEW)).isInstanceOf(CannotKeepException.class)
          .hasMessage("the Kubernetes API refused to update Secret builds/tether-token (403 Forbidden): the"
              + " delegate's service account needs a Role that may update it (install with rotation enabled)")
          .satisfies(e -> assertThat(TokenLedger.leaksIn(e.toString())).isEmpty());
    } finally {
      strict.destroy();
    }
  }

  @Test
  void aSecretChangedMeanwhile_isReadAgain_notOverwritten() throws Exception {
    KubernetesMockServer strict = new KubernetesMockServer(false);
    strict.init();
    try {
      Secret first = new SecretBuilder(secret(OLD)).editMetadata().withResourceVersion("1").endMetadata().build();
      Secret second = new SecretBuilder(secret(OLD)).editMetadata().withResourceVersion("2").endMetadata().build();
      strict.expect().get().withPath(PATH).andReturn(200, first).once();
      strict.expect().put().withPath(PATH).andReturn(409, new StatusBuilder().withCode(409).withReason("Conflict")
          .build()).once();
      strict.expect().get().withPath(PATH).andReturn(200, second).once();
      strict.expect().put().withPath(PATH).andReturn(200, second).once();
      SecretTokenKeeper keeper = new SecretTokenKeeper("tether-token", "builds", dir.resolve("absent"),
          () -> api(strict));

      keeper.keep(NEW);

      assertThat(strict.getRequestCount()).isEqualTo(4);
      strict.takeRequest();
      Secret sentFirst = io.fabric8.kubernetes.client.utils.Serialization.unmarshal(
          strict.takeRequest().getBody().readUtf8(), Secret.class);
      strict.takeRequest();
      Secret sentSecond = io.fabric8.kubernetes.client.utils.Serialization.unmarshal(
          strict.takeRequest().getBody().readUtf8(), Secret.class);
      assertThat(sentFirst.getMetadata().getResourceVersion()).isEqualTo("1");
      assertThat(sentSecond.getMetadata().getResourceVersion()).isEqualTo("2");
      assertThat(sentSecond.getData().get(SecretTokenKeeper.KEY).equals(base64(NEW))).isTrue();
    } finally {
      strict.destroy();
    }
  }

  @Test
  void theServiceAccountToken_isSentAsBearer_readAtEachKeep() throws Exception {
    KubernetesMockServer strict = new KubernetesMockServer(false);
    strict.init();
    try {
      strict.expect().get().withPath(PATH).andReturn(200, secret(OLD)).always();
      strict.expect().put().withPath(PATH).andReturn(200, secret(NEW)).always();
      Path tokenFile = Files.writeString(dir.resolve("token"), "sa-token-1\n");
      SecretTokenKeeper keeper = new SecretTokenKeeper("tether-token", "builds", dir.resolve("absent"),
          () -> new KubernetesApi(URI.create(strict.url("/")), HttpClient.newHttpClient(), tokenFile));

      keeper.keep(NEW);
      Files.writeString(tokenFile, "sa-token-2");
      keeper.keep(NEW);

      assertThat(strict.takeRequest().getHeader("Authorization")).isEqualTo("Bearer sa-token-1");
      assertThat(strict.takeRequest().getHeader("Authorization")).isEqualTo("Bearer sa-token-1");
      assertThat(strict.takeRequest().getHeader("Authorization")).isEqualTo("Bearer sa-token-2");
    } finally {
      strict.destroy();
    }
  }

  @Test
  void anErrorQuotingTheValue_isRedacted_andNamesTheStatus() throws Exception {
    KubernetesMockServer strict = new KubernetesMockServer(false);
    strict.init();
    try {
      strict.expect().get().withPath(PATH).andReturn(200, secret(OLD)).always();
      strict.expect().put().withPath(PATH).andReturn(422, new StatusBuilder().withCode(422).withReason("Invalid")
          .withMessage("data[DELEGATE_TOKEN]: " + base64(NEW) + " is invalid").build()).always();
      SecretTokenKeeper keeper = new SecretTokenKeeper("tether-token", "builds", dir.resolve("absent"),
          () -> api(strict));

      assertThatThrownBy(() -> keeper.keep(NEW)).isInstanceOf(CannotKeepException.class)
          .hasMessageStartingWith("the Kubernetes API refused to update Secret builds/tether-token (422 Invalid):"
              + " data[DELEGATE_TOKEN]: ")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain(base64(NEW)))
          .satisfies(e -> assertThat(TokenLedger.leaksIn(e.toString())).isEmpty());
    } finally {
      strict.destroy();
    }
  }

  @Test
  void anUnreachableApi_namesTheAddressAndCause() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    URI base = URI.create("http://127.0.0.1:" + closedPort + "/");
    SecretTokenKeeper keeper = new SecretTokenKeeper("tether-token", "builds", dir.resolve("absent"),
        () -> new KubernetesApi(base, HttpClient.newHttpClient(), null));

    assertThatThrownBy(() -> keeper.keep(NEW)).isInstanceOf(CannotKeepException.class)
        .hasMessageStartingWith("the Kubernetes API at " + base + " cannot be reached to update Secret"
            + " builds/tether-token (ConnectException");
  }

  @Test
  void outsideAPod_orWithoutTheServiceAccountMount_theReasonSaysSo() throws Exception {
    SecretTokenKeeper outside = SecretTokenKeeper.inCluster("tether-token", "builds", Map.of());
    assertThatThrownBy(() -> outside.keep(NEW)).isInstanceOf(CannotKeepException.class)
        .hasMessage("the Kubernetes API is unknown: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set"
            + " (expected a delegate running in a Kubernetes pod, where they always are)");

    Map<String, String> pod = Map.of("KUBERNETES_SERVICE_HOST", "10.96.0.1", "KUBERNETES_SERVICE_PORT", "443");
    assertThatThrownBy(() -> KubernetesApi.inCluster(pod, dir))
        .hasMessage("the Kubernetes API's CA " + dir.resolve("ca.crt") + " does not exist: the pod does not mount its"
            + " service account (set automountServiceAccountToken: true, as the generated manifests do)");

    Files.writeString(dir.resolve("ca.crt"), "not a certificate");
    assertThatThrownBy(() -> KubernetesApi.inCluster(pod, dir)).isInstanceOf(CannotKeepException.class)
        .hasMessageStartingWith("the Kubernetes API's CA " + dir.resolve("ca.crt"));
  }
}
