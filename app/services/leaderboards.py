"""Reading the boards for people: names as each person chose to appear, the viewer's
own standing (hidden people still see their own points), and the window choices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from flask import current_app
from sqlalchemy import func, select

from app.boards import BoardStore
from app.errors import InvalidInput, NotFound
from app.extensions import after_commit, db, get_redis
from app.models import Employee, LedgerLine, Team, utcnow
from app.services.calendar import company_calendar
from scoring.participation import board_name
from scoring.windows import Window, window_end, window_key, window_start

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class Scope(StrEnum):
    COMPANY = "company"
    TEAM = "team"


@dataclass(frozen=True)
class Viewer:
    """Who reads a board, as far as reading it needs: an ``Employee`` will do too."""

    id: int
    team_id: int | None


@dataclass(frozen=True)
class BoardRow:
    rank: int
    points: int
    name: str
    is_me: bool


@dataclass(frozen=True)
class BoardView:
    scope: Scope
    team: Team | None
    window: Window
    window_key: str
    starts_at: datetime | None
    ends_at: datetime | None
    rows: list[BoardRow]
    size: int
    offset: int
    my_rank: int | None
    my_points: int  # always the viewer's own, even when hidden or off the board
    on_board: bool


def store() -> BoardStore:
    """The app's board store, made once: it registers its scripts as it is made."""
    app = current_app._get_current_object()
    boards = app.extensions.get("boards")
    if boards is None or boards.redis is not get_redis():
        boards = app.extensions["boards"] = BoardStore(get_redis())
    return boards


def resolve_window(window: Window, key: str | None, now: datetime | None = None):
    """The requested window's key and bounds: the current one unless ``key`` names a
    finished one (for example "2026-10" or "w2026-10-26")."""
    zone, week_start = company_calendar()
    moment = now or utcnow()
    if key:
        moment = _moment_of(window, key, zone)
    if window is Window.ALL_TIME:
        return "all", None, None
    if window is Window.DAY:
        raise InvalidInput("Boards have week, month and all-time windows.", field="window")
    return (
        window_key(window, moment, zone, week_start),
        window_start(window, moment, zone, week_start),
        window_end(window, moment, zone, week_start),
    )


def _moment_of(window: Window, key: str, zone) -> datetime:
    try:
        if window is Window.MONTH:
            return datetime.strptime(key, "%Y-%m").replace(day=15, tzinfo=zone)
        if window is Window.WEEK and key.startswith("w"):
            return datetime.strptime(key[1:], "%Y-%m-%d").replace(hour=12, tzinfo=zone)
    except ValueError:
        pass
    raise InvalidInput(f"{key!r} is not a {window.value} of this board.", field="period")


def _names(member_ids: list[int]) -> dict[int, str]:
    if not member_ids:
        return {}
    rows = db.session.execute(
        select(Employee.id, Employee.presence, Employee.name, Employee.pseudonym).where(
            Employee.id.in_(member_ids)
        )
    )
    return {row.id: board_name(row.presence, row.name, row.pseudonym) or "" for row in rows}


def follow_name(employee: Employee) -> None:
    """Once committed, the boards show the name the employee chose, or forget it when
    they are not shown (hidden, opted out, deactivated, erased)."""
    employee_id = employee.id
    name = (
        board_name(employee.presence, employee.name, employee.pseudonym)
        if employee.participating
        else None
    )
    after_commit(lambda: store().set_name(employee_id, name))


def _own_points(viewer: Employee | Viewer, team_id: int | None, start, end) -> int:
    """From the ledger: what the viewer earned in the window, on or off the board."""
    query = select(func.coalesce(func.sum(LedgerLine.points), 0)).where(
        LedgerLine.employee_id == viewer.id
    )
    if team_id is not None:
        query = query.where(LedgerLine.team_id == team_id)
    if start is not None:
        query = query.where(LedgerLine.occurred_at >= start, LedgerLine.occurred_at < end)
    return int(db.session.scalar(query))


def view_board(
    viewer: Employee | Viewer,
    scope: Scope,
    window: Window,
    *,
    team_id: int | None = None,
    period: str | None = None,
    offset: int = 0,
    limit: int = PAGE_SIZE,
    around_me: bool = False,
) -> BoardView:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(f"Ask for 1 to {MAX_PAGE_SIZE} rows.", field="limit")
    if offset < 0:
        raise InvalidInput("The offset cannot be negative.", field="offset")
    team = None
    if scope is Scope.TEAM:
        team_id = team_id if team_id is not None else viewer.team_id
        team = db.session.get(Team, team_id) if team_id is not None else None
        if team is None:
            raise NotFound("No such team.", field="team_id")
    key_part, start, end = resolve_window(window, period)
    boards = store()
    key = boards.key(key_part, team.id if team is not None else None)
    read = boards.view(key, viewer.id, offset, limit, around=around_me, names=True)
    page, mine = read.page, read.standing
    names = read.names
    missing = [row.member_id for row in page.rows if row.member_id not in names]
    if missing:
        found = _names(missing)
        boards.remember_names({member: name for member, name in found.items() if name})
        names = names | found
    rows = [
        BoardRow(row.rank, row.points, names.get(row.member_id, ""), row.member_id == viewer.id)
        for row in page.rows
    ]
    own = (
        mine.points
        if mine.rank is not None
        else _own_points(viewer, team.id if team else None, start, end)
    )
    return BoardView(
        scope,
        team,
        window,
        key_part,
        start,
        end,
        rows,
        page.size,
        page.offset,
        mine.rank,
        own,
        mine.rank is not None,
    )
