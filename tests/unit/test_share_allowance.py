"""What the share caps leave an employee (scoring.sharing.share_allowance): counts left
today, this week and per channel, and when the next share is possible."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scoring.sharing import PriorShare, ShareCaps, share_allowance
from scoring.vocabulary import Channel

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 4, 15, 0, tzinfo=BERLIN)  # a Wednesday afternoon
OFF = ShareCaps(
    per_day=None, per_week=None, per_channel_per_day=None, per_content=None, min_spacing=None
)
LI, X = Channel.LINKEDIN, Channel.X


def shared(hours_ago: float, channel: Channel = LI, content_id: int = 1) -> PriorShare:
    return PriorShare(NOW - timedelta(hours=hours_ago), channel, content_id)


@pytest.mark.parametrize(
    ("caps", "prior", "today", "week", "linkedin", "x", "blocked_by", "next_at"),
    [
        # every cap off: nothing is counted, nothing blocks
        (OFF, [shared(1)], None, None, None, None, None, None),
        # the gentle defaults, nothing shared yet
        (ShareCaps(), [], 3, 10, 2, 2, None, None),
        # two today on LinkedIn, one yesterday: the day counts only today's
        (ShareCaps(min_spacing=None), [shared(1), shared(2), shared(20)], 1, 7, 0, 2, None, None),
        # the day is used up: the next share is possible tomorrow at midnight
        (
            ShareCaps(min_spacing=None),
            [shared(1, X), shared(2), shared(3, X)],
            0,
            7,
            1,
            0,
            "per_day",
            datetime(2026, 3, 5, tzinfo=BERLIN),
        ),
        # the week is used up on a Wednesday: next Monday
        (
            ShareCaps(per_day=None, per_week=2, per_channel_per_day=None, min_spacing=None),
            [shared(30), shared(50)],
            None,
            0,
            None,
            None,
            "per_week",
            datetime(2026, 3, 9, tzinfo=BERLIN),
        ),
        # within the spacing: the next share half an hour after the last
        (
            ShareCaps(),
            [shared(0.25)],
            2,
            9,
            1,
            2,
            "min_spacing",
            NOW - timedelta(hours=0.25) + timedelta(minutes=30),
        ),
        # counts never go below zero
        (
            ShareCaps(per_day=1, min_spacing=None),
            [shared(1), shared(2)],
            0,
            8,
            0,
            2,
            "per_day",
            None,
        ),
    ],
)
def test_what_the_caps_leave(caps, prior, today, week, linkedin, x, blocked_by, next_at):
    allowance = share_allowance(caps, prior, now=NOW, zone=BERLIN)
    assert (allowance.today_left, allowance.week_left) == (today, week)
    assert (allowance.per_channel_left[LI], allowance.per_channel_left[X]) == (linkedin, x)
    assert allowance.blocked_by == blocked_by
    if next_at is not None:
        assert allowance.next_allowed_at == next_at
    assert allowance.per_channel_left.keys() == set(Channel)


@pytest.mark.parametrize(
    ("per_content", "counts", "item", "left"),
    [
        (2, {}, 7, 2),
        (2, {7: 1}, 7, 1),
        (2, {7: 5}, 7, 0),
        (2, {8: 2}, 7, 2),
        (None, {7: 5}, 7, None),  # the per-item cap is off
    ],
)
def test_what_is_left_of_an_item(per_content, counts, item, left):
    caps = ShareCaps(per_content=per_content)
    allowance = share_allowance(caps, [], now=NOW, zone=BERLIN, per_item_counts=counts)
    assert allowance.item_left(item) == left


def test_a_week_that_starts_on_sunday():
    caps = ShareCaps(per_day=None, per_week=1, per_channel_per_day=None, min_spacing=None)
    sunday = shared(24 * 3 + 15 - 12)  # Sunday 12:00
    assert share_allowance(caps, [sunday], now=NOW, zone=BERLIN).week_left == 1
    assert share_allowance(caps, [sunday], now=NOW, zone=BERLIN, first_weekday=6).week_left == 0
