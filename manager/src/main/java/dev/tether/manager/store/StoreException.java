package dev.tether.manager.store;

import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.SQLTransientConnectionException;

/** The database failed or is unreachable; callers fail closed. */
public class StoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * Whether the database could not be reached or did not answer in time (SQLState class 08, a
   * connection or statement timeout), rather than refusing this particular write: retrying other
   * writes at once would only wait out the same timeout again.
   */
  public boolean isConnectivity() {
    for (Throwable t = getCause(); t != null; t = t.getCause()) {
      if (t instanceof SQLTimeoutException || t instanceof SQLTransientConnectionException) {
        return true;
      }
      if (t instanceof SQLException sql && sql.getSQLState() != null && sql.getSQLState().startsWith("08")) {
        return true;
      }
    }
    return false;
  }
}
