"""Helpers for the JSON API tests: callers signed in by session or by bearer token.

A session caller sends the CSRF header as the pages' scripts do; a bearer caller sends
only its token. Both create a real employee (and a real token) in the database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import flask
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, select

from app.errors import describe_invalid_fields
from app.extensions import db
from app.models import Employee, Role
from app.services.tokens import create_token
from tests.conftest import sign_in
from tests.factories import EmployeeFactory

UNAUTHORIZED = {
    "code": 401,
    "status": "Unauthorized",
    "message": "Sign in, or send a valid API token.",
}
CSRF_MISSING = {
    "code": 400,
    "status": "Bad Request",
    "message": "The form expired or did not come from this site. Reload the page and try again.",
}
INVALID_JSON = {
    "code": 400,
    "status": "Bad Request",
    "message": "The request body is not valid JSON.",
    "errors": {"json": ["Not JSON."]},
}
MISSING = ["This field is required."]
UNKNOWN = ["Unknown field."]
NOT_AN_INTEGER = ["Not a valid integer."]
NOT_A_STRING = ["Not a valid string."]


def forbidden(role: Role) -> dict:
    return {
        "code": 403,
        "status": "Forbidden",
        "message": f"This needs the {role.value.replace('_', ' ')} role.",
    }


def invalid(errors: dict, message: str | None = None) -> dict:
    """The body of a 422 answer: the fields named in the message, unless a service gave
    its own."""
    return {
        "code": 422,
        "status": "Unprocessable Entity",
        "message": message or describe_invalid_fields(errors),
        "errors": errors,
    }


@dataclass
class Caller:
    """A client that calls the API as one employee."""

    client: FlaskClient
    employee_id: int
    headers: dict[str, str] = field(default_factory=dict)

    def open(self, method: str, url: str, **kwargs: Any):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.open(url, method=method, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: Any):
        return self.open("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any):
        return self.open("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any):
        return self.open("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any):
        return self.open("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any):
        return self.open("DELETE", url, **kwargs)

    def raw(self, method: str, url: str, body: str):
        """Send ``body`` as it is, declared as JSON (for malformed JSON)."""
        return self.open(method, url, data=body, content_type="application/json")


def _new_employee(app: Flask, role: Role, attributes: dict) -> int:
    with app.app_context():
        employee = EmployeeFactory(role=role, **attributes)
        return employee.id


def csrf_header(app: Flask, client: FlaskClient) -> dict[str, str]:
    """A CSRF token for the client's session, made the way a page's meta tag makes it."""
    with app.test_request_context():
        token = generate_csrf()
        raw = flask.session[app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")]
    with client.session_transaction() as session:
        session[app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")] = raw
    return {"X-CSRFToken": token}


def session_for(app: Flask, employee_id: int) -> Caller:
    """Sign an existing employee in on a new client, with the CSRF header."""
    client = app.test_client()
    with app.app_context():
        sign_in(client, db.session.get(Employee, employee_id))
    return Caller(client, employee_id, csrf_header(app, client))


def session_caller(app: Flask, role: Role = Role.EMPLOYEE, **attributes: Any) -> Caller:
    return session_for(app, _new_employee(app, role, attributes))


def issue_token(app: Flask, employee_id: int, name: str = "Test integration") -> str:
    """A real token through the service, committed; returns the secret."""
    with app.app_context():
        owner = db.session.get(Employee, employee_id)
        _, secret = create_token(owner, owner, name)
        db.session.commit()
    return secret


def bearer_for(app: Flask, employee_id: int) -> Caller:
    secret = issue_token(app, employee_id)
    return Caller(app.test_client(), employee_id, {"Authorization": f"Bearer {secret}"})


def bearer_caller(app: Flask, role: Role = Role.EMPLOYEE, **attributes: Any) -> Caller:
    return bearer_for(app, _new_employee(app, role, attributes))


def anonymous(app: Flask) -> Caller:
    return Caller(app.test_client(), 0)


def count(app: Flask, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def pagination(response) -> dict:
    return json.loads(response.headers["X-Pagination"])
