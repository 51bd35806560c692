package dev.tether.manager.auth;

import com.google.common.base.Ticker;
import io.grpc.Status;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Semaphore;

/**
 * Protects the handshake from floods: caps on handshakes in progress (in all, per remote address
 * and per connection, so that no single address or connection can hold the shared cap that other
 * delegates need), and a token bucket of failed handshakes per remote address. A failure is a wrong
 * proof, an unknown account or token, a timeout, or a handshake the client abandoned or cancelled.
 *
 * <p>There is deliberately no per-token refusal: public token ids appear in logs by design, so
 * anyone could empty a token's bucket and lock its delegates out, and a correct proof must never be
 * refused. Guessing a token online is hopeless anyway (256 random bits, or at least 128 estimated
 * bits for an imported one); the address bucket limits what failures cost the manager.
 */
public final class HandshakeLimiter {

  /** Limits; see docs/security.md for the reasoning behind the defaults. */
  public record Settings(
      int maxConcurrent,
      int maxConcurrentPerAddress,
      int maxConcurrentPerConnection,
      double addressBurst,
      double addressPerSecond,
      int maxTrackedKeys) {

    public static Settings defaults() {
      return new Settings(512, 64, 4, 30, 1.0, 100_000);
    }

    public Settings withMaxConcurrent(int value) {
      return new Settings(value, maxConcurrentPerAddress, maxConcurrentPerConnection, addressBurst,
          addressPerSecond, maxTrackedKeys);
    }

    public Settings withMaxConcurrentPerAddress(int value) {
      return new Settings(maxConcurrent, value, maxConcurrentPerConnection, addressBurst, addressPerSecond,
          maxTrackedKeys);
    }

    public Settings withMaxConcurrentPerConnection(int value) {
      return new Settings(maxConcurrent, maxConcurrentPerAddress, value, addressBurst, addressPerSecond,
          maxTrackedKeys);
    }

    public Settings withFailuresPerAddress(double burst, double perSecond) {
      return new Settings(maxConcurrent, maxConcurrentPerAddress, maxConcurrentPerConnection, burst, perSecond,
          maxTrackedKeys);
    }
  }

  static final Status TOO_MANY_IN_PROGRESS =
      Status.RESOURCE_EXHAUSTED.withDescription("too many handshakes in progress; retry later");
  static final Status TOO_MANY_FROM_ADDRESS =
      Status.RESOURCE_EXHAUSTED.withDescription("too many handshakes in progress from this address; retry later");
  static final Status TOO_MANY_ON_CONNECTION =
      Status.RESOURCE_EXHAUSTED.withDescription("too many handshakes in progress on this connection; retry later");
  static final Status ADDRESS_LIMITED =
      Status.RESOURCE_EXHAUSTED.withDescription("too many failed handshakes from this address; retry later");

  private final Settings settings;
  private final Ticker ticker;
  private final Semaphore inProgress;
  private final ConcurrentMap<String, Integer> perAddress = new ConcurrentHashMap<>();
  private final ConcurrentMap<ConnectionKey, Integer> perConnection = new ConcurrentHashMap<>();
  private final Map<String, Bucket> failures = new ConcurrentHashMap<>();

  public HandshakeLimiter(Settings settings, Ticker ticker) {
    this.settings = settings;
    this.ticker = ticker;
    this.inProgress = new Semaphore(settings.maxConcurrent());
  }

  /**
   * A connection ({@link TransportInfo#connection()}) as a key of the counts: the same object, never
   * an equal one (two connections' attributes can be equal, see {@link TransportInfo}).
   */
  private record ConnectionKey(Object connection) {
    @Override
    public boolean equals(Object other) {
      return other instanceof ConnectionKey key && key.connection == connection;
    }

    @Override
    public int hashCode() {
      return System.identityHashCode(connection);
    }
  }

  /** A handshake admitted by {@link #start}; {@link #release} it exactly once when it ends. */
  final class Permit {
    private final String address;
    private final ConnectionKey connection;
    private boolean released;

    private Permit(String address, ConnectionKey connection) {
      this.address = address;
      this.connection = connection;
    }

    synchronized void release() {
      if (released) {
        return;
      }
      released = true;
      decrement(perConnection, connection);
      decrement(perAddress, address);
      inProgress.release();
    }
  }

  /** Thrown by {@link #start} with the status the handshake is refused with. */
  static final class Refused extends Exception {
    private static final long serialVersionUID = 1L;
    private final transient Status status;

    Refused(Status status) {
      super(status.getDescription(), null, false, false);
      this.status = status;
    }

    Status status() {
      return status;
    }
  }

  /**
   * At call start: a permit, or {@link Refused}. The address's failure bucket is checked first, so
   * an address that keeps failing takes no share of the caps; then the caps per connection, per
   * address and in all, each of which leaves room for the others.
   */
  Permit start(String address, Object transportConnection) throws Refused {
    ConnectionKey connection = new ConnectionKey(transportConnection);
    Bucket bucket = failures.get(address);
    if (bucket != null && !bucket.hasToken(ticker.read())) {
      throw new Refused(ADDRESS_LIMITED);
    }
    if (!increment(perConnection, connection, settings.maxConcurrentPerConnection())) {
      throw new Refused(TOO_MANY_ON_CONNECTION);
    }
    if (!increment(perAddress, address, settings.maxConcurrentPerAddress())) {
      decrement(perConnection, connection);
      throw new Refused(TOO_MANY_FROM_ADDRESS);
    }
    if (!inProgress.tryAcquire()) {
      decrement(perAddress, address);
      decrement(perConnection, connection);
      throw new Refused(TOO_MANY_IN_PROGRESS);
    }
    return new Permit(address, connection);
  }

  /** Counts one failed handshake against {@code address}. */
  void failed(String address) {
    String key = address;
    if (failures.size() >= settings.maxTrackedKeys() && !failures.containsKey(key)) {
      // under a flood from many distinct addresses, share one bucket rather than grow without bound
      key = "<overflow>";
    }
    failures.computeIfAbsent(key, k -> new Bucket(settings.addressBurst(), settings.addressPerSecond(), ticker.read()))
        .take(ticker.read());
  }

  /** Handshakes in progress now, in all. */
  int inProgress() {
    return settings.maxConcurrent() - inProgress.availablePermits();
  }

  /** Forgets buckets that have refilled; runs on a schedule. */
  public void sweep() {
    long now = ticker.read();
    failures.values().removeIf(b -> b.full(now));
  }

  private static <K> boolean increment(ConcurrentMap<K, Integer> counts, K key, int max) {
    boolean[] admitted = {false};
    counts.compute(key, (k, n) -> {
      int current = n == null ? 0 : n;
      if (current >= max) {
        return n;
      }
      admitted[0] = true;
      return current + 1;
    });
    return admitted[0];
  }

  private static <K> void decrement(ConcurrentMap<K, Integer> counts, K key) {
    counts.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
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
