"""Curated inbound news: RSS and Atom feeds whose new entries become draft content.

An entry is claimed by inserting its (feed, guid) row with ON CONFLICT DO NOTHING before
its draft is made, in the same transaction: a job run twice, or two jobs at once, import
each entry once. A fetch or parse failure is kept on the feed for HR to read; the job
itself finishes normally, and the next scheduled run tries again.
"""

from __future__ import annotations

import hashlib
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import feedparser
from sqlalchemy import select, update

from app.db import insert_ignoring_conflicts
from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db
from app.models import ContentItem, ContentStatus, Employee, FeedEntry, InboundFeed, utcnow
from app.queue import enqueue
from app.services import audit

log = logging.getLogger("chorus.feeds")

FETCH_TIMEOUT = 15  # seconds, per network operation
MAX_FEED_BYTES = 5 * 1024 * 1024
MAX_ENTRIES_PER_RUN = 200
USER_AGENT = "Chorus feed reader (+https://github.com/chorus)"
IMPORT_EVERY = 1800  # seconds; matches the SCHEDULE entry in app.jobs


class FeedError(Exception):
    """A fetch or parse failure, worded for HR."""


# HR's feeds ------------------------------------------------------------------------


def check_feed_url(url: str) -> str:
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidInput("Enter the feed's http:// or https:// address.", field="url")
    if any(c.isspace() for c in url) or len(url) > 2000:
        raise InvalidInput("Not a valid feed address.", field="url")
    return url


def get_feed(feed_id: int) -> InboundFeed:
    feed = db.session.get(InboundFeed, feed_id)
    if feed is None:
        raise NotFound(f"No feed with id {feed_id}.", field="id")
    return feed


def _check_url_free(url: str, feed_id: int | None = None) -> None:
    clash = db.session.scalar(select(InboundFeed).where(InboundFeed.url == url))
    if clash is not None and clash.id != feed_id:
        raise Conflict(f"This feed is registered already as {clash.name!r}.", field="url")


def create_feed(actor: Employee, *, name: str, url: str, active: bool = True) -> InboundFeed:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("Give the feed a name.", field="name")
    url = check_feed_url(url)
    _check_url_free(url)
    feed = InboundFeed(name=name, url=url, active=active)
    db.session.add(feed)
    db.session.flush()
    audit.record(actor, "feed.create", feed, name=name, url=url)
    return feed


def update_feed(actor: Employee, feed: InboundFeed, changes: dict[str, Any]) -> InboundFeed:
    if "name" in changes:
        name = " ".join(changes["name"].split())
        if not name:
            raise InvalidInput("Give the feed a name.", field="name")
        feed.name = name
    if "url" in changes:
        url = check_feed_url(changes["url"])
        if url != feed.url:
            _check_url_free(url, feed.id)
            feed.url, feed.etag, feed.modified = url, None, None
    if "active" in changes:
        feed.active = changes["active"]
    audit.record(actor, "feed.update", feed, **changes)
    return feed


def delete_feed(actor: Employee, feed: InboundFeed) -> None:
    """Drafts made from the feed stay; only the feed and its memory of entries go."""
    audit.record(actor, "feed.delete", feed, name=feed.name)
    db.session.delete(feed)


def request_fetch(feed: InboundFeed, now: float | None = None) -> bool:
    """Queue an import now. One per feed and minute: pressing the button twice does
    not fetch twice. False when one is queued already."""
    if not feed.active:
        raise Conflict(f"{feed.name} is switched off; switch it on first.", field="active")
    minute = int((now or time.time()) // 60)
    job = enqueue("app.jobs.import_feed", feed.id, job_id=f"import-feed-{feed.id}-now-{minute}")
    return job is not None


def enqueue_all_feeds(now: float | None = None) -> int:
    """Queue an import of every active feed, once per feed and schedule slot."""
    slot = int((now or time.time()) // IMPORT_EVERY)
    feed_ids = db.session.scalars(select(InboundFeed.id).where(InboundFeed.active.is_(True)))
    queued = 0
    for feed_id in feed_ids:
        if enqueue("app.jobs.import_feed", feed_id, job_id=f"import-feed-{feed_id}-{slot}"):
            queued += 1
    return queued


# Fetching --------------------------------------------------------------------------


@dataclass(frozen=True)
class Fetched:
    body: bytes | None  # None: not modified since the last fetch
    etag: str | None
    modified: str | None


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http and https only (urllib would also follow ftp)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urlsplit(newurl).scheme.lower() not in ("http", "https"):
            raise FeedError(f"The feed redirects to a non-web address ({newurl}).")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_opener = urllib.request.build_opener(_HttpOnlyRedirects)


def fetch(url: str, etag: str | None = None, modified: str | None = None) -> Fetched:
    headers = {"User-Agent": USER_AGENT, "Accept": "application/rss+xml, application/atom+xml, */*"}
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    request = urllib.request.Request(check_feed_url(url), headers=headers)  # noqa: S310 (http/https only)
    try:
        with _opener.open(request, timeout=FETCH_TIMEOUT) as response:
            body = response.read(MAX_FEED_BYTES + 1)
            if len(body) > MAX_FEED_BYTES:
                raise FeedError(f"The feed is larger than {MAX_FEED_BYTES // (1024 * 1024)} MB.")
            return Fetched(
                body, response.headers.get("ETag"), response.headers.get("Last-Modified")
            )
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return Fetched(None, etag, modified)
        raise FeedError(f"The server answered {exc.code} {exc.reason}.") from exc
    except urllib.error.URLError as exc:
        raise FeedError(f"The feed could not be reached: {exc.reason}.") from exc
    except TimeoutError as exc:
        raise FeedError(f"The feed did not answer within {FETCH_TIMEOUT} seconds.") from exc
    except OSError as exc:
        raise FeedError(f"The feed could not be read: {exc}.") from exc


# Parsing ---------------------------------------------------------------------------


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skipping += 1
        elif tag in ("p", "br", "div", "li"):
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skipping:
            self._skipping -= 1

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


def strip_html(markup: str) -> str:
    parser = _TextOnly()
    parser.feed(markup or "")
    parser.close()
    return " ".join("".join(parser.parts).split())


@dataclass(frozen=True)
class ParsedEntry:
    guid: str
    title: str
    summary: str
    link: str


def _guid(entry: Any) -> str:
    guid = entry.get("id") or entry.get("link") or ""
    if not guid:
        guid = (
            "sha256:"
            + hashlib.sha256(
                (entry.get("title", "") + entry.get("summary", "")).encode()
            ).hexdigest()
        )
    if len(guid) > 500:  # still unique, and fits the column
        guid = "sha256:" + hashlib.sha256(guid.encode()).hexdigest()
    return guid


def parse(body: bytes) -> list[ParsedEntry]:
    parsed = feedparser.parse(body)
    if not parsed.get("version"):
        reason = parsed.get("bozo_exception")
        detail = f": {reason}" if reason else ""
        raise FeedError(f"This is not an RSS or Atom feed{detail}.")
    entries = []
    for entry in parsed.entries:
        link = (entry.get("link") or "").strip()
        if urlsplit(link).scheme.lower() not in ("http", "https") or len(link) > 2000:
            continue  # nothing to share without a web address
        title = strip_html(entry.get("title", ""))[:200] or "(untitled)"
        summary = strip_html(entry.get("summary", ""))[:5000]
        entries.append(ParsedEntry(_guid(entry), title, summary, link))
    return entries


# The import job --------------------------------------------------------------------


def import_entries(feed: InboundFeed, entries: list[ParsedEntry]) -> int:
    """Drafts for the entries not seen before; returns how many were made."""
    created = 0
    for entry in entries[:MAX_ENTRIES_PER_RUN]:
        claimed = insert_ignoring_conflicts(
            FeedEntry, [{"feed_id": feed.id, "guid": entry.guid, "created_at": utcnow()}]
        )
        if not claimed:
            continue
        # The destination is kept even when its domain is not allowed: HR sees the
        # problem on the draft, and publishing refuses it until it is fixed.
        item = ContentItem(
            title=entry.title,
            summary=entry.summary,
            destination_url=entry.link,
            status=ContentStatus.DRAFT,
            featured=False,
            image_rights_confirmed=False,
        )
        db.session.add(item)
        db.session.flush()
        db.session.execute(
            update(FeedEntry)
            .where(FeedEntry.feed_id == feed.id, FeedEntry.guid == entry.guid)
            .values(content_id=item.id)
        )
        created += 1
    return created


def import_feed(feed_id: int) -> int:
    """Fetch one feed and import its new entries; the job commits. Returns the number of
    drafts made (0 on failure, with the reason kept on the feed; an unexpected failure
    is kept too, then raised)."""
    feed = db.session.get(InboundFeed, feed_id)
    if feed is None or not feed.active:
        return 0
    url, etag, modified = feed.url, feed.etag, feed.modified
    try:
        fetched = fetch(url, etag, modified)
        entries = parse(fetched.body) if fetched.body is not None else []
        created = import_entries(feed, entries)
    except FeedError as exc:
        db.session.rollback()
        _record_failure(feed_id, str(exc))
        return 0
    except Exception as exc:
        # A bug or a database problem: keep a note for HR, and let RQ retry the job.
        db.session.rollback()
        _record_failure(feed_id, f"The import failed unexpectedly ({type(exc).__name__}).")
        raise
    feed.last_fetched_at = utcnow()
    feed.last_error = None
    feed.last_error_at = None
    feed.etag = (fetched.etag or "")[:200] or None
    feed.modified = (fetched.modified or "")[:100] or None
    db.session.flush()
    log.info("feed %s: %s new draft(s)", feed_id, created)
    return created


def _record_failure(feed_id: int, message: str) -> None:
    feed = db.session.get(InboundFeed, feed_id)
    if feed is None:
        return
    now = utcnow()
    feed.last_fetched_at = now
    feed.last_error = message
    feed.last_error_at = now
    db.session.flush()
    log.warning("feed %s: %s", feed_id, message)


def source_feeds(content_ids: list[int]) -> dict[int, InboundFeed]:
    """The feed each of these items was imported from, if any."""
    if not content_ids:
        return {}
    rows = db.session.execute(
        select(FeedEntry.content_id, InboundFeed)
        .join(InboundFeed, InboundFeed.id == FeedEntry.feed_id)
        .where(FeedEntry.content_id.in_(content_ids))
    )
    return dict(rows.all())
