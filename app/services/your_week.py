""" "Your week": early in each company week, each person who did something in the week
before is told what (points, shares, counted clicks) and how their place on the
company board moved, from the ranks ``app.services.home_ranks`` keeps as each week
begins (this week's against last week's; left out when either is gone).

A clock job (``app.jobs.tell_weeks``) runs this; every notification has the key of its
week, so runs twice or on two workers tell each person once. What the summary says and
whether it is due are ``scoring.notifications``'s (``week_words``, ``week_due``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Event, LedgerLine, utcnow
from app.services import chat, home_ranks
from app.services.announcements import announce
from app.services.calendar import company_calendar
from app.services.leaderboards import Scope, Viewer, view_board
from app.services.notifications import Told
from app.services.people import participants
from app.urls import absolute_url, path_for
from scoring.chat import Post
from scoring.notifications import Kind, Week, amount, week_due, week_words
from scoring.vocabulary import EventKind
from scoring.windows import Window, window_key, window_start

CHUNK = 5_000


def _weeks(now: datetime) -> tuple[str, datetime, str, datetime]:
    """This company week's key and start, and last week's."""
    zone, first_weekday = company_calendar()
    began = window_start(Window.WEEK, now, zone, first_weekday)
    before = began - timedelta(seconds=1)
    return (
        window_key(Window.WEEK, now, zone, first_weekday),
        began,
        window_key(Window.WEEK, before, zone, first_weekday),
        window_start(Window.WEEK, before, zone, first_weekday),
    )


def last_week(start: datetime, end: datetime) -> dict[int, Week]:
    """person -> points, shares and counted clicks in [start, end): three grouped reads."""
    points = dict(
        db.session.execute(
            select(LedgerLine.employee_id, func.sum(LedgerLine.points))
            .where(LedgerLine.occurred_at >= start, LedgerLine.occurred_at < end)
            .group_by(LedgerLine.employee_id)
        ).all()
    )
    counts: Counter = Counter()
    for employee_id, kind, n in db.session.execute(
        select(Event.employee_id, Event.kind, func.count())
        .where(
            Event.kind.in_([EventKind.SHARE, EventKind.CLICK]),
            Event.occurred_at >= start,
            Event.occurred_at < end,
        )
        .group_by(Event.employee_id, Event.kind)
    ):
        counts[(employee_id, kind)] = n
    people = set(points) | {e for e, _kind in counts}
    return {
        e: Week(
            points=int(points.get(e) or 0),
            shares=counts[(e, EventKind.SHARE)],
            clicks=counts[(e, EventKind.CLICK)],
        )
        for e in people
    }


def _chunks(items: list) -> Iterator[list]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def tell_weeks(now: datetime | None = None) -> Iterator[int]:
    """Tell last week's summary to each person taking part who did something in it,
    a chunk at a time (the job commits after each); yields how many were told."""
    now = now or utcnow()
    week, began, previous, previous_began = _weeks(now)
    if not week_due(began, now):
        return
    home_ranks.ensure_snapshot(now)  # the ranks as this week began, if not kept yet
    after, before = home_ranks.company_ranks(week), home_ranks.company_ranks(previous)
    known = after is not None and before is not None
    weeks = last_week(previous_began, began)
    home = path_for("home.index")
    for ids in _chunks(participants(sorted(weeks))):
        told = []
        for e in ids:
            mine = weeks[e]
            if known:
                mine = Week(
                    mine.points, mine.shares, mine.clicks, before.get(e), after.get(e), True
                )
            words = week_words(mine)
            if words is not None:
                told.append(
                    Told(
                        e,
                        Kind.YOUR_WEEK,
                        key=f"week:{week}",
                        title="Your week",
                        body=words,
                        link=home,
                    )
                )
        yield announce(told, now)


# Last week's top, for chat channels ---------------------------------------------------

TOP = 5  # places in the post


def post_tops(now: datetime | None = None) -> int:
    """Early in the week, post last week's top of the company's board to the company's
    channels and of each team's board to its channels (names as the boards show them:
    pseudonyms stay pseudonyms, hidden people are not on boards); once per channel and
    week. Returns how many posts were queued."""
    now = now or utcnow()
    _, began, previous, _ = _weeks(now)
    if not week_due(began, now):
        return 0

    def top(team_id: int | None) -> Post | None:
        scope = Scope.COMPANY if team_id is None else Scope.TEAM
        board = view_board(
            Viewer(0, team_id), scope, Window.WEEK, team_id=team_id, period=previous, limit=TOP
        )
        if not board.rows:
            return None
        where = "the company" if team_id is None else board.team.name
        return Post(
            title=f"Last week's top in {where}",
            text="Thank you to everyone who shared.",
            lines=tuple(
                f"{row.rank}. {row.name}: {amount(row.points, 'points')}" for row in board.rows
            ),
            button="See the leaderboards",
            url=absolute_url("leaderboard_pages.show"),
        )

    return chat.post_weekly_tops(now, previous, top)
