package dev.tether.manager.server;

import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import dev.tether.manager.auth.SourceKey;
import java.net.SocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Caps the connections one remote address may hold open on a listener. It sits in the listening
 * socket's pipeline, ahead of Netty's acceptor, so a connection over the cap is closed as it is
 * accepted: before TLS, before HTTP/2, before it can take any of the resources (file descriptors,
 * handshake slots, memory) that other delegates need.
 */
final class ConnectionLimiter extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(ConnectionLimiter.class);
  private static final long LOG_EVERY_NANOS = 60_000_000_000L;

  private final int maxPerAddress;
  private final ConcurrentMap<String, Integer> open = new ConcurrentHashMap<>();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong lastLog = new AtomicLong(System.nanoTime() - LOG_EVERY_NANOS);

  ConnectionLimiter(int maxPerAddress) {
    this.maxPerAddress = maxPerAddress;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof Channel child)) {
      ctx.fireChannelRead(msg);
      return;
    }
    String host = host(child.remoteAddress());
    boolean[] admitted = {false};
    open.compute(host, (k, n) -> {
      int current = n == null ? 0 : n;
      if (current >= maxPerAddress) {
        return n;
      }
      admitted[0] = true;
      return current + 1;
    });
    if (!admitted[0]) {
      child.unsafe().closeForcibly();
      reportRefused(host);
      return;
    }
    child.closeFuture().addListener(f -> open.computeIfPresent(host, (k, n) -> n <= 1 ? null : n - 1));
    ctx.fireChannelRead(child);
  }

  /** Connections open from {@code host} now. */
  int openFrom(String host) {
    return open.getOrDefault(host, 0);
  }

  /** One WARN a minute at most, with the count, however hard an address pushes. */
  private void reportRefused(String host) {
    long count = refused.incrementAndGet();
    long now = System.nanoTime();
    long last = lastLog.get();
    if (now - last >= LOG_EVERY_NANOS && lastLog.compareAndSet(last, now)) {
      refused.addAndGet(-count);
      log.warn("connection from {} refused: it holds {} connections, the most one address may"
          + " (--max-connections-per-address); {} refused since the last report", host, maxPerAddress, count);
    }
  }

  private static String host(SocketAddress address) {
    return SourceKey.of(address);
  }

  @Override
  public boolean isSharable() {
    return false;
  }
}
