package dev.tether.manager.server;

import dev.tether.proto.delegate.v1.DelegateStreamGrpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads that run the delegate streams' calls ({@code DelegateStream}: Register, heartbeats,
 * rotation answers and each stream's end), and what sends those calls there
 * ({@link #executors}); every other call stays on grpc-java's default executor.
 *
 * <p>A work-stealing pool of one thread per core (at least 2), named {@code tether-stream-N}. Its
 * threads take the next waiting task instead of each task being handed to a thread woken for it,
 * as grpc-java's default executor (a cached thread pool) does: when a revoke closed 10 000
 * streams, those hand-offs were a fifth of the manager's CPU (docs/benchmarks.md).
 *
 * <p>Nothing waits for the database here: a Register goes on from its group commit's result
 * instead of waiting for it, and a rotation's work for a stream (recording a delegate's answer,
 * handing a newly registered stream the successor) runs on the manager's rotation thread
 * ({@code RotationService}). Should a task wait all the same, {@code Database} runs its work as a
 * managed block, and the pool wakes an idle thread or adds a spare one when it begins to wait, so
 * that the tasks already queued go on. That is all a ForkJoinPool promises: a thread it woke to
 * stand in may then be busy, and a task queued later does not get another one (measured on JDK 17
 * and 25: with three of four threads waiting, two later tasks ran one after the other about once in
 * 500 tries), and past the spares a burst of waits holds every thread (a rotation's answers, written
 * here before, stopped heartbeats: {@code RotationAnswerWaitTest}).
 */
public final class StreamCalls implements AutoCloseable {

  /** Spare threads beyond one a core, for tasks waiting in managed blocks; past them a wait just waits. */
  private static final int MAX_SPARE_THREADS = 256;

  private final ForkJoinPool pool;

  private StreamCalls(ForkJoinPool pool) {
    this.pool = pool;
  }

  /** One thread per core of this machine. */
  public static StreamCalls create() {
    return withThreads(Runtime.getRuntime().availableProcessors());
  }

  /** {@code threads} runnable threads (at least 2). */
  static StreamCalls withThreads(int threads) {
    int parallelism = Math.max(2, threads);
    AtomicInteger numbers = new AtomicInteger();
    return new StreamCalls(new ForkJoinPool(parallelism, p -> {
      ForkJoinWorkerThread thread = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
      thread.setName("tether-stream-" + numbers.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    }, null, true,
        // no thread kept when idle; every blocked task replaced (minimum runnable = parallelism);
        // at the cap, a managed block waits instead of failing
        0, parallelism + MAX_SPARE_THREADS, parallelism, pool -> true, 60, TimeUnit.SECONDS));
  }

  /**
   * Sends the {@code DelegateStream} calls to this pool; every other call (the handshake, which
   * reads the database; health; the admin API, whose revoke may wait seconds for other replicas)
   * to grpc-java's default executor, which has a thread for every call that waits. gRPC looks the
   * method up on the default executor, then runs the call's interceptors, handler and callbacks on
   * the executor given here.
   */
  public ServerCallExecutorSupplier executors() {
    return new ServerCallExecutorSupplier() {
      @Override
      public <ReqT, RespT> Executor getExecutor(ServerCall<ReqT, RespT> call, Metadata headers) {
        return DelegateStreamGrpc.SERVICE_NAME.equals(call.getMethodDescriptor().getServiceName()) ? pool : null;
      }
    };
  }

  ForkJoinPool pool() {
    return pool;
  }

  /** After the server's calls have ended: nothing is left to run. */
  @Override
  public void close() {
    pool.shutdown();
  }
}
