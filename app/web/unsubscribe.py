"""One-click unsubscribe from a mail (RFC 8058).

The link in every mail's ``List-Unsubscribe`` header and footer names the person and
the kind of mail, signed (``app.services.mails``): no sign-in is needed, and the
signature is the only credential, so the form carries no CSRF token. A GET only asks
(link scanners follow GETs); the POST, from the page's button or straight from a
mail program (``List-Unsubscribe=One-Click``), turns that mail off.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from app.auth import public
from app.extensions import csrf, db
from app.models import Employee
from app.services import notifications
from app.services.mails import read_unsubscribe_token
from scoring.notifications import KIND_LABELS

bp = Blueprint("unsubscribe", __name__)


def _named(token: str):
    found = read_unsubscribe_token(token)
    employee = db.session.get(Employee, found[0]) if found else None
    if employee is None or employee.erased_at is not None:
        return None, None
    return employee, found[1]


def _invalid():
    return render_template("unsubscribe/invalid.html"), 404


@bp.get("/unsubscribe/<token>")
@public
def confirm(token: str):
    employee, kind = _named(token)
    if employee is None:
        return _invalid()
    return render_template("unsubscribe/confirm.html", token=token, what=KIND_LABELS[kind])


@bp.post("/unsubscribe/<token>")
@public
@csrf.exempt
def unsubscribe(token: str):
    employee, kind = _named(token)
    if employee is None:
        return _invalid()
    notifications.unsubscribe(employee, kind)
    return render_template("unsubscribe/done.html", what=KIND_LABELS[kind])
