"""The ranks kept as each company week began: written by the clock's job through RQ,
once a week, the same after a Redis loss, and by the boards' rules."""

from __future__ import annotations

from datetime import timedelta

from app.extensions import db, get_redis
from app.models import utcnow
from app.queue import enqueue
from app.services import home_ranks
from scoring.participation import Presence
from scoring.windows import Window, window_start
from tests.factories import CompanySettingsFactory, EmployeeFactory, LedgerLineFactory
from tests.web.points_support import ZONE


def _line(employee, points: int, at) -> None:
    LedgerLineFactory(
        employee_id=employee.id,
        team_id=employee.team_id,
        points=points,
        reason="Welcome bonus",
        occurred_at=at,
    )


def _kept() -> dict[str, dict[bytes, bytes]]:
    redis = get_redis()
    return {
        key.decode(): redis.hgetall(key) if redis.type(key) == b"hash" else redis.get(key)
        for key in redis.scan_iter(match="chorus:home-ranks:*")
    }


def _run_job(run_jobs, tag: str) -> None:
    enqueue("app.jobs.snapshot_home_ranks", job_id=f"home-ranks-{tag}", queue_name="default")
    db.session.commit()
    run_jobs()


def test_the_job_keeps_the_weeks_start_once_and_again_after_a_loss(ctx, run_jobs):
    CompanySettingsFactory(time_zone="Europe/Berlin")
    now = utcnow()
    began = window_start(Window.WEEK, now, ZONE)
    before = began - timedelta(days=2)
    peer, me = EmployeeFactory(opted_in=True), EmployeeFactory(opted_in=True)
    other_team = EmployeeFactory(opted_in=True)
    hidden = EmployeeFactory(opted_in=True, presence=Presence.HIDDEN)
    _line(other_team, 500, before)
    _line(hidden, 400, before)  # left off before ranking: no gap above the others
    _line(me, 30, before)
    _line(peer, 30, before - timedelta(days=1))  # a tie, whoever was first (own team each)
    _line(me, 1000, began + timedelta(minutes=1))  # this week: not in the week's start
    db.session.commit()
    ids = (me.id, peer.id, other_team.id, hidden.id)

    _run_job(run_jobs, "1")
    kept = _kept()
    done, ranks = home_ranks.ranks_when_week_began(
        me.id, ["company:all_time", "company:week", f"team:{me.team_id}:all_time"], now
    )
    assert done
    assert ranks == {"company:all_time": 2, "company:week": 2, f"team:{me.team_id}:all_time": 1}
    everyone = home_ranks.ranks_when_week_began(ids[1], ["company:all_time"], now)[1]
    assert everyone == {"company:all_time": 2}  # the tie shares second place
    assert home_ranks.ranks_when_week_began(ids[3], ["company:all_time"], now)[1] == {
        "company:all_time": None
    }

    _line(me, 5, before)  # a late line for last week: a second run leaves the week as kept
    db.session.commit()
    _run_job(run_jobs, "2")
    assert _kept() == kept

    for key in get_redis().scan_iter(match="chorus:home-ranks:*"):
        get_redis().delete(key)  # Redis lost its data: no change is claimed meanwhile
    assert home_ranks.ranks_when_week_began(me.id, ["company:all_time"], now)[0] is False
    _run_job(run_jobs, "3")  # the next run writes the week's start again, from the ledger
    done, ranks = home_ranks.ranks_when_week_began(me.id, ["company:all_time"], now)
    assert done
    assert ranks == {"company:all_time": 2}
    # The late line is in now: 35 ahead of the peer's 30, no more a tie.
    assert home_ranks.ranks_when_week_began(ids[1], ["company:all_time"], now)[1] == {
        "company:all_time": 3
    }
