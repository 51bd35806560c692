package dev.tether.bench;

import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.zip.DataFormatException;
import org.HdrHistogram.Histogram;

/** Carries an HdrHistogram in one word of a child's answer: compressed, then Base64. */
final class Histograms {

  private Histograms() {}

  static String encode(Histogram h) {
    ByteBuffer buffer = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
    int length = h.encodeIntoCompressedByteBuffer(buffer);
    byte[] bytes = new byte[length];
    buffer.flip();
    buffer.get(bytes);
    return Base64.getEncoder().encodeToString(bytes);
  }

  static Histogram decode(String word) {
    try {
      return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(word)), 0);
    } catch (DataFormatException | IllegalArgumentException e) {
      throw new IllegalStateException("a child answered a histogram that does not decode (" + word.length()
          + " characters); expected Base64 of a compressed HdrHistogram", e);
    }
  }
}
