"""Domain errors and oversized bodies as JSON answers in flask-smorest's error shape."""
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from dispatch.errors import InputError, NotFound, TransitionRefused
from webapp.platform import db_session


def error_response(code: int, status: str, message: str, field: str | None = None, *, key: str | None = None,
                   params: dict[str, Any] | None = None):
    """flask-smorest's error shape; `key` and `params` let the pages say it in the user's language."""
    payload: dict = {"code": code, "status": status, "message": message}
    if field is not None:
        payload["errors"] = {"json": {field: [message]}}
    if key is not None:
        payload["key"], payload["params"] = key, params or {}
    return jsonify(payload), code


def rollback() -> None:
    """Nothing of a refused request is written."""
    db_session().rollback()


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(InputError)
    def input_error(error: InputError):
        rollback()
        return error_response(422, "Unprocessable Entity", error.message, error.field, key=error.key)

    @app.errorhandler(NotFound)
    def not_found(error: NotFound):
        rollback()
        return error_response(404, "Not Found", str(error), key="not_found")

    @app.errorhandler(TransitionRefused)
    def refused(error: TransitionRefused):
        rollback()
        return error_response(409, "Conflict", str(error), key="transition_refused",
                              params={"action": error.action, "state": error.from_state})

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_error: RequestEntityTooLarge):
        limit = request.max_content_length  # the route's own limit: larger for uploads
        return error_response(413, "Request Entity Too Large", f"the request body exceeds {limit} bytes", "body",
                              key="too_large", params={"limit_mb": round(limit / 1_048_576, 1)})
