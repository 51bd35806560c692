package dev.tether.manager.revocation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.manager.testing.IdleServerCall;
import dev.tether.proto.delegate.v1.DelegateStreamGrpc;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What runs when a delegate's call is over: every end listener, once, in the order added. */
class LiveStreamEndTest {

  private final RevocationRegistry registry = new RevocationRegistry();
  private final LiveStream live = registry.register(new IdleServerCall(DelegateStreamGrpc.getConnectMethod()), 1,
      "tid_aaaaaaaaaaaaaaaa", null, "a stream");

  @Test
  void everyEndListenerRunsOnceInTheOrderAdded() {
    List<String> ran = new ArrayList<>();
    live.onEnd(s -> ran.add("tracker"));
    live.onEnd(s -> ran.add("rotations"));
    live.onEnd(s -> ran.add("third"));
    live.onEnd(s -> ran.add("fourth"));

    registry.unregister(live);
    registry.unregister(live);

    assertThat(ran).containsExactly("tracker", "rotations", "third", "fourth");
  }

  @Test
  void aListenerAddedOnceTheCallIsOverRunsAtOnce() {
    List<String> ran = new ArrayList<>();
    live.onEnd(s -> ran.add("before"));
    registry.unregister(live);

    live.onEnd(s -> ran.add("after"));

    assertThat(ran).containsExactly("before", "after");
  }
}
