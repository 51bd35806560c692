package dev.tether.manager.rotation;

import dev.tether.manager.store.TetherStore;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Wraps a store to count the rotation ticks a manager has completed: a tick starts by reading the
 * open rotations on the rotation thread, so two more reads than before mean one whole tick ran in
 * between. Lets a test say "the manager has looked at this rotation since" without sleeping.
 */
final class RotationTicks {

  private final AtomicInteger reads = new AtomicInteger();

  TetherStore wrap(TetherStore real) {
    return (TetherStore) Proxy.newProxyInstance(TetherStore.class.getClassLoader(), new Class<?>[] {TetherStore.class},
        (proxy, method, args) -> {
          try {
            return method.invoke(real, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          } finally {
            if (method.getName().equals("openRotations") && Thread.currentThread().getName().startsWith("tether-rotation")) {
              reads.incrementAndGet();
            }
          }
        });
  }

  /** How many ticks have started so far. */
  int started() {
    return reads.get();
  }
}
