"""Signing in and out with a session cookie (pages); machine clients use bearer tokens instead.

A session ends at logout, after `security.session_idle_min` without a request, and
`security.session_lifetime_h` after sign-in. Logout, a password change and an admin's sign-out
raise the account's session version, which ends every session of that account on every device.
"""
from flask import session
from flask_smorest import Blueprint, abort
from flask_wtf.csrf import generate_csrf
from marshmallow import Schema, fields
from sqlalchemy import select

from dispatch.account.enums import Role
from dispatch.account.models import User
from dispatch.account.service import authenticate, change_password, end_sessions
from dispatch.errors import NotFound
from webapp.auth import principal, requires, session_user, start_session
from webapp.platform import db_session

blp = Blueprint("auth", __name__, description="Sign in and out")


class LoginIn(Schema):
    username = fields.String(required=True)
    password = fields.String(required=True, load_only=True)


class MeOut(Schema):
    name = fields.String()
    role = fields.String(allow_none=True)
    squad_code = fields.String(allow_none=True)
    csrf_token = fields.String(metadata={"description": "send it as X-CSRFToken with every unsafe request"})


class PasswordIn(Schema):
    current_password = fields.String(required=True, load_only=True)
    new_password = fields.String(required=True, load_only=True)


def me_view() -> dict:
    who = principal()
    return {"name": who.name, "role": who.role.value if who.role else None, "squad_code": who.squad_code}


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginIn)
@blp.response(200, MeOut)
@blp.alt_response(429, description="too many failed sign-ins for this account or address; see Retry-After")
def login(body: dict):
    user = authenticate(session=db_session(), username=body["username"], password=body["password"])
    if user is None:
        abort(401, message="wrong username or password")
    start_session(user)
    return {"name": user.username, "role": user.role, "squad_code": user.squad_code, "csrf_token": generate_csrf()}


@blp.route("/logout", methods=["POST"])
@blp.response(204)
def logout():
    """End this session, and with it every session of the account (shared terminals: nobody stays signed in)."""
    user = session_user()
    if user is not None:
        end_sessions(user)
        db_session().commit()
    session.clear()


@blp.route("/me", methods=["GET"])
@requires()
@blp.response(200, MeOut)
def me():
    return me_view()


@blp.route("/password", methods=["POST"])
@requires()
@blp.arguments(PasswordIn)
@blp.response(204)
@blp.alt_response(403, description="the current password is wrong")
def password(body: dict):
    """Change one's own password; every other session of the account ends, this one goes on."""
    user = session_user()
    if user is None:
        abort(403, message="sign in with a password to change it")
    if not change_password(session=db_session(), user=user, current_password=body["current_password"],
                           new_password=body["new_password"]):
        abort(403, message="the current password is wrong")
    db_session().commit()
    start_session(user)


@blp.route("/users/<username>/sign-out", methods=["POST"])
@requires(Role.ADMIN)
@blp.response(204)
def sign_out_everywhere(username: str):
    """An admin ends every session of an account (a lost phone, a person leaving)."""
    user = db_session().scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"no user '{username}'")
    end_sessions(user)
    db_session().commit()
