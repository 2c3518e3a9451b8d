"""Signing in and out with a session cookie (pages); machine clients use bearer tokens instead."""
from flask import session
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields

from dispatch.account.service import authenticate
from webapp.auth import SESSION_USER_KEY, principal, requires
from webapp.platform import db_session

blp = Blueprint("auth", __name__, description="Sign in and out")


class LoginIn(Schema):
    username = fields.String(required=True)
    password = fields.String(required=True, load_only=True)


class MeOut(Schema):
    name = fields.String()
    role = fields.String(allow_none=True)
    squad_code = fields.String(allow_none=True)


def me_view() -> dict:
    who = principal()
    return {"name": who.name, "role": who.role.value if who.role else None, "squad_code": who.squad_code}


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginIn)
@blp.response(200, MeOut)
def login(body: dict):
    user = authenticate(session=db_session(), username=body["username"], password=body["password"])
    if user is None:
        abort(401, message="wrong username or password")
    session.clear()
    session[SESSION_USER_KEY] = user.id
    session.permanent = True
    return {"name": user.username, "role": user.role, "squad_code": user.squad_code}


@blp.route("/logout", methods=["POST"])
@blp.response(204)
def logout():
    session.clear()


@blp.route("/me", methods=["GET"])
@requires()
@blp.response(200, MeOut)
def me():
    return me_view()
