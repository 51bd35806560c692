package dev.tether.manager.auth;

import com.google.protobuf.UnknownFieldSet;
import dev.tether.proto.delegate.v1.DelegateMessage;
import dev.tether.proto.delegate.v1.HandshakeRequest;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import java.io.InputStream;

/**
 * Garbage on the delegate port without a stack trace in the log. grpc-java closes a call whose
 * message does not parse, but logs the parse failure with a full stack trace at SEVERE: one line
 * of a few bytes from anyone made kilobytes of log. Here a message that does not parse becomes a
 * sentinel instance instead, which the service recognises by identity, refuses with
 * INVALID_ARGUMENT and logs in one line.
 */
public final class MalformedMessages {

  /** Stands for a handshake message that is not a valid {@link HandshakeRequest}. */
  public static final HandshakeRequest HANDSHAKE = HandshakeRequest.newBuilder()
      .setUnknownFields(marker()).build();

  /** Stands for a stream message that is not a valid {@link DelegateMessage}. */
  public static final DelegateMessage STREAM = DelegateMessage.newBuilder()
      .setUnknownFields(marker()).build();

  private MalformedMessages() {}

  /** {@code service}, whose every method takes {@code sentinel}'s type, parsing leniently. */
  @SuppressWarnings("unchecked")
  public static <Q> ServerServiceDefinition lenient(ServerServiceDefinition service, Q sentinel) {
    ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(service.getServiceDescriptor().getName())
        .setSchemaDescriptor(service.getServiceDescriptor().getSchemaDescriptor());
    ServerServiceDefinition.Builder lenient;
    java.util.List<ServerMethodDefinition<Q, ?>> methods = new java.util.ArrayList<>();
    for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
      methods.add(rewrap((ServerMethodDefinition<Q, Object>) method, sentinel));
    }
    methods.forEach(m -> descriptor.addMethod(m.getMethodDescriptor()));
    lenient = ServerServiceDefinition.builder(descriptor.build());
    methods.forEach(lenient::addMethod);
    return lenient.build();
  }

  private static <Q, R> ServerMethodDefinition<Q, R> rewrap(ServerMethodDefinition<Q, R> method, Q sentinel) {
    MethodDescriptor<Q, R> original = method.getMethodDescriptor();
    MethodDescriptor.Marshaller<Q> strict = original.getRequestMarshaller();
    MethodDescriptor.Marshaller<Q> lenient = new MethodDescriptor.Marshaller<>() {
      @Override
      public InputStream stream(Q value) {
        return strict.stream(value);
      }

      @Override
      public Q parse(InputStream stream) {
        try {
          return strict.parse(stream);
        } catch (RuntimeException notProtobuf) {
          return sentinel;
        }
      }
    };
    return ServerMethodDefinition.create(
        original.toBuilder(lenient, original.getResponseMarshaller()).build(), method.getServerCallHandler());
  }

  private static UnknownFieldSet marker() {
    return UnknownFieldSet.newBuilder()
        .addField(536_870_911, UnknownFieldSet.Field.newBuilder().addVarint(0x7e7e7e).build())
        .build();
  }
}
