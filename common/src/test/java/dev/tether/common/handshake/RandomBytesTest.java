package dev.tether.common.handshake;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.DrbgParameters;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Session ids, secrets and nonces come from one generator a thread ({@link ThreadRandom}): each must
 * be seeded on its own, or two threads (two handshakes answered at once) would hand out the same
 * values, and each must take fresh entropy while it is used, or one copy of its state would tell
 * every later value.
 */
class RandomBytesTest {

  private static final int THREADS = 16;
  private static final int DRAWS = 8;

  @Test
  void freshThreadsDrawDifferentBytes() throws Exception {
    // a new pool: every thread makes its generator on its first draw, as a manager's new threads do
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      List<Callable<List<String>>> tasks = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        tasks.add(() -> {
          List<String> drawn = new ArrayList<>();
          for (int i = 0; i < DRAWS; i++) {
            drawn.add(HexFormat.of().formatHex(HandshakeCrypto.randomBytes(HandshakeCrypto.KEY_BYTES)));
          }
          return drawn;
        });
      }
      Set<String> all = new HashSet<>();
      Set<String> firsts = new HashSet<>();
      for (Future<List<String>> f : pool.invokeAll(tasks, 60, TimeUnit.SECONDS)) {
        List<String> drawn = f.get();
        firsts.add(drawn.get(0));
        all.addAll(drawn);
      }
      // generators seeded alike would agree on their first draw at least
      assertThat(firsts).as("each thread's first 32 bytes").hasSize(THREADS);
      assertThat(all).as("every draw of every thread").hasSize(THREADS * DRAWS);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void drawsHaveTheLengthAskedForAndVary() {
    for (int n : new int[] {HandshakeCrypto.SESSION_ID_BYTES, HandshakeCrypto.NONCE_BYTES, 1, 1000}) {
      assertThat(HandshakeCrypto.randomBytes(n)).hasSize(n);
    }
    byte[] large = HandshakeCrypto.randomBytes(1000);
    Set<Byte> values = new HashSet<>();
    for (byte b : large) {
      values.add(b);
    }
    // 1 000 uniform bytes take more than 200 of the 256 values with overwhelming probability
    assertThat(values).hasSizeGreaterThan(200);
  }

  @Test
  void eachThreadsGeneratorIsAHashDrbgOf256Bits() {
    SecureRandom generator = ThreadRandom.create().generator();
    assertThat(generator.getAlgorithm()).isEqualTo("DRBG");
    assertThat(generator.getParameters()).isInstanceOfSatisfying(DrbgParameters.Instantiation.class,
        p -> assertThat(p.getStrength()).isEqualTo(256));
    assertThat(generator.toString()).startsWith("Hash_DRBG,SHA-256,256");
  }

  @Test
  void aGeneratorTakesTheSystemsEntropyAtItsStartAndAgainAfterEveryInterval() {
    AtomicInteger taken = new AtomicInteger();
    SecureRandom system = new SecureRandom() {
      @Override
      public void nextBytes(byte[] bytes) {
        taken.incrementAndGet();
        super.nextBytes(bytes);
      }
    };
    AtomicLong now = new AtomicLong(1_000);
    ThreadRandom random = new ThreadRandom(system, now::get);
    assertThat(taken).as("at its start").hasValue(1);
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    now.addAndGet(ThreadRandom.RESEED_INTERVAL.toNanos() - 1);
    random.nextBytes(bytes);
    assertThat(taken).as("within the interval").hasValue(1);
    now.addAndGet(1);
    random.nextBytes(bytes);
    assertThat(taken).as("at the first use after the interval").hasValue(2);
    random.nextBytes(bytes);
    assertThat(taken).as("the interval starts again").hasValue(2);
  }
}
