"""HR pages: the people directory, CSV import, teams, interests and the guidelines."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select

from app.auth import requires_role
from app.db import get_or_404
from app.errors import ChorusError, InvalidInput
from app.extensions import db
from app.models import Employee, Interest, Role, Team
from app.schemas.fields import load
from app.schemas.people import (
    CsvImportSchema,
    EmployeeQuerySchema,
    EmployeeSchema,
    EmployeeUpdateSchema,
    InterestSchema,
    TeamSchema,
)
from app.schemas.policy import GuidelinesSchema
from app.services import participation, people
from app.web.pages import form_failed, me, optional_int, page_number

bp = Blueprint("hr", __name__)

PAGE_SIZE = 25


def _teams() -> list[Team]:
    return list(db.session.scalars(select(Team).order_by(Team.name)))


# People ----------------------------------------------------------------------------


@bp.get("/people")
@requires_role(Role.HR)
def people_list():
    raw = {k: v.strip() for k in ("q", "team_id", "role") if (v := request.args.get(k, ""))}
    try:
        filters = load(EmployeeQuerySchema(), raw)
    except InvalidInput as exc:
        filters, errors = {}, exc.errors
    else:
        errors = {}
    query = select(Employee).where(Employee.erased_at.is_(None)).order_by(Employee.name)
    if filters.get("q"):
        needle = filters["q"].lower()
        query = query.where(
            or_(
                func.lower(Employee.name).contains(needle, autoescape=True),
                Employee.email.contains(needle, autoescape=True),
            )
        )
    if "team_id" in filters:
        query = query.where(Employee.team_id == filters["team_id"])
    if "role" in filters:
        query = query.where(Employee.role == filters["role"])
    page = db.paginate(query, page=page_number(), per_page=PAGE_SIZE, error_out=False)
    page_html = render_template(
        "hr/people.html", page=page, teams=_teams(), args=raw, roles=list(Role), errors=errors
    )
    return page_html, 422 if errors else 200


def _employee_form() -> dict[str, Any]:
    form = {
        "email": request.form.get("email", ""),
        "name": request.form.get("name", ""),
        "team_id": optional_int(request.form.get("team_id")),
    }
    if request.form.get("role"):  # absent: the schema's default (new) or unchanged (edit)
        form["role"] = request.form["role"]
    return form


@bp.route("/people/new", methods=["GET", "POST"])
@requires_role(Role.HR)
def new_employee():
    context = {"teams": _teams(), "roles": list(Role)}
    if request.method == "GET":
        return render_template("hr/employee_new.html", values={}, errors={}, **context)
    try:
        data = load(EmployeeSchema(), _employee_form())
        team = None
        if data["team_id"] is not None:
            team = get_or_404(Team, data["team_id"], "team_id")
        employee = people.create_employee(
            me(), email=data["email"], name=data["name"], role=data["role"], team=team
        )
    except ChorusError as exc:
        return form_failed(exc, "hr/employee_new.html", **context)
    flash(f"{employee.name} is in the directory now.", "success")
    return redirect(url_for("hr.people_list"))


@bp.route("/people/<int:employee_id>", methods=["GET", "POST"])
@requires_role(Role.HR)
def edit_employee(employee_id: int):
    employee = get_or_404(Employee, employee_id)
    context = {"employee": employee, "teams": _teams(), "roles": list(Role)}
    if request.method == "GET":
        values = {
            "name": employee.name,
            "role": employee.role.value,
            "team_id": employee.team_id,
            "active": employee.active,
        }
        return render_template("hr/employee_edit.html", values=values, errors={}, **context)
    form = _employee_form()
    form.pop("email")
    form["active"] = request.form.get("active") == "on"
    try:
        changes = load(EmployeeUpdateSchema(), form)
        people.update_employee(me(), employee, changes)
    except ChorusError as exc:
        return form_failed(exc, "hr/employee_edit.html", values=form, **context)
    flash(f"Saved {employee.name}.", "success")
    return redirect(url_for("hr.people_list"))


@bp.route("/people/import", methods=["GET", "POST"])
@requires_role(Role.HR)
def import_people():
    if request.method == "GET":
        return render_template("hr/import.html", errors={})
    upload = request.files.get("file")
    try:
        data = load(CsvImportSchema(), {"file": upload or ""})  # no file: the schema says so
        report = people.import_people(
            me(), data["file"], create_teams=request.form.get("create_teams") == "yes"
        )
    except ChorusError as exc:
        return form_failed(exc, "hr/import.html")
    # The report is the result of this upload, shown once: no redirect, nothing to resubmit
    # by accident since a second upload only updates the same people again.
    return render_template("hr/import.html", errors={}, report=report, filename=upload.filename)


# Teams -----------------------------------------------------------------------------


def _render_teams(status: int = 200, **context: Any):
    counts = (
        select(Team, func.count(Employee.id))
        .outerjoin(Employee, (Employee.team_id == Team.id) & Employee.erased_at.is_(None))
        .group_by(Team.id)
        .order_by(Team.name)
    )
    context.setdefault("errors", {})
    context.setdefault("values", {})
    return render_template(
        "hr/teams.html", teams=db.session.execute(counts).all(), **context
    ), status


@bp.get("/teams")
@requires_role(Role.HR)
def teams():
    return _render_teams()


@bp.post("/teams")
@requires_role(Role.HR)
def create_team():
    try:
        data = load(TeamSchema(), {"name": request.form.get("name", "")})
        team = people.create_team(me(), data["name"])
    except ChorusError as exc:
        db.session.rollback()
        return _render_teams(
            exc.status, errors=exc.errors, error_message=exc.message, values=request.form
        )
    flash(f"Team {team.name} created.", "success")
    return redirect(url_for("hr.teams"))


@bp.post("/teams/<int:team_id>/rename")
@requires_role(Role.HR)
def rename_team(team_id: int):
    team = get_or_404(Team, team_id)
    try:
        data = load(TeamSchema(), {"name": request.form.get("name", "")})
        people.rename_team(me(), team, data["name"])
    except ChorusError as exc:
        db.session.rollback()
        return _render_teams(
            exc.status,
            team_errors={team_id: exc.errors.get("name") or [exc.message]},
            team_values={team_id: request.form.get("name", "")},
            error_message=exc.message,
        )
    flash(f"Team renamed to {team.name}.", "success")
    return redirect(url_for("hr.teams"))


@bp.post("/teams/<int:team_id>/delete")
@requires_role(Role.HR)
def delete_team(team_id: int):
    team = get_or_404(Team, team_id)
    name, members = team.name, len(team.members)
    people.delete_team(me(), team)
    flash(f"Team {name} deleted; its {members} member(s) now have no team.", "success")
    return redirect(url_for("hr.teams"))


# Interests -------------------------------------------------------------------------


def _render_interests(status: int = 200, **context: Any):
    interests = db.session.scalars(select(Interest).order_by(Interest.name)).all()
    context.setdefault("errors", {})
    context.setdefault("values", {})
    return render_template("hr/interests.html", interests=interests, **context), status


@bp.get("/interests")
@requires_role(Role.HR)
def interests():
    return _render_interests()


@bp.post("/interests")
@requires_role(Role.HR)
def create_interest():
    try:
        data = load(InterestSchema(), {"name": request.form.get("name", "")})
        interest = people.create_interest(me(), data["name"])
    except ChorusError as exc:
        db.session.rollback()
        return _render_interests(
            exc.status, errors=exc.errors, error_message=exc.message, values=request.form
        )
    flash(f"Interest {interest.name} added.", "success")
    return redirect(url_for("hr.interests"))


@bp.post("/interests/<int:interest_id>/delete")
@requires_role(Role.HR)
def delete_interest(interest_id: int):
    interest = get_or_404(Interest, interest_id)
    name = interest.name
    people.delete_interest(me(), interest)
    flash(f"Interest {name} deleted.", "success")
    return redirect(url_for("hr.interests"))


# Guidelines ------------------------------------------------------------------------


@bp.route("/guidelines/edit", methods=["GET", "POST"])
@requires_role(Role.HR)
def edit_guidelines():
    current = participation.current_guidelines()
    if request.method == "GET":
        values = {}
        if current is not None:
            values = {
                "body": current.body,
                "contact_name": current.contact_name,
                "contact_email": current.contact_email,
            }
        return render_template("hr/guidelines.html", current=current, values=values, errors={})
    form = {k: request.form.get(k, "") for k in ("body", "contact_name", "contact_email")}
    try:
        data = load(GuidelinesSchema(), form)
        version = participation.publish_guidelines(me(), **data)
    except ChorusError as exc:
        return form_failed(exc, "hr/guidelines.html", current=current)
    flash(f"Guidelines version {version.id} is published.", "success")
    return redirect(url_for("hr.edit_guidelines"))
