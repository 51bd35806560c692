package dev.tether.manager.rotation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.manager.auth.DelegateIdentity;
import dev.tether.manager.revocation.LiveStream;
import dev.tether.manager.revocation.RevocationRegistry;
import dev.tether.manager.testing.IdleServerCall;
import dev.tether.manager.token.MasterKey;
import dev.tether.proto.delegate.v1.DelegateStreamGrpc;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The streams a rotation hands its successor to: a token's set holds exactly its live streams, also
 * while streams of the token join and leave at the same time, and a token with none keeps nothing.
 */
class RotationStreamSetTest {

  private static final long TOKEN_ROW = 7;
  private static final DelegateIdentity IDENTITY =
      new DelegateIdentity("acct", TOKEN_ROW, "tid_aaaaaaaaaaaaaaaa", "default", "d");

  private final RevocationRegistry registry = new RevocationRegistry();
  private final RotationService rotations =
      new RotationService(null, null, MasterKey.ephemeral(), Clock.systemUTC(), RotationTiming.defaults());
  private final ExecutorService threads = Executors.newFixedThreadPool(4);
  /** Streams found missing from their token's set right after registering. */
  private final AtomicInteger lost = new AtomicInteger();

  @AfterEach
  void stop() {
    threads.shutdownNow();
  }

  private LiveStream open(int n) {
    LiveStream live = registry.register(new IdleServerCall(DelegateStreamGrpc.getConnectMethod()), TOKEN_ROW,
        "tid_aaaaaaaaaaaaaaaa", null, "stream " + n);
    RotationService.Stream stream = rotations.registered(live, IDENTITY, "d-" + n, null, message -> { });
    if (!rotations.streamsOf(TOKEN_ROW).contains(stream)) {
      lost.incrementAndGet();
    }
    return live;
  }

  @Test
  void aTokensSetHoldsItsLiveStreamsAndIsDroppedWithTheLast() {
    LiveStream first = open(1);
    LiveStream second = open(2);
    assertThat(rotations.streamsOf(TOKEN_ROW)).hasSize(2);

    registry.unregister(first);
    assertThat(rotations.streamsOf(TOKEN_ROW)).hasSize(1);

    registry.unregister(second);
    registry.unregister(second);
    assertThat(rotations.streamsOf(TOKEN_ROW)).isEmpty();
    assertThat(rotations.tokensWithStreams()).isZero();
  }

  /**
   * Four threads each open and end streams of one token, over and over, so that the set is emptied
   * and dropped while another stream joins it; each keeps its last stream open. A stream that joined
   * a set then dropped would be missing from the token's set: each looks right after joining, and the
   * four kept open are looked for at the end.
   */
  @Test
  void aStreamJoiningWhileTheLastLeavesIsNeverLost() throws Exception {
    int rounds = 20_000;
    CyclicBarrier start = new CyclicBarrier(4);
    List<Future<LiveStream>> kept = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      int thread = t;
      kept.add(threads.submit(() -> {
        start.await();
        for (int i = 0; i < rounds; i++) {
          registry.unregister(open(thread * rounds + i));
        }
        return open(-1 - thread);
      }));
    }
    List<LiveStream> live = new ArrayList<>();
    for (Future<LiveStream> f : kept) {
      live.add(f.get());
    }

    assertThat(lost).hasValue(0);
    assertThat(rotations.streamsOf(TOKEN_ROW)).hasSize(4);
    live.forEach(registry::unregister);
    assertThat(rotations.streamsOf(TOKEN_ROW)).isEmpty();
    assertThat(rotations.tokensWithStreams()).isZero();
  }
}
