"""Analytics over the API: the tables of the analytics pages, as JSON or as CSV.

HR and admins read every table of the company, and any team's time table; a team lead
only their own team's time table. Small groups are withheld as on the pages
(``app.services.analytics``), and a team's figures are never broken down further.
"""

from __future__ import annotations

from datetime import datetime

from flask import Response, stream_with_context
from flask.views import MethodView

from app.api.support import api_blueprint, caller
from app.auth import requires_role
from app.errors import Forbidden, NotFound
from app.extensions import db
from app.models import Role, Team
from app.schemas.analytics import AnalyticsQuerySchema, AnalyticsTableSchema, table_json
from app.services import analytics
from app.services.calendar import company_calendar
from scoring.analytics import Period

bp = api_blueprint(
    "analytics",
    "/analytics",
    "The analytics tables by day, week or month: over time, by content item, network, "
    "team, interest, top advocates and interest x tag. Every figure names its cohort; "
    "figures of groups below the minimum group size are withheld.",
)
QUERY = AnalyticsQuerySchema()
TABLES = ", ".join(f"`{name}`" for name in analytics.COMPANY_TABLES)
# The table's name in the path, documented with the names there are.
TABLE_PARAMETER = {
    "in": "path",
    "name": "table",
    "description": f"one of {TABLES}",
    "schema": {"type": "string", "enum": list(analytics.COMPANY_TABLES)},
}


def chosen(name: str, query: dict) -> tuple[analytics.Table, analytics.Selection]:
    """The table asked for, if the caller may read it."""
    if name not in analytics.COMPANY_TABLES:
        raise NotFound(f"No analytics table called {name!r}; there are {TABLES}.", field="table")
    team_id = query["team_id"]
    if team_id is not None and db.session.get(Team, team_id) is None:
        raise NotFound(f"No team with id {team_id}.", field="team_id")
    viewer = caller()
    if not viewer.has_role(Role.HR):
        if viewer.team_id is None:
            raise Forbidden("A team lead reads their own team's figures; you are in no team.")
        if team_id not in (None, viewer.team_id):
            raise Forbidden("A team lead reads their own team's figures only.", field="team_id")
        team_id = viewer.team_id
    day = query["day"]
    if day is None:
        zone, _week_start = company_calendar()
        day = datetime.now(zone).date()
    selection = analytics.Selection.holding(Period(query["period"]), day, team_id)
    try:
        return analytics.table(name, selection), selection
    except analytics.Withheld:
        raise Forbidden(
            f"A team's figures are not broken down further: the {name} table is of the "
            "whole company only, as a team's parts could be down to one person. Read "
            "the team's time table, or this table without team_id.",
            field="team_id",
        ) from None


@bp.route("/<table>", parameters=[TABLE_PARAMETER])
class AnalyticsTable(MethodView):
    @requires_role(Role.TEAM_LEAD)
    @bp.arguments(QUERY, location="query")
    @bp.response(200, AnalyticsTableSchema)
    @bp.alt_response(404, response="NOT_FOUND", description="No such table or team")
    def get(self, query: dict, table: str) -> dict:
        """An analytics table

        Tables: `time` (the periods up to the chosen one), `content`, `network` (with
        earned-media value as a range), `team`, `persona` (by interest), `advocates`
        (the top ten, as the boards show them) and `matrix` (interest x tag). HR and
        admins read them all for the company, and any team's `time` table; a team lead
        only their own team's `time` table (403 otherwise). A row whose group is too
        small is `withheld`, its figures null; each column names its cohort.
        """
        found, selection = chosen(table, query)
        return table_json(found, selection, analytics.minimum_group_size())


@bp.route("/<table>.csv", parameters=[TABLE_PARAMETER])
class AnalyticsCsv(MethodView):
    @requires_role(Role.TEAM_LEAD)
    @bp.arguments(QUERY, location="query")
    @bp.response(
        200,
        {"type": "string"},
        content_type="text/csv",
        description="A header naming each figure and its cohort, the rows (withheld "
        "figures empty, a last column saying whether the row is withheld), then the notes",
    )
    @bp.alt_response(404, response="NOT_FOUND", description="No such table or team")
    def get(self, query: dict, table: str) -> Response:
        """An analytics table as CSV

        The same table, access and withholding as the JSON one, streamed a line at a time.
        """
        found, selection = chosen(table, query)
        team = "" if selection.team_id is None else f"-team-{selection.team_id}"
        filename = f"{found.name}-{selection.period.value}-{selection.start.isoformat()}{team}.csv"
        return Response(
            stream_with_context(analytics.csv_lines(found)),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
