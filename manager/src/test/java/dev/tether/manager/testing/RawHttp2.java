package dev.tether.manager.testing;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * An HTTP/2 client written frame by frame, the way an attacker's tool is: it opens streams and
 * resets them without waiting for anything, ignores the server's limits, and records the frames
 * the server sends back (GOAWAY, RST_STREAM). TLS with ALPN h2, trusting any certificate.
 */
public final class RawHttp2 implements AutoCloseable {

  public static final int RST_STREAM = 0x3;
  public static final int GOAWAY = 0x7;
  public static final int REFUSED_STREAM = 0x7;

  /** One frame the server sent: type, stream id and, for RST_STREAM and GOAWAY, the error code. */
  public record Frame(int type, int streamId, long errorCode) {}

  private final SSLSocket socket;
  private final OutputStream out;
  private final List<Frame> received = new CopyOnWriteArrayList<>();
  private final CountDownLatch closed = new CountDownLatch(1);
  private final AtomicLong sent = new AtomicLong();
  private final Thread reader;

  private RawHttp2(SSLSocket socket) throws IOException {
    this.socket = socket;
    this.out = socket.getOutputStream();
    this.reader = new Thread(this::readFrames, "raw-http2-reader");
    reader.setDaemon(true);
  }

  /** Connects from {@code sourceAddress} to the manager on loopback and sends the connection preface. */
  public static RawHttp2 connect(int port, String sourceAddress) throws Exception {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, new TrustManager[] {new TrustAll()}, new SecureRandom());
    Socket plain = new Socket();
    plain.bind(new InetSocketAddress(sourceAddress, 0));
    plain.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
    SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(plain, "127.0.0.1", port, true);
    SSLParameters params = tls.getSSLParameters();
    params.setApplicationProtocols(new String[] {"h2"});
    tls.setSSLParameters(params);
    tls.startHandshake();
    RawHttp2 client = new RawHttp2(tls);
    client.out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(US_ASCII));
    client.frame(0x4, 0, 0, new byte[0]);
    client.out.flush();
    client.reader.start();
    return client;
  }

  /** Opens stream {@code streamId} with the headers of a gRPC call to {@code path}; no body, not ended. */
  public void open(int streamId, String path) throws IOException {
    ByteArrayOutputStream block = new ByteArrayOutputStream();
    block.write(0x83); // :method POST (static index 3)
    block.write(0x86); // :scheme http (static index 6)
    literal(block, 4, path); // :path, name from static index 4
    literal(block, 1, "127.0.0.1"); // :authority, static index 1
    literal(block, 31, "application/grpc"); // content-type, static index 31
    literalNewName(block, "te", "trailers");
    frame(0x1, 0x4, streamId, block.toByteArray()); // HEADERS, END_HEADERS
  }

  /** Resets stream {@code streamId} with CANCEL. */
  public void reset(int streamId) throws IOException {
    frame(RST_STREAM, 0, streamId, new byte[] {0, 0, 0, 0x8});
  }

  public void flush() throws IOException {
    out.flush();
  }

  /** Frames written so far. */
  public long sent() {
    return sent.get();
  }

  public List<Frame> received() {
    return received;
  }

  public boolean receivedGoaway() {
    return received.stream().anyMatch(f -> f.type() == GOAWAY);
  }

  /** Whether the server has closed the connection. */
  public boolean isClosedByServer() {
    return closed.getCount() == 0;
  }

  private void frame(int type, int flags, int streamId, byte[] payload) throws IOException {
    byte[] header = {
        (byte) (payload.length >>> 16), (byte) (payload.length >>> 8), (byte) payload.length,
        (byte) type, (byte) flags,
        (byte) (streamId >>> 24), (byte) (streamId >>> 16), (byte) (streamId >>> 8), (byte) streamId};
    synchronized (out) {
      out.write(header);
      out.write(payload);
    }
    sent.incrementAndGet();
  }

  private static void literal(ByteArrayOutputStream block, int nameIndex, String value) {
    // literal header field without indexing, indexed name (RFC 7541 6.2.2): 0000 + 4-bit prefix index
    integer(block, 0x00, 4, nameIndex);
    string(block, value);
  }

  private static void literalNewName(ByteArrayOutputStream block, String name, String value) {
    block.write(0x00);
    string(block, name);
    string(block, value);
  }

  private static void string(ByteArrayOutputStream block, String value) {
    byte[] bytes = value.getBytes(US_ASCII);
    integer(block, 0x00, 7, bytes.length); // no Huffman coding
    block.writeBytes(bytes);
  }

  private static void integer(ByteArrayOutputStream block, int firstBits, int prefix, int value) {
    int max = (1 << prefix) - 1;
    if (value < max) {
      block.write(firstBits | value);
      return;
    }
    block.write(firstBits | max);
    value -= max;
    while (value >= 128) {
      block.write((value & 0x7f) | 0x80);
      value >>>= 7;
    }
    block.write(value);
  }

  private void readFrames() {
    try {
      DataInputStream in = new DataInputStream(socket.getInputStream());
      while (true) {
        int length = (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
        int type = in.readUnsignedByte();
        in.readUnsignedByte();
        int streamId = in.readInt() & 0x7fffffff;
        byte[] payload = new byte[length];
        in.readFully(payload);
        long error = -1;
        if (type == RST_STREAM && length == 4) {
          error = readUnsignedInt(payload, 0);
        } else if (type == GOAWAY && length >= 8) {
          error = readUnsignedInt(payload, 4);
        }
        if (type == RST_STREAM || type == GOAWAY) {
          received.add(new Frame(type, streamId, error));
        }
      }
    } catch (IOException end) {
      closed.countDown();
    }
  }

  private static long readUnsignedInt(byte[] b, int at) {
    return ((b[at] & 0xffL) << 24) | ((b[at + 1] & 0xffL) << 16) | ((b[at + 2] & 0xffL) << 8) | (b[at + 3] & 0xffL);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }

  /** The attacker does not care whom it talks to. */
  private static final class TrustAll implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) { }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) { }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
