package dev.tether.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The machine's floor: real fsyncs in a real directory, real loopback round trips, sane summaries. */
class MachineFloorTest {

  @TempDir Path dir;

  @Test
  void percentile_isTheNearestRank() {
    double[] sorted = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    assertThat(MachineFloor.percentile(sorted, 0.50)).isEqualTo(5);
    assertThat(MachineFloor.percentile(sorted, 0.99)).isEqualTo(10);
    assertThat(MachineFloor.percentile(sorted, 0.10)).isEqualTo(1);
    assertThat(MachineFloor.percentile(new double[] {7}, 0.99)).isEqualTo(7);
  }

  @Test
  void measure_takesEverySample_andLeavesNothingBehind() throws Exception {
    MachineFloor floor = MachineFloor.measure(dir, 20, 50);

    assertThat(floor.cores()).isEqualTo(Runtime.getRuntime().availableProcessors());
    assertThat(floor.fsyncs()).isEqualTo(20);
    assertThat(floor.roundTrips()).isEqualTo(50);
    assertThat(floor.fsyncP50Ms()).isPositive().isLessThanOrEqualTo(floor.fsyncP99Ms());
    assertThat(floor.fsyncP99Ms()).isLessThanOrEqualTo(floor.fsyncMaxMs());
    assertThat(floor.loopbackP50Us()).isPositive().isLessThanOrEqualTo(floor.loopbackP99Us());
    try (var left = java.nio.file.Files.list(dir)) {
      assertThat(left).as("the probe file is removed").isEmpty();
    }

    JsonNode json = new ObjectMapper().readTree(floor.json());
    assertThat(json.get("scenario").asText()).isEqualTo("machine");
    assertThat(json.get("fsync_samples").asInt()).isEqualTo(20);
    assertThat(json.get("fsync_4k_p99_ms").asDouble()).isPositive();
    assertThat(json.get("loopback_rtt_p50_us").asDouble()).isPositive();
    assertThat(json.get("fsync_dir").asText()).isEqualTo(dir.toString());
  }
}
