"""What every page form does on bad input: undo, re-render with the problems, answer
with the error's status (422, or 409/403/404 as the service says)."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from app.errors import ChorusError
from app.extensions import db
from app.models import Employee


def form_failed(exc: ChorusError, template: str, **context) -> tuple[str, int]:
    db.session.rollback()  # services flush as they go; nothing of this request stays
    context.setdefault("values", request.form)
    page = render_template(template, errors=exc.errors, error_message=exc.message, **context)
    return page, exc.status


def optional_int(value: str | None) -> str | None:
    """Empty form fields mean "none"; anything else goes to the schema as typed."""
    value = (value or "").strip()
    return value or None


def page_number() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


def me() -> Employee:
    """The signed-in employee itself: services inspect the type, which a proxy hides."""
    return current_user._get_current_object()
