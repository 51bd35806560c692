package dev.tether.manager.testing;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/** A response observer that completes a future with the status the call ended with. */
public final class EndStatus {

  private EndStatus() {}

  /** Messages go to {@code onMessage}; the end, OK or not, completes {@code closed}. */
  public static <T> StreamObserver<T> into(CompletableFuture<Status> closed, Consumer<T> onMessage) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        onMessage.accept(value);
      }

      @Override
      public void onError(Throwable t) {
        closed.complete(Status.fromThrowable(t));
      }

      @Override
      public void onCompleted() {
        closed.complete(Status.OK);
      }
    };
  }

  /** Ignores messages; completes {@code closed} at the end. */
  public static <T> StreamObserver<T> into(CompletableFuture<Status> closed) {
    return into(closed, message -> { });
  }
}
