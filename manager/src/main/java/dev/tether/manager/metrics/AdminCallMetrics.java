package dev.tether.manager.metrics;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Counts every admin API call as it ends, by method and status ({@code tether_admin_calls_total}),
 * and the ones refused for their credential ({@code tether_admin_auth_failures_total}). Installed
 * outside the authentication interceptor, so that refused calls are counted too. The method label
 * comes from the service definition ("TokenAdmin/RevokeToken"), never from the request: a name
 * the server does not know is answered UNIMPLEMENTED before any interceptor runs.
 */
public final class AdminCallMetrics implements ServerInterceptor {

  private final ManagerMetrics metrics;

  public AdminCallMetrics(ManagerMetrics metrics) {
    this.metrics = metrics;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    String method = shortName(call.getMethodDescriptor().getFullMethodName());
    return next.startCall(new SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        metrics.adminCall(method, status.getCode());
        if (status.getCode() == Status.Code.UNAUTHENTICATED) {
          metrics.adminAuthFailure();
        }
        super.close(status, trailers);
      }
    }, headers);
  }

  /** "tether.admin.v1.TokenAdmin/RevokeToken" as "TokenAdmin/RevokeToken". */
  static String shortName(String fullMethodName) {
    int slash = fullMethodName.indexOf('/');
    int dot = fullMethodName.lastIndexOf('.', slash < 0 ? fullMethodName.length() : slash);
    return dot < 0 ? fullMethodName : fullMethodName.substring(dot + 1);
  }
}
