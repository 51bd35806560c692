package dev.tether.delegate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.common.handshake.WireText;
import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.agent.DelegateAgent;
import dev.tether.delegate.testing.FakeManager;
import io.grpc.Metadata;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import net.logstash.logback.encoder.LogstashEncoder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Where the delegate logs an account id, a token's public id or a delegate id, a JSON log gets it
 * as a field of its own ({@code account}, {@code token_id}, {@code delegate_id}), through
 * logstash-logback-encoder's encoder, while the text of the line stays as it was.
 */
class StructuredLogFieldsTest {

  private static final String ACCOUNT = "abcdefghijklmnop";
  private static final ObjectMapper JSON = new ObjectMapper();
  private final List<Logger> loggers = List.of((Logger) LoggerFactory.getLogger(TetherDelegate.class),
      (Logger) LoggerFactory.getLogger(DelegateAgent.class));
  private final Json lines = new Json();
  @TempDir Path dir;

  @BeforeEach
  void captureJson() {
    LogstashEncoder encoder = new LogstashEncoder();
    encoder.setContext(loggers.get(0).getLoggerContext());
    encoder.start();
    lines.encoder = encoder;
    lines.setContext(loggers.get(0).getLoggerContext());
    lines.start();
    loggers.forEach(l -> l.addAppender(lines));
  }

  @AfterEach
  void release() {
    loggers.forEach(l -> l.detachAppender(lines));
    lines.stop();
  }

  @Test
  void accountTokenIdAndDelegateId_areFieldsOfTheJsonLine_andTheTextIsUnchanged() throws Exception {
    DelegateToken first = TokenLedger.record(DelegateToken.generate());
    DelegateToken second = TokenLedger.record(DelegateToken.generate());
    Path tokenFile = Files.writeString(dir.resolve("token"), first.reveal());
    try (FakeManager manager = FakeManager.knowing(first)) {
      Map<String, String> env = Map.of("ACCOUNT_ID", ACCOUNT, "DELEGATE_TOKEN_FILE", tokenFile.toString(),
          "MANAGER_HOST_AND_PORT", manager.endpoint().toString(), "DELEGATE_NAME", "builder-1");
      CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> new TetherDelegate(env).call());
      manager.registered().get(20, TimeUnit.SECONDS);
      JsonNode connected = lines.first(l -> l.path("message").asText().startsWith("connected to "));

      Metadata trailers = new Metadata();
      trailers.put(Metadata.Key.of(WireText.TOKEN_STATE_TRAILER, Metadata.ASCII_STRING_MARSHALLER),
          WireText.TOKEN_STATE_REVOKED);
      manager.closeStream(Status.UNAUTHENTICATED.withDescription(WireText.TOKEN_REVOKED), trailers);
      JsonNode waiting = lines.first(l -> l.path("message").asText().contains("stopped, waiting for"));
      // a token the fake manager does not know: its proof fails and the delegate ends with 1
      Files.writeString(tokenFile, second.reveal());
      JsonNode newToken = lines.first(l -> l.path("message").asText().contains("; connecting with it"));
      assertThat(exit.get(30, TimeUnit.SECONDS)).isEqualTo(1);

      JsonNode starting = lines.first(l -> l.path("message").asText().startsWith("tether-delegate "));
      assertThat(starting.path("message").asText()).contains(" starting: account '" + ACCOUNT + "', delegate"
          + " 'builder-1', manager [" + manager.endpoint() + "], token from DELEGATE_TOKEN_FILE '" + tokenFile + "'");
      assertThat(starting.path("account").asText()).isEqualTo(ACCOUNT);

      String firstId = first.publicId();
      assertThat(connected.path("message").asText()).isEqualTo("connected to " + manager.endpoint() + " as delegate"
          + " 'builder-1' (dlg_fake) with token " + firstId + "; heartbeat every 60000 ms");
      assertThat(connected.path("delegate_id").asText()).isEqualTo("dlg_fake");
      assertThat(connected.path("token_id").asText()).isEqualTo(firstId);

      assertThat(waiting.path("message").asText()).isEqualTo("delegate token " + firstId + " was revoked; stopped,"
          + " waiting for DELEGATE_TOKEN_FILE '" + tokenFile + "' to hold a new token");
      assertThat(waiting.path("token_id").asText()).isEqualTo(firstId);

      assertThat(newToken.path("message").asText()).isEqualTo("DELEGATE_TOKEN_FILE '" + tokenFile + "' holds token "
          + second.publicId() + "; connecting with it");
      assertThat(newToken.path("token_id").asText()).isEqualTo(second.publicId());

      for (JsonNode line : lines.all()) {
        assertThat(line.toString().contains(first.reveal()) || line.toString().contains(second.reveal()))
            .as("a JSON line holds a token value").isFalse();
      }
    }
  }

  /** The JSON lines the encoder writes, parsed. */
  private static final class Json extends AppenderBase<ILoggingEvent> {
    private volatile LogstashEncoder encoder;
    private final List<JsonNode> seen = new CopyOnWriteArrayList<>();

    @Override
    protected void append(ILoggingEvent event) {
      if (!event.getLevel().isGreaterOrEqual(Level.INFO)) {
        return;
      }
      try {
        seen.add(JSON.readTree(new String(encoder.encode(event), StandardCharsets.UTF_8)));
      } catch (java.io.IOException e) {
        throw new AssertionError("the encoder wrote a line that is not JSON", e);
      }
    }

    JsonNode first(java.util.function.Predicate<JsonNode> matching) {
      await().atMost(Duration.ofSeconds(30)).until(() -> seen.stream().anyMatch(matching));
      return seen.stream().filter(matching).findFirst().orElseThrow();
    }

    List<JsonNode> all() {
      return List.copyOf(seen);
    }
  }
}
