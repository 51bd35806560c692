package dev.tether.manager.store;

import java.time.Instant;

/** A manager replica as registered in the shared database. */
public record Replica(String id, String address, Instant startedAt, Instant lastSeen) {}
