package dev.tether.manager.store;

import java.time.Instant;
import java.util.List;

/** A delegate as the managers last saw it, and the replica holding its stream; survives restarts. */
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
    String disconnectReason,
    String replicaId) {}
