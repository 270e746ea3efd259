"""Scoring rules and referral bonuses through the API: HR's versioned rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, Role, RuleVersion, ScoringRule, utcnow
from scoring.vocabulary import EventKind
from tests.web.api_support import (
    INVALID_JSON,
    MISSING,
    UNKNOWN,
    bearer_caller,
    bearer_for,
    count,
    forbidden,
    pagination,
)
from tests.web.points_support import (
    add_event,
    berlin_noon,
    new_people,
    new_team,
    settle,
    setup_company,
)


@pytest.fixture
def company(app: Flask) -> None:
    setup_company(app)


@pytest.fixture
def hr(app: Flask, company):
    return bearer_caller(app, Role.HR)


def rule_id(hr, name: str) -> int:
    return next(rule["id"] for rule in hr.get("/api/v1/rules").json if rule["name"] == name)


def iso(moment) -> str:
    return moment.isoformat()


NEW_RULE = {
    "name": "Launch week",
    "description": "Extra points for the launch campaign.",
    "event_kind": "share",
    "points": 10,
    "channels": ["linkedin", "xing", "linkedin"],
    "tags": ["#Launch", "product"],
    "campaign": "TechDays",
    "cap": 30,
    "cap_window": "week",
}


def test_the_default_rules_are_listed_with_their_versions(hr):
    response = hr.get("/api/v1/rules")
    assert response.status_code == 200
    assert [(r["name"], r["event_kind"], r["current"]["points"]) for r in response.json] == [
        ("Sharing", "share", 5),
        ("Unique clicks", "click", 1),
        ("Referral: applied", "referral_applied", 25),
        ("Referral: interviewed", "referral_interviewed", 50),
        ("Referral: hired", "referral_hired", 200),
    ]
    sharing = response.json[0]
    assert sharing["retired"] is False
    assert [v["version"] for v in sharing["versions"]] == [1]
    assert (sharing["current"]["cap"], sharing["current"]["cap_window"]) == (15, "day")
    assert pagination(response)["total"] == 5
    assert len(hr.get("/api/v1/rules?page_size=2&page=3").json) == 1


def test_hr_creates_a_rule_with_conditions(app: Flask, hr):
    team = new_team(app, "Sales")
    response = hr.post("/api/v1/rules", json={**NEW_RULE, "team_ids": [team]})
    assert response.status_code == 201
    rule = response.json
    assert (rule["name"], rule["description"], rule["event_kind"]) == (
        "Launch week",
        "Extra points for the launch campaign.",
        "share",
    )
    version = rule["current"]
    assert version == rule["versions"][0]
    assert {k: version[k] for k in ("points", "channels", "tags", "team_ids", "campaign")} == {
        "points": 10,
        "channels": ["linkedin", "xing"],
        "tags": ["launch", "product"],
        "team_ids": [team],
        "campaign": "#TechDays",
    }
    assert (version["cap"], version["cap_window"], version["vesting_days"]) == (30, "week", 0)
    assert version["valid_until"] is None
    assert hr.get(f"/api/v1/rules/{rule['id']}").json == rule
    with app.app_context():
        assert db.session.scalar(
            select(AuditEntry.action).where(AuditEntry.target_id == rule["id"])
        )


def test_a_rule_can_start_later(hr):
    later = utcnow() + timedelta(days=3)
    body = {"name": "Advent", "event_kind": "click", "points": 2, "effective_at": iso(later)}
    rule = hr.post("/api/v1/rules", json=body).json
    assert rule["current"] is None
    assert rule["versions"][0]["valid_from"][:16] == later.isoformat()[:16]


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"points": -1}, {"points": None}),
        ({"points": "5"}, {"points": ["Not a valid integer."]}),
        ({"points": 2.5}, {"points": ["Not a valid integer."]}),
        ({"cap": -5}, {"cap": None}),
        ({"vesting_days": -1}, {"vesting_days": None}),
        ({"event_kind": "like"}, {"event_kind": None}),
        ({"cap_window": "year"}, {"cap_window": None}),
        ({"channels": ["myspace"]}, {"channels": None}),
        ({"channels": []}, {"channels": None}),
        ({"team_ids": [999999]}, {"team_ids": ["No team with id 999999."]}),
        ({"effective_at": "2026-11-01T10:00:00"}, {"effective_at": None}),
        ({"colour": "red"}, {"colour": UNKNOWN}),
        ({"name": ""}, {"name": None}),
    ],
)
def test_bad_rules_are_422_naming_the_field(app: Flask, hr, change: dict, errors: dict):
    response = hr.post("/api/v1/rules", json={**NEW_RULE, **change})
    assert response.status_code == 422
    assert set(response.json["errors"]) == set(errors)
    for field, problems in errors.items():
        if problems is not None:
            assert response.json["errors"][field] == problems
    assert count(app, ScoringRule) == 5


def test_missing_fields_and_malformed_json(app: Flask, hr):
    response = hr.post("/api/v1/rules", json={})
    assert response.status_code == 422
    assert response.json["errors"] == {"name": MISSING, "event_kind": MISSING, "points": MISSING}
    broken = hr.raw("POST", "/api/v1/rules", "{not json")
    assert (broken.status_code, broken.json) == (400, INVALID_JSON)
    taken = hr.post("/api/v1/rules", json={**NEW_RULE, "name": "sharing"})
    assert taken.status_code == 409
    assert list(taken.json["errors"]) == ["name"]
    assert count(app, ScoringRule) == 5


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.TEAM_LEAD])
def test_rules_are_for_hr(app: Flask, company, role: Role):
    caller = bearer_caller(app, role)
    assert (caller.get("/api/v1/rules").status_code, caller.get("/api/v1/rules").json) == (
        403,
        forbidden(Role.HR),
    )
    assert caller.post("/api/v1/rules", json=NEW_RULE).status_code == 403
    assert count(app, ScoringRule) == 5


def test_unknown_rules_are_404(hr):
    for method, path in [
        ("GET", "/api/v1/rules/999999"),
        ("POST", "/api/v1/rules/999999/versions"),
        ("POST", "/api/v1/rules/999999/retire"),
        ("POST", "/api/v1/rules/999999/preview"),
    ]:
        body = {"points": 1} if path.endswith(("versions", "preview")) else {}
        response = hr.open(method, path, json=body)
        assert response.status_code == 404, path
        assert response.json["message"] == "No scoring rule with id 999999."


# Editing and retiring ---------------------------------------------------------------


def test_an_edit_is_a_new_version_from_its_effective_time(app: Flask, hr):
    hired = rule_id(hr, "Referral: hired")
    response = hr.post(f"/api/v1/rules/{hired}/versions", json={"points": 300})
    assert response.status_code == 201
    body = response.json
    assert (body["recalculation_needed"], body["recalculate_since"]) == (False, None)
    assert body["version"]["version"] == 2
    # Fields not sent are kept: the referral's holding period stays.
    assert (body["version"]["points"], body["version"]["vesting_days"]) == (300, 90)
    first, second = body["rule"]["versions"]
    assert first["valid_until"] == second["valid_from"]
    assert body["rule"]["current"] == second

    past = utcnow() - timedelta(days=2)
    clicks = rule_id(hr, "Unique clicks")
    edit = hr.post(
        f"/api/v1/rules/{clicks}/versions",
        json={"cap": None, "channels": ["x"], "effective_at": iso(past)},
    ).json
    assert edit["recalculation_needed"] is True
    assert edit["recalculate_since"][:19] == past.isoformat()[:19]
    assert (edit["version"]["cap"], edit["version"]["channels"]) == (None, ["x"])
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RuleVersion)) == 7


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"points": -5}, "points"),
        ({"cap": -1}, "cap"),
        ({"effective_at": "tomorrow"}, "effective_at"),
        ({"event_kind": "click"}, "event_kind"),  # a rule keeps what it scores
        ({"name": "Renamed"}, "name"),
        ({}, "_schema"),
        ({"effective_at": "2026-01-01T00:00:00+00:00"}, "_schema"),
    ],
)
def test_bad_edits_are_422(app: Flask, hr, body: dict, field: str):
    sharing = rule_id(hr, "Sharing")
    response = hr.post(f"/api/v1/rules/{sharing}/versions", json=body)
    assert response.status_code == 422
    assert list(response.json["errors"]) == [field]
    assert count(app, RuleVersion) == 5


def test_an_edit_must_start_after_the_current_version(app: Flask, hr):
    sharing = rule_id(hr, "Sharing")
    too_early = utcnow() - timedelta(days=500)
    response = hr.post(
        f"/api/v1/rules/{sharing}/versions", json={"points": 3, "effective_at": iso(too_early)}
    )
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["effective_at"]
    assert "after the current version started" in response.json["message"]
    assert count(app, RuleVersion) == 5


def test_a_retired_rule_awards_nothing_and_cannot_be_edited(app: Flask, hr, run_jobs):
    clicks = rule_id(hr, "Unique clicks")
    response = hr.post(f"/api/v1/rules/{clicks}/retire", json={})
    assert response.status_code == 200
    assert response.json["rule"]["retired"] is True
    assert response.json["rule"]["current"] is None
    assert response.json["version"]["version"] == 1
    again = hr.post(f"/api/v1/rules/{clicks}/retire", json={})
    assert (again.status_code, again.json["version"]) == (200, None)
    edit = hr.post(f"/api/v1/rules/{clicks}/versions", json={"points": 2})
    assert edit.status_code == 409
    (alice,) = new_people(app)
    add_event(app, alice, EventKind.CLICK, utcnow() + timedelta(seconds=1))  # after it retired
    settle(app, run_jobs)
    assert bearer_for(app, alice).get("/api/v1/me/points").json["lifetime"] == 0


def test_retiring_in_the_past_asks_for_a_recalculation(hr):
    sharing = rule_id(hr, "Sharing")
    past = utcnow() - timedelta(days=1)
    body = hr.post(f"/api/v1/rules/{sharing}/retire", json={"effective_at": iso(past)}).json
    assert body["recalculation_needed"] is True
    bad = hr.post(f"/api/v1/rules/{sharing}/retire", json={"effective_at": "soon"})
    assert bad.status_code == 422


# Preview ----------------------------------------------------------------------------


def test_the_preview_compares_last_weeks_points_and_writes_nothing(app: Flask, hr, run_jobs):
    alice, bob = new_people(app, 2)
    noon = berlin_noon(days_ago=2)
    for minute in range(2):
        add_event(app, alice, EventKind.SHARE, noon + timedelta(minutes=minute))
    add_event(app, bob, EventKind.SHARE, noon)
    add_event(app, bob, EventKind.SHARE, berlin_noon(days_ago=20))  # outside the week
    settle(app, run_jobs)
    sharing = rule_id(hr, "Sharing")
    response = hr.post(f"/api/v1/rules/{sharing}/preview", json={"points": 8})
    assert response.status_code == 200
    body = response.json
    assert {k: body[k] for k in ("events", "current_points", "proposed_points", "employees")} == {
        "events": 3,
        "current_points": 15,
        "proposed_points": 23,  # alice's second share hits the 15-a-day cap: 8 + 7
        "employees": 2,
    }
    assert body["since"] < body["until"]
    only_x = hr.post(f"/api/v1/rules/{sharing}/preview", json={"channels": ["x"]}).json
    assert (only_x["proposed_points"], only_x["employees"]) == (0, 2)
    month = hr.post(
        f"/api/v1/rules/{sharing}/preview",
        json={"points": 5, "since": iso(utcnow() - timedelta(days=30))},
    ).json
    assert (month["events"], month["current_points"], month["employees"]) == (4, 20, 0)
    assert count(app, RuleVersion) == 5


@pytest.mark.parametrize(
    "body",
    [
        {"points": -1},
        {"since": "2026-11-10T00:00:00+00:00", "until": "2026-11-01T00:00:00+00:00"},
        {"since": "2999-01-01T00:00:00+00:00"},
        {"dry": True},
    ],
)
def test_bad_previews_are_422(hr, body: dict):
    response = hr.post(f"/api/v1/rules/{rule_id(hr, 'Sharing')}/preview", json=body)
    assert response.status_code == 422


# Referral bonuses -------------------------------------------------------------------


def test_referral_bonuses_are_the_rules_of_the_referral_stages(hr):
    response = hr.get("/api/v1/referral-bonuses")
    assert response.status_code == 200
    assert [(b["stage"], b["points"], b["vesting_days"]) for b in response.json] == [
        ("applied", 25, 0),
        ("interviewed", 50, 0),
        ("hired", 200, 90),
    ]
    assert response.json[2]["rule"]["name"] == "Referral: hired"


def test_setting_a_bonus_edits_its_rule_into_a_new_version(app: Flask, hr):
    response = hr.put("/api/v1/referral-bonuses/hired", json={"points": 300, "vesting_days": 30})
    assert response.status_code == 200
    body = response.json
    assert (body["version"]["version"], body["version"]["points"]) == (2, 300)
    assert body["recalculation_needed"] is False
    hired = hr.get("/api/v1/referral-bonuses").json[2]
    assert (hired["points"], hired["vesting_days"]) == (300, 30)
    same = hr.put("/api/v1/referral-bonuses/hired", json={"points": 300, "vesting_days": 30})
    assert (same.status_code, same.json["version"]) == (200, None)
    assert count(app, RuleVersion) == 6


def test_a_stage_without_a_rule_gets_one(app: Flask, hr):
    applied = rule_id(hr, "Referral: applied")
    hr.post(f"/api/v1/rules/{applied}/retire", json={})
    response = hr.put("/api/v1/referral-bonuses/applied", json={"points": 10, "vesting_days": 0})
    assert response.status_code == 200
    rule = response.json["rule"]
    assert rule["id"] != applied
    assert rule["name"].startswith("Referral: applied (from ")
    assert hr.get("/api/v1/referral-bonuses").json[0]["points"] == 10
    assert count(app, ScoringRule) == 6


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("/api/v1/referral-bonuses/promoted", {"points": 5, "vesting_days": 0}, 404, "stage"),
        ("/api/v1/referral-bonuses/hired", {"points": -5, "vesting_days": 0}, 422, "points"),
        ("/api/v1/referral-bonuses/hired", {"points": 5, "vesting_days": -1}, 422, "vesting_days"),
        ("/api/v1/referral-bonuses/hired", {"points": 5}, 422, "vesting_days"),
        ("/api/v1/referral-bonuses/hired", {"points": 5, "vesting_days": 0, "x": 1}, 422, "x"),
        (
            "/api/v1/referral-bonuses/hired",
            {"points": 5, "vesting_days": 0, "effective_at": "2020-01-01T00:00:00+00:00"},
            422,
            "effective_at",
        ),
    ],
)
def test_bad_bonuses_are_refused(app: Flask, hr, path: str, body: dict, status: int, field: str):
    response = hr.put(path, json=body)
    assert response.status_code == status
    assert list(response.json["errors"]) == [field]
    assert count(app, RuleVersion) == 5


def test_bonuses_are_for_hr(app: Flask, company):
    caller = bearer_caller(app, Role.TEAM_LEAD)
    assert caller.get("/api/v1/referral-bonuses").status_code == 403
    response = caller.put("/api/v1/referral-bonuses/hired", json={"points": 1, "vesting_days": 0})
    assert (response.status_code, response.json) == (403, forbidden(Role.HR))
