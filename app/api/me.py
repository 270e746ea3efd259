"""The signed-in employee's own profile, participation and personal data."""

from __future__ import annotations

from flask.views import MethodView
from flask_login import logout_user

from app.api.support import api_blueprint, caller
from app.auth import requires_role
from app.errors import InvalidInput
from app.models import Employee, Role
from app.schemas.home import HomeSchema, home_json
from app.schemas.profile import (
    EraseSchema,
    InterestIdsSchema,
    NetworksSchema,
    OptInSchema,
    PresenceSchema,
    ProfileSchema,
)
from app.services import feed, participation
from app.services.home import home_for

bp = api_blueprint("me", "/me", "The signed-in employee: profile, opt-in, export, erasure.")


@bp.route("")
class Profile(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.response(200, ProfileSchema)
    def get(self) -> Employee:
        """Your profile"""
        return caller()


@bp.route("/home")
class Home(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.response(200, HomeSchema)
    @bp.alt_response(409, response="CONFLICT", description="You have not opted in")
    def get(self) -> dict:
        """Your home: where you stand and what to do next

        The same figures as the home page and the boards: your rank and points on each
        board (company and your team; all time, this month, this week) with the change
        since the company week began, points this week, your streak, progress to the
        next badge, running challenges with your place (none while a challenge is
        frozen), recent results and prizes, shares left, the newest content and new
        lessons.
        """
        employee = caller()
        feed.require_participating(employee)
        return home_json(home_for(employee))


@bp.route("/presence")
class PresenceSetting(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.arguments(PresenceSchema)
    @bp.response(200, ProfileSchema)
    def patch(self, data: dict) -> Employee:
        """Choose how you appear on leaderboards: named, pseudonym or hidden"""
        employee = participation.update_presence(caller(), data["presence"], data["pseudonym"])
        return employee


@bp.route("/networks")
class Networks(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.arguments(NetworksSchema)
    @bp.response(200, ProfileSchema)
    def put(self, data: dict) -> Employee:
        """Replace your connected networks"""
        employee = participation.set_networks(caller(), data["networks"])
        return employee


@bp.route("/interests")
class Interests(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.arguments(InterestIdsSchema)
    @bp.response(200, ProfileSchema)
    def put(self, data: dict) -> Employee:
        """Replace your interests"""
        employee = participation.set_interests(caller(), data["interest_ids"])
        return employee


@bp.route("/opt-in")
class OptIn(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.arguments(OptInSchema)
    @bp.response(200, ProfileSchema)
    @bp.alt_response(409, response="CONFLICT", description="The guidelines changed or are missing")
    def post(self, data: dict) -> Employee:
        """Accept the current guidelines and start taking part

        Send the id of the guidelines version you read; if HR published a newer one
        meanwhile, the answer is 409 and nothing changes.
        """
        employee = participation.opt_in(caller(), data["guidelines_version_id"])
        return employee


@bp.route("/opt-out")
class OptOut(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.response(200, ProfileSchema)
    def post(self) -> Employee:
        """Stop taking part: nothing about you is tracked, scored or ranked from now on"""
        employee = participation.opt_out(caller())
        return employee


@bp.route("/export")
class Export(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.response(200, description="Everything Chorus holds about you, as JSON")
    def get(self):
        """Download your personal data"""
        data = participation.export_personal_data(caller())
        disposition = 'attachment; filename="chorus-personal-data.json"'
        return data, 200, {"Content-Disposition": disposition}


@bp.route("/erase")
class Erase(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.arguments(EraseSchema)
    @bp.response(204)
    @bp.alt_response(409, response="CONFLICT", description="You are the last active admin")
    def post(self, data: dict) -> None:
        """Erase your personal data for good and sign out

        ``confirm_email`` must repeat your account's e-mail address.
        """
        employee = caller()
        if data["confirm_email"].strip().lower() != employee.email.lower():
            raise InvalidInput(
                "Type your account's e-mail address to confirm.", field="confirm_email"
            )
        participation.erase_employee(employee, employee)
        logout_user()
