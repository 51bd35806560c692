package dev.tether.manager.token;

import dev.tether.common.token.DelegateToken;
import dev.tether.manager.store.TokenRecord;

/** A token just created: its record and, this once, its value. */
public record CreatedToken(TokenRecord record, DelegateToken value) {}
