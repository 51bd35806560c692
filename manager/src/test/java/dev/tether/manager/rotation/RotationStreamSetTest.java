package dev.tether.manager.rotation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.manager.auth.DelegateIdentity;
import dev.tether.manager.auth.SuccessorSealer;
import dev.tether.manager.revocation.LiveStream;
import dev.tether.manager.revocation.RevocationRegistry;
import dev.tether.manager.testing.IdleServerCall;
import dev.tether.manager.token.MasterKey;
import dev.tether.proto.delegate.v1.DelegateStreamGrpc;
import dev.tether.proto.delegate.v1.ManagerMessage;
import java.time.Clock;
import org.junit.jupiter.api.Test;

/**
 * The streams a rotation hands its successor to, found where the revocation registry keeps a
 * token's live calls: exactly the token's streams that registered and whose call is not over, none
 * of another token's, none still registering.
 */
class RotationStreamSetTest {

  private static final long TOKEN_ROW = 7;
  private static final long OTHER_TOKEN_ROW = 8;

  private final RevocationRegistry registry = new RevocationRegistry();
  private final RotationService rotations = new RotationService(null, null, MasterKey.ephemeral(), Clock.systemUTC(),
      RotationTiming.defaults(), registry, Runnable::run);

  /** A stream's state as the stream service makes it: the tracker's entry, and the rotations' stream. */
  private static final class Registered implements RotationService.Stream {
    private final LiveStream live;
    private final DelegateIdentity identity;
    private final String delegateId;
    private RotationService.StreamRotations rotations;

    Registered(LiveStream live, DelegateIdentity identity, String delegateId) {
      this.live = live;
      this.identity = identity;
      this.delegateId = delegateId;
    }

    @Override
    public LiveStream live() {
      return live;
    }

    @Override
    public DelegateIdentity identity() {
      return identity;
    }

    @Override
    public String delegateId() {
      return delegateId;
    }

    @Override
    public SuccessorSealer sealer() {
      return null;
    }

    @Override
    public void send(ManagerMessage message) {
    }

    @Override
    public synchronized RotationService.StreamRotations rotations(boolean create) {
      if (rotations == null && create) {
        rotations = new RotationService.StreamRotations();
      }
      return rotations;
    }
  }

  private LiveStream open(long tokenRow, String name) {
    return registry.register(new IdleServerCall(DelegateStreamGrpc.getConnectMethod()), tokenRow,
        "tid_aaaaaaaaaaaaaaa" + tokenRow, null, name);
  }

  /** Registers {@code live}'s delegate as the tracker does: its state set on the stream. */
  private Registered register(LiveStream live, long tokenRow, String name) {
    Registered state = new Registered(live,
        new DelegateIdentity("acct", tokenRow, "tid_aaaaaaaaaaaaaaa" + tokenRow, "default", name), "dlg_" + name);
    live.trackerEntry(state);
    return state;
  }

  @Test
  void aTokensStreamsAreThoseThatRegistered_untilTheirCallIsOver() {
    LiveStream first = open(TOKEN_ROW, "first");
    LiveStream second = open(TOKEN_ROW, "second");
    LiveStream registering = open(TOKEN_ROW, "registering");
    LiveStream otherToken = open(OTHER_TOKEN_ROW, "other");
    Registered one = register(first, TOKEN_ROW, "first");
    Registered two = register(second, TOKEN_ROW, "second");
    Registered other = register(otherToken, OTHER_TOKEN_ROW, "other");

    assertThat(rotations.streamsOf(TOKEN_ROW)).containsExactlyInAnyOrder(one, two);
    assertThat(rotations.streamsOf(OTHER_TOKEN_ROW)).containsExactly(other);
    assertThat(rotations.streamsOf(99)).isEmpty();

    // the call is over: the registry forgets it (and the tracker clears its entry, as here for the second)
    registry.unregister(first);
    second.clearTrackerEntry(two);
    assertThat(rotations.streamsOf(TOKEN_ROW)).isEmpty();

    // the stream still registering is found once its delegate is registered
    Registered late = register(registering, TOKEN_ROW, "registering");
    assertThat(rotations.streamsOf(TOKEN_ROW)).containsExactly(late);
  }
}
