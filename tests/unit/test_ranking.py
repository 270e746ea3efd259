"""Competition ranking and the exact tie-break encoding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.ranking import (
    EPOCH,
    MAX_POINTS,
    TIME_LIMIT,
    Standing,
    competition_rank,
    decode_points,
    encode_score,
    min_score_for,
    rank_standings,
)

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def test_ties_share_a_rank_and_the_next_rank_is_skipped():
    standings = [Standing(1, 50, T0 + timedelta(hours=2)), Standing(2, 50, T0), Standing(3, 30, T0)]
    ranked = rank_standings(standings)
    assert [(r.rank, r.member_id) for r in ranked] == [(1, 2), (1, 1), (3, 3)]


def test_within_a_tie_at_the_same_second_the_lower_id_comes_first():
    ranked = rank_standings([Standing(9, 10, T0), Standing(4, 10, T0)])
    assert [r.member_id for r in ranked] == [4, 9]


@pytest.mark.parametrize(("points", "expected"), [(50, 1), (30, 3), (20, 4), (10, 5), (60, 1)])
def test_competition_rank_counts_higher_scores(points, expected):
    assert competition_rank(points, [50, 50, 30, 20]) == expected


def test_the_largest_encoded_score_is_exact_in_a_float():
    latest = EPOCH + timedelta(seconds=TIME_LIMIT)
    earliest = EPOCH
    highest = encode_score(MAX_POINTS, earliest)
    assert highest < 2**53
    assert float(highest) == highest
    assert float(highest - 1) != float(highest)  # neighbours stay distinct
    assert decode_points(float(encode_score(MAX_POINTS, latest))) == MAX_POINTS


@pytest.mark.parametrize(
    ("points", "at"),
    [
        (MAX_POINTS + 1, T0),
        (-1, T0),
        (5, EPOCH - timedelta(seconds=1)),
        (5, EPOCH + timedelta(seconds=TIME_LIMIT + 1)),
    ],
)
def test_out_of_range_scores_are_refused(points, at):
    with pytest.raises(ValueError, match="range"):
        encode_score(points, at)


@given(
    st.integers(0, MAX_POINTS),
    st.integers(0, TIME_LIMIT),
    st.integers(0, MAX_POINTS),
    st.integers(0, TIME_LIMIT),
)
def test_encoded_order_is_points_then_earlier_time(p1, s1, p2, s2):
    a = float(encode_score(p1, EPOCH + timedelta(seconds=s1)))
    b = float(encode_score(p2, EPOCH + timedelta(seconds=s2)))
    assert (a > b) == ((p1, -s1) > (p2, -s2))
    assert decode_points(a) == p1
    assert (a >= min_score_for(p2 + 1)) == (p1 > p2)
