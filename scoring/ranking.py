"""Fair ranking: standard competition ranking, earlier achiever first within a tie.

Scores 50, 50, 30 rank 1, 1, 3: a rank is the number of strictly higher scores plus one.
Within a tie, whoever reached the score first is listed first, then the lower id.

For a sorted set the tie-break is folded into one float:
``points * 2**TIME_BITS + (TIME_LIMIT - seconds since EPOCH when the score was reached)``.
Both parts are integers and the total stays below 2**53, so a float holds it exactly;
``MAX_POINTS`` and ``TIME_LIMIT`` are the bounds that guarantee it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
TIME_BITS = 32  # seconds: ~136 years after EPOCH
TIME_LIMIT = 2**TIME_BITS - 1
MAX_POINTS = 2 ** (53 - TIME_BITS) - 1  # 2,097,151 points on one board


def encode_score(points: int, reached_at: datetime) -> int:
    """One exactly representable number ordering by points, then earlier time."""
    if not 0 <= points <= MAX_POINTS:
        raise ValueError(f"points out of the encodable range 0..{MAX_POINTS}")
    seconds = int((reached_at - EPOCH).total_seconds())
    if not 0 <= seconds <= TIME_LIMIT:
        raise ValueError("time outside the encodable range")
    return points * 2**TIME_BITS + (TIME_LIMIT - seconds)


def decode_points(score: float) -> int:
    return int(score) >> TIME_BITS


def min_score_for(points: int) -> int:
    """The smallest encoded score with ``points``: ranks count scores at or above
    ``min_score_for(points + 1)``."""
    return points * 2**TIME_BITS


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
    """Order and rank standings: points high to low, earlier achiever, lower id."""
    ordered = sorted(standings, key=lambda s: (-s.points, s.reached_at, s.member_id))
    ranked: list[Ranked] = []
    for position, standing in enumerate(ordered, start=1):
        tied = ranked and ranked[-1].points == standing.points
        rank = ranked[-1].rank if tied else position
        ranked.append(Ranked(rank, standing.member_id, standing.points))
    return ranked


def competition_rank(points: int, all_points: Sequence[int]) -> int:
    return 1 + sum(1 for other in all_points if other > points)
