"""Events to ledger to boards, through the real database and Redis."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import func, insert, select

from app.boards import BoardStore, board_key
from app.extensions import db, get_redis
from app.jobs import settle
from app.models import CapUsage, Event, LedgerLine, Role
from app.services import rules as rules_service
from app.services.scoring import (
    Busy,
    apply_pending_lines,
    rebuild_boards,
    restore_member,
    score_pending_events,
    scoring_lock,
)
from scoring.participation import Presence
from scoring.vocabulary import Channel, EventKind
from scoring.windows import Window
from tests.factories import (
    ContentItemFactory,
    ContentTagFactory,
    EmployeeFactory,
    TeamFactory,
)
from tests.integration.scoring_support import COMPANY, NOW, T0, event, run_pipeline


def test_events_become_ledger_lines_with_reasons_and_reach_the_boards(store):
    alice = EmployeeFactory(opted_in=True)
    event(alice, EventKind.SHARE)
    event(alice, EventKind.CLICK, at=T0 + timedelta(minutes=5))
    assert run_pipeline(store) == (2, 2)
    lines = db.session.scalars(select(LedgerLine).order_by(LedgerLine.id)).all()
    assert [(line.points, line.reason) for line in lines] == [
        (5, "Sharing: sharing content on LinkedIn"),
        (1, "Unique clicks: a unique click on your link on LinkedIn"),
    ]
    assert lines[0].rule_version.rule.name == "Sharing"
    assert store.standing(COMPANY, alice.id).points == 6


def test_running_the_pipeline_again_changes_nothing(store):
    alice = EmployeeFactory(opted_in=True)
    event(alice)
    run_pipeline(store)
    before = store.scores(COMPANY)
    assert run_pipeline(store) == (0, 0)
    assert db.session.scalar(select(func.count()).select_from(LedgerLine)) == 1
    assert store.scores(COMPANY) == before


def test_caps_hold_across_batches_and_write_zero_lines(store):
    alice = EmployeeFactory(opted_in=True)
    for minute in range(4):  # Sharing: 5 points, 15 a day
        event(alice, at=T0 + timedelta(minutes=minute))
        run_pipeline(store)
    points = db.session.scalars(select(LedgerLine.points).order_by(LedgerLine.id)).all()
    assert points == [5, 5, 5, 0]
    capped = db.session.scalars(select(LedgerLine.capped).order_by(LedgerLine.id)).all()
    assert capped == [False, False, False, True]
    usage = db.session.scalar(select(CapUsage.used).where(CapUsage.employee_id == alice.id))
    assert usage == 15


def test_batches_take_the_earliest_events_whatever_order_they_arrived_in(store):
    alice = EmployeeFactory(opted_in=True)
    # Queued latest first: the share that breaks the daily cap has the lowest id.
    for minute in reversed(range(4)):
        event(alice, at=T0 + timedelta(minutes=minute))
    while score_pending_events(batch_size=1, now=NOW):
        db.session.commit()
    lines = db.session.execute(select(LedgerLine.occurred_at, LedgerLine.points)).all()
    assert [points for _at, points in sorted(lines)] == [5, 5, 5, 0]


def test_an_event_claimed_elsewhere_is_not_scored_again(store):
    alice = EmployeeFactory(opted_in=True)
    claimed = event(alice, at=T0)
    event(alice, at=T0 + timedelta(minutes=1))
    claimed.scored_at = NOW  # another run took it and is scoring it
    db.session.commit()
    assert run_pipeline(store) == (1, 1)
    assert db.session.scalars(select(LedgerLine.event_id)).all() == [claimed.id + 1]


def test_lines_stay_waiting_when_the_boards_cannot_be_reached(store, tmp_path):
    alice = EmployeeFactory(opted_in=True)
    event(alice)
    score_pending_events(now=NOW)
    db.session.commit()
    nowhere = str(tmp_path / "none.sock")
    unreachable = BoardStore(redis.Redis(unix_socket_path=nowhere, retry=Retry(NoBackoff(), 0)))
    with pytest.raises(redis.ConnectionError):
        apply_pending_lines(unreachable)
    db.session.rollback()
    assert db.session.scalar(select(LedgerLine.boards_applied)) is False
    assert apply_pending_lines(store) == 1
    db.session.commit()
    assert store.standing(COMPANY, alice.id).points == 5


def test_settling_many_batches_puts_every_line_on_the_boards_once(store):
    team = TeamFactory()
    people = [EmployeeFactory(opted_in=True, team=team) for _ in range(3)]
    # Two and a half scoring batches of clicks over two days, in one insert.
    db.session.execute(
        insert(Event),
        [
            {
                "kind": EventKind.CLICK,
                "natural_key": f"click:{n}",
                "employee_id": people[n % 3].id,
                "team_id": team.id,
                "channel": Channel.LINKEDIN,
                "occurred_at": T0 + timedelta(minutes=n),
                "details": {},
            }
            for n in range(2500)
        ],
    )
    db.session.commit()
    assert settle(store) == {"events": 2500, "lines": 2500}
    live = {key: store.scores(key) for key in store.board_keys()}
    rebuild_boards(store)
    assert {key: store.scores(key) for key in store.board_keys()} == live
    assert settle(store) == {"events": 0, "lines": 0}


def test_lines_stay_waiting_when_the_boards_cannot_be_reached_while_settling(store, tmp_path):
    alice = EmployeeFactory(opted_in=True)
    event(alice)
    nowhere = str(tmp_path / "none.sock")
    unreachable = BoardStore(redis.Redis(unix_socket_path=nowhere, retry=Retry(NoBackoff(), 0)))
    with pytest.raises(redis.ConnectionError):
        settle(unreachable)
    db.session.rollback()
    assert db.session.execute(select(LedgerLine.points, LedgerLine.boards_applied)).all() == [
        (5, False)
    ]
    assert settle(store) == {"events": 0, "lines": 1}
    assert store.standing(COMPANY, alice.id).points == 5


def test_rules_on_tags_and_campaigns_see_each_events_content(store):
    alice = EmployeeFactory(opted_in=True)
    jobs = ContentItemFactory(campaign_hashtag="#careers")
    ContentTagFactory(content_id=jobs.id, tag="job")
    ContentTagFactory(content_id=jobs.id, tag="hiring")
    untagged = ContentItemFactory()
    for name, condition in (
        ("Job posts", {"tags": ["job"]}),
        ("Careers", {"campaign": "#careers"}),
    ):
        rules_service.create_rule(
            None,
            name=name,
            event_kind=EventKind.SHARE,
            points=2,
            effective_at=T0 - timedelta(days=1),
            **condition,
        )
    db.session.commit()
    tagged_share = event(alice, at=T0, content_id=jobs.id)
    event(alice, at=T0 + timedelta(minutes=1), content_id=untagged.id)
    run_pipeline(store)
    extra = db.session.execute(
        select(LedgerLine.event_id, LedgerLine.reason).where(LedgerLine.points == 2)
    ).all()
    assert sorted(reason.split(":")[0] for _event, reason in extra) == ["Careers", "Job posts"]
    assert {event_id for event_id, _reason in extra} == {tagged_share.id}


def test_points_stay_with_the_team_of_the_moment(store):
    old_team, new_team = TeamFactory(), TeamFactory()
    alice = EmployeeFactory(opted_in=True, team=old_team)
    event(alice)
    run_pipeline(store)
    alice.team = new_team
    db.session.commit()
    event(alice, at=T0 + timedelta(hours=2))
    run_pipeline(store)
    assert store.standing(board_key(f"team:{old_team.id}", "all"), alice.id).points == 5
    assert store.standing(board_key(f"team:{new_team.id}", "all"), alice.id).points == 5


def test_hidden_people_leave_no_gap_and_come_back_from_the_ledger(store):
    first, hidden, third = (EmployeeFactory(opted_in=True) for _ in range(3))
    event(first, at=T0)
    event(first, EventKind.CLICK, at=T0 + timedelta(minutes=1))
    event(hidden, at=T0)
    event(third, EventKind.CLICK, at=T0)
    hidden.presence = Presence.HIDDEN
    db.session.commit()
    run_pipeline(store)
    assert [(r.rank, r.member_id) for r in store.page(COMPANY).rows] == [
        (1, first.id),
        (2, third.id),
    ]
    hidden.presence = Presence.NAMED
    db.session.commit()
    restore_member(store, hidden.id)
    assert [r.member_id for r in store.page(COMPANY).rows] == [first.id, hidden.id, third.id]


def test_a_rebuild_equals_the_live_boards(store):
    team = TeamFactory()
    people = [EmployeeFactory(opted_in=True, team=team) for _ in range(5)]
    for i, person in enumerate(people):
        for j in range(i + 1):
            event(
                person,
                EventKind.CLICK if j % 2 else EventKind.SHARE,
                at=T0 + timedelta(days=j, minutes=i),
            )
    run_pipeline(store)
    live = {key: store.scores(key) for key in store.board_keys()}
    assert len(live) == 6  # company and team, each all time, month and week
    get_redis().delete(*live)  # lose every board
    rebuild_boards(store)
    assert {key: store.scores(key) for key in store.board_keys()} == live
    assert run_pipeline(store) == (0, 0)  # nothing is applied twice afterwards


def test_a_rule_edit_applies_from_its_effective_time(store):
    alice = EmployeeFactory(opted_in=True)
    sharing = rules_service.all_versions()[0].rule
    rules_service.edit_rule(
        None, sharing, {"points": 8, "cap": None}, effective_at=T0 + timedelta(hours=1)
    )
    db.session.commit()
    event(alice, at=T0)
    event(alice, at=T0 + timedelta(hours=1))
    run_pipeline(store)
    assert db.session.scalars(select(LedgerLine.points).order_by(LedgerLine.id)).all() == [5, 8]


def test_events_in_the_future_wait(store):
    alice = EmployeeFactory(opted_in=True)
    event(alice, at=NOW + timedelta(hours=1))
    assert run_pipeline(store) == (0, 0)


def test_only_one_scoring_job_runs_at_a_time(store):
    with scoring_lock(), pytest.raises(Busy), scoring_lock():
        pass


def test_a_run_whose_lease_was_lost_scores_no_further_batch(store):
    """A holder that stalled past its lease may have a successor at work: it stops."""
    alice = EmployeeFactory(opted_in=True)
    event(alice)
    db.session.commit()
    with scoring_lock() as lease:
        lease.lost = True
        assert settle(store, max_batches=5, lease=lease)["events"] == 0
    assert db.session.scalar(select(func.count()).select_from(LedgerLine)) == 0
    with scoring_lock() as lease:
        assert settle(store, max_batches=5, lease=lease)["events"] == 1


def test_unused_rule_kinds_do_not_award(store):
    alice = EmployeeFactory(opted_in=True, role=Role.EMPLOYEE)
    event(alice, EventKind.REFERRAL_HIRED)
    run_pipeline(store)
    assert db.session.scalar(select(LedgerLine.points)) == 200
    assert rules_service.DEFAULT_RULES[0]["cap_window"] is Window.DAY
