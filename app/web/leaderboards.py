"""Leaderboards: company or my team, by week, month or all time, with finished windows
still readable, my row highlighted and a page around me."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, render_template, request

from app.auth import requires_role
from app.errors import ChorusError
from app.models import Role, utcnow
from app.schemas.fields import load
from app.schemas.leaderboards import BoardPageSchema
from app.services.calendar import company_calendar
from app.services.leaderboards import PAGE_SIZE, Scope, view_board
from app.web.pages import me
from scoring.participation import Presence
from scoring.windows import Window, window_key, window_start

bp = Blueprint("leaderboard_pages", __name__)

WINDOW_LABELS = {Window.WEEK: "This week", Window.MONTH: "This month", Window.ALL_TIME: "All time"}
FINISHED_WINDOWS = 12  # how many past weeks or months the selector offers


def finished_windows(window: Window, now: datetime) -> list[tuple[str, str]]:
    """(key, label) of the last finished weeks or months, newest first."""
    if window is Window.ALL_TIME:
        return []
    zone, week_start = company_calendar()
    options = []
    moment = window_start(window, now, zone, week_start) - timedelta(seconds=1)
    for _ in range(FINISHED_WINDOWS):
        start = window_start(window, moment, zone, week_start)
        label = f"Week of {start:%d %b %Y}" if window is Window.WEEK else f"{start:%B %Y}"
        options.append((window_key(window, moment, zone, week_start), label))
        moment = start - timedelta(seconds=1)
    return options


def _query() -> dict[str, Any]:
    raw = {
        k: v.strip()
        for k in ("scope", "window", "period", "offset", "view")
        if (v := request.args.get(k, ""))
    }
    return raw


@bp.get("/leaderboards")
@requires_role(Role.EMPLOYEE)
def show():
    viewer = me()
    raw = _query()
    errors: dict = {}
    try:
        args = load(BoardPageSchema(), raw)
    except ChorusError as exc:
        args, errors = load(BoardPageSchema(), {}), exc.errors
    scope, window = Scope(args["scope"]), Window(args["window"])
    context: dict[str, Any] = {
        "scope": scope,
        "window": window,
        "period": args.get("period"),
        "args": raw,
        "WINDOW_LABELS": WINDOW_LABELS,
        "Scope": Scope,
        "Window": Window,
        "PAGE_SIZE": PAGE_SIZE,
        "finished": finished_windows(window, utcnow()),
        "hidden": viewer.presence is Presence.HIDDEN,
        "participating": viewer.participating,
        "has_team": viewer.team_id is not None,
        "zone_name": str(company_calendar()[0]),
        "timedelta": timedelta,
    }
    if scope is Scope.TEAM and viewer.team_id is None:
        return render_template("leaderboards/show.html", board=None, errors=errors, **context)
    view = args.get("view")
    try:
        board = view_board(
            viewer,
            scope,
            window,
            period=args.get("period"),
            offset=args.get("offset", 0),
            around_me=view == "around",
        )
        # Around me is the default once the viewer is further down than the first page.
        if view is None and board.my_rank is not None and board.my_rank > PAGE_SIZE:
            board = view_board(viewer, scope, window, period=args.get("period"), around_me=True)
            view = "around"
    except ChorusError as exc:
        errors = {**errors, **exc.errors} or {"period": [exc.message]}
        context["period"] = None
        board = view_board(viewer, scope, window)
    context["view"] = view or "top"
    page = render_template("leaderboards/show.html", board=board, errors=errors, **context)
    return page, 422 if errors else 200
