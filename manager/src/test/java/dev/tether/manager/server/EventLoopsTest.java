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
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class EventLoopsTest {

  @Test
  void delegateStreamCalls_runOnTheStreamPool_everyOtherCallOnGrpcsDefaultExecutor() {
    try (EventLoops loops = EventLoops.create()) {
      var supplier = loops.streamCalls();
      assertThat(supplier.getExecutor(new IdleServerCall(DelegateStreamGrpc.getConnectMethod()), new Metadata()))
          .isSameAs(loops.streams());
      // the handshake reads the database, the admin API may wait for other replicas: a thread each
      assertThat(supplier.getExecutor(new IdleServerCall(DelegateAuthGrpc.getHandshakeMethod()), new Metadata()))
          .isNull();
      assertThat(supplier.getExecutor(new IdleServerCall(TokenAdminGrpc.getRevokeTokenMethod()), new Metadata()))
          .isNull();
      assertThat(supplier.getExecutor(new IdleServerCall(HealthGrpc.getCheckMethod()), new Metadata())).isNull();
    }
  }

  @Test
  void handlersWaitingOnAFuture_getSpareThreads_soThatMoreWaitersThanThreadsAllGoOn() throws Exception {
    // as Registers waiting for their group commit: each waits until all have arrived, which two
    // threads alone could never see
    ForkJoinPool pool = EventLoops.streamPool(2);
    int waiters = 12;
    AtomicInteger arrived = new AtomicInteger();
    CompletableFuture<Void> everyoneHere = new CompletableFuture<>();
    CountDownLatch wentOn = new CountDownLatch(waiters);
    List<String> threads = new ArrayList<>();
    for (int i = 0; i < waiters; i++) {
      pool.execute(() -> {
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
    try {
      assertThat(wentOn.await(60, TimeUnit.SECONDS)).as("all %d waiters went on", waiters).isTrue();
      assertThat(threads).hasSize(waiters).allMatch(name -> name.startsWith("tether-stream-"));
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void close_shutsTheStreamPoolDown() {
    EventLoops loops = EventLoops.create();
    loops.close();
    assertThat(loops.streams().isShutdown()).isTrue();
  }
}
