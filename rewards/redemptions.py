"""Redemptions: whether an employee may redeem a reward, and the states a redemption
goes through afterwards.

A redemption holds its points from the moment it is made: pending and approved ones are
*held*, fulfilled ones are *spent*, rejected and cancelled ones give their points back
(and their unit of stock). A final state never changes again, which is what makes a
refund happen exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    PENDING = "pending"  # points held, waiting for HR
    APPROVED = "approved"  # points held, HR said yes, not handed over yet
    FULFILLED = "fulfilled"  # handed over: the points are spent
    REJECTED = "rejected"  # HR said no: points and stock come back
    CANCELLED = "cancelled"  # the employee withdrew it: points and stock come back


class Party(StrEnum):
    OWNER = "owner"  # the employee who redeemed
    HR = "hr"


HELD = frozenset({State.PENDING, State.APPROVED})
REFUNDED = frozenset({State.REJECTED, State.CANCELLED})
# States whose points are gone from the balance (held or spent), and that count
# against stock and the per-person limit.
COUNTED = frozenset({State.PENDING, State.APPROVED, State.FULFILLED})

# (from, to) -> who may make the move. Anything missing is not allowed to anybody.
TRANSITIONS: dict[tuple[State, State], frozenset[Party]] = {
    (State.PENDING, State.APPROVED): frozenset({Party.HR}),
    (State.APPROVED, State.FULFILLED): frozenset({Party.HR}),
    (State.PENDING, State.REJECTED): frozenset({Party.HR}),
    (State.APPROVED, State.REJECTED): frozenset({Party.HR}),
    (State.PENDING, State.CANCELLED): frozenset({Party.OWNER}),
}


class TransitionRefused(Exception):
    """The move is not allowed from this state, or not to this party."""

    def __init__(self, message: str, current: State, target: State):
        super().__init__(message)
        self.message = message
        self.current = current
        self.target = target


def sources(target: State, party: Party) -> frozenset[State]:
    """The states from which ``party`` may move a redemption to ``target``: what a
    conditional UPDATE must find, so that of two racing moves only one happens."""
    return frozenset(
        src for (src, dst), who in TRANSITIONS.items() if dst == target and party in who
    )


def check_transition(current: State, target: State, party: Party) -> None:
    allowed = TRANSITIONS.get((current, target))
    if allowed is None:
        raise TransitionRefused(
            f"A {current.value} redemption cannot become {target.value}.", current, target
        )
    if party not in allowed:
        who = " or ".join("HR" if p is Party.HR else "the employee" for p in sorted(allowed))
        raise TransitionRefused(f"Only {who} can make it {target.value}.", current, target)


class Refusal(StrEnum):
    RETIRED = "retired"
    BALANCE = "balance"
    STOCK = "stock"
    LIMIT = "limit"


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
) -> RedemptionCheck:
    """May someone with ``spendable`` points, who holds ``already_redeemed`` redemptions
    of this reward (rejected and cancelled ones do not count), redeem it now? ``stock``
    is what is left (None: unlimited), ``per_person_limit`` None means no limit."""
    if not active:
        return RedemptionCheck(Refusal.RETIRED, "This reward is no longer offered.")
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


def _points(count: int) -> str:
    return f"{count} point{'' if count == 1 else 's'}"
