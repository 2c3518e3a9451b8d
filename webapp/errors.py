"""Domain errors and oversized bodies as JSON answers in flask-smorest's error shape; a database outage as 503."""
import logging
from typing import Any

from flask import Flask, current_app, g, jsonify, render_template, request
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import RequestEntityTooLarge

from dispatch.case.signoff import SignoffRequired
from dispatch.errors import InputError, NotFound, TransitionRefused
from dispatch.patrol.service import NotOnPatrol
from webapp.i18n import pick_language, translate
from webapp.platform import current_platform, db_session

log = logging.getLogger(__name__)


def error_response(code: int, status: str, message: str, field: str | None = None, *, key: str | None = None,
                   params: dict[str, Any] | None = None, **extra: str):
    """flask-smorest's error shape; `key` and `params` let the pages say it in the user's language."""
    payload: dict = {"code": code, "status": status, "message": message, **extra}
    if field is not None:
        payload["errors"] = {"json": {field: [message]}}
    if key is not None:
        payload["key"], payload["params"] = key, params or {}
    return jsonify(payload), code


def rollback() -> None:
    """Nothing of a refused request is written."""
    db_session().rollback()


def discard_session() -> None:
    """The request's session after its connection failed: dropped without a word to the database."""
    session = g.pop("db_session", None)
    if session is not None:
        try:
            session.close()
        except SQLAlchemyError:
            pass  # the connection is gone already; the pool replaces it


def database_unavailable(error: SQLAlchemyError):
    """503 with Retry-After: a page for people, the API's error shape for programs (the request was not carried out)."""
    discard_session()
    reason = (str(getattr(error, "orig", None) or error).strip().splitlines() or [error.__class__.__name__])[0]
    log.warning("database unavailable during %s %s: %s", request.method, request.path, reason)
    retry_after = current_platform().settings.database.retry_after_s
    if request.blueprint == "pages":
        language = pick_language(current_platform().settings.app.language)
        body = render_template("error.html", message=translate(language, "error.database_unavailable"),
                               detail=translate(language, "error.database_unavailable_detail", seconds=retry_after),
                               refresh_s=retry_after)
        response = current_app.make_response((body, 503))
    else:
        response = current_app.make_response(error_response(
            503, "Service Unavailable", f"the database cannot be reached; send the request again in {retry_after} s"))
    response.headers["Retry-After"] = str(retry_after)
    return response


def register_error_handlers(app: Flask) -> None:
    # A lost or refused connection (server down, restarting, failing over, SQLite locked past its timeout).
    app.register_error_handler(OperationalError, database_unavailable)
    app.register_error_handler(InterfaceError, database_unavailable)

    @app.errorhandler(InputError)
    def input_error(error: InputError):
        rollback()
        return error_response(422, "Unprocessable Entity", error.message, error.field, key=error.key,
                              params=getattr(error, "params", None))

    @app.errorhandler(NotOnPatrol)
    def not_on_patrol(error: NotOnPatrol):
        rollback()
        return error_response(409, "Conflict", str(error), key="not_on_patrol")

    @app.errorhandler(NotFound)
    def not_found(error: NotFound):
        rollback()
        return error_response(404, "Not Found", str(error), key="not_found")

    @app.errorhandler(TransitionRefused)
    def refused(error: TransitionRefused):
        rollback()
        return error_response(409, "Conflict", str(error), key="transition_refused",
                              params={"action": error.action, "state": error.from_state})

    @app.errorhandler(SignoffRequired)
    def signoff_required(error: SignoffRequired):
        rollback()
        return error_response(409, "Conflict", str(error), key=error.key, step=error.step)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_error: RequestEntityTooLarge):
        limit = request.max_content_length  # the route's own limit: larger for uploads
        return error_response(413, "Request Entity Too Large", f"the request body exceeds {limit} bytes", "body",
                              key="too_large", params={"limit_mb": round(limit / 1_048_576, 1)})
