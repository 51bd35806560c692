package dev.tether.manager.auth;

import com.google.common.base.Ticker;
import io.grpc.Status;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;

/**
 * Protects the handshake from floods and brute force: a cap on handshakes in progress, and token
 * buckets of failed handshakes per remote address and per token id. A token whose bucket is
 * empty still accepts handshakes from addresses that recently completed one with it, so an
 * attacker flooding a (public) token id cannot lock out the delegates that hold the token.
 */
public final class HandshakeLimiter {

  /** Limits; see docs/security.md for the reasoning behind the defaults. */
  public record Settings(
      int maxConcurrent,
      double addressBurst,
      double addressPerSecond,
      double tokenBurst,
      double tokenPerSecond,
      Duration trustedAddressTtl,
      int maxTrackedKeys) {

    public static Settings defaults() {
      return new Settings(512, 30, 1.0, 10, 0.2, Duration.ofHours(24), 100_000);
    }
  }

  static final Status TOO_MANY_IN_PROGRESS =
      Status.RESOURCE_EXHAUSTED.withDescription("too many handshakes in progress; retry later");
  static final Status ADDRESS_LIMITED =
      Status.RESOURCE_EXHAUSTED.withDescription("too many failed handshakes from this address; retry later");
  static final Status TOKEN_LIMITED =
      Status.RESOURCE_EXHAUSTED.withDescription("too many failed handshakes for this token; retry later");

  private final Settings settings;
  private final Ticker ticker;
  private final Semaphore inProgress;
  private final Map<String, Bucket> addresses = new ConcurrentHashMap<>();
  private final Map<String, Bucket> tokens = new ConcurrentHashMap<>();
  private final Map<String, Long> trusted = new ConcurrentHashMap<>();

  public HandshakeLimiter(Settings settings, Ticker ticker) {
    this.settings = settings;
    this.ticker = ticker;
    this.inProgress = new Semaphore(settings.maxConcurrent());
  }

  /** At call start: a permit, or the refusal status. Release the permit with {@link #finished}. */
  Status start(String address) {
    if (!inProgress.tryAcquire()) {
      return TOO_MANY_IN_PROGRESS;
    }
    Bucket bucket = addresses.get(address);
    if (bucket != null && !bucket.hasToken(ticker.read())) {
      inProgress.release();
      return ADDRESS_LIMITED;
    }
    return null;
  }

  /** After Begin: whether this token id may be tried from {@code address}. */
  Status checkToken(String tokenKey, String address) {
    Bucket bucket = tokens.get(tokenKey);
    if (bucket == null || bucket.hasToken(ticker.read())) {
      return null;
    }
    Long until = trusted.get(tokenKey + "|" + address);
    return until != null && until - ticker.read() > 0 ? null : TOKEN_LIMITED;
  }

  void failed(String address, String tokenKey) {
    long now = ticker.read();
    bucket(addresses, address, settings.addressBurst(), settings.addressPerSecond()).take(now);
    if (tokenKey != null) {
      bucket(tokens, tokenKey, settings.tokenBurst(), settings.tokenPerSecond()).take(now);
    }
  }

  void succeeded(String address, String tokenKey) {
    if (trusted.size() < settings.maxTrackedKeys()) {
      trusted.put(tokenKey + "|" + address, ticker.read() + settings.trustedAddressTtl().toNanos());
    }
  }

  void finished() {
    inProgress.release();
  }

  /** Forgets buckets that have refilled and trust that has expired; runs on a schedule. */
  public void sweep() {
    long now = ticker.read();
    addresses.values().removeIf(b -> b.full(now));
    tokens.values().removeIf(b -> b.full(now));
    trusted.values().removeIf(until -> until - now <= 0);
  }

  private Bucket bucket(Map<String, Bucket> map, String key, double burst, double perSecond) {
    if (map.size() >= settings.maxTrackedKeys() && !map.containsKey(key)) {
      // under a flood of distinct keys, share one bucket rather than grow without bound
      key = "<overflow>";
    }
    return map.computeIfAbsent(key, k -> new Bucket(burst, perSecond, ticker.read()));
  }

  /** A token bucket refilled lazily from the monotonic clock. */
  private static final class Bucket {
    private final double capacity;
    private final double perNano;
    private double tokens;
    private long last;

    Bucket(double capacity, double perSecond, long now) {
      this.capacity = capacity;
      this.perNano = perSecond / 1e9;
      this.tokens = capacity;
      this.last = now;
    }

    synchronized boolean hasToken(long now) {
      refill(now);
      return tokens >= 1;
    }

    synchronized void take(long now) {
      refill(now);
      tokens = Math.max(0, tokens - 1);
    }

    synchronized boolean full(long now) {
      refill(now);
      return tokens >= capacity;
    }

    private void refill(long now) {
      tokens = Math.min(capacity, tokens + (now - last) * perNano);
      last = now;
    }
  }
}
