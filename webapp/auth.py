"""Who is asking: a signed-in session or a bearer token; and the decorator every route uses."""
import time
from collections.abc import Callable
from functools import wraps

from flask import g, request, session
from flask_smorest import abort

from dispatch.account.enums import Role
from dispatch.account.models import User
from dispatch.account.policy import Principal
from dispatch.account.service import token_principal, user_principal
from webapp.platform import current_platform, db_session

SESSION_USER_KEY = "user_id"
SESSION_VERSION_KEY = "session_version"
SIGNED_IN_KEY = "signed_in_at"  # Unix time of the sign-in: the absolute lifetime counts from it
SEEN_KEY = "seen_at"  # Unix time of the last request: the idle timeout counts from it
SEEN_RESOLUTION_S = 60  # seen_at is rewritten at most this often (each rewrite sends a new cookie)


def start_session(user: User) -> None:
    """A fresh session for `user` (nothing of the one before survives), under the account's session version."""
    now = time.time()
    session.clear()
    session.update({SESSION_USER_KEY: user.id, SESSION_VERSION_KEY: user.session_version or 0,
                    SIGNED_IN_KEY: now, SEEN_KEY: now})
    session.permanent = True


def session_alive(user: User) -> bool:
    """The session was signed in under the account's current version, within its lifetime, and is not idle."""
    security, now = current_platform().settings.security, time.time()
    return (session.get(SESSION_VERSION_KEY) == (user.session_version or 0)
            and now - session.get(SIGNED_IN_KEY, 0) <= security.session_lifetime_h * 3600
            and now - session.get(SEEN_KEY, 0) <= security.session_idle_min * 60)


def session_user() -> User | None:
    """The active account of a live session; an ended session is cleared (its cookie deleted)."""
    user_id = session.get(SESSION_USER_KEY)
    if user_id is None:
        return None
    user = db_session().get(User, user_id)
    if user is None or not user.active or not session_alive(user):
        session.clear()
        return None
    if time.time() - session[SEEN_KEY] > SEEN_RESOLUTION_S:
        session[SEEN_KEY] = time.time()
    g.session_user = user  # held for the request: the session's identity map keeps objects only while referenced
    return user


def resolve_principal() -> Principal | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return token_principal(session=db_session(), token=header.removeprefix("Bearer ").strip())
    user = session_user()
    return user_principal(user) if user is not None else None


def current_principal() -> Principal | None:
    if "principal" not in g:
        g.principal = resolve_principal()
    return g.principal


def requires(*roles: Role, tokens: bool = False) -> Callable:
    """Only signed-in people with one of `roles` (any role if none given), and tokens if `tokens`."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def checked(*args, **kwargs):
            principal = current_principal()
            if principal is None:
                abort(401, message="sign in, or send 'Authorization: Bearer <token>'")
            if principal.role is None and not tokens:
                abort(403, message="machine tokens may only submit tickets")
            if principal.role is not None and roles and principal.role not in roles:
                abort(403, message=f"role '{principal.role.value}' may not do this")
            return view(*args, **kwargs)

        return checked

    return decorator


def principal() -> Principal:
    """The principal of a request that passed `requires`."""
    return g.principal
