"""Potential reach and earned-media value, said honestly.

Potential reach adds up the audience each sharer declared on the network they shared
to, once per share (as the vendors count it: connections x shares). It is an upper
bound: audiences overlap, and only some of an audience sees a post. Earned-media value
prices what an advertiser would have paid for the same attention, as a range:

    value = CPM x (reach x seen%) / 1000 + CPC x clicks

low with every assumption at its low end, high with every one at its high end. The
assumptions are the company's (per network) or the defaults below, and are shown
beside the figure; measured clicks come first on every page.
"""

from __future__ import annotations

from dataclasses import dataclass

from scoring.vocabulary import Channel

REACH_FORMULA = (
    "potential reach = the sum, over the shares made, of the audience the sharer had "
    "declared on that network when sharing (no discount for overlapping audiences)"
)
VALUE_FORMULA = "value = CPM * (potential reach * seen %) / 1000 + CPC * counted clicks"


@dataclass(frozen=True)
class Assumptions:
    """What a network's attention costs, as (low, high) ranges: cost per thousand
    impressions and per click in cents, and the percentage of an audience that sees
    a post."""

    cpm_cents: tuple[int, int]
    cpc_cents: tuple[int, int]
    seen_percent: tuple[int, int]


# Public list prices of paid posts, rounded, in euro cents; seen %: organic posts reach a
# few percent of an audience. Companies set their own.
DEFAULTS: dict[Channel, Assumptions] = {
    Channel.LINKEDIN: Assumptions((800, 3500), (200, 600), (2, 10)),
    Channel.X: Assumptions((300, 800), (50, 200), (1, 5)),
    Channel.FACEBOOK: Assumptions((500, 1200), (40, 150), (2, 6)),
    Channel.XING: Assumptions((1000, 3000), (200, 500), (2, 8)),
    Channel.INSTAGRAM: Assumptions((500, 1000), (50, 200), (2, 8)),
    Channel.EMAIL: Assumptions((0, 0), (50, 150), (0, 0)),
}
MAX_CENTS = 1_000_000  # 10,000 € per thousand impressions or per click: surely a typo


def assumptions_problem(assumptions: Assumptions) -> dict[str, str]:
    """What is wrong with a set of assumptions, by field (empty: nothing)."""
    problems = {}
    for name, (low, high), top in (
        ("cpm_cents", assumptions.cpm_cents, MAX_CENTS),
        ("cpc_cents", assumptions.cpc_cents, MAX_CENTS),
        ("seen_percent", assumptions.seen_percent, 100),
    ):
        if not 0 <= low <= top or not 0 <= high <= top:
            problems[name] = f"must be between 0 and {top}"
        elif low > high:
            problems[name] = "the low end must not be above the high end"
    return problems


def earned_media_value(reach: int, clicks: int, assumptions: Assumptions) -> tuple[int, int]:
    """The (low, high) value in cents of a network's potential reach and counted
    clicks; whole cents, rounded down, so the range never claims more than it should."""

    def value(end: int) -> int:
        cpm, cpc, seen = (
            assumptions.cpm_cents[end],
            assumptions.cpc_cents[end],
            assumptions.seen_percent[end],
        )
        return cpm * reach * seen // 100_000 + cpc * clicks

    return value(0), value(1)
