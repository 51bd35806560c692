package dev.tether.manager.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.base.Ticker;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class WriteBehindTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  private final List<Map<String, Instant>> written = new ArrayList<>();
  private final AtomicBoolean failing = new AtomicBoolean();
  private final AtomicLong nanos = new AtomicLong();
  private final Ticker ticker = new Ticker() {
    @Override
    public long read() {
      return nanos.get();
    }
  };

  /** A store that only records the heartbeat batches it is given, or fails them while {@link #failing}. */
  @SuppressWarnings("unchecked")
  private final TetherStore store = (TetherStore) Proxy.newProxyInstance(getClass().getClassLoader(),
      new Class<?>[] {TetherStore.class}, (proxy, method, args) -> {
        if (method.getName().equals("recordHeartbeats")) {
          if (failing.get()) {
            throw new StoreException("the database is away", new java.sql.SQLException("away"));
          }
          written.add(Map.copyOf((Map<String, Instant>) args[0]));
        }
        return null;
      });

  /** The connected delegates, as the tracker's entries keep their times. */
  private final List<Delegate> connected = new CopyOnWriteArrayList<>();
  private final WriteBehind writeBehind = new WriteBehind(store, ticker, Duration.ofSeconds(30),
      action -> connected.forEach(action));

  /** A connected delegate's stream, registered at {@code at} (its registration wrote that time). */
  private final class Delegate implements WriteBehind.Live {
    private final String id;
    private volatile long heartbeatMillis;
    private volatile long writtenMillis;
    private volatile long writtenAt;

    Delegate(String id, Instant registeredAt) {
      this.id = id;
      heartbeatMillis = registeredAt.toEpochMilli();
      written(heartbeatMillis, ticker.read());
      connected.add(this);
    }

    void heartbeat(Instant at) {
      heartbeatMillis = at.toEpochMilli();
    }

    @Override
    public String delegateId() {
      return id;
    }

    @Override
    public long heartbeatMillis() {
      return heartbeatMillis;
    }

    @Override
    public long writtenMillis() {
      return writtenMillis;
    }

    @Override
    public long writtenAt() {
      return writtenAt;
    }

    @Override
    public void written(long millis, long at) {
      writtenMillis = millis;
      writtenAt = at;
    }
  }

  private List<Map<String, Instant>> nonEmpty() {
    return written.stream().filter(batch -> !batch.isEmpty()).toList();
  }

  @Test
  void aConnectedDelegatesHeartbeatTime_waitsForItsTurnAfterItsRegistration_thenIsWrittenAtMostEvery30s() {
    Delegate d1 = new Delegate("d1", T0);
    advance(10);
    d1.heartbeat(T0.plusSeconds(10));
    writeBehind.flush();
    // its registration wrote a time 10 s ago: kept back
    assertThat(nonEmpty()).isEmpty();

    advance(21);
    writeBehind.flush();
    assertThat(nonEmpty()).containsExactly(Map.of("d1", T0.plusSeconds(10)));

    advance(5);
    d1.heartbeat(T0.plusSeconds(36));
    Delegate d2 = new Delegate("d2", T0.plusSeconds(36));
    advance(1);
    d2.heartbeat(T0.plusSeconds(37));
    writeBehind.flush();
    // d1 was written 6 s ago, d2 registered 1 s ago: both kept back
    assertThat(nonEmpty()).hasSize(1);

    advance(30);
    writeBehind.flush();
    // 36 s after d1's write its newest time goes out, though it sent nothing since; d2's too
    assertThat(nonEmpty().get(1)).isEqualTo(Map.of("d1", T0.plusSeconds(36), "d2", T0.plusSeconds(37)));
    advance(31);
    writeBehind.flush();
    assertThat(nonEmpty()).as("nothing new: nothing written again").hasSize(2);
  }

  @Test
  void aTimeThatFailedToWrite_isWrittenAtTheNextFlush_orANewerOneIs() {
    Delegate d1 = new Delegate("d1", T0);
    advance(31);
    d1.heartbeat(T0.plusSeconds(31));
    failing.set(true);
    writeBehind.flush();
    failing.set(false);
    advance(1);
    writeBehind.flush();
    assertThat(nonEmpty()).containsExactly(Map.of("d1", T0.plusSeconds(31)));

    advance(31);
    d1.heartbeat(T0.plusSeconds(63));
    failing.set(true);
    writeBehind.flush();
    failing.set(false);
    d1.heartbeat(T0.plusSeconds(64));
    writeBehind.flush();
    assertThat(nonEmpty().get(1)).isEqualTo(Map.of("d1", T0.plusSeconds(64)));
  }

  @Test
  void theTimeOfAStreamThatEndedBeforeItWasWritten_isWrittenWhenItIsDue_asIfTheStreamWereStillThere() {
    Delegate d1 = new Delegate("d1", T0);
    advance(5);
    d1.heartbeat(T0.plusSeconds(5));
    // its stream ends (a stop closes every stream this way): the tracker hands its time over
    connected.remove(d1);
    writeBehind.ended(d1);
    writeBehind.flush();
    // registered 5 s ago: not due yet, as a stop's last flush leaves it (writing 10 000 such took 5 s)
    assertThat(nonEmpty()).isEmpty();

    advance(26);
    writeBehind.flush();
    assertThat(nonEmpty()).containsExactly(Map.of("d1", T0.plusSeconds(5)));
    advance(31);
    writeBehind.flush();
    assertThat(nonEmpty()).as("written once").hasSize(1);
  }

  @Test
  void anOlderTimeHandedOverAfterANewerOne_doesNotGoBackInTime_andFlushAllWritesIt() {
    Delegate newer = new Delegate("d1", T0);
    Delegate older = new Delegate("d1", T0);
    newer.heartbeat(T0.plusSeconds(6));
    older.heartbeat(T0.plusSeconds(4));
    connected.clear();
    writeBehind.ended(newer);
    writeBehind.ended(older);

    writeBehind.flushAll();

    assertThat(nonEmpty()).containsExactly(Map.of("d1", T0.plusSeconds(6)));
  }

  @Test
  void aStreamThatEndsWithNothingUnwritten_leavesNothingBehind() {
    Delegate d1 = new Delegate("d1", T0);
    connected.remove(d1);
    writeBehind.ended(d1);

    writeBehind.flushAll();

    assertThat(nonEmpty()).isEmpty();
  }

  @Test
  void twoStreamsOfOneDelegate_writeTheLaterTime() {
    // the new stream is met first: the old one's earlier time must not replace its time
    Delegate back = new Delegate("d1", T0.plusSeconds(2));
    Delegate old = new Delegate("d1", T0);
    old.heartbeat(T0.plusSeconds(1));
    back.heartbeat(T0.plusSeconds(3));

    writeBehind.flushAll();

    assertThat(nonEmpty()).containsExactly(Map.of("d1", T0.plusSeconds(3)));
  }

  @Test
  void flushAll_writesEverythingBuffered() {
    Delegate d1 = new Delegate("d1", T0);
    advance(1);
    d1.heartbeat(T0.plusSeconds(1));

    writeBehind.flushAll();

    assertThat(nonEmpty()).containsExactly(Map.of("d1", T0.plusSeconds(1)));
  }

  private void advance(long seconds) {
    nanos.addAndGet(Duration.ofSeconds(seconds).toNanos());
  }
}
