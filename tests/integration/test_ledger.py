"""Balances, adjustments and the recalculation after a rule change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import AuditEntry, CapUsage, LedgerLine, LineKind, Role
from app.services import ledger
from app.services import rules as rules_service
from app.services.scoring import apply_pending_lines, rebuild_boards
from scoring.ranking import MAX_POINTS
from scoring.vocabulary import EventKind
from tests.factories import EmployeeFactory
from tests.integration.scoring_support import COMPANY, NOW, T0, event, run_pipeline


def rule_named(name):
    return next(v.rule for v in rules_service.all_versions() if v.rule.name == name)


def test_hired_referral_points_vest_after_the_holding_period(store):
    alice = EmployeeFactory(opted_in=True)
    event(alice, EventKind.SHARE)
    event(alice, EventKind.REFERRAL_HIRED, at=T0 + timedelta(hours=1))
    run_pipeline(store)
    assert ledger.balance(alice.id, now=NOW) == ledger.Balance(205, 5, 200)
    later = T0 + timedelta(hours=1, days=90)
    assert ledger.balance(alice.id, now=later).spendable == 205
    assert store.standing(COMPANY, alice.id).points == 205  # rank counts it at once


def test_adjustments_need_a_reason_and_are_idempotent(store):
    admin, bob = EmployeeFactory(role=Role.ADMIN), EmployeeFactory(opted_in=True)
    with pytest.raises(InvalidInput, match="Say why"):
        ledger.adjust_points(admin, bob, 10, "  ", "a1")
    with pytest.raises(InvalidInput, match="other than 0"):
        ledger.adjust_points(admin, bob, 0, "Nothing", "a1")
    first = ledger.adjust_points(admin, bob, 10, "Speaker at the meetup", "a1")
    again = ledger.adjust_points(admin, bob, 10, "Speaker at the meetup", "a1")
    assert first.id == again.id
    with pytest.raises(Conflict, match="another adjustment"):
        ledger.adjust_points(admin, bob, 20, "Different", "a1")
    with pytest.raises(InvalidInput, match="below zero"):
        ledger.adjust_points(admin, bob, -11, "Too much", "a2")
    db.session.commit()
    assert first.kind is LineKind.ADJUSTMENT
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "ledger.adjust")
        )
        == 1
    )
    apply_pending_lines(store)
    assert store.standing(COMPANY, bob.id).points == 10


def test_history_explains_every_line_newest_first(store):
    alice = EmployeeFactory(opted_in=True)
    event(alice)
    event(alice, EventKind.CLICK, at=T0 + timedelta(minutes=1))
    run_pipeline(store)
    assert [line.reason for line in ledger.history(alice.id)] == [
        "Unique clicks: a unique click on your link on LinkedIn",
        "Sharing: sharing content on LinkedIn",
    ]


def test_recalculation_after_a_rule_change_writes_compensations_once(store):
    alice, bob = EmployeeFactory(opted_in=True), EmployeeFactory(opted_in=True)
    for minute in range(4):
        event(alice, at=T0 + timedelta(minutes=minute))  # 5, 5, 5, then capped to 0
    event(bob, EventKind.CLICK)
    run_pipeline(store)
    assert ledger.balance(alice.id).lifetime == 15

    # HR decides, backdated to before the shares, that sharing earns 8 and has no cap.
    rules_service.edit_rule(
        None, rule_named("Sharing"), {"points": 8, "cap": None}, effective_at=T0 - timedelta(days=1)
    )
    db.session.commit()
    written = ledger.recalculate(None, since=T0 - timedelta(days=1), now=NOW)
    db.session.commit()
    assert written == 4
    assert ledger.balance(alice.id).lifetime == 32
    assert ledger.balance(bob.id).lifetime == 1
    kinds = db.session.scalars(
        select(LedgerLine.kind).where(LedgerLine.employee_id == alice.id)
    ).all()
    assert kinds.count(LineKind.COMPENSATION) == 4

    assert ledger.recalculate(None, since=T0 - timedelta(days=1), now=NOW) == 0

    apply_pending_lines(store)
    db.session.commit()
    live = store.scores(COMPANY)
    assert live[alice.id][0] == 32
    rebuild_boards(store)
    assert store.scores(COMPANY) == live


def test_recalculation_recounts_the_caps(store):
    alice = EmployeeFactory(opted_in=True)
    for minute in range(2):
        event(alice, at=T0 + timedelta(minutes=minute))
    run_pipeline(store)
    rules_service.edit_rule(
        None, rule_named("Sharing"), {"points": 20}, effective_at=T0 - timedelta(hours=1)
    )
    db.session.commit()
    ledger.recalculate(None, since=T0 - timedelta(hours=1), now=NOW)
    db.session.commit()
    assert ledger.balance(alice.id).lifetime == 15  # 15 a day: 15, then 0
    used = db.session.scalar(select(CapUsage.used).where(CapUsage.employee_id == alice.id))
    assert used == 15


def test_a_preview_shows_what_a_change_would_have_given_and_writes_nothing(store):
    alice, bob = EmployeeFactory(opted_in=True), EmployeeFactory(opted_in=True)
    for minute in range(4):
        event(alice, at=T0 + timedelta(minutes=minute))
    event(bob, at=T0)
    run_pipeline(store)
    lines_before = db.session.scalar(select(func.count()).select_from(LedgerLine))
    preview = ledger.preview_rule_change(
        rule_named("Sharing").id,
        {"points": 8, "cap": None},
        since=T0 - timedelta(days=1),
        until=T0 + timedelta(days=1),
    )
    assert preview == ledger.Preview(
        events=5, current_points=20, proposed_points=40, employees=2, people=2
    )
    assert db.session.scalar(select(func.count()).select_from(LedgerLine)) == lines_before


def test_an_adjustment_cannot_take_a_total_beyond_what_the_boards_hold_exactly(store):
    """Boards hold totals up to MAX_POINTS exactly; the API must not accept a total that
    the board script and a rebuild would then both refuse."""
    admin, bob = EmployeeFactory(role=Role.ADMIN), EmployeeFactory(opted_in=True)
    for number in range(MAX_POINTS // 100_000):
        ledger.adjust_points(admin, bob, 100_000, "Large", f"big-{number}")
    db.session.commit()
    total = ledger.balance(bob.id).lifetime
    with pytest.raises(InvalidInput, match="above"):
        ledger.adjust_points(admin, bob, MAX_POINTS - total + 1, "One too many", "over")
    ledger.adjust_points(admin, bob, MAX_POINTS - total, "Exactly the most", "most")
    db.session.commit()
    apply_pending_lines(store)
    assert store.standing(COMPANY, bob.id).points == MAX_POINTS
