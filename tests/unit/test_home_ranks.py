"""The home page's ranks beside the week's start: competition ranks, and the change."""

from __future__ import annotations

import pytest

from scoring.home_ranks import RankChange, competition_ranks, rank_change


@pytest.mark.parametrize(
    ("points", "ranks"),
    [
        ({}, {}),
        ({7: 10}, {7: 1}),
        ({1: 50, 2: 50, 3: 30}, {1: 1, 2: 1, 3: 3}),  # a tie shares a rank, the next skips
        ({1: 0, 2: -5, 3: 0}, {1: 1, 3: 1, 2: 3}),  # a zero or negative total is ranked
        ({1: 5, 2: 9, 3: 9, 4: 9, 5: 1}, {2: 1, 3: 1, 4: 1, 1: 4, 5: 5}),
    ],
)
def test_competition_ranks(points, ranks):
    assert competition_ranks(points) == ranks


@pytest.mark.parametrize(
    ("before", "now", "compared", "change", "words"),
    [
        (3, 1, True, RankChange(places=2), "up 2 places since last week"),
        (1, 2, True, RankChange(places=-1), "down 1 place since last week"),
        (4, 4, True, RankChange(places=0), "same place as last week"),
        (None, 5, True, RankChange(new=True), "new on this board since last week"),
        # No snapshot (lost, not written yet): nothing is claimed.
        (3, 1, False, RankChange(), ""),
        (None, 1, False, RankChange(), ""),
        # No rank now (hidden, opted out, nothing this period): nothing is claimed.
        (2, None, True, RankChange(), ""),
    ],
)
def test_rank_change(before, now, compared, change, words):
    found = rank_change(before, now, compared)
    assert found == change
    assert found.words() == words
    assert found.known is bool(words)
