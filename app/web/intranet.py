"""The intranet's view of Chorus: an Atom feed and an embeddable widget of the content to
share, each under a secret address (``app.services.intranet``), and the HR page that
makes and revokes those addresses.

The feed and the widget are public (the secret is the credential), read-only and sent
with no cookie of ours in play: the widget has no script, no form and opens every link in
a new tab, so a page that frames it can do nothing with it a reader could not. Who may
frame it is ``INTRANET_FRAME_ANCESTORS``. Answers carry an ETag and ``no-cache``: a
browser asks again every time (a revoked link stops at once) and gets a 304 while
nothing changed.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.auth import public, requires_role
from app.errors import ChorusError
from app.extensions import db, limiter
from app.models import ContentItem, IntranetLink, Role, Team, utcnow
from app.schemas.fields import load
from app.schemas.intranet import IntranetLinkSchema
from app.services import intranet, people
from app.urls import absolute_url, base_url
from app.web.pages import me, optional_int

bp = Blueprint("intranet", __name__)

ATOM = "http://www.w3.org/2005/Atom"
# XML 1.0 cannot carry these characters at all, escaped or not.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
SHARED_HEADERS = {
    "Cache-Control": "private, no-cache",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",  # the address is the credential: never pass it on
    "X-Content-Type-Options": "nosniff",
}


# HR: make, list and revoke links -------------------------------------------------


def _render_links(status: int = 200, **context: Any):
    links = db.session.scalars(intranet.links_select()).unique().all()
    context.setdefault("errors", {})
    context.setdefault("values", {})
    page = render_template(
        "intranet/links.html",
        links=links,
        last_read=intranet.last_read(link.id for link in links),
        teams=db.session.scalars(select(Team).order_by(Team.name)).all(),
        **context,
    )
    return page, status, {"Cache-Control": "no-store"}


@bp.get("/intranet-links")
@requires_role(Role.HR)
def links():
    return _render_links()


@bp.post("/intranet-links")
@requires_role(Role.HR)
def create_link():
    try:
        data = load(IntranetLinkSchema(), {"team_id": optional_int(request.form.get("team_id"))})
        link, secret = intranet.create_link(me(), data["team_id"])
    except ChorusError as exc:
        db.session.rollback()
        return _render_links(
            exc.status, errors=exc.errors, error_message=exc.message, values=request.form
        )
    # The secret exists only in this answer (no-store keeps it out of the browser cache).
    return _render_links(201, new_link=link, urls=intranet.link_addresses(secret))


@bp.post("/intranet-links/<int:link_id>/revoke")
@requires_role(Role.HR)
def revoke_link(link_id: int):
    link = intranet.get_link(link_id)
    intranet.revoke_link(me(), link)
    where = link.team_name or "the whole company"
    flash(f"The intranet link for {where} is revoked; it shows nothing from now on.", "success")
    return redirect(url_for("intranet.links"))


# The intranet reads: public, by the secret ------------------------------------------


def _misses_only(response: Response) -> bool:
    # A whole company may read through one proxy address: count only what opens nothing.
    return response.status_code == 404


def _miss_limit() -> str:
    return current_app.config["INTRANET_MISS_RATE_LIMIT"]


def _answer(body: bytes | str, status: int, mimetype: str, **headers: str) -> Response:
    response = current_app.response_class(body, status=status, mimetype=mimetype)
    response.headers.update({**SHARED_HEADERS, **headers})
    if status == 200:
        response.add_etag()
        response.make_conditional(request)
    return response


@bp.get("/intranet/<secret>/feed.atom")
@limiter.limit(_miss_limit, deduct_when=_misses_only)
@public
def atom_feed(secret: str):
    link = intranet.find_link(secret)
    if link is None:
        return _answer("No feed here: the address is unknown or was revoked.\n", 404, "text/plain")
    now = utcnow()
    intranet.note_read(link, now)
    body = atom_document(link, intranet.items_for(link, now), secret)
    return _answer(
        body, 200, "application/atom+xml", **{"Content-Security-Policy": "default-src 'none'"}
    )


def _widget_policy() -> str:
    return (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
        f"frame-ancestors {current_app.config['INTRANET_FRAME_ANCESTORS']}"
    )


@bp.get("/intranet/<secret>/widget")
@limiter.limit(_miss_limit, deduct_when=_misses_only)
@public
def widget(secret: str):
    headers = {"Content-Security-Policy": _widget_policy()}
    link = intranet.find_link(secret)
    if link is None:
        page = render_template("intranet/widget.html", link=None, items=[])
        return _answer(page, 404, "text/html", **headers)
    now = utcnow()
    intranet.note_read(link, now)
    page = render_template(
        "intranet/widget.html",
        link=link,
        items=intranet.items_for(link, now),
        company=people.company_settings().name,
        share_url=_share_url,
        all_url=absolute_url("feed_pages.show"),
    )
    return _answer(page, 200, "text/html", **headers)


def _share_url(item: ContentItem) -> str:
    """The share dialog in Chorus; signed-out readers go through sign-in to it."""
    return absolute_url("feed_pages.dialog", content_id=item.id)


# The Atom document -----------------------------------------------------------------


def _text(value: str | None) -> str:
    return NOT_XML.sub("", value or "")


def _tag(kind: str, moment, number: int) -> str:
    """A tag: URI (RFC 4151) that stays the same for the row whatever is edited."""
    host = urlsplit(base_url()).hostname or "localhost"
    return f"tag:{host},{moment:%Y-%m-%d}:{kind}/{number}"


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = _text(text)
    return element


def atom_document(link: IntranetLink, items: list[ContentItem], secret: str) -> bytes:
    """Atom 1.0 (RFC 4287): one entry per item, linking to its share dialog."""
    company = people.company_settings().name
    audience = f" for {link.team_name}" if link.team_name else ""
    feed = ET.Element("feed", {"xmlns": ATOM})
    _add(feed, "id", _tag("intranet", link.created_at, link.id))
    _add(feed, "title", f"{company}: content to share{audience}")
    _add(feed, "subtitle", "Share these on your networks in a few clicks with Chorus.")
    updated = max((item.updated_at for item in items), default=link.created_at)
    _add(feed, "updated", updated.isoformat())
    _add(
        feed,
        "link",
        rel="self",
        type="application/atom+xml",
        href=absolute_url("intranet.atom_feed", secret=secret),
    )
    _add(feed, "link", rel="alternate", type="text/html", href=absolute_url("feed_pages.show"))
    author = _add(feed, "author")
    _add(author, "name", company)
    _add(feed, "generator", "Chorus")
    for item in items:
        entry = _add(feed, "entry")
        _add(entry, "id", _tag("content", item.created_at, item.id))
        _add(entry, "title", item.title)
        _add(entry, "updated", item.updated_at.isoformat())
        if item.published_at is not None:
            _add(entry, "published", item.published_at.isoformat())
        _add(entry, "link", rel="alternate", type="text/html", href=_share_url(item))
        _add(entry, "link", rel="related", type="text/html", href=item.destination_url)
        _add(entry, "summary", item.summary or item.title, type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
