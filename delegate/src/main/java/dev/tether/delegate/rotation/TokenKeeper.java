package dev.tether.delegate.rotation;

import dev.tether.common.token.DelegateToken;

/** Stores a successor token where the delegate's token comes from. */
public interface TokenKeeper {

  /**
   * Where the token is kept, for messages and reports (never the value), e.g.
   * "token file '/etc/tether/token'".
   */
  String describe();

  /**
   * Stores successor durably in place of the current value. On return the new value is what the
   * delegate's configuration yields at its next start. Throws CannotKeepException (message = the
   * reason, never a token value) leaving the old value fully in place.
   */
  void keep(DelegateToken successor) throws CannotKeepException;
}
