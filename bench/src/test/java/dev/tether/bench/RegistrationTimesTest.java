package dev.tether.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.tether.manager.metrics.ManagerMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The reconnect scenario reads the manager's registration meters from the scrape the manager really serves. */
class RegistrationTimesTest {

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final ManagerMetrics metrics = new ManagerMetrics(registry);

  @Test
  void twoScrapes_giveTheMeansAndQuantilesOfWhatHappenedBetweenThem() {
    // before: one registration alone, 1 ms queued, a 4 ms commit, 6 ms in all
    metrics.registrationsCommitted(new long[] {ms(1)}, ms(4));
    metrics.registered(ms(6));
    RegistrationTimes before = RegistrationTimes.parse(registry.scrape());

    // between: four registrations in one commit of 20 ms, having waited 100, 200, 300 and 400 ms,
    // then told Registered 130, 230, 330 and 2 000 ms after their Register
    metrics.registrationsCommitted(new long[] {ms(100), ms(200), ms(300), ms(400)}, ms(20));
    for (long total : new long[] {130, 230, 330, 2_000}) {
      metrics.registered(ms(total));
    }
    RegistrationTimes between = RegistrationTimes.parse(registry.scrape()).since(before);

    assertThat(between.count(RegistrationTimes.TOTAL)).isEqualTo(4);
    assertThat(between.meanMs(RegistrationTimes.QUEUED)).isCloseTo(250, within(0.01));
    assertThat(between.meanMs(RegistrationTimes.COMMIT)).isCloseTo(20, within(0.01));
    assertThat(between.meanMs(RegistrationTimes.TOTAL)).isCloseTo(672.5, within(0.01));
    assertThat(between.perCommitMean()).isEqualTo(4);
    // the median's rank (2 of 4) lies in the 100 to 250 ms bucket, which holds 130 and 230: at its top
    assertThat(between.totalQuantileMs(0.5)).isCloseTo(250, within(0.01));
    // the 99th's rank (3.96) lies in the 1 to 2.5 s bucket, holding 2 000 ms alone: 1 000 + 0.96 * 1 500
    assertThat(between.totalQuantileMs(0.99)).isCloseTo(2_440, within(0.01));
  }

  @Test
  void aManagerWithNoRegistration_readsAsNone_notAsZero() {
    RegistrationTimes none = RegistrationTimes.parse(registry.scrape());

    assertThat(none.count(RegistrationTimes.TOTAL)).isZero();
    assertThat(none.meanMs(RegistrationTimes.TOTAL)).isNaN();
    assertThat(none.perCommitMean()).isNaN();
    assertThat(none.totalQuantileMs(0.99)).isNaN();
  }

  @Test
  void aScrapeWithoutTheMeters_isRefusedByName() {
    assertThatThrownBy(() -> RegistrationTimes.parse("process_uptime_seconds 12.0\n"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("tether_registration_duration_seconds");
  }

  private static long ms(long millis) {
    return Duration.ofMillis(millis).toNanos();
  }
}
