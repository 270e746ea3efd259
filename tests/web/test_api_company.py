"""/api/v1/company: everyone reads the company settings, admins change them."""

from __future__ import annotations

import pytest
from flask import Flask

from app.extensions import db
from app.models import CompanySettings, Role
from app.services.people import company_settings
from tests.factories import CompanySettingsFactory
from tests.web.api_support import (
    INVALID_JSON,
    NOT_AN_INTEGER,
    UNKNOWN,
    bearer_caller,
    forbidden,
    invalid,
    session_caller,
)

DEFAULTS = {
    "name": "Example AG",
    "time_zone": "Europe/Berlin",
    "week_start": 0,
    "min_group_size": 5,
}


def settings(app: Flask) -> dict:
    with app.app_context():
        row = company_settings()
        return {key: getattr(row, key) for key in DEFAULTS}


@pytest.fixture
def example_ag(app: Flask) -> None:
    with app.app_context():
        CompanySettingsFactory()


def test_everyone_reads_the_settings(app: Flask, example_ag):
    response = bearer_caller(app).get("/api/v1/company")
    assert response.status_code == 200
    assert response.json == DEFAULTS


def test_the_settings_come_from_the_environment_until_an_admin_changes_one(app: Flask):
    from_environment = {
        "name": app.config["COMPANY_NAME"],
        "time_zone": app.config["COMPANY_TIME_ZONE"],
        "week_start": 0,
        "min_group_size": 5,
    }
    response = session_caller(app).get("/api/v1/company")
    assert response.status_code == 200
    assert response.json == from_environment
    with app.app_context():
        assert db.session.query(CompanySettings).count() == 0  # reading stores nothing

    response = session_caller(app, Role.ADMIN).patch("/api/v1/company", json={"week_start": 6})
    assert response.status_code == 200
    assert response.json == {**from_environment, "week_start": 6}
    assert settings(app) == {**from_environment, "week_start": 6}
    with app.app_context():
        assert db.session.query(CompanySettings).count() == 1


@pytest.mark.parametrize("make_caller", [session_caller, bearer_caller])
def test_admins_change_some_settings(app: Flask, example_ag, make_caller):
    admin = make_caller(app, Role.ADMIN)
    response = admin.patch(
        "/api/v1/company", json={"time_zone": "America/New_York", "week_start": 6}
    )
    assert response.status_code == 200
    expected = {**DEFAULTS, "time_zone": "America/New_York", "week_start": 6}
    assert response.json == expected
    assert settings(app) == expected


@pytest.mark.parametrize(
    ("body", "status", "errors"),
    [
        (
            '{"time_zone": "Mars/Olympus"}',
            422,
            {"time_zone": ["Unknown time zone; use an IANA name like Europe/Berlin."]},
        ),
        (
            '{"week_start": 7}',
            422,
            {"week_start": ["Must be greater than or equal to 0 and less than or equal to 6."]},
        ),
        ('{"week_start": "monday"}', 422, {"week_start": NOT_AN_INTEGER}),
        (
            '{"min_group_size": 0}',
            422,
            {
                "min_group_size": [
                    "Must be greater than or equal to 1 and less than or equal to 1000."
                ]
            },
        ),
        ('{"name": ""}', 422, {"name": ["This field cannot be empty."]}),
        ('{"name": null}', 422, {"name": ["Field may not be null."]}),
        ('{"currency": "EUR"}', 422, {"currency": UNKNOWN}),
        (
            '{"name": "A", "week_start": 9}',
            422,
            {"week_start": ["Must be greater than or equal to 0 and less than or equal to 6."]},
        ),
    ],
)
def test_bad_settings_change_nothing(app: Flask, example_ag, body, status, errors):
    response = bearer_caller(app, Role.ADMIN).raw("PATCH", "/api/v1/company", body)
    assert response.status_code == status
    assert response.json == invalid(errors)
    assert settings(app) == DEFAULTS


def test_malformed_json_changes_nothing(app: Flask, example_ag):
    response = bearer_caller(app, Role.ADMIN).raw("PATCH", "/api/v1/company", '{"name": "B"')
    assert response.status_code == 400
    assert response.json == INVALID_JSON
    assert settings(app) == DEFAULTS


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.TEAM_LEAD, Role.HR])
def test_only_admins_change_settings(app: Flask, example_ag, role: Role):
    response = bearer_caller(app, role).patch("/api/v1/company", json={"name": "Evil Corp"})
    assert response.status_code == 403
    assert response.json == forbidden(Role.ADMIN)
    assert settings(app) == DEFAULTS
