"""/api/v1/tokens: admins create, list and revoke API tokens."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken, Role
from tests.factories import EmployeeFactory
from tests.web.api_support import (
    INVALID_JSON,
    MISSING,
    UNAUTHORIZED,
    UNKNOWN,
    Caller,
    anonymous,
    bearer_caller,
    forbidden,
    invalid,
    pagination,
    session_caller,
)


def token_names(app: Flask) -> list[tuple[str, bool]]:
    """(name, revoked) of every token, oldest first."""
    with app.app_context():
        return [
            (t.name, t.revoked_at is not None)
            for t in db.session.scalars(select(ApiToken).order_by(ApiToken.id))
        ]


@pytest.fixture
def admin(app: Flask) -> Caller:
    return session_caller(app, Role.ADMIN)


def test_create_a_token_and_use_it(app: Flask, admin):
    response = admin.post("/api/v1/tokens", json={"name": " ATS "})
    assert response.status_code == 201
    body = response.json
    secret = body.pop("token")
    assert secret.startswith("chorus_")
    assert body == {
        "id": body["id"],
        "name": "ATS",
        "owner_id": admin.employee_id,
        "prefix": secret[:12],
        "created_at": body["created_at"],
        "last_used_at": None,
        "revoked_at": None,
    }
    me = anonymous(app).get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    assert me.json["id"] == admin.employee_id
    with app.app_context():
        stored = db.session.get(ApiToken, body["id"])
        assert secret not in (stored.token_hash, stored.prefix)  # only a hash is kept


def test_a_token_for_someone_else_acts_as_them(app: Flask, admin):
    with app.app_context():
        integration_user = EmployeeFactory(role=Role.HR).id
    response = admin.post("/api/v1/tokens", json={"name": "HRIS", "owner_id": integration_user})
    assert response.status_code == 201
    assert response.json["owner_id"] == integration_user
    headers = {"Authorization": f"Bearer {response.json['token']}"}
    assert anonymous(app).get("/api/v1/me", headers=headers).json["id"] == integration_user
    assert anonymous(app).get("/api/v1/audit", headers=headers).status_code == 403


def test_list_tokens_newest_first_without_secrets(app: Flask, admin):
    for name in ("first", "second", "third"):
        admin.post("/api/v1/tokens", json={"name": name})
    response = admin.get("/api/v1/tokens?page_size=2")
    assert response.status_code == 200
    assert [t["name"] for t in response.json] == ["third", "second"]
    assert all("token" not in t for t in response.json)
    assert pagination(response)["total"] == 3


def test_revoke_a_token(app: Flask, admin):
    created = admin.post("/api/v1/tokens", json={"name": "ATS"}).json
    headers = {"Authorization": f"Bearer {created['token']}"}
    assert anonymous(app).get("/api/v1/me", headers=headers).status_code == 200
    response = admin.delete(f"/api/v1/tokens/{created['id']}")
    assert response.status_code == 204
    refused = anonymous(app).get("/api/v1/me", headers=headers)
    assert refused.status_code == 401
    assert refused.json == UNAUTHORIZED
    assert token_names(app) == [("ATS", True)]
    # Revoking again is harmless.
    assert admin.delete(f"/api/v1/tokens/{created['id']}").status_code == 204


def test_a_token_can_revoke_itself(app: Flask):
    admin = bearer_caller(app, Role.ADMIN)
    (own,) = admin.get("/api/v1/tokens").json
    assert admin.delete(f"/api/v1/tokens/{own['id']}").status_code == 204
    assert admin.get("/api/v1/tokens").status_code == 401


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ("{}", 422, invalid({"name": MISSING})),
        ('{"name": ""}', 422, invalid({"name": ["This field cannot be empty."]})),
        (
            '{"name": "   "}',
            422,
            invalid({"name": ["Give the token a name."]}, "Give the token a name."),
        ),
        ('{"name": 3}', 422, invalid({"name": ["Not a valid string."]})),
        ('{"name": "ATS", "owner_id": "me"}', 422, invalid({"owner_id": ["Not a valid integer."]})),
        ('{"name": "ATS", "token": "chorus_mine"}', 422, invalid({"token": UNKNOWN})),
        ('{"name": "ATS", "prefix": "chorus_"}', 422, invalid({"prefix": UNKNOWN})),
        (
            '{"name": "ATS", "owner_id": 999999}',
            404,
            {
                "code": 404,
                "status": "Not Found",
                "message": "No employee with id 999999.",
                "errors": {"owner_id": ["No employee with id 999999."]},
            },
        ),
        ('{"name": "ATS"', 400, INVALID_JSON),
    ],
)
def test_bad_tokens_are_not_created(app: Flask, admin, body, status, expected):
    response = admin.raw("POST", "/api/v1/tokens", body)
    assert response.status_code == status
    assert response.json == expected
    assert token_names(app) == []


def test_no_token_for_an_inactive_owner(app: Flask, admin):
    with app.app_context():
        gone = EmployeeFactory(active=False).id
    response = admin.post("/api/v1/tokens", json={"name": "ATS", "owner_id": gone})
    assert response.status_code == 422
    assert response.json["errors"] == {"owner_id": ["The owner is not an active employee."]}
    assert token_names(app) == []


def test_revoking_an_unknown_token_is_404(admin):
    response = admin.delete("/api/v1/tokens/999999")
    assert response.status_code == 404
    assert response.json == {
        "code": 404,
        "status": "Not Found",
        "message": "No API token with id 999999.",
        "errors": {"id": ["No API token with id 999999."]},
    }


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/tokens", None),
        ("POST", "/api/v1/tokens", {"name": "Mine"}),
        ("DELETE", "/api/v1/tokens/{id}", None),
    ],
)
@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.TEAM_LEAD, Role.HR])
def test_tokens_are_for_admins(app: Flask, admin, role, method, path, body):
    existing = admin.post("/api/v1/tokens", json={"name": "ATS"}).json["id"]
    response = session_caller(app, role).open(method, path.format(id=existing), json=body)
    assert response.status_code == 403
    assert response.json == forbidden(Role.ADMIN)
    assert token_names(app) == [("ATS", False)]
