package dev.tether.manager.token;

import dev.tether.manager.store.Account;

/** An account just created, with its {@code default} token (value shown this once). */
public record CreatedAccount(Account account, CreatedToken defaultToken) {}
