package dev.tether.manager.logging;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.base.Ticker;
import dev.tether.manager.logging.RefusalReporter.Refusal;
import dev.tether.manager.testing.LogCapture;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Aggregation of refusals on a ticker the test moves: what is logged and audited, and when. */
class RefusalReporterTest {

  private final AtomicLong nanos = new AtomicLong();
  private final Ticker ticker = new Ticker() {
    @Override
    public long read() {
      return nanos.get();
    }
  };
  private final List<String> audited = new CopyOnWriteArrayList<>();
  private final LogCapture log = new LogCapture(RefusalReporterTest.class);

  @AfterEach
  void detach() {
    log.close();
  }

  private RefusalReporter reporter(int maxTrackedPairs) {
    return new RefusalReporter("test call refused", LoggerFactory.getLogger(RefusalReporterTest.class),
        Duration.ofSeconds(60), maxTrackedPairs, ticker, r -> audited.add(r.describe()));
  }

  private void advance(Duration d) {
    nanos.addAndGet(d.toNanos());
  }

  @Test
  void theFirstRefusalIsReportedAtOnce_andTheRestAsOneCountWhenTheIntervalEnds() {
    RefusalReporter reporter = reporter(100);
    for (int i = 0; i < 518; i++) {
      reporter.report("10.0.0.5", "wrong key", "calling Method" + i);
    }
    assertThat(log.warnings()).containsExactly("test call refused: wrong key from 10.0.0.5 (calling Method0)");
    assertThat(audited).containsExactly("wrong key from 10.0.0.5 (calling Method0)");

    advance(Duration.ofSeconds(59));
    reporter.flush();
    assertThat(log.warnings()).hasSize(1);

    advance(Duration.ofSeconds(1));
    reporter.flush();
    assertThat(log.warnings()).last().isEqualTo("test call refused: 517 more refusals from 10.0.0.5 (wrong key)"
        + " in the last 60 s");
    assertThat(audited).last().isEqualTo("517 more refusals from 10.0.0.5 (wrong key) in the last 60 s");

    // the next interval starts afresh with a line at once
    reporter.report("10.0.0.5", "wrong key", "calling Again");
    assertThat(log.warnings()).hasSize(3).last().isEqualTo("test call refused: wrong key from 10.0.0.5 (calling Again)");
    assertThat(audited).hasSize(3);
  }

  @Test
  void eachSourceAndReasonHasItsOwnLineAndCount_andALoneRefusalHasNoCountLine() {
    RefusalReporter reporter = reporter(100);
    reporter.report("10.0.0.5", "wrong key", "a");
    reporter.report("10.0.0.5", "no key", "b");
    reporter.report("10.0.0.5", "no key", "b");
    reporter.report("10.0.0.6", "wrong key", "c");
    assertThat(log.warnings()).hasSize(3);

    advance(Duration.ofSeconds(61));
    reporter.flush();
    assertThat(log.warnings()).hasSize(4)
        .last().isEqualTo("test call refused: 1 more refusal from 10.0.0.5 (no key) in the last 61 s");
    assertThat(reporter.trackedPairs()).isZero();
  }

  @Test
  void close_reportsTheCountsOfIntervalsStillOpen() {
    RefusalReporter reporter = reporter(100);
    for (int i = 0; i < 10; i++) {
      reporter.report("10.0.0.5", "wrong key", "x");
    }
    advance(Duration.ofSeconds(3));
    reporter.close();
    assertThat(audited).containsExactly("wrong key from 10.0.0.5 (x)", "9 more refusals from 10.0.0.5 (wrong key) in the last 3 s");
  }

  @Test
  void aFloodFromManySources_isTrackedUpToTheCap_andTheRestIsCountedAsOtherSources() {
    RefusalReporter reporter = reporter(50);
    for (int i = 0; i < 100_000; i++) {
      reporter.report("10.0." + (i / 250) + "." + (i % 250), "wrong key", "x");
    }
    assertThat(reporter.trackedPairs()).isEqualTo(50);
    assertThat(log.warnings()).hasSize(51);
    assertThat(log.warnings().get(50)).isEqualTo("test call refused: wrong key from 10.0.0.50 (x); more than 50"
        + " sources refused in this interval, so refusals from further sources are counted together as 'other sources'");

    advance(Duration.ofSeconds(60));
    reporter.flush();
    assertThat(log.warnings()).hasSize(52)
        .last().isEqualTo("test call refused: 99949 more refusals from other sources in the last 60 s");
    assertThat(audited).hasSize(52);
    assertThat(reporter.trackedPairs()).isZero();
  }

  @Test
  void anAuditThatFails_isLogged_andNeverThrownAtTheCaller() {
    RefusalReporter reporter = new RefusalReporter("test call refused", LoggerFactory.getLogger(RefusalReporterTest.class),
        Duration.ofSeconds(60), 10, ticker, r -> {
          throw new IllegalStateException("database down");
        });
    reporter.report("10.0.0.5", "wrong key", "x");
    assertThat(log.warnings()).containsExactly("test call refused: wrong key from 10.0.0.5 (x)",
        "test call refused: could not audit 'wrong key from 10.0.0.5 (x)': java.lang.IllegalStateException: database down");
  }

  @Test
  void describe_readsAsASentence() {
    assertThat(new Refusal("::1", "no key", null, 0, Duration.ZERO).describe()).isEqualTo("no key from ::1");
    assertThat(new Refusal("::1", "no key", null, 2, Duration.ofMillis(400)).describe())
        .isEqualTo("2 more refusals from ::1 (no key) in the last 1 s");
  }
}
