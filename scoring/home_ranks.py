"""A person's rank on a board now beside their rank when this company week began.

Ranks are the boards' standard competition ranks (``scoring.ranking``): 1 + the number
of members with more points; the time a total was reached orders members within a
tie but never changes their rank, so ranks alone can be compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


def competition_ranks(points: Mapping[int, int]) -> dict[int, int]:
    """member -> rank, for members -> points on one board."""
    ranks: dict[int, int] = {}
    ordered = sorted(points.items(), key=lambda item: -item[1])
    last_points, last_rank = None, 0
    for position, (member, total) in enumerate(ordered, start=1):
        if total != last_points:
            last_points, last_rank = total, position
        ranks[member] = last_rank
    return ranks


@dataclass(frozen=True)
class RankChange:
    """``places``: how many places up (negative: down); ``new``: on the board now and
    not when the week began. Neither: nothing to compare (no rank now, or the earlier
    ranks are not known), so nothing is shown."""

    places: int | None = None
    new: bool = False

    @property
    def known(self) -> bool:
        return self.new or self.places is not None

    def words(self) -> str:
        """Plain words for the arrow, for screen readers and the API's readers."""
        if self.new:
            return "new on this board since last week"
        if self.places is None:
            return ""
        if self.places == 0:
            return "same place as last week"
        direction = "up" if self.places > 0 else "down"
        count = abs(self.places)
        return f"{direction} {count} place{'' if count == 1 else 's'} since last week"


def rank_change(before: int | None, now: int | None, compared: bool) -> RankChange:
    """``compared``: the earlier ranks of this board are known (a snapshot exists).
    Without them, or without a rank now, no change is claimed: never a wrong arrow."""
    if not compared or now is None:
        return RankChange()
    if before is None:
        return RankChange(new=True)
    return RankChange(places=before - now)
