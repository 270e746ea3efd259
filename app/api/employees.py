"""The employee directory: HR finds, adds, changes and imports people; admins erase."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.api.support import api_blueprint, caller, paginate_select
from app.auth import requires_role
from app.db import get_or_404
from app.models import Employee, Role, Team
from app.schemas.people import (
    CsvImportSchema,
    EmployeeQuerySchema,
    EmployeeSchema,
    EmployeeUpdateSchema,
    ImportOptionsSchema,
    ImportReportSchema,
)
from app.services import participation, people

bp = api_blueprint("employees", "/employees", "The employee directory.")


def _employee(employee_id: int) -> Employee:
    return get_or_404(Employee, employee_id)


@bp.route("")
class Employees(MethodView):
    @requires_role(Role.HR)
    @bp.arguments(EmployeeQuerySchema, location="query")
    @bp.response(200, EmployeeSchema(many=True))
    @bp.paginate()
    def get(self, filters: dict, pagination_parameters: PaginationParameters) -> list[Employee]:
        """Find employees by name or e-mail, team and role

        Erased employees are left out: nothing about them is left to show.
        """
        found = (
            select(Employee)
            .where(Employee.erased_at.is_(None))
            .options(selectinload(Employee.team))
            .order_by(Employee.name, Employee.id)
        )
        if q := filters.get("q", "").strip():
            found = found.where(
                or_(
                    Employee.name.icontains(q, autoescape=True),
                    Employee.email.icontains(q, autoescape=True),
                )
            )
        if "team_id" in filters:
            found = found.where(Employee.team_id == filters["team_id"])
        if "role" in filters:
            found = found.where(Employee.role == filters["role"])
        return paginate_select(found, pagination_parameters)

    @requires_role(Role.HR)
    @bp.arguments(EmployeeSchema)
    @bp.response(201, EmployeeSchema)
    @bp.alt_response(404, response="NOT_FOUND", description="Unknown team_id")
    @bp.alt_response(409, response="CONFLICT", description="The e-mail is taken")
    def post(self, data: dict) -> Employee:
        """Add an employee

        Granting the hr or admin role needs an admin.
        """
        team_id = data.pop("team_id")
        team = get_or_404(Team, team_id, "team_id") if team_id is not None else None
        employee = people.create_employee(caller(), team=team, **data)
        return employee


@bp.route("/<int:employee_id>")
class EmployeeById(MethodView):
    @requires_role(Role.HR)
    @bp.response(200, EmployeeSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def get(self, employee_id: int) -> Employee:
        """One employee"""
        return _employee(employee_id)

    @requires_role(Role.HR)
    @bp.arguments(EmployeeUpdateSchema)
    @bp.response(200, EmployeeSchema)
    @bp.alt_response(404, response="NOT_FOUND", description="Unknown employee or team_id")
    @bp.alt_response(409, response="CONFLICT", description="Erased, or the last admin")
    def patch(self, changes: dict, employee_id: int) -> Employee:
        """Change name, role, team or active state

        Granting or removing the hr or admin role needs an admin.
        """
        employee = people.update_employee(caller(), _employee(employee_id), changes)
        return employee


@bp.route("/<int:employee_id>/erase")
class EraseEmployee(MethodView):
    @requires_role(Role.ADMIN)
    @bp.response(204)
    @bp.alt_response(404, response="NOT_FOUND")
    @bp.alt_response(409, response="CONFLICT", description="The last active admin")
    def post(self, employee_id: int) -> None:
        """Erase an employee's personal data for good"""
        participation.erase_employee(caller(), _employee(employee_id))


@bp.route("/import")
class Import(MethodView):
    @requires_role(Role.HR)
    @bp.arguments(CsvImportSchema, location="files")
    @bp.arguments(ImportOptionsSchema, location="query")
    @bp.response(200, ImportReportSchema)
    def post(self, upload: dict, options: dict) -> dict:
        """Create or update employees from a CSV file

        Rows are matched by e-mail. Good rows are applied; broken rows are reported
        with their line number and the reason, and change nothing. A team not known
        yet rejects its row (with the closest existing name) unless `create_teams=true`.
        """
        report = people.import_people(
            caller(), upload["file"], create_teams=options["create_teams"]
        )
        return report.as_dict()
