"""Badges over the API: everyone's catalogue and grants, HR's definitions and preview;
bad input names its field and changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Badge, BadgeGrant, Role, utcnow
from app.services import badges
from tests.factories import CompanySettingsFactory, EventFactory
from tests.web.api_support import MISSING, UNKNOWN, bearer_caller, count, invalid, session_caller

SHARES = {
    "id": "sharer",
    "name": "Sharer",
    "kind": "count",
    "measure": "shares",
    "levels": {"bronze": 2, "silver": 4},
}


@pytest.fixture
def hr(app: Flask):
    with app.app_context():
        CompanySettingsFactory()
    return bearer_caller(app, Role.HR)


def shares(app: Flask, employee_id: int, *days_ago: float) -> None:
    with app.app_context():
        for n, days in enumerate(days_ago):
            EventFactory(
                employee_id=employee_id,
                occurred_at=utcnow() - timedelta(days=days),
                natural_key=f"share:{employee_id}:{n}",
            )


def badge_actions(app: Flask) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "badges"))
        )


def definitions(app: Flask) -> list[dict]:
    with app.app_context():
        return [b.definition for b in db.session.scalars(select(Badge).order_by(Badge.id))]


def test_hr_defines_a_badge(app, hr):
    response = hr.post("/api/v1/badges", json={**SHARES, "description": "Keep sharing"})
    assert response.status_code == 201
    body = response.json
    assert body["slug"] == "sharer"
    assert body["kind"] == "count"
    assert body["measure"] == "shares"
    assert body["levels"] == {"bronze": 2, "silver": 4}
    assert body["criterion"] == "Share 2 times for bronze and 4 for silver"
    assert body["description"] == "Keep sharing"
    assert body["active"] is True
    assert badge_actions(app) == ["badge.create"]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({**SHARES, "id": "Bad Slug"}, {"id": ["use lowercase letters, digits and single dashes"]}),
        ({**SHARES, "kind": "bogus"}, {"kind": ["Must be one of: count, first, streak, placing."]}),
        (
            {**SHARES, "levels": {"bronze": 5, "silver": 2}},
            {"levels.silver": ["must be above the bronze threshold"]},
        ),
        (
            {**SHARES, "levels": {"bronze": "5"}},
            {"levels": {"bronze": {"value": ["Not a valid integer."]}}},
        ),
        ({**SHARES, "grace_weeks": 1}, {"grace_weeks": ["does not apply to a count badge"]}),
        ({**SHARES, "colour": "red"}, {"colour": UNKNOWN}),
        ({"kind": "first", "measure": "shares"}, {"id": MISSING, "name": MISSING}),
        (
            {"id": "x", "name": "X", "kind": "placing", "levels": {"bronze": 1}},
            {"top": ["is required"]},
        ),
    ],
)
def test_a_bad_definition_is_refused_naming_the_field(app, hr, body, errors):
    response = hr.post("/api/v1/badges", json=body)
    assert response.status_code == 422
    assert response.json["errors"] == errors
    assert count(app, Badge) == 0
    assert badge_actions(app) == []


def test_taken_ids_and_names_are_conflicts(app, hr):
    assert hr.post("/api/v1/badges", json=SHARES).status_code == 201
    again = hr.post("/api/v1/badges", json={**SHARES, "name": "Other"})
    assert again.status_code == 409
    assert "id" in again.json["errors"]
    same_name = hr.post("/api/v1/badges", json={**SHARES, "id": "other", "name": "sharer"})
    assert same_name.status_code == 409
    assert "name" in same_name.json["errors"]
    assert count(app, Badge) == 1


def test_hr_edits_and_retires_a_badge_but_never_its_id(app, hr):
    badge_id = hr.post("/api/v1/badges", json=SHARES).json["id"]
    edited = hr.patch(f"/api/v1/badges/{badge_id}", json={"levels": {"bronze": 3}, "name": "Sharp"})
    assert edited.status_code == 200
    assert edited.json["levels"] == {"bronze": 3}
    assert edited.json["name"] == "Sharp"
    refused = hr.patch(f"/api/v1/badges/{badge_id}", json={"id": "renamed"})
    assert refused.status_code == 422
    assert "id" in refused.json["errors"]
    bad = hr.patch(f"/api/v1/badges/{badge_id}", json={"measure": None})
    assert bad.status_code == 422
    assert "measure" in bad.json["errors"]
    wrong_type = hr.patch(f"/api/v1/badges/{badge_id}", json={"top": "three"})
    assert wrong_type.status_code == 422
    assert "top" in wrong_type.json["errors"]
    assert definitions(app)[0]["levels"] == {"bronze": 3}
    retired = hr.patch(f"/api/v1/badges/{badge_id}", json={"active": False})
    assert retired.json["active"] is False
    assert hr.patch("/api/v1/badges/999999", json={"name": "X"}).status_code == 404


def test_employees_see_the_catalogue_with_progress_and_their_grants(app, hr):
    hr.post("/api/v1/badges", json=SHARES)
    me = session_caller(app, opted_in=True)
    shares(app, me.employee_id, 3, 1, 0.5)
    with app.app_context():
        badges.evaluate_employees([me.employee_id])
        db.session.commit()
    catalogue = me.get("/api/v1/badges")
    assert catalogue.status_code == 200
    (card,) = catalogue.json
    assert card["badge"]["slug"] == "sharer"
    assert card["locked"] is False
    assert [e["level"] for e in card["earned"]] == ["bronze"]
    assert card["progress"] == {"current": 3, "threshold": 4, "next_level": "silver", "percent": 75}
    assert card["description"] == "Share 2 times for bronze and 4 for silver"
    one = me.get(f"/api/v1/badges/{card['badge']['id']}")
    assert one.status_code == 200
    assert one.json == card
    mine = me.get("/api/v1/me/badges")
    assert [(g["badge_slug"], g["level"], g["quiet"]) for g in mine.json] == [
        ("sharer", "bronze", False)
    ]
    assert me.get("/api/v1/badges/999999").status_code == 404


def test_the_preview_says_who_would_get_it_and_writes_nothing(app, hr):
    someone = session_caller(app, opted_in=True, name="Ada Lovelace")
    shares(app, someone.employee_id, 9, 8, 7, 6)
    response = hr.post("/api/v1/badges/preview", json=SHARES)
    assert response.status_code == 200
    assert response.json["count"] == 1
    (entry,) = response.json["sample"]
    assert entry["name"] == "Ada Lovelace"
    assert entry["level"] == "silver"
    refused = hr.post("/api/v1/badges/preview", json={**SHARES, "levels": {}})
    assert refused.status_code == 422
    assert "levels" in refused.json["errors"]
    assert count(app, Badge) == count(app, BadgeGrant) == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/api/v1/badges"), ("post", "/api/v1/badges/preview"), ("patch", "/api/v1/badges/1")],
)
def test_employees_may_not_define_badges(app, method, path):
    me = bearer_caller(app, opted_in=True)
    response = getattr(me, method)(path, json=SHARES)
    assert response.status_code == 403
    assert count(app, Badge) == 0


def test_a_body_that_is_not_json_changes_nothing(app, hr):
    response = hr.raw("POST", "/api/v1/badges", "{not json")
    assert response.status_code == 400
    assert count(app, Badge) == 0
    assert invalid({"id": MISSING})["code"] == 422
