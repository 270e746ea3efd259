"""Boards rebuild themselves when Redis comes back empty."""

from __future__ import annotations

import time

from app.boards import BUILT_KEY, names_key
from app.extensions import db, get_redis
from app.jobs import enqueue_due
from app.queue import queue
from app.services.scoring import ensure_boards_built
from tests.factories import EmployeeFactory, TeamFactory
from tests.integration.scoring_support import event


def _tick_and_work(run_jobs) -> None:
    """One tick of the clock, then the workers run what it queued (and what that
    queued in turn)."""
    enqueue_due(time.time(), {})
    db.session.commit()
    run_jobs()


def _everything(store) -> dict:
    return {key: store.scores(key) for key in store.board_keys()}


def test_after_redis_lost_its_data_the_next_settle_rebuilds_the_boards(store, run_jobs):
    team = TeamFactory()
    alice, bob = (EmployeeFactory(opted_in=True, team=team) for _ in range(2))
    event(alice)
    event(bob, key="bob-1")
    db.session.commit()
    _tick_and_work(run_jobs)
    boards = _everything(store)
    assert boards
    assert get_redis().exists(BUILT_KEY)

    get_redis().flushdb()  # a Redis restarted without its data
    assert _everything(store) == {}
    _tick_and_work(run_jobs)
    assert _everything(store) == boards
    assert get_redis().exists(BUILT_KEY)


def test_a_ledger_with_nothing_on_the_boards_needs_no_rebuild(store):
    assert ensure_boards_built(store) is True
    assert get_redis().exists(BUILT_KEY)
    assert queue("scoring").count == 0


def test_clocks_and_runs_queue_one_rebuild_per_hour(store, run_jobs):
    event(EmployeeFactory(opted_in=True))
    db.session.commit()
    _tick_and_work(run_jobs)
    get_redis().delete(BUILT_KEY)
    now = 1_800_000_000.0
    assert ensure_boards_built(store, now) is False
    assert ensure_boards_built(store, now + 60) is False  # another settle, another clock
    assert queue("scoring").job_ids == [f"rebuild-boards-after-loss-{int(now // 3600)}"]


def test_boards_of_the_earlier_encoding_are_rebuilt_by_the_first_settle(store, run_jobs):
    """Boards written before members had a fixed width and scores listed ascending (no
    marker yet) are replaced as a whole, names and applied-line memory included."""
    people = [EmployeeFactory(id=member, opted_in=True) for member in (8, 9, 10)]
    for person in people:
        event(person, key=f"share-{person.id}")
    db.session.commit()
    _tick_and_work(run_jobs)
    boards = _everything(store)
    connection = get_redis()
    company = store.key("all")
    connection.flushdb()
    old_score = 5 * 2**32 + (2**32 - 1 - 1000)  # points * 2**32 + (limit - seconds)
    connection.zadd(company, {"8": old_score, "9": old_score, "10": old_score})
    connection.hset(names_key(), mapping={"8": "Old Name"})
    _tick_and_work(run_jobs)
    assert _everything(store) == boards
    assert store.order(company) == [8, 9, 10]
    assert connection.hget(names_key(), "8") is None
