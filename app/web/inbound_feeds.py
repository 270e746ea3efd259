"""HR pages for inbound feeds: register RSS and Atom feeds, see how their last fetch
went, fetch one now, switch one off or delete it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.auth import requires_role
from app.errors import ChorusError
from app.extensions import after_commit, db
from app.models import InboundFeed, Role
from app.schemas.fields import load
from app.schemas.inbound_feeds import InboundFeedSchema
from app.services import inbound_feeds
from app.web.pages import me

bp = Blueprint("feeds", __name__)


def _render_feeds(status: int = 200, **context: Any):
    context.setdefault("errors", {})
    context.setdefault("values", {})
    rows = db.session.scalars(select(InboundFeed).order_by(InboundFeed.name, InboundFeed.id))
    return render_template("feeds/list.html", feeds=list(rows), **context), status


@bp.get("/feeds")
@requires_role(Role.HR)
def feed_list():
    return _render_feeds()


@bp.post("/feeds")
@requires_role(Role.HR)
def create_feed():
    form = {"name": request.form.get("name", ""), "url": request.form.get("url", "")}
    try:
        data = load(InboundFeedSchema(), form)
        feed = inbound_feeds.create_feed(me(), **data)
    except ChorusError as exc:
        db.session.rollback()
        return _render_feeds(
            exc.status, errors=exc.errors, error_message=exc.message, values=request.form
        )
    after_commit(lambda: inbound_feeds.request_fetch(feed))  # a first import, once it is stored
    flash(f"Feed {feed.name} added; its entries arrive as drafts in a moment.", "success")
    return redirect(url_for("feeds.feed_list"))


@bp.post("/feeds/<int:feed_id>/fetch")
@requires_role(Role.HR)
def fetch_feed(feed_id: int):
    feed = inbound_feeds.get_feed(feed_id)
    if inbound_feeds.request_fetch(feed):
        flash(f"Fetching {feed.name}; new entries arrive as drafts.", "success")
    else:
        flash(f"{feed.name} is being fetched already.", "warning")
    return redirect(url_for("feeds.feed_list"))


@bp.post("/feeds/<int:feed_id>/active")
@requires_role(Role.HR)
def toggle_feed(feed_id: int):
    feed = inbound_feeds.get_feed(feed_id)
    active = request.form.get("active") == "on"
    inbound_feeds.update_feed(me(), feed, {"active": active})
    state = "is imported again" if active else "is switched off; nothing is imported from it"
    flash(f"{feed.name} {state}.", "success")
    return redirect(url_for("feeds.feed_list"))


@bp.post("/feeds/<int:feed_id>/delete")
@requires_role(Role.HR)
def delete_feed(feed_id: int):
    feed = inbound_feeds.get_feed(feed_id)
    name = feed.name
    inbound_feeds.delete_feed(me(), feed)
    flash(f"Feed {name} deleted; drafts imported from it stay.", "success")
    return redirect(url_for("feeds.feed_list"))
