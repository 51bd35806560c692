package dev.tether.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.common.testing.TokenLedger;
import dev.tether.common.token.DelegateToken;
import dev.tether.manager.admin.AdminCredentials;
import dev.tether.proto.admin.v1.CreateTokenRequest;
import dev.tether.proto.admin.v1.ListTokensRequest;
import dev.tether.proto.admin.v1.Token;
import dev.tether.proto.admin.v1.TokenAdminGrpc;
import dev.tether.proto.admin.v1.TokenStatus;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kill -9 of the manager process at the worst moments: nothing that was acknowledged is lost. */
class CrashDurabilityTest {

  @TempDir Path work;

  @Test
  void killRightAfterRevokeReturns_theTokenIsStillRevokedAndItsDelegatesCannotReconnect() {
    try (Tether tether = new Tether(work.resolve("data"), "CrashDurabilityTest-revoke").start()) {
      String account = tether.account("crash-acct");
      String token = tether.token(account, "victim");
      Proc delegate = tether.delegate("victim-1", tether.env(account, token));
      delegate.awaitLine("connected to", Duration.ofSeconds(60));

      tether.cli("token", "revoke", "--account", account, "--name", "victim").ok();
      tether.manager().kill();

      assertThat(delegate.awaitExit(Duration.ofSeconds(20))).isEqualTo(78);
      tether.start();
      assertThat(tether.cli("token", "list", "--account", account).ok().out())
          .containsPattern("victim\\s+tid_\\w+\\s+REVOKED");
      Proc again = tether.delegate("victim-2", tether.env(account, token));
      assertThat(again.awaitExit(Duration.ofSeconds(60))).isEqualTo(78);
      assertThat(again.stderr()).contains("the manager rejected token");
    }
  }

  @Test
  void killDuringABurstOfCreates_everyCreateThatReturnedIsThereAfterRestart() throws Exception {
    try (Tether tether = new Tether(work.resolve("data"), "CrashDurabilityTest-burst").start()) {
      String account = tether.account("burst-acct");
      ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", tether.adminPort(),
          TlsChannelCredentials.newBuilder().trustManager(tether.dataDir.resolve("tls/manager.crt").toFile()).build()).build();
      AdminCredentials admin = new AdminCredentials(Files.readString(tether.dataDir.resolve("admin.key")).strip());
      Set<String> acknowledged = ConcurrentHashMap.newKeySet();
      CountDownLatch enough = new CountDownLatch(150);
      List<Thread> writers = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int writer = t;
        Thread thread = new Thread(() -> {
          for (int i = 0; ; i++) {
            String name = "burst-" + writer + "-" + i;
            try {
              var response = TokenAdminGrpc.newBlockingStub(channel).withCallCredentials(admin)
                  .withDeadlineAfter(10, TimeUnit.SECONDS)
                  .createToken(CreateTokenRequest.newBuilder().setAccountId(account).setName(name).build());
              TokenLedger.record(DelegateToken.parse("created", response.getValue()));
              acknowledged.add(name);
              enough.countDown();
            } catch (StatusRuntimeException e) {
              return;
            }
          }
        });
        thread.start();
        writers.add(thread);
      }
      assertThat(enough.await(60, TimeUnit.SECONDS)).isTrue();
      tether.manager().kill();
      for (Thread writer : writers) {
        writer.join(30_000);
      }
      channel.shutdownNow();
      int acknowledgedAtKill = acknowledged.size();

      tether.start();
      ManagedChannel after = Grpc.newChannelBuilderForAddress("127.0.0.1", tether.adminPort(),
          TlsChannelCredentials.newBuilder().trustManager(tether.dataDir.resolve("tls/manager.crt").toFile()).build()).build();
      try {
        List<Token> stored = TokenAdminGrpc.newBlockingStub(after).withCallCredentials(admin)
            .withDeadlineAfter(30, TimeUnit.SECONDS)
            .listTokens(ListTokensRequest.newBuilder().setAccountId(account).build()).getTokensList();
        Set<String> names = stored.stream().map(Token::getName).collect(Collectors.toSet());
        System.out.printf("kill -9 during a burst: %d creates acknowledged, %d tokens stored after restart%n",
            acknowledgedAtKill, stored.size() - 1);
        assertThat(names).containsAll(acknowledged);
        assertThat(stored).allSatisfy(t -> assertThat(t.getStatus()).isEqualTo(TokenStatus.ACTIVE));
      } finally {
        after.shutdownNow();
      }
    }
  }
}
