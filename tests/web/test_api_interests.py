"""/api/v1/interests: everyone lists them, HR adds and removes them."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Employee, Interest, Role
from tests.factories import EmployeeFactory, InterestFactory
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


def interest_names(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Interest.name).order_by(Interest.name)))


@pytest.fixture
def careers(app: Flask) -> int:
    with app.app_context():
        return InterestFactory(name="Careers").id


def test_everyone_lists_interests(app: Flask, careers):
    with app.app_context():
        engineering = InterestFactory(name="Engineering").id
    response = bearer_caller(app).get("/api/v1/interests?page_size=1")
    assert response.status_code == 200
    assert response.json == [{"id": careers, "name": "Careers"}]
    assert pagination(response)["total"] == 2
    response = bearer_caller(app).get("/api/v1/interests?page=2&page_size=1")
    assert response.json == [{"id": engineering, "name": "Engineering"}]


@pytest.mark.parametrize("make_caller", [session_caller, bearer_caller])
def test_hr_adds_an_interest(app: Flask, make_caller):
    response = make_caller(app, Role.HR).post("/api/v1/interests", json={"name": " Careers "})
    assert response.status_code == 201
    assert response.json == {"id": response.json["id"], "name": "Careers"}
    assert interest_names(app) == ["Careers"]


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ("{}", 422, invalid({"name": MISSING})),
        ('{"name": 1}', 422, invalid({"name": ["Not a valid string."]})),
        (
            '{"name": "' + "n" * 81 + '"}',
            422,
            invalid({"name": ["At most 80 characters."]}),
        ),
        (
            '{"name": " "}',
            422,
            invalid({"name": ["An interest needs a name."]}, "An interest needs a name."),
        ),
        ('{"name": "Sales", "id": 3}', 422, invalid({"id": UNKNOWN})),
        (
            '{"name": "careers"}',
            409,
            {
                "code": 409,
                "status": "Conflict",
                "message": "The interest 'careers' exists already.",
                "errors": {"name": ["The interest 'careers' exists already."]},
            },
        ),
        ("{name: Sales}", 400, INVALID_JSON),
    ],
)
def test_bad_interests_add_nothing(app: Flask, careers, body, status, expected):
    response = bearer_caller(app, Role.HR).raw("POST", "/api/v1/interests", body)
    assert response.status_code == status
    assert response.json == expected
    assert interest_names(app) == ["Careers"]


def test_removing_an_interest_removes_it_from_employees(app: Flask, careers):
    with app.app_context():
        employee_id = EmployeeFactory(interests=[db.session.get(Interest, careers)]).id
    response = bearer_caller(app, Role.HR).delete(f"/api/v1/interests/{careers}")
    assert response.status_code == 204
    assert interest_names(app) == []
    with app.app_context():
        assert db.session.get(Employee, employee_id).interests == []


def test_removing_an_unknown_interest_is_404(app: Flask, careers):
    response = bearer_caller(app, Role.HR).delete("/api/v1/interests/999999")
    assert response.status_code == 404
    assert response.json["message"] == "No interest with id 999999."
    assert interest_names(app) == ["Careers"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("POST", "/api/v1/interests", {"name": "Sales"}), ("DELETE", "/api/v1/interests/{id}", None)],
)
@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.TEAM_LEAD])
def test_only_hr_curates_interests(app: Flask, careers, role, method, path, body):
    response = bearer_caller(app, role).open(method, path.format(id=careers), json=body)
    assert response.status_code == 403
    assert response.json == forbidden(Role.HR)
    assert interest_names(app) == ["Careers"]
