"""The redemption state machine and the checks of a redemption against balance, stock
and the per-person limit (rewards.redemptions), table by table."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import product

import pytest

from rewards.redemptions import (
    COUNTED,
    HELD,
    KIND_LABELS,
    REFUNDED,
    Kind,
    Party,
    Refusal,
    State,
    TransitionRefused,
    check_redemption,
    check_transition,
    reward_problems,
    sources,
)

ALLOWED = {
    (State.PENDING, State.APPROVED, Party.HR),
    (State.PENDING, State.APPROVED, Party.RULE),
    (State.APPROVED, State.FULFILLED, Party.HR),
    (State.PENDING, State.REJECTED, Party.HR),
    (State.APPROVED, State.REJECTED, Party.HR),
    (State.PENDING, State.CANCELLED, Party.OWNER),
}


@pytest.mark.parametrize(("current", "target", "party"), list(product(State, State, Party)))
def test_every_move_is_allowed_only_as_the_table_says(current, target, party):
    if (current, target, party) in ALLOWED:
        check_transition(current, target, party)
    else:
        with pytest.raises(TransitionRefused):
            check_transition(current, target, party)


@pytest.mark.parametrize("final", [State.FULFILLED, State.REJECTED, State.CANCELLED])
def test_final_states_never_move_again_so_a_refund_happens_once(final):
    for target, party in product(State, Party):
        with pytest.raises(TransitionRefused):
            check_transition(final, target, party)


@pytest.mark.parametrize(
    ("target", "party", "expected"),
    [
        (State.APPROVED, Party.HR, {State.PENDING}),
        (State.FULFILLED, Party.HR, {State.APPROVED}),
        (State.REJECTED, Party.HR, {State.PENDING, State.APPROVED}),
        (State.CANCELLED, Party.OWNER, {State.PENDING}),
        (State.CANCELLED, Party.HR, set()),
        (State.APPROVED, Party.OWNER, set()),
    ],
)
def test_sources_are_what_a_conditional_update_must_find(target, party, expected):
    assert sources(target, party) == expected


def test_refusals_name_who_may_and_what_cannot_be():
    with pytest.raises(TransitionRefused, match="Only HR can make it approved"):
        check_transition(State.PENDING, State.APPROVED, Party.OWNER)
    with pytest.raises(TransitionRefused, match="A fulfilled redemption cannot become rejected"):
        check_transition(State.FULFILLED, State.REJECTED, Party.HR)


def test_every_state_is_held_spent_or_refunded():
    assert HELD | {State.FULFILLED} == COUNTED
    assert set(State) == COUNTED | REFUNDED
    assert not COUNTED & REFUNDED


OPEN = {"active": True, "stock": None, "per_person_limit": None, "already_redeemed": 0}


@pytest.mark.parametrize(
    ("spendable", "cost", "changes", "refusal"),
    [
        (100, 100, {}, None),  # exactly enough
        (99, 100, {}, Refusal.BALANCE),
        (0, 0, {}, None),  # a free reward
        (500, 100, {"active": False}, Refusal.RETIRED),
        (500, 100, {"stock": 1}, None),  # the last one
        (500, 100, {"stock": 0}, Refusal.STOCK),
        (500, 100, {"per_person_limit": 2, "already_redeemed": 1}, None),
        (500, 100, {"per_person_limit": 2, "already_redeemed": 2}, Refusal.LIMIT),
        (500, 100, {"per_person_limit": 1, "already_redeemed": 1}, Refusal.LIMIT),
        # Retired beats everything, then stock, then the limit, then the balance.
        (0, 100, {"active": False, "stock": 0}, Refusal.RETIRED),
        (0, 100, {"stock": 0, "per_person_limit": 1, "already_redeemed": 1}, Refusal.STOCK),
        (0, 100, {"per_person_limit": 1, "already_redeemed": 1}, Refusal.LIMIT),
    ],
)
def test_redemption_checks_at_their_edges(spendable, cost, changes, refusal):
    check = check_redemption(spendable=spendable, cost=cost, **{**OPEN, **changes})
    assert check.refusal is refusal
    assert check.allowed is (refusal is None)
    assert bool(check.message) is (refusal is not None)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"spendable": 40}, "This reward costs 100 points; you can spend 40, so 60 more"),
        ({"per_person_limit": 1, "already_redeemed": 1}, "You can redeem this reward once"),
        ({"per_person_limit": 3, "already_redeemed": 3}, "You can redeem this reward 3 times"),
        ({"stock": 0}, "This reward is out of stock."),
    ],
)
def test_refusals_say_why_in_words(changes, message):
    arguments = {**OPEN, "spendable": 500, "cost": 100, **changes}
    assert check_redemption(**arguments).message.startswith(message)


# The availability window, kinds, and approval at once ----------------------------

D = date(2027, 3, 10)


@pytest.mark.parametrize(
    ("today", "start", "end", "refusal"),
    [
        (D, None, None, None),
        (D, D, None, None),  # the first day is included
        (D, None, D, None),  # and the last
        (D, D + timedelta(days=1), None, Refusal.NOT_YET),
        (D, None, D - timedelta(days=1), Refusal.ENDED),
        (D, D - timedelta(days=5), D + timedelta(days=5), None),
    ],
)
def test_the_availability_window_includes_both_ends(today, start, end, refusal):
    check = check_redemption(
        spendable=100,
        cost=10,
        active=True,
        stock=None,
        per_person_limit=None,
        already_redeemed=0,
        today=today,
        available_from=start,
        available_until=end,
    )
    assert check.refusal == refusal


def test_outside_the_window_the_message_names_the_date_and_wins_over_balance_and_stock():
    common = {"spendable": 0, "cost": 10, "active": True, "stock": 0, "per_person_limit": 1}
    early = check_redemption(**common, already_redeemed=1, today=D, available_from=date(2027, 4, 1))
    assert early.refusal is Refusal.NOT_YET
    assert early.message == "Not available yet: from 1 April 2027."
    late = check_redemption(
        **common, already_redeemed=1, today=D, available_until=date(2027, 2, 28)
    )
    assert late.refusal is Refusal.ENDED
    assert "until 28 February 2027" in late.message
    retired = check_redemption(
        **{**common, "active": False}, already_redeemed=1, today=D, available_until=D
    )
    assert retired.refusal is Refusal.RETIRED


@pytest.mark.parametrize(
    ("kind", "charity", "start", "end", "fields"),
    [
        (Kind.SWAG, None, None, None, set()),
        (Kind.EXPERIENCE, "", D, D, set()),
        (Kind.DONATION, "Red Cross", None, None, set()),
        (Kind.DONATION, "  ", None, None, {"charity_name"}),
        (Kind.DONATION, None, D, D - timedelta(days=1), {"charity_name", "available_until"}),
        (Kind.SWAG, None, D, D - timedelta(days=1), {"available_until"}),
    ],
)
def test_a_donation_names_its_charity_and_a_window_ends_after_it_starts(
    kind, charity, start, end, fields
):
    assert set(reward_problems(kind, charity, start, end)) == fields


def test_the_rule_may_approve_at_once_but_nothing_else():
    check_transition(State.PENDING, State.APPROVED, Party.RULE)
    assert sources(State.APPROVED, Party.RULE) == {State.PENDING}
    for current, target in product(State, State):
        if (current, target) != (State.PENDING, State.APPROVED):
            with pytest.raises(TransitionRefused):
                check_transition(current, target, Party.RULE)


def test_every_kind_has_a_plain_label():
    assert set(KIND_LABELS) == set(Kind)
