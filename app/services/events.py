"""Events: what may earn points, each recorded exactly once under its natural key.

Scoring (a later stage of the pipeline) reads events; here they are only captured.
Delivering the same event again returns the first one and changes nothing: the unique
natural key decides, with INSERT ... ON CONFLICT DO NOTHING, so concurrent deliveries
cannot both win.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.db import insert_ignoring_conflicts
from app.errors import InvalidInput
from app.extensions import db
from app.models import Event, utcnow
from scoring.vocabulary import Channel, EventKind

# Clocks differ a little between machines; more than this in the future is an error.
MAX_CLOCK_SKEW = timedelta(minutes=5)


def check_not_in_future(occurred_at: datetime, now: datetime | None = None) -> None:
    if occurred_at > (now or utcnow()) + MAX_CLOCK_SKEW:
        raise InvalidInput("The event lies in the future.", field="occurred_at")


def record_event(
    kind: EventKind,
    natural_key: str,
    *,
    employee_id: int,
    occurred_at: datetime,
    team_id: int | None = None,
    share_id: int | None = None,
    content_id: int | None = None,
    channel: Channel | None = None,
    details: dict[str, Any] | None = None,
) -> tuple[Event, bool]:
    """The event under ``natural_key`` and whether this call created it."""
    check_not_in_future(occurred_at)
    created = insert_ignoring_conflicts(
        Event,
        [
            {
                "kind": kind,
                "natural_key": natural_key,
                "employee_id": employee_id,
                "team_id": team_id,
                "share_id": share_id,
                "content_id": content_id,
                "channel": channel,
                "occurred_at": occurred_at,
                "created_at": utcnow(),
                "details": details or {},
            }
        ],
    )
    event = db.session.scalar(select(Event).where(Event.natural_key == natural_key))
    return event, created == 1
