"""Checks every request passes before any view: the body's size limit, and text no database can store."""
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request
from flask_smorest import abort

from webapp.platform import current_platform

NUL = "\x00"


def takes_uploads(view: Callable) -> Callable:
    """Mark a route that receives files: its body may reach app.max_upload_bytes instead of app.max_body_bytes."""
    view.takes_uploads = True
    return view


def upload_size_limit() -> None:
    """Raise the body limit for upload routes before anything reads the body (a form read counts)."""
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "takes_uploads", False):
        request.max_content_length = current_platform().settings.app.max_upload_bytes


def nul_paths(value: Any, path: str) -> list[str]:
    """Dotted paths of the strings (keys included) in a JSON value that contain a NUL character."""
    if isinstance(value, str):
        return [path] if NUL in value else []
    if isinstance(value, dict):
        found = [f"{path}.{key}".lstrip(".") for key in value if NUL in str(key)]
        for key, item in value.items():
            found += nul_paths(item, f"{path}.{key}".lstrip("."))
        return found
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in nul_paths(item, f"{path}.{index}".lstrip("."))]
    return []


def refuse_nul_characters() -> None:
    """PostgreSQL text cannot hold NUL: refuse it (422 naming the field) instead of failing at the database."""
    where = {
        "query": nul_paths(request.args.to_dict(flat=False), ""),
        "form": nul_paths(request.form.to_dict(flat=False), ""),
    }
    if request.is_json:
        where["json"] = nul_paths(request.get_json(silent=True), "")
    errors = {location: {path: ["NUL characters are not allowed"] for path in paths}
              for location, paths in where.items() if paths}
    if errors:
        abort(422, message="NUL characters are not allowed", errors=errors)


def register_guards(app: Flask) -> None:
    app.before_request(upload_size_limit)  # first: the NUL check below reads the form
    app.before_request(refuse_nul_characters)
