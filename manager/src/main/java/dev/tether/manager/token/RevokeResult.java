package dev.tether.manager.token;

import dev.tether.manager.store.TokenRecord;
import java.util.Map;

/**
 * The outcome of a revocation: the revoked token, how many live streams this replica cut, and the
 * streams closed per replica as confirmed (-1 for a replica that did not confirm in time).
 */
public record RevokeResult(TokenRecord token, int streamsClosed, Map<String, Integer> perReplica) {}
