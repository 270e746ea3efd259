"""What every API call shares: who may call, CSRF for sessions, the error shape,
pagination, and the OpenAPI document."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.views import MethodView
from sqlalchemy import select

from app.api import BLUEPRINTS
from app.api.support import api_blueprint
from app.extensions import db
from app.models import ApiToken, Employee, Role, Team
from app.services.tokens import revoke_token
from tests.factories import TeamFactory
from tests.web.api_support import (
    CSRF_MISSING,
    INVALID_JSON,
    UNAUTHORIZED,
    anonymous,
    bearer_caller,
    count,
    invalid,
    issue_token,
    pagination,
    session_caller,
)


def sales_teams(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Team.name).where(Team.name == "Sales")))


def api_writes(app: Flask) -> list[tuple[str, str, Role]]:
    """Every write path of the API with its least role, read from the app itself, so a
    new endpoint is covered the day it is added. Ids become 1; the checks below refuse
    before any lookup or body parsing."""
    writes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        view_class = app.view_functions[rule.endpoint].view_class
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}):
            role = getattr(view_class, method.lower()).required_role
            if role is not None:  # @public (the signed ATS webhook) has no session to guard
                writes.append((method, re.sub(r"<(?:\w+:)?\w+>", "1", rule.rule), role))
    return sorted(writes)


def test_the_write_paths_are_found(app: Flask):
    writes = api_writes(app)
    assert len(writes) > 40
    assert ("POST", "/api/v1/shares", Role.EMPLOYEE) in writes
    assert ("DELETE", "/api/v1/tokens/1", Role.ADMIN) in writes


def test_anonymous_writes_are_refused_with_401_without_needing_csrf(app: Flask):
    client = anonymous(app)
    problems = []
    for method, path, _role in api_writes(app):
        response = client.open(method, path, json={})
        if (response.status_code, response.json) != (401, UNAUTHORIZED) or (
            response.headers.get("WWW-Authenticate") != 'Bearer realm="chorus"'
        ):
            problems.append(f"{method} {path}: {response.status_code}")
    assert problems == []


def test_session_writes_without_the_csrf_header_are_refused(app: Flask):
    problems = []
    for method, path, role in api_writes(app):
        caller = session_caller(app, role)
        caller.headers.pop("X-CSRFToken")
        before = count(app, Team), count(app, Employee)
        response = caller.open(method, path, json={})
        if (response.status_code, response.json) != (400, CSRF_MISSING):
            problems.append(f"{method} {path}: {response.status_code}")
        assert (count(app, Team), count(app, Employee)) == before
    assert problems == []


def test_a_role_too_weak_is_refused_before_the_body_is_read(app: Flask):
    problems = []
    for method, path, role in api_writes(app):
        if role is Role.EMPLOYEE:  # everyone signed in is at least an employee
            continue
        weaker = list(Role)[role.rank - 1]
        response = bearer_caller(app, weaker).raw(method, path, "{not json")
        expected = f"This needs the {role.value.replace('_', ' ')} role."
        if response.status_code != 403 or response.json["message"] != expected:
            problems.append(f"{method} {path}: {response.status_code}")
    assert problems == []


def test_a_bearer_call_needs_no_csrf_header(app: Flask):
    hr = bearer_caller(app, Role.HR)
    response = hr.post("/api/v1/teams", json={"name": "Sales"})
    assert response.status_code == 201
    assert response.json["name"] == "Sales"


def test_a_session_call_with_the_csrf_header_is_accepted(app: Flask):
    hr = session_caller(app, Role.HR)
    response = hr.post("/api/v1/teams", json={"name": "Sales"})
    assert response.status_code == 201


@pytest.mark.parametrize(
    "authorization",
    ["Bearer chorus_not-a-real-token", "Bearer not-even-our-prefix", "Basic dXNlcjpwYXNz"],
)
def test_unknown_tokens_are_anonymous(app: Flask, authorization: str):
    response = anonymous(app).get("/api/v1/me", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.json == UNAUTHORIZED


def test_a_revoked_token_stops_working(app: Flask):
    admin = bearer_caller(app, Role.ADMIN)
    assert admin.get("/api/v1/me").status_code == 200
    with app.app_context():
        token = db.session.scalar(select(ApiToken).where(ApiToken.owner_id == admin.employee_id))
        revoke_token(token.owner, token)
        db.session.commit()
    response = admin.post("/api/v1/teams", json={"name": "Sales"})
    assert response.status_code == 401
    assert response.json == UNAUTHORIZED
    assert sales_teams(app) == []


def test_a_deactivated_owners_token_stops_working(app: Flask):
    employee = bearer_caller(app)
    with app.app_context():
        db.session.get(Employee, employee.employee_id).active = False
        db.session.commit()
    assert employee.get("/api/v1/me").status_code == 401


def test_a_token_acts_with_its_owners_role(app: Flask):
    employee = bearer_caller(app, Role.EMPLOYEE)
    response = employee.post("/api/v1/teams", json={"name": "Sales"})
    assert response.status_code == 403
    hr_secret = issue_token(app, session_caller(app, Role.HR).employee_id)
    response = anonymous(app).post(
        "/api/v1/teams", json={"name": "Sales"}, headers={"Authorization": f"Bearer {hr_secret}"}
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ("{not json", 400, INVALID_JSON),
        ('{"name": "Sales",}', 400, INVALID_JSON),
        ("[]", 422, invalid({"_schema": ["Invalid input type."]})),
        ('"Sales"', 422, invalid({"_schema": ["Invalid input type."]})),
        ("{}", 422, invalid({"name": ["This field is required."]})),
        ('{"name": 7}', 422, invalid({"name": ["Not a valid string."]})),
        ('{"name": ""}', 422, invalid({"name": ["This field cannot be empty."]})),
        ('{"name": "Sales", "colour": "red"}', 422, invalid({"colour": ["Unknown field."]})),
        ('{"name": "Sales", "id": 5}', 422, invalid({"id": ["Unknown field."]})),
    ],
)
def test_bad_bodies_get_the_one_error_shape_and_change_nothing(
    app: Flask, body: str, status: int, expected: dict
):
    response = bearer_caller(app, Role.HR).raw("POST", "/api/v1/teams", body)
    assert response.status_code == status
    assert response.json == expected
    assert sales_teams(app) == []


def test_a_form_encoded_body_is_not_json(app: Flask):
    response = bearer_caller(app, Role.HR).post("/api/v1/teams", data={"name": "Sales"})
    assert response.status_code == 422
    assert response.json["errors"] == {"name": ["This field is required."]}
    assert sales_teams(app) == []


def test_an_unknown_api_path_answers_json(app: Flask):
    response = bearer_caller(app).get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json["code"] == 404
    assert response.json["status"] == "Not Found"


def test_a_method_not_allowed_answers_json(app: Flask):
    response = bearer_caller(app, Role.ADMIN).put("/api/v1/audit", json={})
    assert response.status_code == 405
    assert response.json["status"] == "Method Not Allowed"


# Pagination ---------------------------------------------------------------------


@pytest.fixture
def twenty_five_teams(app: Flask) -> None:
    with app.app_context():
        for n in range(25):
            TeamFactory(name=f"Team {n:02d}")


@pytest.mark.parametrize(
    ("query", "names", "meta"),
    [
        (
            "",
            [f"Team {n:02d}" for n in range(20)],
            {
                "total": 25,
                "total_pages": 2,
                "first_page": 1,
                "last_page": 2,
                "page": 1,
                "next_page": 2,
            },
        ),
        (
            "?page=2",
            [f"Team {n:02d}" for n in range(20, 25)],
            {
                "total": 25,
                "total_pages": 2,
                "first_page": 1,
                "last_page": 2,
                "page": 2,
                "previous_page": 1,
            },
        ),
        (
            "?page=3&page_size=10",
            [f"Team {n:02d}" for n in range(20, 25)],
            {
                "total": 25,
                "total_pages": 3,
                "first_page": 1,
                "last_page": 3,
                "page": 3,
                "previous_page": 2,
            },
        ),
        (
            "?page=9",
            [],
            {"total": 25, "total_pages": 2, "first_page": 1, "last_page": 2},
        ),
    ],
)
def test_lists_are_paginated_one_way(app: Flask, twenty_five_teams, query, names, meta):
    response = bearer_caller(app, Role.HR, team=None).get(f"/api/v1/teams{query}")
    assert response.status_code == 200
    assert [team["name"] for team in response.json] == names
    assert pagination(response) == meta


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("?page=0", {"page": ["Pages are numbered from 1 to 21474836."]}),
        ("?page=x", {"page": ["Not a valid integer."]}),
        (
            "?page_size=101",
            {"page_size": ["Must be greater than or equal to 1 and less than or equal to 100."]},
        ),
        (
            "?page_size=0",
            {"page_size": ["Must be greater than or equal to 1 and less than or equal to 100."]},
        ),
    ],
)
def test_bad_pagination_arguments_are_422(app: Flask, query: str, errors: dict):
    response = bearer_caller(app, Role.HR).get(f"/api/v1/teams{query}")
    assert response.status_code == 422
    assert response.json == invalid(errors)


# The OpenAPI document ----------------------------------------------------------


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield path, method, operation


def test_the_openapi_document_is_served(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = response.json
    assert document["openapi"] == "3.1.0"
    assert document["info"] == {"title": "Chorus API", "version": "v1"}
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token",
    }
    assert {
        "/api/v1/me",
        "/api/v1/me/presence",
        "/api/v1/me/networks",
        "/api/v1/me/interests",
        "/api/v1/me/opt-in",
        "/api/v1/me/opt-out",
        "/api/v1/me/export",
        "/api/v1/me/erase",
        "/api/v1/guidelines",
        "/api/v1/company",
        "/api/v1/teams",
        "/api/v1/teams/{team_id}",
        "/api/v1/employees",
        "/api/v1/employees/{employee_id}",
        "/api/v1/employees/{employee_id}/erase",
        "/api/v1/employees/import",
        "/api/v1/interests",
        "/api/v1/interests/{interest_id}",
        "/api/v1/tokens",
        "/api/v1/tokens/{token_id}",
        "/api/v1/audit",
    } <= set(document["paths"])


def test_every_operation_documents_bearer_auth_and_its_role(app: Flask, client):
    document = client.get("/api/openapi.json").json
    routes = {
        (re.sub(r"<(?:\w+:)?\w+>", "{}", rule.rule), method.lower()): rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = set()
    for path, method, operation in _operations(document):
        flask_rule = re.sub(r"\{\w+\}", "{}", path)
        view_class = app.view_functions[routes[(flask_rule, method)]].view_class
        role: Role | None = getattr(view_class, method).required_role
        if role is None:  # @public on purpose: the ATS webhook authenticates by signature
            assert operation["security"] == [], (method, path)
            documented.add((path, method))
            continue
        assert operation["security"] == [{"bearer": []}], (method, path)
        assert operation["x-required-role"] == role.value, (method, path)
        assert operation["responses"]["401"] == {"$ref": "#/components/responses/UNAUTHORIZED"}
        if role is not Role.EMPLOYEE:
            assert "403" in operation["responses"], (method, path)
        if method in {"post", "put", "patch", "delete"}:
            assert "400" in operation["responses"], (method, path)
        documented.add((path, method))
    assert len(documented) == len(routes)


def test_bodies_and_lists_document_their_errors_and_pagination(client):
    document = client.get("/api/openapi.json").json
    teams = document["paths"]["/api/v1/teams"]
    assert "422" in teams["post"]["responses"]
    assert "X-Pagination" in teams["get"]["responses"]["200"]["headers"]
    assert {p["name"] for p in teams["get"]["parameters"]} == {"page", "page_size"}
    assert "404" in document["paths"]["/api/v1/teams/{team_id}"]["patch"]["responses"]
    upload = document["paths"]["/api/v1/employees/import"]["post"]["requestBody"]
    assert list(upload["content"]) == ["multipart/form-data"]


def test_the_openapi_document_is_valid(client):
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(client.get("/api/openapi.json").json)


def test_a_view_without_a_declared_role_cannot_be_routed():
    bp = api_blueprint("probe", "/probe", "A probe.")

    class Forgotten(MethodView):
        def get(self):
            return {}

    with pytest.raises(TypeError, match=r"Forgotten.get has no @requires_role"):
        bp.route("")(Forgotten)


def test_every_api_blueprint_is_registered_once(app: Flask):
    names = [bp.name for bp in BLUEPRINTS]
    assert len(names) == len(set(names))
    assert set(names) <= set(app.blueprints)
