package dev.tether.manager.token;

import dev.tether.manager.store.TokenRecord;

/** The outcome of a revocation: the revoked token and how many live streams were cut. */
public record RevokeResult(TokenRecord token, int streamsClosed) {}
