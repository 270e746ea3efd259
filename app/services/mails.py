"""What a mail from the outbox says: its subject, text and HTML, and the headers every
one of them carries.

Every mail has a signed one-click unsubscribe (RFC 8058: ``List-Unsubscribe`` with
``List-Unsubscribe-Post``, answered by ``app.web.unsubscribe``) and a link to the
person's settings. The link signs the person and the kind only: it works for as long
as the secret key stays, since a mail may be read months later.

A digest is rendered when it is sent, from the content ids it was composed with: an
item withdrawn (or no longer meant for the person) meanwhile is left out, and a digest
left with nothing to say is not sent.
"""

from __future__ import annotations

import json

from flask import current_app, render_template
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from app.extensions import db
from app.mail import make_message
from app.models import ContentItem, Employee, OutboxMessage, utcnow
from app.services.feed import meant_for
from app.urls import absolute_url, base_url
from scoring.notifications import Kind

UNSUBSCRIBE_SALT = "chorus.unsubscribe"


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(employee_id: int, kind: Kind) -> str:
    return _signer().dumps([employee_id, kind.value])


def read_unsubscribe_token(token: str) -> tuple[int, Kind] | None:
    """The person and kind a token names; None when it was not signed here."""
    try:
        employee_id, kind = _signer().loads(token)
        return int(employee_id), Kind(kind)
    except (BadSignature, ValueError, TypeError):
        return None


def render(message: OutboxMessage, employee: Employee):
    """The mail for an outbox message, or None when there is nothing left to say."""
    payload = json.loads(message.payload)
    if message.kind is Kind.DIGEST:
        context = digest_context(employee, payload)
        if context is None:
            return None
        template = "digest"
    else:
        context = {"notice": payload, "link": _absolute(payload.get("link"))}
        template = "notice"
    context.update(
        employee=employee,
        company=current_app.config["COMPANY_NAME"],
        unsubscribe_url=absolute_url(
            "unsubscribe.confirm", token=unsubscribe_token(employee.id, message.kind)
        ),
        settings_url=absolute_url("inbox_pages.settings"),
        kind=message.kind,
    )
    subject = context.get("subject") or payload.get("title", "Chorus")
    return make_message(
        employee.email,
        subject,
        render_template(f"mail/{template}.txt", **context),
        render_template(f"mail/{template}.html", **context),
        headers={
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )


def digest_context(employee: Employee, payload: dict) -> dict | None:
    ids = payload.get("items", [])
    items = []
    if ids:
        query = select(ContentItem).where(ContentItem.id.in_(ids), *meant_for(employee, utcnow()))
        found = {item.id: item for item in db.session.scalars(query)}
        items = [
            {"item": found[i], "url": absolute_url("feed_pages.dialog", content_id=i)}
            for i in ids
            if i in found
        ]
    notices = [
        {**notice, "url": _absolute(notice.get("link"))} for notice in payload.get("notices", [])
    ]
    if not items and not notices:
        return None
    more = payload.get("more", 0)
    if len(items) + more > 1:
        subject = f"{len(items) + more} new to share"
    elif items:
        subject = f"New to share: {items[0]['item'].title}"
    else:
        subject = "What you missed in Chorus"
    return {
        "subject": subject,
        "items": items,
        "more": more,
        "notices": notices,
        "feed_url": absolute_url("feed_pages.show"),
    }


def _absolute(path: str | None) -> str | None:
    return base_url() + path if path else None
