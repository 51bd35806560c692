package dev.tether.manager.testing;

import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.Status;

/**
 * A server call that goes nowhere, for tests of code that only wraps calls, reads their
 * attributes or waits for their end.
 */
public final class IdleServerCall extends ServerCall<Object, Object> {

  private final Attributes attributes;
  private final MethodDescriptor<?, ?> method;

  public IdleServerCall() {
    this(Attributes.EMPTY);
  }

  public IdleServerCall(Attributes attributes) {
    this.attributes = attributes;
    this.method = null;
  }

  /** A call of {@code method}, for code that looks at which method a call is. */
  public IdleServerCall(MethodDescriptor<?, ?> method) {
    this(Attributes.EMPTY, method);
  }

  /** A call of {@code method} on a transport with {@code attributes}. */
  public IdleServerCall(Attributes attributes, MethodDescriptor<?, ?> method) {
    this.attributes = attributes;
    this.method = method;
  }

  @Override
  public Attributes getAttributes() {
    return attributes;
  }

  @Override
  public void request(int numMessages) { }

  @Override
  public void sendHeaders(Metadata headers) { }

  @Override
  public void sendMessage(Object message) { }

  @Override
  public void close(Status status, Metadata trailers) { }

  @Override
  public boolean isCancelled() {
    return false;
  }

  @Override
  @SuppressWarnings("unchecked")
  public MethodDescriptor<Object, Object> getMethodDescriptor() {
    if (method == null) {
      throw new UnsupportedOperationException("this idle call was made without a method");
    }
    return (MethodDescriptor<Object, Object>) method;
  }
}
