package dev.tether.manager.store;

import java.time.Instant;

/** An account: the unit that owns tokens and delegates. */
public record Account(String id, String name, Instant createdAt, String createdBy) {}
