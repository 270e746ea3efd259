"""Team rewards: a team pays for a reward together from its members' pledged points.

A team reward (``Kind.TEAM``) is not redeemed by one person. The first pledge of a
team's member opens the team's *funding* of the reward, whose target is the reward's
cost at that moment; further pledges join it. A pledge holds its points like a pending
redemption. When the held pledges reach the target, in the same transaction, the
funding is *funded*, every pledge *spent* and one unit of stock taken; HR then hands the
reward over (*fulfilled*). When the reward's window closes first, or the reward is
retired, the funding is *refunded*: every held pledge counts no more. A member may
withdraw their own pledge while the funding is open.

A pledge larger than what is left to fund is capped at the remainder: the last member
can simply pledge "the rest" and no point is ever held beyond the target.

Everything here is a pure decision; ``app.services.team_rewards`` stores it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from rewards.redemptions import check_window
from scoring.transitions import TransitionRefused as TransitionRefused
from scoring.transitions import Transitions


class FundingState(StrEnum):
    OPEN = "open"  # collecting pledges
    FUNDED = "funded"  # fully pledged: pledges spent, stock taken, HR to hand it over
    FULFILLED = "fulfilled"  # HR handed it over
    REFUNDED = "refunded"  # closed before it was funded: every pledge went back


class PledgeState(StrEnum):
    HELD = "held"  # counted against the member's spendable points while the funding is open
    SPENT = "spent"  # the funding was completed
    REFUNDED = "refunded"  # withdrawn, or the funding closed unfunded: counts no more


class Party(StrEnum):
    MEMBER = "member"  # the member who pledged
    HR = "hr"
    # The funding's own rule: complete when the target is reached, refund when the
    # window closes. People cannot ask it to act, so refusals never name it.
    RULE = "rule"


FUNDING_MOVES: dict[tuple[FundingState, FundingState], frozenset[Party]] = {
    (FundingState.OPEN, FundingState.FUNDED): frozenset({Party.RULE}),
    (FundingState.OPEN, FundingState.REFUNDED): frozenset({Party.RULE}),
    (FundingState.FUNDED, FundingState.FULFILLED): frozenset({Party.HR}),
}
PLEDGE_MOVES: dict[tuple[PledgeState, PledgeState], frozenset[Party]] = {
    (PledgeState.HELD, PledgeState.SPENT): frozenset({Party.RULE}),
    (PledgeState.HELD, PledgeState.REFUNDED): frozenset({Party.MEMBER, Party.RULE}),
}

FUNDING = Transitions(
    noun="team funding", moves=FUNDING_MOVES, party_words={Party.MEMBER: "a member", Party.HR: "HR"}
)
PLEDGE = Transitions(
    noun="pledge", moves=PLEDGE_MOVES, party_words={Party.MEMBER: "who pledged", Party.HR: "HR"}
)


class Refusal(StrEnum):
    AMOUNT = "amount"  # not a positive number of points: bad input
    NOT_MEMBER = "not_member"  # not in a team, or not this funding's team
    NOT_PARTICIPATING = "not_participating"
    RETIRED = "retired"
    NOT_YET = "not_yet"
    ENDED = "ended"
    CLOSED = "closed"  # the funding is funded or refunded already
    STOCK = "stock"
    BALANCE = "balance"


WINDOW_REFUSALS = frozenset({Refusal.NOT_YET, Refusal.ENDED})


@dataclass(frozen=True)
class PledgeCheck:
    refusal: Refusal | None
    message: str
    points: int = 0  # what would be pledged: the request, capped at what is left to fund

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def check_pledge(
    *,
    points: int,
    member_of_team: bool,
    participating: bool,
    active: bool,
    funding_open: bool,
    remaining: int,
    stock: int | None,
    spendable: int,
    today: date | None = None,
    available_from: date | None = None,
    available_until: date | None = None,
) -> PledgeCheck:
    """May a member pledge ``points`` toward their team's funding now? ``remaining`` is
    what is left to fund (the target less the held pledges; the whole cost when no
    funding is open yet), ``funding_open`` False when the funding was closed already,
    ``stock`` the reward's units left (None: unlimited), ``spendable`` the member's
    spendable points. An allowed check carries the points to pledge: the request capped
    at ``remaining``."""
    if points <= 0:
        return PledgeCheck(Refusal.AMOUNT, "Pledge a whole number of points above 0.")
    if not member_of_team:
        return PledgeCheck(Refusal.NOT_MEMBER, "Only members of the team can pledge toward it.")
    if not participating:
        return PledgeCheck(Refusal.NOT_PARTICIPATING, "Opt in to Chorus to pledge points.")
    if not active:
        return PledgeCheck(Refusal.RETIRED, "This reward is no longer offered.")
    window = check_window(today, available_from, available_until)
    if not window.allowed:
        return PledgeCheck(Refusal(window.refusal.value), window.message)
    if not funding_open or remaining <= 0:
        return PledgeCheck(Refusal.CLOSED, "Your team's funding of this reward is closed.")
    if stock is not None and stock <= 0:
        return PledgeCheck(Refusal.STOCK, "This reward is out of stock.")
    capped = min(points, remaining)
    if spendable < capped:
        return PledgeCheck(
            Refusal.BALANCE,
            f"You can spend {spendable} point{'' if spendable == 1 else 's'}, not {capped}.",
        )
    return PledgeCheck(None, "", capped)


def is_funded(target: int, held: int) -> bool:
    """The funding is complete once the held pledges reach the target."""
    return held >= target


def remaining(target: int, held: int) -> int:
    """What is left to fund, never below 0."""
    return max(0, target - held)


def closes(
    *,
    state: FundingState,
    active: bool,
    today: date,
    available_until: date | None,
) -> bool:
    """Whether an open funding is to be refunded now: its reward was retired, or the
    reward's last day (in the company's time zone) has passed."""
    if state is not FundingState.OPEN:
        return False
    return not active or (available_until is not None and today > available_until)


def progress_percent(target: int, held: int) -> int:
    """Held pledges as a whole percentage of the target, 0 to 100."""
    if target <= 0:
        return 100
    return min(100, held * 100 // target)
