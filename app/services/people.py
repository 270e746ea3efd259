"""The company directory: settings, teams, employees, interests, and the CSV import."""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from app.db import among, get_or_404
from app.errors import Conflict, Forbidden, InvalidInput
from app.extensions import after_commit, db
from app.models import CompanySettings, Employee, Interest, Role, Team
from app.services import audit, rollups
from app.services.board_membership import follow_on_boards
from app.services.calendar import forget_company_calendar
from app.services.names import flush_unique, name_key, same_name_as
from app.services.single_row import single_row, update_single_row
from scoring.participation import is_participating

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Only admins hand out or take away the powerful roles.
ADMIN_GRANTED_ROLES = frozenset({Role.HR, Role.ADMIN})


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        raise InvalidInput("Not a valid e-mail address.", field="email")
    return email


def find_employee_by_email(email: str) -> Employee | None:
    return db.session.scalar(select(Employee).where(Employee.email == email.strip().lower()))


# Company settings ------------------------------------------------------------------


def company_settings() -> CompanySettings:
    """The settings row; until an admin changes one, an unsaved row with the
    environment's defaults (``single_row``)."""
    return single_row(
        CompanySettings,
        name=current_app.config["COMPANY_NAME"],
        time_zone=current_app.config["COMPANY_TIME_ZONE"],
        week_start=0,
        min_group_size=5,
    )


def update_company_settings(actor: Employee, changes: dict) -> CompanySettings:
    after_commit(forget_company_calendar)
    settings = company_settings()
    calendar = (settings.time_zone, settings.week_start)
    settings = update_single_row(settings, actor, "company.update", changes)
    if (settings.time_zone, settings.week_start) != calendar:
        # Analytics count by local day, week and month: counted anew in the new calendar.
        after_commit(rollups.rebuild_later)
    return settings


# Teams -----------------------------------------------------------------------------


def _team_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("A team needs a name.", field="name")
    return name


def _check_team_name_free(name: str, team_id: int | None = None) -> None:
    clash = same_name_as(Team.name, name, other_than=team_id)
    if clash is not None:
        raise Conflict(f"A team called {clash!r} exists already.", field="name")


def create_team(actor: Employee | None, name: str) -> Team:
    name = _team_name(name)
    _check_team_name_free(name)
    team = Team(name=name)
    db.session.add(team)
    flush_unique(Team.name, f"A team called {name!r} exists already.")
    audit.record(actor, "team.create", team, name=name)
    return team


def rename_team(actor: Employee, team: Team, name: str) -> Team:
    name = _team_name(name)
    _check_team_name_free(name, team.id)
    audit.record(actor, "team.rename", team, old=team.name, new=name)
    team.name = name
    flush_unique(Team.name, f"A team called {name!r} exists already.")
    return team


def delete_team(actor: Employee, team: Team) -> None:
    """Members stay in the directory without a team; the team's analytics join those
    of people without a team."""
    for member in team.members:
        member.team = None
    audit.record(actor, "team.delete", team, name=team.name)
    rollups.forget_team(team.id)
    db.session.delete(team)


# Employees -------------------------------------------------------------------------


def _check_role_change(actor: Employee | None, old: Role | None, new: Role) -> None:
    if actor is None:  # the CLI, run by whoever operates the server
        return
    powerful = new in ADMIN_GRANTED_ROLES or old in ADMIN_GRANTED_ROLES
    if powerful and new != old and not actor.has_role(Role.ADMIN):
        raise Forbidden("Only an admin can grant or remove the hr and admin roles.", field="role")


def create_employee(
    actor: Employee | None,
    *,
    email: str,
    name: str,
    role: Role = Role.EMPLOYEE,
    team: Team | None = None,
) -> Employee:
    email = normalize_email(email)
    name = (name or "").strip()
    if not name:
        raise InvalidInput("A name is required.", field="name")
    if find_employee_by_email(email) is not None:
        raise Conflict(f"{email} is in the directory already.", field="email")
    _check_role_change(actor, None, role)
    employee = Employee(email=email, name=name, role=role, team=team)
    db.session.add(employee)
    db.session.flush()
    audit.record(actor, "employee.create", employee, email=email, role=role.value)
    return employee


def active_admin_count() -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Employee)
        .where(Employee.role == Role.ADMIN, Employee.active.is_(True), Employee.erased_at.is_(None))
    )


def _check_an_admin_remains(employee: Employee, changes: dict) -> None:
    demoted = changes.get("role", Role.ADMIN) != Role.ADMIN
    deactivated = changes.get("active") is False
    # An admin who cannot sign in anyway is not one of the active admins to protect.
    losing_admin = employee.role == Role.ADMIN and employee.is_active and (demoted or deactivated)
    if losing_admin and active_admin_count() <= 1:
        raise Conflict(
            "Chorus needs at least one active admin.", field="role" if demoted else "active"
        )


def update_employee(actor: Employee | None, employee: Employee, changes: dict) -> Employee:
    """Change name, role, team or active state; the change is audited."""
    changes = dict(changes)  # the caller's mapping stays as it was
    if employee.erased_at is not None:
        raise Conflict("This employee's data was erased.")
    if "role" in changes:
        _check_role_change(actor, employee.role, changes["role"])
    # Locking someone out of a powerful role is as good as taking the role away.
    toggles_power = (
        employee.role in ADMIN_GRANTED_ROLES
        and changes.get("active", employee.active) != employee.active
    )
    if toggles_power and actor is not None and not actor.has_role(Role.ADMIN):
        raise Forbidden(
            "Only an admin can deactivate or reactivate hr and admin accounts.", field="active"
        )
    _check_an_admin_remains(employee, changes)
    if "name" in changes:
        changes["name"] = (changes["name"] or "").strip()
        if not changes["name"]:
            raise InvalidInput("A name is required.", field="name")
    if "team_id" in changes:
        team_id = changes.pop("team_id")
        employee.team = get_or_404(Team, team_id, "team_id") if team_id is not None else None
        changes["team"] = employee.team.name if employee.team else None
    for key in ("name", "role", "active"):
        if key in changes:
            setattr(employee, key, changes[key])
    if "name" in changes or "active" in changes:
        follow_on_boards(employee)
    audit.record(
        actor,
        "employee.update",
        employee,
        **{k: (v.value if isinstance(v, Role) else v) for k, v in changes.items()},
    )
    return employee


# Interests -------------------------------------------------------------------------


def create_interest(actor: Employee | None, name: str) -> Interest:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("An interest needs a name.", field="name")
    if same_name_as(Interest.name, name) is not None:
        raise Conflict(f"The interest {name!r} exists already.", field="name")
    interest = Interest(name=name)
    db.session.add(interest)
    flush_unique(Interest.name, f"The interest {name!r} exists already.")
    audit.record(actor, "interest.create", interest, name=name)
    return interest


def delete_interest(actor: Employee, interest: Interest) -> None:
    audit.record(actor, "interest.delete", interest, name=interest.name)
    rollups.forget_interest(interest.id)
    db.session.delete(interest)


# CSV import ------------------------------------------------------------------------

CSV_COLUMNS = ("email", "name", "team", "role")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    teams_created: list[str] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)  # {"line": n, "reason": "..."}

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "updated": self.updated,
            "teams_created": self.teams_created,
            "rejected": self.rejected,
        }


def _read_csv(text: str) -> csv.DictReader:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("email", "name") if c not in headers]
    if missing:
        raise InvalidInput(
            f"The CSV needs a header row with the columns {', '.join(CSV_COLUMNS)} "
            f"(team and role optional); missing: {', '.join(missing)}.",
            field="file",
        )
    reader.fieldnames = headers
    return reader


def _rows(reader: csv.DictReader) -> list[tuple[int, dict]]:
    """All rows with their line numbers, read before anything is written, so that a file
    the csv module cannot parse changes nothing."""
    try:
        return [(reader.line_num, row) for row in reader]
    except csv.Error as exc:  # e.g. a field beyond the csv module's size limit
        raise InvalidInput(f"The file is not readable as CSV: {exc}.", field="file") from exc


def closest_name(name: str, names: list[str]) -> str | None:
    """The existing name a misspelt one most likely meant, if any is close."""
    by_key = {name_key(n): n for n in names}
    found = difflib.get_close_matches(name_key(name), list(by_key), n=1, cutoff=0.6)
    return by_key[found[0]] if found else None


def _unknown_team(name: str, teams: dict[str, Team]) -> InvalidInput:
    guess = closest_name(name, [t.name for t in teams.values()])
    hint = f" Did you mean {guess!r}?" if guess else ""
    return InvalidInput(
        f"Unknown team {name!r}.{hint} Fix the name, or import again allowing new teams.",
        field="team",
    )


def import_people(actor: Employee | None, text: str, *, create_teams: bool = False) -> ImportReport:
    """Create or update employees (matched by e-mail) from CSV.

    Good rows are applied and broken rows reported with their line number; a row never
    half-applies. Roles above team lead can only come from an admin. A team not known yet
    is a rejected row (a misspelt name must not quietly become a team) unless the import
    asks for new teams with ``create_teams``.
    """
    report = ImportReport()
    reader = _read_csv(text)
    # Keyed like every unique name (Unicode case fold), so "STRASSE" is the team "Straße".
    teams = {name_key(t.name): t for t in db.session.scalars(select(Team))}
    seen: set[str] = set()
    for line, row in _rows(reader):
        values = {k: (v or "").strip() for k, v in row.items() if k}
        if not any(values.values()):
            continue
        try:
            email = normalize_email(values.get("email", ""))
            if email in seen:
                raise InvalidInput(f"{email} appears twice in the file.")
            seen.add(email)
            name = values.get("name", "")
            if not name:
                raise InvalidInput("The name is empty.")
            existing = find_employee_by_email(email)
            # An empty or missing role keeps an existing person's role: a CSV without the
            # column must not demote anyone.
            role_text = values.get("role", "").lower()
            if not role_text:
                role_text = existing.role.value if existing else Role.EMPLOYEE.value
            try:
                role = Role(role_text)
            except ValueError as exc:
                raise InvalidInput(
                    f"Unknown role {role_text!r}: use one of {', '.join(r.value for r in Role)}."
                ) from exc
            _check_role_change(actor, existing.role if existing else None, role)
            team_name = values.get("team", "")
            if team_name and not create_teams and name_key(team_name) not in teams:
                raise _unknown_team(team_name, teams)
            if existing is not None:
                if existing.erased_at is not None:
                    raise Conflict(f"{email} belongs to an erased employee.")
                # Checked before the row's team is created, so a refused row leaves nothing.
                _check_an_admin_remains(existing, {"role": role})
        except (InvalidInput, Conflict, Forbidden) as exc:
            report.rejected.append({"line": line, "reason": exc.message})
            continue
        # Validated above, so the writes below cannot fail half-way through a row.
        team = teams.get(name_key(team_name)) if team_name else None
        if team_name and team is None:
            team = teams[name_key(team_name)] = create_team(actor, team_name)
            report.teams_created.append(team.name)
        if existing is None:
            create_employee(actor, email=email, name=name, role=role, team=team)
            report.created += 1
            continue
        changes: dict = {"name": name, "role": role}
        if team is not None:  # likewise, an empty team keeps the existing one
            changes["team_id"] = team.id
        try:  # update_employee checks everything before it changes anything
            update_employee(actor, existing, changes)
        except (Conflict, Forbidden) as exc:
            report.rejected.append({"line": line, "reason": exc.message})
            continue
        report.updated += 1
    audit.record(
        actor,
        "employee.import",
        None,
        created=report.created,
        updated=report.updated,
        rejected=len(report.rejected),
    )
    return report


# Who takes part ----------------------------------------------------------------------


def participants(employee_ids: Collection[int] | None = None) -> list[int]:
    """Of ``employee_ids`` (or everyone), those taking part, in id order."""
    # Whether someone opted in is all ``is_participating`` reads of the moment, so the
    # moment itself is not fetched (nor converted) for every row.
    opted_in = Employee.opted_in_at.is_not(None)
    query = select(Employee.id, Employee.active, Employee.erased_at.is_(None)).where(opted_in)
    if employee_ids is not None:
        if not employee_ids:
            return []
        query = query.where(among(Employee.id, list(employee_ids)))
    return [
        employee_id
        for employee_id, active, kept in db.session.execute(query.order_by(Employee.id)).all()
        if is_participating(_OPTED_IN, bool(active and kept))
    ]


_OPTED_IN = datetime.min  # stands for any moment of opting in (the query asked for one)
