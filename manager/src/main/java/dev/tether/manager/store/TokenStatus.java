package dev.tether.manager.store;

/** Lifecycle of a token: only ACTIVE tokens pass the handshake. */
public enum TokenStatus {
  ACTIVE,
  REVOKED,
  EXPIRED
}
