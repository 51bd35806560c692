package dev.tether.manager.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.base.Ticker;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class WriteBehindTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  private final List<Map<String, Instant>> written = new ArrayList<>();
  private final AtomicLong nanos = new AtomicLong();
  private final Ticker ticker = new Ticker() {
    @Override
    public long read() {
      return nanos.get();
    }
  };

  /** A store that only records the heartbeat batches it is given. */
  @SuppressWarnings("unchecked")
  private final TetherStore store = (TetherStore) Proxy.newProxyInstance(getClass().getClassLoader(),
      new Class<?>[] {TetherStore.class}, (proxy, method, args) -> {
        if (method.getName().equals("recordHeartbeats")) {
          written.add(Map.copyOf((Map<String, Instant>) args[0]));
        }
        return null;
      });

  private final WriteBehind writeBehind = new WriteBehind(store, ticker, Duration.ofSeconds(30));

  @Test
  void aDelegatesHeartbeatTime_isWrittenAtOnceThenAtMostEvery30s_andNothingIsLost() {
    writeBehind.heartbeat("d1", T0);
    writeBehind.flush();
    assertThat(written.get(0)).containsExactly(Map.entry("d1", T0));

    advance(5);
    writeBehind.heartbeat("d1", T0.plusSeconds(5));
    writeBehind.heartbeat("d2", T0.plusSeconds(5));
    writeBehind.flush();
    // d1 was written 5 s ago: kept back; d2 is new: written
    assertThat(written.get(1)).containsExactly(Map.entry("d2", T0.plusSeconds(5)));

    advance(26);
    writeBehind.flush();
    // 31 s after d1's first write its newest buffered time goes out, though it sent nothing since
    assertThat(written.get(2)).containsExactly(Map.entry("d1", T0.plusSeconds(5)));
  }

  @Test
  void aRegisteredDelegatesFirstHeartbeatTime_waitsForItsTurn_sinceTheRegistrationWroteATime() {
    writeBehind.registered("d1");
    advance(10);
    writeBehind.heartbeat("d1", T0.plusSeconds(10));
    writeBehind.flush();
    assertThat(written).allSatisfy(batch -> assertThat(batch).doesNotContainKey("d1"));

    advance(21);
    writeBehind.flush();
    assertThat(written.get(written.size() - 1)).containsExactly(Map.entry("d1", T0.plusSeconds(10)));
  }

  @Test
  void flushAll_writesEverythingBuffered() {
    writeBehind.heartbeat("d1", T0);
    writeBehind.flush();
    advance(1);
    writeBehind.heartbeat("d1", T0.plusSeconds(1));

    writeBehind.flushAll();

    assertThat(written.get(1)).containsExactly(Map.entry("d1", T0.plusSeconds(1)));
  }

  private void advance(long seconds) {
    nanos.addAndGet(Duration.ofSeconds(seconds).toNanos());
  }
}
