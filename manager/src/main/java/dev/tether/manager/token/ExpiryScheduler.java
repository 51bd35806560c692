package dev.tether.manager.token;

import dev.tether.common.text.UserText;
import dev.tether.manager.store.StoreException;
import dev.tether.manager.store.TetherStore;
import dev.tether.manager.store.TokenRecord;
import io.grpc.StatusRuntimeException;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Revokes each expiring token at its expiry instant, exactly as {@code token revoke} does (streams
 * cut, audit event {@code token.expire}), with one timer per token rather than a periodic sweep.
 * At start it schedules every active expiring token; overdue ones are revoked at once.
 */
public final class ExpiryScheduler {

  private static final Logger log = LoggerFactory.getLogger(ExpiryScheduler.class);

  private final TetherStore store;
  private final TokenService tokens;
  private final ScheduledExecutorService scheduler;
  private final Clock clock;

  public ExpiryScheduler(TetherStore store, TokenService tokens, ScheduledExecutorService scheduler, Clock clock) {
    this.store = store;
    this.tokens = tokens;
    this.scheduler = scheduler;
    this.clock = clock;
  }

  public void scheduleAll() {
    for (TokenRecord token : store.listExpiringTokens()) {
      schedule(token);
    }
  }

  public void schedule(TokenRecord token) {
    if (token.expiresAt() == null) {
      return;
    }
    long delay = Math.max(0, Duration.between(clock.instant(), token.expiresAt()).toMillis());
    scheduler.schedule(() -> expire(token), delay, TimeUnit.MILLISECONDS);
  }

  private void expire(TokenRecord token) {
    try {
      var current = store.findToken(token.accountId(), token.name());
      if (current.isEmpty() || !current.get().active() || current.get().id() != token.id()) {
        return;
      }
      RevokeResult result = tokens.revoke(current.get(), "system", "expired", "token.expire");
      log.info("token expired: {} {} {}; {} live streams closed", token.accountId(), UserText.quote(token.name()),
          token.publicId(), result.streamsClosed());
    } catch (StoreException | StatusRuntimeException e) {
      log.warn("could not expire token {} now, retrying in 1 s: {}", token.publicId(), e.getMessage());
      scheduler.schedule(() -> expire(token), 1, TimeUnit.SECONDS);
    }
  }
}
