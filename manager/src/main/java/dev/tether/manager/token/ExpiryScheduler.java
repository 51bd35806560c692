package dev.tether.manager.token;

import dev.tether.manager.store.StoreException;
import dev.tether.manager.store.TokenRecord;
import dev.tether.manager.store.TokenStore;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends each expiring token at its expiry instant on this replica, whichever replica created it: one
 * timer per token, set at start for every active expiring token and, for tokens created since,
 * when this replica creates one or finds it at its next {@link #refresh()} (every reconciliation
 * interval). The timer only dispatches; the work ({@link TokenService#expire}) runs on the store's
 * executor. Overdue tokens are ended at once.
 */
public final class ExpiryScheduler {

  private static final Logger log = LoggerFactory.getLogger(ExpiryScheduler.class);

  private final TokenStore store;
  private final TokenService tokens;
  private final ScheduledExecutorService timers;
  private final ExecutorService storeWork;
  private final Clock clock;
  private final Set<Long> scheduled = ConcurrentHashMap.newKeySet();

  public ExpiryScheduler(TokenStore store, TokenService tokens, ScheduledExecutorService timers,
      ExecutorService storeWork, Clock clock) {
    this.store = store;
    this.tokens = tokens;
    this.timers = timers;
    this.storeWork = storeWork;
    this.clock = clock;
  }

  /** Sets a timer for every active expiring token that has none yet (a database read). */
  public void refresh() {
    for (TokenRecord token : store.listExpiringTokens()) {
      schedule(token);
    }
  }

  public void schedule(TokenRecord token) {
    if (token.expiresAt() == null || !scheduled.add(token.id())) {
      return;
    }
    long delay = Math.max(0, Duration.between(clock.instant(), token.expiresAt()).toMillis());
    timers.schedule(() -> dispatch(token), delay, TimeUnit.MILLISECONDS);
  }

  private void dispatch(TokenRecord token) {
    try {
      storeWork.execute(() -> expire(token));
    } catch (RejectedExecutionException stopping) {
      scheduled.remove(token.id());
    }
  }

  private void expire(TokenRecord token) {
    try {
      tokens.expire(token);
      scheduled.remove(token.id());
    } catch (StoreException e) {
      // the streams here are cut already; the commit is tried again
      log.warn("could not record token {} as expired, retrying in 1 s: {}", token.publicId(), e.getMessage());
      try {
        timers.schedule(() -> dispatch(token), 1, TimeUnit.SECONDS);
      } catch (RejectedExecutionException stopping) {
        scheduled.remove(token.id());
      }
    }
  }
}
