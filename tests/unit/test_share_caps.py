"""Share caps at their edges: the last second of a day and a week in the company's time
zone, across daylight-saving changes, and each cap's refusal with its next allowed time
(scoring.sharing.check_share_caps)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scoring.sharing import PriorShare, ShareCaps, check_share_caps
from scoring.vocabulary import Channel

BERLIN = ZoneInfo("Europe/Berlin")
OFF = ShareCaps(
    per_day=None, per_week=None, per_channel_per_day=None, per_content=None, min_spacing=None
)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def shares(*moments: datetime, channel: Channel = Channel.LINKEDIN, content_id: int = 1):
    return [PriorShare(moment, channel, content_id + i) for i, moment in enumerate(moments)]


def check(
    caps: ShareCaps,
    prior,
    now: datetime,
    *,
    channel=Channel.LINKEDIN,
    content_id=99,
    first_weekday: int = 0,
):
    return check_share_caps(
        caps,
        prior,
        channel=channel,
        content_id=content_id,
        now=now,
        zone=BERLIN,
        first_weekday=first_weekday,
    )


DAY = ShareCaps(
    per_day=2, per_week=None, per_channel_per_day=None, per_content=None, min_spacing=None
)


@pytest.mark.parametrize(
    ("prior", "now", "refused_until"),
    [
        # The last second of the day still belongs to it; midnight starts a new one.
        (
            shares(local(2025, 5, 14, 0, 0), local(2025, 5, 14, 9, 0)),
            local(2025, 5, 14, 23, 59, 59),
            local(2025, 5, 15),
        ),
        (
            shares(local(2025, 5, 14, 0, 0), local(2025, 5, 14, 9, 0)),
            local(2025, 5, 15, 0, 0),
            None,
        ),
        # A share at 23:59:59 yesterday does not count today.
        (
            shares(local(2025, 5, 13, 23, 59, 59), local(2025, 5, 14, 9, 0)),
            local(2025, 5, 14, 12),
            None,
        ),
        # Spring forward: a 23-hour day; the next share is at local midnight (22:00 UTC).
        (
            shares(local(2025, 3, 30, 1, 0), local(2025, 3, 30, 3, 30)),
            local(2025, 3, 30, 23, 59, 59),
            datetime(2025, 3, 30, 22, 0, tzinfo=UTC),
        ),
        # Fall back: a 25-hour day; 00:30 (+02:00) and 23:30 (+01:00) are the same day.
        (
            shares(local(2025, 10, 26, 0, 30), local(2025, 10, 26, 23, 30)),
            local(2025, 10, 26, 23, 59, 59),
            datetime(2025, 10, 26, 23, 0, tzinfo=UTC),
        ),
        (
            shares(local(2025, 10, 26, 0, 30), local(2025, 10, 26, 23, 30)),
            local(2025, 10, 27, 0, 0),
            None,
        ),
    ],
    ids=["last-second", "midnight", "yesterday", "spring-forward", "fall-back", "after-fall-back"],
)
def test_per_day_edges(prior, now, refused_until):
    refusal = check(DAY, prior, now)
    if refused_until is None:
        assert refusal is None
    else:
        assert refusal.cap == "per_day"
        assert refusal.next_allowed_at == refused_until
        assert "2 times today" in refusal.message


WEEK = ShareCaps(
    per_day=None, per_week=2, per_channel_per_day=None, per_content=None, min_spacing=None
)


@pytest.mark.parametrize(
    ("first_weekday", "prior", "now", "refused_until"),
    [
        # Weeks start on Monday: Sunday 23:59:59 is the week's last second.
        (
            0,
            shares(local(2025, 5, 12, 0, 0), local(2025, 5, 15, 9)),
            local(2025, 5, 18, 23, 59, 59),
            local(2025, 5, 19),
        ),
        (
            0,
            shares(local(2025, 5, 12, 0, 0), local(2025, 5, 15, 9)),
            local(2025, 5, 19, 0, 0),
            None,
        ),
        (
            0,
            shares(local(2025, 5, 11, 23, 59, 59), local(2025, 5, 15, 9)),
            local(2025, 5, 18, 12),
            None,
        ),
        # Weeks starting on Sunday (6): Saturday night is the end.
        (
            6,
            shares(local(2025, 5, 11, 0, 0), local(2025, 5, 15, 9)),
            local(2025, 5, 17, 23, 59, 59),
            local(2025, 5, 18),
        ),
        (
            6,
            shares(local(2025, 5, 11, 0, 0), local(2025, 5, 15, 9)),
            local(2025, 5, 18, 0, 0),
            None,
        ),
        # A week with the change to summer time is 167 hours long.
        (
            0,
            shares(local(2025, 3, 24, 10), local(2025, 3, 26, 10)),
            local(2025, 3, 30, 23, 59, 59),
            datetime(2025, 3, 30, 22, 0, tzinfo=UTC),
        ),
    ],
    ids=[
        "sunday-last-second",
        "monday",
        "previous-sunday",
        "sunday-start-saturday",
        "sunday-start-sunday",
        "dst-week",
    ],
)
def test_per_week_edges(first_weekday, prior, now, refused_until):
    refusal = check(WEEK, prior, now, first_weekday=first_weekday)
    if refused_until is None:
        assert refusal is None
    else:
        assert (refusal.cap, refusal.next_allowed_at) == ("per_week", refused_until)
        assert "this week" in refusal.message


def test_per_channel_per_day_refuses_only_that_channel():
    caps = ShareCaps(
        per_day=None, per_week=None, per_channel_per_day=2, per_content=None, min_spacing=None
    )
    prior = shares(local(2025, 5, 14, 8), local(2025, 5, 14, 9), channel=Channel.LINKEDIN)
    now = local(2025, 5, 14, 23, 59, 59)
    refusal = check(caps, prior, now, channel=Channel.LINKEDIN)
    assert (refusal.cap, refusal.next_allowed_at) == ("per_channel_per_day", local(2025, 5, 15))
    assert "on LinkedIn today" in refusal.message
    assert check(caps, prior, now, channel=Channel.X) is None
    assert check(caps, prior, local(2025, 5, 15, 0, 0), channel=Channel.LINKEDIN) is None


def test_per_content_refuses_for_good():
    caps = ShareCaps(
        per_day=None, per_week=None, per_channel_per_day=None, per_content=2, min_spacing=None
    )
    prior = [
        PriorShare(local(2024, 1, 5, 9), Channel.LINKEDIN, 7),
        PriorShare(local(2025, 5, 1, 9), Channel.X, 7),
    ]
    refusal = check(caps, prior, local(2025, 5, 14, 12), content_id=7)
    assert (refusal.cap, refusal.next_allowed_at) == ("per_content", None)
    assert check(caps, prior, local(2025, 5, 14, 12), content_id=8) is None
    assert check(caps, prior[:1], local(2025, 5, 14, 12), content_id=7) is None


@pytest.mark.parametrize(
    ("since_last", "refused"),
    [
        (timedelta(minutes=29, seconds=59), True),
        (timedelta(minutes=30), False),
        (timedelta(0), True),
    ],
)
def test_min_spacing(since_last, refused):
    caps = ShareCaps(
        per_day=None,
        per_week=None,
        per_channel_per_day=None,
        per_content=None,
        min_spacing=timedelta(minutes=30),
    )
    last = local(2025, 5, 14, 10, 0)
    refusal = check(caps, shares(local(2025, 5, 14, 8), last), last + since_last)
    if refused:
        assert (refusal.cap, refusal.next_allowed_at) == ("min_spacing", local(2025, 5, 14, 10, 30))
        assert "30 minutes" in refusal.message
    else:
        assert refusal is None


def test_switched_off_caps_allow_everything():
    many = shares(*(local(2025, 5, 14, 9) for _ in range(50)))
    assert check(OFF, many, local(2025, 5, 14, 9)) is None


def test_the_gentle_defaults():
    prior = shares(local(2025, 5, 14, 8), local(2025, 5, 14, 9))
    caps = ShareCaps()
    assert check(caps, prior, local(2025, 5, 14, 9, 10), channel=Channel.X).cap == "min_spacing"
    assert check(caps, prior, local(2025, 5, 14, 9, 30)).cap == "per_channel_per_day"
    assert check(caps, prior, local(2025, 5, 14, 9, 30), channel=Channel.X) is None
