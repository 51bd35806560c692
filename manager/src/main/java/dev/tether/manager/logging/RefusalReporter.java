package dev.tether.manager.logging;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;

/**
 * Turns a flood of refusals into a bounded number of log lines and audit rows: for each source
 * and reason, the first refusal of an interval is logged (and audited) at once, later ones are
 * only counted, and the count is reported in one line (and one row) when the interval ends.
 *
 * <p>An interval starts with a pair's first refusal and lasts {@code interval}; {@link #flush()},
 * which the owner calls from a timer (more often than the interval), reports the intervals that
 * are over, and {@link #close()} reports every open one. So a pair costs at most two lines per
 * interval, however fast it is refused. At most {@code maxTrackedPairs} pairs are tracked at once;
 * refusals of further pairs share one "other sources" entry, so memory and output stay bounded
 * under a flood from many addresses. Reasons should come from a fixed set, not from the request.
 *
 * <p>Thread-safe. Logging and auditing happen outside the lock, on the caller's thread.
 */
public final class RefusalReporter implements AutoCloseable {

  /** The source under which refusals beyond {@code maxTrackedPairs} pairs are counted together. */
  public static final String OTHER_SOURCES = "other sources";

  /**
   * One report: a refusal logged at once ({@code more == 0}, with its detail), or how many more
   * refusals of the pair followed it during {@code window}.
   */
  public record Refusal(String source, String reason, String detail, long more, Duration window, String address) {

    /** A refusal without a remote address of its own (the source is one). */
    public Refusal(String source, String reason, String detail, long more, Duration window) {
      this(source, reason, detail, more, window, null);
    }

    /** The text of the log line (after the reporter's subject) and of the audit row. */
    public String describe() {
      if (more == 0) {
        return reason + " from " + source + (detail == null || detail.isEmpty() ? "" : " (" + detail + ")");
      }
      long seconds = Math.max(1, Math.round(window.toMillis() / 1000.0));
      return more + " more refusal" + (more == 1 ? "" : "s") + " from " + source
          + (source.equals(OTHER_SOURCES) ? "" : " (" + reason + ")") + " in the last " + seconds + " s";
    }
  }

  private record Pair(String source, String reason) {}

  private static final class Window {
    final long startedNanos;
    long more;

    Window(long startedNanos) {
      this.startedNanos = startedNanos;
    }
  }

  private final String subject;
  private final Logger log;
  private final long intervalNanos;
  private final Duration interval;
  private final int maxTrackedPairs;
  private final Ticker ticker;
  private final Consumer<Refusal> audit;
  private final Map<Pair, Window> windows = new HashMap<>();
  private Window others;

  /**
   * @param subject what was refused, the start of every line (for example "admin call refused")
   * @param log where the lines go (the owner's logger, so that they keep its name)
   * @param audit receives every reported refusal as an audit row ({@code r -> {}} for none);
   *     a failure there is logged, never thrown at the caller
   */
  public RefusalReporter(String subject, Logger log, Duration interval, int maxTrackedPairs, Ticker ticker,
      Consumer<Refusal> audit) {
    this.subject = requireNonNull(subject, "subject");
    this.log = requireNonNull(log, "log");
    this.interval = requireNonNull(interval, "interval");
    if (interval.isNegative() || interval.isZero() || maxTrackedPairs < 1) {
      throw new IllegalArgumentException("interval " + interval + " and maxTrackedPairs " + maxTrackedPairs
          + " must be positive");
    }
    this.intervalNanos = interval.toNanos();
    this.maxTrackedPairs = maxTrackedPairs;
    this.ticker = requireNonNull(ticker, "ticker");
    this.audit = requireNonNull(audit, "audit");
  }

  /** How long a pair's interval lasts: the owner calls {@link #flush()} several times within it. */
  public Duration interval() {
    return interval;
  }

  /**
   * Reports one refusal: logged and audited if it is the first of its pair in the current
   * interval, otherwise only counted.
   *
   * @param source who was refused (a remote host, without the port, so that reconnects count together)
   * @param reason why, from a fixed set ("wrong admin key")
   * @param detail more about this refusal, shown only with the first of an interval
   */
  public void report(String source, String reason, String detail) {
    report(source, reason, detail, null);
  }

  /**
   * As {@link #report(String, String, String)}, for a source that is not an address (an admin's
   * name): {@code address}, where this refusal came from, goes with the first of an interval.
   */
  public void report(String source, String reason, String detail, String address) {
    Pair pair = new Pair(requireNonNull(source, "source"), requireNonNull(reason, "reason"));
    boolean overflow;
    synchronized (this) {
      Window window = windows.get(pair);
      if (window != null) {
        window.more++;
        return;
      }
      overflow = windows.size() >= maxTrackedPairs;
      if (!overflow) {
        windows.put(pair, new Window(ticker.read()));
      } else if (others != null) {
        others.more++;
        return;
      } else {
        others = new Window(ticker.read());
      }
    }
    Refusal first = new Refusal(source, reason, detail, 0, Duration.ZERO, address);
    if (overflow) {
      log.warn("{}: {}; more than {} sources refused in this interval, so refusals from further sources are"
          + " counted together as '{}'", subject, first.describe(), maxTrackedPairs, OTHER_SOURCES);
    } else {
      log.warn("{}: {}", subject, first.describe());
    }
    audit(first);
  }

  /** Reports the count of every interval that is over, and forgets those pairs. */
  public void flush() {
    emit(ended(false));
  }

  /** Reports the count of every open interval, over or not. */
  @Override
  public void close() {
    emit(ended(true));
  }

  /** How many source and reason pairs are tracked now (at most {@code maxTrackedPairs}). */
  public synchronized int trackedPairs() {
    return windows.size();
  }

  private synchronized List<Refusal> ended(boolean all) {
    long now = ticker.read();
    List<Refusal> out = new ArrayList<>();
    for (Iterator<Map.Entry<Pair, Window>> it = windows.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Pair, Window> entry = it.next();
      Window window = entry.getValue();
      if (all || now - window.startedNanos >= intervalNanos) {
        it.remove();
        if (window.more > 0) {
          out.add(new Refusal(entry.getKey().source(), entry.getKey().reason(), null, window.more,
              Duration.ofNanos(now - window.startedNanos)));
        }
      }
    }
    if (others != null && (all || now - others.startedNanos >= intervalNanos)) {
      if (others.more > 0) {
        out.add(new Refusal(OTHER_SOURCES, "various reasons", null, others.more,
            Duration.ofNanos(now - others.startedNanos)));
      }
      others = null;
    }
    return out;
  }

  private void emit(List<Refusal> counts) {
    for (Refusal count : counts) {
      log.warn("{}: {}", subject, count.describe());
      audit(count);
    }
  }

  private void audit(Refusal refusal) {
    try {
      audit.accept(refusal);
    } catch (RuntimeException e) {
      log.warn("{}: could not audit '{}': {}", subject, refusal.describe(), e.toString());
    }
  }
}
