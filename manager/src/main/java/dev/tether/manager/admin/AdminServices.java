package dev.tether.manager.admin;

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
import dev.tether.proto.admin.v1.AuditAdminGrpc;
import dev.tether.proto.admin.v1.CreateAccountRequest;
import dev.tether.proto.admin.v1.CreateAccountResponse;
import dev.tether.proto.admin.v1.CreateTokenRequest;
import dev.tether.proto.admin.v1.CreateTokenResponse;
import dev.tether.proto.admin.v1.DelegateAdminGrpc;
import dev.tether.proto.admin.v1.DeleteTokenRequest;
import dev.tether.proto.admin.v1.DeleteTokenResponse;
import dev.tether.proto.admin.v1.ListAccountsRequest;
import dev.tether.proto.admin.v1.ListAccountsResponse;
import dev.tether.proto.admin.v1.ListAuditRequest;
import dev.tether.proto.admin.v1.ListAuditResponse;
import dev.tether.proto.admin.v1.ListDelegatesRequest;
import dev.tether.proto.admin.v1.ListDelegatesResponse;
import dev.tether.proto.admin.v1.ListTokensRequest;
import dev.tether.proto.admin.v1.ListTokensResponse;
import dev.tether.proto.admin.v1.ReplicaRevocation;
import dev.tether.proto.admin.v1.RevokeTokenRequest;
import dev.tether.proto.admin.v1.RevokeTokenResponse;
import dev.tether.proto.admin.v1.TokenAdminGrpc;
import io.grpc.BindableService;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** The {@code tether.admin.v1} services, over the token service and the store. */
public final class AdminServices {

  static final String ACTOR = "admin";
  private static final int MAX_AUDIT = 10_000;

  private final TokenService tokens;
  private final TetherStore store;
  private final ExpiryScheduler expiry;

  public AdminServices(TokenService tokens, TetherStore store, ExpiryScheduler expiry) {
    this.tokens = tokens;
    this.store = store;
    this.expiry = expiry;
  }

  public List<BindableService> services() {
    return List.of(new Accounts(), new Tokens(), new Delegates(), new Audit());
  }

  private final class Accounts extends AccountAdminGrpc.AccountAdminImplBase {
    @Override
    public void createAccount(CreateAccountRequest request, StreamObserver<CreateAccountResponse> out) {
      respond(out, () -> {
        CreatedAccount created = tokens.createAccount(request.getName(), ACTOR);
        return CreateAccountResponse.newBuilder()
            .setAccount(Protos.account(created.account()))
            .setDefaultToken(Protos.token(created.defaultToken().record()))
            .setDefaultTokenValue(created.defaultToken().value().reveal())
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
        if (request.getExpiresInMs() < 0) {
          throw Status.INVALID_ARGUMENT.withDescription("expires_in_ms " + request.getExpiresInMs()
              + " is negative (expected a positive duration)").asRuntimeException();
        }
        Duration expiresIn = request.getExpiresInMs() == 0 ? null : Duration.ofMillis(request.getExpiresInMs());
        boolean imported = request.hasImportValue();
        CreatedToken created = tokens.createToken(request.getAccountId(), request.getName(), ACTOR,
            expiresIn, imported ? request.getImportValue() : null);
        expiry.schedule(created.record());
        CreateTokenResponse.Builder response = CreateTokenResponse.newBuilder().setToken(Protos.token(created.record()));
        if (!imported) {
          // a generated value is shown once, here; an imported one the caller has, and it is not echoed
          response.setValue(created.value().reveal());
        }
        return response.build();
      });
    }

    @Override
    public void listTokens(ListTokensRequest request, StreamObserver<ListTokensResponse> out) {
      respond(out, () -> ListTokensResponse.newBuilder()
          .addAllTokens(tokens.listTokens(request.getAccountId()).stream().map(Protos::token).toList())
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
        RevokeResult result = tokens.revoke(request.getAccountId(), request.getName(), ACTOR);
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
          .setToken(Protos.token(tokens.delete(request.getAccountId(), request.getName(), ACTOR)))
          .build());
    }
  }

  private final class Delegates extends DelegateAdminGrpc.DelegateAdminImplBase {
    @Override
    public void listDelegates(ListDelegatesRequest request, StreamObserver<ListDelegatesResponse> out) {
      respond(out, () -> {
        String account = request.getAccountId().isEmpty() ? null : tokens.account(request.getAccountId()).id();
        return ListDelegatesResponse.newBuilder()
            .addAllDelegates(store.listDelegates(account).stream().map(Protos::delegate).toList())
            .build();
      });
    }
  }

  private final class Audit extends AuditAdminGrpc.AuditAdminImplBase {
    @Override
    public void listAudit(ListAuditRequest request, StreamObserver<ListAuditResponse> out) {
      respond(out, () -> {
        String account = request.getAccountId().isEmpty() ? null : request.getAccountId();
        int limit = request.getLimit() == 0 ? 100 : Math.min(request.getLimit(), MAX_AUDIT);
        return ListAuditResponse.newBuilder()
            .addAllEvents(store.listAudit(account, limit).stream().map(Protos::audit).toList())
            .build();
      });
    }
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
    }
    out.onNext(response);
    out.onCompleted();
  }
}
