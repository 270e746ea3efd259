"""The company directory service: settings, teams, employees and the CSV import."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.extensions import db
from app.models import AuditEntry, CompanySettings, Employee, Role, Team
from app.services import people
from app.services.calendar import company_calendar
from tests.factories import EmployeeFactory, TeamFactory


def audit_actions(target=None) -> list[str]:
    query = select(AuditEntry.action).order_by(AuditEntry.id)
    if target is not None:
        query = query.where(
            AuditEntry.target_type == target.__tablename__, AuditEntry.target_id == target.id
        )
    return list(db.session.scalars(query))


# Company settings --------------------------------------------------------------------


def _settings_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(CompanySettings))


def test_company_settings_come_from_the_config_and_the_first_change_stores_them(ctx):
    settings = people.company_settings()
    assert settings.name == ctx.config["COMPANY_NAME"]
    assert settings.time_zone == ctx.config["COMPANY_TIME_ZONE"]
    assert (settings.week_start, settings.min_group_size) == (0, 5)
    assert _settings_rows() == 0  # reading stores nothing

    admin = EmployeeFactory(role=Role.ADMIN)
    people.update_company_settings(admin, {"week_start": 6})
    people.update_company_settings(admin, {"min_group_size": 3})
    db.session.commit()
    assert _settings_rows() == 1
    stored = people.company_settings()
    assert (stored.name, stored.time_zone, stored.week_start, stored.min_group_size) == (
        ctx.config["COMPANY_NAME"],
        ctx.config["COMPANY_TIME_ZONE"],
        6,
        3,
    )


# Teams -------------------------------------------------------------------------------


def test_create_rename_delete_team(ctx):
    admin = EmployeeFactory(role=Role.ADMIN)
    team = people.create_team(admin, "  Engineering ")
    assert team.name == "Engineering"
    member = EmployeeFactory(team=team)
    people.rename_team(admin, team, "Platform")
    assert team.name == "Platform"
    people.rename_team(admin, team, "platform")  # its own name, in another case
    people.delete_team(admin, team)
    db.session.commit()
    assert db.session.get(Team, team.id) is None
    assert db.session.get(Employee, member.id).team_id is None  # member stays
    assert audit_actions(team) == ["team.create", "team.rename", "team.rename", "team.delete"]


@pytest.mark.parametrize("clash", ["Sales", "sales", " SALES "])
def test_team_names_are_unique_case_insensitively(ctx, clash):
    TeamFactory(name="Sales")
    with pytest.raises(Conflict) as info:
        people.create_team(None, clash)
    assert info.value.errors == {"name": [info.value.message]}
    other = TeamFactory(name="Marketing")
    with pytest.raises(Conflict):
        people.rename_team(None, other, clash)


@pytest.mark.parametrize("name", ["", "   ", None])
def test_team_needs_a_name(ctx, name):
    with pytest.raises(InvalidInput) as info:
        people.create_team(None, name)
    assert "name" in info.value.errors


# Employees ---------------------------------------------------------------------------


def test_create_employee_normalises_email_and_audits(ctx):
    hr = EmployeeFactory(role=Role.HR)
    team = TeamFactory()
    employee = people.create_employee(
        hr, email="  Jana.Kraus@Example.COM ", name=" Jana Kraus ", team=team
    )
    db.session.commit()
    assert (employee.email, employee.name) == ("jana.kraus@example.com", "Jana Kraus")
    assert employee.role is Role.EMPLOYEE
    assert employee.team is team
    assert people.find_employee_by_email("JANA.KRAUS@example.com ") is employee
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "employee.create"))
    assert (entry.actor_id, entry.target_id) == (hr.id, employee.id)


@pytest.mark.parametrize(
    ("email", "name", "error", "field"),
    [
        ("not-an-address", "Jana", InvalidInput, "email"),
        ("two@@example.com", "Jana", InvalidInput, "email"),
        ("spaces in@example.com", "Jana", InvalidInput, "email"),
        ("", "Jana", InvalidInput, "email"),
        ("a@" + "x" * 250 + ".com", "Jana", InvalidInput, "email"),
        ("jana@example.com", "  ", InvalidInput, "name"),
        ("TAKEN@example.com", "Jana", Conflict, "email"),
    ],
)
def test_create_employee_refuses_bad_input(ctx, email, name, error, field):
    EmployeeFactory(email="taken@example.com")
    with pytest.raises(error) as info:
        people.create_employee(None, email=email, name=name)
    assert field in info.value.errors


@pytest.mark.parametrize(
    ("actor_role", "role", "allowed"),
    [
        (Role.HR, Role.EMPLOYEE, True),
        (Role.HR, Role.TEAM_LEAD, True),
        (Role.HR, Role.HR, False),
        (Role.HR, Role.ADMIN, False),
        (Role.ADMIN, Role.HR, True),
        (Role.ADMIN, Role.ADMIN, True),
        (None, Role.ADMIN, True),  # the operator's CLI
    ],
)
def test_only_admins_grant_powerful_roles(ctx, actor_role, role, allowed):
    actor = EmployeeFactory(role=actor_role) if actor_role else None
    if allowed:
        assert (
            people.create_employee(actor, email="n@example.com", name="N", role=role).role is role
        )
    else:
        with pytest.raises(Forbidden) as info:
            people.create_employee(actor, email="n@example.com", name="N", role=role)
        assert "role" in info.value.errors


def test_update_employee_changes_and_audits(ctx):
    admin = EmployeeFactory(role=Role.ADMIN)
    employee = EmployeeFactory()
    team = TeamFactory(name="Support")
    changes = {"name": " New Name ", "role": Role.TEAM_LEAD, "team_id": team.id}
    people.update_employee(admin, employee, changes)
    db.session.commit()
    assert (employee.name, employee.role, employee.team) == ("New Name", Role.TEAM_LEAD, team)
    assert changes["team_id"] == team.id  # the caller's dict is left alone
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "employee.update"))
    assert entry.details == {"name": "New Name", "role": "team_lead", "team": "Support"}
    people.update_employee(admin, employee, {"team_id": None})
    assert employee.team is None


@pytest.mark.parametrize(
    "changes", [{"role": Role.HR}, {"active": False}], ids=["demote", "deactivate"]
)
def test_the_last_active_admin_stays(ctx, changes):
    admin = EmployeeFactory(role=Role.ADMIN)
    EmployeeFactory(role=Role.ADMIN, active=False)  # does not count
    with pytest.raises(Conflict) as info:
        people.update_employee(admin, admin, changes)
    assert next(iter(changes)) in info.value.errors
    assert (admin.role, admin.active) == (Role.ADMIN, True)
    second = EmployeeFactory(role=Role.ADMIN)
    people.update_employee(second, admin, changes)  # with another admin it is fine


def test_an_inactive_admin_can_be_demoted_while_one_admin_is_active(ctx):
    active = EmployeeFactory(role=Role.ADMIN)
    inactive = EmployeeFactory(role=Role.ADMIN, active=False)
    people.update_employee(active, inactive, {"role": Role.EMPLOYEE})
    assert inactive.role is Role.EMPLOYEE


@pytest.mark.parametrize("target_role", [Role.HR, Role.ADMIN])
def test_hr_cannot_lock_out_powerful_accounts(ctx, target_role):
    EmployeeFactory(role=Role.ADMIN)
    hr = EmployeeFactory(role=Role.HR)
    target = EmployeeFactory(role=target_role)
    with pytest.raises(Forbidden) as info:
        people.update_employee(hr, target, {"active": False})
    assert "active" in info.value.errors
    assert target.active is True
    people.update_employee(hr, target, {"name": "Renamed"})  # other changes are fine


@pytest.mark.parametrize(
    ("changes", "error", "field"),
    [
        ({"team_id": 999_999}, NotFound, "team_id"),
        ({"name": " "}, InvalidInput, "name"),
        ({"role": Role.ADMIN}, Forbidden, "role"),
    ],
)
def test_update_employee_refuses_bad_changes(ctx, changes, error, field):
    hr = EmployeeFactory(role=Role.HR)
    employee = EmployeeFactory()
    before = (employee.name, employee.role, employee.team_id)
    with pytest.raises(error) as info:
        people.update_employee(hr, employee, changes)
    assert field in info.value.errors
    assert (employee.name, employee.role, employee.team_id) == before


# CSV import --------------------------------------------------------------------------


def test_import_creates_updates_and_reports(ctx):
    admin = EmployeeFactory(role=Role.ADMIN)
    existing = EmployeeFactory(email="ines.kaiser@example.com", name="Ines K", role=Role.HR)
    TeamFactory(name="Sales")
    csv_text = (
        "\ufeffEmail,Name,Team,Role\n"
        "ali.rahimi@example.com,Ali Rahimi,sales,\n"  # existing team, other case
        "INES.KAISER@example.com,Ines Kaiser,Support,\n"  # update; role kept
        "nora.busch@example.com,Nora Busch,Support,team_lead\n"
        "broken-address,Somebody,,\n"
        "empty.name@example.com,  ,,\n"
        "zoe.berger@example.com,Zoe Berger,,boss\n"
        "ali.rahimi@example.com,Ali Again,,\n"
        "\n"
        "till.scholz@example.com,Till Scholz,,admin\n"
    )
    report = people.import_people(admin, csv_text, create_teams=True)
    db.session.commit()
    assert (report.created, report.updated) == (3, 1)
    assert report.teams_created == ["Support"]
    assert [r["line"] for r in report.rejected] == [5, 6, 7, 8]
    reasons = [r["reason"] for r in report.rejected]
    assert "e-mail" in reasons[0]
    assert "name" in reasons[1]
    assert "'boss'" in reasons[2]
    assert "twice" in reasons[3]
    ali = people.find_employee_by_email("ali.rahimi@example.com")
    assert (ali.name, ali.team.name, ali.role) == ("Ali Rahimi", "Sales", Role.EMPLOYEE)
    assert (existing.name, existing.team.name, existing.role) == ("Ines Kaiser", "Support", Role.HR)
    assert people.find_employee_by_email("till.scholz@example.com").role is Role.ADMIN
    assert people.find_employee_by_email("nora.busch@example.com").role is Role.TEAM_LEAD
    assert "employee.import" in audit_actions()
    assert report.as_dict()["rejected"] == report.rejected


def test_import_without_role_or_team_columns_keeps_them(ctx):
    team = TeamFactory(name="Engineering")
    admin = EmployeeFactory(email="lead@example.com", role=Role.ADMIN, team=team)
    EmployeeFactory(role=Role.ADMIN)
    report = people.import_people(None, "email,name\nlead@example.com,Lena Hoffmann\n")
    assert (report.updated, report.rejected) == (1, [])
    assert (admin.role, admin.team, admin.name) == (Role.ADMIN, team, "Lena Hoffmann")


def test_import_from_hr_cannot_grant_or_remove_powerful_roles(ctx):
    hr = EmployeeFactory(role=Role.HR)
    other_hr = EmployeeFactory(email="other.hr@example.com", role=Role.HR)
    csv_text = (
        "email,name,role\n"
        "new.hr@example.com,New HR,hr\n"
        "new.admin@example.com,New Admin,admin\n"
        "other.hr@example.com,Other HR,employee\n"
        "lead@example.com,Team Lead,team_lead\n"
    )
    report = people.import_people(hr, csv_text)
    assert [r["line"] for r in report.rejected] == [2, 3, 4]
    assert all("Only an admin" in r["reason"] for r in report.rejected)
    assert report.created == 1
    assert people.find_employee_by_email("new.hr@example.com") is None
    assert other_hr.role is Role.HR


def test_import_refuses_to_demote_the_last_admin_and_leaves_nothing_behind(ctx):
    EmployeeFactory(email="only.admin@example.com", role=Role.ADMIN)
    report = people.import_people(
        None, "email,name,team,role\nonly.admin@example.com,A,New,hr\n", create_teams=True
    )
    assert [r["line"] for r in report.rejected] == [2]
    assert report.teams_created == []
    assert db.session.scalar(select(Team).where(Team.name == "New")) is None


@pytest.mark.parametrize(
    "csv_text",
    ["", "\ufeff", "name,team\nJana,Sales\n", "jana@example.com,Jana\n", "e-mail;name\n"],
)
def test_import_needs_a_header(ctx, csv_text):
    with pytest.raises(InvalidInput) as info:
        people.import_people(None, csv_text)
    assert "file" in info.value.errors
    assert "header" in info.value.message


def test_import_handles_quotes_and_extra_columns(ctx):
    csv_text = 'email,name,notes\n"m@example.com","Weber, Miriam",extra,more\n'
    report = people.import_people(None, csv_text)
    assert (report.created, report.rejected) == (1, [])
    assert people.find_employee_by_email("m@example.com").name == "Weber, Miriam"


def test_the_company_calendar_is_cached_and_follows_a_change_at_once(ctx):
    from zoneinfo import ZoneInfo

    admin = EmployeeFactory(role=Role.ADMIN)
    people.company_settings()
    db.session.commit()
    assert company_calendar() == (ZoneInfo("Europe/Berlin"), 0)
    people.update_company_settings(admin, {"time_zone": "America/New_York", "week_start": 6})
    db.session.rollback()  # nothing changed: the cached copy stays right
    assert company_calendar() == (ZoneInfo("Europe/Berlin"), 0)
    people.update_company_settings(admin, {"time_zone": "America/New_York", "week_start": 6})
    db.session.commit()
    assert company_calendar() == (ZoneInfo("America/New_York"), 6)
