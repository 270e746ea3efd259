"""HR pages of the content hub: the content list, the editor (share texts, image,
targeting, publishing), the allow-list of domains; and the image files themselves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from sqlalchemy import select

from app.auth import requires_role
from app.errors import ChorusError, InvalidInput
from app.extensions import db
from app.models import AllowedDomain, ContentItem, ContentStatus, Interest, Role, Team
from app.schemas.content import ContentInputSchema, ContentQuerySchema, ContentUpdateSchema
from app.schemas.fields import load
from app.schemas.policy import AllowedDomainSchema
from app.services import content, inbound_feeds, policy
from app.web.pages import company_zone as _company_zone
from app.web.pages import form_failed, me, page_number
from scoring.vocabulary import Channel

bp = Blueprint("content", __name__)

PAGE_SIZE = 25
# The editor says what a text for Instagram is for: it is copied, with the image.
CHANNEL_LABELS = {
    **{channel: channel.label for channel in Channel},
    Channel.INSTAGRAM: "Instagram (copied with the image)",
}
LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"


# The list --------------------------------------------------------------------------


@bp.get("/content")
@requires_role(Role.HR)
def content_list():
    raw = {k: v.strip() for k in ("status", "q", "tag") if (v := request.args.get(k, ""))}
    try:
        filters = load(ContentQuerySchema(), raw)
    except InvalidInput as exc:
        filters, errors = {}, exc.errors
    else:
        errors = {}
    page = db.paginate(
        content.content_query(**filters), page=page_number(), per_page=PAGE_SIZE, error_out=False
    )
    domains = [d.domain for d in content.allowed_domains()]
    problems = {
        item.id: content.destination_problem(item.destination_url, domains) for item in page.items
    }
    html = render_template(
        "content/list.html",
        page=page,
        args=raw,
        errors=errors,
        statuses=list(ContentStatus),
        problems=problems,
        sources=inbound_feeds.source_feeds([item.id for item in page.items]),
    )
    return html, 422 if errors else 200


# The editor ------------------------------------------------------------------------


def _local_to_iso(value: str) -> str | None:
    """A datetime-local field, read in the company's time zone."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value  # the schema says what is wrong with it
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_company_zone())
    return moment.isoformat()


def _texts_by_channel() -> dict[str, list[str]]:
    return {
        channel.value: [t for t in request.form.getlist(f"text_{channel.value}") if t.strip()]
        for channel in Channel
    }


def _content_form() -> tuple[dict[str, Any], list[tuple[str, int]]]:
    """The editor's fields as the schema takes them, and which textarea each share
    text came from (to put its problem under it)."""
    texts = _texts_by_channel()
    slots = [(channel, i) for channel, items in texts.items() for i in range(len(items))]
    form = {
        "title": request.form.get("title", ""),
        "summary": request.form.get("summary", ""),
        "destination_url": request.form.get("destination_url", ""),
        "image_credit": request.form.get("image_credit", "").strip() or None,
        "image_rights_confirmed": request.form.get("image_rights_confirmed") == "on",
        "campaign_hashtag": request.form.get("campaign_hashtag", ""),
        "featured": request.form.get("featured") == "on",
        "valid_from": _local_to_iso(request.form.get("valid_from", "")),
        "valid_until": _local_to_iso(request.form.get("valid_until", "")),
        "tags": request.form.get("tags", "").split(","),
        "team_ids": [v for v in request.form.getlist("team_ids") if v],
        "interest_ids": [v for v in request.form.getlist("interest_ids") if v],
        "templates": [{"channel": channel, "text": texts[channel][i]} for channel, i in slots],
    }
    return form, slots


def _uploaded_image() -> bytes | None:
    upload = request.files.get("image")
    if upload is None or not upload.filename:
        return None
    return upload.read(content.MAX_IMAGE_BYTES + 1)


def _form_values(form: dict[str, Any]) -> dict[str, Any]:
    """What the editor shows again after a refused save: what was typed."""
    values = dict(request.form)
    values["texts"] = _texts_by_channel()
    values["team_ids"] = [str(v) for v in form["team_ids"]]
    values["interest_ids"] = [str(v) for v in form["interest_ids"]]
    values["image_rights_confirmed"] = form["image_rights_confirmed"]
    values["featured"] = form["featured"]
    return values


def _item_values(item: ContentItem) -> dict[str, Any]:
    texts: dict[str, list[str]] = {channel.value: [] for channel in Channel}
    for template in item.templates:
        texts[template.channel.value].append(template.text)
    zone = _company_zone()
    return {
        "title": item.title,
        "summary": item.summary,
        "destination_url": item.destination_url,
        "image_credit": item.image_credit or "",
        "image_rights_confirmed": item.image_rights_confirmed,
        "campaign_hashtag": item.campaign_hashtag or "",
        "featured": item.featured,
        "valid_from": item.valid_from.astimezone(zone).strftime(LOCAL_INPUT_FORMAT)
        if item.valid_from
        else "",
        "valid_until": item.valid_until.astimezone(zone).strftime(LOCAL_INPUT_FORMAT)
        if item.valid_until
        else "",
        "tags": ", ".join(item.tag_names),
        "team_ids": [str(t.id) for t in item.target_teams],
        "interest_ids": [str(i.id) for i in item.target_interests],
        "texts": texts,
    }


def _slot_errors(errors: dict, slots: list[tuple[str, int]]) -> dict[str, Any]:
    """Move share-text problems from their list index to the textarea's name."""
    errors = dict(errors)
    nested = errors.pop("templates", None)
    if isinstance(nested, dict):
        for index, problem in nested.items():
            position = int(index)
            if 0 <= position < len(slots):
                channel, i = slots[position]
                errors[f"text_{channel}_{i}"] = problem
    elif nested:
        errors["texts"] = nested
    return errors


def _editor_context(item: ContentItem | None) -> dict[str, Any]:
    share_policy = policy.share_policy()
    context: dict[str, Any] = {
        "item": item,
        "teams": list(db.session.scalars(select(Team).order_by(Team.name))),
        "interests": list(db.session.scalars(select(Interest).order_by(Interest.name))),
        "channels": list(Channel),
        "channel_labels": CHANNEL_LABELS,
        "limits": content.CHANNEL_TEXT_LIMITS,
        "disclosure": share_policy.disclosure,
        "publish_problems": {},
        "source": None,
    }
    if item is not None:
        context["publish_problems"] = content.publish_problems(item)
        context["source"] = inbound_feeds.source_feeds([item.id]).get(item.id)
    return context


def _refused(exc: ChorusError, item_id: int | None, form: dict, slots) -> tuple[str, int]:
    db.session.rollback()  # before reading anything for the page again
    item = content.get_content(item_id) if item_id is not None else None
    exc.errors = _slot_errors(exc.errors, slots)
    return form_failed(exc, "content/edit.html", values=_form_values(form), **_editor_context(item))


@bp.route("/content/new", methods=["GET", "POST"])
@requires_role(Role.HR)
def new_content():
    if request.method == "GET":
        values = {"texts": {c.value: [] for c in Channel}, "team_ids": [], "interest_ids": []}
        context = _editor_context(None)
        return render_template("content/edit.html", values=values, errors={}, **context)
    form, slots = _content_form()
    try:
        data = load(ContentInputSchema(), form)
        item = content.create_content(me(), data, image=_uploaded_image())
    except ChorusError as exc:
        return _refused(exc, None, form, slots)
    flash(f"Draft “{item.title}” saved. Publish it when it is ready.", "success")
    return redirect(url_for("content.edit_content", content_id=item.id))


@bp.route("/content/<int:content_id>", methods=["GET", "POST"])
@requires_role(Role.HR)
def edit_content(content_id: int):
    item = content.get_content(content_id)
    if request.method == "GET":
        context = _editor_context(item)
        return render_template("content/edit.html", values=_item_values(item), errors={}, **context)
    form, slots = _content_form()
    try:
        changes = load(ContentUpdateSchema(), form)
        content.update_content(
            me(),
            item,
            changes,
            image=_uploaded_image(),
            remove_image=request.form.get("remove_image") == "on",
        )
    except ChorusError as exc:
        return _refused(exc, content_id, form, slots)
    flash(f"Saved “{item.title}”.", "success")
    return redirect(url_for("content.edit_content", content_id=item.id))


def _status_action(content_id: int, action, done: str):
    item = content.get_content(content_id)
    try:
        action(me(), item)
    except ChorusError as exc:
        db.session.rollback()
        item = content.get_content(content_id)
        context = _editor_context(item)
        return form_failed(exc, "content/edit.html", values=_item_values(item), **context)
    flash(done.format(title=item.title), "success")
    return redirect(url_for("content.edit_content", content_id=content_id))


@bp.post("/content/<int:content_id>/publish")
@requires_role(Role.HR)
def publish_content(content_id: int):
    return _status_action(content_id, content.publish, "“{title}” is published.")


@bp.post("/content/<int:content_id>/archive")
@requires_role(Role.HR)
def archive_content(content_id: int):
    return _status_action(
        content_id, content.archive, "“{title}” is archived; shared links keep working."
    )


@bp.post("/content/<int:content_id>/delete")
@requires_role(Role.HR)
def delete_content(content_id: int):
    item = content.get_content(content_id)
    title = item.title
    try:
        content.delete_content(me(), item)
    except ChorusError as exc:
        db.session.rollback()
        item = content.get_content(content_id)
        context = _editor_context(item)
        return form_failed(exc, "content/edit.html", values=_item_values(item), **context)
    flash(f"Draft “{title}” deleted.", "success")
    return redirect(url_for("content.content_list"))


@bp.get("/media/<filename>")
@requires_role(Role.EMPLOYEE)
def media(filename: str):
    if not content.IMAGE_NAME.match(filename):
        abort(404)
    response = send_from_directory(content.media_folder(), filename, max_age=86400)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# The allow-list --------------------------------------------------------------------


def _render_domains(status: int = 200, **context: Any):
    context.setdefault("errors", {})
    context.setdefault("values", {})
    return render_template("content/domains.html", domains=content.allowed_domains(), **context), (
        status
    )


@bp.get("/allowed-domains")
@requires_role(Role.HR)
def allowed_domains():
    return _render_domains()


@bp.post("/allowed-domains")
@requires_role(Role.HR)
def add_domain():
    try:
        data = load(AllowedDomainSchema(), {"domain": request.form.get("domain", "")})
        row = content.add_domain(me(), data["domain"])
    except ChorusError as exc:
        db.session.rollback()
        return _render_domains(
            exc.status, errors=exc.errors, error_message=exc.message, values=request.form
        )
    flash(f"{row.domain} and its subdomains are allowed now.", "success")
    return redirect(url_for("content.allowed_domains"))


@bp.post("/allowed-domains/<int:domain_id>/delete")
@requires_role(Role.HR)
def remove_domain(domain_id: int):
    row = db.session.get(AllowedDomain, domain_id)
    if row is None:
        abort(404)
    domain = row.domain
    content.remove_domain(me(), row)
    flash(f"{domain} removed. Existing content keeps its destination.", "success")
    return redirect(url_for("content.allowed_domains"))
