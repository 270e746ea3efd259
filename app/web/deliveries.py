"""Mail, chat posts and webhook deliveries that could not be delivered, for admins:
why, and a button to send one again."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from sqlalchemy import select

from app.auth import requires_role
from app.db import among
from app.extensions import db
from app.models import ChatDestination, Employee, Role, WebhookEndpoint
from app.services import outbox
from app.web.pages import me
from scoring.notifications import KIND_LABELS

bp = Blueprint("delivery_pages", __name__, url_prefix="/admin")


@bp.get("/mail")
@requires_role(Role.ADMIN)
def failed_mail():
    messages = outbox.failed()
    return render_template(
        "admin/mail.html",
        messages=messages,
        names=_names(Employee, {m.employee_id for m in messages}),
        channel_names=_names(ChatDestination, {m.destination_id for m in messages}),
        endpoint_names=_names(WebhookEndpoint, {m.endpoint_id for m in messages}),
        counts=outbox.unsettled_counts(),
        kinds=KIND_LABELS,
    )


def _names(model, ids: set[int | None]) -> dict[int, str]:
    ids.discard(None)
    if not ids:
        return {}
    query = select(model.id, model.name).where(among(model.id, sorted(ids)))
    return dict(db.session.execute(query).all())


@bp.post("/mail/<int:message_id>/retry")
@requires_role(Role.ADMIN)
def retry(message_id: int):
    outbox.retry(me(), message_id)
    flash("It goes out again within seconds.", "success")
    return redirect(url_for("delivery_pages.failed_mail"))
