package dev.tether.bench;

import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.Backoff;
import dev.tether.delegate.connect.Channels;
import dev.tether.delegate.connect.HandshakeClient;
import dev.tether.delegate.connect.SessionCredentials;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * A load-generator process: simulated delegates, each with its own TLS connection from one of 50
 * source addresses 127.0.(10 + worker).1..50, one delegate stream, and heartbeats at an aggregate
 * rate the driver sets. Against {@code tether} (and {@code protocol}, the protocol's floor) each
 * delegate authenticates with the handshake and signs its calls like the real delegate; against
 * {@code baseline} it opens the stream bare.
 *
 * <p>Commands on stdin, one answer each on stdout: {@code open N}, {@code rate PER_SECOND}
 * (0 stops), {@code every SECONDS} (each delegate, those still opening included, once per
 * period), {@code stats} (counts and the ack round-trip histogram since the last stats),
 * {@code connected}, {@code arrivals} (wall-clock ms of registrations since the last call),
 * {@code failures} (failed attempts to come back, by cause, since the last call) and {@code close}. With {@code reconnect}, a delegate whose stream ends comes back the way
 * {@code DelegateAgent} does: the same channel (connected at once with {@link Channels#connectNow}), a new handshake,
 * {@link Backoff} with full jitter.
 */
public final class LoadWorker {

  private static final int OPENING_THREADS = 32;
  private static final int RING = 64;

  private final boolean tether;
  private final int worker;
  private final boolean reconnect;
  private final ChannelCredentials credentials;
  private final int port;
  private final String accountId;
  private final DelegateToken token;
  private final HandshakeClient handshakes = new HandshakeClient(Duration.ofSeconds(15));
  /**
   * Attempts in progress at once. Real delegates are separate processes that all try at once; an
   * attempt holds its thread while it waits for its connection, so the pool must not be what
   * paces the herd.
   */
  private static final int ATTEMPT_THREADS = 512;
  private final ExecutorService connecting = Executors.newFixedThreadPool(ATTEMPT_THREADS);
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  private final List<Sim> all = new ArrayList<>();
  private volatile Sim[] snapshot = new Sim[0];
  private volatile boolean closing;

  private final Recorder roundTrips = new Recorder(3);
  private final LongAdder sent = new LongAdder();
  private final LongAdder acked = new LongAdder();
  private final LongAdder dropped = new LongAdder();
  private final ConcurrentLinkedQueue<Long> arrivals = new ConcurrentLinkedQueue<>();
  /** Failed attempts to come back, by cause, since the last {@code failures} command. */
  private final java.util.concurrent.ConcurrentHashMap<String, LongAdder> failures = new java.util.concurrent.ConcurrentHashMap<>();
  /** Heartbeats per second in all, or, when {@link #every} is set, one per delegate every that many seconds. */
  private volatile double rate;
  private volatile double every;

  /** One simulated delegate. */
  private final class Sim {
    final String name;
    final ManagedChannel channel;
    final Backoff backoff = new Backoff();
    final long[] sentAt = new long[RING];
    volatile StreamClient stream;
    long sequence;

    Sim(String name, ManagedChannel channel) {
      this.name = name;
      this.channel = channel;
    }
  }

  private LoadWorker(String kind, int port, Path dir, int worker, boolean reconnect) throws Exception {
    // the protocol's floor speaks the manager's wire: the same handshake and signed stream
    this.tether = !kind.equals("baseline");
    this.port = port;
    this.worker = worker;
    this.reconnect = reconnect;
    this.credentials = TlsChannelCredentials.newBuilder().trustManager(dir.resolve("tls/manager.crt").toFile()).build();
    if (tether) {
      accountId = BenchServer.account(dir);
      token = BenchServer.token(dir);
    } else {
      accountId = null;
      token = null;
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 4 || !List.of("tether", "baseline", "protocol").contains(args[0])) {
      System.err.println("usage: LoadWorker tether|baseline|protocol PORT DATA_DIR WORKER [reconnect]");
      System.exit(2);
    }
    LoadWorker w = new LoadWorker(args[0], Integer.parseInt(args[1]), Path.of(args[2]), Integer.parseInt(args[3]),
        args.length > 4 && args[4].equals("reconnect"));
    Thread sender = new Thread(w::sendHeartbeats, "heartbeats");
    sender.setDaemon(true);
    sender.start();
    BenchServer.answer(w::handle);
    w.close();
    System.exit(0);
  }

  private String handle(String[] words) throws Exception {
    return switch (words[0]) {
      case "open" -> open(Integer.parseInt(words[1]));
      case "rate" -> {
        every = 0;
        rate = Double.parseDouble(words[1]);
        yield "rate=" + rate;
      }
      case "every" -> {
        every = Double.parseDouble(words[1]);
        yield "every=" + every;
      }
      case "stats" -> stats();
      case "connected" -> "connected=" + connected();
      case "arrivals" -> {
        List<Long> times = new ArrayList<>();
        for (Long t; (t = arrivals.poll()) != null; ) {
          times.add(t);
        }
        yield "count=" + times.size() + " at=" + times.stream().map(String::valueOf).collect(Collectors.joining(","));
      }
      case "failures" -> {
        StringBuilder out = new StringBuilder("failures=");
        for (String cause : new ArrayList<>(failures.keySet())) {
          long n = failures.remove(cause).sum();
          out.append(cause).append(':').append(n).append(';');
        }
        yield out.toString();
      }
      case "close" -> {
        close();
        yield "closed";
      }
      default -> throw new IllegalArgumentException("unknown command '" + words[0] + "'");
    };
  }

  private long connected() {
    long n = 0;
    for (Sim s : snapshot) {
      if (s.stream != null) {
        n++;
      }
    }
    return n;
  }

  /** Opens {@code count} more delegates, {@value #OPENING_THREADS} at a time; answers when all are in or failed. */
  private String open(int count) throws Exception {
    long started = System.nanoTime();
    List<Future<Boolean>> opening = new ArrayList<>();
    List<Sim> added = new ArrayList<>();
    java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(OPENING_THREADS);
    for (int i = 0; i < count; i++) {
      int index = all.size() + i;
      String from = "127.0." + (10 + worker) + "." + (1 + index % 50);
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port, credentials)
          .localSocketPicker(new NettyChannelBuilder.LocalSocketPicker() {
            @Override
            public SocketAddress createSocketAddress(SocketAddress remote, io.grpc.Attributes attrs) {
              return new InetSocketAddress(from, 0);
            }
          })
          // the real delegate's keepalive (Channels.open)
          .keepAliveTime(Channels.KEEPALIVE_SECONDS, TimeUnit.SECONDS)
          .keepAliveTimeout(Channels.KEEPALIVE_TIMEOUT_SECONDS, TimeUnit.SECONDS)
          .keepAliveWithoutCalls(true)
          .build();
      Sim sim = new Sim("w" + worker + "-" + index, channel);
      added.add(sim);
      if (added.size() % 500 == 0 || i == count - 1) {
        // published before they connect: the ones already in heartbeat while the rest open
        List<Sim> growing = new ArrayList<>(all);
        growing.addAll(added);
        snapshot = growing.toArray(new Sim[0]);
      }
      inFlight.acquire();
      opening.add(connecting.submit(() -> {
        try {
          connect(sim);
          return true;
        } catch (Exception e) {
          return false;
        } finally {
          inFlight.release();
        }
      }));
    }
    int failed = 0;
    for (int i = 0; i < opening.size(); i++) {
      if (!opening.get(i).get(5, TimeUnit.MINUTES)) {
        failed++;
        if (!reconnect) {
          added.get(i).channel.shutdownNow();
          added.set(i, null);
        }
      }
    }
    for (Sim s : added) {
      if (s != null) {
        all.add(s);
      }
    }
    snapshot = all.toArray(new Sim[0]);
    return "opened=" + (count - failed) + " failed=" + failed + " held=" + all.size()
        + " ms=" + (System.nanoTime() - started) / 1_000_000;
  }

  /** Handshake (tether), stream, Register; returns once Registered arrived. */
  private void connect(Sim sim) throws Exception {
    long started = System.currentTimeMillis();
    io.grpc.ConnectivityState state = sim.channel.getState(false);
    long[] phases = {-1, -1};
    try {
      connect(sim, phases);
    } catch (Exception e) {
      trace(sim, started, state, phases, cause(e));
      throw e;
    }
    trace(sim, started, state, phases, "ok");
  }

  /** With -Dtether.bench.trace=true, one line per attempt in the worker's log: when, the channel's state, phases. */
  private static void trace(Sim sim, long started, io.grpc.ConnectivityState state, long[] phases, String outcome) {
    if (TRACE) {
      System.out.println("attempt " + sim.name + " at=" + started + " state=" + state + " handshake_ms=" + phases[0]
          + " register_ms=" + phases[1] + " total_ms=" + (System.currentTimeMillis() - started) + " " + outcome);
    }
  }

  private static final boolean TRACE = Boolean.getBoolean("tether.bench.trace");
  /** As {@code DelegateAgent} waits for a connection before each attempt. */
  private static final Duration CONNECT_WAIT = Duration.ofSeconds(5);

  private void connect(Sim sim, long[] phases) throws Exception {
    long t0 = System.nanoTime();
    Channels.connectNow(sim.channel, CONNECT_WAIT);
    CallCredentials session = tether
        ? new SessionCredentials(handshakes.handshake(sim.channel, accountId, token, sim.name))
        : null;
    long t1 = System.nanoTime();
    phases[0] = (t1 - t0) / 1_000_000;
    StreamClient stream = StreamClient.open(sim.channel, session, Register.newBuilder().setHostname(sim.name).build());
    stream.onAck((sequence, at) -> {
      long rtt = System.nanoTime() - sim.sentAt[(int) (sequence % RING)];
      roundTrips.recordValue(Math.max(1, rtt / 1000));
      acked.increment();
    });
    try {
      stream.registered().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      stream.close();
      throw e;
    }
    phases[1] = (System.nanoTime() - t1) / 1_000_000;
    synchronized (sim) {
      sim.sequence = 0;
      sim.stream = stream;
    }
    sim.backoff.reset();
    arrivals.add(System.currentTimeMillis());
    stream.closed().whenComplete((status, e) -> ended(sim, stream));
  }

  private void ended(Sim sim, StreamClient stream) {
    synchronized (sim) {
      if (sim.stream == stream) {
        sim.stream = null;
      }
    }
    if (closing) {
      return;
    }
    dropped.increment();
    if (reconnect) {
      retryLater(sim);
    }
  }

  private void retryLater(Sim sim) {
    timer.schedule(() -> connecting.execute(() -> {
      try {
        connect(sim);
      } catch (Exception e) {
        if (!closing) {
          failures.computeIfAbsent(cause(e), k -> new LongAdder()).increment();
          retryLater(sim);
        }
      }
    }), sim.backoff.next().toMillis(), TimeUnit.MILLISECONDS);
  }

  /** A short name for why an attempt failed, one word (the driver splits answers on spaces). */
  private static String cause(Throwable e) {
    Throwable t = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e;
    String text;
    if (t instanceof io.grpc.StatusRuntimeException sre) {
      text = sre.getStatus().getCode() + "/" + sre.getStatus().getDescription();
    } else if (t instanceof dev.tether.delegate.connect.HandshakeException he) {
      // the manager's status and its cause, when there is one: the message before them is longer
      // than the cause's limit
      io.grpc.Status status = he.status();
      Throwable why = status == null ? null : status.getCause();
      text = "handshake-" + he.kind() + "/" + (status == null ? he.getMessage()
          : status.getCode() + "/" + status.getDescription()
              + (why == null ? "" : "/" + why.getClass().getSimpleName() + "/" + why.getMessage()));
    } else {
      text = t.getClass().getSimpleName() + "/" + t.getMessage();
    }
    text = text.replaceAll("[0-9]+", "N").replaceAll("[\\s;:=]+", "_");
    return text.length() > 90 ? text.substring(0, 90) : text;
  }

  /** Sends heartbeats round-robin over the delegates at the rate set, catching up when late. */
  private void sendHeartbeats() {
    long changedAt = 0;
    long sentSince = 0;
    double current = 0;
    int next = 0;
    while (true) {
      LockSupport.parkNanos(1_000_000);
      Sim[] sims = snapshot;
      double r = every > 0 ? sims.length / every : rate;
      if (r != current) {
        current = r;
        changedAt = System.nanoTime();
        sentSince = 0;
      }
      if (r <= 0 || sims.length == 0) {
        continue;
      }
      next %= sims.length;
      long due = (long) ((System.nanoTime() - changedAt) / 1e9 * r) - sentSince;
      // never more than a second's worth at once: a stall is not made up in a burst
      for (long i = 0; i < Math.min(due, (long) Math.max(1, r)); i++) {
        Sim sim = sims[next];
        next = (next + 1) % sims.length;
        sentSince++;
        synchronized (sim) {
          StreamClient stream = sim.stream;
          if (stream == null) {
            continue;
          }
          long sequence = ++sim.sequence;
          sim.sentAt[(int) (sequence % RING)] = System.nanoTime();
          if (stream.heartbeat() == sequence) {
            sent.increment();
          }
        }
      }
      if (due > r) {
        sentSince += due - (long) r;
      }
    }
  }

  private String stats() {
    Histogram h = roundTrips.getIntervalHistogram();
    return "sent=" + sent.sumThenReset() + " acked=" + acked.sumThenReset() + " dropped=" + dropped.sumThenReset()
        + " connected=" + connected() + " held=" + snapshot.length
        + " histogram=" + Histograms.encode(h);
  }

  private void close() {
    closing = true;
    every = 0;
    rate = 0;
    for (Sim s : snapshot) {
      s.channel.shutdownNow();
    }
    timer.shutdownNow();
    connecting.shutdownNow();
  }
}
