"""The employee's feed: published, current content meant for them, and what the share
caps leave them today."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select

from app.errors import Conflict
from app.extensions import db
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
from scoring.sharing import PriorShare, ShareCaps, check_share_caps
from scoring.vocabulary import Channel
from scoring.windows import Window, window_start

# Never the id of a real item: asks the caps about "another item" for the allowance.
NO_ITEM = -1


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
    for_item_team = content_teams.c.content_id == ContentItem.id
    for_item_interest = content_interests.c.content_id == ContentItem.id
    their_interests = select(employee_interests.c.interest_id).where(
        employee_interests.c.employee_id == employee.id
    )
    targeted = [
        and_(~exists().where(for_item_team), ~exists().where(for_item_interest)),
        exists().where(for_item_interest, content_interests.c.interest_id.in_(their_interests)),
    ]
    if employee.team_id is not None:
        targeted.append(exists().where(for_item_team, content_teams.c.team_id == employee.team_id))
    return [
        ContentItem.status == ContentStatus.PUBLISHED,
        or_(ContentItem.valid_from.is_(None), ContentItem.valid_from <= now),
        or_(ContentItem.valid_until.is_(None), ContentItem.valid_until > now),
        or_(*targeted),
    ]


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


@dataclass(frozen=True)
class Allowance:
    """What the caps leave the employee now; None where a cap is switched off."""

    caps: ShareCaps
    today_left: int | None
    week_left: int | None
    per_channel_left: dict[Channel, int | None]
    # When the next share is possible if none is now (spacing, or the day or week is used up).
    next_allowed_at: datetime | None
    blocked_by: str | None
    per_item_counts: dict[int, int] = field(default_factory=dict)

    def item_left(self, content_id: int) -> int | None:
        if self.caps.per_content is None:
            return None
        return max(self.caps.per_content - self.per_item_counts.get(content_id, 0), 0)


def allowance(employee: Employee, now: datetime, content_ids: list[int] = ()) -> Allowance:
    caps = policy.share_caps()
    zone, first_weekday = company_calendar()
    prior = prior_shares(employee.id, caps, now, zone, first_weekday)
    today = window_start(Window.DAY, now, zone)
    this_week = window_start(Window.WEEK, now, zone, first_weekday)
    todays = [s for s in prior if s.at >= today]

    def left(cap: int | None, used: int) -> int | None:
        return None if cap is None else max(cap - used, 0)

    per_channel = {
        channel: left(caps.per_channel_per_day, sum(1 for s in todays if s.channel == channel))
        for channel in Channel
    }
    # The pure check, asked about an item not shared yet, says when the next share is
    # possible at all.
    refusal = check_share_caps(
        caps,
        prior,
        channel=_freest_channel(per_channel),
        content_id=NO_ITEM,
        now=now,
        zone=zone,
        first_weekday=first_weekday,
    )
    counts: dict[int, int] = {}
    if content_ids and caps.per_content is not None:
        counts = dict(
            db.session.execute(
                select(Share.content_id, func.count())
                .where(Share.employee_id == employee.id, Share.content_id.in_(list(content_ids)))
                .group_by(Share.content_id)
            ).all()
        )
    return Allowance(
        caps=caps,
        today_left=left(caps.per_day, len(todays)),
        week_left=left(caps.per_week, sum(1 for s in prior if s.at >= this_week)),
        per_channel_left=per_channel,
        next_allowed_at=refusal.next_allowed_at if refusal else None,
        blocked_by=refusal.cap if refusal else None,
        per_item_counts=counts,
    )


def _freest_channel(per_channel: dict[Channel, int | None]) -> Channel:
    return max(
        per_channel, key=lambda c: float("inf") if per_channel[c] is None else per_channel[c]
    )
