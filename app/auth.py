"""Who is asking, and may they: sessions, bearer tokens and roles.

People sign in with single-use magic links (``app.services.sign_in``) and then hold a
session cookie; machines send ``Authorization: Bearer <token>``. Every view declares the
least role it needs with ``@requires_role``; the role matrix test reads that declaration
and checks it with real requests.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import Flask, redirect, request, url_for
from flask_login import current_user

from app.errors import Forbidden, error_response, wants_json
from app.extensions import csrf, db, login_manager
from app.models import Employee, Role

F = TypeVar("F", bound=Callable)

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def bearer_secret(authorization: str) -> str | None:
    """The token in an ``Authorization: Bearer <token>`` header's value."""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def bearer_token() -> str | None:
    return bearer_secret(request.headers.get("Authorization", ""))


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str) -> Employee | None:
        employee = db.session.get(Employee, int(user_id)) if user_id.isdigit() else None
        return employee if employee is not None and employee.is_active else None

    @login_manager.request_loader
    def load_user_from_token(_request) -> Employee | None:
        from app.services.tokens import authenticate

        secret = bearer_token()
        return authenticate(secret) if secret else None

    @login_manager.unauthorized_handler
    def unauthorized():
        if wants_json():
            response = error_response(401, "Sign in, or send a valid API token.")
            response.headers["WWW-Authenticate"] = 'Bearer realm="chorus"'
            return response
        return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))


def protect_api_from_csrf() -> None:
    """API calls with a bearer token carry no ambient credentials; calls riding on the
    session cookie (the pages' own scripts) must send the CSRF token like a form."""
    if request.method in UNSAFE_METHODS and bearer_token() is None:
        csrf.protect()


def requires_role(role: Role) -> Callable[[F], F]:
    """Allow signed-in people (or tokens) whose role includes ``role``."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(role):
                raise Forbidden(f"This needs the {role.value.replace('_', ' ')} role.")
            return view(*args, **kwargs)

        wrapped.required_role = role  # read by the role matrix test
        return wrapped  # type: ignore[return-value]

    return decorator


def public(view: F) -> F:
    """Mark a view as open to everyone, on purpose."""
    view.required_role = None  # type: ignore[attr-defined]
    return view
