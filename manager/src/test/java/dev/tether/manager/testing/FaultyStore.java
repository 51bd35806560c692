package dev.tether.manager.testing;

import dev.tether.manager.store.StoreException;
import dev.tether.manager.store.TetherStore;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.SQLException;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A store whose database can be made unreachable from a test: while {@link #down} names a
 * method (or "*"), calls to it fail with the same {@link StoreException} a lost database gives.
 */
public final class FaultyStore {

  private final AtomicReference<Set<String>> failing = new AtomicReference<>(Set.of());
  private final AtomicReference<Set<String>> afterFirstFailure = new AtomicReference<>(Set.of());
  private final AtomicReference<Set<String>> answerLost = new AtomicReference<>(Set.of());

  public TetherStore wrap(TetherStore real) {
    return (TetherStore) Proxy.newProxyInstance(TetherStore.class.getClassLoader(), new Class<?>[] {TetherStore.class},
        (proxy, method, args) -> {
          Set<String> now = failing.get();
          if (!method.getName().equals("close") && (now.contains("*") || now.contains(method.getName()))) {
            throw failure(method.getName(), now);
          }
          Object result;
          try {
            result = method.invoke(real, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
          if (answerLost.get().contains(method.getName())) {
            throw failure(method.getName(), failing.get());
          }
          return result;
        });
  }

  private StoreException failure(String method, Set<String> now) {
    Set<String> more = afterFirstFailure.getAndSet(Set.of());
    if (!more.isEmpty()) {
      Set<String> widened = new java.util.HashSet<>(now);
      widened.addAll(more);
      failing.set(Set.copyOf(widened));
    }
    return new StoreException("database error during " + method + ": connection refused",
        new SQLException("Connection refused (injected by the test)", "08001"));
  }

  /**
   * The named methods run on the database, and then fail as if the connection was lost before their
   * answer came back (a commit that happened, reported as failed), until {@link #up()}.
   */
  public void answerLost(String... methods) {
    answerLost.set(Set.of(methods));
  }

  /** Makes the named methods ("*" for all) fail until {@link #up()}. */
  public void down(String... methods) {
    failing.set(Set.of(methods));
  }

  /** Once a call fails, the database goes on to fail these methods too (a connection lost mid-write). */
  public void thenAlso(String... methods) {
    afterFirstFailure.set(Set.of(methods));
  }

  /**
   * The next revoke's commit fails (after it has committed, if {@code commits}: only its answer is
   * lost), and every read of the token after it fails too: the manager cannot know the outcome.
   */
  public void revokeOutcomeLost(boolean commits) {
    if (commits) {
      answerLost("revokeToken");
    } else {
      down("revokeToken");
    }
    thenAlso("findToken", "findTokenByPublicId");
  }

  public void up() {
    failing.set(Set.of());
    afterFirstFailure.set(Set.of());
    answerLost.set(Set.of());
  }
}
