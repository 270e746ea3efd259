"""The inbox page: what Chorus told the signed-in employee, newest first, marked read
when opened or all at once; and their choices of what reaches them where."""

from __future__ import annotations

import calendar

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from app.auth import requires_role
from app.errors import InvalidInput
from app.extensions import db
from app.models import Notification, Role
from app.schemas.fields import load
from app.schemas.notifications import MailSchema, settings_json
from app.services import mentions, notifications
from app.services.calendar import company_calendar
from app.web.pages import me
from scoring.chat import PROVIDER_LABELS
from scoring.notifications import (
    CHANNEL_LABELS,
    DIGEST_LABELS,
    Channel,
    Kind,
    Preferences,
    offered,
    time_zones,
)

bp = Blueprint("inbox_pages", __name__)


@bp.get("/inbox")
@requires_role(Role.EMPLOYEE)
def inbox():
    before = request.args.get("before", type=int)
    items = notifications.inbox(me(), before=before, limit=notifications.PAGE + 1)
    older = items[-2].id if len(items) > notifications.PAGE else None
    return render_template(
        "inbox/index.html",
        items=items[: notifications.PAGE],
        older=older,
        paged=before is not None,
    )


@bp.post("/inbox/<int:notification_id>/open")
@requires_role(Role.EMPLOYEE)
def open_notification(notification_id: int):
    """Mark it read and go where it points (only a path inside Chorus)."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.employee_id != me().id:
        abort(404)
    notifications.mark_read(me(), [notification.id])
    link = notification.link or ""
    safe = link.startswith("/") and not link.startswith("//")
    return redirect(link if safe else url_for("inbox_pages.inbox"))


@bp.post("/inbox/read-all")
@requires_role(Role.EMPLOYEE)
def read_all():
    marked = notifications.mark_read(me())
    flash(f"Marked {marked} read." if marked else "Nothing was unread.", "success")
    return redirect(url_for("inbox_pages.inbox"))


MAIL_FIELDS = tuple(MailSchema().fields)


@bp.route("/inbox/settings", methods=["GET", "POST"])
@requires_role(Role.EMPLOYEE)
def settings():
    employee = me()
    if request.method == "POST":
        admin = employee.has_role(Role.ADMIN)
        fields = {_field(kind, channel): (kind, channel) for kind, channel in offered(admin)}
        unknown = set(request.form) - {"csrf_token"} - set(fields) - set(MAIL_FIELDS)
        if unknown:
            raise InvalidInput(
                "These settings do not exist.",
                errors={f: ["Unknown field."] for f in sorted(unknown)},
            )
        # Every field of the rhythm is on the page; an empty one means "none".
        entered = {name: request.form.get(name, "").strip() or None for name in MAIL_FIELDS}
        rhythm = load(MailSchema(), entered)
        notifications.set_choices(employee, {pair: f in request.form for f, pair in fields.items()})
        notifications.set_preferences(employee, Preferences(**rhythm))
        flash("Saved: this is what reaches you now.", "success")
        return redirect(url_for("inbox_pages.settings"))
    current = settings_json(
        notifications.choices_of([employee.id])[employee.id],
        notifications.preferences_of([employee.id])[employee.id],
        admin=employee.has_role(Role.ADMIN),
    )
    company_zone, week_start = company_calendar()
    return render_template(
        "inbox/settings.html",
        settings=current["settings"],
        mail=current["mail"],
        field=_field,
        channel_labels=CHANNEL_LABELS,
        channels=list(Channel),
        kinds=list(dict.fromkeys(setting["kind"] for setting in current["settings"])),
        digests=DIGEST_LABELS,
        company_zone=company_zone.key,
        first_weekday=calendar.day_name[week_start],
        zones=sorted(time_zones()),
        mention_places=mentions.places_for(employee),
        providers=PROVIDER_LABELS,
    )


def _field(kind: Kind, channel: Channel) -> str:
    """The form field of one (kind, channel): a checkbox, present when on."""
    return f"{kind.value}.{channel.value}"
