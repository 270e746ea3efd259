"""Leaderboards in a real Redis: ranking, windows, exactly-once application, rebuilds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis

from app.boards import BoardLine, BoardStore, Row, board_key, member_text
from app.extensions import get_redis
from scoring.ranking import EPOCH, MAX_POINTS, TIME_LIMIT, Standing, encode_score, rank_standings

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 11, 18, 9, tzinfo=UTC)  # a Wednesday
COMPANY = board_key("company", "all")


@pytest.fixture
def store(ctx) -> BoardStore:
    return BoardStore(get_redis())


def line(line_id, employee, points, at=T0, team=None) -> BoardLine:
    return BoardLine(line_id, employee, team, points, at)


def apply(store, *lines):
    return store.apply_lines(lines, BERLIN)


def test_ties_rank_equal_and_the_earlier_achiever_is_listed_first(store):
    apply(store, line(1, 10, 50, T0 + timedelta(hours=1)), line(2, 11, 50, T0), line(3, 12, 30, T0))
    page = store.page(COMPANY)
    assert page.rows == [Row(1, 11, 50), Row(1, 10, 50), Row(3, 12, 30)]
    assert page.size == 3


def test_a_zero_point_line_does_not_change_when_a_score_was_reached(store):
    apply(store, line(1, 10, 50, T0), line(2, 11, 50, T0 + timedelta(hours=1)))
    apply(store, line(3, 10, 0, T0 + timedelta(hours=2)))  # capped to 0 later on
    assert [r.member_id for r in store.page(COMPANY).rows] == [10, 11]


def test_each_line_is_applied_once(store):
    lines = [line(1, 10, 5), line(2, 10, 7)]
    assert apply(store, *lines) == 2
    assert apply(store, *lines) == 0
    assert store.standing(COMPANY, 10).points == 12


def test_a_line_lands_on_company_and_team_boards_of_its_windows(store):
    apply(store, line(1, 10, 5, T0, team=3))
    keys = {
        board_key(scope, window)
        for scope in ("company", "team:3")
        for window in ("all", "2026-11", "w2026-11-16")
    }
    for key in keys:
        assert store.standing(key, 10).points == 5
    assert store.standing(board_key("team:4", "all"), 10).rank is None


def test_week_boards_follow_the_company_time_zone(store):
    sunday_night_utc = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)  # Monday in Berlin
    apply(store, line(1, 10, 5, sunday_night_utc))
    assert store.standing(board_key("company", "w2026-11-23"), 10).points == 5
    assert store.standing(board_key("company", "w2026-11-16"), 10).rank is None


def test_pages_by_offset_and_around_me_clipped_at_the_top(store):
    apply(store, *[line(i, 100 + i, 100 - i) for i in range(1, 21)])  # member 101 leads
    assert [r.rank for r in store.page(COMPANY, offset=5, limit=3).rows] == [6, 7, 8]
    around = store.around(COMPANY, 110, limit=6)
    assert [r.member_id for r in around.rows] == [107, 108, 109, 110, 111, 112]
    top = store.around(COMPANY, 102, limit=6)
    assert [r.rank for r in top.rows] == [1, 2, 3, 4, 5, 6]
    assert store.around(COMPANY, 999, limit=6) is None


def test_standing_of_a_member_and_of_someone_absent(store):
    apply(store, line(1, 10, 50), line(2, 11, 50), line(3, 12, 30))
    assert store.standing(COMPANY, 12) == store.standing(COMPANY, 12).__class__(3, 30, 3)
    absent = store.standing(COMPANY, 99)
    assert (absent.rank, absent.points, absent.size) == (None, 0, 3)


def test_removing_a_member_takes_them_off_every_board_without_gaps(store):
    apply(store, line(1, 10, 50, team=3), line(2, 11, 40, team=3), line(3, 12, 30, team=3))
    store.remove_member(10)
    assert store.page(COMPANY).rows == [Row(1, 11, 40), Row(2, 12, 30)]
    assert store.standing(board_key("team:3", "2026-11"), 10).rank is None


def test_a_rebuilt_board_equals_the_live_one(store):
    apply(
        store,
        line(1, 10, 50, T0),
        line(2, 11, 50, T0 + timedelta(minutes=1)),
        line(3, 10, 0, T0 + timedelta(hours=3)),
        line(4, 12, 30, T0),
    )
    live = store.scores(COMPANY)
    store.replace_board(COMPANY, [(10, 50, T0), (11, 50, T0 + timedelta(minutes=1)), (12, 30, T0)])
    assert store.scores(COMPANY) == live


def test_the_largest_points_at_the_latest_time_survive_redis_exactly(store):
    latest = EPOCH + timedelta(seconds=TIME_LIMIT)
    apply(
        store,
        line(1, 10, MAX_POINTS - 1, latest),
        line(2, 11, MAX_POINTS - 1, latest - timedelta(seconds=1)),
    )
    apply(store, line(3, 10, 1, latest))
    raw = get_redis().zscore(COMPANY, member_text(10))
    assert raw == encode_score(MAX_POINTS, latest)
    assert store.page(COMPANY).rows == [Row(1, 10, MAX_POINTS), Row(2, 11, MAX_POINTS - 1)]


def test_the_lowest_totals_at_the_earliest_time_survive_redis_exactly(store):
    apply(store, line(1, 10, -(MAX_POINTS - 1), EPOCH), line(2, 11, -MAX_POINTS + 1, EPOCH))
    apply(store, line(3, 10, -1, EPOCH))
    raw = get_redis().zscore(COMPANY, member_text(10))
    assert raw == encode_score(-MAX_POINTS, EPOCH)
    assert store.page(COMPANY).rows == [Row(1, 11, -MAX_POINTS + 1), Row(2, 10, -MAX_POINTS)]
    assert store.standing(COMPANY, 10).rank == 2


@pytest.mark.parametrize("sign", [1, -1])
def test_a_total_beyond_the_exact_range_is_refused_and_changes_nothing(store, sign):
    apply(store, line(1, 10, sign * MAX_POINTS))
    before = store.scores(COMPANY)
    with pytest.raises(redis.ResponseError, match="encodable range"):
        apply(store, line(2, 11, 5), line(3, 10, sign))
    after = store.scores(COMPANY)
    assert (after[10], after[11][0]) == (before[10], 5)
    assert apply(store, line(2, 11, 5)) == 0  # applied before the refusal, and remembered
    with pytest.raises(redis.ResponseError):  # the refused line was not remembered
        apply(store, line(3, 10, sign))


def test_ties_reached_in_the_same_second_list_the_lower_id_first(store):
    """+22 given at the same moment to 10, 9 and 8: listed 8, 9, 10 in every read."""
    apply(store, *[line(member, member, 22, T0) for member in (10, 9, 8)])
    apply(store, line(4, 7, 30, T0), line(5, 11, 5, T0))
    expected = [Row(1, 7, 30), Row(2, 8, 22), Row(2, 9, 22), Row(2, 10, 22), Row(5, 11, 5)]
    assert store.page(COMPANY).rows == expected
    assert store.page(COMPANY, offset=1, limit=2).rows == expected[1:3]
    assert store.around(COMPANY, 10, limit=2).rows == expected[2:4]
    assert store.standing(COMPANY, 9).rank == 2
    pure = rank_standings(
        Standing(m, p, T0) for m, p in [(7, 30), (8, 22), (9, 22), (10, 22), (11, 5)]
    )
    assert [(r.rank, r.member_id, r.points) for r in pure] == [
        (r.rank, r.member_id, r.points) for r in expected
    ]
    store.replace_board(
        COMPANY, [(m, p, T0) for m, p in [(10, 22), (11, 5), (9, 22), (7, 30), (8, 22)]]
    )
    assert store.page(COMPANY).rows == expected


def test_ids_of_different_lengths_tie_in_id_order(store):
    members = [8, 9, 10, 11, 100, 10**9 + 7]
    apply(store, *[line(i, member, 3, T0) for i, member in enumerate(reversed(members))])
    assert store.order(COMPANY) == members


def test_negative_totals_are_listed_below_zero_and_rebuild_alike(store):
    apply(store, line(1, 10, 5, T0), line(2, 11, -7, T0), line(3, 12, 0, T0))
    apply(store, line(4, 10, -9, T0 + timedelta(minutes=1)))
    assert store.page(COMPANY).rows == [Row(1, 12, 0), Row(2, 10, -4), Row(3, 11, -7)]
    live = store.scores(COMPANY)
    store.replace_board(
        COMPANY, [(10, -4, T0 + timedelta(minutes=1)), (11, -7, T0), (12, 0, EPOCH)]
    )
    assert store.scores(COMPANY) == live
