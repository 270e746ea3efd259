"""The employee's feed: published, current content meant for them, what the share
caps leave them today, and when they last looked at it.

Keys (this module owns ``chorus:feed-seen``): a hash of employee id -> when they last
opened their feed (epoch seconds), so that a digest carries only what is newer. Kept
in Redis because reading the feed must not write to the database; a lost Redis only
makes the next digests a little fuller.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import redis
from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select

from app.errors import Conflict
from app.extensions import after_commit, db, get_redis
from app.models import (
    ContentItem,
    ContentStatus,
    Employee,
    Share,
    content_interests,
    content_teams,
    employee_interests,
)
from app.services import policy
from app.services.calendar import company_calendar
from scoring.sharing import NO_ITEM, Allowance, PriorShare, ShareCaps, share_allowance
from scoring.vocabulary import Channel
from scoring.windows import Window, window_start

FEED_SEEN = "chorus:feed-seen"

log = logging.getLogger(__name__)


def mark_seen(employee: Employee, now: datetime) -> None:
    try:
        get_redis().hset(FEED_SEEN, str(employee.id), int(now.timestamp()))
    except redis.RedisError:  # the feed still shows; the digest may repeat an item
        log.warning("could not note that employee %s saw the feed", employee.id)


def seen_at(employee_ids: list[int]) -> dict[int, datetime]:
    """When each of these people last opened their feed, for those known."""
    if not employee_ids:
        return {}
    values = get_redis().hmget(FEED_SEEN, [str(e) for e in employee_ids])
    return {
        employee_id: datetime.fromtimestamp(int(value), UTC)
        for employee_id, value in zip(employee_ids, values, strict=True)
        if value is not None
    }


def forget_seen(employee: Employee) -> None:
    """Erasure: once the erasure commits, the moment goes too."""
    employee_id = str(employee.id)
    after_commit(lambda: get_redis().hdel(FEED_SEEN, employee_id))


def require_participating(employee: Employee) -> None:
    # 409, not 403: the role allows it; the employee's own choice (not opted in) is
    # what stands in the way, and they can change it.
    if not employee.participating:
        raise Conflict(
            "Sharing is for people who take part: read and accept the guidelines to opt in."
        )


def meant_for(employee: Employee, now: datetime) -> list[ColumnElement[bool]]:
    """Conditions for items the employee may see and share now: published, current, and
    aimed at everyone (no target teams or interests), their team or one of their
    interests."""
    their_interests = select(employee_interests.c.interest_id).where(
        employee_interests.c.employee_id == employee.id
    )
    return [*_current(now), _aimed_at(employee.team_id, their_interests)]


def meant_for_audience(team_id: int | None, now: datetime) -> list[ColumnElement[bool]]:
    """Conditions for items anyone in the team (or, without a team, anyone at all) may
    see and share now: published, current, aimed at everyone or at the team. Items aimed
    only at interests are left out: they are for the people who chose those."""
    return [*_current(now), _aimed_at(team_id, None)]


def _current(now: datetime) -> list[ColumnElement[bool]]:
    return [
        ContentItem.status == ContentStatus.PUBLISHED,
        or_(ContentItem.valid_from.is_(None), ContentItem.valid_from <= now),
        or_(ContentItem.valid_until.is_(None), ContentItem.valid_until > now),
    ]


def _aimed_at(team_id: int | None, interests: Select | None) -> ColumnElement[bool]:
    for_item_team = content_teams.c.content_id == ContentItem.id
    for_item_interest = content_interests.c.content_id == ContentItem.id
    targeted = [and_(~exists().where(for_item_team), ~exists().where(for_item_interest))]
    if interests is not None:
        targeted.append(
            exists().where(for_item_interest, content_interests.c.interest_id.in_(interests))
        )
    if team_id is not None:
        targeted.append(exists().where(for_item_team, content_teams.c.team_id == team_id))
    return or_(*targeted)


def feed_select(employee: Employee, now: datetime) -> Select:
    """Featured first, then newest."""
    return (
        select(ContentItem)
        .where(*meant_for(employee, now))
        .order_by(
            ContentItem.featured.desc(),
            func.coalesce(ContentItem.published_at, ContentItem.created_at).desc(),
            ContentItem.id.desc(),
        )
    )


def shared_channels(employee_id: int, content_ids: list[int]) -> dict[int, list[Channel]]:
    """For each item, the channels the employee shared it on (in the order shared)."""
    if not content_ids:
        return {}
    rows = db.session.execute(
        select(Share.content_id, Share.channel)
        .where(Share.employee_id == employee_id, Share.content_id.in_(content_ids))
        .order_by(Share.created_at, Share.id)
    )
    found: dict[int, list[Channel]] = defaultdict(list)
    for content_id, channel in rows:
        found[content_id].append(channel)
    return dict(found)


# Share caps ------------------------------------------------------------------------


def prior_shares(
    employee_id: int,
    caps: ShareCaps,
    now: datetime,
    zone: ZoneInfo,
    first_weekday: int,
    content_id: int = NO_ITEM,
) -> list[PriorShare]:
    """Only the shares the caps can see: this week's (and those within the spacing),
    plus every earlier share of ``content_id`` for the per-item cap."""
    since = window_start(Window.WEEK, now, zone, first_weekday)
    if caps.min_spacing is not None:
        since = min(since, now - caps.min_spacing)
    rows = db.session.execute(
        select(Share.created_at, Share.channel, Share.content_id).where(
            Share.employee_id == employee_id,
            or_(Share.created_at >= since, Share.content_id == content_id),
        )
    )
    return [PriorShare(at, channel, item) for at, channel, item in rows]


def allowance(employee: Employee, now: datetime, content_ids: list[int] = ()) -> Allowance:
    caps = policy.share_caps()
    zone, first_weekday = company_calendar()
    prior = prior_shares(employee.id, caps, now, zone, first_weekday)
    counts: dict[int, int] = {}
    if content_ids and caps.per_content is not None:
        counts = dict(
            db.session.execute(
                select(Share.content_id, func.count())
                .where(Share.employee_id == employee.id, Share.content_id.in_(list(content_ids)))
                .group_by(Share.content_id)
            ).all()
        )
    return share_allowance(
        caps, prior, now=now, zone=zone, first_weekday=first_weekday, per_item_counts=counts
    )
