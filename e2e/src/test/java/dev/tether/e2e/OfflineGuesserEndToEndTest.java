package dev.tether.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.common.io.BaseEncoding;
import com.google.protobuf.ByteString;
import dev.tether.common.handshake.HandshakeCrypto;
import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.config.ManagerEndpoint;
import dev.tether.delegate.connect.Channels;
import dev.tether.proto.admin.v1.ListTokensResponse;
import dev.tether.proto.admin.v1.Token;
import dev.tether.proto.delegate.v1.Begin;
import dev.tether.proto.delegate.v1.Challenge;
import dev.tether.proto.delegate.v1.DelegateAuthGrpc;
import dev.tether.proto.delegate.v1.HandshakeRequest;
import dev.tether.proto.delegate.v1.HandshakeResponse;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tether issue 11, finding 3, with the real programs: imported custom tokens were cracked offline
 * from their public id (a fast SHA-256 of the value) and from the server proof the manager sends
 * before the client proves anything. Here an offline guesser, a separate process holding only what
 * an attacker holds and a candidate list that includes the true value, finds that the fast formulas
 * match nothing, and that only the Argon2id derivation matches: each guess costs one evaluation.
 */
class OfflineGuesserEndToEndTest {

  private static final Duration START = Duration.ofSeconds(60);
  private static final SecureRandom RANDOM = new SecureRandom();
  /** Accepted before, and recovered from their token ids in 52 s by the attacker of issue 11. */
  private static final List<String> CRACKED = List.of("abcdefghijklmnopqrstuvwxyz0123456789",
      "qwertyuiopasdfghjklzxcvbnm1234567890", "Tether-Prod-Delegate-Token-2025!", "ACME-kubernetes-delegate-secret-2024");

  @TempDir Path work;

  @Test
  void anOfflineGuesserWithThePublicIdAndARecordedChallenge_needsOneArgon2idEvaluationPerGuess() throws Exception {
    Tether tether = new Tether(work.resolve("data"), "OfflineGuesserEndToEndTest").start();
    List<Path> outputs = new ArrayList<>();
    try {
      String account = tether.account("acme");

      for (int i = 0; i < CRACKED.size(); i++) {
        String weak = CRACKED.get(i);
        TokenLedger.record(DelegateToken.parse("weak value", weak));
        Tether.Result refused = tether.cliWithStdin(weak, "token", "create", "--account", account,
            "--name", "weak-" + i, "--import-stdin");
        assertThat(refused.exit()).as("import of weak value %d", i).isNotZero();
        assertThat(refused.err()).contains("imported token value is too easy to guess: zxcvbn estimates about")
            .contains("expected at least 128 bits").doesNotContain(weak);
      }

      String value = HexFormat.of().formatHex(randomBytes(32));
      TokenLedger.record(DelegateToken.parse("imported value", value));
      Tether.Result imported = tether.cliWithStdin(value, "token", "create", "--account", account, "--name", "legacy",
          "--import-stdin", "--json").ok();
      // the caller has the value: the answer to an import does not echo it
      assertThat(imported.out()).contains("legacy").doesNotContain(value);
      Proc delegate = tether.delegate("builder-1", tether.env(account, value));
      String connectedWith = delegate.awaitLine("connected to .* with token (tid_[a-z2-7]{16})", START);
      await().atMost(Duration.ofSeconds(60)).until(() -> tether.delegate(account, "builder-1").getConnected());

      // all an attacker needs to start guessing: the token list, the account id, one recorded Challenge
      ListTokensResponse listed = Tether.parse(tether.cli("token", "list", "--account", account, "--json").ok().out(),
          ListTokensResponse.getDefaultInstance());
      String publicId = listed.getTokensList().stream().filter(t -> t.getName().equals("legacy"))
          .map(Token::getTokenId).findFirst().orElseThrow();
      assertThat(connectedWith).isEqualTo(publicId);
      Properties material = recordChallenge(tether.port(), account, publicId);

      List<String> candidates = new ArrayList<>(CRACKED);
      candidates.add(value.toUpperCase(java.util.Locale.ROOT));
      candidates.add(value.substring(0, 63) + (value.charAt(63) == '0' ? '1' : '0'));
      candidates.add("acme-delegate-token-" + value.substring(0, 20));
      candidates.add(value);
      Collections.shuffle(candidates, RANDOM);
      int truth = candidates.indexOf(value);
      Path candidatesFile = Files.write(work.resolve("candidates.txt"), candidates, StandardCharsets.US_ASCII);
      material.setProperty("candidates", candidatesFile.toString());
      Path input = work.resolve("guesser.properties");
      try (var out = Files.newBufferedWriter(input, StandardCharsets.UTF_8)) {
        material.store(out, "what an attacker holds");
      }

      Proc guesser = Proc.start("offline-guesser", tether.logDir, Map.of(), List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
          "-cp", System.getProperty("java.class.path"), OfflineGuesser.class.getName(), input.toString()));
      outputs.add(guesser.stdoutFile());
      outputs.add(guesser.stderrFile());
      assertThat(guesser.awaitExit(Duration.ofMinutes(3))).as("guesser exit; stderr: %s", guesser.stderr()).isZero();
      String report = guesser.stdout();
      assertThat(report).contains("candidates: " + candidates.size())
          .contains("fast formula matches: []")
          .contains("argon2id evaluations: " + candidates.size())
          .contains("argon2id public id matches: [" + truth + "]")
          .contains("argon2id server proof matches: [" + truth + "]");

      delegate.terminate();
      assertThat(delegate.awaitExit(Duration.ofSeconds(20))).isZero();
      tether.stopManager();
    } finally {
      tether.close();
    }
    outputs.addAll(tether.capturedOutputs());
    List<String> leaks = new ArrayList<>();
    for (Path file : outputs) {
      String text = Files.exists(file) ? Files.readString(file, StandardCharsets.ISO_8859_1) : "";
      TokenLedger.leaksIn(text).forEach(l -> leaks.add(file.getFileName() + " holds token " + l.substring(0, 8) + "..."));
    }
    try (var files = Files.list(work.resolve("data"))) {
      for (Path db : files.filter(f -> f.toString().endsWith(".db")).toList()) {
        String bytes = new String(Files.readAllBytes(db), StandardCharsets.ISO_8859_1);
        TokenLedger.leaksIn(bytes).forEach(l -> leaks.add("database holds token " + l.substring(0, 8) + "..."));
      }
    }
    assertThat(leaks).as("token values in process outputs or the database").isEmpty();
  }

  /**
   * What anyone who can reach the manager records for a token id without knowing the token: it
   * sends a Begin, and the manager answers with its nonce and its proof before the client proves
   * anything. The channel binding is the hash of the certificate the manager presented.
   */
  private static Properties recordChallenge(int port, String accountId, String publicId) throws Exception {
    ManagedChannel channel = Channels.open(new ManagerEndpoint("127.0.0.1", port, true), null);
    try {
      Begin begin = Begin.newBuilder().setProtocolVersion(HandshakeCrypto.PROTOCOL_VERSION).setAccountId(accountId)
          .setTokenId(publicId).setDelegateName("attacker").setClientNonce(ByteString.copyFrom(randomBytes(32)))
          .build();
      BlockingQueue<Object> events = new LinkedBlockingQueue<>();
      ClientCall<HandshakeRequest, HandshakeResponse> call = channel.newCall(DelegateAuthGrpc.getHandshakeMethod(),
          CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS));
      call.start(new ClientCall.Listener<>() {
        @Override
        public void onMessage(HandshakeResponse message) {
          events.add(message);
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
          events.add(status);
        }
      }, new Metadata());
      call.request(1);
      call.sendMessage(HandshakeRequest.newBuilder().setBegin(begin).build());
      Object reply = events.poll(10, TimeUnit.SECONDS);
      assertThat(reply).as("the manager's answer to Begin").isInstanceOf(HandshakeResponse.class);
      Challenge challenge = ((HandshakeResponse) reply).getChallenge();
      SSLSession tls = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
      byte[] binding = HandshakeCrypto.channelBinding(tls.getPeerCertificates()[0].getEncoded());
      call.cancel("the attacker has what it came for", null);

      BaseEncoding hex = BaseEncoding.base16().lowerCase();
      Properties material = new Properties();
      material.setProperty("account_id", accountId);
      material.setProperty("token_id", publicId);
      material.setProperty("delegate_name", begin.getDelegateName());
      material.setProperty("client_nonce", hex.encode(begin.getClientNonce().toByteArray()));
      material.setProperty("server_nonce", hex.encode(challenge.getServerNonce().toByteArray()));
      material.setProperty("server_proof", hex.encode(challenge.getServerProof().toByteArray()));
      material.setProperty("channel_binding", hex.encode(binding));
      return material;
    } finally {
      channel.shutdownNow();
    }
  }

  private static byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    RANDOM.nextBytes(bytes);
    return bytes;
  }
}
