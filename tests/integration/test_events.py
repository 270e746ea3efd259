"""app.services.events: each event once under its natural key; none from the future."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.errors import InvalidInput
from app.extensions import db
from app.models import Event, Team, utcnow
from app.services import events
from scoring.names import name_key
from scoring.vocabulary import Channel, EventKind
from tests.factories import EmployeeFactory, ShareFactory


def _events() -> list[tuple[str, int]]:
    return [
        (e.natural_key, e.employee_id) for e in db.session.scalars(select(Event).order_by(Event.id))
    ]


def test_record_event_stores_every_given_field(ctx):
    share = ShareFactory(channel=Channel.XING)
    when = utcnow() - timedelta(hours=1)
    event, created = events.record_event(
        EventKind.SHARE,
        f"share:{share.id}",
        employee_id=share.employee_id,
        occurred_at=when,
        team_id=share.team_id,
        share_id=share.id,
        content_id=share.content_id,
        channel=share.channel,
        details={"why": "test"},
    )
    db.session.commit()
    assert created is True
    stored = db.session.get(Event, event.id)
    assert (stored.kind, stored.employee_id, stored.team_id, stored.share_id) == (
        EventKind.SHARE,
        share.employee_id,
        share.team_id,
        share.id,
    )
    assert (stored.content_id, stored.channel, stored.details) == (
        share.content_id,
        Channel.XING,
        {"why": "test"},
    )
    assert stored.occurred_at == when


def test_the_same_natural_key_twice_is_one_event_and_the_first_wins(ctx):
    first_owner, second_owner = EmployeeFactory(), EmployeeFactory()
    first, created = events.record_event(
        EventKind.CLICK, "click:1:v:2026-01-01", employee_id=first_owner.id, occurred_at=utcnow()
    )
    again, created_again = events.record_event(
        EventKind.CLICK, "click:1:v:2026-01-01", employee_id=second_owner.id, occurred_at=utcnow()
    )
    db.session.commit()
    assert (created, created_again) == (True, False)
    assert again.id == first.id
    assert _events() == [("click:1:v:2026-01-01", first_owner.id)]


def test_different_keys_are_different_events(ctx):
    owner = EmployeeFactory()
    for key in ("share:1", "share:2"):
        events.record_event(EventKind.SHARE, key, employee_id=owner.id, occurred_at=utcnow())
    db.session.commit()
    assert _events() == [("share:1", owner.id), ("share:2", owner.id)]


@pytest.mark.parametrize(
    ("ahead", "refused"),
    [
        (timedelta(0), False),
        (timedelta(minutes=4, seconds=59), False),
        (timedelta(minutes=6), True),
        (timedelta(days=1), True),
    ],
)
def test_events_more_than_a_few_minutes_ahead_are_refused(ctx, ahead, refused):
    owner = EmployeeFactory()
    record = lambda: events.record_event(  # noqa: E731
        EventKind.SHARE, "share:9", employee_id=owner.id, occurred_at=utcnow() + ahead
    )
    if refused:
        with pytest.raises(InvalidInput) as caught:
            record()
        assert caught.value.errors == {"occurred_at": ["The event lies in the future."]}
        assert caught.value.status == 422
    else:
        record()
    db.session.commit()
    assert len(_events()) == (0 if refused else 1)


def test_check_not_in_future_uses_the_given_now(ctx):
    now = utcnow() - timedelta(days=10)
    events.check_not_in_future(now + timedelta(minutes=5), now)
    with pytest.raises(InvalidInput):
        events.check_not_in_future(now + timedelta(minutes=5, seconds=1), now)


def team_row(name: str) -> dict:
    """A team as a bulk insert writes it: the name and its key (the unique one)."""
    return {"name": name, "name_key": name_key(name)}


def test_insert_ignoring_conflicts_counts_only_new_rows(ctx):
    rows = [team_row("Sales"), team_row("Support")]
    assert events.insert_ignoring_conflicts(Team, rows) == 2
    assert events.insert_ignoring_conflicts(Team, [*rows, team_row("Legal")]) == 1
    assert events.insert_ignoring_conflicts(Team, []) == 0
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Team)) == 3
    assert sorted(db.session.scalars(select(Team.name))) == ["Legal", "Sales", "Support"]


def test_a_conflict_inside_one_batch_keeps_the_first(ctx):
    inserted = events.insert_ignoring_conflicts(Team, [team_row("Ops"), team_row("Ops")])
    db.session.commit()
    assert inserted == 1
    assert list(db.session.scalars(select(Team.name))) == ["Ops"]
