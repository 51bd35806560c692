package dev.tether.manager.admin;

import dev.tether.manager.store.Actor;
import dev.tether.manager.store.AdminRecord;
import io.grpc.Context;

/** The authenticated admin of the current call, and where the call came from. */
public record Caller(AdminRecord admin, String remoteAddress) {

  static final Context.Key<Caller> KEY = Context.key("tether-admin-caller");

  /** The caller of the call this thread serves; set by {@link AdminAuthInterceptor}. */
  static Caller current() {
    Caller caller = KEY.get();
    if (caller == null) {
      throw new IllegalStateException("no authenticated admin in this call's context");
    }
    return caller;
  }

  /** The audit trail's actor: the admin's name and the remote address. */
  public Actor actor() {
    return Actor.admin(admin.name(), admin.publicId(), remoteAddress);
  }
}
