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
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The Netty event loops and listening-socket type of the manager's server, owned and closed by it:
 * epoll where the platform has it, as grpc-java would choose, NIO otherwise. The server owns them
 * because it gives the listening socket a handler of its own ({@link ConnectionLimiter}), which
 * grpc-java allows only with caller-supplied loops.
 */
record EventLoops(EventLoopGroup boss, EventLoopGroup workers, boolean epoll) implements AutoCloseable {

  static EventLoops create() {
    boolean epoll = Epoll.isAvailable();
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    return new EventLoops(
        new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("tether-accept", true), io),
        new MultiThreadIoEventLoopGroup(0, new DefaultThreadFactory("tether-io", true), io),
        epoll);
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
  }
}
