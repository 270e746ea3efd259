"""Redemptions: whether an employee may redeem a reward, and the states a redemption
goes through afterwards.

A redemption holds its points from the moment it is made: pending and approved ones are
*held*, fulfilled ones are *spent*, rejected and cancelled ones give their points back
(and their unit of stock). A final state never changes again, which is what makes a
refund happen exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from scoring.transitions import TransitionRefused as TransitionRefused
from scoring.transitions import Transitions


class State(StrEnum):
    PENDING = "pending"  # points held, waiting for HR
    APPROVED = "approved"  # points held, HR said yes, not handed over yet
    FULFILLED = "fulfilled"  # handed over: the points are spent
    REJECTED = "rejected"  # HR said no: points and stock come back
    CANCELLED = "cancelled"  # the employee withdrew it: points and stock come back


class Party(StrEnum):
    OWNER = "owner"  # the employee who redeemed
    HR = "hr"
    # The reward's own rule: a reward that needs no approval is approved at once, in the
    # transaction that redeems it.
    RULE = "rule"


HELD = frozenset({State.PENDING, State.APPROVED})
REFUNDED = frozenset({State.REJECTED, State.CANCELLED})
# States whose points are gone from the balance (held or spent), and that count
# against stock and the per-person limit.
COUNTED = frozenset({State.PENDING, State.APPROVED, State.FULFILLED})

# (from, to) -> who may make the move. Anything missing is not allowed to anybody.
TRANSITIONS: dict[tuple[State, State], frozenset[Party]] = {
    (State.PENDING, State.APPROVED): frozenset({Party.HR, Party.RULE}),
    (State.APPROVED, State.FULFILLED): frozenset({Party.HR}),
    (State.PENDING, State.REJECTED): frozenset({Party.HR}),
    (State.APPROVED, State.REJECTED): frozenset({Party.HR}),
    (State.PENDING, State.CANCELLED): frozenset({Party.OWNER}),
}


MACHINE = Transitions(
    noun="redemption",
    moves=TRANSITIONS,
    # The reward's rule is never named in a refusal: people cannot ask it to act.
    party_words={Party.OWNER: "the employee", Party.HR: "HR"},
)
# What the adapter asks of it: may this party move it there (raises TransitionRefused),
# and from which states (what the conditional UPDATE must find).
check_transition = MACHINE.check
sources = MACHINE.sources


class Kind(StrEnum):
    EXPERIENCE = "experience"
    DONATION = "donation"  # to a charity, in the employee's name
    SWAG = "swag"
    TEAM = "team"  # a team pays together from its members' pledged points


KIND_LABELS = {
    Kind.EXPERIENCE: "Experience",
    Kind.DONATION: "Donation",
    Kind.SWAG: "Swag",
    Kind.TEAM: "Team reward",
}


def reward_problems(
    kind: Kind,
    charity_name: str | None,
    available_from: date | None,
    available_until: date | None,
    cost: int | None = None,
) -> dict[str, str]:
    """What is wrong with a reward's kind and window, by field; empty when it may be saved."""
    problems = {}
    if kind is Kind.DONATION and not (charity_name or "").strip():
        problems["charity_name"] = "Name the charity the donation goes to."
    if kind is Kind.TEAM and cost is not None and cost <= 0:
        problems["cost"] = "A team reward costs at least 1 point: the team funds it together."
    window = window_problem(available_from, available_until)
    if window:
        problems["available_until"] = window
    return problems


class Refusal(StrEnum):
    RETIRED = "retired"
    NOT_YET = "not_yet"  # before the reward's availability window
    ENDED = "ended"  # after it
    BALANCE = "balance"
    STOCK = "stock"
    LIMIT = "limit"
    TEAM = "team"  # a team reward is funded by pledges, never redeemed alone


@dataclass(frozen=True)
class RedemptionCheck:
    refusal: Refusal | None
    message: str

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def check_redemption(
    *,
    spendable: int,
    cost: int,
    active: bool,
    stock: int | None,
    per_person_limit: int | None,
    already_redeemed: int,
    today: date | None = None,
    available_from: date | None = None,
    available_until: date | None = None,
    kind: Kind | None = None,
) -> RedemptionCheck:
    """May someone with ``spendable`` points, who holds ``already_redeemed`` redemptions
    of this reward (rejected and cancelled ones do not count), redeem it on ``today``?
    ``stock`` is what is left (None: unlimited), ``per_person_limit`` None means no
    limit; ``available_from`` and ``available_until`` bound the window, both days
    included, None leaving that side open."""
    if not active:
        return RedemptionCheck(Refusal.RETIRED, "This reward is no longer offered.")
    window = check_window(today, available_from, available_until)
    if not window.allowed:
        return window
    if kind is Kind.TEAM:
        return RedemptionCheck(
            Refusal.TEAM, "Your team pays for this reward together: pledge points toward it."
        )
    if stock is not None and stock <= 0:
        return RedemptionCheck(Refusal.STOCK, "This reward is out of stock.")
    if per_person_limit is not None and already_redeemed >= per_person_limit:
        times = "once" if per_person_limit == 1 else f"{per_person_limit} times"
        return RedemptionCheck(
            Refusal.LIMIT, f"You can redeem this reward {times}, and you have already."
        )
    if spendable < cost:
        return RedemptionCheck(
            Refusal.BALANCE,
            f"This reward costs {_points(cost)}; you can spend {spendable}, "
            f"so {cost - spendable} more {'is' if cost - spendable == 1 else 'are'} needed.",
        )
    return RedemptionCheck(None, "")


WINDOW_REFUSALS = frozenset({Refusal.NOT_YET, Refusal.ENDED})


def check_window(
    today: date | None, available_from: date | None, available_until: date | None
) -> RedemptionCheck:
    """Whether ``today`` lies in the availability window (both ends included)."""
    if today is not None and available_from is not None and today < available_from:
        return RedemptionCheck(
            Refusal.NOT_YET, f"Not available yet: from {long_date(available_from)}."
        )
    if today is not None and available_until is not None and today > available_until:
        return RedemptionCheck(
            Refusal.ENDED,
            f"No longer available: it was offered until {long_date(available_until)}.",
        )
    return RedemptionCheck(None, "")


def window_problem(available_from: date | None, available_until: date | None) -> str | None:
    """Why a window cannot be saved, or None."""
    if available_from and available_until and available_until < available_from:
        return "The last day cannot come before the first."
    return None


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _points(count: int) -> str:
    return f"{count} point{'' if count == 1 else 's'}"
