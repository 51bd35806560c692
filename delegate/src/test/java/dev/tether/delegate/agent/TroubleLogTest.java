package dev.tether.delegate.agent;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** A connection problem is a warning when it appears, changes or has lasted five more minutes; DEBUG otherwise. */
class TroubleLogTest {

  private final Logger logger = (Logger) LoggerFactory.getLogger("tether.test.TroubleLogTest");
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
  private final AtomicLong now = new AtomicLong();
  private final TroubleLog trouble = new TroubleLog(logger, now::get);

  @BeforeEach
  void capture() {
    logger.setLevel(Level.DEBUG);
    appender.start();
    logger.addAppender(appender);
  }

  @AfterEach
  void release() {
    logger.detachAppender(appender);
  }

  private List<String> lines() {
    return appender.list.stream().map(e -> e.getLevel() + " " + e.getFormattedMessage()).toList();
  }

  @Test
  void sameProblem_warnsOnceThenEveryFiveMinutes_andAChangeOrAConnectionWarnsAtOnce() {
    Duration wait = Duration.ofMillis(500);
    trouble.failed("connection refused at m:7443", wait);
    trouble.failed("connection refused at m:7443", wait);
    now.addAndGet(TroubleLog.REPEAT.toNanos() - 1);
    trouble.failed("connection refused at m:7443", wait);
    now.addAndGet(1);
    trouble.failed("connection refused at m:7443", wait);
    trouble.failed("cannot resolve the manager's host name 'm'", wait);
    trouble.clear();
    trouble.failed("cannot resolve the manager's host name 'm'", wait);

    assertThat(lines()).containsExactly(
        "WARN connection refused at m:7443; retrying in 500 ms, then with growing waits (logged again when the cause"
            + " changes, or every 5 minutes)",
        "DEBUG connection refused at m:7443; retrying in 500 ms",
        "DEBUG connection refused at m:7443; retrying in 500 ms",
        "WARN still connection refused at m:7443 (3 more failed attempts); retrying in 500 ms",
        "WARN cannot resolve the manager's host name 'm'; retrying in 500 ms, then with growing waits (logged again"
            + " when the cause changes, or every 5 minutes)",
        "WARN cannot resolve the manager's host name 'm'; retrying in 500 ms, then with growing waits (logged again"
            + " when the cause changes, or every 5 minutes)");
  }
}
