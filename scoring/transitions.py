"""A state machine as data: which moves exist, and who may make each.

Redemptions (``rewards.redemptions``) and challenges (``scoring.challenges``) each
declare their table; this module answers the two questions asked of it: may this party
make this move, and from which states may it move to a target (what a conditional
``UPDATE ... WHERE state IN (...)`` must find, so that of two racing moves only one
happens).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class TransitionRefused(Exception):
    """The move is not allowed from this state, or not to this party."""

    def __init__(self, message: str, current: StrEnum, target: StrEnum):
        super().__init__(message)
        self.message = message
        self.current = current
        self.target = target


@dataclass(frozen=True)
class Transitions:
    noun: str  # what moves, for refusals: "redemption", "challenge"
    # (from, to) -> who may make the move. Anything missing is not allowed to anybody.
    moves: Mapping[tuple[StrEnum, StrEnum], frozenset[StrEnum]]
    # How refusals name the parties; a party left out here is never named to people.
    party_words: Mapping[StrEnum, str]

    def sources(self, target: StrEnum, party: StrEnum) -> frozenset:
        """The states from which ``party`` may move to ``target``."""
        return frozenset(
            src for (src, dst), who in self.moves.items() if dst == target and party in who
        )

    def check(self, current: StrEnum, target: StrEnum, party: StrEnum) -> None:
        allowed = self.moves.get((current, target))
        if allowed is None:
            raise TransitionRefused(
                f"A {current.value} {self.noun} cannot become {target.value}.", current, target
            )
        if party not in allowed:
            named = [self.party_words[p] for p in sorted(allowed) if p in self.party_words]
            raise TransitionRefused(
                f"Only {' or '.join(named)} can make it {target.value}.", current, target
            )
