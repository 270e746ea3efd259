"""Day, week and month windows in the company's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scoring.windows import Window, window_end, window_key, window_start

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("window", "moment", "zone", "week_start", "key"),
    [
        # 23:30 UTC on Sunday is already Monday in Berlin: a new day and a new week.
        (Window.DAY, utc(2026, 11, 22, 23, 30), BERLIN, 0, "2026-11-23"),
        (Window.DAY, utc(2026, 11, 22, 22, 59, 59), BERLIN, 0, "2026-11-22"),
        (Window.WEEK, utc(2026, 11, 22, 22, 59, 59), BERLIN, 0, "w2026-11-16"),
        (Window.WEEK, utc(2026, 11, 22, 23, 0, 0), BERLIN, 0, "w2026-11-23"),
        # Weeks starting on Sunday (6).
        (Window.WEEK, utc(2026, 11, 22, 12), BERLIN, 6, "w2026-11-22"),
        (Window.WEEK, utc(2026, 11, 21, 12), BERLIN, 6, "w2026-11-15"),
        (Window.MONTH, utc(2026, 11, 30, 23, 0), BERLIN, 0, "2026-12"),
        (Window.MONTH, utc(2026, 11, 30, 22, 59, 59), BERLIN, 0, "2026-11"),
        (Window.MONTH, utc(2026, 12, 1, 3), NEW_YORK, 0, "2026-11"),
        (Window.ALL_TIME, utc(2026, 11, 30), BERLIN, 0, "all"),
    ],
)
def test_window_keys(window, moment, zone, week_start, key):
    assert window_key(window, moment, zone, week_start) == key


@pytest.mark.parametrize(
    ("window", "moment", "start", "end"),
    [
        # The week of the switch to summer time has 167 hours.
        (
            Window.WEEK,
            utc(2026, 3, 29, 12),
            datetime(2026, 3, 23, tzinfo=BERLIN),
            datetime(2026, 3, 30, tzinfo=BERLIN),
        ),
        (
            Window.DAY,
            utc(2026, 10, 25, 12),
            datetime(2026, 10, 25, tzinfo=BERLIN),
            datetime(2026, 10, 26, tzinfo=BERLIN),
        ),
        (
            Window.MONTH,
            utc(2026, 2, 14),
            datetime(2026, 2, 1, tzinfo=BERLIN),
            datetime(2026, 3, 1, tzinfo=BERLIN),
        ),
        (
            Window.MONTH,
            utc(2026, 12, 14),
            datetime(2026, 12, 1, tzinfo=BERLIN),
            datetime(2027, 1, 1, tzinfo=BERLIN),
        ),
    ],
)
def test_window_bounds_follow_the_calendar_across_daylight_saving(window, moment, start, end):
    assert window_start(window, moment, BERLIN) == start
    assert window_end(window, moment, BERLIN) == end


def length(window: Window, moment: datetime) -> timedelta:
    # Via UTC: Python subtracts two times of one zone as wall-clock times.
    start = window_start(window, moment, BERLIN).astimezone(UTC)
    return window_end(window, moment, BERLIN).astimezone(UTC) - start


def test_daylight_saving_days_have_their_real_length():
    assert length(Window.DAY, utc(2026, 3, 29, 12)) == timedelta(hours=23)
    assert length(Window.DAY, utc(2026, 10, 25, 12)) == timedelta(hours=25)
    assert length(Window.WEEK, utc(2026, 3, 29, 12)) == timedelta(hours=167)


def test_the_last_second_of_a_week_belongs_to_it():
    end = window_end(Window.WEEK, utc(2026, 11, 20), BERLIN)
    last_second = end - timedelta(seconds=1)
    assert window_key(Window.WEEK, last_second, BERLIN) == "w2026-11-16"
    assert window_key(Window.WEEK, end, BERLIN) == "w2026-11-23"


def test_all_time_has_no_start():
    with pytest.raises(ValueError, match="no start"):
        window_start(Window.ALL_TIME, utc(2026, 1, 1), BERLIN)
