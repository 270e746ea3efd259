"""The employee's home: where they stand, what they can do next.

Every figure comes from the function the rest of Chorus shows it with, so the home
page, its JSON twin and the boards never disagree: ranks and points from
``app.services.leaderboards.view_board`` (the boards' page and API), shares left from
``app.services.feed.allowance`` (the feed and the share dialog), the newest content
from ``app.services.feed.feed_select`` (the feed). The change since last week compares
a board's rank now with the rank kept when the company week began
(``app.services.home_ranks``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.extensions import db
from app.models import ContentItem, Employee, Team, utcnow
from app.services import feed, home_ranks
from app.services.leaderboards import Scope, view_board
from scoring.home_ranks import RankChange, rank_change
from scoring.participation import Presence
from scoring.sharing import Allowance
from scoring.windows import Window

BOARD_WINDOWS = (Window.ALL_TIME, Window.MONTH, Window.WEEK)
NEWEST_CONTENT = 3


@dataclass(frozen=True)
class BoardPlace:
    """The viewer on one board: their rank (None when not on it: hidden, opted out, or
    no points in the window yet), their own points (always theirs, even hidden) and the
    change since the week began."""

    scope: Scope
    window: Window
    team: Team | None
    rank: int | None
    points: int
    size: int
    change: RankChange


@dataclass(frozen=True)
class Home:
    employee: Employee
    now: datetime
    hidden: bool
    boards: list[BoardPlace]
    points_this_week: int
    allowance: Allowance
    newest: list[ContentItem]

    def board(self, scope: Scope, window: Window) -> BoardPlace | None:
        return next((b for b in self.boards if b.scope is scope and b.window is window), None)


def _places(employee: Employee, now: datetime) -> list[BoardPlace]:
    scopes = [Scope.COMPANY] + ([Scope.TEAM] if employee.team_id is not None else [])
    views = [
        view_board(employee, scope, window, limit=1) for scope in scopes for window in BOARD_WINDOWS
    ]
    names = [
        home_ranks.board_name(view.window, view.team.id if view.team else None) for view in views
    ]
    compared, before = home_ranks.ranks_when_week_began(employee.id, names, now)
    month_compared = home_ranks.month_compared(now)
    places = []
    for view, name in zip(views, names, strict=True):
        known = compared and (view.window is not Window.MONTH or month_compared)
        places.append(
            BoardPlace(
                view.scope,
                view.window,
                view.team,
                view.my_rank,
                view.my_points,
                view.size,
                rank_change(before[name], view.my_rank, known),
            )
        )
    return places


def newest_content(employee: Employee, now: datetime, limit: int = NEWEST_CONTENT):
    """The feed's first items: featured first, then newest, as the feed lists them."""
    return list(db.session.scalars(feed.feed_select(employee, now).limit(limit)))


def home_for(employee: Employee, now: datetime | None = None) -> Home:
    """Everything the home page and ``GET /api/v1/me/home`` show, for one employee who
    takes part."""
    moment = now or utcnow()
    places = _places(employee, moment)
    this_week = next(p for p in places if p.scope is Scope.COMPANY and p.window is Window.WEEK)
    return Home(
        employee=employee,
        now=moment,
        hidden=employee.presence is Presence.HIDDEN,
        boards=places,
        points_this_week=this_week.points,
        allowance=feed.allowance(employee, moment),
        newest=newest_content(employee, moment),
    )
