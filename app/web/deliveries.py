"""Mail and chat posts that could not be delivered, for admins: why, and a button to
send one again."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from sqlalchemy import select

from app.auth import requires_role
from app.db import among
from app.extensions import db
from app.models import ChatDestination, Employee, Role
from app.services import outbox
from app.web.pages import me
from scoring.notifications import KIND_LABELS

bp = Blueprint("delivery_pages", __name__, url_prefix="/admin")


@bp.get("/mail")
@requires_role(Role.ADMIN)
def failed_mail():
    messages = outbox.failed()
    people = sorted({m.employee_id for m in messages if m.employee_id is not None})
    channels = sorted({m.destination_id for m in messages if m.destination_id is not None})
    names, channel_names = {}, {}
    if people:
        query = select(Employee.id, Employee.name).where(among(Employee.id, people))
        names = dict(db.session.execute(query).all())
    if channels:
        query = select(ChatDestination.id, ChatDestination.name).where(
            among(ChatDestination.id, channels)
        )
        channel_names = dict(db.session.execute(query).all())
    return render_template(
        "admin/mail.html",
        messages=messages,
        names=names,
        channel_names=channel_names,
        counts=outbox.unsettled_counts(),
        kinds=KIND_LABELS,
    )


@bp.post("/mail/<int:message_id>/retry")
@requires_role(Role.ADMIN)
def retry(message_id: int):
    outbox.retry(me(), message_id)
    flash("It goes out again within seconds.", "success")
    return redirect(url_for("delivery_pages.failed_mail"))
