package dev.tether.manager.store;

import java.time.Instant;
import java.util.List;

/** A delegate as the manager last saw it; survives restarts. */
public record DelegateRecord(
    String id,
    String accountId,
    String name,
    String hostname,
    String delegateType,
    String version,
    List<String> tags,
    String ip,
    String tokenPublicId,
    String tokenName,
    boolean connected,
    Instant firstSeen,
    Instant connectedSince,
    Instant lastHeartbeat,
    Instant disconnectedAt,
    String disconnectReason) {}
