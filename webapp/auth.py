"""Who is asking: a signed-in session or a bearer token; and the decorator every route uses."""
from collections.abc import Callable
from functools import wraps

from flask import g, request, session
from flask_smorest import abort

from dispatch.account.enums import Role
from dispatch.account.models import User
from dispatch.account.policy import Principal
from dispatch.account.service import token_principal, user_principal
from webapp.platform import db_session

SESSION_USER_KEY = "user_id"


def resolve_principal() -> Principal | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return token_principal(session=db_session(), token=header.removeprefix("Bearer ").strip())
    user_id = session.get(SESSION_USER_KEY)
    if user_id is None:
        return None
    user = db_session().get(User, user_id)
    return user_principal(user) if user is not None and user.active else None


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
