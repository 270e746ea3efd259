"""/api/v1/teams: HR lists, creates, renames and deletes teams."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Employee, Role, Team
from tests.factories import EmployeeFactory, TeamFactory
from tests.web.api_support import (
    INVALID_JSON,
    MISSING,
    UNKNOWN,
    bearer_caller,
    forbidden,
    invalid,
    pagination,
    session_caller,
)


def team_names(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Team.name).order_by(Team.name)))


@pytest.fixture
def hr(app: Flask):
    return bearer_caller(app, Role.HR, team=None)


@pytest.fixture
def sales(app: Flask) -> int:
    with app.app_context():
        team = TeamFactory(name="Sales")
        EmployeeFactory.create_batch(2, team=team)
        return team.id


def test_list_teams_with_member_counts(app: Flask, hr, sales):
    with app.app_context():
        empty = TeamFactory(name="Accounting").id
    response = hr.get("/api/v1/teams")
    assert response.status_code == 200
    assert response.json == [
        {"id": empty, "name": "Accounting", "member_count": 0},
        {"id": sales, "name": "Sales", "member_count": 2},
    ]
    assert pagination(response)["total"] == 2


@pytest.mark.parametrize("make_caller", [session_caller, bearer_caller])
def test_create_a_team(app: Flask, make_caller):
    response = make_caller(app, Role.HR, team=None).post("/api/v1/teams", json={"name": " Sales "})
    assert response.status_code == 201
    assert response.json == {"id": response.json["id"], "name": "Sales", "member_count": 0}
    assert team_names(app) == ["Sales"]


def test_a_taken_name_is_409(app: Flask, hr, sales):
    response = hr.post("/api/v1/teams", json={"name": "SALES"})
    assert response.status_code == 409
    assert response.json == {
        "code": 409,
        "status": "Conflict",
        "message": "A team called 'Sales' exists already.",
        "errors": {"name": ["A team called 'Sales' exists already."]},
    }
    assert team_names(app) == ["Sales"]


TEAM_BODY_REFUSALS = [
    ("{}", 422, invalid({"name": MISSING})),
    ('{"name": null}', 422, invalid({"name": ["Field may not be null."]})),
    ('{"name": 5}', 422, invalid({"name": ["Not a valid string."]})),
    (
        '{"name": "' + "n" * 121 + '"}',
        422,
        invalid({"name": ["At most 120 characters."]}),
    ),
    ('{"name": "   "}', 422, invalid({"name": ["A team needs a name."]}, "A team needs a name.")),
    ('{"name": "Ops", "member_count": 3}', 422, invalid({"member_count": UNKNOWN})),
    ('{"name": "Ops"', 400, INVALID_JSON),
]


@pytest.mark.parametrize(("body", "status", "expected"), TEAM_BODY_REFUSALS)
def test_bad_new_teams_create_nothing(app: Flask, hr, body, status, expected):
    response = hr.raw("POST", "/api/v1/teams", body)
    assert response.status_code == status
    assert response.json == expected
    assert team_names(app) == []


def test_get_one_team(app: Flask, hr, sales):
    response = hr.get(f"/api/v1/teams/{sales}")
    assert response.status_code == 200
    assert response.json == {"id": sales, "name": "Sales", "member_count": 2}


def test_rename_a_team(app: Flask, hr, sales):
    response = hr.patch(f"/api/v1/teams/{sales}", json={"name": "Sales & Marketing"})
    assert response.status_code == 200
    assert response.json["name"] == "Sales & Marketing"
    assert team_names(app) == ["Sales & Marketing"]


def test_renaming_to_the_same_name_in_other_case_is_allowed(app: Flask, hr, sales):
    response = hr.patch(f"/api/v1/teams/{sales}", json={"name": "SALES"})
    assert response.status_code == 200
    assert team_names(app) == ["SALES"]


@pytest.mark.parametrize(("body", "status", "expected"), TEAM_BODY_REFUSALS)
def test_bad_renames_change_nothing(app: Flask, hr, sales, body, status, expected):
    response = hr.raw("PATCH", f"/api/v1/teams/{sales}", body)
    assert response.status_code == status
    assert response.json == expected
    assert team_names(app) == ["Sales"]


def test_renaming_to_a_taken_name_is_409(app: Flask, hr, sales):
    with app.app_context():
        TeamFactory(name="Marketing")
    response = hr.patch(f"/api/v1/teams/{sales}", json={"name": "marketing"})
    assert response.status_code == 409
    assert team_names(app) == ["Marketing", "Sales"]


def test_delete_a_team_keeps_its_members(app: Flask, hr, sales):
    response = hr.delete(f"/api/v1/teams/{sales}")
    assert response.status_code == 204
    assert team_names(app) == []
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Employee)) == 3
        assert list(db.session.scalars(select(Employee.team_id).distinct())) == [None]


@pytest.mark.parametrize(
    ("method", "body"), [("GET", None), ("PATCH", {"name": "Ops"}), ("DELETE", None)]
)
def test_unknown_teams_are_404(app: Flask, hr, sales, method, body):
    response = hr.open(method, "/api/v1/teams/999999", json=body)
    assert response.status_code == 404
    assert response.json == {
        "code": 404,
        "status": "Not Found",
        "message": "No team with id 999999.",
        "errors": {"id": ["No team with id 999999."]},
    }
    assert team_names(app) == ["Sales"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/teams", None),
        ("POST", "/api/v1/teams", {"name": "Ops"}),
        ("GET", "/api/v1/teams/{id}", None),
        ("PATCH", "/api/v1/teams/{id}", {"name": "Ops"}),
        ("DELETE", "/api/v1/teams/{id}", None),
    ],
)
@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.TEAM_LEAD])
def test_teams_are_for_hr(app: Flask, sales, role, method, path, body):
    caller = session_caller(app, role)
    response = caller.open(method, path.format(id=sales), json=body)
    assert response.status_code == 403
    assert response.json == forbidden(Role.HR)
    assert "Ops" not in team_names(app)
