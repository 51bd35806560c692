package dev.tether.manager.store;

import java.time.Duration;
import java.time.Instant;

/** A token the manager rotates by itself every {@code every}, next at {@code nextAt}. */
public record RotationSchedule(long tokenRow, String accountId, String tokenName, Duration every, Instant nextAt) { }
