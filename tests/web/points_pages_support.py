"""What the points page tests share: a company with the default rules, ledger lines put
on the boards by the real job, and counting rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.extensions import db
from app.jobs import settle_points
from app.models import LedgerLine, LineKind, utcnow
from app.services import rules as rules_service
from scoring.windows import Window, window_start
from tests.factories import CompanySettingsFactory, LedgerLineFactory


def install_company() -> None:
    CompanySettingsFactory(time_zone="Europe/Berlin")
    rules_service.install_default_rules(effective_at=utcnow() - timedelta(days=60))
    db.session.commit()


def recently(minutes_ago: float) -> datetime:
    """A moment ``minutes_ago`` (at most 10) before now, but inside this company week and
    month, squeezed in order when a new week or month began less than 10 minutes ago."""
    now = utcnow()
    zone = ZoneInfo("Europe/Berlin")
    start = max(window_start(Window.WEEK, now, zone), window_start(Window.MONTH, now, zone))
    span = now - start
    if span >= timedelta(minutes=10):
        return now - timedelta(minutes=minutes_ago)
    return start + span * (1 - minutes_ago / 10)


def give(employee, points: int, reason: str = "Welcome bonus", at=None, **fields) -> LedgerLine:
    return LedgerLineFactory(
        employee_id=employee.id,
        team_id=employee.team_id,
        points=points,
        reason=reason,
        kind=fields.pop("kind", LineKind.ADJUSTMENT),
        occurred_at=at or recently(2),
        **fields,
    )


def settle() -> dict[str, int]:
    """The scheduled job, run here: events into the ledger, lines onto the boards."""
    return settle_points()


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))
