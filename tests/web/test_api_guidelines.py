"""/api/v1/guidelines: employees read the current version, HR publishes new ones."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, GuidelineVersion, Role
from tests.factories import GuidelineVersionFactory
from tests.web.api_support import (
    INVALID_JSON,
    MISSING,
    UNKNOWN,
    bearer_caller,
    count,
    forbidden,
    invalid,
    session_caller,
)

BODY = "Sharing is voluntary. Speak as yourself, and keep secrets secret."
GOOD = {"body": BODY, "contact_name": "Sabine Meyer", "contact_email": "sabine@example.com"}


def test_no_guidelines_yet_is_404(app: Flask):
    response = bearer_caller(app).get("/api/v1/guidelines")
    assert response.status_code == 404
    assert response.json == {
        "code": 404,
        "status": "Not Found",
        "message": "HR has not published guidelines yet.",
    }


def test_employees_read_the_current_version(app: Flask):
    with app.app_context():
        GuidelineVersionFactory(body="The old rules, long enough to count.")
        current = GuidelineVersionFactory()
        current_id, created_at = current.id, current.created_at.isoformat()
    response = session_caller(app).get("/api/v1/guidelines")
    assert response.status_code == 200
    assert response.json == {
        "id": current_id,
        "body": "Sharing is voluntary. Speak as yourself and keep secrets secret.",
        "contact_name": "Sabine Meyer",
        "contact_email": "sabine.meyer@example.com",
        "created_at": created_at,
    }


@pytest.mark.parametrize("make_caller", [session_caller, bearer_caller])
def test_hr_publishes_a_new_version(app: Flask, make_caller):
    hr = make_caller(app, Role.HR)
    response = hr.post("/api/v1/guidelines", json={**GOOD, "contact_email": "Sabine@Example.com"})
    assert response.status_code == 201
    assert response.json["body"] == BODY
    assert response.json["contact_email"] == "sabine@example.com"
    assert hr.get("/api/v1/guidelines").json["id"] == response.json["id"]
    with app.app_context():
        version = db.session.get(GuidelineVersion, response.json["id"])
        assert version.created_by_id == hr.employee_id
        audited = db.session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.target_type == "guideline_versions", AuditEntry.target_id == version.id
            )
        )
        assert list(audited) == ["guidelines.publish"]


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ("{}", 422, invalid({"body": MISSING, "contact_name": MISSING, "contact_email": MISSING})),
        (
            '{"body": "too short", "contact_name": "S", "contact_email": "s@example.com"}',
            422,
            invalid({"body": ["At least 20 characters."]}),
        ),
        (
            '{"body": "' + "b" * 30 + '", "contact_name": "S", "contact_email": "nobody"}',
            422,
            invalid({"contact_email": ["Not a valid email address."]}),
        ),
        (
            '{"body": "' + "b" * 30 + '", "contact_name": "", "contact_email": "s@example.com"}',
            422,
            invalid({"contact_name": ["This field cannot be empty."]}),
        ),
        (
            '{"body": "' + " " * 30 + '", "contact_name": "S", "contact_email": "s@example.com"}',
            422,
            invalid(
                {"body": ["Write the guidelines out (at least 20 characters)."]},
                "Write the guidelines out (at least 20 characters).",
            ),
        ),
        (
            '{"body": 12, "contact_name": ["S"], "contact_email": "s@example.com"}',
            422,
            invalid({"body": ["Not a valid string."], "contact_name": ["Not a valid string."]}),
        ),
        (
            '{"body": "' + "b" * 30 + '", "contact_name": "S", "contact_email": "s@example.com",'
            ' "id": 7}',
            422,
            invalid({"id": UNKNOWN}),
        ),
        ('{"body": ', 400, INVALID_JSON),
    ],
)
def test_bad_guidelines_publish_nothing(app: Flask, body, status, expected):
    response = bearer_caller(app, Role.HR).raw("POST", "/api/v1/guidelines", body)
    assert response.status_code == status
    assert response.json == expected
    assert count(app, GuidelineVersion) == 0


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.TEAM_LEAD])
def test_only_hr_publishes(app: Flask, role: Role):
    response = bearer_caller(app, role).post("/api/v1/guidelines", json=GOOD)
    assert response.status_code == 403
    assert response.json == forbidden(Role.HR)
    assert count(app, GuidelineVersion) == 0
