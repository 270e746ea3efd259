"""Each person's inbox, and their choices of what reaches them where.

``tell`` writes notifications in the caller's transaction, for the people whose
choices (``scoring.notifications.channels_for``) put that kind in their inbox, once
per person and key: the job or request that caused it may run twice and tells nobody
twice. Reading and marking read are the person's own: every function here takes the
employee whose inbox it is, and no id reaches another person's rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import delete, func, select, update

from app.db import among, bulk_insert, insert
from app.extensions import db
from app.models import (
    Employee,
    Notification,
    NotificationChoice,
    NotificationSettings,
    OutboxMessage,
    utcnow,
)
from app.services.people import participants
from scoring.notifications import (
    DEFAULT_PREFERENCES,
    Channel,
    Digest,
    Kind,
    Preferences,
    channels_for,
)

PREFERENCE_FIELDS = tuple(Preferences.__dataclass_fields__)

PAGE = 30  # notifications per page of the inbox
INSERT_CHUNK = 500


@dataclass(frozen=True)
class Told:
    """One notification to write: for whom, what about (``key``), and its words."""

    employee_id: int
    kind: Kind
    key: str
    title: str
    body: str = ""
    link: str | None = None
    at: datetime | None = None  # when it happened, if not now (the demo's history)


def choices_of(employee_ids: Sequence[int]) -> dict[int, dict[tuple[Kind, Channel], bool]]:
    """Each person's own choices; people who chose nothing map to {}."""
    found: dict[int, dict[tuple[Kind, Channel], bool]] = {e: {} for e in employee_ids}
    if employee_ids:
        query = select(
            NotificationChoice.employee_id,
            NotificationChoice.kind,
            NotificationChoice.channel,
            NotificationChoice.enabled,
        ).where(among(NotificationChoice.employee_id, list(employee_ids)))
        for employee_id, kind, channel, enabled in db.session.execute(query):
            found[employee_id][(kind, channel)] = enabled
    return found


def recipients(employee_ids: Iterable[int], kind: Kind, channel: Channel) -> set[int]:
    """Of ``employee_ids``, those a notification of ``kind`` reaches on ``channel``."""
    taking_part = participants(set(employee_ids))
    choices = choices_of(taking_part)
    return {e for e in taking_part if channel in channels_for(kind, choices[e], True)}


def tell(told: Iterable[Told], now: datetime | None = None) -> int:
    """Write each notification to its person's inbox if their choices want it there;
    returns how many were new (a key already told is skipped)."""
    told = list(told)
    by_kind: dict[Kind, set[int]] = {}
    for item in told:
        by_kind.setdefault(item.kind, set()).add(item.employee_id)
    wanted = {kind: recipients(people, kind, Channel.IN_APP) for kind, people in by_kind.items()}
    now = now or utcnow()
    rows = [
        {
            "employee_id": item.employee_id,
            "kind": item.kind,
            "key": item.key,
            "title": item.title[:200],
            "body": item.body[:500],
            "link": item.link,
            "created_at": item.at or now,
        }
        for item in told
        if item.employee_id in wanted[item.kind]
    ]
    return sum(
        bulk_insert(Notification.__table__, rows[start : start + INSERT_CHUNK], _skip_told)
        for start in range(0, len(rows), INSERT_CHUNK)
    )


def _skip_told(statement):
    return statement.on_conflict_do_nothing(index_elements=["employee_id", "key"])


def inbox(employee: Employee, before: int | None = None, limit: int = PAGE) -> list[Notification]:
    """The person's notifications, newest first; ``before`` (an id) pages back."""
    query = select(Notification).where(Notification.employee_id == employee.id)
    if before is not None:
        query = query.where(Notification.id < before)
    return list(db.session.scalars(query.order_by(Notification.id.desc()).limit(limit)))


def unread_count(employee: Employee) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.employee_id == employee.id, Notification.read_at.is_(None))
    )


def mark_read(employee: Employee, ids: Iterable[int] | None = None) -> int:
    """Mark the person's notifications with these ids (all of them when None) read;
    returns how many were unread. Ids of other people's rows change nothing."""
    statement = update(Notification).where(
        Notification.employee_id == employee.id, Notification.read_at.is_(None)
    )
    if ids is not None:
        ids = sorted(set(ids))
        if not ids:
            return 0
        statement = statement.where(among(Notification.id, ids))
    result = db.session.execute(
        statement.values(read_at=utcnow()).execution_options(synchronize_session=False)
    )
    return result.rowcount


def set_choices(employee: Employee, changes: Mapping[tuple[Kind, Channel], bool]) -> None:
    """Store the person's choices, (kind, channel) -> on or off, over earlier ones."""
    if not changes:
        return
    rows = [
        {"employee_id": employee.id, "kind": kind, "channel": channel, "enabled": enabled}
        for (kind, channel), enabled in sorted(changes.items())
    ]
    statement = insert(NotificationChoice).values(rows)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["employee_id", "kind", "channel"],
            set_={"enabled": statement.excluded.enabled},
        )
    )


def preferences_of(employee_ids: Sequence[int]) -> dict[int, Preferences]:
    """Each person's rhythm for mail; the defaults for whoever never chose."""
    found = dict.fromkeys(employee_ids, DEFAULT_PREFERENCES)
    if employee_ids:
        columns = [getattr(NotificationSettings, name) for name in PREFERENCE_FIELDS]
        query = select(NotificationSettings.employee_id, *columns).where(
            among(NotificationSettings.employee_id, list(employee_ids))
        )
        for employee_id, *values in db.session.execute(query):
            found[employee_id] = Preferences(*values)
    return found


def set_preferences(employee: Employee, preferences: Preferences) -> None:
    values = {name: getattr(preferences, name) for name in PREFERENCE_FIELDS}
    statement = insert(NotificationSettings).values(employee_id=employee.id, **values)
    db.session.execute(statement.on_conflict_do_update(index_elements=["employee_id"], set_=values))


def unsubscribe(employee: Employee, kind: Kind) -> None:
    """One click from a mail: no more mail of this kind (the digest: no digest)."""
    if kind is Kind.DIGEST:
        preferences = preferences_of([employee.id])[employee.id]
        set_preferences(employee, replace(preferences, digest=Digest.OFF))
    else:
        set_choices(employee, {(kind, Channel.EMAIL): False})


def forget(employee: Employee) -> None:
    """Erasure: the person's inbox, choices, settings and mail go."""
    for model in (Notification, NotificationChoice, NotificationSettings, OutboxMessage):
        db.session.execute(delete(model).where(model.employee_id == employee.id))
