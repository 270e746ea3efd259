"""The content hub, HR's side: content items, their share texts and images, and the
allow-list of destination domains.

A destination is checked against the allow-list when it is set and again when the item
is published; removing a domain later leaves existing content alone. Share texts pass the
taboo guard and the channel's length limit (measured with the disclosure and the campaign
hashtag that every share carries) whenever HR saves them.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, g
from sqlalchemy import ColumnElement, and_, func, or_, select

from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import after_commit, db
from app.models import (
    AllowedDomain,
    ContentItem,
    ContentStatus,
    ContentTag,
    Employee,
    Interest,
    Share,
    ShareTemplate,
    Team,
    utcnow,
)
from app.services import audit, chat, click_capture, policy, rollups, taboo
from scoring.sharing import TabooHit, with_disclosure
from scoring.vocabulary import Channel

# Networks' own limits on a post's length; channels not listed have none worth checking.
CHANNEL_TEXT_LIMITS: dict[Channel, int] = {
    Channel.X: 280,
    Channel.LINKEDIN: 3000,
    Channel.INSTAGRAM: 2200,
    Channel.XING: 3000,
    Channel.FACEBOOK: 63206,
}
# X counts every link as 23 characters, and the share dialog adds ours after a space.
LINK_ALLOWANCE: dict[Channel, int] = {Channel.X: 1 + 23}
MAX_TEMPLATES = 30
MAX_IMAGE_BYTES = 2 * 1024 * 1024
IMAGE_NAME = re.compile(r"^[0-9a-f]{64}\.(png|jpg|webp)$")
HASHTAG = re.compile(r"^#\w+$")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


# Domains and destinations ----------------------------------------------------------


def normalize_domain(value: str, field: str = "domain") -> str:
    """A bare, lowercase host name (``news.example.com``); anything else is refused."""
    raw = (value or "").strip().lower().rstrip(".")
    if not raw:
        raise InvalidInput("Enter a domain such as example.com.", field=field)
    if any(c in raw for c in "/:@?#\\ \t"):
        raise InvalidInput(
            "Enter the domain alone, such as example.com: no scheme, path, port or user.",
            field=field,
        )
    try:
        host = raw.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidInput("Not a valid domain name.", field=field) from exc
    labels = host.split(".")
    if (
        len(host) > 253
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()  # an IP address is not a domain
    ):
        raise InvalidInput("Not a valid domain name, such as example.com.", field=field)
    return host


def allowed_domains() -> list[AllowedDomain]:
    return list(db.session.scalars(select(AllowedDomain).order_by(AllowedDomain.domain)))


def add_domain(actor: Employee, value: str) -> AllowedDomain:
    domain = normalize_domain(value)
    if db.session.scalar(select(AllowedDomain).where(AllowedDomain.domain == domain)):
        raise Conflict(f"{domain} is on the allow-list already.", field="domain")
    row = AllowedDomain(domain=domain)
    db.session.add(row)
    db.session.flush()
    g.pop("allowed_domain_names", None)
    audit.record(actor, "allowed_domain.add", row, domain=domain)
    return row


def remove_domain(actor: Employee, row: AllowedDomain) -> None:
    """Existing content keeps its destination; new and edited content must pass."""
    audit.record(actor, "allowed_domain.remove", row, domain=row.domain)
    db.session.delete(row)
    g.pop("allowed_domain_names", None)


def allowed_domain_names() -> list[str]:
    """The allow-list, read once per request or job (lists show it for every item)."""
    if "allowed_domain_names" not in g:
        g.allowed_domain_names = list(db.session.scalars(select(AllowedDomain.domain)))
    return g.allowed_domain_names


def host_allowed(host: str, domains: list[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def destination_problem(url: str, domains: list[str] | None = None) -> str | None:
    """Why ``url`` may not be a destination, or None. The host is compared on the
    parsed URL, so userinfo (``https://ours.com@evil.com``) and look-alike suffixes
    (``ours.com.evil.com``) do not pass."""
    url = (url or "").strip()
    if not url:
        return "Enter the destination address."
    if len(url) > 2000:
        return "The address is longer than 2000 characters."
    if any(c.isspace() or ord(c) < 32 or c == "\\" for c in url):
        return "The address contains spaces, backslashes or control characters."
    try:
        parts = urlsplit(url)
        if parts.port == 0:  # reading the port raises on a malformed one
            return "Not a valid web address."
    except ValueError:
        return "Not a valid web address."
    if parts.scheme.lower() not in ("http", "https"):
        return "Only http:// and https:// addresses can be shared."
    if "@" in parts.netloc:
        return "The address may not contain a user name or password."
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return "The address has no host name."
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return "The address's host name is not valid."
    if domains is None:
        domains = [d.domain for d in allowed_domains()]
    if not host_allowed(host, domains):
        return f"{host} is not on the allow-list of domains; HR can add it there."
    return None


def check_destination(url: str, field: str = "destination_url") -> str:
    problem = destination_problem(url)
    if problem:
        raise InvalidInput(problem, field=field)
    return url.strip()


# Images ----------------------------------------------------------------------------


def image_extension(data: bytes) -> str | None:
    """The file type by its first bytes, not by what the upload claims to be."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def check_image(data: bytes, field: str = "image") -> str:
    if not data:
        raise InvalidInput("The uploaded file is empty.", field=field)
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidInput("The image is larger than 2 MB.", field=field)
    extension = image_extension(data)
    if extension is None:
        raise InvalidInput("Upload a PNG, JPEG or WebP image.", field=field)
    return extension


def media_folder() -> Path:
    return Path(current_app.config.get("MEDIA_FOLDER") or Path(current_app.instance_path, "media"))


def store_image(data: bytes) -> str:
    """Save under the content's hash: the same image is stored once, and a name cannot
    be guessed into another file."""
    extension = check_image(data)
    name = f"{hashlib.sha256(data).hexdigest()}.{extension}"
    folder = media_folder()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if not target.exists():
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, target)  # atomic: readers never see half a file
    return name


# Content items ---------------------------------------------------------------------


def get_content(content_id: int) -> ContentItem:
    item = db.session.get(ContentItem, content_id)
    if item is None:
        raise NotFound(f"No content item with id {content_id}.", field="id")
    return item


def normalize_tags(tags: list[str]) -> list[str]:
    seen: list[str] = []
    for tag in tags:
        tag = " ".join((tag or "").split()).lower().lstrip("#")
        if not tag:
            continue
        if len(tag) > 60:
            raise InvalidInput("A tag can have at most 60 characters.", field="tags")
        if tag not in seen:
            seen.append(tag)
    return seen


def normalize_hashtag(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if not HASHTAG.match(value) or len(value) > 60:
        raise InvalidInput(
            "A campaign hashtag starts with # and is one word, such as #TechDays.",
            field="campaign_hashtag",
        )
    return value


def taboo_message(hits: list[TabooHit]) -> str:
    return " ".join(f"“{h.matched}” touches {h.topic}: {h.explanation}" for h in hits)


def posted_length(channel: Channel, full_text: str) -> int:
    """The length the network counts: the text with its tags, plus our link where the
    network counts it. HR's share texts and employees' edited texts are counted alike."""
    return len(full_text) + LINK_ALLOWANCE.get(channel, 0)


def template_problem(channel: Channel, text: str, hashtag: str | None) -> str | None:
    """Why a share text cannot be saved, or None."""
    text = (text or "").strip()
    if not text:
        return "Write the share text."
    hits = taboo.check_text(text)
    if hits:
        return taboo_message(hits)
    limit = CHANNEL_TEXT_LIMITS.get(channel)
    if limit is not None:
        full = with_disclosure(text, policy.share_policy().disclosure, hashtag)
        length = posted_length(channel, full)
        if length > limit:
            link = " and link" if channel in LINK_ALLOWANCE else ""
            return (
                f"{length} characters with the disclosure, hashtag{link}; "
                f"{channel.label} allows {limit}."
            )
    return None


def _check_templates(item: ContentItem) -> None:
    errors: dict[str, Any] = {}
    for index, template in enumerate(item.templates):
        problem = template_problem(template.channel, template.text, item.campaign_hashtag)
        if problem:
            errors[str(index)] = {"text": [problem]}
    if errors:
        first = next(iter(errors.values()))["text"][0]
        raise InvalidInput(f"A share text cannot be saved: {first}", errors={"templates": errors})


def _by_ids(model, ids: list[int], field: str) -> list:
    ids = list(dict.fromkeys(ids))
    rows = {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}
    missing = [i for i in ids if i not in rows]
    if missing:
        raise NotFound(f"No {model.__name__.lower()} with id {missing[0]}.", field=field)
    return [rows[i] for i in ids]


SIMPLE_FIELDS = ("title", "summary", "featured", "valid_from", "valid_until", "image_credit")


def _apply(item: ContentItem, data: dict[str, Any], *, is_new: bool = False) -> None:
    for key in SIMPLE_FIELDS:
        if key in data:
            value = data[key]
            setattr(item, key, value.strip() if isinstance(value, str) else value)
    if "title" in data and not item.title:
        raise InvalidInput("A content item needs a title.", field="title")
    if "image_credit" in data:
        item.image_credit = item.image_credit or None
    if "image_rights_confirmed" in data:
        item.image_rights_confirmed = data["image_rights_confirmed"]
    if "destination_url" in data and data["destination_url"].strip() != item.destination_url:
        if not is_new and item.status != ContentStatus.DRAFT:
            raise Conflict(
                "The destination is fixed once an item is published: shared links lead "
                "there. Archive this item and create a new one.",
                field="destination_url",
            )
        item.destination_url = check_destination(data["destination_url"])
    if "campaign_hashtag" in data:
        hashtag = normalize_hashtag(data["campaign_hashtag"])
        if not is_new and hashtag != item.campaign_hashtag:
            # The hashtag names the UTM campaign of links already shared.
            share_ids = list(
                db.session.scalars(select(Share.id).where(Share.content_id == item.id))
            )
            after_commit(lambda: click_capture.forget_destinations(share_ids))
        item.campaign_hashtag = hashtag
    if "tags" in data:
        tags = normalize_tags(data["tags"])
        item.tags = [t for t in item.tags if t.tag in tags]  # keep rows that stay
        kept = {t.tag for t in item.tags}
        item.tags.extend(ContentTag(tag=t) for t in tags if t not in kept)
    if "team_ids" in data:
        item.target_teams = _by_ids(Team, data["team_ids"], "team_ids")
    if "interest_ids" in data:
        item.target_interests = _by_ids(Interest, data["interest_ids"], "interest_ids")
    if "templates" in data:
        if len(data["templates"]) > MAX_TEMPLATES:
            raise InvalidInput(f"At most {MAX_TEMPLATES} share texts.", field="templates")
        item.templates = [
            ShareTemplate(channel=t["channel"], text=t["text"].strip(), position=position)
            for position, t in enumerate(data["templates"])
        ]


def _check_item(item: ContentItem) -> None:
    if item.valid_from and item.valid_until and item.valid_until <= item.valid_from:
        raise InvalidInput("“Valid until” must come after “valid from”.", field="valid_until")
    if item.image_filename and not item.image_rights_confirmed:
        raise InvalidInput(
            "Confirm that we may use this image and name its source.",
            field="image_rights_confirmed",
        )
    if item.image_filename and not item.image_credit:
        raise InvalidInput("Name the image's source or photographer.", field="image_credit")
    _check_templates(item)


def _apply_image(item: ContentItem, image: bytes | None, remove_image: bool) -> None:
    if image is not None:
        item.image_filename = store_image(image)  # checked (type, size) before writing
    elif remove_image:
        item.image_filename = None
        item.image_rights_confirmed = False
        item.image_credit = None


def _audit_fields(data: dict[str, Any]) -> list[str]:
    return sorted(k for k in data if k != "image")


def create_content(
    actor: Employee, data: dict[str, Any], *, image: bytes | None = None
) -> ContentItem:
    item = ContentItem(
        title="",
        summary="",
        destination_url="",
        status=ContentStatus.DRAFT,
        featured=False,
        image_rights_confirmed=False,
        created_by_id=actor.id,
    )
    if "destination_url" not in data:
        raise InvalidInput("Enter the destination address.", field="destination_url")
    _apply(item, data, is_new=True)
    _check_item_with_image(item, image)
    _apply_image(item, image, False)
    db.session.add(item)
    db.session.flush()
    audit.record(actor, "content.create", item, title=item.title)
    return item


def _check_item_with_image(item: ContentItem, image: bytes | None) -> None:
    """Validate as if the image were stored, so nothing is written for a refused save."""
    if image is not None:
        check_image(image)
        stored, item.image_filename = item.image_filename, "pending"
        try:
            _check_item(item)
        finally:
            item.image_filename = stored
    else:
        _check_item(item)


def update_content(
    actor: Employee,
    item: ContentItem,
    changes: dict[str, Any],
    *,
    image: bytes | None = None,
    remove_image: bool = False,
) -> ContentItem:
    tags = {t.tag for t in item.tags}
    with db.session.no_autoflush:
        _apply(item, changes)
        if remove_image and image is None:
            _apply_image(item, None, True)
        _check_item_with_image(item, image)
    _apply_image(item, image, False)
    if {t.tag for t in item.tags} != tags:
        rollups.retag(item.id)  # the figures by tag of everyone who shared it
    item.updated_at = utcnow()
    audit.record(actor, "content.update", item, fields=_audit_fields(changes))
    return item


def set_image(actor: Employee, item: ContentItem, image: bytes) -> ContentItem:
    """A new image under the item's credit and rights confirmation (set beforehand)."""
    return update_content(actor, item, {}, image=image)


def remove_image(actor: Employee, item: ContentItem) -> ContentItem:
    return update_content(actor, item, {}, remove_image=True)


def publish_problems(item: ContentItem, now: datetime | None = None) -> dict[str, list[str]]:
    """What stands between this item and employees' feeds (shown on drafts too)."""
    problems: dict[str, list[str]] = {}
    destination = destination_problem(item.destination_url)
    if destination:
        problems["destination_url"] = [destination]
    if item.valid_until and item.valid_until <= (now or utcnow()):
        problems["valid_until"] = ["The item's “valid until” time has passed."]
    for index, template in enumerate(item.templates):
        hits = taboo.check_text(template.text)
        if hits:
            problems.setdefault("templates", []).append(
                f"Share text {index + 1} ({template.channel.label}): {taboo_message(hits)}"
            )
    return problems


def publish(actor: Employee, item: ContentItem) -> ContentItem:
    if item.status == ContentStatus.PUBLISHED:
        return item
    problems = publish_problems(item)
    if problems:
        first = next(iter(problems.values()))[0]
        raise InvalidInput(f"This item cannot be published yet: {first}", errors=problems)
    item.status = ContentStatus.PUBLISHED
    item.published_at = utcnow()
    audit.record(actor, "content.publish", item, title=item.title)
    chat.post_new_content(item, item.published_at)
    return item


def archive(actor: Employee, item: ContentItem) -> ContentItem:
    if item.status != ContentStatus.ARCHIVED:
        item.status = ContentStatus.ARCHIVED
        audit.record(actor, "content.archive", item, title=item.title)
    return item


def delete_content(actor: Employee, item: ContentItem) -> None:
    """Only drafts: anything published may have shares, clicks and points behind it."""
    if item.status != ContentStatus.DRAFT:
        raise Conflict(
            "Only drafts can be deleted; archive a published item instead.", field="status"
        )
    audit.record(actor, "content.delete", item, title=item.title)
    db.session.delete(item)


def live_content_clause(now: datetime) -> ColumnElement[bool]:
    """Items employees may see: published and within their validity window."""
    return and_(
        ContentItem.status == ContentStatus.PUBLISHED,
        or_(ContentItem.valid_from.is_(None), ContentItem.valid_from <= now),
        or_(ContentItem.valid_until.is_(None), ContentItem.valid_until > now),
    )


def content_query(
    status: ContentStatus | None = None, q: str | None = None, tag: str | None = None
):
    """HR's list: newest first, filtered by status, title or summary text and tag."""
    query = select(ContentItem).order_by(ContentItem.created_at.desc(), ContentItem.id.desc())
    if status is not None:
        query = query.where(ContentItem.status == status)
    if q:
        needle = q.strip().lower()
        query = query.where(
            or_(
                func.lower(ContentItem.title).contains(needle, autoescape=True),
                func.lower(ContentItem.summary).contains(needle, autoescape=True),
            )
        )
    if tag:
        query = query.where(
            ContentItem.id.in_(
                select(ContentTag.content_id).where(ContentTag.tag == tag.strip().lower())
            )
        )
    return query


# Share templates, one at a time (the API) -----------------------------------------


def get_template(item: ContentItem, template_id: int) -> ShareTemplate:
    for template in item.templates:
        if template.id == template_id:
            return template
    raise NotFound(f"No share text with id {template_id} on this item.", field="template_id")


def _check_one_template(item: ContentItem, channel: Channel, text: str) -> str:
    problem = template_problem(channel, text, item.campaign_hashtag)
    if problem:
        raise InvalidInput(problem, field="text")
    return text.strip()


def add_template(actor: Employee, item: ContentItem, channel: Channel, text: str) -> ShareTemplate:
    text = _check_one_template(item, channel, text)
    if len(item.templates) >= MAX_TEMPLATES:
        raise InvalidInput(f"At most {MAX_TEMPLATES} share texts.", field="text")
    position = max((t.position for t in item.templates), default=-1) + 1
    template = ShareTemplate(channel=channel, text=text, position=position)
    item.templates.append(template)
    db.session.flush()
    audit.record(actor, "content.template_add", item, channel=channel.value)
    return template


def update_template(
    actor: Employee, item: ContentItem, template: ShareTemplate, changes: dict[str, Any]
) -> ShareTemplate:
    channel = changes.get("channel", template.channel)
    text = changes.get("text", template.text)
    template.text = _check_one_template(item, channel, text)
    template.channel = channel
    audit.record(actor, "content.template_update", item, template_id=template.id)
    return template


def delete_template(actor: Employee, item: ContentItem, template: ShareTemplate) -> None:
    item.templates.remove(template)
    audit.record(actor, "content.template_delete", item, template_id=template.id)
