"""The points jobs, run through RQ: settling, syncing a member, rebuilding, recalculating."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import LedgerLine
from app.queue import enqueue
from app.services import participation, people
from app.services import rules as rules_service
from app.services.scoring import rebuild_boards
from scoring.participation import Presence
from scoring.vocabulary import EventKind
from tests.factories import EmployeeFactory, GuidelineVersionFactory
from tests.integration.scoring_support import COMPANY, T0, event


def settle(run_jobs, key="now"):
    enqueue("app.jobs.settle_points", job_id=f"settle-{key}", queue_name="scoring")
    run_jobs()


def test_settling_through_rq_twice_gives_the_same_ledger_and_boards(store, run_jobs):
    alice = EmployeeFactory(opted_in=True)
    event(alice)
    event(alice, EventKind.CLICK, at=T0 + timedelta(minutes=1))
    settle(run_jobs, "first")
    board = store.scores(COMPANY)
    settle(run_jobs, "second")
    assert db.session.scalar(select(func.count()).select_from(LedgerLine)) == 2
    assert store.scores(COMPANY) == board
    assert board[alice.id][0] == 6


def test_opting_out_or_hiding_takes_people_off_the_boards_and_back(store, run_jobs):
    GuidelineVersionFactory()
    alice, bob = EmployeeFactory(opted_in=True), EmployeeFactory(opted_in=True)
    event(alice)
    event(bob, EventKind.CLICK)
    settle(run_jobs)
    participation.opt_out(alice)
    db.session.commit()
    run_jobs()
    assert [r.member_id for r in store.page(COMPANY).rows] == [bob.id]
    participation.opt_in(alice, participation.current_guidelines().id)
    db.session.commit()
    run_jobs()
    assert [r.member_id for r in store.page(COMPANY).rows] == [alice.id, bob.id]
    participation.update_presence(bob, Presence.HIDDEN, None)
    db.session.commit()
    run_jobs()
    assert [r.member_id for r in store.page(COMPANY).rows] == [alice.id]


def test_deactivated_people_leave_the_boards_as_a_rebuild_would_leave_them(store, run_jobs):
    alice, bob = EmployeeFactory(opted_in=True), EmployeeFactory(opted_in=True)
    event(alice)
    event(bob, EventKind.CLICK)
    settle(run_jobs)
    people.update_employee(None, alice, {"active": False})
    db.session.commit()
    run_jobs()
    live = {key: store.scores(key) for key in store.board_keys()}
    assert alice.id not in live[COMPANY]
    store.remember_names({bob.id: "A name gone stale"})
    rebuild_boards(store)
    assert {key: store.scores(key) for key in store.board_keys()} == live
    assert store.view(COMPANY, names=True).names == {}  # names are read afresh
    people.update_employee(None, alice, {"active": True})
    db.session.commit()
    run_jobs()
    assert [r.member_id for r in store.page(COMPANY).rows] == [alice.id, bob.id]


def test_a_change_rolled_back_sends_no_job(store, run_jobs):
    alice = EmployeeFactory(opted_in=True)
    event(alice)
    settle(run_jobs)
    participation.opt_out(alice)
    db.session.rollback()
    run_jobs()
    assert [r.member_id for r in store.page(COMPANY).rows] == [alice.id]


def test_rebuild_and_recalculate_jobs(store, run_jobs):
    alice = EmployeeFactory(opted_in=True)
    for minute in range(4):
        event(alice, at=T0 + timedelta(minutes=minute))
    settle(run_jobs)
    live = store.scores(COMPANY)
    store.redis.delete(*store.board_keys())
    enqueue("app.jobs.rebuild_boards", job_id="rebuild-1", queue_name="scoring")
    run_jobs()
    assert store.scores(COMPANY) == live

    sharing = next(v.rule for v in rules_service.all_versions() if v.rule.name == "Sharing")
    rules_service.edit_rule(
        None, sharing, {"points": 8, "cap": None}, effective_at=T0 - timedelta(days=1)
    )
    db.session.commit()
    since = (T0 - timedelta(days=1)).isoformat()
    enqueue("app.jobs.recalculate_points", since, job_id="recalc-1", queue_name="scoring")
    enqueue("app.jobs.recalculate_points", since, job_id="recalc-2", queue_name="scoring")
    run_jobs()
    assert store.scores(COMPANY)[alice.id][0] == 32
    assert db.session.scalar(select(func.sum(LedgerLine.points))) == 32
