"""Settling share challenges: placings, digest and prizes written once, whether the job
runs late, twice, through RQ, or on two workers at once (PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import timedelta
from fractions import Fraction

import pytest
from sqlalchemy import func, select, update

from app.db import on_postgresql
from app.extensions import db
from app.jobs import settle_challenge as settle_job
from app.models import (
    BadgeGrant,
    Challenge,
    ChallengeAward,
    ChallengePlacing,
    LedgerLine,
    LineKind,
    Redemption,
    RedemptionState,
    Reward,
    utcnow,
)
from app.queue import enqueue
from app.services import challenge_settlement as settlement
from app.services import challenge_standings as standings
from scoring import challenges as sc
from scoring.badges import Level, challenge_period
from scoring.challenges import ChallengeState, Metric, Mode, ScopeKind
from scoring.participation import Presence
from scoring.vocabulary import Channel, EventKind
from tests.factories import (
    BadgeFactory,
    ChallengeFactory,
    ContentItemFactory,
    ContentTagFactory,
    EmployeeFactory,
    EventFactory,
    LedgerLineFactory,
    RewardFactory,
    TeamFactory,
)


def person(**kw):
    kw.setdefault("opted_in", True)
    return EmployeeFactory(team=TeamFactory(), **kw)


def share(employee, at, arrived=None, scored=True, kind=EventKind.SHARE):
    return EventFactory(
        kind=kind,
        employee_id=employee.id,
        team_id=employee.team_id,
        occurred_at=at,
        created_at=arrived or at,
        scored_at=at if scored else None,
    )


def finished(**kw) -> Challenge:
    """A challenge that ended three days ago: settlement is due (24 h lateness)."""
    now = utcnow()
    badge = BadgeFactory()
    reward = RewardFactory(stock=5)
    kw.setdefault(
        "prizes",
        [
            {"kind": "points", "value": 50, "place": 1},
            {"kind": "badge", "value": badge.id, "place": 1},
            {"kind": "reward", "value": reward.id, "place": 1},
            {"kind": "points", "value": 5, "place": None},
        ],
    )
    return ChallengeFactory(
        starts_at=now - timedelta(days=6), ends_at=now - timedelta(days=3), minimum=1, **kw
    )


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def history(c):
    ann, bob, hidden = person(name="Ann"), person(name="Bob"), person(presence=Presence.HIDDEN)
    at = c.starts_at + timedelta(hours=1)
    for i in range(3):
        share(ann, at + timedelta(seconds=i))
    share(bob, at)
    share(hidden, at)
    return ann, bob, hidden


def test_settling_writes_placings_digest_and_prizes_once(ctx):
    c = finished()
    ann, bob, hidden = history(c)
    reward_id = c.prizes[2]["value"]
    assert settlement.settle_challenge(c.id) is True
    db.session.commit()
    c = db.session.get(Challenge, c.id)
    assert c.state is ChallengeState.SETTLED
    assert c.settled_at is not None
    assert settlement.verify_digest(c)
    placings = db.session.scalars(select(ChallengePlacing).order_by(ChallengePlacing.rank)).all()
    assert [(p.entrant_id, p.rank, p.points) for p in placings] == [(ann.id, 1, 3), (bob.id, 2, 1)]
    # ann: place 1 points, badge, reward, and the qualifier's points; bob and the hidden
    # person (who qualifies without a place) the qualifier's points
    assert count(ChallengeAward) == 6
    lines = db.session.execute(
        select(LedgerLine.employee_id, LedgerLine.points, LedgerLine.reason)
        .where(LedgerLine.kind == LineKind.PRIZE)
        .order_by(LedgerLine.employee_id, LedgerLine.points)
    ).all()
    assert [(e, p) for e, p, _ in lines] == sorted(
        [(ann.id, 5), (ann.id, 50), (bob.id, 5), (hidden.id, 5)]
    )
    assert f"Prize: {c.title}, place 1" in {r for _, _, r in lines}
    grant = db.session.scalars(select(BadgeGrant)).one()
    assert (grant.employee_id, grant.level, grant.period, grant.quiet) == (
        ann.id,
        Level.ONCE,
        challenge_period(c.id),
        False,
    )
    redemption = db.session.scalars(select(Redemption)).one()
    assert (redemption.employee_id, redemption.points, redemption.state) == (
        ann.id,
        0,
        RedemptionState.APPROVED,
    )
    assert db.session.get(Reward, reward_id).stock == 4

    # again, late: nothing more
    assert settlement.settle_challenge(c.id, utcnow() + timedelta(days=30)) is False
    db.session.commit()
    assert count(ChallengeAward) == 6
    assert count(LedgerLine, LedgerLine.kind == LineKind.PRIZE) == 4
    assert count(BadgeGrant) == 1
    assert count(Redemption) == 1
    assert db.session.get(Reward, reward_id).stock == 4

    # everyone sees the settled placings; the results reach the home page
    view = standings.view_challenge(c, bob)
    assert [(r.rank, r.name, r.points) for r in view.rows] == [(1, "Ann", 3), (2, "Bob", 1)]
    assert view.digest == c.digest
    assert view.mine.rank == 2
    [(result, mine, awards)] = standings.results_for(ann, utcnow() - timedelta(hours=1))
    assert result.id == c.id
    assert mine.rank == 1
    assert {a.prize_kind for a in awards} == {"points", "badge", "reward"}
    hidden_view = standings.view_challenge(c, hidden)
    assert hidden_view.mine.rank is None
    assert hidden_view.mine.points == 1


def test_a_changed_placing_fails_the_digest(ctx):
    c = finished(prizes=[])
    history(c)
    settlement.settle_challenge(c.id)
    db.session.commit()
    assert settlement.verify_digest(c)
    db.session.execute(update(ChallengePlacing).where(ChallengePlacing.rank == 2).values(points=9))
    db.session.commit()
    assert not settlement.verify_digest(db.session.get(Challenge, c.id))


def test_not_due_cancelled_or_unscored_is_not_settled(ctx):
    now = utcnow()
    running = ChallengeFactory(starts_at=now - timedelta(days=2), ends_at=now - timedelta(hours=2))
    assert settlement.settle_challenge(running.id) is False  # inside the lateness window
    cancelled = finished(state=ChallengeState.CANCELLED)
    assert settlement.settle_challenge(cancelled.id) is False
    points = finished(metric=Metric.POINTS, prizes=[])
    waiting = share(person(), points.starts_at + timedelta(hours=1), scored=False)
    assert settlement.settle_challenge(points.id) is False
    assert points.id in settlement.settle_due(now)
    assert cancelled.id not in settlement.settle_due(now)
    waiting.scored_at = now
    db.session.commit()
    assert settlement.settle_challenge(points.id) is True
    db.session.commit()
    assert db.session.get(Challenge, cancelled.id).state is ChallengeState.CANCELLED
    assert db.session.get(Challenge, running.id).state is ChallengeState.OPEN


def test_an_event_arriving_after_the_lateness_window_does_not_count(ctx):
    c = finished(prizes=[], metric=Metric.CLICKS)
    ann, bob = person(name="Ann"), person(name="Bob")
    at = c.ends_at - timedelta(hours=1)
    share(ann, at, arrived=c.ends_at + timedelta(hours=23, minutes=59), kind=EventKind.CLICK)
    share(bob, at, arrived=c.ends_at + timedelta(hours=24), kind=EventKind.CLICK)
    assert settlement.settle_challenge(c.id)
    db.session.commit()
    assert db.session.execute(
        select(ChallengePlacing.entrant_id, ChallengePlacing.points)
    ).all() == [(ann.id, 1)]


def test_the_sweep_freezes_and_settles(ctx):
    now = utcnow()
    freezing = ChallengeFactory(
        starts_at=now - timedelta(days=1), ends_at=now + timedelta(hours=2), freeze_hours=3
    )
    due = finished(prizes=[])
    history(due)
    later = ChallengeFactory(starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=2))
    assert sorted(settlement.freeze_due(now)) == sorted([freezing.id, due.id])  # ended: frozen
    assert settlement.freeze_due(now) == []  # once
    assert db.session.get(Challenge, later.id).state is ChallengeState.OPEN
    assert settlement.settle_due(now) == [due.id]


def test_the_job_through_rq_twice_gives_prizes_once(app, run_jobs):
    with app.app_context():
        c = finished()
        history(c)
        challenge_id = c.id
        assert enqueue("app.jobs.settle_challenge", challenge_id, job_id="settle-a")
        assert enqueue("app.jobs.settle_challenge", challenge_id, job_id="settle-b")
        assert enqueue("app.jobs.settle_challenges", job_id="sweep-a")
    run_jobs()
    with app.app_context():
        assert db.session.get(Challenge, challenge_id).state is ChallengeState.SETTLED
        assert count(ChallengeAward) == 6
        assert count(LedgerLine, LedgerLine.kind == LineKind.PRIZE) == 4
        assert count(Redemption) == 1
        assert count(BadgeGrant) == 1


@pytest.mark.parametrize("workers", [2, 4])
def test_workers_settling_at_once_give_prizes_once(app, workers):
    with app.app_context():
        if not on_postgresql():
            pytest.skip("concurrent writers: PostgreSQL (SQLite has one writer)")
        c = finished()
        history(c)
        challenge_id = c.id
    barrier = threading.Barrier(workers)
    results: list[bool] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with app.app_context():
                barrier.wait()
                results.append(settle_job(challenge_id))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [False] * (workers - 1) + [True]
    with app.app_context():
        assert count(ChallengeAward) == 6
        assert count(LedgerLine, LedgerLine.kind == LineKind.PRIZE) == 4
        assert count(Redemption) == 1
        assert count(BadgeGrant) == 1
        assert count(ChallengePlacing) == 2
        assert db.session.get(Reward, c.prizes[2]["value"]).stock == 4


def test_team_mode_settles_per_active_member_and_every_active_member_wins(ctx):
    small, big = TeamFactory(name="Small"), TeamFactory(name="Big")
    c = finished(
        mode=Mode.TEAM,
        scope=ScopeKind.TEAM_VS_TEAM,
        teams=[small, big],
        prizes=[{"kind": "points", "value": 30, "place": 1}],
    )
    smalls = [EmployeeFactory(team=small, opted_in=True) for _ in range(2)]
    bigs = [EmployeeFactory(team=big, opted_in=True) for _ in range(5)]
    EmployeeFactory(team=small, opted_in=True, presence=Presence.HIDDEN)  # not active
    at = c.starts_at + timedelta(hours=1)
    for i in range(4):
        share(smalls[i % 2], at + timedelta(seconds=i))
    for i in range(6):
        share(bigs[i % 5], at + timedelta(seconds=i))
    assert settlement.settle_challenge(c.id)
    db.session.commit()
    rows = db.session.execute(
        select(
            ChallengePlacing.entrant_id,
            ChallengePlacing.rank,
            ChallengePlacing.points,
            ChallengePlacing.score_numerator,
            ChallengePlacing.score_denominator,
            ChallengePlacing.active_members,
        ).order_by(ChallengePlacing.rank)
    ).all()
    assert [tuple(r) for r in rows] == [(small.id, 1, 4, 2, 1, 2), (big.id, 2, 6, 6, 5, 5)]
    winners = set(
        db.session.scalars(select(LedgerLine.employee_id).where(LedgerLine.kind == LineKind.PRIZE))
    )
    assert winners == {p.id for p in smalls}
    assert settlement.verify_digest(db.session.get(Challenge, c.id))
    view = standings.view_challenge(db.session.get(Challenge, c.id), bigs[0])
    assert [(r.name, r.score) for r in view.rows] == [
        ("Small", Fraction(2)),
        ("Big", Fraction(6, 5)),
    ]
    assert view.rows[1].is_my_team


def test_a_reward_out_of_stock_is_still_awarded_with_a_note_for_hr(ctx):
    reward = RewardFactory(stock=0)
    c = finished(prizes=[{"kind": "reward", "value": reward.id, "place": 1}])
    ann, _bob, _hidden = history(c)
    assert settlement.settle_challenge(c.id)
    db.session.commit()
    redemption = db.session.scalars(select(Redemption)).one()
    assert redemption.employee_id == ann.id
    assert redemption.state is RedemptionState.APPROVED
    assert "out of stock" in redemption.decision_note
    assert db.session.get(Reward, reward.id).stock == 0
    assert count(ChallengeAward) == 1


def test_a_reward_for_every_qualifier_gives_its_units_in_rank_order_then_notes(ctx):
    reward, plenty = RewardFactory(stock=1), RewardFactory(stock=None)
    c = finished(
        prizes=[
            {"kind": "reward", "value": reward.id, "place": None},
            {"kind": "reward", "value": plenty.id, "place": 1},
        ]
    )
    ann, bob, hidden = history(c)  # ann first, bob second, hidden qualifies unranked
    assert settlement.settle_challenge(c.id)
    db.session.commit()
    assert settlement.pay_awards(  # run again, as a late or second run would
        c,
        scoring_awards(c),
        utcnow(),
    )
    db.session.commit()
    notes = {
        (r.reward_id, r.employee_id): r.decision_note
        for r in db.session.scalars(select(Redemption))
    }
    assert len(notes) == 4
    assert "out of stock" not in notes[(reward.id, ann.id)]
    assert "out of stock" in notes[(reward.id, bob.id)]
    assert "out of stock" in notes[(reward.id, hidden.id)]
    assert "out of stock" not in notes[(plenty.id, ann.id)]
    assert db.session.get(Reward, reward.id).stock == 0
    assert db.session.get(Reward, plenty.id).stock is None


def scoring_awards(c: Challenge):
    """The awards settlement wrote for a challenge, as ``scoring.challenges.Award``."""
    return [
        sc.Award(
            a.award_key,
            a.employee_id,
            sc.Prize(sc.PrizeKind(a.prize_kind), a.value, a.place),
            a.place,
        )
        for a in db.session.scalars(
            select(ChallengeAward).where(ChallengeAward.challenge_id == c.id)
        )
    ]


# Totals summed by SQL against the per-event path ---------------------------------------


def per_event_path(c: Challenge, cutoff):
    """The standings the pure functions give over every event read one by one."""
    schedule = standings.schedule_of(c)
    items = sc.contributions(
        standings.load_events(c, cutoff),
        schedule,
        c.metric,
        standings.scope_of(c),
        standings.filters_of(c),
        cutoff,
    )
    return sc.person_totals(items, schedule.start), sc.pair_totals(items, schedule.start), items


@pytest.mark.parametrize(
    ("metric", "mode", "scoped", "filters"),
    [
        (Metric.POINTS, Mode.INDIVIDUAL, False, {}),
        (Metric.POINTS, Mode.TEAM, True, {}),
        (Metric.POINTS, Mode.INDIVIDUAL, True, {"tags": ["launch"]}),
        (Metric.POINTS, Mode.INDIVIDUAL, False, {"channels": ["x"]}),
        (Metric.SHARES, Mode.INDIVIDUAL, False, {"content_ids": True}),
        (Metric.SHARES, Mode.TEAM, False, {"tags": ["launch", "hiring"], "channels": ["x"]}),
        (Metric.CLICKS, Mode.INDIVIDUAL, True, {}),
        (Metric.REFERRAL_STAGES, Mode.INDIVIDUAL, False, {}),
    ],
)
def test_totals_summed_by_sql_equal_the_per_event_path(ctx, metric, mode, scoped, filters):
    in_a, in_b, outside = TeamFactory(), TeamFactory(), TeamFactory()
    tagged, other = ContentItemFactory(), ContentItemFactory()
    ContentTagFactory(content_id=tagged.id, tag="launch")
    ContentTagFactory(content_id=other.id, tag="news")
    if filters.get("content_ids"):
        filters = {**filters, "content_ids": [tagged.id]}
    c = finished(
        metric=metric,
        mode=mode,
        scope=ScopeKind.TEAMS if scoped else ScopeKind.COMPANY,
        teams=[in_a, in_b] if scoped else [],
        **filters,
    )
    people = [EmployeeFactory(team=team, opted_in=True) for team in (in_a, in_b, outside)] * 2
    start, end = c.starts_at, c.ends_at
    settle_at = standings.schedule_of(c).settle_at
    kinds = [EventKind.SHARE, EventKind.CLICK, EventKind.REFERRAL_HIRED]
    moments = [
        (start - timedelta(minutes=1), None),  # before the start
        (start, None),
        (start + timedelta(hours=5), None),
        (start + timedelta(hours=5), settle_at),  # arrived too late
        (end - timedelta(hours=2), end - timedelta(minutes=30)),  # inside the freeze
        (end - timedelta(seconds=1), settle_at - timedelta(seconds=1)),  # just in time
        (end, None),  # after the end
    ]
    lines = [[10], [5, -5], [], [3, 4], [0], [-2]]  # zero-valued events keep the tie time
    n = 0
    for i, who in enumerate(people):
        for j, (at, arrived) in enumerate(moments):
            n += 1
            event = EventFactory(
                kind=kinds[(i + j) % 3],
                employee_id=who.id,
                team_id=[in_a.id, in_b.id, outside.id, None][(i + j) % 4],
                content_id=[tagged.id, other.id, None][(i // 3 + j) % 3],
                channel=[Channel.X, Channel.LINKEDIN, None][(i // 3 + j + j // 4) % 3],
                occurred_at=at,
                created_at=arrived or at,
                scored_at=at,
            )
            for k, points in enumerate(lines[(i + j) % len(lines)]):
                LedgerLineFactory(
                    line_key=f"award:{n}:{k}",
                    kind=LineKind.COMPENSATION if points < 0 else LineKind.AWARD,
                    employee_id=who.id,
                    event_id=event.id,
                    points=points,
                    occurred_at=at,
                )
            LedgerLineFactory(  # never counted: not an award or compensation
                line_key=f"adjust:{n}", employee_id=who.id, event_id=event.id, points=100
            )
    db.session.flush()
    schedule = standings.schedule_of(c)
    for cutoff in (
        sc.final_cutoff(schedule),
        sc.Cutoff(schedule.freeze_start, schedule.freeze_start),
    ):
        totals, pairs, items = per_event_path(c, cutoff)
        assert items or cutoff != sc.final_cutoff(schedule), "the history has counting events"
        computed = standings.compute(c, cutoff)
        assert computed.totals == totals
        if mode is Mode.TEAM:
            assert computed.pairs == pairs
            tallies = sc.team_tallies(items, computed.members, schedule.start)
            assert computed.placings == sc.team_standings(tallies, c.minimum)
        else:
            ranked = {pid for pid, p in computed.people.items() if p.ranked}
            assert computed.placings == sc.individual_standings(totals, ranked, c.minimum)
        mine = standings.compute(c, cutoff, [people[0].id, people[1].id])
        assert mine.totals == {
            pid: totals[pid] for pid in (people[0].id, people[1].id) if pid in totals
        }
