package dev.tether.manager.console;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.common.text.UserText;
import dev.tether.common.token.DelegateToken;
import dev.tether.common.token.TokenFormatException;
import dev.tether.manager.admin.AdminAuthInterceptor;
import dev.tether.manager.install.DelegateImage;
import dev.tether.manager.install.InstallFiles;
import dev.tether.manager.install.InstallSpec;
import dev.tether.manager.install.InstallType;
import dev.tether.manager.server.Manager;
import dev.tether.manager.store.Actor;
import dev.tether.manager.store.AdminRecord;
import dev.tether.proto.admin.v1.Account;
import dev.tether.proto.admin.v1.AccountAdminGrpc;
import dev.tether.proto.admin.v1.AdminAccessGrpc;
import dev.tether.proto.admin.v1.AuditAdminGrpc;
import dev.tether.proto.admin.v1.AuditEvent;
import dev.tether.proto.admin.v1.ConnectionFilter;
import dev.tether.proto.admin.v1.CreateAccountRequest;
import dev.tether.proto.admin.v1.CreateAccountResponse;
import dev.tether.proto.admin.v1.CreateTokenRequest;
import dev.tether.proto.admin.v1.CreateTokenResponse;
import dev.tether.proto.admin.v1.Delegate;
import dev.tether.proto.admin.v1.DelegateAdminGrpc;
import dev.tether.proto.admin.v1.DeleteDelegateRequest;
import dev.tether.proto.admin.v1.DeleteTokenRequest;
import dev.tether.proto.admin.v1.ListAccountsRequest;
import dev.tether.proto.admin.v1.ListAuditRequest;
import dev.tether.proto.admin.v1.ListDelegatesRequest;
import dev.tether.proto.admin.v1.ListTokensRequest;
import dev.tether.proto.admin.v1.PrepareInstallRequest;
import dev.tether.proto.admin.v1.RevokeTokenRequest;
import dev.tether.proto.admin.v1.RevokeTokenResponse;
import dev.tether.proto.admin.v1.Token;
import dev.tether.proto.admin.v1.TokenAdminGrpc;
import dev.tether.proto.admin.v1.WhoAmIRequest;
import dev.tether.proto.admin.v1.WhoAmIResponse;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.CookieHeaderNames;
import io.netty.handler.codec.http.cookie.DefaultCookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import io.netty.handler.codec.http.cookie.ServerCookieEncoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;

/**
 * The web console's requests: the static page, sign-in and sign-out, and a JSON API over the admin
 * services (docs/console.md). A signed-in request carries the session cookie; one that changes
 * anything also carries the session's CSRF token in {@code X-CSRF-Token}, is JSON, and comes from
 * this origin. Every admin action goes through the in-process admin server as the session's admin,
 * so roles, audit and revocation are those of the admin API.
 */
final class ConsoleApi {

  static final String COOKIE = "tether_console";
  static final Metadata.Key<String> SESSION = Metadata.Key.of("tether-console-session", Metadata.ASCII_STRING_MARSHALLER);
  /** The browser's HOST:PORT for this request, for the audit trail (trusted: only the in-process server reads it). */
  static final Metadata.Key<String> REMOTE = Metadata.Key.of("tether-console-remote", Metadata.ASCII_STRING_MARSHALLER);
  static final String CSP = "default-src 'self'; frame-ancestors 'none'";
  private static final String JSON = "application/json; charset=utf-8";
  private static final int CALL_SECONDS = 60;
  private static final int AUDIT_LIMIT = 200;
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Map<String, String> STATIC = Map.of(
      "/", "index.html",
      "/index.html", "index.html",
      "/console.js", "console.js",
      "/console.css", "console.css",
      "/favicon.svg", "favicon.svg");
  private static final Map<String, String> TYPES = Map.of(
      "html", "text/html; charset=utf-8",
      "js", "text/javascript; charset=utf-8",
      "css", "text/css; charset=utf-8",
      "svg", "image/svg+xml");

  private final Manager manager;
  private final ConsoleSessions sessions;
  private final ManagedChannel channel;
  private final boolean tls;
  private final IntSupplier delegatePort;
  private final Map<String, byte[]> files = new HashMap<>();

  ConsoleApi(Manager manager, ManagedChannel channel, boolean tls, IntSupplier delegatePort) {
    this.manager = manager;
    this.sessions = manager.consoleSessions();
    this.channel = channel;
    this.tls = tls;
    this.delegatePort = delegatePort;
    for (String file : STATIC.values()) {
      try (InputStream in = ConsoleApi.class.getResourceAsStream("/console/" + file)) {
        if (in == null) {
          throw new IllegalStateException("the manager jar lacks console/" + file);
        }
        files.put(file, in.readAllBytes());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** An answer: status, content type, body and any headers beyond the common ones. */
  record Response(HttpResponseStatus status, String contentType, byte[] body, Map<String, String> headers) {
    static Response json(HttpResponseStatus status, JsonNode body) {
      try {
        return new Response(status, JSON, MAPPER.writeValueAsBytes(body), Map.of());
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }

    static Response ok(JsonNode body) {
      return json(HttpResponseStatus.OK, body);
    }

    static Response error(HttpResponseStatus status, String message) {
      return json(status, MAPPER.createObjectNode().put("error", message));
    }

    Response with(String header, String value) {
      Map<String, String> more = new LinkedHashMap<>(headers);
      more.put(header, value);
      return new Response(status, contentType, body, more);
    }
  }

  /** A request the API refuses, with the status and message to answer. */
  static final class Refused extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final transient HttpResponseStatus status;

    Refused(HttpResponseStatus status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }

  /** The headers every response carries, errors included. */
  static void securityHeaders(HttpHeaders headers) {
    headers.set("Content-Security-Policy", CSP);
    headers.set("X-Content-Type-Options", "nosniff");
    headers.set("Referrer-Policy", "no-referrer");
    headers.set("X-Frame-Options", "DENY");
    headers.set("Cross-Origin-Opener-Policy", "same-origin");
    headers.set(HttpHeaderNames.CACHE_CONTROL, "no-store");
  }

  static String pathOf(String uri) {
    return new QueryStringDecoder(uri).path();
  }

  /** The remote address of the request this pool thread serves, for the admin calls it makes. */
  private static final ThreadLocal<String> REQUEST_REMOTE = new ThreadLocal<>();

  Response handle(FullHttpRequest request, InetSocketAddress remote) {
    REQUEST_REMOTE.set(AdminAuthInterceptor.address(remote));
    try {
      return serve(request, remote);
    } finally {
      REQUEST_REMOTE.remove();
    }
  }

  private Response serve(FullHttpRequest request, InetSocketAddress remote) {
    QueryStringDecoder query = new QueryStringDecoder(request.uri());
    String path = query.path();
    HttpMethod method = request.method();
    try {
      if (!path.startsWith("/api/")) {
        String file = STATIC.get(path);
        if (file == null) {
          return Response.error(HttpResponseStatus.NOT_FOUND, "no page " + UserText.quote(path) + " here; the console"
              + " is at /");
        }
        if (!method.equals(HttpMethod.GET)) {
          return Response.error(HttpResponseStatus.METHOD_NOT_ALLOWED, method + " " + path + " is not allowed (GET)");
        }
        return new Response(HttpResponseStatus.OK, TYPES.get(file.substring(file.lastIndexOf('.') + 1)),
            files.get(file), Map.of());
      }
      String address = AdminAuthInterceptor.address(remote);
      if (method.equals(HttpMethod.POST)) {
        checkPostShape(request);
        JsonNode body = body(request);
        if (path.equals("/api/login")) {
          return login(body, address, remote);
        }
        ConsoleSessions.Session session = session(request, true);
        if (!ConsoleSessions.csrfMatches(session, request.headers().get("X-CSRF-Token"))) {
          throw new Refused(HttpResponseStatus.FORBIDDEN, "the request's CSRF token is missing or wrong (reload the"
              + " console and try again); nothing was changed");
        }
        return switch (path) {
          case "/api/logout" -> logout(session);
          case "/api/accounts" -> createAccount(session, body);
          case "/api/tokens" -> createToken(session, body);
          case "/api/tokens/revoke" -> revokeToken(session, body);
          case "/api/tokens/delete" -> deleteToken(session, body);
          case "/api/delegates/delete" -> deleteDelegate(session, body);
          case "/api/install" -> install(session, body);
          default -> Response.error(HttpResponseStatus.NOT_FOUND, "no API " + UserText.quote(path));
        };
      }
      if (!method.equals(HttpMethod.GET)) {
        return Response.error(HttpResponseStatus.METHOD_NOT_ALLOWED, method + " " + path + " is not allowed (GET"
            + " or POST)");
      }
      boolean background = "1".equals(request.headers().get("X-Tether-Background"));
      ConsoleSessions.Session session = session(request, !background);
      return switch (path) {
        case "/api/session" -> whoAmI(session);
        case "/api/accounts" -> accounts(session);
        case "/api/tokens" -> tokens(session, param(query, "account", true));
        case "/api/delegates" -> delegates(session, param(query, "account", true), param(query, "state", false),
            param(query, "token", false));
        case "/api/install/defaults" -> installDefaults(request);
        case "/api/audit" -> audit(session, param(query, "account", false), param(query, "admin", false),
            param(query, "limit", false));
        default -> Response.error(HttpResponseStatus.NOT_FOUND, "no API " + UserText.quote(path));
      };
    } catch (Refused e) {
      return Response.error(e.status, e.getMessage());
    } catch (StatusRuntimeException e) {
      return fromStatus(e);
    }
  }

  // --- sign-in

  private Response login(JsonNode body, String address, InetSocketAddress remote) {
    String credential = text(body, "credential", false);
    String code = text(body, "code", false);
    Optional<AdminRecord> admin;
    String how;
    if (credential != null) {
      admin = manager.admins().authenticate(credential.strip());
      how = "signed in to the web console with a credential";
    } else if (code != null) {
      admin = sessions.redeem(code.strip()).flatMap(c -> manager.store().findAdmin(c.adminName())
          .filter(a -> a.active() && a.publicId().equals(c.adminId())));
      how = "signed in to the web console with a one-time link";
    } else {
      throw new Refused(HttpResponseStatus.BAD_REQUEST, "sign-in needs \"credential\" (an admin credential, tak_...)"
          + " or \"code\" (from a 'console login' link)");
    }
    if (admin.isEmpty()) {
      manager.adminRefusals().report(remote.getAddress().getHostAddress(),
          credential != null ? "unknown or revoked admin credential" : "unknown, used or expired sign-in link",
          "signing in to the web console");
      return Response.error(HttpResponseStatus.UNAUTHORIZED, credential != null
          ? "sign-in failed: that is not the credential of an active admin (it is printed once by 'admin create';"
              + " the bootstrap owner's is the data directory's admin.key)"
          : "sign-in failed: this link is unknown, used or older than 5 minutes; run 'tether-manager console login'"
              + " for a new one");
    }
    ConsoleSessions.Opened opened = sessions.open(admin.get(), address);
    manager.store().audit(manager.clock().instant(), Actor.admin(admin.get().name(), admin.get().publicId(), address),
        "console.sign_in", null, null, how);
    return sessionBody(admin.get().name(), admin.get().role().label(), opened.session())
        .with(HttpHeaderNames.SET_COOKIE.toString(), cookie(opened.cookie(), false));
  }

  private Response logout(ConsoleSessions.Session session) {
    sessions.close(session);
    manager.store().audit(manager.clock().instant(), Actor.admin(session.adminName(), session.adminId(),
        session.remoteAddress()), "console.sign_out", null, null, "signed out of the web console");
    return Response.ok(MAPPER.createObjectNode()).with(HttpHeaderNames.SET_COOKIE.toString(), cookie("", true));
  }

  private Response whoAmI(ConsoleSessions.Session session) {
    WhoAmIResponse who = stub(AdminAccessGrpc.newBlockingStub(channel), session).whoAmI(WhoAmIRequest.getDefaultInstance());
    return sessionBody(who.getAdmin().getName(), who.getAdmin().getRole().name().toLowerCase(Locale.ROOT), session);
  }

  private static Response sessionBody(String name, String role, ConsoleSessions.Session session) {
    ObjectNode body = MAPPER.createObjectNode();
    body.putObject("admin").put("name", name).put("role", role);
    body.put("csrf", session.csrf());
    return Response.ok(body);
  }

  private String cookie(String value, boolean clear) {
    DefaultCookie cookie = new DefaultCookie(COOKIE, value);
    cookie.setHttpOnly(true);
    cookie.setSecure(tls);
    cookie.setSameSite(CookieHeaderNames.SameSite.Strict);
    cookie.setPath("/");
    if (clear) {
      cookie.setMaxAge(0);
    }
    return ServerCookieEncoder.STRICT.encode(cookie);
  }

  // --- accounts and tokens

  private Response accounts(ConsoleSessions.Session session) {
    ArrayNode list = MAPPER.createArrayNode();
    stub(AccountAdminGrpc.newBlockingStub(channel), session).listAccounts(ListAccountsRequest.getDefaultInstance())
        .getAccountsList().forEach(a -> list.add(account(a)));
    ObjectNode body = MAPPER.createObjectNode();
    body.set("accounts", list);
    return Response.ok(body);
  }

  private Response createAccount(ConsoleSessions.Session session, JsonNode body) {
    CreateAccountResponse created = stub(AccountAdminGrpc.newBlockingStub(channel), session)
        .createAccount(CreateAccountRequest.newBuilder().setName(text(body, "name", true)).build());
    ObjectNode out = MAPPER.createObjectNode();
    out.set("account", account(created.getAccount()));
    out.set("token", token(created.getDefaultToken(), 0));
    out.put("value", created.getValue());
    return Response.ok(out);
  }

  private Response tokens(ConsoleSessions.Session session, String account) {
    List<Token> tokens = stub(TokenAdminGrpc.newBlockingStub(channel), session)
        .listTokens(ListTokensRequest.newBuilder().setAccountId(account).build()).getTokensList();
    Map<String, Integer> connected = new HashMap<>();
    stub(DelegateAdminGrpc.newBlockingStub(channel), session).listDelegates(ListDelegatesRequest.newBuilder()
        .setAccountId(account).setConnection(ConnectionFilter.CONNECTED).build()).getDelegatesList()
        .forEach(d -> connected.merge(d.getTokenId(), 1, Integer::sum));
    ArrayNode list = MAPPER.createArrayNode();
    tokens.stream().sorted(Comparator.comparingLong(Token::getCreatedAtUnixMs).reversed())
        .forEach(t -> list.add(token(t, connected.getOrDefault(t.getTokenId(), 0))));
    ObjectNode out = MAPPER.createObjectNode();
    out.set("tokens", list);
    return Response.ok(out);
  }

  private Response createToken(ConsoleSessions.Session session, JsonNode body) {
    CreateTokenRequest.Builder request = CreateTokenRequest.newBuilder()
        .setAccountId(text(body, "account", true))
        .setName(text(body, "name", true));
    String description = text(body, "description", false);
    if (description != null) {
      request.setDescription(description);
    }
    JsonNode days = body.get("expiresInDays");
    if (days != null && !days.isNull()) {
      if (!days.canConvertToInt() || days.asInt() < 1 || days.asInt() > 3650) {
        throw new Refused(HttpResponseStatus.BAD_REQUEST, "\"expiresInDays\" is " + UserText.quote(days.toString())
            + "; expected a whole number of days from 1 to 3650, or none for a token that does not expire");
      }
      request.setExpiresInMs(Duration.ofDays(days.asInt()).toMillis());
    }
    CreateTokenResponse created = stub(TokenAdminGrpc.newBlockingStub(channel), session).createToken(request.build());
    ObjectNode out = MAPPER.createObjectNode();
    out.set("token", token(created.getToken(), 0));
    out.put("value", created.getValue());
    return Response.ok(out);
  }

  private Response revokeToken(ConsoleSessions.Session session, JsonNode body) {
    JsonNode dryRun = body.get("dryRun");
    if (dryRun != null && !dryRun.isBoolean()) {
      throw new Refused(HttpResponseStatus.BAD_REQUEST, "\"dryRun\" must be true or false");
    }
    RevokeTokenResponse revoked = stub(TokenAdminGrpc.newBlockingStub(channel), session)
        .revokeToken(RevokeTokenRequest.newBuilder().setAccountId(text(body, "account", true))
            .setName(text(body, "name", true)).setDryRun(dryRun != null && dryRun.asBoolean()).build());
    ObjectNode out = MAPPER.createObjectNode();
    out.set("token", token(revoked.getToken(), 0));
    out.put("dryRun", revoked.getDryRun());
    out.put("streamsClosed", Integer.toUnsignedLong(revoked.getStreamsClosed()));
    ArrayNode affected = out.putArray("affectedDelegates");
    revoked.getAffectedDelegatesList().forEach(d -> affected.add(delegate(d)));
    return Response.ok(out);
  }

  private Response deleteToken(ConsoleSessions.Session session, JsonNode body) {
    Token deleted = stub(TokenAdminGrpc.newBlockingStub(channel), session).deleteToken(DeleteTokenRequest.newBuilder()
        .setAccountId(text(body, "account", true)).setName(text(body, "name", true)).build()).getToken();
    ObjectNode out = MAPPER.createObjectNode();
    out.set("token", token(deleted, 0));
    return Response.ok(out);
  }

  // --- delegates

  private Response delegates(ConsoleSessions.Session session, String account, String state, String tokenName) {
    ConnectionFilter filter = switch (state == null ? "any" : state) {
      case "any" -> ConnectionFilter.CONNECTION_ANY;
      case "connected" -> ConnectionFilter.CONNECTED;
      case "disconnected" -> ConnectionFilter.DISCONNECTED;
      default -> throw new Refused(HttpResponseStatus.BAD_REQUEST, "state " + UserText.quote(state)
          + " is not a delegate state (expected any, connected or disconnected)");
    };
    ArrayNode list = MAPPER.createArrayNode();
    stub(DelegateAdminGrpc.newBlockingStub(channel), session).listDelegates(ListDelegatesRequest.newBuilder()
        .setAccountId(account).setConnection(filter).build()).getDelegatesList().stream()
        .filter(d -> tokenName == null || tokenName.isEmpty() || d.getTokenName().equals(tokenName))
        .sorted(Comparator.comparing(Delegate::getName).thenComparing(Delegate::getId))
        .forEach(d -> list.add(delegate(d)));
    ObjectNode out = MAPPER.createObjectNode();
    out.set("delegates", list);
    return Response.ok(out);
  }

  private Response deleteDelegate(ConsoleSessions.Session session, JsonNode body) {
    Delegate deleted = stub(DelegateAdminGrpc.newBlockingStub(channel), session)
        .deleteDelegate(DeleteDelegateRequest.newBuilder().setDelegateId(text(body, "id", true)).build()).getDelegate();
    ObjectNode out = MAPPER.createObjectNode();
    out.set("delegate", delegate(deleted));
    return Response.ok(out);
  }

  // --- install

  private Response installDefaults(FullHttpRequest request) {
    ObjectNode out = MAPPER.createObjectNode();
    out.put("managerUrl", "https://" + hostOf(request.headers().get(HttpHeaderNames.HOST)) + ":"
        + delegatePort.getAsInt());
    out.put("image", DelegateImage.defaultImage());
    out.put("namespace", "tether");
    ArrayNode types = out.putArray("types");
    for (InstallType type : InstallType.values()) {
      types.add(type.name().toLowerCase(Locale.ROOT));
    }
    return Response.ok(out);
  }

  private Response install(ConsoleSessions.Session session, JsonNode body) {
    String account = text(body, "account", true);
    String tokenName = text(body, "tokenName", true);
    InstallType type;
    try {
      type = InstallType.parse(text(body, "type", true));
    } catch (IllegalArgumentException e) {
      throw new Refused(HttpResponseStatus.BAD_REQUEST, e.getMessage());
    }
    DelegateToken token;
    try {
      token = DelegateToken.parse("the token value", text(body, "value", true));
    } catch (TokenFormatException e) {
      throw new Refused(HttpResponseStatus.BAD_REQUEST, e.getMessage());
    }
    String delegateName = text(body, "delegateName", true);
    String namespace = Optional.ofNullable(text(body, "namespace", false)).orElse("tether");
    String image = Optional.ofNullable(text(body, "image", false)).orElse(DelegateImage.defaultImage());
    JsonNode rotation = body.get("rotation");
    InstallSpec spec;
    try {
      spec = new InstallSpec(account, tokenName, token, text(body, "managerUrl", true), delegateName, namespace, image,
          text(body, "ecsSecretArn", false), text(body, "ecsExecutionRoleArn", false), null, null,
          rotation == null || rotation.asBoolean(true));
    } catch (IllegalArgumentException e) {
      throw new Refused(HttpResponseStatus.BAD_REQUEST, e.getMessage());
    }
    if (type == InstallType.ECS && (spec.ecsSecretArn() == null || spec.ecsExecutionRoleArn() == null)) {
      throw new Refused(HttpResponseStatus.BAD_REQUEST, "an ECS install needs the ARN of the secret the task reads"
          + " DELEGATE_TOKEN from and the ARN of the task execution role");
    }
    // the manager checks that the value is the chosen token's, that it is active, and audits the install
    stub(TokenAdminGrpc.newBlockingStub(channel), session).prepareInstall(PrepareInstallRequest.newBuilder()
        .setAccountId(account).setTokenName(tokenName).setTokenId(token.credential(account).publicId())
        .setInstallType(type.name().toLowerCase(Locale.ROOT)).setDelegateName(delegateName).build());
    byte[] archive = archive(type, spec);
    String fileName = "tether-delegate-" + delegateName + "-" + type.name().toLowerCase(Locale.ROOT) + ".zip";
    return new Response(HttpResponseStatus.OK, "application/zip", archive,
        Map.of(HttpHeaderNames.CONTENT_DISPOSITION.toString(), "attachment; filename=\"" + fileName + "\""));
  }

  /** The files install-files writes, as one zip whose entries keep their Unix modes (0755 scripts, 0600 token). */
  private static byte[] archive(InstallType type, InstallSpec spec) {
    Path dir = null;
    try {
      dir = Files.createTempDirectory("tether-console-install",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      Path out = dir.resolve("files");
      List<Path> written = InstallFiles.write(type, spec, out);
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (ZipArchiveOutputStream zip = new ZipArchiveOutputStream(bytes)) {
        for (Path file : written.stream().sorted().toList()) {
          ZipArchiveEntry entry = new ZipArchiveEntry(out.relativize(file).toString());
          entry.setUnixMode(unixMode(Files.getPosixFilePermissions(file)));
          zip.putArchiveEntry(entry);
          zip.write(Files.readAllBytes(file));
          zip.closeArchiveEntry();
        }
      }
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the install files", e);
    } finally {
      if (dir != null) {
        deleteTree(dir);
      }
    }
  }

  /** A regular file's mode bits, as zip's Unix extra attributes hold them. */
  static int unixMode(Set<PosixFilePermission> permissions) {
    int mode = 0;
    for (PosixFilePermission p : permissions) {
      mode |= 1 << (8 - p.ordinal());
    }
    return 0100000 | mode;
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(path -> {
        try {
          Files.deleteIfExists(path);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (IOException | UncheckedIOException e) {
      throw new IllegalStateException("cannot remove the temporary install files in " + dir, e);
    }
  }

  // --- audit

  private Response audit(ConsoleSessions.Session session, String account, String admin, String limit) {
    int max = AUDIT_LIMIT;
    if (limit != null) {
      try {
        max = Integer.parseInt(limit);
      } catch (NumberFormatException e) {
        max = -1;
      }
      if (max < 1 || max > 10_000) {
        throw new Refused(HttpResponseStatus.BAD_REQUEST, "limit " + UserText.quote(limit)
            + " is not a number of events from 1 to 10000");
      }
    }
    ListAuditRequest.Builder request = ListAuditRequest.newBuilder().setLimit(max);
    if (account != null) {
      request.setAccountId(account);
    }
    if (admin != null) {
      request.setActor(admin);
    }
    ArrayNode list = MAPPER.createArrayNode();
    stub(AuditAdminGrpc.newBlockingStub(channel), session).listAudit(request.build()).getEventsList()
        .forEach(e -> list.add(audit(e)));
    ObjectNode out = MAPPER.createObjectNode();
    out.set("events", list);
    return Response.ok(out);
  }

  // --- requests

  private ConsoleSessions.Session session(FullHttpRequest request, boolean activity) {
    String header = request.headers().get(HttpHeaderNames.COOKIE);
    String value = null;
    if (header != null) {
      for (Cookie cookie : ServerCookieDecoder.STRICT.decode(header)) {
        if (cookie.name().equals(COOKIE)) {
          value = cookie.value();
        }
      }
    }
    return sessions.find(value, activity).orElseThrow(() -> new Refused(HttpResponseStatus.UNAUTHORIZED,
        "not signed in, or the session has ended (signed out, idle for 30 minutes, or the admin was revoked);"
            + " sign in again"));
  }

  /**
   * A state-changing request must be JSON (which a cross-site form cannot send without a preflight
   * the console never grants) and, when the browser names its origin, come from this one.
   */
  private void checkPostShape(FullHttpRequest request) {
    String type = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
    if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
      throw new Refused(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, "a console request that changes something must be"
          + " JSON (Content-Type: application/json); got " + (type == null ? "none" : UserText.quote(type)));
    }
    String origin = request.headers().get(HttpHeaderNames.ORIGIN);
    String host = request.headers().get(HttpHeaderNames.HOST);
    if (origin != null && !origin.equals((tls ? "https://" : "http://") + host)) {
      throw new Refused(HttpResponseStatus.FORBIDDEN, "cross-origin request refused: origin " + UserText.quote(origin)
          + " is not this console's; nothing was changed");
    }
  }

  private static JsonNode body(FullHttpRequest request) {
    String text = request.content().toString(StandardCharsets.UTF_8);
    JsonNode body;
    try {
      body = text.isBlank() ? MAPPER.createObjectNode() : MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      // the parser's own message quotes the text it choked on, which may be a credential or token value
      String where = e.getLocation() == null ? "" : " (error at line " + e.getLocation().getLineNr() + ", column "
          + e.getLocation().getColumnNr() + ")";
      throw new Refused(HttpResponseStatus.BAD_REQUEST, "the request body is not JSON" + where + "; send one JSON"
          + " object, such as {\"name\": \"build\"}");
    }
    if (!body.isObject()) {
      throw new Refused(HttpResponseStatus.BAD_REQUEST, "the request body must be a JSON object");
    }
    return body;
  }

  /** A string field; null when absent and not required. Never echoes the value (it may be a secret). */
  private static String text(JsonNode body, String field, boolean required) {
    JsonNode node = body.get(field);
    if (node == null || node.isNull() || (node.isTextual() && node.asText().isEmpty())) {
      if (required) {
        throw new Refused(HttpResponseStatus.BAD_REQUEST, "\"" + field + "\" is missing");
      }
      return null;
    }
    if (!node.isTextual()) {
      throw new Refused(HttpResponseStatus.BAD_REQUEST, "\"" + field + "\" must be a string");
    }
    return node.asText();
  }

  private static String param(QueryStringDecoder query, String name, boolean required) {
    List<String> values = query.parameters().get(name);
    if (values == null || values.isEmpty() || values.get(0).isEmpty()) {
      if (required) {
        throw new Refused(HttpResponseStatus.BAD_REQUEST, "query parameter " + name + " is missing");
      }
      return null;
    }
    return values.get(0);
  }

  private static String hostOf(String hostHeader) {
    if (hostHeader == null || hostHeader.isBlank()) {
      return "127.0.0.1";
    }
    if (hostHeader.startsWith("[")) {
      int end = hostHeader.indexOf(']');
      return end < 0 ? hostHeader : hostHeader.substring(0, end + 1);
    }
    int colon = hostHeader.lastIndexOf(':');
    return colon < 0 ? hostHeader : hostHeader.substring(0, colon);
  }

  private static <S extends AbstractStub<S>> S stub(S stub, ConsoleSessions.Session session) {
    Metadata headers = new Metadata();
    headers.put(SESSION, session.key());
    String remote = REQUEST_REMOTE.get();
    if (remote != null) {
      headers.put(REMOTE, remote);
    }
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
        .withDeadlineAfter(CALL_SECONDS, TimeUnit.SECONDS);
  }

  private static Response fromStatus(StatusRuntimeException e) {
    HttpResponseStatus status = switch (e.getStatus().getCode()) {
      case INVALID_ARGUMENT, OUT_OF_RANGE -> HttpResponseStatus.BAD_REQUEST;
      case UNAUTHENTICATED -> HttpResponseStatus.UNAUTHORIZED;
      case PERMISSION_DENIED -> HttpResponseStatus.FORBIDDEN;
      case NOT_FOUND -> HttpResponseStatus.NOT_FOUND;
      case ALREADY_EXISTS, FAILED_PRECONDITION, ABORTED -> HttpResponseStatus.CONFLICT;
      case UNAVAILABLE, RESOURCE_EXHAUSTED -> HttpResponseStatus.SERVICE_UNAVAILABLE;
      case DEADLINE_EXCEEDED -> HttpResponseStatus.GATEWAY_TIMEOUT;
      default -> HttpResponseStatus.INTERNAL_SERVER_ERROR;
    };
    String message = status == HttpResponseStatus.INTERNAL_SERVER_ERROR || e.getStatus().getDescription() == null
        ? "internal error in the manager; its log has the details" : e.getStatus().getDescription();
    return Response.error(status, message);
  }

  // --- JSON shapes (docs/console.md)

  private static String time(long unixMs) {
    return Instant.ofEpochMilli(unixMs).truncatedTo(ChronoUnit.SECONDS).toString();
  }

  private static void putTime(ObjectNode node, String name, long unixMs) {
    if (unixMs != 0) {
      node.put(name, time(unixMs));
    }
  }

  private static void putText(ObjectNode node, String name, String value) {
    if (value != null && !value.isEmpty()) {
      node.put(name, value);
    }
  }

  private static ObjectNode account(Account a) {
    ObjectNode node = MAPPER.createObjectNode().put("id", a.getId()).put("name", a.getName());
    putTime(node, "createdAt", a.getCreatedAtUnixMs());
    return node;
  }

  private static ObjectNode token(Token t, int connected) {
    ObjectNode node = MAPPER.createObjectNode()
        .put("name", t.getName())
        .put("id", t.getTokenId())
        .put("accountId", t.getAccountId())
        .put("status", t.getStatus().name());
    putText(node, "description", t.getDescription());
    putTime(node, "createdAt", t.getCreatedAtUnixMs());
    putText(node, "createdBy", t.getCreatedBy());
    putTime(node, "lastUsedAt", t.getLastUsedUnixMs());
    putTime(node, "expiresAt", t.getExpiresAtUnixMs());
    putTime(node, "revokedAt", t.getRevokedAtUnixMs());
    putText(node, "revokedBy", t.getRevokedBy());
    node.put("connected", connected);
    return node;
  }

  private static ObjectNode delegate(Delegate d) {
    ObjectNode node = MAPPER.createObjectNode()
        .put("id", d.getId())
        .put("accountId", d.getAccountId())
        .put("name", d.getName())
        .put("hostname", d.getHostname())
        .put("type", d.getDelegateType())
        .put("version", d.getVersion());
    ArrayNode tags = node.putArray("tags");
    d.getTagsList().forEach(tags::add);
    node.put("ip", d.getIp()).put("tokenName", d.getTokenName()).put("tokenId", d.getTokenId())
        .put("connected", d.getConnected());
    putTime(node, "firstSeenAt", d.getFirstSeenUnixMs());
    putTime(node, "connectedSince", d.getConnectedSinceUnixMs());
    putTime(node, "lastHeartbeatAt", d.getLastHeartbeatUnixMs());
    putTime(node, "disconnectedAt", d.getDisconnectedAtUnixMs());
    putText(node, "disconnectReason", d.getDisconnectReason());
    putText(node, "replica", d.getReplicaId());
    return node;
  }

  private static ObjectNode audit(AuditEvent e) {
    ObjectNode node = MAPPER.createObjectNode().put("id", e.getId()).put("at", time(e.getAtUnixMs()))
        .put("actor", e.getActor()).put("action", e.getAction());
    putText(node, "accountId", e.getAccountId());
    putText(node, "tokenId", e.getTokenId());
    putText(node, "detail", e.getDetail());
    putText(node, "remoteAddress", e.getRemoteAddress());
    return node;
  }
}
