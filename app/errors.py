"""Domain errors and the one place they become HTTP answers.

API answers share one shape: ``{"code": 409, "status": "Conflict", "message": "...",
"errors": {"field": ["problem"]}}``; pages get a readable error page with the same message.
"""

from __future__ import annotations

from http import HTTPStatus

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import db


class ChorusError(Exception):
    """A request that cannot be carried out; nothing was changed."""

    status = 400

    def __init__(self, message: str, field: str | None = None, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or ({field: [message]} if field else {})


class InvalidInput(ChorusError):
    status = 422


class NotFound(ChorusError):
    status = 404


class Forbidden(ChorusError):
    status = 403


class Conflict(ChorusError):
    status = 409


class TooManyRequests(ChorusError):
    status = 429


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _flatten(errors: dict | None) -> dict:
    """webargs nests messages under their location ("json", "query", "form", "files");
    the API names fields directly."""
    if not errors:
        return {}
    flat: dict = {}
    for location, messages in errors.items():
        if location in {"json", "query", "form", "files", "headers", "path"} and isinstance(
            messages, dict
        ):
            flat.update(messages)
        else:
            flat[location] = messages
    return flat


def describe_invalid_fields(errors: dict) -> str:
    """The top line of a 422: which fields are wrong ("2 fields are invalid: name, email"),
    or the one problem with the whole input."""
    names = sorted(str(name) for name in errors if name != "_schema")
    if not names:
        problems = errors.get("_schema") or ["The input is invalid."]
        return str(problems[0])
    count = len(names)
    verb = "field is" if count == 1 else "fields are"
    return f"{count} {verb} invalid: {', '.join(names)}."


def error_response(status: int, message: str | None = None, errors: dict | None = None) -> Response:
    phrase = HTTPStatus(status).phrase
    if wants_json():
        body: dict = {"code": status, "status": phrase, "message": message or phrase}
        if errors:
            body["errors"] = errors
        return make_response(jsonify(body), status)
    page = render_template("error.html", code=status, phrase=phrase, message=message, errors=errors)
    return make_response(page, status)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ChorusError)
    def handle_chorus_error(exc: ChorusError):
        db.session.rollback()
        return error_response(exc.status, exc.message, exc.errors)

    @app.errorhandler(CSRFError)
    def handle_csrf_error(exc: CSRFError):
        db.session.rollback()
        return error_response(
            400, "The form expired or did not come from this site. Reload the page and try again."
        )

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException):
        db.session.rollback()
        if isinstance(exc.response, Response) and exc.code in (301, 302, 303, 307, 308):
            return exc.response
        data = getattr(exc, "data", {}) or {}  # set by flask-smorest's abort and webargs
        message = data.get("message") or exc.description
        if exc.code == 429:
            message = "Too many attempts. Please wait a moment and try again."
        errors = _flatten(data.get("messages") or data.get("errors"))
        if exc.code == 422 and errors and not data.get("message"):
            message = describe_invalid_fields(errors)
        response = error_response(exc.code or 500, message, errors)
        for name, value in exc.get_headers():  # Allow, Retry-After, WWW-Authenticate …
            if name.lower() != "content-type":
                response.headers[name] = value
        return response
