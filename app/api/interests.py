"""Interests and personas that employees pick and content is targeted at."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters
from sqlalchemy import select

from app.api.support import api_blueprint, caller, paginate_select
from app.auth import requires_role
from app.db import get_or_404
from app.models import Interest, Role
from app.schemas.people import InterestSchema
from app.services import people

bp = api_blueprint("interests", "/interests", "Interests and personas HR curates.")


@bp.route("")
class Interests(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.response(200, InterestSchema(many=True))
    @bp.paginate()
    def get(self, pagination_parameters: PaginationParameters) -> list[Interest]:
        """All interests, by name"""
        interests = select(Interest).order_by(Interest.name, Interest.id)
        return paginate_select(interests, pagination_parameters)

    @requires_role(Role.HR)
    @bp.arguments(InterestSchema)
    @bp.response(201, InterestSchema)
    @bp.alt_response(409, response="CONFLICT", description="The name is taken")
    def post(self, data: dict) -> Interest:
        """Add an interest"""
        interest = people.create_interest(caller(), data["name"])
        return interest


@bp.route("/<int:interest_id>")
class InterestById(MethodView):
    @requires_role(Role.HR)
    @bp.response(204)
    @bp.alt_response(404, response="NOT_FOUND")
    def delete(self, interest_id: int) -> None:
        """Remove an interest; employees who picked it lose it"""
        people.delete_interest(caller(), get_or_404(Interest, interest_id))
