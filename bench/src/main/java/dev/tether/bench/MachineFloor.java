package dev.tether.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * What the machine itself allows, measured at the start of every benchmark run and printed beside
 * its figures, so that a reader can tell the floor from Tether's overhead: the latency of a 4 KiB
 * write made durable with fsync in the directory where the run's servers keep their data (a
 * revocation commits once, so fsync is the floor of a revoke), the round trip of one byte over
 * loopback TCP (the floor of a heartbeat's acknowledgement), and the core count.
 *
 * @param cores the processors the JVM sees
 * @param dir where fsync was measured
 * @param fsyncs the 4 KiB write + fsync samples taken
 * @param fsyncP50Ms median, in milliseconds
 * @param fsyncP99Ms 99th percentile
 * @param fsyncMaxMs the slowest
 * @param roundTrips the loopback round trips taken
 * @param loopbackP50Us median round trip, in microseconds
 * @param loopbackP99Us 99th percentile
 */
record MachineFloor(int cores, String dir, int fsyncs, double fsyncP50Ms, double fsyncP99Ms, double fsyncMaxMs,
    int roundTrips, double loopbackP50Us, double loopbackP99Us) {

  static final int FSYNCS = 300;
  static final int ROUND_TRIPS = 2000;
  private static final int BLOCK = 4096;

  /** Measures in {@code dir} (a directory of the file system the servers write to). */
  static MachineFloor measure(Path dir, int fsyncs, int roundTrips) throws IOException {
    double[] fsync = fsyncMillis(dir, fsyncs);
    double[] loopback = loopbackMicros(roundTrips);
    return new MachineFloor(Runtime.getRuntime().availableProcessors(), dir.toString(), fsyncs,
        percentile(fsync, 0.50), percentile(fsync, 0.99), fsync[fsync.length - 1], roundTrips,
        percentile(loopback, 0.50), percentile(loopback, 0.99));
  }

  /** Each sample: write 4 KiB at the end of a new file, then force it and its metadata to disk. */
  static double[] fsyncMillis(Path dir, int samples) throws IOException {
    Path file = Files.createTempFile(dir, "fsync-probe", ".bin");
    double[] millis = new double[samples];
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      ByteBuffer block = ByteBuffer.allocate(BLOCK);
      for (int i = 0; i < samples; i++) {
        block.clear();
        block.putLong(0, i);
        long start = System.nanoTime();
        while (block.hasRemaining()) {
          channel.write(block);
        }
        channel.force(true);
        millis[i] = (System.nanoTime() - start) / 1e6;
      }
    } finally {
      Files.deleteIfExists(file);
    }
    Arrays.sort(millis);
    return millis;
  }

  /** Each sample: one byte to an echo thread over loopback TCP (no Nagle delay) and back. */
  static double[] loopbackMicros(int samples) throws IOException {
    InetAddress loopback = InetAddress.getLoopbackAddress();
    double[] micros = new double[samples];
    try (ServerSocket server = new ServerSocket(0, 1, loopback)) {
      Thread echo = new Thread(() -> {
        try (Socket peer = server.accept(); InputStream in = peer.getInputStream();
            OutputStream out = peer.getOutputStream()) {
          peer.setTcpNoDelay(true);
          int b;
          while ((b = in.read()) >= 0) {
            out.write(b);
            out.flush();
          }
        } catch (IOException e) {
          // the probe closed its end
        }
      }, "loopback-echo");
      echo.setDaemon(true);
      echo.start();
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress(loopback, server.getLocalPort()));
        socket.setTcpNoDelay(true);
        InputStream in = socket.getInputStream();
        OutputStream out = socket.getOutputStream();
        for (int i = 0; i < samples; i++) {
          long start = System.nanoTime();
          out.write(i & 0x7f);
          out.flush();
          if (in.read() < 0) {
            throw new IOException("the loopback echo ended after " + i + " round trips");
          }
          micros[i] = (System.nanoTime() - start) / 1e3;
        }
      }
    }
    Arrays.sort(micros);
    return micros;
  }

  /** The value below which {@code q} of the sorted samples lie (nearest rank). */
  static double percentile(double[] sorted, double q) {
    int rank = (int) Math.ceil(q * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  /** The line printed before a scenario's own output. */
  String json() {
    return new Json("machine", false)
        .put("cores", cores)
        .put("fsync_dir", dir)
        .put("fsync_samples", fsyncs)
        .put("fsync_4k_p50_ms", fsyncP50Ms)
        .put("fsync_4k_p99_ms", fsyncP99Ms)
        .put("fsync_4k_max_ms", fsyncMaxMs)
        .put("loopback_round_trips", roundTrips)
        .put("loopback_rtt_p50_us", loopbackP50Us)
        .put("loopback_rtt_p99_us", loopbackP99Us)
        .toString();
  }

  /** Measured in the temporary directory, where every scenario's servers keep their data. */
  static MachineFloor ofThisRun() {
    try {
      return measure(Path.of(System.getProperty("java.io.tmpdir")), FSYNCS, ROUND_TRIPS);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot measure the machine's floor", e);
    }
  }
}
