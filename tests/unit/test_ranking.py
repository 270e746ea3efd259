"""Competition ranking and the exact tie-break encoding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.ranking import (
    EPOCH,
    MAX_POINTS,
    MAX_SCORE,
    TIME_BITS,
    TIME_LIMIT,
    Standing,
    competition_rank,
    decode_points,
    decode_second,
    encode_score,
    first_score,
    rank_standings,
    tie_second,
)

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def test_ties_share_a_rank_and_the_next_rank_is_skipped():
    standings = [Standing(1, 50, T0 + timedelta(hours=2)), Standing(2, 50, T0), Standing(3, 30, T0)]
    ranked = rank_standings(standings)
    assert [(r.rank, r.member_id) for r in ranked] == [(1, 2), (1, 1), (3, 3)]


def test_within_a_tie_at_the_same_second_the_lower_id_comes_first():
    ranked = rank_standings([Standing(9, 10, T0), Standing(4, 10, T0)])
    assert [r.member_id for r in ranked] == [4, 9]


def test_ties_count_whole_seconds_as_the_boards_do():
    later_in_the_second = T0 + timedelta(microseconds=900_000)
    ranked = rank_standings([Standing(4, 10, later_in_the_second), Standing(9, 10, T0)])
    assert [r.member_id for r in ranked] == [4, 9]
    ranked = rank_standings([Standing(4, 10, T0 + timedelta(seconds=1)), Standing(9, 10, T0)])
    assert [r.member_id for r in ranked] == [9, 4]


def test_negative_totals_rank_below_zero():
    ranked = rank_standings([Standing(1, -5, T0), Standing(2, 0, T0), Standing(3, -5, T0)])
    assert [(r.rank, r.member_id) for r in ranked] == [(1, 2), (2, 1), (2, 3)]


@pytest.mark.parametrize(("points", "expected"), [(50, 1), (30, 3), (20, 4), (10, 5), (60, 1)])
def test_competition_rank_counts_higher_scores(points, expected):
    assert competition_rank(points, [50, 50, 30, 20]) == expected


LATEST = EPOCH + timedelta(seconds=TIME_LIMIT)


@pytest.mark.parametrize(
    ("points", "at", "score"),
    [
        (-MAX_POINTS, LATEST, MAX_SCORE),
        (MAX_POINTS, EPOCH, -MAX_SCORE + TIME_LIMIT),
        (MAX_POINTS, LATEST, -MAX_SCORE + 2 * TIME_LIMIT),
        (-MAX_POINTS, EPOCH, MAX_SCORE - TIME_LIMIT),
    ],
)
def test_the_extreme_scores_are_exact_in_a_double(points, at, score):
    assert MAX_SCORE == 2**53 - 1
    encoded = encode_score(points, at)
    assert encoded == score
    assert abs(encoded) <= MAX_SCORE
    for neighbour in (encoded - 1, encoded, encoded + 1):  # neighbours stay distinct
        assert int(float(neighbour)) == neighbour
    assert decode_points(float(encoded)) == points
    assert decode_second(float(encoded)) == tie_second(at)


def test_beyond_the_range_a_double_would_round():
    """Why the bound is where it is: one more point and neighbours merge."""
    beyond = (MAX_POINTS + 1) * 2**TIME_BITS + TIME_LIMIT  # one point more than allowed
    assert float(beyond) == float(beyond + 1)


@pytest.mark.parametrize("points", [MAX_POINTS + 1, -MAX_POINTS - 1])
def test_out_of_range_points_are_refused(points):
    with pytest.raises(ValueError, match="encodable range"):
        encode_score(points, T0)


@pytest.mark.parametrize(
    ("at", "second"),
    [
        (EPOCH - timedelta(days=400), 0),
        (EPOCH - timedelta(microseconds=1), 0),
        (EPOCH + timedelta(microseconds=999_999), 0),
        (EPOCH + timedelta(seconds=1), 1),
        (LATEST + timedelta(days=1), TIME_LIMIT),
    ],
)
def test_tie_seconds_stay_in_the_encodable_span(at, second):
    assert tie_second(at) == second


@given(
    st.integers(-MAX_POINTS, MAX_POINTS),
    st.integers(0, TIME_LIMIT),
    st.integers(-MAX_POINTS, MAX_POINTS),
    st.integers(0, TIME_LIMIT),
)
def test_encoded_order_is_points_then_earlier_time(p1, s1, p2, s2):
    a = float(encode_score(p1, EPOCH + timedelta(seconds=s1)))
    b = float(encode_score(p2, EPOCH + timedelta(seconds=s2)))
    assert (a < b) == ((-p1, s1) < (-p2, s2))
    assert (decode_points(a), decode_second(a)) == (p1, s1)
    assert (a < first_score(p2)) == (p1 > p2)
