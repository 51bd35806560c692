package dev.tether.manager.testing;

import dev.tether.common.testing.TokenLedger;

import dev.tether.common.token.DelegateToken;
import dev.tether.delegate.connect.EstablishedSession;
import dev.tether.delegate.connect.HandshakeClient;
import dev.tether.delegate.connect.HandshakeException;
import dev.tether.delegate.connect.StreamClient;
import dev.tether.manager.server.Manager;
import dev.tether.manager.server.ManagerSettings;
import dev.tether.manager.server.StreamCalls;
import dev.tether.manager.store.JdbcStore;
import dev.tether.manager.store.TetherStore;
import dev.tether.manager.token.CreatedAccount;
import dev.tether.manager.token.CreatedToken;
import dev.tether.manager.token.MasterKey;
import dev.tether.proto.delegate.v1.Register;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * A real manager for tests: H2 in a real file under {@code dataDir}, the master key file beside it,
 * served in-process. Delegates connect through the real delegate client code. Closing it stops
 * everything it started; a second fixture on the same directory is a restart.
 */
public final class ManagerFixture implements AutoCloseable {

  private final Path dataDir;
  private final Manager manager;
  private final Server server;
  private final StreamCalls streamCalls = StreamCalls.create();
  private final ManagedChannel channel;
  private final List<StreamClient> clients = new ArrayList<>();
  private final HandshakeClient handshakes = new HandshakeClient(Duration.ofSeconds(5));

  public ManagerFixture(Path dataDir, ManagerSettings settings) {
    this(dataDir, settings, UnaryOperator.identity());
  }

  /** A fixture whose store is wrapped by {@code decorate} (to observe or break it). */
  public ManagerFixture(Path dataDir, ManagerSettings settings, UnaryOperator<TetherStore> decorate) {
    this.dataDir = dataDir;
    TetherStore store = decorate.apply(JdbcStore.open(JdbcStore.h2Url(dataDir), null, null));
    MasterKey key = MasterKey.loadOrCreate(dataDir.resolve(MasterKey.FILE_NAME));
    // every in-process call looks like one connection from one address: the per-connection and
    // per-address handshake caps are tested against a real Netty server (HandshakeFloodTest)
    ManagerSettings inProcess = settings.withLimits(settings.limits()
        .withMaxConcurrentPerConnection(Math.max(settings.limits().maxConcurrentPerConnection(), 10_000))
        .withMaxConcurrentPerAddress(Math.max(settings.limits().maxConcurrentPerAddress(), 10_000)));
    this.manager = Manager.create(store, key, inProcess).start();
    String name = "tether-test-" + System.nanoTime();
    try {
      // the delegate streams on the manager's own pool, as the real server runs them
      this.server = manager.addServicesTo(InProcessServerBuilder.forName(name).callExecutor(streamCalls.executors()))
          .build().start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.channel = InProcessChannelBuilder.forName(name).build();
  }

  public ManagerFixture(Path dataDir) {
    this(dataDir, ManagerSettings.defaults());
  }

  /**
   * Connects {@code count} delegates named {@code prefix-i} with one token, in parallel, and
   * returns their streams once every one is registered.
   */
  public List<StreamClient> connectMany(String accountId, DelegateToken token, String prefix, int count)
      throws Exception {
    var pool = java.util.concurrent.Executors.newFixedThreadPool(8);
    try {
      List<java.util.concurrent.Future<StreamClient>> futures = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        String name = prefix + "-" + i;
        futures.add(pool.submit(() -> connect(accountId, token, name)));
      }
      List<StreamClient> out = new ArrayList<>();
      for (var f : futures) {
        out.add(f.get(60, TimeUnit.SECONDS));
      }
      return out;
    } finally {
      pool.shutdown();
    }
  }

  public Manager manager() {
    return manager;
  }

  public ManagedChannel channel() {
    return channel;
  }

  public Path dataDir() {
    return dataDir;
  }

  public CreatedAccount account(String name) {
    CreatedAccount account = manager.tokens().createAccount(name, "test");
    TokenLedger.record(account.defaultToken().value());
    return account;
  }

  private final java.util.Map<String, DelegateToken> created = new java.util.concurrent.ConcurrentHashMap<>();

  public CreatedToken token(String accountId, String name) {
    CreatedToken token = manager.tokens().createToken(accountId, name, "test", null, null);
    TokenLedger.record(token.value());
    created.put(name, token.value());
    return token;
  }

  /** The value of a token this fixture created, by name. */
  public DelegateToken createdValue(String name) {
    return created.get(name);
  }

  public EstablishedSession handshake(String accountId, DelegateToken token, String delegateName)
      throws HandshakeException {
    return handshakes.handshake(channel, accountId, token, delegateName);
  }

  /** Handshakes, opens the stream and waits until the manager has registered the delegate. */
  public StreamClient connect(String accountId, DelegateToken token, String delegateName) throws Exception {
    EstablishedSession session = handshake(accountId, token, delegateName);
    StreamClient client = StreamClient.open(channel, session, Register.newBuilder()
        .setHostname(delegateName + "-host")
        .setDelegateType("SHELL_SCRIPT")
        .setVersion("test")
        .addTags("test")
        .setIp("127.0.0.1")
        .build());
    synchronized (clients) {
      clients.add(client);
    }
    client.registered().get(10, TimeUnit.SECONDS);
    return client;
  }

  @Override
  public void close() {
    // as in production: stop taking calls, then the manager closes every stream and the store
    server.shutdown();
    manager.close();
    synchronized (clients) {
      clients.forEach(StreamClient::close);
    }
    channel.shutdownNow();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.shutdownNow();
    }
    streamCalls.close();
  }
}
