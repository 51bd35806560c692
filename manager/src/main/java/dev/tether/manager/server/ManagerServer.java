package dev.tether.manager.server;

import com.google.common.base.Throwables;
import com.google.common.util.concurrent.Uninterruptibles;
import dev.tether.common.ops.OpsMetrics;
import dev.tether.common.ops.OpsServer;
import dev.tether.manager.admin.AdminKey;
import dev.tether.manager.console.ConsoleServer;
import dev.tether.manager.logging.Millis;
import dev.tether.manager.metrics.ManagerMetrics;
import dev.tether.manager.store.JdbcStore;
import dev.tether.manager.store.TetherStore;
import dev.tether.manager.tls.ServerTlsContexts;
import dev.tether.manager.tls.TlsMaterial;
import dev.tether.manager.token.MasterKey;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettySslContextServerCredentials;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The production manager: data directory, store, master and admin keys, TLS, and two Netty gRPC
 * servers by purpose. The delegate listener serves only what delegates need (handshake, stream,
 * health); the admin listener, on loopback unless told otherwise, serves the admin API and
 * reflection, with the same TLS certificate.
 */
public final class ManagerServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ManagerServer.class);
  /** Largest message a client may send; every Tether message is far smaller. */
  public static final int MAX_INBOUND_MESSAGE = 64 * 1024;
  public static final int MAX_INBOUND_METADATA = 8 * 1024;

  /** Calls one admin connection may carry at once. */
  static final int MAX_ADMIN_CALLS_PER_CONNECTION = 20;

  /**
   * What {@code serve} was asked to do. {@code adminListen} null: no admin listener (the admin API is
   * then reachable only in-process). {@code opsListen} null: no ops listener (/metrics, /healthz, /readyz).
   */
  public record Options(
      InetSocketAddress listen, InetSocketAddress adminListen, Path dataDir, String dbUrl, String dbUser,
      String dbPassword, boolean plaintext, Path tlsCert, Path tlsKey, List<String> tlsNames,
      ManagerSettings settings, InetSocketAddress opsListen, InetSocketAddress consoleListen) {

    /** Without a web console. */
    public Options(InetSocketAddress listen, InetSocketAddress adminListen, Path dataDir, String dbUrl,
        String dbUser, String dbPassword, boolean plaintext, Path tlsCert, Path tlsKey, List<String> tlsNames,
        ManagerSettings settings, InetSocketAddress opsListen) {
      this(listen, adminListen, dataDir, dbUrl, dbUser, dbPassword, plaintext, tlsCert, tlsKey, tlsNames, settings,
          opsListen, null);
    }

    /** Without an ops listener. */
    public Options(InetSocketAddress listen, InetSocketAddress adminListen, Path dataDir, String dbUrl,
        String dbUser, String dbPassword, boolean plaintext, Path tlsCert, Path tlsKey, List<String> tlsNames,
        ManagerSettings settings) {
      this(listen, adminListen, dataDir, dbUrl, dbUser, dbPassword, plaintext, tlsCert, tlsKey, tlsNames, settings,
          null);
    }

    public Options withOpsListen(InetSocketAddress value) {
      return new Options(listen, adminListen, dataDir, dbUrl, dbUser, dbPassword, plaintext, tlsCert, tlsKey,
          tlsNames, settings, value, consoleListen);
    }

    /** With the web console on {@code value} (null: none). */
    public Options withConsoleListen(InetSocketAddress value) {
      return new Options(listen, adminListen, dataDir, dbUrl, dbUser, dbPassword, plaintext, tlsCert, tlsKey,
          tlsNames, settings, opsListen, value);
    }
  }

  private final Options options;
  private final Manager manager;
  private final Server server;
  private final Server adminServer;
  private final OpsServer opsServer;
  private final ConsoleServer console;
  private final HealthStatusManager health;
  private final TlsMaterial tls;
  private final Path adminKeyFile;
  private final EventLoops loops;
  /** This process's hold on the data directory, released last. */
  private final DataDirectory.Lock lock;

  private ManagerServer(Options options, Manager manager, Server server, Server adminServer, OpsServer opsServer,
      ConsoleServer console, HealthStatusManager health, TlsMaterial tls, Path adminKeyFile, EventLoops loops, DataDirectory.Lock lock) {
    this.opsServer = opsServer;
    this.loops = loops;
    this.lock = lock;
    this.options = options;
    this.health = health;
    this.manager = manager;
    this.server = server;
    this.adminServer = adminServer;
    this.console = console;
    this.tls = tls;
    this.adminKeyFile = adminKeyFile;
  }

  /** Prepares the data directory, opens the store and starts serving. */
  public static ManagerServer start(Options options) throws IOException {
    Path dataDir = DataDirectory.prepare(options.dataDir());
    DataDirectory.Lock lock = DataDirectory.lock(dataDir);
    try {
      return start(options, dataDir, lock);
    } catch (IOException | RuntimeException | Error e) {
      lock.close();
      throw e;
    }
  }

  private static ManagerServer start(Options options, Path dataDir, DataDirectory.Lock lock) throws IOException {
    // the keys first: a key file that is refused (too open, unreadable) leaves the database untouched
    MasterKey masterKey = MasterKey.loadOrCreate(dataDir.resolve(MasterKey.FILE_NAME));
    AdminKey adminKey = AdminKey.loadOrCreate(dataDir.resolve(AdminKey.FILE_NAME));
    TlsMaterial tls = null;
    if (!options.plaintext()) {
      tls = options.tlsCert() != null
          ? TlsMaterial.of(options.tlsCert(), options.tlsKey())
          : TlsMaterial.loadOrGenerate(dataDir.resolve("tls"), options.tlsNames());
    }
    String url = options.dbUrl() != null ? options.dbUrl() : JdbcStore.h2Url(dataDir);
    // The database opens (H2 or PostgreSQL, Flyway's validation and migrations) on a thread of its
    // own while this one builds what the listeners need (TLS context, meters, event loops): the two
    // halves share nothing, and together they are most of a start. No port is bound before the
    // store is open and the manager built on it has started, so no delegate or admin call is
    // accepted before the store and the revocation state are ready.
    FutureTask<TetherStore> opening = new FutureTask<>(() -> JdbcStore.open(url, options.dbUser(), options.dbPassword()));
    Thread opener = new Thread(opening, "tether-store-open");
    opener.setDaemon(true);
    opener.start();
    PrometheusMeterRegistry registry;
    ManagerMetrics metrics;
    HealthStatusManager health;
    TransportLimits limits = options.settings().transport();
    EventLoops loops = null;
    CallsPerSource openCalls;
    NettyServerBuilder builder;
    NettyServerBuilder admin = null;
    io.netty.handler.ssl.SslContext consoleTls = null;
    try {
      // one TLS context for both gRPC listeners, and the console's, built while the store opens
      ServerCredentials credentials = tls == null ? InsecureServerCredentials.create()
          : NettySslContextServerCredentials.create(ServerTlsContexts.grpc(tls));
      if (tls != null && options.consoleListen() != null) {
        consoleTls = ServerTlsContexts.console(tls);
      }
      registry = OpsMetrics.withJvmAndProcess(OpsMetrics.registry());
      metrics = new ManagerMetrics(registry);
      health = new HealthStatusManager();
      loops = EventLoops.create();
      openCalls = new CallsPerSource(limits.maxOpenCallsPerAddress());
      // nothing listens before build().start()
      builder = common(NettyServerBuilder.forAddress(options.listen(), credentials), loops,
          limits.maxConnectionsPerAddress(), limits.maxConcurrentCallsPerConnection(), options.settings())
          .callExecutor(loops.streams().executors())
          .addService(ServerInterceptors.intercept(health.getHealthService(), openCalls))
          .intercept(metrics.grpcCalls());
      if (options.adminListen() != null) {
        admin = common(NettyServerBuilder.forAddress(options.adminListen(), credentials), loops,
            limits.maxConnectionsPerAddress(), MAX_ADMIN_CALLS_PER_CONNECTION, options.settings())
            .addService(ServerInterceptors.intercept(ProtoReflectionServiceV1.newInstance(), openCalls))
            .intercept(metrics.grpcCalls());
      }
    } catch (IOException | RuntimeException | Error e) {
      if (loops != null) {
        loops.close();
      }
      closeWhenOpen(opening, e);
      throw e;
    }
    TetherStore store;
    Manager manager;
    try {
      store = opened(opening);
    } catch (RuntimeException | Error e) {
      loops.close();
      throw e;
    }
    try {
      DataDirectory.protectDatabaseFiles(dataDir);
      manager = Manager.create(store, masterKey, options.settings(), metrics).start();
      manager.admins().bootstrap(adminKey);
    } catch (IOException | RuntimeException e) {
      store.close();
      loops.close();
      throw e;
    }
    manager.addServicesTo(builder);
    Server server = null;
    Server adminServer = null;
    OpsServer opsServer = null;
    ConsoleServer console = null;
    try {
      server = listen(builder, options.listen(), "the delegate listener");
      if (admin != null) {
        manager.addAdminServicesTo(admin);
        adminServer = listen(admin, options.adminListen(), "the admin listener (--admin-listen)");
      }
      if (options.opsListen() != null) {
        Server delegates = server;
        opsServer = OpsServer.start(options.opsListen(), registry,
            () -> delegates.isShutdown() ? java.util.Optional.of("the delegate listener is stopped") : manager.notReady(),
            "--ops-listen");
      }
      if (options.consoleListen() != null) {
        Server delegates = server;
        console = ConsoleServer.start(options.consoleListen(), manager, consoleTls,
            () -> ((InetSocketAddress) delegates.getListenSockets().get(0)).getPort());
      }
    } catch (IOException | RuntimeException e) {
      if (opsServer != null) {
        opsServer.close();
      }
      if (server != null) {
        server.shutdownNow();
      }
      if (adminServer != null) {
        adminServer.shutdownNow();
      }
      manager.close();
      loops.close();
      throw e;
    }
    manager.cluster().address(describe((InetSocketAddress) server.getListenSockets().get(0)));
    health.setStatus("", ServingStatus.SERVING);
    return new ManagerServer(options, manager, server, adminServer, opsServer, console, health, tls,
        dataDir.resolve(AdminKey.FILE_NAME), loops, lock);
  }

  /** The store {@code opening} opened, once it has; what it threw, as it was thrown. */
  private static TetherStore opened(FutureTask<TetherStore> opening) {
    try {
      return Uninterruptibles.getUninterruptibly(opening);
    } catch (ExecutionException e) {
      Throwables.throwIfUnchecked(e.getCause());
      throw new IllegalStateException("cannot open the database: " + e.getCause(), e.getCause());
    }
  }

  /**
   * After {@code failure} on this thread: waits for the store's opening to end and closes the store
   * it opened; its own failure, if any, is added to {@code failure}.
   */
  private static void closeWhenOpen(FutureTask<TetherStore> opening, Throwable failure) {
    try {
      opened(opening).close();
    } catch (RuntimeException | Error e) {
      failure.addSuppressed(e);
    }
  }

  /** What both listeners share: loops, the per-address connection cap, and the transport limits. */
  private static NettyServerBuilder common(NettyServerBuilder builder, EventLoops loops, int connectionsPerAddress,
      int callsPerConnection, ManagerSettings settings) {
    TransportLimits limits = settings.transport();
    return builder
        .bossEventLoopGroup(loops.boss())
        .workerEventLoopGroup(loops.workers())
        .channelFactory(loops.serverChannels(() -> new ConnectionLimiter(connectionsPerAddress)))
        .maxConcurrentCallsPerConnection(callsPerConnection)
        // HTTP/2 rapid reset (CVE-2023-44487): a client that resets streams faster than this gets GOAWAY
        .maxRstFramesPerWindow(limits.maxRstFrames(), limits.rstWindowSeconds())
        .maxInboundMessageSize(MAX_INBOUND_MESSAGE)
        .maxInboundMetadataSize(MAX_INBOUND_METADATA)
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .keepAliveTime(30, TimeUnit.SECONDS)
        .keepAliveTimeout(10, TimeUnit.SECONDS)
        // a connection that opens TLS and goes quiet is dropped; so is one left without calls
        .handshakeTimeout(settings.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .maxConnectionIdle(2, TimeUnit.MINUTES);
  }

  private static Server listen(NettyServerBuilder builder, InetSocketAddress address, String what)
      throws IOException {
    try {
      return builder.build().start();
    } catch (IOException e) {
      throw new IOException("cannot listen on " + describe(address) + " for " + what + ": "
          + bindFailure(e) + " (is another manager or program using this port? Choose another with "
          + (what.contains("admin") ? "--admin-listen" : "--listen") + ")", e);
    }
  }

  /** The root cause of a bind failure in a few words, such as "Address already in use". */
  private static String bindFailure(IOException e) {
    Throwable cause = e;
    while (cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
  }

  /** The lines {@code serve} prints at start. */
  public List<String> banner() {
    Path dataDir = options.dataDir().toAbsolutePath().normalize();
    String url = options.dbUrl() != null ? redact(options.dbUrl()) : "embedded H2 in " + dataDir.resolve("tether.mv.db");
    String mode = tls == null ? " (PLAINTEXT)" : " (TLS)";
    return List.of(
        "tether-manager listening on " + describe(listenAddress()) + mode + " for delegates",
        adminServer == null
            ? "admin API: no listener (--admin-listen off)"
            : "admin API and reflection on " + describe(adminAddress()) + mode,
        opsServer == null
            ? "metrics and health: no listener (--ops-listen off)"
            : "metrics and health (/metrics, /healthz, /readyz) on http://" + describe(opsAddress()),
        console == null
            ? "web console: off (--console-listen off)"
            : "web console on " + console.url() + " (sign in with an admin credential, or run 'tether-manager"
                + " console login')",
        "data directory: " + dataDir,
        "database: " + url,
        tls == null
            ? "TLS: off (--plaintext): for local development only; the admin key and delegate traffic are not encrypted"
            : "TLS certificate: " + tls.certificate() + "\nTLS certificate SHA-256 fingerprint: " + tls.fingerprint(),
        "admin key (owner '" + AdminKey.BOOTSTRAP_ADMIN + "'): " + adminKeyFile,
        "replica: " + manager.cluster().replicaId() + (manager.store().shared() ? " (shared database)" : ""));
  }

  public InetSocketAddress listenAddress() {
    return (InetSocketAddress) server.getListenSockets().get(0);
  }

  /** The admin listener's address; null when it is off. */
  public InetSocketAddress adminAddress() {
    return adminServer == null ? null : (InetSocketAddress) adminServer.getListenSockets().get(0);
  }

  /** The web console's address; null when it is off. */
  public InetSocketAddress consoleAddress() {
    return console == null ? null : console.address();
  }

  /** The ops listener's address; null when it is off. */
  public InetSocketAddress opsAddress() {
    return opsServer == null ? null : opsServer.address();
  }

  public Manager manager() {
    return manager;
  }

  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  /**
   * Stops: health NOT_SERVING, no new calls, every delegate stream closed with UNAVAILABLE
   * "manager shutting down", buffered state written, database closed.
   */
  @Override
  public void close() {
    long started = System.nanoTime();
    int streams = manager.tracker().size();
    log.info("manager stopping: {} delegate streams to close", streams);
    health.enterTerminalState();
    if (opsServer != null) {
      opsServer.close();
    }
    if (console != null) {
      console.close();
    }
    server.shutdown();
    if (adminServer != null) {
      adminServer.shutdown();
    }
    manager.close();
    long managerClosed = System.nanoTime();
    drain(server);
    long delegatesDrained = System.nanoTime();
    if (adminServer != null) {
      drain(adminServer);
    }
    long adminDrained = System.nanoTime();
    loops.close();
    lock.close();
    long done = System.nanoTime();
    log.info("manager stopped in {} ms (streams closed and state written {} ms, delegate connections drained {} ms,"
        + " admin connections drained {} ms, event loops ended {} ms)", Millis.of(done - started),
        Millis.of(managerClosed - started), Millis.of(delegatesDrained - managerClosed),
        Millis.of(adminDrained - delegatesDrained), Millis.of(done - adminDrained));
  }

  private static void drain(Server server) {
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.shutdownNow();
    }
  }

  /** HOST:PORT of a listener, IPv6 hosts in brackets. */
  public static String describe(InetSocketAddress address) {
    String host = address.getAddress() != null ? address.getAddress().getHostAddress() : address.getHostString();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
  }

  private static String redact(String jdbcUrl) {
    return jdbcUrl.replaceAll("(?i)(password=)[^&;]*", "$1***");
  }
}
