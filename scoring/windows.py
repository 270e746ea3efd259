"""Calendar windows: the day, week and month an event falls in, in the company's time
zone, with weeks starting on the company's chosen weekday (Monday by default).

Windows are named by stable keys ("2026-11-23", "2026-W47-0", "2026-11", "all") so that
cap counters and leaderboards of finished windows stay addressable.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from enum import StrEnum


class Window(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    ALL_TIME = "all_time"


def local_day_start(moment: datetime, zone: tzinfo) -> datetime:
    return moment.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)


def window_start(window: Window, moment: datetime, zone: tzinfo, week_start: int = 0) -> datetime:
    """The first instant (aware, in ``zone``) of the window containing ``moment``."""
    if window is Window.ALL_TIME:
        raise ValueError("the all-time window has no start")
    day = local_day_start(moment, zone)
    if window is Window.DAY:
        return day
    if window is Window.WEEK:
        first = day.date() - timedelta(days=(day.weekday() - week_start) % 7)
    else:
        first = day.date().replace(day=1)
    return datetime(first.year, first.month, first.day, tzinfo=zone)


def window_end(window: Window, moment: datetime, zone: tzinfo, week_start: int = 0) -> datetime:
    """The first instant after the window containing ``moment`` (exclusive end)."""
    start = window_start(window, moment, zone, week_start)
    if window is Window.DAY:
        following = start.date() + timedelta(days=1)
    elif window is Window.WEEK:
        following = start.date() + timedelta(days=7)
    else:
        following = (start.date().replace(day=28) + timedelta(days=4)).replace(day=1)
    # Built from the calendar date, so daylight-saving changes inside do not shift it.
    return datetime(following.year, following.month, following.day, tzinfo=zone)


def window_key(window: Window, moment: datetime, zone: tzinfo, week_start: int = 0) -> str:
    """A stable name for the window containing ``moment``."""
    if window is Window.ALL_TIME:
        return "all"
    start = window_start(window, moment, zone, week_start)
    if window is Window.DAY:
        return start.strftime("%Y-%m-%d")
    if window is Window.MONTH:
        return start.strftime("%Y-%m")
    # Named by the date it starts on: unambiguous whatever weekday weeks start on.
    return f"w{start:%Y-%m-%d}"
