"""What the points, rules and leaderboard API tests share: a company with the default
rules, people who take part, their events, and the settle job run through RQ."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import func, select

from app.extensions import db, get_redis
from app.models import Employee, LedgerLine, Team, utcnow
from app.queue import enqueue
from app.services import rules as rules_service
from scoring.vocabulary import Channel, EventKind
from scoring.windows import Window, window_key, window_start
from tests.factories import CompanySettingsFactory, EmployeeFactory, EventFactory, TeamFactory

BERLIN = "Europe/Berlin"
ZONE = ZoneInfo(BERLIN)


def setup_company(app: Flask) -> None:
    """A Berlin company whose default rules have been in force for a year."""
    with app.app_context():
        CompanySettingsFactory(time_zone=BERLIN)
        rules_service.install_default_rules(effective_at=utcnow() - timedelta(days=400))
        db.session.commit()


def new_team(app: Flask, name: str) -> int:
    with app.app_context():
        return TeamFactory(name=name).id


def new_people(app: Flask, count: int = 1, **attributes) -> list[int]:
    """Ids of ``count`` employees who opted in."""
    attributes.setdefault("opted_in", True)
    with app.app_context():
        if "team_id" in attributes:  # the factory would make a team of its own
            attributes["team"] = db.session.get(Team, attributes.pop("team_id"))
        return [EmployeeFactory(**attributes).id for _ in range(count)]


def add_event(
    app: Flask, employee_id: int, kind: EventKind = EventKind.SHARE, at: datetime | None = None
) -> None:
    with app.app_context():
        employee = db.session.get(Employee, employee_id)
        EventFactory(
            kind=kind,
            employee_id=employee.id,
            team_id=employee.team_id,
            occurred_at=at or utcnow() - timedelta(seconds=1),
            # Referral stages come from the ATS, not from a network.
            channel=Channel.LINKEDIN if kind in (EventKind.SHARE, EventKind.CLICK) else None,
            natural_key=f"{kind.value}:{uuid.uuid4().hex}",
        )


def settle(app: Flask, run_jobs) -> None:
    """Score waiting events and bring the boards up to date, as the clock's job does."""
    with app.app_context():
        job_id = f"settle-{uuid.uuid4().hex}"
        enqueue("app.jobs.settle_points", job_id=job_id, queue_name="scoring")
    run_jobs()


def job_result(app: Flask, job_id: str):
    with app.app_context():
        return Job.fetch(job_id, connection=get_redis(), serializer=JSONSerializer).return_value()


def ledger_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(LedgerLine))


def berlin_noon(days_ago: int) -> datetime:
    """Noon in Berlin on a day that is over, as an aware UTC time."""
    day = (datetime.now(UTC) - timedelta(days=days_ago)).astimezone(ZONE)
    return day.replace(hour=12, minute=0, second=0, microsecond=0).astimezone(UTC)


def last_month() -> tuple[str, datetime]:
    """The key of the month before this one (in Berlin) and a moment inside it."""
    zone = ZONE
    moment = window_start(Window.MONTH, datetime.now(UTC), zone) - timedelta(days=10)
    return window_key(Window.MONTH, moment, zone), moment.astimezone(UTC)


def last_week() -> tuple[str, datetime]:
    zone = ZONE
    moment = window_start(Window.WEEK, datetime.now(UTC), zone) - timedelta(days=3)
    return window_key(Window.WEEK, moment, zone), moment.astimezone(UTC)
