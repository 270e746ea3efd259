"""The analytics pages: HR's figures of the whole company by period, broken down by
content, network, team, interest, advocate and interest x tag; a team lead's figures of
their own team over time. Each table is drawn as a chart on the server, shown as a table
that says what each figure counts, and downloadable as CSV.

The figures and what may be shown to whom are the service's (``app.services.analytics``):
groups too small are withheld there, and a team's figures are never broken down."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Response, render_template, request, stream_with_context, url_for
from markupsafe import Markup
from sqlalchemy import select

from app import charts
from app.auth import requires_role
from app.errors import ChorusError, Forbidden, InvalidInput, NotFound, describe_invalid_fields
from app.extensions import db
from app.models import Employee, Role, Team, utcnow
from app.schemas.analytics_pages import DIMENSIONS, AnalyticsPageSchema
from app.schemas.fields import load
from app.services import analytics
from app.services.calendar import company_calendar
from app.web.pages import me
from scoring import media_value
from scoring.analytics import Period, local_day
from scoring.vocabulary import Channel

bp = Blueprint("analytics_pages", __name__)

TABS = dict(
    zip(
        DIMENSIONS,
        (
            "Over time",
            "Content",
            "Networks",
            "Teams",
            "Interests",
            "Top advocates",
            "Interests \u00d7 tags",
        ),
        strict=True,
    )
)
PERIOD_NAMES = {Period.DAY: "Day", Period.WEEK: "Week", Period.MONTH: "Month"}
EARLIEST = date(2000, 1, 1)  # before any company used Chorus; keeps date arithmetic in range

# Measured clicks come first on every page; estimates (reach, value) come last.
LEADING = ("clicks", "clicks_on_shares", "clicks_per_share")
TRAILING = ("reach", "value_low", "value_high")
# The page shows value in euros; the service (and the CSV) count cents.
PAGE_LABELS = {"value_low": "Value, low (€)", "value_high": "Value, high (€)"}
MEANINGS = {
    "value_low": "earned-media value with every assumption at its low end (an estimate)",
    "value_high": "earned-media value with every assumption at its high end (an estimate)",
    "sharers": "people with the interest who shared content with the tag",
}


@dataclass(frozen=True)
class Shown:
    """One table as the page shows it."""

    table: analytics.Table
    chart: Markup | None
    chart_title: str
    heat_map: charts.HeatMap | None
    csv_url: str


def measured_first(table: analytics.Table) -> analytics.Table:
    """The table with measured clicks in its first columns and estimates in its last."""
    first, *figures = table.columns
    by_name = {column.name: column for column in figures}
    lead = [by_name[name] for name in LEADING if name in by_name]
    tail = [by_name[name] for name in TRAILING if name in by_name]
    middle = [column for column in figures if column.name not in LEADING + TRAILING]
    return replace(table, columns=[first, *lead, *middle, *tail])


def company_today() -> date:
    return local_day(utcnow(), company_calendar()[0])


def _query() -> tuple[dict[str, Any], dict]:
    """The page's query, checked: (the values, {}) or ({}, the problems by field)."""
    raw = {key: value.strip() for key, value in request.args.items() if value.strip()}
    try:
        args = load(AnalyticsPageSchema(), raw)
    except ChorusError as exc:
        return {}, exc.errors
    today = company_today()
    args["start"] = args["start"] or today
    if not EARLIEST <= args["start"] <= today:
        return {}, {"start": [f"Give a day from {EARLIEST:%d %B %Y} up to today."]}
    args["period"] = Period(args["period"])
    return args, {}


def _shown(table: analytics.Table, selection: analytics.Selection, csv_url: str) -> Shown:
    table = measured_first(table)
    if "reach" in (column.name for column in table.columns) and (
        media_value.REACH_FORMULA not in table.notes
    ):
        # Potential reach is an estimate wherever it appears: say how it is made.
        table = replace(table, notes=[*table.notes, media_value.REACH_FORMULA])
    if table.name == "matrix":
        return Shown(table, None, "", charts.heat_map(table), csv_url)
    title = chart_title(table, selection.period)
    heading_id = f"chart-{table.name}"
    drawn = charts.chart(table, title, heading_id, selection.period)
    return Shown(table, drawn, title, None, csv_url)


def chart_title(table: analytics.Table, period: Period) -> str:
    labels = {column.name: column.label for column in table.columns}
    names = [labels[name] for name in charts.FIGURES.get(table.name, ()) if name in labels]
    names = [names[0], *(name.lower() for name in names[1:])]
    drawn = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]
    if table.name == "time":
        return f"{drawn} by {period.value}"
    return f"{drawn} by {table.columns[0].label.lower()}, most clicked first"


def _selection_context(selection: analytics.Selection) -> dict[str, Any]:
    """What the period form and the links to the periods around this one need."""
    today = company_today()
    before = analytics.Selection.holding(
        selection.period, selection.start - timedelta(days=1), selection.team_id
    )
    after = selection.end if selection.end <= today else None
    return {
        "selection": selection,
        "period_heading": period_name(selection.period, selection.start),
        "earlier": before.start if before.start >= EARLIEST else None,
        "later": after,
        "today": today,
    }


def period_name(period: Period, start: date) -> str:
    """A period as a heading says it: December 2026, week from Mon 30 Nov 2026."""
    if period is Period.MONTH:
        return f"{start:%B %Y}"
    if period is Period.WEEK:
        return f"Week from {start:%a %d %b %Y}"
    return f"{start:%a %d %b %Y}"


def _common() -> dict[str, Any]:
    return {
        "TABS": TABS,
        "PERIOD_NAMES": PERIOD_NAMES,
        "Period": Period,
        "k": analytics.minimum_group_size(),
        "label": lambda column: PAGE_LABELS.get(column.name, column.label),
        "meaning": lambda column: MEANINGS.get(column.name) or column.meaning,
        "period_name": period_name,
    }


# HR: the whole company ------------------------------------------------------------


@bp.get("/analytics")
@requires_role(Role.HR)
def company():
    args, errors = _query()
    if errors:
        page = render_template(
            "analytics/company.html", errors=errors, values=request.args, shown=None, **_common()
        )
        return page, 422
    selection = analytics.Selection.holding(args["period"], args["start"])
    show = args["show"]
    csv_url = url_for(
        "analytics_pages.company_csv",
        table=show,
        period=selection.period.value,
        start=selection.start.isoformat(),
    )
    shown = _shown(analytics.table(show, selection), selection, csv_url)
    context = {**_common(), **_selection_context(selection)}
    if show == "network":
        context["assumptions"] = _assumptions()
    values = {"period": selection.period.value, "start": args["start"].isoformat()}
    return render_template(
        "analytics/company.html", errors={}, values=values, show=show, shown=shown, **context
    )


@bp.get("/analytics/<table>.csv")
@requires_role(Role.HR)
def company_csv(table: str):
    if table not in analytics.COMPANY_TABLES:
        raise NotFound("There is no such table.")
    args, errors = _query()
    if errors:
        raise InvalidInput(describe_invalid_fields(errors), errors=errors)
    selection = analytics.Selection.holding(args["period"], args["start"])
    return _csv(analytics.table(table, selection), f"chorus-{table}", selection)


def _assumptions() -> list[tuple[str, Any]]:
    found = analytics.value_assumptions()
    return [(channel.label, found[channel]) for channel in Channel]


# Team leads: their own team ------------------------------------------------------


@bp.get("/team/analytics")
@requires_role(Role.TEAM_LEAD)
def team():
    viewer = me()
    args, errors = _query()
    teams = _teams_to_choose(viewer)
    if errors:
        page = render_template(
            "analytics/team.html",
            errors=errors,
            values=request.args,
            shown=None,
            teams=teams,
            **_common(),
        )
        return page, 422
    if args["show"] != "time":
        raise Forbidden("A team's figures are shown over time only, never broken down.")
    chosen = _team_for(viewer, args["team_id"])
    if chosen is None:
        return render_template(
            "analytics/team.html", errors={}, values={}, shown=None, teams=teams, **_common()
        )
    selection = analytics.Selection.holding(args["period"], args["start"], chosen.id)
    query = {"period": selection.period.value, "start": selection.start.isoformat()}
    if args["team_id"]:
        query["team_id"] = chosen.id
    csv_url = url_for("analytics_pages.team_csv", table="time", **query)
    shown = _shown(analytics.table("time", selection), selection, csv_url)
    values = {**query, "start": args["start"].isoformat(), "team_id": chosen.id}
    return render_template(
        "analytics/team.html",
        errors={},
        values=values,
        shown=shown,
        team=chosen,
        teams=teams,
        **_common(),
        **_selection_context(selection),
    )


@bp.get("/team/analytics/<table>.csv")
@requires_role(Role.TEAM_LEAD)
def team_csv(table: str):
    if table not in analytics.COMPANY_TABLES:
        raise NotFound("There is no such table.")
    args, errors = _query()
    if errors:
        raise InvalidInput(describe_invalid_fields(errors), errors=errors)
    chosen = _team_for(me(), args["team_id"])
    if chosen is None:
        raise NotFound("There are no teams yet.")
    selection = analytics.Selection.holding(args["period"], args["start"], chosen.id)
    try:
        figures = analytics.table(table, selection)
    except analytics.Withheld as exc:
        raise Forbidden("A team's figures are shown over time only, never broken down.") from exc
    return _csv(figures, f"chorus-team-{chosen.id}-{table}", selection)


def _team_for(viewer: Employee, asked: int | None) -> Team | None:
    """The team whose figures are shown: a team lead's own (asking for another is
    refused); for HR the one asked for, else their own, else the first."""
    if not viewer.has_role(Role.HR):
        if viewer.team_id is None:
            raise Forbidden("Team analytics are for the lead of a team, and you are in none.")
        if asked is not None and asked != viewer.team_id:
            raise Forbidden("You see the figures of your own team only.")
        return db.session.get(Team, viewer.team_id)
    if asked is not None:
        found = db.session.get(Team, asked)
        if found is None:
            raise NotFound("There is no such team.")
        return found
    if viewer.team_id is not None:
        return db.session.get(Team, viewer.team_id)
    return db.session.scalars(select(Team).order_by(Team.name, Team.id).limit(1)).first()


def _teams_to_choose(viewer: Employee) -> list[Team]:
    """HR picks any team; a team lead sees their own only, so no choice."""
    if not viewer.has_role(Role.HR):
        return []
    return list(db.session.scalars(select(Team).order_by(Team.name, Team.id)))


# Both -------------------------------------------------------------------------------


def _csv(table: analytics.Table, stem: str, selection: analytics.Selection) -> Response:
    """The table as streamed CSV, named after what it holds."""
    response = Response(
        stream_with_context(analytics.csv_lines(measured_first(table))), mimetype="text/csv"
    )
    filename = f"{stem}-{selection.period.value}-{selection.start.isoformat()}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.app_template_filter("fromiso")
def from_iso(text: str) -> date:
    return date.fromisoformat(text)


@bp.app_template_filter("figure")
def figure(value: int | float | None, name: str) -> str:
    """A figure as the page writes it; None (no figure, such as clicks per share without
    shares) as a dash."""
    if value is None:
        return "\u2013"  # an en dash
    if name == "participation_rate":
        return f"{value:.0%}"
    if name == "clicks_per_share":
        return f"{value:.2f}"
    if name in ("value_low", "value_high"):
        return f"{value / 100:,.2f}"
    return f"{value:,}"
