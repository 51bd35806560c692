package dev.tether.manager.server;

import dev.tether.proto.delegate.v1.DelegateStreamGrpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import io.grpc.netty.shaded.io.netty.channel.ChannelFactory;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.IoHandlerFactory;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.ServerChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.util.NettyRuntime;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The threads of the manager's server, owned and closed by it: the Netty event loops and
 * listening-socket type (epoll where the platform has it, as grpc-java would choose, NIO
 * otherwise), and the pool that runs the delegate streams' handlers ({@link #streamCalls}). The
 * server owns the loops because it gives the listening socket a handler of its own
 * ({@link ConnectionLimiter}), which grpc-java allows only with caller-supplied loops.
 */
record EventLoops(EventLoopGroup boss, EventLoopGroup workers, boolean epoll, ForkJoinPool streams)
    implements AutoCloseable {

  static EventLoops create() {
    boolean epoll = Epoll.isAvailable();
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    return new EventLoops(
        new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("tether-accept", true), io),
        new MultiThreadIoEventLoopGroup(ioThreads(), new DefaultThreadFactory("tether-io", true), io),
        epoll, streamPool(Runtime.getRuntime().availableProcessors()));
  }

  /**
   * A work-stealing pool of {@code parallelism} threads (at least 2), named {@code tether-stream-N}.
   * Its threads stay busy while work keeps coming instead of handing every task to a thread woken
   * for it, as grpc-java's default executor (a cached thread pool) does: when a revoke closed 10 000
   * streams, those hand-offs (a thread woken and put back to sleep for each stream's end) were a
   * fifth of the manager's CPU (docs/benchmarks.md). A handler that waits on a
   * {@code CompletableFuture} (a Register waiting for its group commit) gets a spare thread in its
   * place for the time it waits, so waiting registrations do not stop heartbeats.
   */
  static ForkJoinPool streamPool(int parallelism) {
    AtomicInteger numbers = new AtomicInteger();
    return new ForkJoinPool(Math.max(2, parallelism), pool -> {
      ForkJoinWorkerThread thread = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
      thread.setName("tether-stream-" + numbers.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    }, null, true);
  }

  /**
   * Runs the delegate streams' calls ({@code DelegateStream}) on {@link #streams}; every other call
   * (the handshake, which reads the database; health; the admin API, whose revoke may wait seconds
   * for other replicas) stays on grpc-java's default executor, which has a thread for every call
   * that waits. gRPC looks the method up on the default executor, then runs the call's interceptors,
   * handler and callbacks on the executor given here.
   */
  ServerCallExecutorSupplier streamCalls() {
    return new ServerCallExecutorSupplier() {
      @Override
      public <ReqT, RespT> Executor getExecutor(ServerCall<ReqT, RespT> call, Metadata headers) {
        return DelegateStreamGrpc.SERVICE_NAME.equals(call.getMethodDescriptor().getServiceName()) ? streams : null;
      }
    };
  }

  /**
   * As many I/O threads as cores, as grpc-java's own default event loops have (Netty's default is
   * twice as many): on 2 cores under 10 000 delegates, four loops spent a third more CPU than two
   * in epoll wake-ups and thread switches (docs/benchmarks.md, "CPU per heartbeat"). Netty's
   * {@code io.grpc.netty.shaded.io.netty.eventLoopThreads} property still sets the number.
   */
  private static int ioThreads() {
    return System.getProperty("io.grpc.netty.shaded.io.netty.eventLoopThreads") != null ? 0
        : NettyRuntime.availableProcessors();
  }

  /** Listening sockets of the loops' type, each with a fresh handler from {@code handler} first in its pipeline. */
  ChannelFactory<ServerChannel> serverChannels(Supplier<ChannelHandler> handler) {
    return () -> {
      ServerChannel channel = epoll ? new EpollServerSocketChannel() : new NioServerSocketChannel();
      channel.pipeline().addLast(handler.get());
      return channel;
    };
  }

  @Override
  public void close() {
    boss.shutdownGracefully(0, 5, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 5, TimeUnit.SECONDS);
    // after the server's calls have ended (the server closes this last): nothing is left to run
    streams.shutdown();
  }
}
