"""Badge jobs through RQ: after each scoring batch, the nightly pass and the backfill."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.jobs import SCHEDULE, enqueue_due
from app.models import BadgeGrant, utcnow
from app.queue import enqueue, queue
from app.services import badges
from scoring.badges import Level
from scoring.vocabulary import EventKind
from tests.factories import CompanySettingsFactory, EmployeeFactory, EventFactory
from tests.integration.scoring_support import event

SHARES = {
    "id": "sharer",
    "name": "Sharer",
    "kind": "count",
    "measure": "shares",
    "levels": {"bronze": 2, "silver": 3},
}


def all_grants() -> list[tuple]:
    return [
        tuple(row)
        for row in db.session.execute(
            select(
                BadgeGrant.employee_id, BadgeGrant.level, BadgeGrant.granted_at, BadgeGrant.quiet
            ).order_by(BadgeGrant.employee_id, BadgeGrant.granted_at)
        )
    ]


def test_a_backfill_run_twice_grants_once_dated_at_the_crossing_and_quiet(ctx, run_jobs):
    CompanySettingsFactory()
    now = utcnow()
    old, recent = EmployeeFactory(opted_in=True), EmployeeFactory(opted_in=True)
    crossings = {}
    for who, days in ((old, (40, 30, 20)), (recent, (5, 1))):
        for n, day in enumerate(days):
            EventFactory(
                employee_id=who.id,
                occurred_at=now - timedelta(days=day),
                natural_key=f"s:{who.id}:{n}",
            )
        crossings[who.id] = [now - timedelta(days=day) for day in days[1:]]
    badge = badges.create_badge(None, SHARES)
    db.session.commit()  # queues the backfill
    assert [j.func_name for j in queue("default").jobs] == ["app.jobs.backfill_badge"]
    run_jobs()
    first = all_grants()
    assert first == [
        (old.id, Level.BRONZE, crossings[old.id][0], True),
        (old.id, Level.SILVER, crossings[old.id][1], True),
        (recent.id, Level.BRONZE, crossings[recent.id][0], False),
    ]
    # Run again, under another id, the backfill finds every grant made.
    enqueue("app.jobs.backfill_badge", badge.id, job_id="backfill-again")
    run_jobs()
    db.session.rollback()
    assert all_grants() == first


def test_a_scoring_batch_is_followed_by_grants_for_the_people_it_touched(store, run_jobs):
    badges.create_badge(None, SHARES)
    db.session.commit()
    run_jobs()  # the backfill: nobody has shared yet
    someone = EmployeeFactory(opted_in=True)
    bystander = EmployeeFactory(opted_in=True)
    now = utcnow()
    event(someone, at=now - timedelta(hours=2))
    event(someone, at=now - timedelta(hours=1))
    event(bystander, kind=EventKind.CLICK, at=now - timedelta(hours=1))
    db.session.commit()
    enqueue("app.jobs.settle_points", job_id="settle-now", queue_name="scoring")
    run_jobs()  # scoring, then the badge job it queued for the people it touched
    db.session.rollback()
    assert all_grants() == [(someone.id, Level.BRONZE, now - timedelta(hours=1), False)]
    finished = queue("default").finished_job_registry.get_job_ids()
    assert any(job_id.startswith("evaluate-badges-") for job_id in finished)


def test_the_evaluation_job_run_twice_grants_once(ctx, run_jobs):
    CompanySettingsFactory()
    badges.create_badge(None, SHARES)
    someone = EmployeeFactory(opted_in=True)
    for n in range(3):
        EventFactory(employee_id=someone.id, occurred_at=utcnow() - timedelta(days=n))
    db.session.commit()
    queue("default").empty()
    for attempt in range(2):
        enqueue("app.jobs.evaluate_badges", str(someone.id), job_id=f"evaluate-{attempt}")
        run_jobs()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(BadgeGrant)) == 2


def test_the_nightly_pass_is_on_the_clock_and_grants_everyone(ctx, run_jobs):
    assert ("app.jobs.evaluate_all_badges", "default", 86400) in SCHEDULE
    CompanySettingsFactory()
    people = [EmployeeFactory(opted_in=True) for _ in range(3)]
    for who in people:
        for n in range(2):
            EventFactory(employee_id=who.id, occurred_at=utcnow() - timedelta(days=n + 1))
    badges.create_badge(None, SHARES)
    db.session.commit()
    queue("default").empty()  # leave it to the nightly pass
    enqueued = enqueue_due(86400 * 20_000 + 5, {})
    assert "evaluate-all-badges-86400-20000" in enqueued
    run_jobs()
    db.session.rollback()
    assert {g[0] for g in all_grants()} == {p.id for p in people}
