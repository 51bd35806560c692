package dev.tether.manager.store;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Function;

/**
 * Group commit: writes of one kind submitted at the same time share one transaction, so one commit
 * (one sync to disk) serves all the writes that queued while the previous commit ran. Each caller
 * still returns only once its own write is committed. Should a shared transaction fail, its writes
 * are retried one by one, so that each caller gets its own outcome.
 */
final class GroupCommit<I, O> implements AutoCloseable {

  private record Pending<I, O>(I item, CompletableFuture<O> result) {}

  /** Put on the queue by close(): the writer ends there, never interrupted inside a write. */
  private static final Pending<Object, Object> STOP = new Pending<>(null, new CompletableFuture<>());

  private final BlockingQueue<Pending<I, O>> queue = new LinkedBlockingQueue<>();
  private final Function<List<I>, List<O>> together;
  private final Function<I, O> alone;
  private final int maxBatch;
  private final Thread writer;
  private volatile boolean closed;

  /**
   * {@code together} writes a batch in one transaction and returns one result per item, in order;
   * {@code alone} writes one item in its own transaction.
   */
  GroupCommit(String name, int maxBatch, Function<List<I>, List<O>> together, Function<I, O> alone) {
    this.together = together;
    this.alone = alone;
    this.maxBatch = maxBatch;
    this.writer = new Thread(this::run, name);
    writer.setDaemon(true);
    writer.start();
  }

  /** Writes {@code item}; returns once it is committed. */
  O submit(I item) {
    if (closed) {
      throw new StoreException("store closed", null);
    }
    CompletableFuture<O> result = new CompletableFuture<>();
    queue.add(new Pending<>(item, result));
    if (closed) {
      // close() may have drained the queue before this item arrived
      result.completeExceptionally(new StoreException("store closed", null));
    }
    try {
      return result.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        throw cause;
      }
      throw e;
    }
  }

  private void run() {
    List<Pending<I, O>> batch = new ArrayList<>();
    while (true) {
      Pending<I, O> first;
      try {
        first = queue.take();
      } catch (InterruptedException e) {
        break;
      }
      if (first == STOP) {
        break;
      }
      batch.add(first);
      queue.drainTo(batch, maxBatch - 1);
      if (batch.remove(STOP)) {
        queue.add(stop());
      }
      write(batch);
      batch.clear();
    }
    failQueued();
  }

  @SuppressWarnings("unchecked")
  private Pending<I, O> stop() {
    return (Pending<I, O>) STOP;
  }

  private void write(List<Pending<I, O>> batch) {
    if (batch.size() > 1) {
      try {
        List<O> results = together.apply(batch.stream().map(Pending::item).toList());
        for (int i = 0; i < batch.size(); i++) {
          batch.get(i).result().complete(results.get(i));
        }
        return;
      } catch (RuntimeException sharedFailed) {
        // fall through: each on its own, to find which one failed and why
      }
    }
    for (Pending<I, O> p : batch) {
      try {
        p.result().complete(alone.apply(p.item()));
      } catch (RuntimeException e) {
        p.result().completeExceptionally(e);
      }
    }
  }

  private void failQueued() {
    for (Pending<I, O> p; (p = queue.poll()) != null; ) {
      p.result().completeExceptionally(new StoreException("store closed", null));
    }
  }

  /** Writes waiting for the writer (for tests). */
  int queued() {
    return queue.size();
  }

  /** Stops taking writes; the one in progress finishes, queued ones fail. */
  @Override
  public void close() {
    closed = true;
    queue.add(stop());
    try {
      writer.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    failQueued();
  }
}
