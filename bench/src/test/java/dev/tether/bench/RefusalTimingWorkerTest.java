package dev.tether.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The refusal-timing scenario's processes: a real manager in a {@link BenchServer} JVM of its own,
 * and a {@link RefusalTimingWorker} JVM of its own that gets a Challenge for every kind of Begin,
 * the unknown ones included, across a change of connection, and answers every round's time.
 */
class RefusalTimingWorkerTest {

  @TempDir Path root;

  @Test
  void timingWorker_getsAChallengeForEveryKindOfBegin_fromAManagerInAnotherProcess() throws Exception {
    try (Target manager = Target.start("tether", "tether", root, false, List.of("--open-failure-limits"))) {
      Child timing = manager.startRefusalTimingWorker();

      // 60 rounds: past the worker's change of connection at round 50
      Map<String, String> answer = timing.call("measure 60 6", Duration.ofMinutes(2));

      assertThat(answer.keySet()).containsExactlyElementsOf(RefusalTimingWorker.KINDS);
      for (String kind : RefusalTimingWorker.KINDS) {
        long[] nanos = Arrays.stream(answer.get(kind).split(",")).mapToLong(Long::parseLong).toArray();
        assertThat(nanos).hasSize(60);
        assertThat(Arrays.stream(nanos).min().orElseThrow()).isPositive();
      }
      assertThat(timing.pid()).isNotEqualTo(ProcessHandle.current().pid());
    }
  }
}
