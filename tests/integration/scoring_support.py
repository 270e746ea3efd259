"""What the scoring tests share: a company with the default rules, events, the pipeline."""

from __future__ import annotations

from datetime import UTC, datetime

from app.boards import board_key
from app.extensions import db
from app.services.scoring import apply_pending_lines, score_pending_events
from scoring.vocabulary import Channel, EventKind
from tests.factories import EventFactory

T0 = datetime(2026, 11, 16, 9, tzinfo=UTC)  # Monday, 10:00 in Berlin
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
COMPANY = board_key("company", "all")


def event(employee, kind=EventKind.SHARE, at=T0, key=None, **fields):
    return EventFactory(
        kind=kind,
        employee_id=employee.id,
        team_id=employee.team_id,
        occurred_at=at,
        channel=Channel.LINKEDIN,
        natural_key=key or f"{kind}:{employee.id}:{at.isoformat()}",
        **fields,
    )


def run_pipeline(store) -> tuple[int, int]:
    """Score what is pending and put the new lines on the boards; returns both counts."""
    scored = score_pending_events(now=NOW)
    db.session.commit()
    applied = apply_pending_lines(store)
    db.session.commit()
    return scored, applied
