package dev.tether.common.ops;

import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The plain-HTTP operations listener both programs share: {@code GET /metrics} in the Prometheus
 * text format (OpenMetrics when the scraper asks for it in {@code Accept}), {@code GET /healthz}
 * (200 while the process serves) and {@code GET /readyz} (200, or 503 with a one-line reason).
 * It serves nothing secret, so it needs no authentication; it listens on loopback unless told
 * otherwise.
 *
 * <p>The exposition is written by the Prometheus Java client's own writers, chosen from the
 * request's {@code Accept} header as Prometheus negotiates it; the server is the JDK's.
 */
public final class OpsServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(OpsServer.class);

  /**
   * Threads that read requests and answer them. The JDK's server reads a request's headers on
   * these threads, so a client that sends them slowly holds one: a single thread let one idle
   * connection block {@code /healthz} for good (and a liveness probe with it).
   */
  static final int THREADS = 16;
  /** Seconds a client has to send a whole request, and the server to send its answer. */
  static final int MAX_REQUEST_SECONDS = 5;
  static final int MAX_RESPONSE_SECONDS = 10;

  static {
    // read once, when the JDK's server classes load; an operator's own setting wins
    if (System.getProperty("sun.net.httpserver.maxReqTime") == null) {
      System.setProperty("sun.net.httpserver.maxReqTime", Integer.toString(MAX_REQUEST_SECONDS));
    }
    if (System.getProperty("sun.net.httpserver.maxRspTime") == null) {
      System.setProperty("sun.net.httpserver.maxRspTime", Integer.toString(MAX_RESPONSE_SECONDS));
    }
  }

  private final HttpServer server;
  private final ExecutorService executor;

  private OpsServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /**
   * Starts listening on {@code address}.
   *
   * @param readiness empty when ready, otherwise why not, in one line
   * @param flag the option that sets the address, named in a bind failure ("--ops-listen")
   */
  public static OpsServer start(InetSocketAddress address, PrometheusMeterRegistry registry,
      Supplier<Optional<String>> readiness, String flag) throws IOException {
    requireNonNull(registry, "registry");
    requireNonNull(readiness, "readiness");
    HttpServer server;
    try {
      server = HttpServer.create(address, 16);
    } catch (IOException e) {
      throw new IOException("cannot listen on " + describe(address) + " for the ops listener (/metrics, /healthz,"
          + " /readyz): " + e.getMessage() + " (is another program using this port? Choose another with " + flag
          + ", or 'off')", e);
    }
    ExpositionFormats formats = ExpositionFormats.init();
    server.createContext("/metrics", exchange -> serve(exchange, () -> {
      ExpositionFormatWriter writer = formats.findWriter(exchange.getRequestHeaders().getFirst("Accept"));
      ByteArrayOutputStream body = new ByteArrayOutputStream(64 * 1024);
      writer.write(body, registry.getPrometheusRegistry().scrape());
      return new Response(200, writer.getContentType(), body.toByteArray());
    }));
    server.createContext("/healthz", exchange -> serve(exchange, () -> Response.text(200, "ok")));
    server.createContext("/readyz", exchange -> serve(exchange, () -> {
      Optional<String> reason = readiness.get();
      return reason.map(r -> Response.text(503, "not ready: " + r)).orElseGet(() -> Response.text(200, "ready"));
    }));
    server.createContext("/", exchange -> serve(exchange,
        () -> Response.text(404, "not found: this listener serves /metrics, /healthz and /readyz")));
    java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
    ExecutorService executor = Executors.newFixedThreadPool(THREADS, r -> {
      Thread t = new Thread(r, "tether-ops-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(executor);
    server.start();
    return new OpsServer(server, executor);
  }

  /** Where it listens (with the port chosen, when 0 was asked for). */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdown();
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** {@code host:port}, IPv6 in brackets. */
  public static String describe(InetSocketAddress address) {
    String host = address.getAddress() != null ? address.getAddress().getHostAddress() : address.getHostString();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
  }

  private record Response(int status, String contentType, byte[] body) {
    static Response text(int status, String line) {
      return new Response(status, "text/plain; charset=utf-8", (line + "\n").getBytes(StandardCharsets.UTF_8));
    }
  }

  private interface Handler {
    Response handle() throws IOException;
  }

  private static void serve(HttpExchange exchange, Handler handler) throws IOException {
    try (exchange) {
      String method = exchange.getRequestMethod();
      Response response;
      if (!method.equals("GET") && !method.equals("HEAD")) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        response = Response.text(405, "method " + method + " not allowed: use GET");
      } else {
        try {
          response = handler.handle();
        } catch (IOException | RuntimeException e) {
          log.warn("ops listener: {} {} failed: {}", method, exchange.getRequestURI().getPath(), e.toString());
          response = Response.text(500, "internal error: " + e.getClass().getSimpleName());
        }
      }
      exchange.getResponseHeaders().set("Content-Type", response.contentType());
      exchange.getResponseHeaders().set("Cache-Control", "no-store");
      boolean head = method.equals("HEAD");
      exchange.sendResponseHeaders(response.status(), head ? -1 : response.body().length);
      if (!head) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(response.body());
        }
      }
    }
  }
}
