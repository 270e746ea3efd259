"""/api/v1/intranet-links: HR makes, lists and revokes the intranet's secret addresses."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, IntranetLink, Role
from app.services import intranet
from tests.factories import TeamFactory
from tests.web.api_support import (
    NOT_AN_INTEGER,
    UNKNOWN,
    Caller,
    anonymous,
    bearer_caller,
    count,
    invalid,
    pagination,
    session_caller,
)


@pytest.fixture
def hr(app: Flask) -> Caller:
    return session_caller(app, Role.HR)


def test_make_a_team_link_and_read_with_it(app: Flask, hr):
    with app.app_context():
        team_id = TeamFactory(name="Sales").id
    response = hr.post("/api/v1/intranet-links", json={"team_id": team_id})
    assert response.status_code == 201
    body = response.json
    secret = body.pop("secret")
    assert body == {
        "id": body["id"],
        "team_id": team_id,
        "team_name": "Sales",
        "prefix": secret[:6],
        "created_at": body["created_at"],
        "created_by_id": hr.employee_id,
        "created_by_name": body["created_by_name"],
        "last_read_at": None,
        "revoked_at": None,
        "feed_url": f"http://localhost/intranet/{secret}/feed.atom",
        "widget_url": f"http://localhost/intranet/{secret}/widget",
    }
    assert anonymous(app).get(f"/intranet/{secret}/feed.atom").status_code == 200
    listed = hr.get("/api/v1/intranet-links")
    assert listed.status_code == 200
    assert pagination(listed)["total"] == 1
    [row] = listed.json
    assert "secret" not in row
    assert "widget_url" not in row
    assert row["last_read_at"] is not None
    assert (row["team_name"], row["prefix"]) == ("Sales", secret[:6])


def test_a_link_without_a_team_is_for_the_company(app: Flask):
    admin = bearer_caller(app, Role.ADMIN)  # admins can do what HR can
    for body in ({}, {"team_id": None}):
        response = admin.post("/api/v1/intranet-links", json=body)
        assert response.status_code == 201
        assert (response.json["team_id"], response.json["team_name"]) == (None, None)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"team_id": 987654}, {"team_id": ["No team with id 987654."]}),
        ({"team_id": "Sales"}, {"team_id": NOT_AN_INTEGER}),
        (
            {"team_id": 2**31},
            {"team_id": ["Must be a whole number between -2147483648 and 2147483647."]},
        ),
        ({"team": 1}, {"team": UNKNOWN}),
    ],
    ids=["unknown-team", "not-a-number", "too-large", "unknown-field"],
)
def test_bad_input_is_a_422_naming_the_field_and_changes_nothing(app: Flask, hr, body, errors):
    response = hr.post("/api/v1/intranet-links", json=body)
    assert response.status_code == 422
    assert response.json["errors"] == errors
    if body == {"team_id": 987654}:
        assert response.json == invalid(errors, "No team with id 987654.")
    assert count(app, IntranetLink) == 0
    assert count(app, AuditEntry) == 0


def test_revoke_a_link(app: Flask, hr):
    made = hr.post("/api/v1/intranet-links", json={}).json
    response = hr.delete(f"/api/v1/intranet-links/{made['id']}")
    assert response.status_code == 204
    secret = made["secret"]
    assert anonymous(app).get(f"/intranet/{secret}/widget").status_code == 404
    assert hr.delete(f"/api/v1/intranet-links/{made['id']}").status_code == 204  # once is enough
    [row] = hr.get("/api/v1/intranet-links").json
    assert row["revoked_at"] is not None
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert intranet.find_link(secret) is None
    assert actions == ["intranet_link.create", "intranet_link.revoke"]


def test_revoking_an_unknown_link_is_a_404_naming_the_id(app: Flask, hr):
    response = hr.delete("/api/v1/intranet-links/987654")
    assert response.status_code == 404
    assert response.json["errors"] == {"id": ["No intranet link with id 987654."]}
    assert count(app, AuditEntry) == 0


def test_team_leads_may_not_touch_links(app: Flask):
    lead = bearer_caller(app, Role.TEAM_LEAD)
    assert lead.get("/api/v1/intranet-links").status_code == 403
    assert lead.post("/api/v1/intranet-links", json={}).status_code == 403
    assert count(app, IntranetLink) == 0


def test_the_openapi_document_describes_the_calls(app: Flask):
    document = anonymous(app).get("/api/openapi.json").json
    path = document["paths"]["/api/v1/intranet-links"]
    assert path["post"]["x-required-role"] == "hr"
    assert "secret" in document["components"]["schemas"]["NewIntranetLink"]["properties"]
    revoke = document["paths"]["/api/v1/intranet-links/{link_id}"]["delete"]
    assert set(revoke["responses"]) >= {"204", "401", "403", "404"}
