package dev.tether.manager.console;

import dev.tether.manager.admin.AdminAuthInterceptor;
import dev.tether.manager.admin.Caller;
import dev.tether.manager.server.Manager;
import dev.tether.manager.server.ManagerServer;
import dev.tether.manager.store.TetherStore;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The web console's listener: HTTPS with the manager's certificate (HTTP only with
 * {@code --plaintext}), Netty's HTTP/1.1 codec, the static page and the JSON API of
 * {@link ConsoleApi}. The API's work runs on a small pool of its own, never on the event loop, and
 * reaches the admin services through an in-process gRPC server of this manager's, so that a
 * console action is checked, audited and ended on revocation exactly as an admin API call is.
 */
public final class ConsoleServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ConsoleServer.class);
  /** Largest request body accepted (an install request is the largest, well under this). */
  static final int MAX_BODY = 64 * 1024;
  /** A connection with no traffic for this long is closed. */
  static final int IDLE_SECONDS = 120;
  static final int THREADS = 4;
  static final int QUEUE = 256;

  private final EventLoopGroup loops;
  private final Channel channel;
  private final ThreadPoolExecutor work;
  private final Server inProcess;
  private final ManagedChannel admin;
  private final String url;

  private ConsoleServer(EventLoopGroup loops, Channel channel, ThreadPoolExecutor work, Server inProcess,
      ManagedChannel admin, String url) {
    this.loops = loops;
    this.channel = channel;
    this.work = work;
    this.inProcess = inProcess;
    this.admin = admin;
    this.url = url;
  }

  /**
   * Starts listening on {@code address}.
   *
   * @param ssl the console's TLS context ({@link dev.tether.manager.tls.ServerTlsContexts#console}); null for plain HTTP
   * @param delegatePort the delegate listener's port, for the install page's default manager URL
   */
  public static ConsoleServer start(InetSocketAddress address, Manager manager, SslContext ssl,
      IntSupplier delegatePort) throws IOException {
    ConsoleSessions sessions = manager.consoleSessions();
    String name = "tether-console-" + HexFormat.of().formatHex(SecureRandom.getSeed(8));
    Server inProcess = manager.addConsoleServicesTo(InProcessServerBuilder.forName(name).directExecutor(),
        new SessionAuthenticator(sessions, manager.store())).build().start();
    ManagedChannel admin = InProcessChannelBuilder.forName(name).directExecutor().build();
    ThreadPoolExecutor work = new ThreadPoolExecutor(THREADS, THREADS, 60, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(QUEUE), new DefaultThreadFactory("tether-console", true));
    work.allowCoreThreadTimeOut(true);
    ConsoleApi api = new ConsoleApi(manager, admin, ssl != null, delegatePort);
    EventLoopGroup loops = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("tether-console-io", true),
        NioIoHandler.newFactory());
    Channel channel;
    try {
      channel = new ServerBootstrap()
          .group(loops)
          .channel(NioServerSocketChannel.class)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ChannelPipeline pipeline = ch.pipeline();
              if (ssl != null) {
                pipeline.addLast(ssl.newHandler(ch.alloc()));
              }
              pipeline.addLast(new IdleStateHandler(0, 0, IDLE_SECONDS));
              pipeline.addLast(new HttpServerCodec());
              pipeline.addLast(new HttpServerKeepAliveHandler());
              // before the aggregator, so that its own answers (413, 417) carry the headers too
              pipeline.addLast(SECURITY_HEADERS);
              pipeline.addLast(new HttpObjectAggregator(MAX_BODY));
              pipeline.addLast(new Dispatch(api, work));
            }
          })
          .bind(address).sync().channel();
    } catch (Exception e) {
      loops.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      work.shutdownNow();
      admin.shutdownNow();
      inProcess.shutdownNow();
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      String why = e instanceof BindException || e.getCause() instanceof BindException ? "Address already in use"
          : e.getMessage();
      throw new IOException("cannot listen on " + ManagerServer.describe(address) + " for the web console: " + why
          + " (is another manager or program using this port? Choose another with --console-listen, or"
          + " --console-listen off)", e);
    }
    InetSocketAddress bound = (InetSocketAddress) channel.localAddress();
    String url = (ssl != null ? "https://" : "http://") + ManagerServer.describe(bound);
    sessions.url(url);
    return new ConsoleServer(loops, channel, work, inProcess, admin, url);
  }

  /** {@code https://HOST:PORT} as the listener is bound. */
  public String url() {
    return url;
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) channel.localAddress();
  }

  @Override
  public void close() {
    channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    work.shutdownNow();
    admin.shutdownNow();
    inProcess.shutdownNow();
    loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
  }

  /** Adds the console's security headers to every response, whichever handler wrote it. */
  private static final ChannelOutboundHandlerAdapter SECURITY_HEADERS = new SecurityHeaders();

  @ChannelHandler.Sharable
  private static final class SecurityHeaders extends ChannelOutboundHandlerAdapter {
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
      if (msg instanceof HttpResponse response && response.status().codeClass() != HttpStatusClass.INFORMATIONAL) {
        ConsoleApi.securityHeaders(response.headers());
      }
      super.write(ctx, msg, promise);
    }
  }

  /**
   * Hands each whole request to the pool and writes its answer back, one request of a connection
   * at a time: HTTP/1.1 answers pipelined requests in order, and one connection cannot fill the
   * pool's queue. While a request is served, the connection's further requests wait here and
   * reading stops.
   */
  private static final class Dispatch extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final ConsoleApi api;
    private final ThreadPoolExecutor work;
    /** Requests read while another was served; touched on the event loop only. */
    private final ArrayDeque<FullHttpRequest> waiting = new ArrayDeque<>();
    private boolean serving;

    Dispatch(ConsoleApi api, ThreadPoolExecutor work) {
      this.api = api;
      this.work = work;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      waiting.add(request.retainedDuplicate());
      if (serving) {
        ctx.channel().config().setAutoRead(false);
        return;
      }
      serveNext(ctx);
    }

    /** Serves the oldest waiting request; with none left, reads again. On the event loop. */
    private void serveNext(ChannelHandlerContext ctx) {
      FullHttpRequest request = waiting.poll();
      if (request == null) {
        serving = false;
        ctx.channel().config().setAutoRead(true);
        return;
      }
      serving = true;
      if (!request.decoderResult().isSuccess()) {
        request.release();
        write(ctx, ConsoleApi.Response.error(HttpResponseStatus.BAD_REQUEST, "malformed HTTP request"), false);
        return;
      }
      boolean keepAlive = HttpUtil.isKeepAlive(request);
      InetSocketAddress remote = (InetSocketAddress) ctx.channel().remoteAddress();
      try {
        work.execute(() -> {
          ConsoleApi.Response response;
          try {
            response = api.handle(request, remote);
          } catch (RuntimeException e) {
            log.error("web console request {} {} failed", request.method(), ConsoleApi.pathOf(request.uri()), e);
            response = ConsoleApi.Response.error(HttpResponseStatus.INTERNAL_SERVER_ERROR,
                "internal error in the manager; its log has the details");
          } finally {
            request.release();
          }
          write(ctx, response, keepAlive);
        });
      } catch (RejectedExecutionException e) {
        request.release();
        write(ctx, ConsoleApi.Response.error(HttpResponseStatus.SERVICE_UNAVAILABLE,
            "the web console is busy; retry in a moment"), false);
      }
    }

    private void write(ChannelHandlerContext ctx, ConsoleApi.Response response, boolean keepAlive) {
      FullHttpResponse out = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, response.status(),
          Unpooled.wrappedBuffer(response.body()));
      out.headers().set(HttpHeaderNames.CONTENT_TYPE, response.contentType());
      response.headers().forEach((name, value) -> out.headers().add(name, value));
      HttpUtil.setContentLength(out, response.body().length);
      if (keepAlive) {
        out.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        ctx.writeAndFlush(out);
        ctx.executor().execute(() -> serveNext(ctx));
      } else {
        ctx.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
        ctx.executor().execute(this::releaseWaiting);
      }
    }

    private void releaseWaiting() {
      for (FullHttpRequest request; (request = waiting.poll()) != null; ) {
        request.release();
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      releaseWaiting();
      super.channelInactive(ctx);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
      if (event instanceof IdleStateEvent) {
        ctx.close();
      } else {
        super.userEventTriggered(ctx, event);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // TLS failures of browsers that do not trust the certificate yet, resets: nothing to report
      log.debug("web console connection from {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
      ctx.close();
    }
  }

  /** For the in-process server: the admin of an open console session, checked active in the store. */
  private static final class SessionAuthenticator implements AdminAuthInterceptor.Authenticator {
    private final ConsoleSessions sessions;
    private final TetherStore store;

    SessionAuthenticator(ConsoleSessions sessions, TetherStore store) {
      this.sessions = sessions;
      this.store = store;
    }

    @Override
    public Optional<Caller> authenticate(Metadata headers,
        SocketAddress remote) {
      return sessions.byKey(headers.get(ConsoleApi.SESSION)).flatMap(session -> store.findAdmin(session.adminName())
          .filter(admin -> admin.active() && admin.publicId().equals(session.adminId()))
          .map(admin -> new Caller(admin, Optional.ofNullable(headers.get(ConsoleApi.REMOTE))
              .orElse(session.remoteAddress()))));
    }

    @Override
    public String refusal(Metadata headers) {
      return "console session ended";
    }

    @Override
    public String failure() {
      return "your console session has ended (signed out, idle for 30 minutes, or the admin was revoked); sign in again";
    }
  }
}
