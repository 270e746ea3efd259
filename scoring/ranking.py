"""Fair ranking: standard competition ranking, earlier achiever first within a tie.

Scores 50, 50, 30 rank 1, 1, 3: a rank is the number of strictly higher scores plus one.
Within a tie, whoever reached the score first is listed first, then the lower id. The
time a score was reached counts in whole seconds (``tie_second``): two people who reach
the same total within one second are listed by id.

For a sorted set the points and the tie time fold into one number, listed in ascending
order (lowest score first):

    score = tie_second(reached_at) - points * 2**TIME_BITS

More points give a lower score; with equal points, the earlier second gives the lower
score; with equal scores, Redis lists members by their bytes, which for the boards'
fixed-width member names is id order. The tie second lies in 0..TIME_LIMIT, below
2**TIME_BITS, so it never reaches into the points. Points may be negative (a board of a
week can lose points for an earlier week's work). With |points| <= MAX_POINTS,
|score| <= MAX_POINTS * 2**TIME_BITS + TIME_LIMIT = 2**53 - 1: every score is an
integer a double holds exactly, and so are its neighbours.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
TIME_BITS = 32  # seconds: ~136 years after EPOCH
TIME_LIMIT = 2**TIME_BITS - 1
MAX_POINTS = 2 ** (53 - TIME_BITS) - 1  # 2,097,151 points on one board, either sign
MAX_SCORE = MAX_POINTS * 2**TIME_BITS + TIME_LIMIT  # == 2**53 - 1
SECOND = timedelta(seconds=1)


def tie_second(moment: datetime) -> int:
    """When a score was reached, as ties compare it: whole seconds since EPOCH, within
    the encodable span (anything before EPOCH counts as EPOCH)."""
    return min(max((moment - EPOCH) // SECOND, 0), TIME_LIMIT)


def encode_score(points: int, reached_at: datetime) -> int:
    """One exactly representable number; ascending order is board order."""
    if not -MAX_POINTS <= points <= MAX_POINTS:
        raise ValueError(f"points out of the encodable range -{MAX_POINTS}..{MAX_POINTS}")
    return tie_second(reached_at) - points * 2**TIME_BITS


def decode_points(score: float) -> int:
    return -(int(score) // 2**TIME_BITS)


def decode_second(score: float) -> int:
    return int(score) % 2**TIME_BITS


def first_score(points: int) -> int:
    """The lowest score with ``points`` (reached at EPOCH): exactly the members with
    more points score below it, so a rank is 1 + the count of scores below."""
    return -points * 2**TIME_BITS


@dataclass(frozen=True)
class Standing:
    member_id: int
    points: int
    reached_at: datetime


@dataclass(frozen=True)
class Ranked:
    rank: int
    member_id: int
    points: int


def rank_standings(standings: Iterable[Standing]) -> list[Ranked]:
    """Order and rank standings: points high to low, earlier second, lower id."""
    ordered = sorted(standings, key=lambda s: (-s.points, tie_second(s.reached_at), s.member_id))
    ranked: list[Ranked] = []
    for position, standing in enumerate(ordered, start=1):
        tied = ranked and ranked[-1].points == standing.points
        rank = ranked[-1].rank if tied else position
        ranked.append(Ranked(rank, standing.member_id, standing.points))
    return ranked


def competition_rank(points: int, all_points: Sequence[int]) -> int:
    return 1 + sum(1 for other in all_points if other > points)
