package dev.tether.manager.server;

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
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The threads of the manager's server, owned and closed by it: the Netty event loops and
 * listening-socket type (epoll where the platform has it, as grpc-java would choose, NIO
 * otherwise), and the pool that runs the delegate streams' calls ({@link StreamCalls}). The
 * server owns the loops because it gives the listening socket a handler of its own
 * ({@link ConnectionLimiter}), which grpc-java allows only with caller-supplied loops.
 */
record EventLoops(EventLoopGroup boss, EventLoopGroup workers, boolean epoll, StreamCalls streams)
    implements AutoCloseable {

  static EventLoops create() {
    boolean epoll = Epoll.isAvailable();
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    return new EventLoops(
        new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("tether-accept", true), io),
        new MultiThreadIoEventLoopGroup(ioThreads(), new DefaultThreadFactory("tether-io", true), io),
        epoll, StreamCalls.create());
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
    // after the server's calls have ended (the server closes this last)
    streams.close();
  }
}
