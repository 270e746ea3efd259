"""The employee's feed and the share dialog."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.auth import requires_role
from app.errors import ChorusError
from app.extensions import db
from app.models import ContentItem, Employee, Role, utcnow
from app.schemas import ShareFormSchema, load
from app.services import feed, policy, sharing
from app.web.forms import me, optional_int, page_number
from scoring.sharing import Channel, with_disclosure

bp = Blueprint("feed_pages", __name__)

CHANNEL_LABELS = {
    Channel.LINKEDIN: "LinkedIn",
    Channel.X: "X",
    Channel.FACEBOOK: "Facebook",
    Channel.XING: "XING",
    Channel.INSTAGRAM: "Instagram",
    Channel.EMAIL: "E-mail",
}


def to_guidelines_unless_participating(employee: Employee) -> Response | None:
    if employee.participating:
        return None
    flash("Sharing starts once you have read and accepted the guidelines.", "warning")
    return redirect(url_for("participation.guidelines"))


def image_url(item: ContentItem) -> str | None:
    if not item.image_filename or "content.media" not in current_app.view_functions:
        return None
    return url_for("content.media", filename=item.image_filename)


@bp.get("/feed")
@requires_role(Role.EMPLOYEE)
def show():
    employee = me()
    if (detour := to_guidelines_unless_participating(employee)) is not None:
        return detour
    now = utcnow()
    page = db.paginate(
        feed.feed_select(employee, now), page=page_number(), per_page=20, error_out=False
    )
    ids = [item.id for item in page.items]
    return render_template(
        "feed/index.html",
        page=page,
        shared=feed.shared_channels(employee.id, ids),
        allowance=feed.allowance(employee, now, ids),
        CHANNEL_LABELS=CHANNEL_LABELS,
        image_url=image_url,
    )


def _dialog(item: ContentItem, status: int = 200, **context):
    share_policy = policy.share_policy()
    channel = context.pop("channel", None) or request.args.get("channel")
    channel = channel if channel in {c.value for c in Channel} else None
    if channel is None:  # the first channel HR wrote a text for, else LinkedIn
        channel = item.templates[0].channel.value if item.templates else Channel.LINKEDIN.value
    values = context.pop("values", None)
    if values is None:
        first = next((t for t in item.templates if t.channel.value == channel), None)
        values = {
            "channel": channel,
            "template_id": first.id if first else "",
            "text": first.text if first else item.title,
        }
    page = render_template(
        "feed/share.html",
        item=item,
        values=values,
        channels=list(Channel),
        CHANNEL_LABELS=CHANNEL_LABELS,
        disclosure=share_policy.disclosure,
        preview=with_disclosure(
            values["text"] or "", share_policy.disclosure, item.campaign_hashtag
        ),
        allowance=feed.allowance(me(), utcnow(), [item.id]),
        image_url=image_url,
        **context,
    )
    return page, status


@bp.get("/content/<int:content_id>/share")
@requires_role(Role.EMPLOYEE)
def dialog(content_id: int):
    employee = me()
    if (detour := to_guidelines_unless_participating(employee)) is not None:
        return detour
    return _dialog(sharing.shareable_item(employee, content_id, utcnow()))


@bp.post("/content/<int:content_id>/share")
@requires_role(Role.EMPLOYEE)
def share(content_id: int):
    employee = me()
    if (detour := to_guidelines_unless_participating(employee)) is not None:
        return detour
    item = sharing.shareable_item(employee, content_id, utcnow())  # 404 before the form
    entered = {
        "channel": request.form.get("channel", ""),
        "template_id": optional_int(request.form.get("template_id")),
        "text": request.form.get("text", ""),
    }
    try:
        data = load(ShareFormSchema(), {k: v for k, v in entered.items() if v != ""})
        created = sharing.create_share(employee, content_id=content_id, **data)
    except ChorusError as exc:
        db.session.rollback()
        item = sharing.shareable_item(employee, content_id, utcnow())
        return _dialog(
            item,
            exc.status,
            values={**entered, "template_id": entered["template_id"] or ""},
            errors=exc.errors,
            error_message=exc.message,
            cap=getattr(exc, "cap", None),
            next_allowed_at=getattr(exc, "next_allowed_at", None),
        )
    db.session.commit()
    sharing.warm_link(created)
    flash("Your share is ready: post it with the button below.", "success")
    return redirect(url_for("share_pages.detail", share_id=created.id))
