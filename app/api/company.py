"""Company-wide settings: name, time zone, week start, minimum group size."""

from __future__ import annotations

from flask.views import MethodView

from app.api.support import api_blueprint, caller
from app.auth import requires_role
from app.models import CompanySettings, Role
from app.schemas.admin import CompanySettingsSchema
from app.services import people

bp = api_blueprint("company", "/company", "Company-wide settings.")


@bp.route("")
class Company(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.response(200, CompanySettingsSchema)
    def get(self) -> CompanySettings:
        """The company's settings

        Readable by everyone: the time zone and week start define the leaderboard
        windows each employee sees.
        """
        settings = people.company_settings()
        return settings

    @requires_role(Role.ADMIN)
    @bp.arguments(CompanySettingsSchema)
    @bp.response(200, CompanySettingsSchema)
    def patch(self, changes: dict) -> CompanySettings:
        """Change some settings"""
        settings = people.update_company_settings(caller(), changes)
        return settings
