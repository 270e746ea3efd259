"""Reading the boards for people: names as each person chose to appear, the viewer's
own standing (hidden people still see their own points), and the window choices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select

from app.boards import BoardStore, Page, board_key
from app.errors import InvalidInput, NotFound
from app.extensions import db, get_redis
from app.models import Employee, LedgerLine, Team, utcnow
from app.services.people import company_calendar
from scoring.participation import board_name
from scoring.windows import Window, window_end, window_key, window_start

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class Scope(StrEnum):
    COMPANY = "company"
    TEAM = "team"


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
    return BoardStore(get_redis())


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


def _own_points(viewer: Employee, team_id: int | None, start, end) -> int:
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
    viewer: Employee,
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
    key = board_key("company" if scope is Scope.COMPANY else f"team:{team.id}", key_part)
    boards = store()
    page: Page | None = boards.around(key, viewer.id, limit) if around_me else None
    if page is None:  # not asked, or the viewer is not on this board
        page = boards.page(key, offset, limit)
    mine = boards.standing(key, viewer.id)
    names = _names([row.member_id for row in page.rows])
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
