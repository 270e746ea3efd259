"""The employee's feed and the share dialog."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.auth import requires_role
from app.errors import ChorusError
from app.extensions import db
from app.models import ContentItem, Employee, Role, utcnow
from app.schemas.fields import load
from app.schemas.sharing import ShareFormSchema
from app.services import content, feed, policy, sharing
from app.web.pages import me, optional_int, page_number
from scoring.sharing import with_disclosure
from scoring.vocabulary import CHANNEL_LABELS, Channel

bp = Blueprint("feed_pages", __name__)


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
    feed.mark_seen(employee, now)
    page = db.paginate(
        feed.feed_select(employee, now), page=page_number(), per_page=20, error_out=False
    )
    ids = [item.id for item in page.items]
    return render_template(
        "feed/index.html",
        page=page,
        shared=feed.shared_channels(employee.id, ids),
        allowance=feed.allowance(employee, now, ids),
        now=now,
        CHANNEL_LABELS=CHANNEL_LABELS,
        image_url=image_url,
    )


def own_channels(employee: Employee) -> list[Channel]:
    """The channels of the networks in the employee's profile, in the usual order."""
    mine = {n.network.value for n in employee.networks}
    return [c for c in Channel if c.value in mine]


def _length(channel: Channel, text: str) -> dict:
    """What the dialog's counter shows before any script runs."""
    return {
        "count": content.posted_length(channel, text),
        "limit": content.CHANNEL_TEXT_LIMITS.get(channel),
        "link": channel in content.LINK_ALLOWANCE,
        "label": channel.label,
    }


def _dialog(item: ContentItem, status: int = 200, **context):
    share_policy = policy.share_policy()
    employee = me()
    own = own_channels(employee)
    channel = context.pop("channel", None) or request.args.get("channel")
    channel = channel if channel in {c.value for c in Channel} else None
    if channel is None:  # the first of their networks HR wrote a text for, else their first
        written = [t.channel for t in item.templates]
        channel = next(
            (c for c in [*(c for c in written if c in own), *own, *written]), Channel.LINKEDIN
        ).value
    values = context.pop("values", None)
    if values is None:
        first = next((t for t in item.templates if t.channel.value == channel), None)
        values = {
            "channel": channel,
            "template_id": first.id if first else "",
            "text": first.text if first else item.title,
        }
    shown = values["channel"] if values["channel"] in {c.value for c in Channel} else channel
    preview = with_disclosure(values["text"] or "", share_policy.disclosure, item.campaign_hashtag)
    now = utcnow()
    page = render_template(
        "feed/share.html",
        item=item,
        values=values,
        own_channels=own,
        other_channels=[c for c in Channel if c not in own],
        CHANNEL_LABELS=CHANNEL_LABELS,
        limits=content.CHANNEL_TEXT_LIMITS,
        link_lengths=content.LINK_ALLOWANCE,
        length=_length(Channel(shown), preview),
        disclosure=share_policy.disclosure,
        preview=preview,
        allowance=feed.allowance(employee, now, [item.id]),
        now=now,
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
    sharing.warm_link(created)
    flash("Your share is ready: post it with the button below.", "success")
    return redirect(url_for("share_pages.detail", share_id=created.id))
