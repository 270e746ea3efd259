"""Where each person stood on the boards when this company week began, so the home
page can say "up 2 since last week". The one module that knows these key names.

Keys (namespace ``chorus:home-ranks:``), each for one company week (``w2026-11-30``):

- ``chorus:home-ranks:<week>:<board>``: member -> rank on that board when the week
  began; ``<board>`` is "company:<window>" or "team:<id>:<window>";
- ``chorus:home-ranks:<week>:done``: present once every board of the week is written.

The ranks are derived state: computed from the SQL ledger (the truth) as it stood when
the week began, with the boards' own rules: competition ranks, hidden and opted-out
people left off before ranking, team boards by the team a line was earned in. So the
snapshot can be written late, twice or again after Redis lost it, and says the same.
Until it is written, the home page shows no change rather than a wrong one.

The boards compared: all time (before the week began), this month (its part before the
week began; when the month began inside this week there is nothing to compare) and the
week (last week's final ranks against this week's so far).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.extensions import db, get_redis
from app.models import Employee, LedgerLine, utcnow
from app.services.calendar import company_calendar
from scoring.home_ranks import competition_ranks
from scoring.participation import is_ranked
from scoring.windows import Window, window_key, window_start

PREFIX = "chorus:home-ranks:"
KEEP = timedelta(days=15)  # this week's and last week's, then gone
CHUNK = 10_000


def board_name(window: Window, team_id: int | None = None) -> str:
    scope = "company" if team_id is None else f"team:{team_id}"
    return f"{scope}:{window.value}"


def _key(week: str, board: str) -> str:
    return f"{PREFIX}{week}:{board}"


def _done_key(week: str) -> str:
    return f"{PREFIX}{week}:done"


def week_of(now: datetime) -> tuple[str, datetime]:
    """This company week's key and first instant."""
    zone, week_start = company_calendar()
    return (
        window_key(Window.WEEK, now, zone, week_start),
        window_start(Window.WEEK, now, zone, week_start),
    )


def _ranked_people() -> set[int]:
    """Who the boards show now (``scoring.participation.is_ranked``)."""
    rows = db.session.execute(
        select(
            Employee.id,
            Employee.opted_in_at,
            Employee.presence,
            Employee.active,
            Employee.erased_at,
        ).where(Employee.opted_in_at.is_not(None))
    )
    return {
        row.id
        for row in rows
        if is_ranked(row.opted_in_at, row.presence, row.active and row.erased_at is None)
    }


def _totals(start: datetime | None, end: datetime, shown: set[int]) -> dict[str, dict[int, int]]:
    """board -> member -> points from ledger lines in [start, end), for the company
    board and each team board, of the people shown."""
    query = select(LedgerLine.employee_id, LedgerLine.team_id, func.sum(LedgerLine.points)).where(
        LedgerLine.occurred_at < end
    )
    if start is not None:
        query = query.where(LedgerLine.occurred_at >= start)
    query = query.group_by(LedgerLine.employee_id, LedgerLine.team_id)
    company: dict[int, int] = defaultdict(int)
    teams: dict[int, dict[int, int]] = defaultdict(dict)
    for employee_id, team_id, points in db.session.execute(query):
        if employee_id not in shown:
            continue
        company[employee_id] += int(points)
        if team_id is not None:
            teams[team_id][employee_id] = int(points)
    return {"company": dict(company), **{f"team:{t}": members for t, members in teams.items()}}


def snapshot_ranks(now: datetime) -> dict[str, dict[int, int]]:
    """board -> member -> rank when the week of ``now`` began."""
    zone, first_weekday = company_calendar()
    began = window_start(Window.WEEK, now, zone, first_weekday)
    month_began = window_start(Window.MONTH, now, zone, first_weekday)
    last_week_began = window_start(Window.WEEK, began - timedelta(seconds=1), zone, first_weekday)
    shown = _ranked_people()
    spans = {Window.ALL_TIME: (None, began), Window.WEEK: (last_week_began, began)}
    if month_began < began:
        spans[Window.MONTH] = (month_began, began)
    boards: dict[str, dict[int, int]] = {}
    for window, (start, end) in spans.items():
        for scope, totals in _totals(start, end, shown).items():
            boards[f"{scope}:{window.value}"] = competition_ranks(totals)
    return boards


def ensure_snapshot(now: datetime | None = None) -> bool:
    """Write this week's ranks unless they are there; True when it wrote them."""
    moment = now or utcnow()
    week, _began = week_of(moment)
    redis = get_redis()
    if redis.exists(_done_key(week)):
        return False
    boards = snapshot_ranks(moment)
    seconds = int(KEEP.total_seconds())
    pipe = redis.pipeline(transaction=False)
    for board, ranks in boards.items():
        key = _key(week, board)
        pipe.delete(key)
        items = list(ranks.items())
        for start in range(0, len(items), CHUNK):
            pipe.hset(key, mapping=dict(items[start : start + CHUNK]))
        pipe.expire(key, seconds)
        if len(pipe) > 50:
            pipe.execute()
    pipe.set(_done_key(week), 1, ex=seconds)
    pipe.execute()
    return True


def ranks_when_week_began(
    member_id: int, boards: list[str], now: datetime | None = None
) -> tuple[bool, dict[str, int | None]]:
    """(whether this week's snapshot exists, board -> the member's rank then or None).
    One round trip."""
    week, _began = week_of(now or utcnow())
    pipe = get_redis().pipeline(transaction=False)
    pipe.exists(_done_key(week))
    for board in boards:
        pipe.hget(_key(week, board), member_id)
    done, *found = pipe.execute()
    return bool(done), {
        board: None if rank is None else int(rank)
        for board, rank in zip(boards, found, strict=True)
    }


def company_ranks(week: str) -> dict[int, int] | None:
    """member -> all-time company rank when the week ``week`` began; None when that
    snapshot is not (or no longer) kept. Two round trips."""
    redis = get_redis()
    if not redis.exists(_done_key(week)):
        return None
    found = redis.hgetall(_key(week, board_name(Window.ALL_TIME)))
    return {int(member): int(rank) for member, rank in found.items()}


def month_compared(now: datetime) -> bool:
    """Whether this month began before this week did (else: nothing to compare)."""
    zone, first_weekday = company_calendar()
    return window_start(Window.MONTH, now, zone, first_weekday) < window_start(
        Window.WEEK, now, zone, first_weekday
    )
