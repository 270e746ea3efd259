"""Intranet links: a secret address under which the intranet reads the content to share,
as an Atom feed and as an embeddable widget, for the whole company or one team.

The secret is the credential: 32 random bytes, shown once, stored only as a SHA-256
hash (like API tokens). A revoked link, or one whose team was deleted, is unknown from
the next request on. What a link shows follows the feed's targeting for a person with
no interests: items aimed at everyone, and for a team link those aimed at the team.

Reading a link writes nothing to the database (an intranet page may load it for every
visitor); when it was last read is kept in Redis instead, as a convenience for the
list of links. Keys (this module owns the namespace ``chorus:intranet:``):

- ``chorus:intranet:last-read``: a hash of link id -> unix time of the last read.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime

import redis
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.errors import InvalidInput, NotFound
from app.extensions import db, get_redis
from app.models import ContentItem, Employee, IntranetLink, Team, utcnow
from app.services import audit
from app.services.feed import meant_for_audience
from app.urls import absolute_url

ITEM_LIMIT = 30
# token_urlsafe(32) is 43 characters of [A-Za-z0-9_-]; anything else is not a secret of
# ours and is refused before a hash or a query.
SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
PREFIX_LENGTH = 6
LAST_READ_KEY = "chorus:intranet:last-read"

log = logging.getLogger(__name__)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_link(actor: Employee, team_id: int | None) -> tuple[IntranetLink, str]:
    """A new link for the team (None: the whole company) and its secret, which is not
    kept and cannot be shown again."""
    team = None
    if team_id is not None:
        team = db.session.get(Team, team_id)
        if team is None:
            raise InvalidInput(f"No team with id {team_id}.", field="team_id")
    secret = secrets.token_urlsafe(32)
    link = IntranetLink(
        team=team, secret_hash=_hash(secret), prefix=secret[:PREFIX_LENGTH], created_by=actor
    )
    db.session.add(link)
    db.session.flush()
    audit.record(
        actor, "intranet_link.create", link, team_id=team_id, team=team.name if team else None
    )
    return link, secret


def link_addresses(secret: str) -> dict[str, str]:
    """Where the intranet reads the link: its Atom feed and its widget."""
    return {
        "feed_url": absolute_url("intranet.atom_feed", secret=secret),
        "widget_url": absolute_url("intranet.widget", secret=secret),
    }


def get_link(link_id: int) -> IntranetLink:
    link = db.session.get(IntranetLink, link_id)
    if link is None:
        raise NotFound(f"No intranet link with id {link_id}.", field="id")
    return link


def revoke_link(actor: Employee, link: IntranetLink) -> None:
    """The link answers 404 from the next request on; revoking it again changes nothing."""
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        audit.record(actor, "intranet_link.revoke", link, team_id=link.team_id)


def links_select():
    """Every link, newest first, revoked ones included."""
    return (
        select(IntranetLink)
        .options(joinedload(IntranetLink.team), joinedload(IntranetLink.created_by))
        .order_by(IntranetLink.id.desc())
    )


def find_link(secret: str) -> IntranetLink | None:
    """The live link the secret opens, or None (unknown, revoked, or its team gone)."""
    if not SECRET_PATTERN.fullmatch(secret):
        return None
    link = db.session.scalar(
        select(IntranetLink)
        .options(joinedload(IntranetLink.team))
        .where(IntranetLink.secret_hash == _hash(secret), IntranetLink.revoked_at.is_(None))
    )
    if link is None or (link.team_id is not None and link.team is None):
        return None  # on SQLite a deleted team's id stays behind: never widen to everyone
    return link


def items_for(link: IntranetLink, now: datetime, limit: int = ITEM_LIMIT) -> list[ContentItem]:
    """What the link shows: newest first, at most ``limit``."""
    return list(
        db.session.scalars(
            select(ContentItem)
            .where(*meant_for_audience(link.team_id, now))
            .order_by(
                func.coalesce(ContentItem.published_at, ContentItem.created_at).desc(),
                ContentItem.id.desc(),
            )
            .limit(limit)
        )
    )


# When each link was last read ------------------------------------------------------


def note_read(link: IntranetLink, now: datetime) -> None:
    try:
        get_redis().hset(LAST_READ_KEY, str(link.id), int(now.timestamp()))
    except redis.RedisError:
        log.warning("could not note an intranet link's read in Redis", exc_info=True)


def last_read(link_ids: Iterable[int]) -> dict[int, datetime]:
    """When each link was last read, for those Redis remembers."""
    ids = list(link_ids)
    if not ids:
        return {}
    try:
        stamps = get_redis().hmget(LAST_READ_KEY, [str(i) for i in ids])
    except redis.RedisError:
        log.warning("could not read intranet links' last reads from Redis", exc_info=True)
        return {}
    return {
        link_id: datetime.fromtimestamp(int(stamp), UTC)
        for link_id, stamp in zip(ids, stamps, strict=True)
        if stamp is not None
    }
