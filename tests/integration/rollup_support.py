"""What the analytics tests share: reading every rollup row and kept headcount, a
rebuild to compare with, and raw clicks sent through the real click pipeline."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app import jobs
from app.extensions import db
from app.models import (
    Employee,
    Headcount,
    RollupContentDaily,
    RollupContentPeriod,
    RollupEmployeeDaily,
    RollupEmployeePeriod,
    RollupInterestPeriod,
    RollupInterestTag,
    RollupPersonPeriod,
    RollupSharerTag,
    RollupTeamDaily,
    Share,
)
from app.services import click_capture, headcounts, rollups

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
TABLES = (
    RollupContentDaily,
    RollupEmployeeDaily,
    RollupTeamDaily,
    RollupContentPeriod,
    RollupEmployeePeriod,
    RollupPersonPeriod,
    RollupInterestPeriod,
    RollupSharerTag,
    RollupInterestTag,
    Headcount,
)


def rollup_rows() -> dict[str, list[tuple]]:
    """Every row of the rollups and kept headcounts, in key order, every share's
    counted clicks and everyone's interests key."""
    found = {}
    for model in TABLES:
        table = model.__table__
        query = select(table).order_by(*table.primary_key.columns)
        found[table.name] = [tuple(row) for row in db.session.execute(query)]
    counted = select(Share.id, Share.counted_clicks).order_by(Share.id)
    found["shares.counted_clicks"] = [tuple(row) for row in db.session.execute(counted)]
    keys = select(Employee.id, Employee.interests_key).order_by(Employee.id)
    found["employees.interests_key"] = [tuple(row) for row in db.session.execute(keys)]
    return found


def live_rows(now: datetime | None = None) -> dict[str, list[tuple]]:
    """``rollup_rows`` once the clock's job has kept the headcounts due at ``now``."""
    headcounts.keep_headcounts(now)
    return rollup_rows()


def rebuilt_rows(since=None, now: datetime | None = None) -> dict[str, list[tuple]]:
    """The rows a rebuild at ``now`` makes from the raw rows (left uncommitted)."""
    rollups.rebuild(since, now)
    db.session.flush()
    return rollup_rows()


def click(share: Share | int, at: datetime, visitor: str = "203.0.113.5", **options) -> None:
    """A click on the share's link at ``at``, queued as the redirect queues it. What is
    not committed yet is committed first: a destination not cached yet is read from
    the database, which ends the transaction."""
    db.session.commit()
    share_id = share if isinstance(share, int) else share.id
    click_capture.record_raw_click(
        share_id,
        client_ip=visitor,
        user_agent=options.get("agent", BROWSER),
        head=options.get("head", False),
        session_user_id=options.get("session_user_id"),
        now=at,
    )


def process_clicks() -> dict[str, int]:
    return jobs.process_clicks()
