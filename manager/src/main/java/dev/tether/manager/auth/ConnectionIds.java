package dev.tether.manager.auth;

import io.grpc.Attributes;
import io.grpc.ServerTransportFilter;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Gives every connection (transport) a number of its own when it becomes ready, as a transport
 * attribute every call on it can read. A session is bound to that number: a new connection from
 * the same address, even from the same port after the first closed, is another connection.
 */
public final class ConnectionIds extends ServerTransportFilter {

  static final Attributes.Key<Long> CONNECTION = Attributes.Key.create("tether-connection-id");

  private final AtomicLong next = new AtomicLong();

  @Override
  public Attributes transportReady(Attributes attributes) {
    return attributes.toBuilder().set(CONNECTION, next.incrementAndGet()).build();
  }
}
