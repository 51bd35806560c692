package dev.tether.manager.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.manager.admin.AdminCredentials;
import dev.tether.manager.install.DelegateImageTest;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.store.DelegateRecord;
import dev.tether.manager.store.DelegateStore;
import dev.tether.proto.admin.v1.DelegateAdminGrpc;
import dev.tether.proto.admin.v1.ListDelegatesRequest;
import dev.tether.proto.admin.v1.ListDelegatesResponse;
import dev.tether.proto.admin.v1.ListTokensRequest;
import dev.tether.proto.admin.v1.ListTokensResponse;
import dev.tether.proto.admin.v1.Token;
import dev.tether.proto.admin.v1.TokenAdminGrpc;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every admin command's {@code --json} and {@code --field} output, read from a real manager: the
 * names of docs/cli-output.md, RFC 3339 times, numbers as numbers, empty values left out, no
 * {@code \u003d} escapes, and {@code --field} printing a raw value and nothing else.
 */
class CliOutputTest {

  @TempDir static Path root;
  static CliManager manager;
  static String account;

  @BeforeAll
  static void start() throws Exception {
    manager = new CliManager(root.resolve("data"), ManagerSettings.defaults().withMinTokenLifetime(Duration.ofSeconds(1)),
        false, new InetSocketAddress("127.0.0.1", 0));
    CliManager.Result created = manager.cli("account", "create", "acme", "--json");
    JsonNode json = created.json();
    TokenLedger.record(DelegateToken.parse("default token", json.get("value").asText()));
    account = json.get("account").get("id").asText();
  }

  @AfterAll
  static void stop() {
    manager.close();
  }

  @Test
  void accountCreate_jsonHasValueAndRfc3339Times_fieldValuePrintsOnlyTheCredential() {
    CliManager.Result json = manager.cli("account", "create", "json-acct", "--json");
    JsonNode tree = json.json();
    TokenLedger.record(DelegateToken.parse("default token", tree.get("value").asText()));
    assertThat(tree.get("value").asText()).startsWith("tdt_");
    assertThat(tree.has("defaultTokenValue")).isFalse();
    assertThat(tree.get("account").get("name").asText()).isEqualTo("json-acct");
    assertRfc3339(tree.get("account").get("created_at"));
    assertThat(tree.get("default_token").get("status").asText()).isEqualTo("ACTIVE");
    // an active token was never revoked: the unset time and the empty names are left out
    assertThat(tree.get("default_token").has("revoked_at")).isFalse();
    assertThat(tree.get("default_token").has("revoked_by")).isFalse();

    CliManager.Result field = manager.cli("account", "create", "field-acct", "--field", "value");
    List<String> lines = field.lines();
    assertThat(lines).hasSize(1);
    DelegateToken token = TokenLedger.record(DelegateToken.parse("--field value", lines.get(0)));
    assertThat(lines.get(0)).isEqualTo(token.reveal());

    assertThat(manager.cli("account", "create", "id-acct", "--field", "account.name").lines()).containsExactly("id-acct");
  }

  @Test
  void anAdminCommand_endsTheEventLoopItOpened() {
    // a loop left waiting in epoll would hold a command's JVM some 0.3 s past its end
    for (int i = 0; i < 3; i++) {
      assertThat(manager.cli("token", "list", "--account", account).exit()).isZero();
    }
    assertThat(manager.cli("token", "list", "--account", "nosuch").exit()).isEqualTo(1);
    // each loop has been told to end and has acknowledged it; its thread may take a moment more to return
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(Thread.getAllStackTraces().keySet())
        .extracting(Thread::getName).noneMatch(name -> name.startsWith("tether-cli-io")));
  }

  @Test
  void accountList_fieldOfAListPrintsOneValuePerLine() {
    List<String> names = manager.cli("account", "list", "--field", "accounts.name").lines();
    assertThat(names).contains("acme");
    JsonNode accounts = manager.cli("account", "list", "--json").json().get("accounts");
    assertThat(accounts.isArray()).isTrue();
    assertThat(accounts.size()).isEqualTo(names.size());
  }

  @Test
  void tokenCreate_descriptionWithEqualsSignIsNotEscaped_andFieldsMatchTheJson() {
    CliManager.Result created = manager.cli("token", "create", "--account", account, "--name", "ci",
        "--description", "owner=ci <runner>", "--expires-in", "1h30m", "--json");
    JsonNode tree = created.json();
    TokenLedger.record(DelegateToken.parse("created", tree.get("value").asText()));
    assertThat(created.redacted().out()).contains("\"description\": \"owner=ci <runner>\"").doesNotContain("\\u003d");
    JsonNode token = tree.get("token");
    Duration lifetime = Duration.between(OffsetDateTime.parse(token.get("created_at").asText()).toInstant(),
        OffsetDateTime.parse(token.get("expires_at").asText()).toInstant());
    assertThat(lifetime).isEqualTo(Duration.ofMinutes(90));

    List<String> id = manager.cli("token", "list", "--account", account, "--field", "tokens.token_id").lines();
    assertThat(id).contains(token.get("token_id").asText());

    CliManager.Result value = manager.cli("token", "create", "--account", account, "--name", "ci-2", "--field", "value");
    assertThat(value.lines()).hasSize(1);
    TokenLedger.record(DelegateToken.parse("--field value", value.lines().get(0)));
    assertThat(value.err()).isEmpty();
  }

  @Test
  void tokenCreate_imported_jsonHasNoValue() throws Exception {
    Path file = root.resolve("import.txt");
    byte[] random = new byte[32];
    new java.security.SecureRandom().nextBytes(random);
    String imported = java.util.HexFormat.of().formatHex(random);
    TokenLedger.record(DelegateToken.parse("imported value", imported));
    Files.writeString(file, imported);
    JsonNode tree = manager.cli("token", "create", "--account", account, "--name", "imported", "--import-file",
        file.toString(), "--json").json();
    assertThat(tree.has("value")).isFalse();
    assertThat(tree.get("token").get("name").asText()).isEqualTo("imported");
  }

  @Test
  void tokenList_status_showsExpiredApartFromRevoked() {
    record(manager.cli("token", "create", "--account", account, "--name", "short", "--expires-in", "1s", "--field", "value"));
    record(manager.cli("token", "create", "--account", account, "--name", "gone", "--field", "value"));
    manager.cli("token", "revoke", "--account", account, "--name", "gone").ok();

    await().atMost(Duration.ofSeconds(30)).until(() -> manager.cli("token", "list", "--account", account,
        "--status", "expired", "--field", "tokens.name").lines().contains("short"));

    assertThat(manager.cli("token", "list", "--account", account, "--status", "revoked", "--field", "tokens.name").lines())
        .contains("gone").doesNotContain("short", "default");
    assertThat(manager.cli("token", "list", "--account", account, "--status", "ACTIVE", "--field", "tokens.name").lines())
        .contains("default").doesNotContain("short", "gone");
    JsonNode expired = manager.cli("token", "list", "--account", account, "--status", "expired", "--json").json()
        .get("tokens").get(0);
    assertThat(expired.get("status").asText()).isEqualTo("EXPIRED");
    assertRfc3339(expired.get("revoked_at"));
    List<String> table = manager.cli("token", "list", "--account", account).lines();
    assertThat(table).anySatisfy(line -> assertThat(line).startsWith("short ").contains(" EXPIRED ").contains(" expired"));
    assertThat(table).anySatisfy(line -> assertThat(line).startsWith("gone ").contains(" REVOKED ")
        .contains(" revoked by bootstrap"));
  }

  @Test
  void tokenRevokeAndDelete_countsAreNumbers() {
    record(manager.cli("token", "create", "--account", account, "--name", "to-revoke", "--field", "value"));
    JsonNode dryRun = manager.cli("token", "revoke", "--account", account, "--name", "to-revoke", "--dry-run", "--json").json();
    assertThat(dryRun.get("dry_run").asBoolean()).isTrue();
    assertThat(dryRun.get("affected_delegates").isArray()).isTrue();

    JsonNode revoked = manager.cli("token", "revoke", "--account", account, "--name", "to-revoke", "--json").json();
    assertThat(revoked.get("streams_closed").isNumber()).isTrue();
    assertThat(revoked.get("streams_closed").asInt()).isZero();
    assertThat(revoked.get("token").get("status").asText()).isEqualTo("REVOKED");
    assertThat(revoked.get("replicas").get(0).get("streams_closed").isNumber()).isTrue();

    assertThat(manager.cli("token", "delete", "--account", account, "--name", "to-revoke", "--field", "token.status")
        .lines()).containsExactly("REVOKED");
  }

  @Test
  void delegateListDeleteAndPrune_jsonAndFields() {
    String account = newAccount("delegates-acct");
    Instant now = Instant.now();
    String stale = delegate(account, "stale-1", now.minus(Duration.ofDays(8)));
    String recent = delegate(account, "recent-1", now.minus(Duration.ofHours(1)));
    String doomed = delegate(account, "doomed-1", now.minus(Duration.ofHours(2)));
    String live = manager.server.manager().store().delegateConnected(new DelegateRecord(null, account, "live-1",
        "live-host", "SHELL", "1.0", List.of("a", "b"), "10.0.0.9", "tid_aaaaaaaaaaaaaaaa", "default", true, now, now, now,
        null, null, "r1")).join();

    List<String> connected = manager.cli("delegate", "list", "--account", account, "--connected", "--field",
        "delegates.name").lines();
    assertThat(connected).containsExactly("live-1");
    assertThat(manager.cli("delegate", "list", "--account", account, "--disconnected", "--field", "delegates.name")
        .lines()).contains("stale-1", "recent-1", "doomed-1").doesNotContain("live-1");
    assertThat(manager.cli("delegate", "list", "--connected", "--disconnected").exit()).isEqualTo(2);
    assertThat(manager.cli("delegate", "list", "--account", account, "--connected", "--field", "delegates.tags").lines())
        .containsExactly("a", "b");
    JsonNode listed = manager.cli("delegate", "list", "--account", account, "--connected", "--json").json()
        .get("delegates").get(0);
    assertThat(listed.get("id").asText()).isEqualTo(live);
    assertThat(listed.get("connected").asBoolean()).isTrue();
    assertRfc3339(listed.get("last_heartbeat"));
    assertThat(listed.has("disconnected_at")).isFalse();
    assertThat(listed.has("last_heartbeat_unix_ms")).isFalse();

    JsonNode deleted = manager.cli("delegate", "delete", doomed, "--json").json();
    assertThat(deleted.get("delegate").get("name").asText()).isEqualTo("doomed-1");
    assertThat(manager.cli("delegate", "delete", live).err()).contains("is connected");

    CliManager.Result dry = manager.cli("delegate", "prune", "--account", account, "--disconnected-for", "7d", "--dry-run");
    assertThat(dry.lines().get(0)).isEqualTo("dry run: would delete 1 delegate disconnected for at least 7d:");
    assertThat(dry.out()).contains("stale-1").contains(stale).doesNotContain("recent-1");
    assertThat(manager.cli("delegate", "list", "--account", account, "--field", "delegates.id").lines()).contains(stale);

    JsonNode pruned = manager.cli("delegate", "prune", "--account", account, "--disconnected-for", "1w", "--json").json();
    assertThat(pruned.get("dry_run").asBoolean()).isFalse();
    assertThat(pruned.get("delegates").size()).isEqualTo(1);
    assertThat(pruned.get("delegates").get(0).get("id").asText()).isEqualTo(stale);
    assertThat(manager.cli("delegate", "list", "--account", account, "--field", "delegates.id").lines())
        .contains(recent, live).doesNotContain(stale, doomed);
  }

  @Test
  void auditList_showsTheRemoteAddress() {
    List<String> addresses = manager.cli("audit", "list", "--account", account, "--field", "events.remote_address").lines();
    assertThat(addresses).isNotEmpty().allSatisfy(a -> assertThat(a).matches("127\\.0\\.0\\.1:\\d+"));
    JsonNode event = manager.cli("audit", "list", "--account", account, "--limit", "1", "--json").json().get("events").get(0);
    assertThat(event.get("id").isNumber()).isTrue();
    assertRfc3339(event.get("at"));
    assertThat(event.get("actor").asText()).isEqualTo("bootstrap");
    List<String> table = manager.cli("audit", "list", "--account", account).lines();
    assertThat(table.get(0)).containsPattern("ACTOR\\s+ACTION").contains("REMOTE_ADDRESS");
    assertThat(table.get(1)).containsPattern("bootstrap\\s+\\S+.*127\\.0\\.0\\.1:\\d+");
  }

  @Test
  void adminCommands_createListRevokeDeleteWhoami() throws Exception {
    CliManager.Result created = manager.cli("admin", "create", "ops-1", "--role", "operator");
    assertThat(created.redacted().out()).contains("admin 'ops-1' (adm_").contains("created with role operator")
        .contains("shown once").contains("--admin-key-file FILE");
    String key = created.out().lines().filter(l -> l.strip().startsWith("tak_")).findFirst().orElseThrow().strip();
    Path keyFile = root.resolve("ops-1.key");
    Files.writeString(keyFile, key);
    Files.setPosixFilePermissions(keyFile, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));

    JsonNode whoami = manager.cli("admin", "whoami", "--admin-key-file", keyFile.toString(), "--json").json();
    assertThat(whoami.get("admin").get("name").asText()).isEqualTo("ops-1");
    assertThat(whoami.get("admin").get("role").asText()).isEqualTo("OPERATOR");
    assertThat(whoami.get("remote_address").asText()).startsWith("127.0.0.1:");
    assertThat(manager.cli("admin", "whoami", "--field", "admin.role").lines()).containsExactly("OWNER");

    CliManager.Result viewer = manager.cli("admin", "create", "viewer-1", "--role", "VIEWER", "--field", "value");
    assertThat(viewer.lines()).hasSize(1);
    assertThat(viewer.lines().get(0)).startsWith("tak_");

    List<String> list = manager.cli("admin", "list").lines();
    assertThat(String.join("\n", list)).doesNotContain("tak_");
    assertThat(list).anySatisfy(l -> assertThat(l).startsWith("ops-1 ").contains(" operator ").contains(" ACTIVE "));
    JsonNode admins = manager.cli("admin", "list", "--json").json().get("admins");
    List<String> names = new ArrayList<>();
    admins.forEach(a -> names.add(a.get("name").asText()));
    assertThat(names).contains("bootstrap", "ops-1", "viewer-1");

    JsonNode revoked = manager.cli("admin", "revoke", "ops-1", "--json").json();
    assertThat(revoked.get("admin").get("revoked").asBoolean()).isTrue();
    assertThat(revoked.get("calls_ended").isNumber()).isTrue();
    assertThat(manager.cli("admin", "whoami", "--admin-key-file", keyFile.toString()).err())
        .startsWith("error: the manager refused the admin key");
    assertThat(manager.cli("admin", "delete", "ops-1", "--field", "admin.name").lines()).containsExactly("ops-1");
    assertThat(manager.cli("admin", "list", "--field", "admins.name").lines()).doesNotContain("ops-1");
  }

  @Test
  void installFiles_callsPrepareInstall_andItsResultHasTheFilesWritten() throws Exception {
    CliManager.Result token = manager.cli("token", "create", "--account", account, "--name", "install", "--field", "value");
    record(token);
    Path tokenFile = root.resolve("install.token");
    Files.writeString(tokenFile, token.lines().get(0));
    Path out = root.resolve("k8s");

    JsonNode result = manager.cli("delegate", "install-files", "--type", "kubernetes", "--account", account,
        "--token-name", "install", "--token-file", tokenFile.toString(), "--out", out.toString(),
        "--manager-url", "https://manager.example:7443", "--delegate-name", "k8s-1", "--json").json();

    assertThat(result.get("token").get("name").asText()).isEqualTo("install");
    assertThat(result.get("install_type").asText()).isEqualTo("kubernetes");
    assertThat(result.get("files").get(0).asText()).isEqualTo("tether-delegate.yaml");
    // no --image: the image of this build (a local build's registry is empty: tether-delegate:VERSION)
    assertThat(Files.readString(out.resolve("tether-delegate.yaml")))
        .contains("image: \"tether-delegate:" + DelegateImageTest.projectVersion() + "\"");
    assertThat(manager.cli("audit", "list", "--account", account, "--limit", "1", "--field", "events.action").lines())
        .containsExactly("install.files");
  }

  @Test
  void rotateEvery_theManagerOpensTheRotationByItself_andTheSuccessorInheritsTheSchedule() throws Exception {
    String account = newAccount("scheduled-acct");
    CliManager.Result created = manager.cli("token", "create", "--account", account, "--name", "nightly",
        "--rotate-every", "2s", "--json");
    JsonNode json = created.json();
    TokenLedger.record(DelegateToken.parse("created", json.get("value").asText()));
    assertThat(json.get("next_rotation_at").asText()).isNotEmpty();

    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      CliManager.Result status = manager.cli("token", "rotate", "--account", account, "--name", "nightly", "--status",
          "--json");
      assertThat(status.exit()).as(status.toString()).isZero();
      JsonNode rotation = status.json().get("rotation");
      assertThat(rotation.get("state").asText()).isEqualTo("OPEN");
      assertThat(rotation.get("successor_name").asText()).isEqualTo("nightly-r2");
      assertThat(rotation.get("opened_by").asText()).isEqualTo("system");
    });
    var store = manager.server.manager().store();
    var successor = store.findToken(account, "nightly-r2").orElseThrow();
    assertThat(store.rotationSchedule(successor.id())).hasValueSatisfying(s ->
        assertThat(s.every()).isEqualTo(Duration.ofSeconds(2)));
    assertThat(store.rotationSchedule(store.findToken(account, "nightly").orElseThrow().id())).isEmpty();
    assertThat(manager.cli("audit", "list", "--account", account, "--json").out()).contains("\"token.rotate\"")
        .contains("\"actor\": \"system\"");

    CliManager.Result tooOften = manager.cli("token", "create", "--account", account, "--name", "hourly",
        "--rotate-every", "500ms");
    assertThat(tooOften.exit()).isEqualTo(1);
    assertThat(tooOften.err()).contains("rotation interval 500ms is out of range (expected 1s to 3650d");
    assertThat(manager.cli("token", "list", "--account", account, "--field", "tokens.name").lines())
        .doesNotContain("hourly");
  }

  @Test
  void unknownField_isRefusedBeforeTheCall_listingTheValidNames() {
    CliManager.Result result = manager.cli("token", "create", "--account", account, "--name", "never", "--field", "valu");
    assertThat(result.exit()).isEqualTo(1);
    assertThat(result.out()).isEmpty();
    assertThat(result.err()).startsWith("error: --field 'valu' is not a field of this command's result (expected one of:"
        + " token, token.account_id, token.name, token.token_id, token.status, token.created_at");
    assertThat(result.err()).contains(", value, next_rotation_at;");
    assertThat(manager.cli("token", "list", "--account", account, "--field", "tokens.name").lines()).doesNotContain("never");
    assertThat(manager.cli("account", "list", "--json", "--field", "accounts.id").err())
        .contains("--json and --field 'accounts.id' contradict each other");
  }

  @Test
  void jsonEscapesFormatCharacters_butNotEqualsSigns() {
    String account = newAccount("escapes-acct");
    Instant now = Instant.now();
    manager.server.manager().store().delegateConnected(new DelegateRecord(null, account, "invoice\u202Efdp=exe", "h",
        "SHELL", "1.0", List.of(), "10.0.0.1", "tid_aaaaaaaaaaaaaaaa", "default", true, now, now, now, null, null, "r1")).join();
    String out = manager.cli("delegate", "list", "--account", account, "--json").ok().out();
    assertThat(out).doesNotContain("\u202E").contains("invoice\\u202efdp=exe");
    JsonNode tree = manager.cli("delegate", "list", "--account", account, "--json").json();
    List<String> names = new ArrayList<>();
    tree.get("delegates").forEach(d -> names.add(d.get("name").asText()));
    assertThat(names).contains("invoice\u202Efdp=exe");
  }

  @Test
  void jsonReadsBackIntoTheResponseMessage_nothingLost() throws Exception {
    String account = newAccount("round-trip-acct");
    record(manager.cli("token", "create", "--account", account, "--name", "round-trip", "--expires-in", "2w",
        "--description", "a=b", "--field", "value"));
    manager.cli("token", "revoke", "--account", account, "--name", "round-trip").ok();
    Instant now = Instant.now();
    manager.server.manager().store().delegateConnected(new DelegateRecord(null, account, "round-1", "h", "SHELL", "1.0",
        List.of("x"), "10.0.0.3", "tid_aaaaaaaaaaaaaaaa", "default", true, now, now, now, null, null, "r1")).join();

    ListTokensResponse fromCli = CliJson.read(manager.cli("token", "list", "--account", account, "--json").ok().out(),
        ListTokensResponse.getDefaultInstance());
    ListDelegatesResponse delegatesFromCli = CliJson.read(manager.cli("delegate", "list", "--account", account,
        "--json").ok().out(), ListDelegatesResponse.getDefaultInstance());

    ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", manager.adminPort(),
        TlsChannelCredentials.newBuilder().trustManager(manager.dataDir.resolve("tls/manager.crt").toFile()).build())
        .build();
    try {
      AdminCredentials key = new AdminCredentials(Files.readString(manager.dataDir.resolve("admin.key")).strip());
      ListTokensResponse direct = TokenAdminGrpc.newBlockingStub(channel).withCallCredentials(key)
          .listTokens(ListTokensRequest.newBuilder().setAccountId(account).build());
      ListDelegatesResponse directDelegates = DelegateAdminGrpc.newBlockingStub(channel).withCallCredentials(key)
          .listDelegates(ListDelegatesRequest.newBuilder().setAccountId(account).build());
      assertThat(fromCli).isEqualTo(direct);
      assertThat(delegatesFromCli).isEqualTo(directDelegates);
    } finally {
      channel.shutdownNow();
    }
    Token revoked = fromCli.getTokensList().stream().filter(t -> t.getName().equals("round-trip")).findFirst().orElseThrow();
    assertThat(revoked.getExpiresAtUnixMs() - revoked.getCreatedAtUnixMs()).isEqualTo(Duration.ofDays(14).toMillis());
    assertThat(revoked.getRevokedAtUnixMs()).isPositive();
    assertThat(revoked.getDescription()).isEqualTo("a=b");
    assertThat(delegatesFromCli.getDelegatesList()).anySatisfy(d -> {
      assertThat(d.getName()).isEqualTo("round-1");
      assertThat(d.getLastHeartbeatUnixMs()).isEqualTo(now.toEpochMilli());
      assertThat(d.getTagsList()).containsExactly("x");
    });
  }

  /** A new account's id; its default token's value is never printed. */
  private static String newAccount(String name) {
    return manager.cli("account", "create", name, "--field", "account.id").lines().get(0);
  }

  private static String delegate(String account, String name, Instant disconnectedAt) {
    var store = manager.server.manager().store();
    Instant since = disconnectedAt.minus(Duration.ofMinutes(5));
    String id = store.delegateConnected(new DelegateRecord(null, account, name, name + "-host", "SHELL", "1.0",
        List.of(), "10.0.0.2", "tid_aaaaaaaaaaaaaaaa", "default", true, since, since, since, null, null, "r1")).join();
    store.delegatesDisconnected(List.of(new DelegateStore.Disconnect(id, since, disconnectedAt, "test")));
    return id;
  }

  private static void record(CliManager.Result valueOnly) {
    TokenLedger.record(DelegateToken.parse("--field value", valueOnly.lines().get(0)));
  }

  private static void assertRfc3339(JsonNode node) {
    assertThat(node).as("a time").isNotNull();
    assertThat(node.isTextual()).isTrue();
    assertThat(node.asText()).matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z");
    assertThat(OffsetDateTime.parse(node.asText()).toInstant()).isBefore(Instant.now().plus(Duration.ofDays(1)));
  }
}
