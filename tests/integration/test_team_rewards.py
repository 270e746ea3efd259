"""Team rewards funded by pledges, against real SQL and Redis: one open funding per
reward and team, pledges held then spent exactly when the target is reached (stock
taken once, also when two pledges complete it at once), withdrawals, the closing job
run twice, and balances that always equal a rebuild from the pledges themselves."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.db import on_postgresql
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.jobs import close_team_fundings
from app.models import (
    AuditEntry,
    Employee,
    FundingState,
    LedgerLine,
    Pledge,
    PledgeState,
    Redemption,
    Reward,
    RewardKind,
    TeamFunding,
)
from app.queue import enqueue
from app.services import ledger, team_rewards
from app.services import redemptions as rewards
from app.services.redemptions import RedemptionRefused
from app.services.team_rewards import PledgeRefused
from scoring.participation import Presence
from tests.factories import CompanySettingsFactory, EmployeeFactory, LedgerLineFactory, TeamFactory


@pytest.fixture
def company(ctx):
    CompanySettingsFactory(time_zone="Europe/Berlin")
    db.session.commit()


def member(team, points: int, **attributes) -> Employee:
    employee = EmployeeFactory(opted_in=True, team=team, **attributes)
    if points:
        LedgerLineFactory(employee_id=employee.id, team_id=team.id, points=points)
    db.session.commit()
    return employee


def team_reward(**fields) -> Reward:
    data = {"name": "Team dinner", "cost": 100, "kind": RewardKind.TEAM, **fields}
    created = rewards.create_reward(EmployeeFactory(), data)
    db.session.commit()
    return created


def pledge(employee, reward, points, key=None):
    made, created = team_rewards.pledge(employee, reward.id, points, key or f"k-{points}")
    db.session.commit()
    return made, created


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_first_pledge_opens_the_funding_and_holds_the_points(company):
    team = TeamFactory()
    ana, ben = member(team, 80), member(team, 80)
    dinner = team_reward()
    first, created = pledge(ana, dinner, 30, "a")
    assert created
    assert first.state == PledgeState.HELD
    assert first.points == 30
    funding = first.funding
    assert (funding.state, funding.target, funding.team_id) == (FundingState.OPEN, 100, team.id)
    second, _ = pledge(ben, dinner, 40, "b")
    assert second.funding_id == funding.id  # joined, not a second funding
    balance = ledger.balance(ana.id)
    assert (balance.held, balance.spendable, balance.lifetime) == (30, 50, 80)
    assert count(TeamFunding) == 1


def test_the_same_key_again_is_one_pledge(company):
    team = TeamFactory()
    ana, dinner = member(team, 80), team_reward()
    first, created = pledge(ana, dinner, 30, "same")
    again, created_again = pledge(ana, dinner, 30, "same")
    assert (created, created_again, again.id) == (True, False, first.id)
    assert count(Pledge) == 1
    assert ledger.balance(ana.id).held == 30
    other = team_reward(name="Team trip")
    with pytest.raises(Conflict) as refused:
        team_rewards.pledge(ana, other.id, 30, "same")
    assert "idempotency_key" in refused.value.errors


def test_reaching_the_target_funds_it_once_spends_the_pledges_and_takes_one_unit(company):
    team = TeamFactory()
    ana, ben = member(team, 80), member(team, 80)
    dinner = team_reward(stock=2)
    pledge(ana, dinner, 60, "a")
    last, _ = pledge(ben, dinner, 70, "b")  # capped at the 40 left
    assert last.points == 40
    funding = last.funding
    db.session.refresh(funding)
    assert funding.state == FundingState.FUNDED
    assert funding.closed_at is not None
    assert {p.state for p in funding.pledges} == {PledgeState.SPENT}
    db.session.refresh(dinner)
    assert dinner.stock == 1
    assert ledger.balance(ana.id).spent == 60
    assert ledger.balance(ben.id).spent == 40
    assert ledger.balance(ben.id).spendable == 40
    assert count(AuditEntry, AuditEntry.action == "team_funding.funded") == 1
    assert team_rewards.to_fulfil() == [funding]
    # Lifetime points and the ledger are untouched.
    assert ledger.balance(ana.id).lifetime == 80
    assert count(LedgerLine) == 2
    # The next pledge opens a new funding at the cost of the day.
    dinner.cost = 50
    db.session.commit()
    nxt, _ = pledge(ana, dinner, 10, "c")
    assert nxt.funding_id != funding.id
    assert nxt.funding.target == 50


def test_hr_marks_it_handed_over_once(company):
    team = TeamFactory()
    ana, dinner = member(team, 200), team_reward()
    made, _ = pledge(ana, dinner, 100)
    hr = EmployeeFactory()
    team_rewards.fulfil(hr, made.funding)
    team_rewards.fulfil(hr, made.funding)
    db.session.commit()
    assert made.funding.state == FundingState.FULFILLED
    assert count(AuditEntry, AuditEntry.action == "team_funding.fulfil") == 1
    assert team_rewards.to_fulfil() == []
    assert ledger.balance(ana.id).spent == 100


@pytest.mark.parametrize(
    ("points", "changes", "error", "field"),
    [
        (0, {}, InvalidInput, "points"),
        (-3, {}, InvalidInput, "points"),
        (500, {}, PledgeRefused, "points"),  # more than the 100 left? capped; balance 50
        (10, {"kind": RewardKind.SWAG}, Conflict, "reward_id"),
        (10, {"active": False}, PledgeRefused, "reward_id"),
        (10, {"available_until": date(2020, 1, 1)}, InvalidInput, "reward_id"),
        (10, {"available_from": date(2099, 1, 1)}, InvalidInput, "reward_id"),
        (10, {"stock": 0}, PledgeRefused, "reward_id"),
    ],
)
def test_a_refused_pledge_names_the_field_and_writes_nothing(
    company, points, changes, error, field
):
    team = TeamFactory()
    ana, dinner = member(team, 50), team_reward()
    for key, value in changes.items():
        setattr(dinner, key, value)
    db.session.commit()
    with pytest.raises(error) as refused:
        team_rewards.pledge(ana, dinner.id, points, "k")
    db.session.rollback()
    assert field in refused.value.errors
    assert count(Pledge) == 0
    assert count(TeamFunding) == 0
    assert ledger.balance(ana.id).spendable == 50


def test_no_team_not_opted_in_blank_key_and_unknown_reward_are_refused(company):
    dinner = team_reward()
    loner = EmployeeFactory(opted_in=True, team=None)
    out = EmployeeFactory(team=TeamFactory())  # never opted in
    db.session.commit()
    for who in (loner, out):
        with pytest.raises(Forbidden):
            team_rewards.pledge(who, dinner.id, 5, "k")
        db.session.rollback()
    ana = member(TeamFactory(), 50)
    with pytest.raises(InvalidInput) as blank:
        team_rewards.pledge(ana, dinner.id, 5, "  ")
    assert "idempotency_key" in blank.value.errors
    with pytest.raises(NotFound):
        team_rewards.pledge(ana, 999_999, 5, "k")
    db.session.rollback()
    assert count(Pledge) == 0
    assert count(TeamFunding) == 0


def test_a_team_reward_cannot_be_redeemed_alone(company):
    ana, dinner = member(TeamFactory(), 500), team_reward()
    with pytest.raises(RedemptionRefused):
        rewards.redeem(ana, dinner.id, "r")
    db.session.rollback()
    assert count(Redemption) == 0


def test_a_team_reward_must_cost_something(company):
    with pytest.raises(InvalidInput) as refused:
        team_reward(cost=0)
    db.session.rollback()
    assert "cost" in refused.value.errors
    assert count(Reward) == 0


def test_withdrawing_gives_the_points_back_once_and_only_while_open(company):
    team = TeamFactory()
    ana, ben = member(team, 100), member(team, 100)
    dinner = team_reward()
    made, _ = pledge(ana, dinner, 30, "a")
    team_rewards.withdraw(ana, made)
    team_rewards.withdraw(ana, made)
    db.session.commit()
    assert made.state == PledgeState.REFUNDED
    assert ledger.balance(ana.id).spendable == 100
    assert count(AuditEntry, AuditEntry.action == "pledge.withdraw") == 1
    with pytest.raises(NotFound):
        team_rewards.get_pledge(made.id, owner_id=ben.id)
    done, _ = pledge(ben, dinner, 100, "b")
    with pytest.raises(Conflict):
        team_rewards.withdraw(ben, done)
    db.session.rollback()
    assert ledger.balance(ben.id).spent == 100


def test_the_closing_job_refunds_ended_and_retired_fundings_once(app, company, run_jobs):
    team = TeamFactory()
    ana, ben = member(team, 100), member(team, 100)
    ended, retired, running = (
        team_reward(name="Ended"),
        team_reward(name="Retired"),
        team_reward(name="Running"),
    )
    pledge(ana, ended, 20, "a1")
    pledge(ben, ended, 30, "b1")
    pledge(ana, retired, 10, "a2")
    pledge(ana, running, 15, "a3")
    assert ledger.balance(ana.id).held == 45
    ended.available_until = datetime.now(UTC).date() - timedelta(days=2)
    rewards.retire_reward(EmployeeFactory(), retired)
    db.session.commit()
    enqueue("app.jobs.close_team_fundings", job_id="close-1", queue_name="default")
    run_jobs()
    assert close_team_fundings() == 0  # again: nothing left to do
    db.session.expire_all()
    states = {f.reward.name: f.state for f in db.session.scalars(select(TeamFunding))}
    assert states == {
        "Ended": FundingState.REFUNDED,
        "Retired": FundingState.REFUNDED,
        "Running": FundingState.OPEN,
    }
    assert ledger.balance(ana.id).held == 15
    assert ledger.balance(ben.id).held == 0
    assert count(AuditEntry, AuditEntry.action == "team_funding.refund") == 2
    assert count(Pledge, Pledge.state == PledgeState.REFUNDED) == 3


def test_progress_names_pledgers_as_they_chose_to_appear(company):
    team = TeamFactory()
    ana = member(team, 100, name="Ana Named")
    ben = member(team, 100, name="Ben Real", presence=Presence.PSEUDONYM, pseudonym="Blue Fox")
    cy = member(team, 100, name="Cy Hidden", presence=Presence.HIDDEN)
    dinner = team_reward()
    for who, key in ((ana, "a"), (ben, "b"), (cy, "c")):
        pledge(who, dinner, 10, key)
    seen = team_rewards.progress(dinner, ana)
    assert [p.name for p in seen.pledgers] == ["You", "Blue Fox", None]
    assert (seen.pledged, seen.target, seen.remaining, seen.percent) == (30, 100, 70, 30)
    assert seen.hidden_pledgers == 1
    assert seen.my_pledge.employee_id == ana.id
    as_cy = team_rewards.progress(dinner, cy)
    assert [p.name for p in as_cy.pledgers] == ["Ana Named", "Blue Fox", "You"]
    other_team = member(TeamFactory(), 10)
    assert team_rewards.progress(dinner, other_team).pledged == 0


def test_two_pledges_completing_the_funding_at_once_fund_it_once(app):
    """On PostgreSQL, two members on two connections each pledge the last 50 points."""
    with app.app_context():
        CompanySettingsFactory(time_zone="Europe/Berlin")
        team = TeamFactory()
        ana, ben, cy = member(team, 100), member(team, 100), member(team, 100)
        dinner = team_reward(stock=5)
        pledge(cy, dinner, 50, "c")
        ids, reward_id = (ana.id, ben.id), dinner.id
    barrier = threading.Barrier(2)
    outcomes: list[int] = []

    def go(employee_id: int) -> None:
        with app.app_context():
            employee = db.session.get(Employee, employee_id)
            barrier.wait()
            try:
                made, _ = team_rewards.pledge(employee, reward_id, 50, f"last-{employee_id}")
                db.session.commit()
                outcomes.append(made.points)
            except Conflict:
                db.session.rollback()
                outcomes.append(0)

    threads = [threading.Thread(target=go, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    with app.app_context():
        fundings = list(db.session.scalars(select(TeamFunding).order_by(TeamFunding.id)))
        assert fundings[0].state == FundingState.FUNDED
        assert db.session.get(Reward, reward_id).stock == 4  # taken once
        spent = sum(ledger.balance(i).spent for i in (*ids, cy_id(fundings[0])))
        assert spent == 100
        # The second pledge found the first funding funded and opened the next one.
        assert sorted(outcomes) == [50, 50]
        assert len(fundings) == 2
        assert fundings[1].state == FundingState.OPEN
        assert count(AuditEntry, AuditEntry.action == "team_funding.funded") == 1
        if on_postgresql():
            assert count(TeamFunding, TeamFunding.state == FundingState.OPEN) == 1


def cy_id(funding: TeamFunding) -> int:
    return funding.pledges[0].employee_id


def test_two_first_pledges_at_once_open_one_funding(app):
    with app.app_context():
        CompanySettingsFactory(time_zone="Europe/Berlin")
        team = TeamFactory()
        people = [member(team, 100).id for _ in range(4)]
        reward_id = team_reward(cost=1000).id
    barrier = threading.Barrier(len(people))

    def go(employee_id: int) -> None:
        with app.app_context():
            employee = db.session.get(Employee, employee_id)
            barrier.wait()
            team_rewards.pledge(employee, reward_id, 10, "first")
            db.session.commit()

    threads = [threading.Thread(target=go, args=(i,)) for i in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    with app.app_context():
        assert count(TeamFunding) == 1
        assert count(Pledge) == 4
        assert team_rewards.held_total(db.session.scalar(select(TeamFunding.id))) == 40


# Balances equal a rebuild from the pledges, whatever happened ----------------------

ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["pledge", "withdraw", "close", "redeem"]),
        st.integers(min_value=0, max_value=2),  # who
        st.integers(min_value=1, max_value=70),  # points
    ),
    max_size=14,
)


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(actions=ACTIONS)
def test_balances_equal_a_rebuild_from_truth(app, actions):
    with app.app_context():
        _reset()
        CompanySettingsFactory(time_zone="Europe/Berlin")
        team = TeamFactory()
        people = [member(team, 100) for _ in range(3)]
        dinner = team_reward(cost=120, stock=3)
        mug = rewards.create_reward(EmployeeFactory(), {"name": "Mug", "cost": 25})
        db.session.commit()
        for step, (action, who, points) in enumerate(actions):
            employee = people[who]
            try:
                if action == "pledge":
                    team_rewards.pledge(employee, dinner.id, points, f"p{step}")
                elif action == "redeem":
                    rewards.redeem(employee, mug.id, f"r{step}")
                elif action == "withdraw":
                    mine = db.session.scalar(
                        select(Pledge)
                        .where(Pledge.employee_id == employee.id, Pledge.state == PledgeState.HELD)
                        .limit(1)
                    )
                    if mine is not None:
                        team_rewards.withdraw(employee, mine)
                else:
                    dinner.active = not dinner.active
                    db.session.flush()
                    team_rewards.close_due()
                db.session.commit()
            except (Conflict, InvalidInput, Forbidden):
                db.session.rollback()
        for employee in people:
            balance = ledger.balance(employee.id)
            pledges = list(
                db.session.scalars(select(Pledge).where(Pledge.employee_id == employee.id))
            )
            redeemed = sum(
                r.points
                for r in db.session.scalars(
                    select(Redemption).where(Redemption.employee_id == employee.id)
                )
            )
            held = sum(p.points for p in pledges if p.state == PledgeState.HELD)
            spent = sum(p.points for p in pledges if p.state == PledgeState.SPENT)
            assert balance.held == held + redeemed
            assert balance.spent == spent
            assert balance.spendable == 100 - held - spent - redeemed >= 0
            assert balance.lifetime == 100
            for p in pledges:  # a held pledge lives only in an open funding
                assert (p.state == PledgeState.HELD) == (p.funding.state == FundingState.OPEN) or (
                    p.state == PledgeState.REFUNDED
                )
        fundings = list(db.session.scalars(select(TeamFunding)))
        funded = sum(1 for f in fundings if f.state == FundingState.FUNDED)
        db.session.refresh(dinner)
        assert dinner.stock == 3 - funded
        for f in fundings:
            total = sum(p.points for p in f.pledges if p.state != PledgeState.REFUNDED)
            assert total <= f.target
            if f.state == FundingState.FUNDED:
                assert total == f.target


def _reset() -> None:
    """Each example starts from empty tables (the autouse clean-up runs per test)."""
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()
