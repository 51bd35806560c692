package dev.tether.manager.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

/**
 * The per-address cap as the listening socket's pipeline sees it: every accepted connection is a
 * child channel read by the limiter, passed on when admitted and closed at once when not.
 * (Every embedded channel has the same remote address, "embedded": one host.)
 */
class ConnectionLimiterTest {

  private static final String HOST = "embedded";

  private static EmbeddedChannel listener(ConnectionLimiter limiter) {
    return new EmbeddedChannel(limiter);
  }

  /** Whether the limiter passed {@code connection} on to the acceptor. */
  private static boolean accept(EmbeddedChannel listener, Channel connection) {
    listener.pipeline().fireChannelRead(connection);
    return listener.readInbound() == connection;
  }

  @Test
  void aHostHoldsAtMostItsCapAndAClosedConnectionFreesItsSlot() {
    ConnectionLimiter limiter = new ConnectionLimiter(2);
    EmbeddedChannel listener = listener(limiter);
    EmbeddedChannel first = new EmbeddedChannel();
    EmbeddedChannel second = new EmbeddedChannel();
    EmbeddedChannel third = new EmbeddedChannel();

    assertThat(accept(listener, first)).isTrue();
    assertThat(accept(listener, second)).isTrue();
    assertThat(accept(listener, third)).as("over the cap").isFalse();
    assertThat(third.isOpen()).as("closed as it is accepted").isFalse();
    assertThat(limiter.openFrom(HOST)).isEqualTo(2);

    first.close();
    assertThat(limiter.openFrom(HOST)).isEqualTo(1);
    EmbeddedChannel fourth = new EmbeddedChannel();
    assertThat(accept(listener, fourth)).as("a slot freed by a close").isTrue();
    assertThat(limiter.openFrom(HOST)).isEqualTo(2);

    second.close();
    fourth.close();
    assertThat(limiter.openFrom(HOST)).isZero();
    assertThat(limiter.hostsCounted()).as("a host with nothing open keeps nothing here").isZero();

    EmbeddedChannel again = new EmbeddedChannel();
    assertThat(accept(listener, again)).as("a host counted afresh").isTrue();
    assertThat(limiter.openFrom(HOST)).isEqualTo(1);
  }

  @Test
  void aRefusedHostThatHoldsNothingLeavesNothingBehind() {
    ConnectionLimiter limiter = new ConnectionLimiter(0);
    EmbeddedChannel listener = listener(limiter);

    for (int i = 0; i < 100; i++) {
      EmbeddedChannel refused = new EmbeddedChannel();
      assertThat(accept(listener, refused)).isFalse();
      assertThat(refused.isOpen()).isFalse();
    }
    assertThat(limiter.hostsCounted()).isZero();
  }

  @Test
  void aClosedConnectionCountsDownOnceHoweverItsCloseIsReported() {
    ConnectionLimiter limiter = new ConnectionLimiter(5);
    EmbeddedChannel listener = listener(limiter);
    EmbeddedChannel kept = new EmbeddedChannel();
    EmbeddedChannel closed = new EmbeddedChannel();
    accept(listener, kept);
    accept(listener, closed);

    closed.close();
    closed.close();

    assertThat(limiter.openFrom(HOST)).isEqualTo(1);
  }
}
