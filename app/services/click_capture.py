"""The redirect's side of link tracking: where a share's link leads, who clicked
(pseudonymously), and the raw click queued for the worker (``app.services.clicks``).

This module owns these Redis keys:

- ``chorus:link:<share id>``: the share's final destination (UTM and ref added), or ""
  for a share that does not exist; filled on share creation and on a miss;
- ``chorus:clicks``: the stream of raw clicks the worker reads.

The redirect does one Redis round trip (GET destination + XADD raw click) and no SQL
once its caches are warm. A raw click holds no address: the visitor is an HMAC of
address and user agent under a secret that changes every company-local day.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache

from flask import current_app
from sqlalchemy import select

from app.extensions import db, get_redis
from app.links import campaign_name, destination_with_tracking, is_web_address
from app.models import ContentItem, Share, SharePolicy
from app.services.calendar import company_calendar

STREAM = "chorus:clicks"
LINK_TTL = 24 * 3600  # destinations change rarely; a day bounds how long a stale one lives
MISSING_TTL = 300  # a share that does not exist: answer 404 without asking the database
USER_AGENT_LENGTH = 300
DEFAULT_MEDIUM = "employee_advocacy"  # SharePolicy.utm_medium's default


def link_key(share_id: int) -> str:
    return f"chorus:link:{share_id}"


# Destinations ----------------------------------------------------------------------


def final_destination(share: Share, content: ContentItem, utm_medium: str) -> str | None:
    """Where the share's link leads, or None when the stored destination is not a web
    address (then the link answers 404 rather than go anywhere else)."""
    if not is_web_address(content.destination_url):
        return None
    return destination_with_tracking(
        content.destination_url,
        channel=share.channel,
        medium=utm_medium,
        campaign=campaign_name(content.campaign_hashtag, content.id),
        share_id=share.id,
        ref_code=share.ref_code,
    )


def cache_destination(share_id: int, destination: str | None) -> None:
    if destination:
        get_redis().set(link_key(share_id), destination, ex=LINK_TTL)
    else:
        get_redis().set(link_key(share_id), "", ex=MISSING_TTL)


def load_destination(share_id: int) -> str | None:
    """The destination from the database, put into the cache for the next click."""
    row = db.session.execute(
        select(Share, ContentItem).join(ContentItem).where(Share.id == share_id)
    ).first()
    destination = None
    if row is not None:
        # Read, not share_policy(): a click must never create the policy row.
        medium = db.session.scalar(select(SharePolicy.utm_medium).limit(1))
        destination = final_destination(row.Share, row.ContentItem, medium or DEFAULT_MEDIUM)
    cache_destination(share_id, destination)
    db.session.rollback()  # end the read transaction at once
    return destination


def forget_destinations(share_ids: Iterable[int] | None = None) -> None:
    """Drop cached destinations (all of them when no ids are given), after HR changed
    what goes into them: an item's campaign hashtag, the UTM medium."""
    connection = get_redis()
    if share_ids is None:
        keys = connection.scan_iter(match=link_key("*"), count=1000)
    else:
        keys = (link_key(share_id) for share_id in share_ids)
    batch = []
    for key in keys:
        batch.append(key)
        if len(batch) == 1000:
            connection.unlink(*batch)
            batch = []
    if batch:
        connection.unlink(*batch)


# The fast path ---------------------------------------------------------------------


@lru_cache(maxsize=8)
def _daily_secret(secret_key: str, day: str) -> bytes:
    return hmac.new(secret_key.encode(), f"visitor:{day}".encode(), hashlib.sha256).digest()


def visitor_id(secret_key: str, day: str, client_ip: str, user_agent: str) -> str:
    """Who clicked, pseudonymously: the same address and browser give the same id
    within one company-local day, and nothing links it to another day."""
    message = f"{client_ip}|{user_agent}".encode()
    return hmac.new(_daily_secret(secret_key, day), message, hashlib.sha256).hexdigest()[:32]


def record_raw_click(
    share_id: int,
    *,
    client_ip: str,
    user_agent: str,
    head: bool,
    session_user_id: str | None,
    now: datetime | None = None,
) -> str | None:
    """Queue the raw click and return the share's destination (None: no such share).
    One round trip when the destination is cached."""
    app = current_app._get_current_object()
    now = now or datetime.now(UTC)
    day = now.astimezone(company_calendar(app)[0]).date().isoformat()
    fields = {
        "s": share_id,
        "t": int(now.timestamp() * 1000),
        "d": day,
        "v": visitor_id(app.config["SECRET_KEY"], day, client_ip, user_agent),
        "ua": user_agent[:USER_AGENT_LENGTH],
        "h": 1 if head else 0,
        "u": session_user_id or "",
    }
    connection = get_redis()
    pipe = connection.pipeline(transaction=False)
    pipe.get(link_key(share_id))
    pipe.xadd(STREAM, fields)
    destination, entry_id = pipe.execute()
    destination = load_destination(share_id) if destination is None else destination.decode()
    if not destination:
        connection.xdel(STREAM, entry_id)  # nothing to count for a share that is not there
        return None
    return destination
