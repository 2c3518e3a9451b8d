"""Domain errors and oversized bodies as JSON answers in flask-smorest's error shape."""
from flask import Flask, current_app, jsonify
from werkzeug.exceptions import RequestEntityTooLarge

from dispatch.case.signoff import SignoffRequired
from dispatch.errors import InputError, NotFound, TransitionRefused
from webapp.platform import db_session


def error_response(code: int, status: str, message: str, field: str | None = None, **extra: str):
    payload: dict = {"code": code, "status": status, "message": message, **extra}
    if field is not None:
        payload["errors"] = {"json": {field: [message]}}
    return jsonify(payload), code


def rollback() -> None:
    """Nothing of a refused request is written."""
    db_session().rollback()


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(InputError)
    def input_error(error: InputError):
        rollback()
        return error_response(422, "Unprocessable Entity", error.message, error.field)

    @app.errorhandler(NotFound)
    def not_found(error: NotFound):
        rollback()
        return error_response(404, "Not Found", str(error))

    @app.errorhandler(TransitionRefused)
    def refused(error: TransitionRefused):
        rollback()
        return error_response(409, "Conflict", str(error))

    @app.errorhandler(SignoffRequired)
    def signoff_required(error: SignoffRequired):
        rollback()
        return error_response(409, "Conflict", str(error), key=error.key, step=error.step)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_error: RequestEntityTooLarge):
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        return error_response(413, "Request Entity Too Large", f"the request body exceeds {limit} bytes", "body")
