"""What the outside can send that once made the server fail: each class answers a 4xx in
the one error shape and changes nothing."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from marshmallow import ValidationError

from app.extensions import db
from app.models import Interest, ReferralProgramme, Reward, Role, ScoringRule, TabooTopic, Team
from app.schemas.points import RecalculationFormSchema
from app.services import referrals
from tests.web.api_support import Caller, anonymous, bearer_caller, count
from tests.web.test_webhooks import deliver

HUGE = 2**64  # beyond any 64-bit column: SQLite's driver overflows on it
# Beyond PostgreSQL's INTEGER (32 bits), the type of every id column
BEYOND = [2**31, HUGE]


@pytest.fixture
def admin(app: Flask) -> Caller:
    return bearer_caller(app, Role.ADMIN)


def assert_error_shape(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.json
    assert body["code"] == status
    assert set(body) <= {"code", "status", "message", "errors"}
    assert isinstance(body["message"], str)
    return body


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/teams",
        "/api/v1/employees",
        "/api/v1/tokens",
        "/api/v1/audit",
        "/api/v1/content",
    ],
)
@pytest.mark.parametrize("page", [HUGE, 2**63, 2**31, 2**25])
def test_a_page_number_beyond_the_bound_is_refused(admin, path, page):
    body = assert_error_shape(admin.get(f"{path}?page={page}"), 422)
    assert "page" in body["errors"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/teams/{id}",
        "/api/v1/employees/{id}",
        "/api/v1/content/{id}",
        "/api/v1/rules/{id}",
        "/api/v1/rewards/{id}",
        "/api/v1/taboo-topics/{id}",
    ],
)
@pytest.mark.parametrize("number", BEYOND)
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_a_path_id_beyond_the_columns_is_not_found(admin, path, method, number):
    response = admin.open(method, path.format(id=number), json={"name": "x"})
    assert response.status_code in (404, 405)
    assert_error_shape(response, response.status_code)


def test_the_webhook_with_a_huge_integration_id_is_not_found_without_credentials(app):
    response = anonymous(app).post(
        f"/api/v1/webhooks/ats/{HUGE}", json={"ref": "x", "candidate_id": "y", "stage": "hired"}
    )
    assert_error_shape(response, 404)


def test_the_openapi_document_bounds_path_ids(client):
    spec = client.get("/api/openapi.json").json
    parameter = spec["paths"]["/api/v1/teams/{team_id}"]["parameters"][0]
    assert parameter["schema"]["maximum"] == 2**31 - 1


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        (
            "POST",
            "/api/v1/employees",
            {"email": "a@example.com", "name": "A", "team_id": HUGE},
            "team_id",
        ),
        ("PUT", "/api/v1/me/interests", {"interest_ids": [HUGE]}, "interest_ids"),
        ("POST", "/api/v1/shares", {"content_id": HUGE, "channel": "linkedin"}, "content_id"),
        (
            "POST",
            "/api/v1/redemptions",
            {"reward_id": HUGE, "idempotency_key": "k"},
            "reward_id",
        ),
        ("POST", "/api/v1/me/opt-in", {"guidelines_version_id": HUGE}, "guidelines_version_id"),
    ],
)
@pytest.mark.parametrize("number", BEYOND)
def test_an_id_in_a_body_beyond_the_columns_names_the_field(
    admin, method, path, body, field, number
):
    body = json.loads(json.dumps(body).replace(str(HUGE), str(number)))
    response = admin.open(method, path, json=body)
    errors = assert_error_shape(response, 422)["errors"]
    assert field in errors


def test_every_integer_in_the_openapi_document_is_bounded(client):
    """One bounded integer for every schema: no integer property or parameter is open."""
    spec = client.get("/api/openapi.json").json
    open_integers = []

    def walk(node, where: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "integer" and "maximum" not in node:
                open_integers.append(where)
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    walk(spec, "")
    # flask-smorest's own answer schemas: what Chorus writes, never reads
    answers_only = ("/components/schemas/Error/", "/components/schemas/PaginationMetadata/")
    assert [where for where in open_integers if not where.startswith(answers_only)] == []


def test_the_largest_board_offset_answers_an_empty_page(admin):
    response = admin.get("/api/v1/leaderboards/company?offset=1000000")
    assert response.status_code == 200
    assert response.json["rows"] == []


@pytest.mark.parametrize("offset", [2**63, HUGE, 10**12])
def test_a_board_offset_beyond_the_bound_is_refused(admin, offset):
    body = assert_error_shape(admin.get(f"/api/v1/leaderboards/company?offset={offset}"), 422)
    assert "offset" in body["errors"]


@pytest.mark.parametrize(
    ("path", "body", "model"),
    [
        ("/api/v1/teams", {"name": "ÄRZTE"}, Team),
        ("/api/v1/interests", {"name": "ÉCOLE"}, Interest),
        ("/api/v1/rewards", {"name": "ÜBERRASCHUNG", "cost": 5}, Reward),
        ("/api/v1/rules", {"name": "ÄRGER", "event_kind": "share", "points": 1}, ScoringRule),
        (
            "/api/v1/referral-programmes",
            {"name": "ÜBER UNS", "content_tag": "job"},
            ReferralProgramme,
        ),
        (
            "/api/v1/taboo-topics",
            {"name": "ÖL", "explanation": "Not ours to say.", "phrases": ["oil"]},
            TabooTopic,
        ),
    ],
)
def test_a_name_differing_only_in_non_ascii_case_is_taken(app, admin, path, body, model):
    before = count(app, model)
    assert admin.post(path, json=body).status_code == 201
    for name in (body["name"], body["name"].lower(), body["name"].title()):
        again = admin.post(path, json={**body, "name": name})
        assert_error_shape(again, 409)
        assert "name" in again.json["errors"]
    assert count(app, model) == before + 1


def test_a_pseudonym_differing_only_in_non_ascii_case_is_taken(app):
    first = bearer_caller(app, Role.EMPLOYEE)
    second = bearer_caller(app, Role.EMPLOYEE)
    chosen = {"presence": "pseudonym", "pseudonym": "Öko Fan"}
    assert first.patch("/api/v1/me/presence", json=chosen).status_code == 200
    response = second.patch("/api/v1/me/presence", json={**chosen, "pseudonym": "ÖKO FAN"})
    assert "pseudonym" in assert_error_shape(response, 409)["errors"]


def test_the_german_sharp_s_is_the_same_name_as_double_s(app, admin):
    assert admin.post("/api/v1/teams", json={"name": "Straße"}).status_code == 201
    assert_error_shape(admin.post("/api/v1/teams", json={"name": "STRASSE"}), 409)


def test_renaming_to_a_name_taken_in_another_case_is_a_conflict(app, admin):
    admin.post("/api/v1/teams", json={"name": "Ärzte"})
    other = admin.post("/api/v1/teams", json={"name": "Pflege"}).json["id"]
    assert_error_shape(admin.patch(f"/api/v1/teams/{other}", json={"name": "ÄRZTE"}), 409)
    reward = admin.post("/api/v1/rewards", json={"name": "Kaffee", "cost": 1}).json["id"]
    admin.post("/api/v1/rewards", json={"name": "Éclair", "cost": 1})
    assert_error_shape(admin.patch(f"/api/v1/rewards/{reward}", json={"name": "ÉCLAIR"}), 409)


@pytest.fixture
def ats(app: Flask) -> tuple[int, str]:
    with app.app_context():
        integration, secret = referrals.create_integration(None, "Personio")
        db.session.commit()
        return integration.id, secret


def test_a_signed_webhook_nested_thousands_deep_is_refused(app, ats):
    body = ("[" * 100_000 + "]" * 100_000).encode()
    response = deliver(app.test_client(), *ats, body)
    assert_error_shape(response, 400)


def test_a_deeply_nested_body_from_a_caller_is_refused(admin):
    response = admin.raw("POST", "/api/v1/teams", '{"name":' + "[" * 100_000 + "]" * 100_000 + "}")
    assert_error_shape(response, 400)


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_a_date_outside_pythons_range_names_the_field(admin, moment):
    response = admin.post(
        "/api/v1/rules",
        json={"name": "Early", "event_kind": "share", "points": 1, "effective_at": moment},
    )
    errors = assert_error_shape(response, 422)["errors"]
    assert "effective_at" in errors


def test_a_webhook_date_outside_pythons_range_names_the_field(app, ats):
    payload = {
        "ref": "abc",
        "candidate_id": "c1",
        "stage": "applied",
        "occurred_at": "0001-01-01T00:00:00+14:00",
    }
    response = deliver(app.test_client(), *ats, json.dumps(payload).encode())
    assert "occurred_at" in assert_error_shape(response, 422)["errors"]


# Words people read: the API's own messages, not the libraries' defaults ----------------


def test_an_empty_title_says_the_field_cannot_be_empty(admin):
    response = admin.post(
        "/api/v1/content", json={"title": "", "destination_url": "https://example.com/"}
    )
    assert response.json == {
        "code": 422,
        "status": "Unprocessable Entity",
        "message": "1 field is invalid: title.",
        "errors": {"title": ["This field cannot be empty."]},
    }


def test_a_long_title_says_the_most_characters(admin):
    response = admin.post(
        "/api/v1/content", json={"title": "x" * 201, "destination_url": "https://example.com/"}
    )
    assert response.json["errors"] == {"title": ["At most 200 characters."]}


def test_missing_fields_are_required_and_listed(admin):
    response = admin.post("/api/v1/content", json={})
    assert response.status_code == 422
    assert response.json["message"] == "2 fields are invalid: destination_url, title."
    assert response.json["errors"] == {
        "title": ["This field is required."],
        "destination_url": ["This field is required."],
    }


def test_malformed_json_says_the_body_is_not_json(admin):
    response = admin.raw("POST", "/api/v1/teams", '{"name": ')
    assert response.json == {
        "code": 400,
        "status": "Bad Request",
        "message": "The request body is not valid JSON.",
        "errors": {"json": ["Not JSON."]},
    }


def test_a_problem_with_the_whole_input_is_the_message(admin):
    response = admin.post("/api/v1/rules", json={"name": "X", "event_kind": "share"})
    assert response.status_code == 422
    rule = admin.post(
        "/api/v1/rules", json={"name": "Shares", "event_kind": "share", "points": 2}
    ).json["id"]
    response = admin.post(f"/api/v1/rules/{rule}/versions", json={})
    assert response.status_code == 422
    assert response.json["message"].startswith("Change at least one of: points")


# Answers match the document: a field that can be null says so -------------------------


@pytest.mark.parametrize(
    ("path", "make"),
    [
        ("/api/v1/tokens", {"name": "CI"}),
        ("/api/v1/integrations", {"name": "Personio"}),
        ("/api/v1/employees", {"email": "new@example.com", "name": "New"}),
    ],
)
def test_null_fields_in_answers_are_declared_nullable(client, admin, path, make):
    created = admin.post(path, json=make)
    assert created.status_code == 201, created.json
    spec = client.get("/api/openapi.json").json
    schema = spec["paths"][path]["post"]["responses"]["201"]["content"]["application/json"]
    name = schema["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = spec["components"]["schemas"][name]["properties"]
    nulls = [field for field, value in created.json.items() if value is None]
    assert nulls  # e.g. last_used_at, revoked_at, erased_at, opted_in_at
    for field in nulls:
        declared = properties[field]
        kinds = [declared, *declared.get("anyOf", [])]
        assert any("null" in kind.get("type", []) for kind in kinds), field


@pytest.mark.parametrize("moment", ["0001-01-01T00:00", "9999-12-31T23:59"])
def test_a_page_forms_wall_clock_time_outside_the_years_names_the_field(moment):
    with pytest.raises(ValidationError) as refused:
        RecalculationFormSchema().load({"since": moment, "request_id": "0" * 16})
    assert refused.value.messages == {"since": ["Give a moment between the years 1900 and 9000."]}


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/v1/teams", {"name": "A\x00B"}, "name"),
        ("POST", "/api/v1/employees", {"email": "a\x00@example.com", "name": "A"}, "email"),
        ("GET", "/api/v1/employees?q=a%00b", None, "q"),
    ],
)
def test_text_with_a_nul_character_names_the_field(app, admin, method, path, body, field):
    before = count(app, Team)
    response = admin.open(method, path, json=body)
    assert field in assert_error_shape(response, 422)["errors"]
    assert count(app, Team) == before
