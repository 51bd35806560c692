package dev.tether.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.proto.admin.v1.ListTokensResponse;
import dev.tether.proto.admin.v1.Token;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two managers as separate processes on one PostgreSQL database: a token that expires in 20 s is
 * created on the first, the first is killed with SIGKILL, and the delegate connected to the second
 * is cut with "delegate token revoked" at the expiry instant, by the second.
 */
class ReplicaExpiryEndToEndTest {

  private static final Duration START = Duration.ofSeconds(90);

  @TempDir Path work;

  @Test
  void aTokenCreatedOnAKilledReplica_isCutAtItsExpiryByTheOther() throws Exception {
    try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().start()) {
      try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
        s.execute("CREATE DATABASE tether_expiry");
      }
      String dbUrl = postgres.getJdbcUrl("postgres", "tether_expiry");
      Path first = work.resolve("first");
      Path second = work.resolve("second");
      try (Tether one = new Tether(first, "ReplicaExpiryEndToEndTest-1", "--db-url", dbUrl).start()) {
        String account = one.account("acme");
        // the second replica shares the first one's keys, as an operator deploys replicas
        Files.createDirectories(second, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        for (String key : new String[] {"master.key", "admin.key"}) {
          Files.copy(first.resolve(key), second.resolve(key), java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        }
        try (Tether two = new Tether(second, "ReplicaExpiryEndToEndTest-2", "--db-url", dbUrl).start()) {
          // created on the first replica once both run, so that the expiry's window holds only the
          // delegate's start, with room for a loaded machine (a 20 s token created before the second
          // replica started expired before its delegate connected once)
          String token = one.token(account, "brief", "--expires-in", "45s");
          Instant expiresAt = expiry(one, account, "brief");
          Proc delegate = two.delegate("on-the-second", two.env(account, token));
          delegate.awaitLine("connected to", START);

          one.manager().kill();
          assertThat(one.manager().awaitExit(Duration.ofSeconds(30))).as("SIGKILL").isEqualTo(137);
          assertThat(Instant.now()).as("the first replica died before the expiry").isBefore(expiresAt);

          assertThat(delegate.awaitExit(START)).as("delegate exit; stderr: %s", delegate.stderr()).isEqualTo(78);
          assertThat(delegate.stderr()).contains(" expired; ");
          Instant cutAt = loggedAt(two.manager(), "token expired: .*" + Pattern.quote(account));
          long lateMs = Duration.between(expiresAt, cutAt).toMillis();
          System.out.printf("the second replica ended the token %d ms after its expiry instant%n", lateMs);
          assertThat(lateMs).as("ms after the expiry instant").isBetween(0L, 3_000L);
          assertThat(Tether.parse(two.cli("token", "list", "--account", account, "--json").ok().out(),
              ListTokensResponse.getDefaultInstance()).getTokensList())
              .filteredOn(Token::getName, "brief").singleElement()
              .satisfies(t -> assertThat(t.getStatus().name()).isEqualTo("EXPIRED"));
        }
      }
    }
  }

  private static Instant expiry(Tether tether, String account, String name) {
    return Tether.parse(tether.cli("token", "list", "--account", account, "--json").ok().out(),
            ListTokensResponse.getDefaultInstance()).getTokensList().stream()
        .filter(t -> t.getName().equals(name)).map(t -> Instant.ofEpochMilli(t.getExpiresAtUnixMs()))
        .findFirst().orElseThrow();
  }

  /** The time stamp of the first line of {@code proc}'s log matching {@code regex}. */
  private static Instant loggedAt(Proc proc, String regex) {
    Matcher m = Pattern.compile("^(\\S+Z) .*" + regex, Pattern.MULTILINE).matcher(proc.stdout() + "\n" + proc.stderr());
    assertThat(m.find()).as("a log line matching /%s/", regex).isTrue();
    return Instant.parse(m.group(1));
  }
}
