"""The SQL helpers (app/db.py), on whichever database the suite runs against."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, select

from app.db import (
    among,
    bulk_insert,
    get_or_404,
    insert_ignoring_conflicts,
    lock_row,
    tune_sqlite,
)
from app.errors import NotFound
from app.extensions import db
from app.models import Employee, LedgerLine, LineKind, ScoringRule, Team
from tests.factories import EmployeeFactory


def test_get_or_404_names_the_model_in_words(ctx):
    team = Team(name="Sales")
    db.session.add(team)
    db.session.flush()
    assert get_or_404(Team, team.id) is team
    with pytest.raises(NotFound) as caught:
        get_or_404(ScoringRule, 999_999, "rule_id")
    assert caught.value.errors == {"rule_id": ["No scoring rule with id 999999."]}


@pytest.mark.parametrize("size", [0, 1, 3, 2000])
def test_among_is_in(ctx, size: int):
    teams = [Team(name=f"T{i}") for i in range(5)]
    db.session.add_all(teams)
    db.session.flush()
    wanted = [t.id for t in teams[:3]] + list(range(10**6, 10**6 + size))
    found = set(db.session.scalars(select(Team.id).where(among(Team.id, wanted[: 3 + size]))))
    assert found == {t.id for t in teams[: min(3, 3 + size)]}


def test_bulk_insert_writes_every_row_and_value(ctx):
    alice = EmployeeFactory()
    at = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    rows = [
        {
            "line_key": f'bulk:{i}:"quoted"\\',
            "kind": LineKind.ADJUSTMENT,
            "employee_id": alice.id,
            "team_id": None,
            "points": i - 2,
            "occurred_at": at,
            "reason": 'a reason, with {braces} and "quotes"',
        }
        for i in range(5)
    ]
    bulk_insert(LedgerLine.__table__, rows)
    stored = db.session.execute(
        select(LedgerLine.line_key, LedgerLine.points, LedgerLine.occurred_at, LedgerLine.reason)
        .where(LedgerLine.employee_id == alice.id)
        .order_by(LedgerLine.points)
    ).all()
    assert [tuple(row) for row in stored] == [
        (r["line_key"], r["points"], at, r["reason"]) for r in rows
    ]


def test_bulk_insert_with_on_conflict(ctx):
    alice = EmployeeFactory()
    row = {
        "line_key": "bulk:again",
        "kind": LineKind.ADJUSTMENT,
        "employee_id": alice.id,
        "points": 1,
        "occurred_at": datetime(2026, 3, 1, tzinfo=UTC),
        "reason": "r",
    }
    for _ in range(2):
        bulk_insert(LedgerLine.__table__, [row], lambda s: s.on_conflict_do_nothing())
    count = select(func.count()).select_from(LedgerLine).where(LedgerLine.line_key == "bulk:again")
    assert db.session.scalar(count) == 1
    assert insert_ignoring_conflicts(LedgerLine, [{**row, "points": 2}]) == 0


def test_lock_row_leaves_the_row_as_it_was(ctx):
    alice = EmployeeFactory(name="Alice")
    lock_row(Employee, alice.id)
    db.session.expire_all()
    assert db.session.get(Employee, alice.id).name == "Alice"


def test_a_sqlite_file_writes_ahead_and_one_in_memory_is_left_alone(tmp_path):
    on_disk = create_engine(f"sqlite:///{tmp_path / 'chorus.db'}")
    in_memory = create_engine("sqlite://")
    for engine in (on_disk, in_memory):
        tune_sqlite(engine)
    with on_disk.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    with in_memory.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "memory"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL, as it was
    on_disk.dispose()
    in_memory.dispose()
