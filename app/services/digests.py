"""Composing the digests that are due: who gets one now, and what it carries.

Run by the clock every quarter of an hour, so that each person's digest goes at their
own hour in their own time zone (half-hour zones included). A group of people at a
time (``CHUNK``): one statement each for the people, their last digests, interests,
shares and folded messages, one insert of the digests (once per person and local
day: a second run, or a second worker, writes nothing new), so the cost follows the
headcount in a few statements per group and the memory a group's rows.

A digest lists content meant for the person (the feed's targeting) that is newer than
their last digest and their last look at the feed, and not shared by them yet; and it
carries what their weekly budget held back. With neither, nothing is sent.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update

from app.db import among
from app.extensions import db
from app.models import (
    ContentItem,
    ContentStatus,
    Employee,
    NotificationSettings,
    OutboxMessage,
    Share,
    content_interests,
    content_teams,
    employee_interests,
)
from app.services import feed, outbox
from app.services.calendar import company_calendar
from app.services.notifications import PREFERENCE_FIELDS
from scoring.delivery import State
from scoring.notifications import (
    DEFAULT_PREFERENCES,
    DIGEST_LOOKBACK,
    Candidate,
    Kind,
    Preferences,
    deliver_at,
    digest_days,
    digest_due,
    digest_items,
    zone_of,
)

CHUNK = 5000


def compose_due(now: datetime, chunk: int = CHUNK) -> Iterator[int]:
    """Write the digests due ``now``, a group of people at a time; yields how many
    each group wrote (the caller commits after each)."""
    company_zone, week_start = company_calendar()
    candidates = _candidates(now)
    after = 0
    while True:
        people = _people(after, chunk)
        if not people:
            return
        after = people[-1][0]
        yield _compose(people, candidates, now, company_zone, week_start)


def _compose(people, candidates, now, company_zone: ZoneInfo, week_start: int) -> int:
    zones: dict[str | None, ZoneInfo] = {}
    scheduled = []  # (id, team, seen, preferences, zone): their day and hour is now
    for employee_id, team_id, seen, preferences in people:
        zone = zones.get(preferences.time_zone) or zones.setdefault(
            preferences.time_zone, zone_of(preferences, company_zone)
        )
        local = now.astimezone(zone)
        if local.hour == preferences.digest_hour and local.weekday() in digest_days(
            preferences.digest, week_start
        ):
            scheduled.append((employee_id, team_id, seen, preferences, zone))
    if not scheduled:
        return 0
    ids = [entry[0] for entry in scheduled]
    last = _last_digests(ids)
    due = [e for e in scheduled if digest_due(e[3], e[4], week_start, now, last.get(e[0]))]
    if not due:
        return 0
    ids = [entry[0] for entry in due]
    interests = _interests(ids)
    shared = _shared(ids, [c.id for c in candidates])
    folded = _folded(ids)
    rows, carried = [], []
    floor = now - DIGEST_LOOKBACK
    for employee_id, team_id, seen, preferences, zone in due:
        since = max(filter(None, (floor, last.get(employee_id), seen)))
        items, more = digest_items(
            candidates,
            team_id,
            interests.get(employee_id, frozenset()),
            shared.get(employee_id, frozenset()),
            since,
        )
        notices = folded.get(employee_id, [])
        if not items and not notices:
            continue
        payload = {"items": items, "more": more, "notices": [n for _, n in notices]}
        key = f"digest:{employee_id}:{now.astimezone(zone).date().isoformat()}"
        mail = outbox.Mail(employee_id, Kind.DIGEST, key, payload)
        rows.append(outbox.row(mail, now, deliver_at(preferences, zone, now)))
        carried.extend(message_id for message_id, _ in notices)
    written = outbox.insert_rows(rows)
    if carried:
        db.session.execute(
            update(OutboxMessage)
            .where(among(OutboxMessage.id, carried), OutboxMessage.state == State.FOLDED)
            .values(state=State.DIGESTED)
            .execution_options(synchronize_session=False)
        )
    return written


def _candidates(now: datetime) -> list[Candidate]:
    """Published, current items of the lookback, newest first, with their targets."""
    published = func.coalesce(ContentItem.published_at, ContentItem.created_at)
    query = select(ContentItem.id, published).where(
        ContentItem.status == ContentStatus.PUBLISHED,
        published > now - DIGEST_LOOKBACK,
        published <= now,
        or_(ContentItem.valid_from.is_(None), ContentItem.valid_from <= now),
        or_(ContentItem.valid_until.is_(None), ContentItem.valid_until > now),
    )
    items = db.session.execute(query.order_by(published.desc(), ContentItem.id.desc())).all()
    if not items:
        return []
    ids = [item_id for item_id, _ in items]
    teams, interests = defaultdict(set), defaultdict(set)
    for content_id, team_id in db.session.execute(
        select(content_teams.c.content_id, content_teams.c.team_id).where(
            among(content_teams.c.content_id, ids)
        )
    ):
        teams[content_id].add(team_id)
    for content_id, interest_id in db.session.execute(
        select(content_interests.c.content_id, content_interests.c.interest_id).where(
            among(content_interests.c.content_id, ids)
        )
    ):
        interests[content_id].add(interest_id)
    return [
        Candidate(item_id, at, frozenset(teams[item_id]), frozenset(interests[item_id]))
        for item_id, at in items
    ]


def _people(after: int, limit: int) -> list[tuple[int, int | None, datetime | None, Preferences]]:
    """The next group of people taking part, by id, with their rhythm for mail."""
    settings = [getattr(NotificationSettings, name) for name in PREFERENCE_FIELDS]
    query = (
        select(Employee.id, Employee.team_id, *settings)
        .outerjoin(NotificationSettings, NotificationSettings.employee_id == Employee.id)
        .where(
            Employee.id > after,
            Employee.opted_in_at.is_not(None),
            Employee.active.is_(True),
            Employee.erased_at.is_(None),
        )
        .order_by(Employee.id)
        .limit(limit)
    )
    rows = db.session.execute(query).all()
    seen = feed.seen_at([row[0] for row in rows])
    people = []
    for employee_id, team_id, *values in rows:
        chosen = values[0] is not None  # no settings row: the defaults
        preferences = Preferences(*values) if chosen else DEFAULT_PREFERENCES
        people.append((employee_id, team_id, seen.get(employee_id), preferences))
    return people


def _last_digests(ids: list[int]) -> dict[int, datetime]:
    query = (
        select(OutboxMessage.employee_id, func.max(OutboxMessage.created_at))
        .where(among(OutboxMessage.employee_id, ids), OutboxMessage.kind == Kind.DIGEST)
        .group_by(OutboxMessage.employee_id)
    )
    return dict(db.session.execute(query).all())


def _interests(ids: list[int]) -> dict[int, frozenset[int]]:
    found = defaultdict(set)
    query = select(employee_interests.c.employee_id, employee_interests.c.interest_id).where(
        among(employee_interests.c.employee_id, ids)
    )
    for employee_id, interest_id in db.session.execute(query):
        found[employee_id].add(interest_id)
    return {employee_id: frozenset(values) for employee_id, values in found.items()}


def _shared(ids: list[int], content_ids: list[int]) -> dict[int, frozenset[int]]:
    if not content_ids:
        return {}
    found = defaultdict(set)
    query = select(Share.employee_id, Share.content_id).where(
        among(Share.employee_id, ids), among(Share.content_id, content_ids)
    )
    for employee_id, content_id in db.session.execute(query):
        found[employee_id].add(content_id)
    return {employee_id: frozenset(values) for employee_id, values in found.items()}


def _folded(ids: list[int]) -> dict[int, list[tuple[int, dict]]]:
    """Each person's messages the budget held back, oldest first, with their words."""
    found = defaultdict(list)
    query = (
        select(OutboxMessage.id, OutboxMessage.employee_id, OutboxMessage.payload)
        .where(among(OutboxMessage.employee_id, ids), OutboxMessage.state == State.FOLDED)
        .order_by(OutboxMessage.id)
    )
    for message_id, employee_id, payload in db.session.execute(query):
        found[employee_id].append((message_id, json.loads(payload)))
    return found
