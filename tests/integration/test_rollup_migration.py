"""Migrations 0019, 0020 and 0021 fill the rollups of a company with history, as a rebuild
would, and give everyone taking part a spell from their opt-in; they go down and up
again.

A database of its own, built by the migrations up to 0018 (SQLite: a file of its own;
PostgreSQL: a schema of its own in the test database), the history written as raw
rows, as the code of 0018 wrote them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import insert, select

from app.extensions import db
from app.models import (
    ClickRecord,
    CompanySettings,
    ContentItem,
    ContentTag,
    Employee,
    EmployeeNetwork,
    Event,
    Interest,
    LedgerLine,
    LineKind,
    ParticipationSpell,
    Referral,
    ReferralOutcome,
    Share,
    Team,
    employee_interests,
)
from app.services import rollups
from scoring.clicks import ClickKind
from scoring.vocabulary import Channel, EventKind, ReferralStage
from tests.integration.migration_support import app_migrated_to
from tests.integration.rollup_support import rollup_rows

BEFORE = "d4e8b2f6a1c3"  # 0018


@pytest.fixture
def old_database(database_url: str, redis_url: str, tmp_path) -> Iterator[Flask]:
    """An app on a database of its own, migrated up to 0018."""
    with app_migrated_to(BEFORE, database_url, redis_url, tmp_path) as app:
        yield app


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _history() -> None:
    """Raw rows written as the code of 0018 wrote them (no ORM: the code of today follows
    who takes part, in a table 0018 does not have)."""

    def add(model, **values) -> int:
        return db.session.execute(insert(model).values(**values).returning(model.id)).scalar()

    db.session.execute(
        insert(CompanySettings).values(
            id=1,
            name="Example AG",
            time_zone="Europe/Berlin",
            week_start=0,
            min_group_size=5,
            updated_at=utc(2026, 9, 1),
        )
    )
    team = add(Team, name="Sales", name_key="sales", created_at=utc(2026, 9, 1))
    joined = utc(2026, 10, 1)
    person = {
        "role": "employee",
        "active": True,
        "created_at": joined,
        "login_nonce": "0" * 32,
        "session_epoch": 0,
        "presence": "named",
    }
    ada = add(
        Employee, email="ada@example.com", name="Ada", team_id=team, opted_in_at=joined, **person
    )
    ben = add(Employee, email="ben@example.com", name="Ben", opted_in_at=joined, **person)
    add(Employee, email="cem@example.com", name="Cem", team_id=team, **person)  # never in
    add(EmployeeNetwork, employee_id=ada, network="linkedin", audience_size=400)
    item = {
        "summary": "",
        "image_rights_confirmed": False,
        "featured": False,
        "status": "published",
        "created_at": joined,
        "updated_at": joined,
    }
    story = add(ContentItem, title="Story", destination_url="https://example.com/1", **item)
    db.session.execute(
        insert(ContentTag), [{"content_id": story, "tag": t} for t in ("ai", "cloud")]
    )
    cloud = add(Interest, name="Cloud", name_key="cloud")
    db.session.execute(insert(employee_interests).values(employee_id=ada, interest_id=cloud))
    shares = []
    for owner, team_id, at, channel in (
        (ada, team, utc(2026, 10, 24, 21, 30), Channel.LINKEDIN),  # Sat 23:30
        (ada, team, utc(2026, 10, 25, 23, 30), Channel.X),  # Mon 00:30, winter time
        (ben, None, utc(2026, 10, 25, 12), Channel.X),
    ):
        shares.append(
            add(
                Share,
                employee_id=owner,
                content_id=story,
                channel=channel,
                text="t",
                own_words=False,
                ref_code=f"ref{len(shares)}",
                team_id=team_id,
                created_at=at,
            )
        )
    for n, (share, at, kind) in enumerate(
        (
            (shares[0], utc(2026, 10, 25, 0, 30), ClickKind.HUMAN),  # 02:30 summer time
            (shares[0], utc(2026, 10, 25, 1, 30), ClickKind.HUMAN),  # 02:30 winter time
            (shares[0], utc(2026, 10, 25, 1, 40), ClickKind.BOT),
            (shares[1], utc(2026, 10, 26, 9), ClickKind.HUMAN),
            (shares[2], utc(2026, 10, 31, 23, 30), ClickKind.SELF),
        )
    ):
        add(
            ClickRecord,
            share_id=share,
            visitor=f"{n:032x}",
            day=at.date(),
            kind=kind,
            occurred_at=at,
        )
    for candidate, stage, outcome in (
        ("a", ReferralStage.APPLIED, ReferralOutcome.AWARDED),
        ("a", ReferralStage.HIRED, ReferralOutcome.AWARDED),
        ("b", ReferralStage.APPLIED, ReferralOutcome.UNATTRIBUTED),
    ):
        add(
            Referral,
            candidate_hash=candidate * 64,
            stage=stage,
            ref_code="ref0",
            share_id=shares[0],
            outcome=outcome,
            occurred_at=utc(2026, 11, 2, 10),
            received_at=utc(2026, 11, 2, 10),
        )
    event = add(
        Event,
        kind=EventKind.SHARE,
        natural_key=f"share:{shares[0]}",
        employee_id=ada,
        team_id=team,
        share_id=shares[0],
        content_id=story,
        channel=Channel.LINKEDIN,
        occurred_at=utc(2026, 10, 24, 21, 30),
        created_at=utc(2026, 10, 24, 21, 30),
        details={},
    )
    line = {"capped": False, "reason": "r", "created_at": utc(2026, 11, 3), "boards_applied": True}
    add(
        LedgerLine,
        line_key="award:1:1",
        kind=LineKind.AWARD,
        employee_id=ada,
        team_id=team,
        event_id=event,
        points=5,
        occurred_at=utc(2026, 10, 24, 21, 30),
        **line,
    )
    add(
        LedgerLine,
        line_key="recalc:1:1:1",
        kind=LineKind.COMPENSATION,
        employee_id=ada,
        team_id=team,
        event_id=event,
        points=-5,
        occurred_at=utc(2026, 10, 24, 21, 30),
        **line,
    )
    add(
        LedgerLine,
        line_key="adjust:x",
        kind=LineKind.ADJUSTMENT,
        employee_id=ben,
        points=7,
        occurred_at=utc(2026, 11, 1, 22, 59),
        **line,
    )
    db.session.commit()


def test_the_migration_fills_the_rollups_as_a_rebuild_does(old_database):
    _history()
    upgrade()
    migrated = rollup_rows()
    # day, team; shares, clicks, clicks on the day's shares, applied, interviewed, hired,
    # points, reach (the audience declared now stands in for the one of the day)
    assert [(row[0], *row[3:]) for row in migrated["rollup_content_daily"]] == [
        (date(2026, 10, 24), 1, 1, 0, 2, 0, 0, 0, 0, 400),  # an award and its reversal: 0
        (date(2026, 10, 25), 1, 0, 2, 0, 0, 0, 0, 0, 0),  # both 02:30s; no bot
        (date(2026, 10, 25), 0, 1, 0, 0, 0, 0, 0, 0, 0),  # Ben's, without a team; not his own
        (date(2026, 10, 26), 1, 1, 1, 1, 0, 0, 0, 0, 0),  # 00:30 on Monday; no audience on X
        (date(2026, 11, 2), 1, 0, 0, 0, 1, 0, 1, 0, 0),  # attributed stages only
    ]
    assert [(r[0], r[1], r[-2]) for r in migrated["rollup_employee_daily"] if r[-2]] == [
        (date(2026, 11, 1), 2, 7),  # 23:59 in Berlin
    ]
    # Ada's two shares (Sunday's week, Monday's) and their clicks, per tag; Ben chose
    # no interest.
    assert [row[:2] + row[3:] for row in migrated["rollup_interest_tags"]] == [
        ("day", date(2026, 10, 24), "ai", 1, 1, 2),  # sharers, shares, their clicks
        ("day", date(2026, 10, 24), "cloud", 1, 1, 2),
        ("day", date(2026, 10, 26), "ai", 1, 1, 1),
        ("day", date(2026, 10, 26), "cloud", 1, 1, 1),
        ("month", date(2026, 10, 1), "ai", 1, 2, 3),
        ("month", date(2026, 10, 1), "cloud", 1, 2, 3),
        ("week", date(2026, 10, 19), "ai", 1, 1, 2),
        ("week", date(2026, 10, 19), "cloud", 1, 1, 2),
        ("week", date(2026, 10, 26), "ai", 1, 1, 1),
        ("week", date(2026, 10, 26), "cloud", 1, 1, 1),
    ]
    # Ada's interest per month: her two shares in October (active), her referral's
    # stages in November.
    months = [row for row in migrated["rollup_interest_periods"] if row[0] == "month"]
    assert [(r[1], r[4], r[7], r[3]) for r in months] == [  # shares, applied, active
        (date(2026, 10, 1), 2, 0, 1),
        (date(2026, 11, 1), 0, 1, 0),
    ]
    # Ada 10 (two days, two weeks, a month; two tags), Ben 6 (a day, week, month)
    assert len(migrated["rollup_sharer_tags"]) == 16
    days = [row for row in migrated["rollup_person_periods"] if row[0] == "day"]
    assert [(row[1], row[3], row[4]) for row in days if row[2] == 1] == [  # shares, clicks
        (date(2026, 10, 24), 1, 0),  # Ada's
        (date(2026, 10, 25), 0, 2),  # both 02:30s
        (date(2026, 10, 26), 1, 1),
        (date(2026, 11, 2), 0, 0),  # her referral's stages
    ]
    counted = select(Share.counted_clicks).order_by(Share.id)
    assert list(db.session.scalars(counted)) == [2, 1, 0]  # people's clicks only
    rollups.recount()
    assert rollup_rows() == migrated
    spells = db.session.execute(
        select(ParticipationSpell.employee_id, ParticipationSpell.started_at)
    ).all()
    assert sorted(spells) == [(1, utc(2026, 10, 1)), (2, utc(2026, 10, 1))]
    db.session.commit()
    downgrade(revision=BEFORE)
    upgrade()
    assert rollup_rows() == migrated
