package dev.tether.manager.admin;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import java.util.concurrent.Executor;

/** Call credentials that present the admin key as {@code authorization: Bearer <key>}. */
public final class AdminCredentials extends CallCredentials {

  private final String key;

  public AdminCredentials(String key) {
    this.key = key;
  }

  @Override
  public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
    Metadata headers = new Metadata();
    headers.put(AdminAuthInterceptor.AUTHORIZATION, "Bearer " + key);
    applier.apply(headers);
  }

  @Override
  public String toString() {
    return "AdminCredentials[redacted]";
  }
}
