package dev.tether.manager.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.manager.testing.IdleServerCall;
import dev.tether.proto.admin.v1.TokenAdminGrpc;
import dev.tether.proto.delegate.v1.DelegateAuthGrpc;
import dev.tether.proto.delegate.v1.DelegateStreamGrpc;
import io.grpc.Metadata;
import io.grpc.health.v1.HealthGrpc;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class StreamCallsTest {

  @Test
  void delegateStreamCalls_runOnThePool_everyOtherCallOnGrpcsDefaultExecutor() {
    try (StreamCalls streams = StreamCalls.create()) {
      var executors = streams.executors();
      assertThat(executors.getExecutor(new IdleServerCall(DelegateStreamGrpc.getConnectMethod()), new Metadata()))
          .isSameAs(streams.pool());
      // the handshake reads the database, the admin API may wait for other replicas: a thread each
      assertThat(executors.getExecutor(new IdleServerCall(DelegateAuthGrpc.getHandshakeMethod()), new Metadata()))
          .isNull();
      assertThat(executors.getExecutor(new IdleServerCall(TokenAdminGrpc.getRevokeTokenMethod()), new Metadata()))
          .isNull();
      assertThat(executors.getExecutor(new IdleServerCall(HealthGrpc.getCheckMethod()), new Metadata())).isNull();
    }
  }

  @Test
  void handlersWaitingOnAFuture_getSpareThreads_soThatMoreWaitersThanThreadsAllGoOn() throws Exception {
    // as Registers waiting for their group commit: each waits until all have arrived, which two
    // threads alone could never see
    int waiters = 12;
    AtomicInteger arrived = new AtomicInteger();
    CompletableFuture<Void> everyoneHere = new CompletableFuture<>();
    CountDownLatch wentOn = new CountDownLatch(waiters);
    List<String> threads = new ArrayList<>();
    try (StreamCalls streams = StreamCalls.withThreads(2)) {
      for (int i = 0; i < waiters; i++) {
        streams.pool().execute(() -> {
          synchronized (threads) {
            threads.add(Thread.currentThread().getName());
          }
          if (arrived.incrementAndGet() == waiters) {
            everyoneHere.complete(null);
          }
          everyoneHere.join();
          wentOn.countDown();
        });
      }
      assertThat(wentOn.await(60, TimeUnit.SECONDS)).as("all %d waiters went on", waiters).isTrue();
      assertThat(threads).hasSize(waiters).allMatch(name -> name.startsWith("tether-stream-"));
    }
  }

  @Test
  void close_shutsThePoolDown() {
    StreamCalls streams = StreamCalls.create();
    streams.close();
    assertThat(streams.pool().isShutdown()).isTrue();
  }
}
