package dev.tether.manager.server;

import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelFuture;
import io.grpc.netty.shaded.io.netty.channel.ChannelFutureListener;
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
  private final ConcurrentMap<String, Source> open = new ConcurrentHashMap<>();
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
    Source source = open.compute(host, (k, counted) -> {
      Source s = counted == null ? new Source(k) : counted;
      if (s.count >= maxPerAddress) {
        // refused: a host that holds nothing leaves nothing behind
        return counted;
      }
      admitted[0] = true;
      s.count++;
      return s;
    });
    if (!admitted[0]) {
      child.unsafe().closeForcibly();
      reportRefused(host);
      return;
    }
    // the host's own counter counts the close: a connection adds nothing of its own here
    child.closeFuture().addListener(source);
    ctx.fireChannelRead(child);
  }

  /** Hosts with a connection open now (each keeps one counter here). */
  int hostsCounted() {
    return open.size();
  }

  /** Connections open from {@code host} now. */
  int openFrom(String host) {
    Source source = open.get(host);
    return source == null ? 0 : source.count;
  }

  /**
   * The connections open from one host, and the listener that counts one of them closed: every
   * connection from the host shares it, rather than each keeping a copy of the host's text and a
   * function of its own for as long as it is open (80 bytes of every connection, docs/benchmarks.md).
   * Dropped when its last connection closes.
   */
  private final class Source implements ChannelFutureListener {
    private final String host;
    /** Changed only inside the map's compute for {@link #host}. */
    private volatile int count;

    Source(String host) {
      this.host = host;
    }

    @Override
    public void operationComplete(ChannelFuture closed) {
      open.computeIfPresent(host, (k, counted) -> {
        if (counted != this) {
          return counted;
        }
        count--;
        return count <= 0 ? null : this;
      });
    }
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
