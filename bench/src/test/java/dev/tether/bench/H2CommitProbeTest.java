package dev.tether.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.manager.store.JdbcStore;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The floor of H2's durable commit: real commits into a real H2 file on the manager's settings. */
class H2CommitProbeTest {

  @TempDir Path dir;

  @Test
  void millis_timesEveryMeasuredCommit_andEveryCommitIsInTheFile() throws Exception {
    double[] millis = H2CommitProbe.millis(dir.resolve("probe"), 5, 20);

    assertThat(millis).hasSize(20);
    assertThat(millis[0]).as("the fastest commit").isPositive();
    for (int i = 1; i < millis.length; i++) {
      assertThat(millis[i]).as("sorted").isGreaterThanOrEqualTo(millis[i - 1]);
    }
    // reopened from the file: the warm-up's and the measured commits all happened
    try (Connection c = DriverManager.getConnection(JdbcStore.h2Url(dir.resolve("probe")), "probe", "");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT commits FROM probe WHERE id = 1")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getLong(1)).isEqualTo(25);
    }
  }
}
