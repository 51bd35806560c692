package dev.tether.bench;

import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.zip.DataFormatException;
import org.HdrHistogram.Histogram;

/** Carries an HdrHistogram in one word of a child's answer: compressed, then Base64. */
final class Histograms {

  private Histograms() {}

  static String encode(Histogram h) {
    // copied into a plain histogram first: a Recorder's interval histogram is a concurrent one that
    // resized while it recorded, and one such encoding once claimed a smaller highest trackable
    // value than its counts reached, so decoding it failed (index 3091 of 3072) and ended a run
    Histogram plain = new Histogram(h.getNumberOfSignificantValueDigits());
    plain.add(h);
    ByteBuffer buffer = ByteBuffer.allocate(plain.getNeededByteBufferCapacity());
    int length = plain.encodeIntoCompressedByteBuffer(buffer);
    byte[] bytes = new byte[length];
    buffer.flip();
    buffer.get(bytes);
    return Base64.getEncoder().encodeToString(bytes);
  }

  static Histogram decode(String word) {
    try {
      return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(word)), 0);
    } catch (DataFormatException | IllegalArgumentException | IndexOutOfBoundsException e) {
      throw new IllegalStateException("a child answered a histogram that does not decode (" + word.length()
          + " characters); expected Base64 of a compressed HdrHistogram", e);
    }
  }
}
