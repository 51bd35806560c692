package dev.tether.manager.store;

import com.google.common.base.Ticker;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit: writes of one kind submitted at the same time share one transaction, so one commit
 * (one sync to disk) serves all the writes that queued while the previous commit ran. Each caller
 * learns from its own result when its own write is committed.
 *
 * <p>Failures: when the database cannot be reached (see {@link StoreException#isConnectivity()}),
 * the whole batch fails at once: trying its writes one by one would wait out the connection
 * timeout once per write (a batch of 256 took 21 minutes to fail). When the shared transaction
 * fails for another reason (a constraint, a bad row), the writes are retried one by one so that
 * only the bad one's caller fails; a connectivity failure during that retry fails the rest at
 * once. Every write has a deadline from its submission: one still queued or not yet retried when
 * it passes fails without being tried, since its caller has given up. The queue is bounded; a full
 * queue refuses new writes at once.
 */
final class GroupCommit<I, O> implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(GroupCommit.class);

  private record Pending<I, O>(I item, CompletableFuture<O> result, long deadlineNanos) {}

  /** Told, on the writer's thread, of each transaction that committed writes (for metrics). */
  @FunctionalInterface
  interface Observer {
    Observer NONE = (waited, writeNanos) -> {};

    /**
     * {@code waitedNanos} holds, for each write the transaction committed, the time from its
     * submission to the transaction's start; {@code writeNanos} is the transaction's own time.
     */
    void committed(long[] waitedNanos, long writeNanos);
  }

  /** Put on the queue by close(): the writer ends there, never interrupted inside a write. */
  private static final Pending<Object, Object> STOP = new Pending<>(null, new CompletableFuture<>(), 0);

  private final BlockingQueue<Pending<I, O>> queue;
  private final Function<List<I>, List<O>> together;
  private final Function<I, O> alone;
  private final int maxBatch;
  private final long deadlineNanos;
  private final Ticker ticker;
  private final Observer observer;
  private final Thread writer;
  private volatile boolean closed;

  /**
   * {@code together} writes a batch in one transaction and returns one result per item, in order;
   * {@code alone} writes one item in its own transaction. At most {@code capacity} writes wait; a
   * write not done within {@code deadline} of its submission fails.
   */
  GroupCommit(String name, int maxBatch, int capacity, java.time.Duration deadline, Ticker ticker,
      Function<List<I>, List<O>> together, Function<I, O> alone) {
    this(name, maxBatch, capacity, deadline, ticker, together, alone, Observer.NONE);
  }

  /** As above, and {@code observer} is told of each transaction that committed writes. */
  GroupCommit(String name, int maxBatch, int capacity, java.time.Duration deadline, Ticker ticker,
      Function<List<I>, List<O>> together, Function<I, O> alone, Observer observer) {
    this.ticker = ticker;
    this.observer = observer;
    this.together = together;
    this.alone = alone;
    this.maxBatch = maxBatch;
    this.deadlineNanos = deadline.toNanos();
    this.queue = new java.util.concurrent.ArrayBlockingQueue<>(capacity);
    this.writer = new Thread(this::run, name);
    writer.setDaemon(true);
    writer.start();
  }

  /**
   * Queues {@code item} for writing; the result completes once it is committed, or fails with a
   * {@link StoreException} (the store closed or busy, the write failed or missed its deadline).
   * Nothing waits here: a caller that must not hold a thread while the commit runs goes on from
   * the result.
   */
  CompletableFuture<O> submit(I item) {
    if (closed) {
      return CompletableFuture.failedFuture(storeClosed());
    }
    if (!writer.isAlive()) {
      // ended by an interrupt or an Error, not a close: nothing would ever write or fail this one
      return CompletableFuture.failedFuture(new StoreException("the writer of " + writer.getName() + " has stopped", null));
    }
    CompletableFuture<O> result = new CompletableFuture<>();
    Pending<I, O> pending = new Pending<>(item, result, ticker.read() + deadlineNanos);
    if (!queue.offer(pending)) {
      return CompletableFuture.failedFuture(
          new StoreException("store busy: " + queue.size() + " writes waiting", null));
    }
    if (closed && queue.remove(pending)) {
      // close() may have drained the queue before this item arrived; one the writer took already is
      // its to write or fail (failing it here while it commits would tell the caller it was not written)
      result.completeExceptionally(storeClosed());
    }
    return result;
  }

  private void run() {
    List<Pending<I, O>> batch = new ArrayList<>();
    boolean stopping = false;
    while (!stopping) {
      Pending<I, O> first;
      try {
        first = queue.take();
      } catch (InterruptedException e) {
        // not a close (which puts STOP on the queue): the writes waiting fail as the store's failure
        failQueued(new StoreException("the writer of " + writer.getName() + " was interrupted", null));
        return;
      }
      if (first == STOP) {
        break;
      }
      batch.add(first);
      queue.drainTo(batch, maxBatch - 1);
      stopping = batch.remove(STOP);
      if (closed) {
        // queued before the close, not written after it (a stopping manager closes their streams next)
        batch.forEach(p -> p.result().completeExceptionally(storeClosed()));
      } else {
        try {
          write(batch);
        } catch (RuntimeException e) {
          // a bug, not the database (write handles its failures): the writer goes on, and no
          // caller of this batch is left waiting
          StoreException failed = new StoreException("write failed: " + e, e);
          batch.forEach(p -> p.result().completeExceptionally(failed));
        }
      }
      batch.clear();
    }
    failQueued(storeClosed());
  }

  @SuppressWarnings("unchecked")
  private Pending<I, O> stop() {
    return (Pending<I, O>) STOP;
  }

  private void write(List<Pending<I, O>> batch) {
    List<Pending<I, O>> live = new ArrayList<>(batch.size());
    for (Pending<I, O> p : batch) {
      if (!expired(p)) {
        live.add(p);
      }
    }
    if (live.isEmpty()) {
      return;
    }
    if (live.size() > 1) {
      List<O> results = null;
      long started = ticker.read();
      long took = 0;
      try {
        results = together.apply(live.stream().map(Pending::item).toList());
        took = ticker.read() - started;
      } catch (StoreException sharedFailed) {
        if (sharedFailed.isConnectivity()) {
          live.forEach(p -> p.result().completeExceptionally(sharedFailed));
          return;
        }
        // fall through: each on its own, to find which one failed and why
      } catch (RuntimeException sharedFailed) {
        // fall through, as above
      }
      if (results != null) {
        if (results.size() == live.size()) {
          // before the callers hear: what they do next (a delegate told Registered) finds it counted
          observe(live, started, took);
        }
        // outside the write's failure handling: what a result's completion runs is not the write's
        for (int i = 0; i < live.size(); i++) {
          live.get(i).result().complete(results.get(i));
        }
        return;
      }
    }
    StoreException unreachable = null;
    for (Pending<I, O> p : live) {
      if (unreachable != null) {
        p.result().completeExceptionally(unreachable);
        continue;
      }
      if (expired(p)) {
        continue;
      }
      try {
        long started = ticker.read();
        O result = alone.apply(p.item());
        observe(List.of(p), started, ticker.read() - started);
        p.result().complete(result);
      } catch (StoreException e) {
        p.result().completeExceptionally(e);
        if (e.isConnectivity()) {
          unreachable = e;
        }
      } catch (RuntimeException e) {
        p.result().completeExceptionally(e);
      }
    }
  }

  private void observe(List<Pending<I, O>> committed, long started, long writeNanos) {
    long[] waited = new long[committed.size()];
    for (int i = 0; i < waited.length; i++) {
      // submitted at its deadline less the deadline every write gets
      waited[i] = Math.max(0, started - (committed.get(i).deadlineNanos() - deadlineNanos));
    }
    try {
      observer.committed(waited, writeNanos);
    } catch (RuntimeException e) {
      // the writes are committed and their callers answered: a failing observer changes neither
      log.warn("{}: recording a commit's metrics failed", writer.getName(), e);
    }
  }

  /** Fails {@code p} if its caller's deadline has passed; returns whether it did. */
  private boolean expired(Pending<I, O> p) {
    if (ticker.read() - p.deadlineNanos() < 0) {
      return false;
    }
    p.result().completeExceptionally(new StoreException("write not done within its deadline of "
        + java.time.Duration.ofNanos(deadlineNanos).toSeconds() + " s (database slow or unreachable)", null));
    return true;
  }

  private static StoreException storeClosed() {
    return new StoreClosedException();
  }

  private void failQueued(StoreException why) {
    for (Pending<I, O> p; (p = queue.poll()) != null; ) {
      p.result().completeExceptionally(why);
    }
  }

  /** Writes waiting for the writer (for tests). */
  int queued() {
    return queue.size();
  }

  /**
   * Stops taking writes; the one in progress finishes (waited for up to 10 s), queued ones fail with
   * {@link StoreClosedException}. A second call returns at once.
   */
  @Override
  public void close() {
    closed = true;
    try {
      if (writer.isAlive()) {
        // no write is taken any more, so the writer makes room for the marker
        queue.offer(stop(), 10, java.util.concurrent.TimeUnit.SECONDS);
        writer.join(10_000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (writer.isAlive()) {
      log.warn("{}: the write in progress did not finish within 10 s of the stop; it may still commit after it",
          writer.getName());
    }
    failQueued(storeClosed());
  }
}
