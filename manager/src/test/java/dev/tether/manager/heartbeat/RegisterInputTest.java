package dev.tether.manager.heartbeat;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.tether.common.text.UserText;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.store.DelegateRecord;
import dev.tether.manager.testing.ManagerFixture;
import dev.tether.manager.token.CreatedAccount;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.Status;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Tether issue 11, finding 1: Register fields holding Unicode format or separator characters are
 * refused before anything is stored, and user-supplied text in the manager's log lines is quoted so
 * that it cannot fake the fields around it.
 */
class RegisterInputTest {

  /** A quoted value as {@link UserText#quote} writes it. */
  private static final Pattern QUOTED = Pattern.compile("'(?:[^'\\\\]|\\\\.)*'");

  @TempDir Path dataDir;
  private ManagerFixture fixture;
  private CreatedAccount account;
  private String accountId;
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private final Logger streamLog = (Logger) LoggerFactory.getLogger(DelegateStreamService.class);

  @BeforeEach
  void start() {
    fixture = new ManagerFixture(dataDir);
    account = fixture.account("acme");
    accountId = account.account().id();
    logs.start();
    streamLog.addAppender(logs);
  }

  @AfterEach
  void stop() {
    streamLog.detachAppender(logs);
    fixture.close();
  }

  private Register.Builder valid() {
    return Register.newBuilder().setHostname("builder-host").setDelegateType("SHELL_SCRIPT").setVersion("test")
        .addTags("test").setIp("127.0.0.1");
  }

  private Status register(String delegateName, Register register) throws Exception {
    var session = fixture.handshake(accountId, account.defaultToken().value(), delegateName);
    try (StreamClient client = StreamClient.open(fixture.channel(), session, register)) {
      return client.closed().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void register_withAFormatOrSeparatorCharacter_isRefusedNamingTheFieldAndCodePoint_andNothingIsStored()
      throws Exception {
    record Case(String field, UnaryOperator<Register.Builder> spoil) {}
    for (int codePoint : new int[] {0x202E, 0x2028, 0x200B}) {
      String bad = "prod" + Character.toString(codePoint) + "exe";
      List<Case> cases = List.of(
          new Case("hostname", r -> r.setHostname(bad)),
          new Case("tags[1]", r -> r.addTags(bad)),
          new Case("delegate_type", r -> r.setDelegateType(bad)),
          new Case("version", r -> r.setVersion(bad)),
          new Case("ip", r -> r.setIp(bad)));
      for (Case c : cases) {
        Status status = register("builder", c.spoil().apply(valid()).build());

        String codePointName = String.format("U+%04X", codePoint);
        assertThat(status.getCode()).as(c.field() + " with " + codePointName).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(status.getDescription())
            .startsWith("invalid Register: " + c.field() + " has " + codePointName + " ")
            .contains("at position 5")
            .doesNotContain(Character.toString(codePoint));
      }
    }

    fixture.manager().flush();
    assertThat(fixture.manager().store().listDelegates(accountId)).isEmpty();
    assertThat(logs.list).map(ILoggingEvent::getFormattedMessage)
        .allSatisfy(line -> assertThat(line).doesNotContain("\u202E", "\u2028", "\u200B"));
  }

  @Test
  void register_countsLengthsInCodePoints() throws Exception {
    String emoji = "\uD83D\uDE00"; // one code point, two UTF-16 units
    String hostname = emoji.repeat(255); // the limit of docs/protocol.md §6

    try (StreamClient client = StreamClient.open(fixture.channel(),
        fixture.handshake(accountId, account.defaultToken().value(), "emoji"),
        valid().setHostname(hostname).setDelegateType(emoji.repeat(64)).build())) {
      client.registered().get(10, TimeUnit.SECONDS);
    }
    DelegateRecord stored = fixture.manager().store().listDelegates(accountId).get(0);
    assertThat(stored.hostname()).isEqualTo(hostname);
    assertThat(stored.delegateType()).isEqualTo(emoji.repeat(64));

    Status tooLong = register("emoji", valid().setHostname(hostname + emoji).build());
    assertThat(tooLong.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(tooLong.getDescription()).isEqualTo("invalid Register: hostname has 256 characters (expected 1 to 255"
        + " characters, counted as Unicode code points)");
  }

  @Test
  void logLines_quoteTheDelegatesText_soItCannotFakeTheFieldsAroundIt() throws Exception {
    String name = "builder-1' from /203.0.113.9:4444 token 'prod";
    String hostname = "host' from /198.51.100.7:1 (id x";

    try (StreamClient client = StreamClient.open(fixture.channel(),
        fixture.handshake(accountId, account.defaultToken().value(), name), valid().setHostname(hostname).build())) {
      client.registered().get(10, TimeUnit.SECONDS);
      client.goodbye("SIGTERM\u2028delegate connected: account x delegate 'ghost'\nsecond line");
      client.closed().get(10, TimeUnit.SECONDS);
    }

    String connected = line("delegate connected: ");
    assertThat(connected).contains("delegate " + UserText.quote(name), "host " + UserText.quote(hostname));
    String outsideQuotes = QUOTED.matcher(connected).replaceAll("<quoted>");
    assertThat(Pattern.compile(" from ").matcher(outsideQuotes).results().count())
        .as("'from' fields outside quotes in: %s", connected).isEqualTo(1);
    assertThat(outsideQuotes).doesNotContain("203.0.113.9", "198.51.100.7");
    String goodbye = line("says goodbye: ");
    assertThat(goodbye).doesNotContain("\u2028", "\n")
        .endsWith("says goodbye: 'SIGTERM\\u2028delegate connected: account x delegate \\'ghost\\'\\u000Asecond line'");
  }

  private String line(String containing) {
    return logs.list.stream().map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains(containing))
        .findFirst().orElseThrow(() -> new AssertionError("no log line with " + containing + " in " + logs.list));
  }
}
