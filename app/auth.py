"""Who is asking, and may they: sessions, bearer tokens and roles.

People sign in with single-use magic links (``app.services.sign_in``) and then hold a
session cookie; machines send ``Authorization: Bearer <token>``. A request is
authenticated by exactly one of them: with a bearer header, by the token alone (cookies
are ignored, a bad token is a 401); without one, by the session, which is CSRF-checked.
Sessions and remember cookies carry the employee's session epoch; signing out raises it,
so copies of either stop working. Every view declares the least role it needs with
``@requires_role``; the role matrix test reads that declaration and checks it with real
requests.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import Flask, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import update

from app.errors import Forbidden, error_response, wants_json
from app.extensions import csrf, db, login_manager
from app.models import Employee, Role
from app.services.tokens import authenticate

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


def session_employee(user_id: str) -> Employee | None:
    """The active employee a session or remember cookie names, if it was issued in
    their current session epoch (``Employee.get_id``)."""
    employee_id, _, epoch = user_id.partition(":")
    if not (employee_id.isdigit() and epoch.isdigit()) or len(employee_id) > 18:
        return None
    employee = db.session.get(Employee, int(employee_id))
    if employee is None or not employee.is_active or employee.session_epoch != int(epoch):
        return None
    return employee


def end_sessions(employee: Employee) -> None:
    """Make every session and remember cookie issued to ``employee`` so far invalid."""
    db.session.execute(
        update(Employee)
        .where(Employee.id == employee.id)
        .values(session_epoch=Employee.session_epoch + 1)
        .execution_options(synchronize_session=False)
    )


def _unauthorized_response():
    response = error_response(401, "Sign in, or send a valid API token.")
    response.headers["WWW-Authenticate"] = 'Bearer realm="chorus"'
    return response


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    login_manager.user_loader(session_employee)

    @app.before_request
    def authenticate_bearer():
        """A bearer header decides alone: its owner, or a 401. The session is not read,
        so a cookie cannot stand in for a bad token (nor skip the CSRF check with it)."""
        if "Authorization" not in request.headers:
            return None
        secret = bearer_token()
        if secret is None:  # another scheme (a proxy's Basic auth): not ours to judge
            return None
        employee = authenticate(secret)
        if employee is None:
            return _unauthorized_response()
        login_manager._update_request_context_with_user(employee)
        return None

    @login_manager.unauthorized_handler
    def unauthorized():
        if wants_json() or bearer_token() is not None:
            return _unauthorized_response()
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
