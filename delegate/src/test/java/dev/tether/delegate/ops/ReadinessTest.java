package dev.tether.delegate.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Ready means registered and heartbeating; the clock is the test's. */
class ReadinessTest {

  private final AtomicLong now = new AtomicLong(1_000);
  private final Readiness readiness = new Readiness(now::get);

  private void advance(long seconds) {
    now.addAndGet(TimeUnit.SECONDS.toNanos(seconds));
  }

  @Test
  void notReadyUntilRegistered_thenReadyWhileAcknowledgementsArrive() {
    assertThat(readiness.reason()).contains("not registered: starting");

    readiness.notRegistered("connection refused at 127.0.0.1:7443 (is the manager running?)");
    assertThat(readiness.reason()).contains("not registered: connection refused at 127.0.0.1:7443 (is the manager"
        + " running?)");
    readiness.registered(Duration.ofSeconds(10));
    assertThat(readiness.reason()).isEmpty();
    assertThat(readiness.ready()).isTrue();

    for (int i = 0; i < 10; i++) {
      advance(10);
      readiness.acknowledged();
      assertThat(readiness.ready()).isTrue();
    }
  }

  @Test
  void registeredButNoAcknowledgementForThreeIntervals_isNotReadyAndSaysForHowLong() {
    readiness.registered(Duration.ofSeconds(10));
    advance(30);
    assertThat(readiness.ready()).as("three intervals exactly").isTrue();

    now.addAndGet(1);
    assertThat(readiness.reason()).contains("no heartbeat acknowledged for 30 s (the delegate heartbeats every 10 s"
        + " and the manager acknowledges each)");
    advance(15);
    assertThat(readiness.reason()).contains("no heartbeat acknowledged for 45 s (the delegate heartbeats every 10 s"
        + " and the manager acknowledges each)");

    readiness.acknowledged();
    assertThat(readiness.ready()).isTrue();
  }

  @Test
  void subSecondIntervals_areShownInMilliseconds() {
    readiness.registered(Duration.ofMillis(300));
    advance(2);

    assertThat(readiness.reason()).contains("no heartbeat acknowledged for 2 s (the delegate heartbeats every 300 ms"
        + " and the manager acknowledges each)");
  }

  @Test
  void aStreamThatEnds_isNotReadyWithTheReasonOnOneLine() {
    readiness.registered(Duration.ofSeconds(10));

    readiness.notRegistered("stream to http://m:7443 ended: UNAVAILABLE (a description\r\nwith a line break)");

    assertThat(readiness.reason()).contains("not registered: stream to http://m:7443 ended: UNAVAILABLE (a description"
        + " with a line break)");
  }
}
