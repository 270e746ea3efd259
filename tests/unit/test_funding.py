"""Team rewards funded by pledges (rewards.funding): who may pledge how much, when a
funding is complete, when it closes, and the two state machines, table by table."""

from __future__ import annotations

from datetime import date
from itertools import product

import pytest

from rewards.funding import (
    FUNDING,
    PLEDGE,
    FundingState,
    Party,
    PledgeState,
    Refusal,
    TransitionRefused,
    check_pledge,
    closes,
    is_funded,
    progress_percent,
    remaining,
)
from rewards.redemptions import Kind, check_redemption, reward_problems
from rewards.redemptions import Refusal as RedemptionRefusal

TODAY = date(2026, 12, 2)

FUNDING_ALLOWED = {
    (FundingState.OPEN, FundingState.FUNDED, Party.RULE),
    (FundingState.OPEN, FundingState.REFUNDED, Party.RULE),
    (FundingState.FUNDED, FundingState.FULFILLED, Party.HR),
}
PLEDGE_ALLOWED = {
    (PledgeState.HELD, PledgeState.SPENT, Party.RULE),
    (PledgeState.HELD, PledgeState.REFUNDED, Party.MEMBER),
    (PledgeState.HELD, PledgeState.REFUNDED, Party.RULE),
}


@pytest.mark.parametrize(
    ("current", "target", "party"), list(product(FundingState, FundingState, Party))
)
def test_a_funding_moves_only_as_the_table_says(current, target, party):
    if (current, target, party) in FUNDING_ALLOWED:
        FUNDING.check(current, target, party)
        assert current in FUNDING.sources(target, party)
    else:
        with pytest.raises(TransitionRefused):
            FUNDING.check(current, target, party)


@pytest.mark.parametrize(
    ("current", "target", "party"), list(product(PledgeState, PledgeState, Party))
)
def test_a_pledge_moves_only_as_the_table_says(current, target, party):
    if (current, target, party) in PLEDGE_ALLOWED:
        PLEDGE.check(current, target, party)
    else:
        with pytest.raises(TransitionRefused):
            PLEDGE.check(current, target, party)


def test_final_states_never_move_and_refusals_never_name_the_rule():
    for final in (FundingState.FULFILLED, FundingState.REFUNDED):
        assert not any(src == final for src, _ in FUNDING.moves)
    for final in (PledgeState.SPENT, PledgeState.REFUNDED):
        assert not any(src == final for src, _ in PLEDGE.moves)
    with pytest.raises(TransitionRefused) as refused:
        FUNDING.check(FundingState.OPEN, FundingState.FUNDED, Party.HR)
    assert "rule" not in refused.value.message


BASE = {
    "points": 30,
    "member_of_team": True,
    "participating": True,
    "active": True,
    "funding_open": True,
    "remaining": 100,
    "stock": None,
    "spendable": 50,
    "today": TODAY,
}


@pytest.mark.parametrize(
    ("changes", "refusal", "points"),
    [
        ({}, None, 30),
        ({"points": 0}, Refusal.AMOUNT, 0),
        ({"points": -5}, Refusal.AMOUNT, 0),
        ({"member_of_team": False}, Refusal.NOT_MEMBER, 0),
        ({"participating": False}, Refusal.NOT_PARTICIPATING, 0),
        ({"active": False}, Refusal.RETIRED, 0),
        ({"available_from": date(2026, 12, 3)}, Refusal.NOT_YET, 0),
        ({"available_until": date(2026, 12, 1)}, Refusal.ENDED, 0),
        ({"available_until": TODAY}, None, 30),  # the last day counts
        ({"available_from": TODAY}, None, 30),  # so does the first
        ({"funding_open": False}, Refusal.CLOSED, 0),
        ({"remaining": 0}, Refusal.CLOSED, 0),
        ({"stock": 0}, Refusal.STOCK, 0),
        ({"stock": 1}, None, 30),
        ({"spendable": 29}, Refusal.BALANCE, 0),
        ({"spendable": 30}, None, 30),  # exactly enough
        # More than is left is capped at the remainder...
        ({"points": 80, "remaining": 20}, None, 20),
        # ...and only the capped amount needs covering.
        ({"points": 80, "remaining": 20, "spendable": 20}, None, 20),
        ({"points": 80, "remaining": 20, "spendable": 19}, Refusal.BALANCE, 0),
        ({"points": 20, "remaining": 20}, None, 20),
    ],
)
def test_who_may_pledge_how_much(changes, refusal, points):
    check = check_pledge(**{**BASE, **changes})
    assert check.refusal == refusal
    assert check.allowed == (refusal is None)
    assert check.points == points
    assert bool(check.message) == (refusal is not None)


def test_bad_input_is_named_before_anything_else():
    check = check_pledge(**{**BASE, "points": 0, "member_of_team": False, "active": False})
    assert check.refusal is Refusal.AMOUNT


@pytest.mark.parametrize(
    ("target", "held", "funded", "left", "percent"),
    [
        (100, 0, False, 100, 0),
        (100, 99, False, 1, 99),
        (100, 100, True, 0, 100),
        (100, 130, True, 0, 100),
        (3, 1, False, 2, 33),
    ],
)
def test_completion_remainder_and_progress(target, held, funded, left, percent):
    assert is_funded(target, held) is funded
    assert remaining(target, held) == left
    assert progress_percent(target, held) == percent


@pytest.mark.parametrize(
    ("state", "active", "until", "expected"),
    [
        (FundingState.OPEN, True, None, False),
        (FundingState.OPEN, True, TODAY, False),  # its last day is still open
        (FundingState.OPEN, True, date(2026, 12, 1), True),
        (FundingState.OPEN, False, None, True),  # retired
        (FundingState.FUNDED, False, date(2026, 12, 1), False),
        (FundingState.REFUNDED, True, date(2026, 12, 1), False),
        (FundingState.FULFILLED, False, None, False),
    ],
)
def test_when_a_funding_closes(state, active, until, expected):
    assert closes(state=state, active=active, today=TODAY, available_until=until) is expected


def test_a_team_reward_is_never_redeemed_alone_and_costs_something():
    check = check_redemption(
        spendable=1000,
        cost=10,
        active=True,
        stock=None,
        per_person_limit=None,
        already_redeemed=0,
        kind=Kind.TEAM,
    )
    assert check.refusal is RedemptionRefusal.TEAM
    assert "pledge" in check.message
    assert "cost" in reward_problems(Kind.TEAM, None, None, None, cost=0)
    assert reward_problems(Kind.TEAM, None, None, None, cost=1) == {}
    assert reward_problems(Kind.SWAG, None, None, None, cost=0) == {}
