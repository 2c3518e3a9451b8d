"""Creating accounts and tokens, and telling who a request comes from."""
import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from dispatch.account.enums import SQUAD_ROLES, Role
from dispatch.account.models import ApiToken, User
from dispatch.account.policy import Principal
from dispatch.db import utcnow
from dispatch.errors import InputError
from dispatch.squad.models import Squad
from dispatch.ticket.enums import TicketSource

TOKEN_PREFIX = "gp_"
MIN_PASSWORD_LENGTH = 8


def create_user(
    *, session: Session, username: str, password: str, role: Role, squad_code: str | None = None,
    display_name: str | None = None,
) -> User:
    """A new account; squad leaders and officers belong to exactly one squad, the centre to none."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError("password", f"at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalars(select(User).where(User.username == username)).first() is not None:
        raise InputError("username", f"'{username}' is taken")
    if (role in SQUAD_ROLES) != (squad_code is not None):
        raise InputError("squad", f"a {role.value} {'needs' if role in SQUAD_ROLES else 'has no'} squad")
    if squad_code is not None and session.get(Squad, squad_code) is None:
        raise InputError("squad", f"unknown squad '{squad_code}'")
    user = User(username=username, display_name=display_name or username, role=role.value, squad_code=squad_code,
                password_hash=generate_password_hash(password), active=True, created_at=utcnow())
    session.add(user)
    session.flush()
    return user


# Checked when no such (active) account exists, so that an unknown name costs as long as a wrong password.
_DUMMY_HASH: list[str] = []


def dummy_hash() -> str:
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(generate_password_hash(secrets.token_hex(16)))
    return _DUMMY_HASH[0]


def authenticate(*, session: Session, username: str, password: str) -> User | None:
    user = session.scalars(select(User).where(User.username == username, User.active.is_(True))).first()
    if user is None:
        check_password_hash(dummy_hash(), password)  # same work either way: no telling names apart by timing
        return None
    return user if check_password_hash(user.password_hash, password) else None


def change_password(*, session: Session, user: User, current_password: str, new_password: str) -> bool:
    """Set a new password if `current_password` is right; ends the account's other sessions. False if wrong."""
    if not check_password_hash(user.password_hash, current_password):
        return False
    if len(new_password) < MIN_PASSWORD_LENGTH:
        raise InputError("new_password", f"at least {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = generate_password_hash(new_password)
    end_sessions(user)
    return True


def end_sessions(user: User) -> None:
    """Every session signed in under the account's current version ends (logout, password change, admin)."""
    user.session_version = (user.session_version or 0) + 1


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(*, session: Session, name: str, sources: list[TicketSource]) -> str:
    """A new machine token; the plain text is returned once and never stored."""
    if not sources:
        raise InputError("sources", "a token must be allowed at least one source")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_hash=hash_token(token), sources=[s.value for s in sources],
                         created_at=utcnow()))
    session.flush()
    return token


def user_principal(user: User) -> Principal:
    return Principal(name=user.username, role=Role(user.role), squad_code=user.squad_code, user_id=user.id)


def token_principal(*, session: Session, token: str) -> Principal | None:
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(token),
                                                 ApiToken.revoked_at.is_(None))).first()
    if row is None:
        return None
    return Principal(name=f"token:{row.name}", role=None, squad_code=None,
                     sources=frozenset(TicketSource(s) for s in row.sources))


def actor_names(*, session: Session, actors: set[str]) -> dict[str, tuple[str, str]]:
    """Timeline actors as people read them: (kind, name) — a user's display name, a machine token's name, or the
    system step as recorded (cli:grid, import:<file>, hotline:<profile>)."""
    users = dict(session.execute(select(User.username, User.display_name).where(User.username.in_(sorted(actors)))).all())
    named: dict[str, tuple[str, str]] = {}
    for actor in actors:
        if actor in users:
            named[actor] = ("user", users[actor] or actor)
        elif actor.startswith("token:"):
            named[actor] = ("token", actor.removeprefix("token:"))
        else:
            named[actor] = ("system", actor)
    return named
