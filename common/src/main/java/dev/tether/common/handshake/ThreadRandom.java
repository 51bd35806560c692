package dev.tether.common.handshake;

import java.security.DrbgParameters;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * One thread's random bytes: a Hash_DRBG of its own (the JDK's {@code DRBG}, SHA-256, 256-bit
 * security strength), so that no handshake waits on another thread's lock for its nonce or its
 * session id. The JDK's default generator on Linux (NativePRNG) is one for the whole process and
 * mixes every caller's bytes under one lock (docs/benchmarks.md).
 *
 * <p>The JDK instantiates it from its own seeding generator, and it takes {@value #SEED_BYTES}
 * bytes of the operating system's entropy at once and again at its first use after every
 * {@link #RESEED_INTERVAL}: a DRBG left to itself never takes fresh entropy, so one copy of its
 * state (a heap dump, a snapshot of the machine) would tell every value it gives until the
 * process ends. A reseed mixes the new bytes into its state; it replaces nothing.
 */
final class ThreadRandom {

  /** How long a generator may give bytes before it takes fresh entropy again. */
  static final Duration RESEED_INTERVAL = Duration.ofSeconds(10);
  static final int SEED_BYTES = 32;

  /** The operating system's entropy: {@code /dev/urandom} where there is one, else the JDK's default. */
  private static final SecureRandom SYSTEM = systemEntropy();

  private final SecureRandom generator;
  private final SecureRandom entropy;
  private final LongSupplier nanoTime;
  private long reseedAt;

  /** A generator for the calling thread, reseeded from the operating system. */
  static ThreadRandom create() {
    return new ThreadRandom(SYSTEM, System::nanoTime);
  }

  /** A generator that takes its fresh entropy from {@code entropy} on the clock {@code nanoTime} (tests). */
  ThreadRandom(SecureRandom entropy, LongSupplier nanoTime) {
    this.entropy = entropy;
    this.nanoTime = nanoTime;
    this.generator = drbg();
    // instantiated by the JDK first (a seed given before that would be its only entropy), then mixed
    generator.nextBytes(new byte[0]);
    reseed();
  }

  void nextBytes(byte[] bytes) {
    if (nanoTime.getAsLong() - reseedAt >= 0) {
      reseed();
    }
    generator.nextBytes(bytes);
  }

  /** The generator itself (tests: its algorithm and strength). */
  SecureRandom generator() {
    return generator;
  }

  private void reseed() {
    byte[] seed = new byte[SEED_BYTES];
    entropy.nextBytes(seed);
    generator.setSeed(seed);
    reseedAt = nanoTime.getAsLong() + RESEED_INTERVAL.toNanos();
  }

  private static SecureRandom drbg() {
    try {
      return SecureRandom.getInstance("DRBG",
          DrbgParameters.instantiation(256, DrbgParameters.Capability.RESEED_ONLY, null));
    } catch (NoSuchAlgorithmException e) {
      // a runtime without the JDK's DRBG (a FIPS provider in its place): its default generator
      return new SecureRandom();
    }
  }

  private static SecureRandom systemEntropy() {
    try {
      return SecureRandom.getInstance("NativePRNGNonBlocking");
    } catch (NoSuchAlgorithmException e) {
      return new SecureRandom();
    }
  }
}
