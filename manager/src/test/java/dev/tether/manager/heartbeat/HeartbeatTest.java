package dev.tether.manager.heartbeat;

import dev.tether.manager.testing.EndStatus;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.store.DelegateRecord;
import dev.tether.manager.testing.ManagerFixture;
import dev.tether.manager.token.CreatedAccount;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HeartbeatTest {

  @TempDir Path dataDir;
  private ManagerFixture fixture;
  private String accountId;
  private CreatedAccount account;

  @BeforeEach
  void start() {
    // a 3 s cut: a delegate that does heartbeat (the silent test's control, or one whose record is
    // read right after it registered) outlives a pause of the loaded test machine
    fixture = new ManagerFixture(dataDir, ManagerSettings.defaults()
        .withHeartbeat(new HeartbeatSettings(Duration.ofSeconds(1), 3, Duration.ofMillis(100))));
    account = fixture.account("acme");
    accountId = account.account().id();
  }

  @AfterEach
  void stop() {
    fixture.close();
  }

  @Test
  void register_toldTheIntervalAndRecordedAsConnected() throws Exception {
    StreamClient client = fixture.connect(accountId, account.defaultToken().value(), "builder");

    assertThat(client.registered().get().getHeartbeatIntervalMs()).isEqualTo(1000);
    DelegateRecord record = only(fixture.manager().store().listDelegates(accountId));
    assertThat(record.name()).isEqualTo("builder");
    assertThat(record.hostname()).isEqualTo("builder-host");
    assertThat(record.delegateType()).isEqualTo("SHELL_SCRIPT");
    assertThat(record.tags()).containsExactly("test");
    assertThat(record.tokenName()).isEqualTo("default");
    assertThat(record.tokenPublicId()).isEqualTo(account.defaultToken().value().publicId());
    assertThat(record.connected()).isTrue();
  }

  @Test
  void register_toldTheIdOfItsRow() throws Exception {
    StreamClient client = fixture.connect(accountId, account.defaultToken().value(), "builder");

    String told = client.registered().get().getDelegateId();
    assertThat(told).matches("dlg_[0-9a-f]{32}").isEqualTo(only(fixture.manager().store().listDelegates(accountId)).id());
    // the stream keeps the id as two numbers: its end is recorded on the same row
    saysGoodbyeAndIsRecordedDisconnected(client, told);
  }

  /**
   * A row written by other means than this manager's registrations, with an id of another form: the
   * delegate (same account, name and host) registers on that row.
   */
  @ParameterizedTest
  @ValueSource(strings = {"legacy-builder-1", "dlg_0123456789ABCDEF0123456789ABCDEF", "dlg_0123456789abcdef"})
  void aRowWhoseIdHasAnotherForm_keepsThatIdForTheStream(String id) throws Exception {
    Instant then = Instant.now().minusSeconds(60);
    fixture.manager().store().delegateConnected(new DelegateRecord(id, accountId, "builder", "builder-host", "SHELL_SCRIPT",
        "0", List.of(), "", account.defaultToken().value().publicId(), "default", true, then, then, then, null, null,
        "elsewhere")).get(10, TimeUnit.SECONDS);

    StreamClient client = fixture.connect(accountId, account.defaultToken().value(), "builder");

    assertThat(client.registered().get().getDelegateId()).isEqualTo(id);
    Instant before = Instant.now();
    long sequence = client.heartbeat();
    await().atMost(Duration.ofSeconds(10)).until(() -> client.acks() == sequence);
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
      client.heartbeat();
      DelegateRecord record = only(fixture.manager().store().listDelegates(accountId));
      assertThat(record.id()).isEqualTo(id);
      assertThat(record.version()).as("the row the registration wrote").isNotEqualTo("0");
      assertThat(record.lastHeartbeat()).isAfterOrEqualTo(before.truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
    });
    saysGoodbyeAndIsRecordedDisconnected(client, id);
  }

  @Test
  void heartbeats_areAcknowledgedInOrderAndTheLastOneIsRecorded() throws Exception {
    StreamClient client = fixture.connect(accountId, account.defaultToken().value(), "builder");
    Instant before = Instant.now();

    for (int i = 0; i < 19; i++) {
      client.heartbeat();
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> client.acks() == 19);
    // a heartbeat's time is written 3 s after the registration's, and the manager cuts a delegate
    // silent for 3 s: the delegate keeps heartbeating while it waits, as a real one does
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
      client.heartbeat();
      DelegateRecord record = only(fixture.manager().store().listDelegates(accountId));
      assertThat(record.lastHeartbeat()).isAfterOrEqualTo(before.truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
    });
    // just written: the next time is not due for 3 s, and only a flush of everything writes it
    Instant beforeLast = Instant.now();
    long last = client.heartbeat();
    assertThat(last).as("the last heartbeat's sequence (-1: not sent, the stream was over)").isPositive();
    await().atMost(Duration.ofSeconds(10)).until(() -> client.acks() == last);
    assertThat(client.lastAckSequence()).isEqualTo(last);
    // what the stream keeps is written by a flush of everything (an admin's read, a stop): the last one's time
    fixture.manager().flush();
    assertThat(only(fixture.manager().store().listDelegates(accountId)).lastHeartbeat())
        .isAfterOrEqualTo(beforeLast.truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
  }

  @Test
  void goodbye_showsTheDelegateDisconnectedAtOnce() throws Exception {
    StreamClient client = fixture.connect(accountId, account.defaultToken().value(), "builder");

    client.goodbye("SIGTERM");

    assertThat(client.closed().get(5, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.OK);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      fixture.manager().flush();
      DelegateRecord record = only(fixture.manager().store().listDelegates(accountId));
      assertThat(record.connected()).isFalse();
      assertThat(record.disconnectReason()).contains("goodbye");
    });
  }

  @Test
  void silentDelegate_isCutAfterThreeMissedIntervalsAndMarkedDisconnected() throws Exception {
    // before the silent delegate's last sign of life (its registration): the cut cannot come
    // sooner than three intervals after this, however long connecting the other one takes
    long started = System.nanoTime();
    StreamClient silent = fixture.connect(accountId, account.defaultToken().value(), "silent");
    StreamClient chatty = fixture.connect(accountId, account.defaultToken().value(), "chatty");
    var beat = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    try {
      beat.scheduleAtFixedRate(chatty::heartbeat, 0, 100, TimeUnit.MILLISECONDS);
      silent.closed().get(15, TimeUnit.SECONDS);

      Status status = silent.closed().get(1, TimeUnit.SECONDS);
      assertThat(status.getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofSeconds(3));
      assertThat(chatty.closed()).isNotDone();
      // the chatty one keeps heartbeating until both rows are checked (the end is written up to
      // DelegateTracker.WRITE_DELAY later)
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        List<DelegateRecord> records = fixture.manager().store().listDelegates(accountId);
        assertThat(records).filteredOn(DelegateRecord::name, "silent").singleElement()
            .satisfies(r -> assertThat(r.connected()).isFalse());
        assertThat(records).filteredOn(DelegateRecord::name, "chatty").singleElement()
            .satisfies(r -> assertThat(r.connected()).isTrue());
      });
    } finally {
      beat.shutdownNow();
    }
  }

  @Test
  void heartbeatBeforeRegister_isAProtocolError() throws Exception {
    var session = fixture.handshake(accountId, account.defaultToken().value(), "eager");
    var raw = dev.tether.proto.delegate.v1.DelegateStreamGrpc.newStub(fixture.channel())
        .withCallCredentials(new dev.tether.delegate.connect.SessionCredentials(session));
    java.util.concurrent.CompletableFuture<Status> closed = new java.util.concurrent.CompletableFuture<>();
    var requests = raw.connect(EndStatus.<dev.tether.proto.delegate.v1.ManagerMessage>into(closed));
    requests.onNext(dev.tether.proto.delegate.v1.DelegateMessage.newBuilder()
        .setHeartbeat(dev.tether.proto.delegate.v1.Heartbeat.newBuilder().setSequence(1)).build());

    Status status = closed.get(5, TimeUnit.SECONDS);
    assertThat(status.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(status.getDescription()).isEqualTo("Heartbeat before Register");
  }

  /** The delegate says goodbye; the manager closes its stream and records its row {@code id} disconnected. */
  private void saysGoodbyeAndIsRecordedDisconnected(StreamClient client, String id) throws Exception {
    client.goodbye("SIGTERM");
    assertThat(client.closed().get(5, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.OK);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      fixture.manager().flush();
      DelegateRecord record = only(fixture.manager().store().listDelegates(accountId));
      assertThat(record.id()).isEqualTo(id);
      assertThat(record.connected()).isFalse();
      assertThat(record.disconnectReason()).contains("goodbye");
    });
  }

  private static DelegateRecord only(List<DelegateRecord> records) {
    assertThat(records).hasSize(1);
    return records.get(0);
  }
}
