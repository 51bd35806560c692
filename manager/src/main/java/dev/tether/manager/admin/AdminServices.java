package dev.tether.manager.admin;

import dev.tether.common.text.UserText;
import dev.tether.manager.console.ConsoleSessions;
import dev.tether.manager.rotation.RotationService;
import dev.tether.manager.store.AdminRole;
import dev.tether.manager.store.DelegateRecord;
import dev.tether.manager.store.StoreException;
import dev.tether.manager.store.TetherStore;
import dev.tether.manager.store.TokenRecord;
import dev.tether.manager.token.CreatedAccount;
import dev.tether.manager.token.CreatedToken;
import dev.tether.manager.token.ExpiryScheduler;
import dev.tether.manager.token.RevokeResult;
import dev.tether.manager.token.TokenService;
import dev.tether.proto.admin.v1.AccountAdminGrpc;
import dev.tether.proto.admin.v1.AdminAccessGrpc;
import dev.tether.proto.admin.v1.AuditAdminGrpc;
import dev.tether.proto.admin.v1.ConnectionFilter;
import dev.tether.proto.admin.v1.CreateAccountRequest;
import dev.tether.proto.admin.v1.CreateAccountResponse;
import dev.tether.proto.admin.v1.CreateAdminRequest;
import dev.tether.proto.admin.v1.CreateConsoleLoginRequest;
import dev.tether.proto.admin.v1.CreateConsoleLoginResponse;
import dev.tether.proto.admin.v1.CreateAdminResponse;
import dev.tether.proto.admin.v1.CreateTokenRequest;
import dev.tether.proto.admin.v1.CreateTokenResponse;
import dev.tether.proto.admin.v1.DelegateAdminGrpc;
import dev.tether.proto.admin.v1.DeleteAdminRequest;
import dev.tether.proto.admin.v1.DeleteAdminResponse;
import dev.tether.proto.admin.v1.DeleteDelegateRequest;
import dev.tether.proto.admin.v1.DeleteDelegateResponse;
import dev.tether.proto.admin.v1.DeleteTokenRequest;
import dev.tether.proto.admin.v1.DeleteTokenResponse;
import dev.tether.proto.admin.v1.EndRotationRequest;
import dev.tether.proto.admin.v1.EndRotationResponse;
import dev.tether.proto.admin.v1.GetRotationRequest;
import dev.tether.proto.admin.v1.GetRotationResponse;
import dev.tether.proto.admin.v1.ListAccountsRequest;
import dev.tether.proto.admin.v1.ListAccountsResponse;
import dev.tether.proto.admin.v1.ListAdminsRequest;
import dev.tether.proto.admin.v1.ListAdminsResponse;
import dev.tether.proto.admin.v1.ListAuditRequest;
import dev.tether.proto.admin.v1.ListAuditResponse;
import dev.tether.proto.admin.v1.ListDelegatesRequest;
import dev.tether.proto.admin.v1.ListDelegatesResponse;
import dev.tether.proto.admin.v1.ListTokensRequest;
import dev.tether.proto.admin.v1.ListTokensResponse;
import dev.tether.proto.admin.v1.PrepareInstallRequest;
import dev.tether.proto.admin.v1.PrepareInstallResponse;
import dev.tether.proto.admin.v1.PruneDelegatesRequest;
import dev.tether.proto.admin.v1.PruneDelegatesResponse;
import dev.tether.proto.admin.v1.ReplicaRevocation;
import dev.tether.proto.admin.v1.RevokeAdminRequest;
import dev.tether.proto.admin.v1.RevokeAdminResponse;
import dev.tether.proto.admin.v1.RevokeTokenRequest;
import dev.tether.proto.admin.v1.RevokeTokenResponse;
import dev.tether.proto.admin.v1.RotateTokenRequest;
import dev.tether.proto.admin.v1.RotateTokenResponse;
import dev.tether.proto.admin.v1.TokenAdminGrpc;
import dev.tether.proto.admin.v1.WhoAmIRequest;
import dev.tether.proto.admin.v1.WhoAmIResponse;
import io.grpc.BindableService;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The {@code tether.admin.v1} services, over the token service, the admin directory and the store.
 * Each runs behind {@link AdminAuthInterceptor}, which has checked the caller's role; every change
 * is audited with the caller's name and remote address.
 */
public final class AdminServices {

  /** Longest token lifetime a caller may ask for. */
  public static final Duration MAX_TOKEN_LIFETIME = Duration.ofDays(3650);
  /** Shortest time since a delegate disconnected for {@code PruneDelegates}. */
  static final Duration MIN_PRUNE_AGE = Duration.ofMinutes(1);
  private static final int MAX_AUDIT = 10_000;

  private final TokenService tokens;
  private final RotationService rotations;
  private final TetherStore store;
  private final ExpiryScheduler expiry;
  private final AdminDirectory admins;
  private final ConsoleSessions console;
  private final Clock clock;
  private final Duration minTokenLifetime;

  public AdminServices(TokenService tokens, RotationService rotations, TetherStore store, ExpiryScheduler expiry,
      AdminDirectory admins, ConsoleSessions console, Clock clock, Duration minTokenLifetime) {
    this.tokens = tokens;
    this.rotations = rotations;
    this.store = store;
    this.expiry = expiry;
    this.admins = admins;
    this.console = console;
    this.clock = clock;
    this.minTokenLifetime = minTokenLifetime;
  }

  public List<BindableService> services() {
    return List.of(new Accounts(), new Tokens(), new Delegates(), new Audit(), new Access());
  }

  private final class Accounts extends AccountAdminGrpc.AccountAdminImplBase {
    @Override
    public void createAccount(CreateAccountRequest request, StreamObserver<CreateAccountResponse> out) {
      respond(out, () -> {
        CreatedAccount created = tokens.createAccount(request.getName(), Caller.current().actor());
        return CreateAccountResponse.newBuilder()
            .setAccount(Protos.account(created.account()))
            .setDefaultToken(Protos.token(created.defaultToken().record()))
            .setValue(created.defaultToken().value().reveal())
            .build();
      });
    }

    @Override
    public void listAccounts(ListAccountsRequest request, StreamObserver<ListAccountsResponse> out) {
      respond(out, () -> ListAccountsResponse.newBuilder()
          .addAllAccounts(tokens.listAccounts().stream().map(Protos::account).toList())
          .build());
    }
  }

  private final class Tokens extends TokenAdminGrpc.TokenAdminImplBase {
    @Override
    public void createToken(CreateTokenRequest request, StreamObserver<CreateTokenResponse> out) {
      respond(out, () -> {
        Duration expiresIn = lifetime(request.getExpiresInMs());
        Duration rotateEvery = request.getRotateEveryMs() == 0 ? null : rotationInterval(request.getRotateEveryMs());
        boolean imported = request.hasImportValue();
        CreatedToken created = tokens.createToken(request.getAccountId(), request.getName(), Caller.current().actor(),
            expiresIn, imported ? request.getImportValue() : null, request.getDescription());
        expiry.schedule(created.record());
        CreateTokenResponse.Builder response = CreateTokenResponse.newBuilder().setToken(Protos.token(created.record()));
        if (!imported) {
          // a generated value is shown once, here; an imported one the caller has, and it is not echoed
          response.setValue(created.value().reveal());
        }
        if (rotateEvery != null) {
          response.setNextRotationAtUnixMs(rotations.schedule(created.record(), rotateEvery).toEpochMilli());
        }
        return response.build();
      });
    }

    @Override
    public void listTokens(ListTokensRequest request, StreamObserver<ListTokensResponse> out) {
      respond(out, () -> ListTokensResponse.newBuilder()
          .addAllTokens(tokens.listTokens(request.getAccountId(), Protos.status(request.getStatus())).stream()
              .map(Protos::token).toList())
          .build());
    }

    @Override
    public void revokeToken(RevokeTokenRequest request, StreamObserver<RevokeTokenResponse> out) {
      respond(out, () -> {
        if (request.getDryRun()) {
          TokenRecord token = tokens.token(request.getAccountId(), request.getName());
          // the database knows the connected delegates of every replica, not just this one's
          List<DelegateRecord> affected = token.active()
              ? store.listDelegates(token.accountId()).stream()
                  .filter(d -> d.connected() && d.tokenPublicId().equals(token.publicId())).toList()
              : List.of();
          return RevokeTokenResponse.newBuilder()
              .setToken(Protos.token(token))
              .setDryRun(true)
              .addAllAffectedDelegates(affected.stream().map(Protos::delegate).toList())
              .build();
        }
        RevokeResult result = tokens.revoke(request.getAccountId(), request.getName(), Caller.current().actor());
        RevokeTokenResponse.Builder response = RevokeTokenResponse.newBuilder().setToken(Protos.token(result.token()));
        int total = 0;
        for (Map.Entry<String, Integer> e : result.perReplica().entrySet()) {
          boolean confirmed = e.getValue() >= 0;
          total += confirmed ? e.getValue() : 0;
          response.addReplicas(ReplicaRevocation.newBuilder().setReplicaId(e.getKey()).setConfirmed(confirmed)
              .setStreamsClosed(Math.max(0, e.getValue())));
        }
        return response.setStreamsClosed(total).build();
      });
    }

    @Override
    public void deleteToken(DeleteTokenRequest request, StreamObserver<DeleteTokenResponse> out) {
      respond(out, () -> DeleteTokenResponse.newBuilder()
          .setToken(Protos.token(tokens.delete(request.getAccountId(), request.getName(), Caller.current().actor())))
          .build());
    }

    @Override
    public void prepareInstall(PrepareInstallRequest request, StreamObserver<PrepareInstallResponse> out) {
      respond(out, () -> {
        // both go into the audit trail: only what install-files itself accepts
        String type = request.getInstallType();
        if (java.util.Arrays.stream(dev.tether.manager.install.InstallType.values())
            .noneMatch(t -> t.name().toLowerCase(java.util.Locale.ROOT).equals(type))) {
          throw Status.INVALID_ARGUMENT.withDescription("install type " + UserText.quote(type) + " is not known"
              + " (expected kubernetes, helm, docker, ecs, shell or systemd)").asRuntimeException();
        }
        dev.tether.common.delegate.DelegateNames.problem("delegate name", request.getDelegateName())
            .ifPresent(problem -> {
              throw Status.INVALID_ARGUMENT.withDescription(problem).asRuntimeException();
            });
        TokenRecord token = tokens.token(request.getAccountId(), request.getTokenName());
        String name = UserText.quote(token.name());
        if (!token.active()) {
          throw Status.FAILED_PRECONDITION.withDescription("token " + name + " is "
              + token.status().name().toLowerCase(java.util.Locale.ROOT) + " (at "
              + token.revokedAt().truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + "); create a new token with"
              + " 'token create'").asRuntimeException();
        }
        if (!token.publicId().equals(request.getTokenId())) {
          throw Status.FAILED_PRECONDITION.withDescription("the token value given is not token " + name + ": its id is "
              + UserText.quote(request.getTokenId()) + ", token " + name + " is " + token.publicId())
              .asRuntimeException();
        }
        store.audit(clock.instant(), Caller.current().actor(), "install.files", token.accountId(), token.publicId(),
            "type=" + request.getInstallType() + " delegate=" + request.getDelegateName() + " token=" + token.name());
        return PrepareInstallResponse.newBuilder().setToken(Protos.token(token)).build();
      });
    }

    @Override
    public void rotateToken(RotateTokenRequest request, StreamObserver<RotateTokenResponse> out) {
      respond(out, () -> {
        Duration grace = request.hasGraceMs() ? Duration.ofMillis(request.getGraceMs()) : null;
        RotationService.Opened opened = rotations.open(request.getAccountId(), request.getTokenName(),
            request.getNewName(), grace, !request.getNoPush(), Caller.current().actor());
        expiry.refresh();
        return RotateTokenResponse.newBuilder()
            .setRotation(Protos.rotation(rotations.report(request.getAccountId(), request.getTokenName())))
            .setSuccessor(Protos.token(opened.successor().record()))
            .setValue(opened.successor().value().reveal())
            .build();
      });
    }

    @Override
    public void getRotation(GetRotationRequest request, StreamObserver<GetRotationResponse> out) {
      respond(out, () -> GetRotationResponse.newBuilder()
          .setRotation(Protos.rotation(rotations.report(request.getAccountId(), request.getTokenName()))).build());
    }

    @Override
    public void endRotation(EndRotationRequest request, StreamObserver<EndRotationResponse> out) {
      respond(out, () -> {
        if (request.getAction() == EndRotationRequest.Action.ACTION_UNSPECIFIED) {
          throw Status.INVALID_ARGUMENT.withDescription("action is not set (expected FINISH or CANCEL)")
              .asRuntimeException();
        }
        RotationService.Report report = rotations.end(request.getAccountId(), request.getTokenName(),
            request.getAction() == EndRotationRequest.Action.FINISH, Caller.current().actor());
        return EndRotationResponse.newBuilder().setRotation(Protos.rotation(report)).build();
      });
    }
  }

  private final class Delegates extends DelegateAdminGrpc.DelegateAdminImplBase {
    @Override
    public void listDelegates(ListDelegatesRequest request, StreamObserver<ListDelegatesResponse> out) {
      respond(out, () -> {
        String account = request.getAccountId().isEmpty() ? null : tokens.account(request.getAccountId()).id();
        ConnectionFilter filter = request.getConnection();
        return ListDelegatesResponse.newBuilder()
            .addAllDelegates(store.listDelegates(account).stream()
                .filter(d -> filter != ConnectionFilter.CONNECTED || d.connected())
                .filter(d -> filter != ConnectionFilter.DISCONNECTED || !d.connected())
                .map(Protos::delegate).toList())
            .build();
      });
    }

    @Override
    public void deleteDelegate(DeleteDelegateRequest request, StreamObserver<DeleteDelegateResponse> out) {
      respond(out, () -> {
        String id = request.getDelegateId();
        if (id.isEmpty()) {
          throw Status.INVALID_ARGUMENT.withDescription("delegate id is empty (see 'delegate list')")
              .asRuntimeException();
        }
        DelegateRecord delegate = store.findDelegate(id).orElseThrow(() -> Status.NOT_FOUND
            .withDescription("delegate " + UserText.quote(id) + " not found (see 'delegate list')").asRuntimeException());
        if (delegate.connected() || !store.deleteDelegate(delegate, clock.instant(), Caller.current().actor())) {
          throw Status.FAILED_PRECONDITION.withDescription("delegate " + UserText.quote(id) + " ("
              + UserText.quote(delegate.name()) + " on " + UserText.quote(delegate.hostname()) + ") is connected;"
              + " only a disconnected delegate's record can be deleted (stop the delegate, or revoke its token "
              + UserText.quote(delegate.tokenName()) + ")").asRuntimeException();
        }
        return DeleteDelegateResponse.newBuilder().setDelegate(Protos.delegate(delegate)).build();
      });
    }

    @Override
    public void pruneDelegates(PruneDelegatesRequest request, StreamObserver<PruneDelegatesResponse> out) {
      respond(out, () -> {
        Duration age = Duration.ofMillis(request.getDisconnectedForMs());
        if (age.compareTo(MIN_PRUNE_AGE) < 0) {
          throw Status.INVALID_ARGUMENT.withDescription("disconnected_for " + age + " is shorter than "
              + MIN_PRUNE_AGE + " (expected a duration such as 7d)").asRuntimeException();
        }
        String account = request.getAccountId().isEmpty() ? null : tokens.account(request.getAccountId()).id();
        List<DelegateRecord> pruned = store.pruneDelegates(account, clock.instant().minus(age), request.getDryRun(),
            clock.instant(), Caller.current().actor());
        return PruneDelegatesResponse.newBuilder()
            .addAllDelegates(pruned.stream().map(Protos::delegate).toList())
            .setDryRun(request.getDryRun())
            .build();
      });
    }
  }

  private final class Audit extends AuditAdminGrpc.AuditAdminImplBase {
    @Override
    public void listAudit(ListAuditRequest request, StreamObserver<ListAuditResponse> out) {
      respond(out, () -> {
        // an account that does not exist is an error, as for 'delegate list', not an empty trail
        String account = request.getAccountId().isEmpty() ? null : tokens.account(request.getAccountId()).id();
        // uint32 on the wire: a limit of 2^31 or more arrives negative
        long asked = Integer.toUnsignedLong(request.getLimit());
        int limit = asked == 0 ? 100 : (int) Math.min(asked, MAX_AUDIT);
        String actor = request.getActor().isEmpty() ? null : request.getActor();
        return ListAuditResponse.newBuilder()
            .addAllEvents(store.listAudit(account, actor, limit).stream().map(Protos::audit).toList())
            .build();
      });
    }
  }

  private final class Access extends AdminAccessGrpc.AdminAccessImplBase {
    @Override
    public void createAdmin(CreateAdminRequest request, StreamObserver<CreateAdminResponse> out) {
      respond(out, () -> {
        AdminRole role = Protos.role(request.getRole());
        if (role == null) {
          throw Status.INVALID_ARGUMENT.withDescription("admin role " + request.getRole()
              + " is not a role (expected viewer, operator or owner)").asRuntimeException();
        }
        AdminDirectory.Created created = admins.create(request.getName(), role, Caller.current().actor());
        return CreateAdminResponse.newBuilder()
            .setAdmin(Protos.admin(created.admin()))
            .setValue(created.secret().reveal())
            .build();
      });
    }

    @Override
    public void listAdmins(ListAdminsRequest request, StreamObserver<ListAdminsResponse> out) {
      respond(out, () -> ListAdminsResponse.newBuilder()
          .addAllAdmins(admins.list().stream().map(Protos::admin).toList())
          .build());
    }

    @Override
    public void revokeAdmin(RevokeAdminRequest request, StreamObserver<RevokeAdminResponse> out) {
      respond(out, () -> {
        AdminDirectory.Revoked revoked = admins.revoke(request.getName(), Caller.current().actor());
        return RevokeAdminResponse.newBuilder()
            .setAdmin(Protos.admin(revoked.admin()))
            .setCallsEnded(revoked.callsEnded())
            .build();
      });
    }

    @Override
    public void deleteAdmin(DeleteAdminRequest request, StreamObserver<DeleteAdminResponse> out) {
      respond(out, () -> DeleteAdminResponse.newBuilder()
          .setAdmin(Protos.admin(admins.delete(request.getName(), Caller.current().actor())))
          .build());
    }

    @Override
    public void createConsoleLogin(CreateConsoleLoginRequest request, StreamObserver<CreateConsoleLoginResponse> out) {
      Caller caller = Caller.current();
      respond(out, () -> {
        String url = console.url().orElseThrow(() -> Status.FAILED_PRECONDITION.withDescription("the web console is"
            + " off on this manager (serve --console-listen off); start it with --console-listen HOST:PORT")
            .asRuntimeException());
        String code = console.issueCode(caller.admin());
        store.audit(clock.instant(), caller.actor(), "console.login_link", null, null,
            "one-time sign-in link for the web console, valid " + ConsoleSessions.LOGIN_CODE_LIFETIME.toMinutes()
                + " minutes");
        return CreateConsoleLoginResponse.newBuilder()
            .setUrl(url + "/#login=" + code)
            .setExpiresAtUnixMs(clock.instant().plus(ConsoleSessions.LOGIN_CODE_LIFETIME).toEpochMilli())
            .build();
      });
    }

    @Override
    public void whoAmI(WhoAmIRequest request, StreamObserver<WhoAmIResponse> out) {
      Caller caller = Caller.current();
      respond(out, () -> WhoAmIResponse.newBuilder()
          .setAdmin(Protos.admin(caller.admin()))
          .setRemoteAddress(caller.remoteAddress() == null ? "" : caller.remoteAddress())
          .build());
    }
  }

  /** A requested rotation interval, checked against the floor and ceiling of token lifetimes. */
  private Duration rotationInterval(long millis) {
    Duration d = Duration.ofMillis(millis);
    if (d.isNegative() || d.compareTo(minTokenLifetime) < 0 || d.compareTo(MAX_TOKEN_LIFETIME) > 0) {
      throw Status.INVALID_ARGUMENT.withDescription("rotation interval " + dev.tether.common.text.DurationText.format(d)
          + " is out of range (expected " + dev.tether.common.text.DurationText.format(minTokenLifetime) + " to "
          + dev.tether.common.text.DurationText.format(MAX_TOKEN_LIFETIME) + ", for example 90d); nothing was created")
          .asRuntimeException();
    }
    return d;
  }

  /** A requested token lifetime, checked against the floor and ceiling; null for none. */
  private Duration lifetime(long millis) {
    if (millis == 0) {
      return null;
    }
    Duration d = Duration.ofMillis(millis);
    if (d.isNegative() || d.compareTo(minTokenLifetime) < 0 || d.compareTo(MAX_TOKEN_LIFETIME) > 0) {
      throw Status.INVALID_ARGUMENT.withDescription("token lifetime " + dev.tether.common.text.DurationText.format(d) + " is out of range (expected "
          + dev.tether.common.text.DurationText.format(minTokenLifetime) + " to " + dev.tether.common.text.DurationText.format(MAX_TOKEN_LIFETIME) + ", for example 24h, 30d or 1h30m)")
          .asRuntimeException();
    }
    return d;
  }

  private static <T> void respond(StreamObserver<T> out, Supplier<T> work) {
    T response;
    try {
      response = work.get();
    } catch (StatusRuntimeException e) {
      out.onError(e);
      return;
    } catch (StoreException e) {
      out.onError(Status.UNAVAILABLE.withDescription("manager storage unavailable, retry later").asRuntimeException());
      return;
    } catch (dev.tether.manager.store.AdminRevokedException e) {
      // the call was ended when the revocation committed; this only tells the handler
      out.onError(Status.UNAUTHENTICATED.withDescription("admin credential revoked").asRuntimeException());
      return;
    }
    out.onNext(response);
    out.onCompleted();
  }
}
