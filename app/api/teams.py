"""Teams: the groups points and analytics are rolled up by."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.api.support import api_blueprint, caller, paginate_select
from app.auth import requires_role
from app.db import get_or_404
from app.models import Role, Team
from app.schemas.people import TeamSchema
from app.services import people

bp = api_blueprint("teams", "/teams", "Teams of the company directory.")


def _team(team_id: int) -> Team:
    return get_or_404(Team, team_id)


@bp.route("")
class Teams(MethodView):
    @requires_role(Role.HR)
    @bp.response(200, TeamSchema(many=True))
    @bp.paginate()
    def get(self, pagination_parameters: PaginationParameters) -> list[Team]:
        """All teams, by name"""
        # member_count reads each team's members: load them in one query per page.
        teams = select(Team).options(selectinload(Team.members)).order_by(Team.name, Team.id)
        return paginate_select(teams, pagination_parameters)

    @requires_role(Role.HR)
    @bp.arguments(TeamSchema)
    @bp.response(201, TeamSchema)
    @bp.alt_response(409, response="CONFLICT", description="The name is taken")
    def post(self, data: dict) -> Team:
        """Create a team"""
        team = people.create_team(caller(), data["name"])
        return team


@bp.route("/<int:team_id>")
class TeamById(MethodView):
    @requires_role(Role.HR)
    @bp.response(200, TeamSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def get(self, team_id: int) -> Team:
        """One team"""
        return _team(team_id)

    @requires_role(Role.HR)
    @bp.arguments(TeamSchema)
    @bp.response(200, TeamSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    @bp.alt_response(409, response="CONFLICT", description="The name is taken")
    def patch(self, data: dict, team_id: int) -> Team:
        """Rename a team"""
        team = people.rename_team(caller(), _team(team_id), data["name"])
        return team

    @requires_role(Role.HR)
    @bp.response(204)
    @bp.alt_response(404, response="NOT_FOUND")
    def delete(self, team_id: int) -> None:
        """Delete a team; its members stay in the directory without a team"""
        people.delete_team(caller(), _team(team_id))
