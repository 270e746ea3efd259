"""Magic-link sign-in: a timed, signed, single-use link sent by mail.

The link carries the employee's current login nonce. Signing in rotates the nonce with a
conditional UPDATE, so a link works once even when two requests race, and every older
link dies with it.
"""

from __future__ import annotations

import time
from hashlib import sha256

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import update

from app.errors import InvalidInput
from app.extensions import db
from app.models import Employee, new_login_nonce, utcnow
from app.queue import enqueue
from app.services.people import find_employee_by_email
from app.urls import absolute_url

SALT = "chorus.sign-in"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_sign_in_token(employee: Employee) -> str:
    return _serializer().dumps({"e": employee.id, "n": employee.login_nonce})


def sign_in_url(employee: Employee, next_path: str | None = None) -> str:
    """``next_path``: the local page to go on to once signed in (checked again there)."""
    extra = {"next": next_path} if next_path else {}
    return absolute_url("auth.confirm_sign_in", token=make_sign_in_token(employee), **extra)


def request_sign_in_link(email: str, next_path: str | None = None) -> None:
    """Mail a link if the address belongs to an active employee. The caller answers the
    same either way, so the form does not reveal who works here. The link leads on to
    ``next_path`` (a local path the caller checked), whichever browser opens the mail."""
    employee = find_employee_by_email(email)
    if employee is None or not employee.is_active:
        return
    minute = int(time.time() // 60)  # one mail per link and minute, however often asked
    digest = sha256(employee.login_nonce.encode()).hexdigest()[:16]  # job ids are logged
    enqueue(
        "app.jobs.send_sign_in_link",
        employee.id,
        employee.login_nonce,
        *([next_path] if next_path else []),
        job_id=f"sign-in-{employee.id}-{digest}-{minute}",  # rq allows [\w-] only
        queue_name="mail",
    )


def check_sign_in_token(token: str) -> Employee:
    """The employee a valid, unused link belongs to; InvalidInput otherwise."""
    try:
        payload = _serializer().loads(token, max_age=current_app.config["SIGN_IN_LINK_MAX_AGE"])
    except SignatureExpired as exc:
        raise InvalidInput("This sign-in link has expired. Ask for a new one.") from exc
    except BadSignature as exc:
        raise InvalidInput("This sign-in link is not valid. Ask for a new one.") from exc
    if not isinstance(payload, dict):
        raise InvalidInput("This sign-in link is not valid. Ask for a new one.")
    employee = db.session.get(Employee, payload.get("e"))
    if employee is None or not employee.is_active:
        raise InvalidInput("This sign-in link is not valid. Ask for a new one.")
    if employee.login_nonce != payload.get("n"):
        raise InvalidInput("This sign-in link was already used. Ask for a new one.")
    return employee


def consume_sign_in_token(token: str) -> Employee:
    employee = check_sign_in_token(token)
    rotated = db.session.execute(
        update(Employee)
        .where(Employee.id == employee.id, Employee.login_nonce == employee.login_nonce)
        .values(login_nonce=new_login_nonce(), last_sign_in_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if rotated.rowcount != 1:
        raise InvalidInput("This sign-in link was already used. Ask for a new one.")
    db.session.refresh(employee)
    return employee
