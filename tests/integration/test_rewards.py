"""Redemptions against real SQL and Redis: one redemption per key, stock and limits at
their edges, refunds exactly once, no overspending under concurrency, and spending that
never touches lifetime points or rank."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db, get_redis
from app.jobs import notify_redemptions
from app.models import (
    AuditEntry,
    Employee,
    LedgerLine,
    Redemption,
    RedemptionState,
    Reward,
    RewardKind,
)
from app.services import ledger, participation
from app.services import redemptions as rewards
from app.services import rules as rules_service
from app.services.leaderboards import Scope, view_board
from app.services.redemptions import RedemptionRefused
from rewards.redemptions import Refusal
from scoring.windows import Window
from tests.conftest import mail_text
from tests.factories import (
    CompanySettingsFactory,
    EmployeeFactory,
    LedgerLineFactory,
    RedemptionFactory,
)
from tests.integration.test_leaderboards import earn, settle


@pytest.fixture
def company(ctx):
    CompanySettingsFactory(time_zone="Europe/Berlin")
    rules_service.install_default_rules(effective_at=datetime.now(UTC) - timedelta(days=30))
    db.session.commit()


def funded(points: int, **attributes) -> Employee:
    employee = EmployeeFactory(opted_in=True, **attributes)
    if points:
        LedgerLineFactory(employee_id=employee.id, team_id=employee.team_id, points=points)
    return employee


def reward(hr=None, **fields) -> Reward:
    data = {"name": "Company hoodie", "cost": 100, **fields}
    created = rewards.create_reward(hr or EmployeeFactory(), data)
    db.session.commit()
    return created


def spendable(employee: Employee) -> int:
    return ledger.balance(employee.id).spendable


def redemptions() -> int:
    return db.session.scalar(select(func.count()).select_from(Redemption))


def test_the_same_key_twice_is_one_redemption_and_one_debit(ctx):
    alice, hoodie = funded(250), reward()
    first, created = rewards.redeem(alice, hoodie.id, "key-1")
    db.session.commit()
    again, created_again = rewards.redeem(alice, hoodie.id, "key-1")
    db.session.commit()
    assert (created, created_again, again.id) == (True, False, first.id)
    assert redemptions() == 1
    assert ledger.balance(alice.id) == ledger.Balance(250, 250, 0, spent=0, held=100)
    assert spendable(alice) == 150
    with pytest.raises(Conflict) as refused:
        rewards.redeem(alice, reward(name="Extra day off").id, "key-1")
    assert refused.value.errors == {
        "idempotency_key": ["This idempotency key was used for another reward."]
    }


def test_a_blank_key_or_an_unknown_reward_is_refused(ctx):
    alice = funded(100)
    with pytest.raises(InvalidInput):
        rewards.redeem(alice, reward().id, "  ")
    with pytest.raises(NotFound):
        rewards.redeem(alice, 999999, "k")


def test_the_balance_must_cover_the_cost_exactly(ctx):
    alice, hoodie = funded(100), reward(cost=100)
    rewards.redeem(alice, hoodie.id, "a")
    db.session.commit()
    assert spendable(alice) == 0
    with pytest.raises(RedemptionRefused) as refused:
        rewards.redeem(alice, hoodie.id, "b")
    assert refused.value.refusal is Refusal.BALANCE
    assert refused.value.status == 409


def test_stock_runs_out_at_zero_and_a_refund_gives_the_unit_back(ctx):
    hr = EmployeeFactory()
    ticket = reward(hr, name="Conference ticket", cost=10, stock=1)
    alice, bob = funded(50), funded(50)
    taken, _ = rewards.redeem(alice, ticket.id, "a")
    db.session.commit()
    assert ticket.stock == 0
    with pytest.raises(RedemptionRefused) as refused:
        rewards.redeem(bob, ticket.id, "b")
    assert refused.value.refusal is Refusal.STOCK
    db.session.rollback()
    rewards.reject(hr, taken, "The conference was cancelled.")
    db.session.commit()
    assert db.session.get(Reward, ticket.id).stock == 1
    rewards.redeem(bob, ticket.id, "b")
    db.session.commit()
    assert db.session.get(Reward, ticket.id).stock == 0


def test_the_per_person_limit_counts_only_what_was_not_given_back(ctx):
    alice = funded(500)
    lunch = reward(name="Lunch with the CEO", cost=50, per_person_limit=2)
    first, _ = rewards.redeem(alice, lunch.id, "1")
    rewards.redeem(alice, lunch.id, "2")
    db.session.commit()
    with pytest.raises(RedemptionRefused) as refused:
        rewards.redeem(alice, lunch.id, "3")
    assert refused.value.refusal is Refusal.LIMIT
    db.session.rollback()
    rewards.cancel(alice, db.session.get(Redemption, first.id))
    db.session.commit()
    third, created = rewards.redeem(alice, lunch.id, "3")
    assert created
    assert third.state is RedemptionState.PENDING


def test_a_retired_reward_cannot_be_redeemed(ctx):
    hr, alice = EmployeeFactory(), funded(500)
    hoodie = reward(hr)
    rewards.retire_reward(hr, hoodie)
    db.session.commit()
    with pytest.raises(RedemptionRefused) as refused:
        rewards.redeem(alice, hoodie.id, "a")
    assert refused.value.refusal is Refusal.RETIRED
    assert rewards.catalogue(alice)[1] == []


@pytest.mark.parametrize("twice", ["reject", "cancel"])
def test_reject_and_cancel_refund_exactly_once_even_when_called_twice(ctx, twice):
    hr, alice = EmployeeFactory(), funded(300)
    day_off = reward(hr, name="Extra day off", cost=200, stock=3)
    taken, _ = rewards.redeem(alice, day_off.id, "a")
    db.session.commit()
    assert (spendable(alice), db.session.get(Reward, day_off.id).stock) == (100, 2)
    for _ in range(2):
        if twice == "reject":
            rewards.reject(hr, taken, "Not in the busy season, sorry.")
        else:
            rewards.cancel(alice, taken)
        db.session.commit()
    assert (spendable(alice), db.session.get(Reward, day_off.id).stock) == (300, 3)
    assert taken.state in (RedemptionState.REJECTED, RedemptionState.CANCELLED)
    audited = db.session.scalar(
        select(func.count()).where(AuditEntry.action == "redemption.reject")
    )
    assert audited == (1 if twice == "reject" else 0)


def test_the_lifecycle_holds_then_spends_and_final_states_stay(ctx):
    hr, alice = EmployeeFactory(), funded(300)
    hoodie = reward(hr)
    taken, _ = rewards.redeem(alice, hoodie.id, "a")
    rewards.approve(hr, taken)
    db.session.commit()
    assert ledger.balance(alice.id) == ledger.Balance(300, 300, 0, spent=0, held=100)
    rewards.fulfil(hr, taken, "Handed over at reception.")
    db.session.commit()
    assert ledger.balance(alice.id) == ledger.Balance(300, 300, 0, spent=100, held=0)
    assert (taken.decided_by_id, taken.decision_note) == (hr.id, "Handed over at reception.")
    with pytest.raises(Conflict, match="A fulfilled redemption cannot become rejected"):
        rewards.reject(hr, taken, "Changed my mind")
    with pytest.raises(Conflict, match="cannot become cancelled"):
        rewards.cancel(alice, taken)
    db.session.rollback()
    assert spendable(alice) == 200


def test_a_reason_is_needed_to_reject(ctx):
    hr, alice = EmployeeFactory(), funded(300)
    taken, _ = rewards.redeem(alice, reward(hr).id, "a")
    with pytest.raises(InvalidInput) as refused:
        rewards.reject(hr, taken, "  ")
    assert refused.value.errors == {"reason": ["Say why; the employee will read it."]}


def test_only_the_owner_cancels_and_only_while_pending(ctx):
    hr, alice = EmployeeFactory(), funded(300)
    taken, _ = rewards.redeem(alice, reward(hr).id, "a")
    db.session.commit()
    with pytest.raises(NotFound):
        rewards.get_redemption(taken.id, owner_id=hr.id)
    rewards.approve(hr, taken)
    db.session.commit()
    with pytest.raises(Conflict, match="cannot become cancelled"):
        rewards.cancel(alice, taken)


def test_a_reversal_never_pushes_the_balance_below_zero(ctx):
    alice = funded(100)
    rewards.redeem(alice, reward(cost=80).id, "a")
    db.session.commit()
    # The referral behind 50 of those points was withdrawn: a compensating line.
    LedgerLineFactory(employee_id=alice.id, points=-50, reason="Referral withdrawn")
    balance = ledger.balance(alice.id)
    assert (balance.lifetime, balance.held, balance.spendable) == (50, 80, 0)


def test_spending_never_lowers_rank(company):
    alice, bob = EmployeeFactory(opted_in=True), EmployeeFactory(opted_in=True)
    earned_at = datetime.now(UTC) - timedelta(hours=1)
    earn(alice, 5, earned_at)
    earn(bob, 4, earned_at)
    settle()
    before = view_board(alice, Scope.COMPANY, Window.ALL_TIME)
    assert (before.my_rank, before.my_points) == (1, 5)
    lines = db.session.scalar(select(func.count()).select_from(LedgerLine))

    hr = EmployeeFactory()
    taken, _ = rewards.redeem(alice, reward(hr, cost=4).id, "a")
    rewards.approve(hr, taken)
    rewards.fulfil(hr, taken)
    db.session.commit()
    settle()

    after = view_board(alice, Scope.COMPANY, Window.ALL_TIME)
    assert (after.my_rank, after.my_points) == (1, 5)
    assert [(r.rank, r.points) for r in after.rows] == [(1, 5), (2, 4)]
    assert db.session.scalar(select(func.count()).select_from(LedgerLine)) == lines
    balance = ledger.balance(alice.id)
    assert (balance.lifetime, balance.spent, balance.spendable) == (5, 4, 1)


def test_two_redemptions_at_once_cannot_overspend(app):
    """Two requests on two connections race for the last 100 points: one wins."""
    with app.app_context():
        alice, hoodie = funded(150), reward()
        alice_id, hoodie_id = alice.id, hoodie.id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def redeem(key: str) -> None:
        with app.app_context():
            employee = db.session.get(Employee, alice_id)
            barrier.wait()
            try:
                rewards.redeem(employee, hoodie_id, key)
                db.session.commit()
                outcomes.append("redeemed")
            except RedemptionRefused as exc:
                db.session.rollback()
                outcomes.append(exc.refusal.value)

    threads = [threading.Thread(target=redeem, args=(key,)) for key in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["balance", "redeemed"]
    with app.app_context():
        assert redemptions() == 1
        assert spendable(db.session.get(Employee, alice_id)) == 50


def test_the_decision_mail_job_runs_twice_and_mails_once(app, deliver):
    with app.app_context():
        hr, alice = EmployeeFactory(), funded(300, email="alice@example.com")
        taken, _ = rewards.redeem(alice, reward(hr).id, "a")
        rewards.approve(hr, taken, "Pick it up on Friday.")
        db.session.commit()
        taken_id = taken.id
    with app.app_context():
        assert notify_redemptions() == 1
    with app.app_context():
        assert notify_redemptions() == 0
        assert db.session.get(Redemption, taken_id).notified_state is RedemptionState.APPROVED
    outbox = deliver()
    assert len(outbox) == 1
    assert outbox[0]["To"] == "alice@example.com"
    assert "was approved" in mail_text(outbox[0])
    assert "Pick it up on Friday." in mail_text(outbox[0])


def test_each_decision_is_mailed_once_and_what_people_did_themselves_not_at_all(app, deliver):
    with app.app_context():
        hr = EmployeeFactory()
        hoodie, mug = reward(hr), reward(hr, name="Mug", cost=10, needs_approval=False)
        people = [funded(300, email=f"p{n}@example.com") for n in range(5)]
        asked, cancelled, rejected, fulfilled, at_once = (
            rewards.redeem(person, (mug if n == 4 else hoodie).id, "k")[0]
            for n, person in enumerate(people)
        )
        rewards.cancel(people[1], cancelled)
        rewards.reject(hr, rejected, "Sold out.")
        rewards.approve(hr, fulfilled)
        db.session.commit()
        ids = [r.id for r in (asked, cancelled, rejected, fulfilled, at_once)]
        assert rewards.untold() == ids[2:]
        assert notify_redemptions() == 3
        rewards.fulfil(hr, db.session.get(Redemption, ids[3]))  # a new decision
        db.session.commit()
        assert rewards.untold() == [ids[3]]
        assert (notify_redemptions(), notify_redemptions()) == (1, 0)
        assert rewards.untold() == []
        states = dict(db.session.execute(select(Redemption.id, Redemption.notified_state)).all())
    assert [states[i] for i in ids] == [
        RedemptionState.PENDING,
        RedemptionState.PENDING,  # they cancelled it themselves: nothing to tell
        RedemptionState.REJECTED,
        RedemptionState.FULFILLED,
        RedemptionState.APPROVED,
    ]
    told = sorted((m["To"], mail_text(m).split(")", 1)[1].split(".")[0]) for m in deliver())
    assert told == [
        ("p2@example.com", " was not approved, and your points are back"),
        ("p3@example.com", " is fulfilled: enjoy it"),
        ("p3@example.com", " was approved; HR will hand it over"),
        ("p4@example.com", " was approved; HR will hand it over"),
    ]


def test_a_decision_waits_in_its_row_until_the_mail_job_runs(app, outbox, deliver):
    # Nothing is queued at the commit: a queue that is down then loses no mail.
    with app.app_context():
        alice, mug = funded(100), reward(name="Mug", cost=30, needs_approval=False)
        rewards.redeem(alice, mug.id, "key-1")
        db.session.commit()
        assert get_redis().dbsize() == 0
        assert outbox == []
        assert notify_redemptions() == 1
    assert len(deliver()) == 1


def test_my_redemptions_are_in_my_personal_data_export(ctx):
    hr, alice = EmployeeFactory(), funded(300)
    taken, _ = rewards.redeem(alice, reward(hr, tax_note="Benefit in kind: payroll").id, "a")
    rewards.reject(hr, taken, "Sold out.")
    everything = participation.export_personal_data(alice)
    exported = everything["redemptions"]
    assert [(r["reward"], r["points"], r["state"], r["note"]) for r in exported] == [
        ("Company hoodie", 100, "rejected", "Sold out.")
    ]
    assert "Benefit in kind" not in repr(everything)  # HR's tax note is HR's alone


def test_the_window_includes_its_last_day_in_the_company_time_zone_and_refuses_after(company):
    alice = funded(300)
    today = rewards.company_today()
    assert today == datetime.now(UTC).astimezone(ZoneInfo("Europe/Berlin")).date()
    last_day = reward(available_until=today, available_from=today - timedelta(days=3))
    rewards.redeem(alice, last_day.id, "key-1")
    db.session.commit()
    later = reward(name="Autumn walk", available_from=today + timedelta(days=1))
    over = reward(name="Summer walk", available_until=today - timedelta(days=1))
    for refused_reward, refusal in ((later, Refusal.NOT_YET), (over, Refusal.ENDED)):
        with pytest.raises(InvalidInput) as refused:
            rewards.redeem(alice, refused_reward.id, f"key-{refused_reward.id}")
        db.session.rollback()
        assert refused.value.refusal is refusal
        assert list(refused.value.errors) == ["reward_id"]
    assert redemptions() == 1
    assert spendable(alice) == 200


def test_approval_at_once_goes_through_the_state_machine_in_the_same_transaction(app, deliver):
    with app.app_context():
        alice, mug = funded(100), reward(name="Mug", cost=30, stock=2, needs_approval=False)
        redemption, created = rewards.redeem(alice, mug.id, "key-1")
        db.session.commit()
        redemption_id, alice_id = redemption.id, alice.id
        assert (created, redemption.state, redemption.decided_by_id) == (
            True,
            RedemptionState.APPROVED,
            None,
        )
        assert redemption.decided_at is not None
        assert db.session.get(Reward, mug.id).stock == 1
        assert ledger.balance(alice_id).held == 30
    with app.app_context():
        assert rewards.untold() == [redemption_id]
        assert notify_redemptions() == 1
    with app.app_context():
        assert notify_redemptions() == 0
    outbox = deliver()
    assert len(outbox) == 1
    assert "was approved" in mail_text(outbox[0])


def test_a_donation_without_its_charity_or_a_window_backwards_writes_nothing(ctx):
    hr = EmployeeFactory()
    with pytest.raises(InvalidInput) as refused:
        rewards.create_reward(hr, {"name": "Gift", "cost": 5, "kind": RewardKind.DONATION})
    assert list(refused.value.errors) == ["charity_name"]
    db.session.rollback()
    mug = reward(name="Mug", kind=RewardKind.SWAG, charity_name="Ignored")
    assert mug.charity_name is None  # only a donation names a charity
    with pytest.raises(InvalidInput):
        rewards.update_reward(
            hr,
            mug,
            {"available_from": date(2027, 5, 2), "available_until": date(2027, 5, 1)},
        )
    db.session.rollback()
    assert (mug.available_from, mug.available_until) == (None, None)


def test_a_refused_edit_leaves_the_donations_charity_as_it_was(ctx):
    hr = EmployeeFactory()
    trees = reward(name="Trees", kind=RewardKind.DONATION, charity_name="Forests Now")
    with pytest.raises(InvalidInput):
        rewards.update_reward(
            hr,
            trees,
            {
                "kind": RewardKind.SWAG,
                "available_from": date(2027, 5, 2),
                "available_until": date(2027, 5, 1),
            },
        )
    assert (trees.kind, trees.charity_name) == (RewardKind.DONATION, "Forests Now")
    rewards.update_reward(hr, trees, {"kind": RewardKind.SWAG})
    assert trees.charity_name is None


def test_the_migration_leaves_only_decisions_not_told_yet_waiting(ctx):
    from flask_migrate import downgrade, upgrade

    # Made first: today's code records when people take part, in a table the older
    # schema does not have.
    person = EmployeeFactory(opted_in=True)
    db.session.remove()
    downgrade(revision="2b8f6d4a9c13")  # before redemptions waited to be told
    try:
        # As rows were kept before: None until a mail went out, then the state mailed.
        before = [
            (RedemptionState.PENDING, None),
            (RedemptionState.CANCELLED, None),
            (RedemptionState.APPROVED, RedemptionState.APPROVED),
            (RedemptionState.FULFILLED, RedemptionState.APPROVED),  # moved on since
            (RedemptionState.REJECTED, None),
            (RedemptionState.FULFILLED, RedemptionState.FULFILLED),
        ]
        ids = [
            RedemptionFactory(employee=person, state=state, notified_state=notified).id
            for state, notified in before
        ]
        db.session.commit()
        db.session.remove()
    finally:
        upgrade()
    states = dict(db.session.execute(select(Redemption.id, Redemption.notified_state)).all())
    assert [states[i] for i in ids] == [
        RedemptionState.PENDING,
        RedemptionState.CANCELLED,
        RedemptionState.APPROVED,
        None,
        None,
        RedemptionState.FULFILLED,
    ]
    assert rewards.untold() == [ids[3], ids[4]]
