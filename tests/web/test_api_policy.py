"""/api/v1: the sharing policy, network policies, allowed domains, taboo topics and the
live taboo check."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import AllowedDomain, AuditEntry, NetworkPolicy, Role, SharePolicy, TabooTopic
from app.services.policy import share_policy
from scoring.vocabulary import Channel
from tests.factories import AllowedDomainFactory, TabooTopicFactory
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


@pytest.fixture
def hr(app: Flask):
    return bearer_caller(app, Role.HR, team=None)


def policy_row(app: Flask) -> tuple:
    """The policy as stored, or its defaults before HR changed it."""
    with app.app_context():
        row = share_policy()
        return (row.disclosure, row.per_day, row.per_week, row.min_spacing_minutes)


# Share policy ------------------------------------------------------------------------


def test_everyone_reads_the_policy(app: Flask):
    response = session_caller(app, Role.EMPLOYEE).get("/api/v1/share-policy")
    assert response.status_code == 200
    body = response.json
    assert body.pop("updated_at") is None  # the defaults, never changed and not stored
    assert body == {
        "disclosure": "#employee",
        "utm_medium": "employee_advocacy",
        "per_day": 3,
        "per_week": 10,
        "per_channel_per_day": 2,
        "per_content": 2,
        "min_spacing_minutes": 30,
    }


def test_hr_changes_the_policy(app: Flask, hr):
    response = hr.patch(
        "/api/v1/share-policy", json={"disclosure": "#Mitarbeiter", "per_day": None, "per_week": 7}
    )
    assert response.status_code == 200
    assert policy_row(app) == ("#Mitarbeiter", None, 7, 30)


@pytest.mark.parametrize(
    ("body", "status", "errors"),
    [
        (
            '{"disclosure": "employee"}',
            422,
            {"disclosure": ["One word starting with #, such as #employee."]},
        ),
        (
            '{"disclosure": "#two words"}',
            422,
            {"disclosure": ["One word starting with #, such as #employee."]},
        ),
        ('{"disclosure": null}', 422, {"disclosure": ["Field may not be null."]}),
        (
            '{"per_day": 0}',
            422,
            {"per_day": ["Must be greater than or equal to 1 and less than or equal to 10000."]},
        ),
        ('{"per_week": -1}', 422, None),
        ('{"min_spacing_minutes": "soon"}', 422, {"min_spacing_minutes": ["Not a valid integer."]}),
        ('{"utm_medium": "a b"}', 422, None),
        ('{"per_year": 5}', 422, {"per_year": UNKNOWN}),
        ('{"per_day": 5', 400, None),
    ],
)
def test_bad_policy_changes_change_nothing(app: Flask, hr, body, status, errors):
    response = hr.raw("PATCH", "/api/v1/share-policy", body)
    assert response.status_code == status
    if errors is not None:
        assert response.json == invalid(errors)
    assert policy_row(app) == ("#employee", 3, 10, 30)
    assert count(app, SharePolicy) == 0  # not even stored with its defaults


# Network policies --------------------------------------------------------------------


def test_network_policies(app: Flask, hr):
    response = hr.put("/api/v1/network-policies/x", json={"share_points": False, "note": "Terms"})
    assert response.status_code == 200
    assert response.json == {
        "channel": "x",
        "share_points": False,
        "note": "Terms",
        **DEFAULT_ASSUMPTIONS,
        "default_assumptions": X_DEFAULTS,
    }
    listed = session_caller(app, Role.EMPLOYEE).get("/api/v1/network-policies").json
    assert {p["channel"]: p["share_points"] for p in listed} == {
        "linkedin": True,
        "x": False,
        "facebook": True,
        "xing": True,
        "instagram": True,
        "email": True,
    }


# X's own assumptions of earned-media value, and its defaults.
X_ASSUMPTIONS = {
    "cpm_low_cents": 1000,
    "cpm_high_cents": 2000,
    "cpc_low_cents": 100,
    "cpc_high_cents": 100,
    "seen_low_percent": 10,
    "seen_high_percent": 50,
}
DEFAULT_ASSUMPTIONS = dict.fromkeys(X_ASSUMPTIONS)
X_DEFAULTS = {
    "cpm_low_cents": 300,
    "cpm_high_cents": 800,
    "cpc_low_cents": 50,
    "cpc_high_cents": 200,
    "seen_low_percent": 1,
    "seen_high_percent": 5,
}


def stored_assumptions(app: Flask) -> dict | None:
    with app.app_context():
        row = db.session.get(NetworkPolicy, Channel.X)
        return None if row is None else {name: getattr(row, name) for name in X_ASSUMPTIONS}


def test_hr_sets_a_networks_value_assumptions_and_resets_them(app: Flask, hr):
    response = hr.put("/api/v1/network-policies/x", json={"share_points": True, **X_ASSUMPTIONS})
    assert response.status_code == 200
    assert {name: response.json[name] for name in X_ASSUMPTIONS} == X_ASSUMPTIONS
    assert response.json["default_assumptions"] == X_DEFAULTS
    assert stored_assumptions(app) == X_ASSUMPTIONS
    listed = session_caller(app, Role.EMPLOYEE).get("/api/v1/network-policies").json
    by_channel = {p["channel"]: p for p in listed}
    assert by_channel["x"]["cpm_high_cents"] == 2000
    assert by_channel["linkedin"]["cpm_high_cents"] is None
    assert by_channel["linkedin"]["default_assumptions"]["cpm_high_cents"] == 3500
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "network_policy.update")
        ).one()
        assert entry.details == {"channel": "x", "share_points": True, **X_ASSUMPTIONS}
    # Left out, or all null: back to the defaults.
    assert hr.put("/api/v1/network-policies/x", json={"share_points": True}).status_code == 200
    assert stored_assumptions(app) == DEFAULT_ASSUMPTIONS
    hr.put("/api/v1/network-policies/x", json={"share_points": True, **X_ASSUMPTIONS})
    nulls = {"share_points": True, **DEFAULT_ASSUMPTIONS}
    assert hr.put("/api/v1/network-policies/x", json=nulls).json["cpc_low_cents"] is None
    assert stored_assumptions(app) == DEFAULT_ASSUMPTIONS


GIVE_ALL = ["Give all six assumptions, or none for the defaults."]
LOW_ABOVE_HIGH = ["the low end must not be above the high end"]


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {"seen_low_percent": None, "seen_high_percent": None},
            {"seen_low_percent": GIVE_ALL, "seen_high_percent": GIVE_ALL},
        ),
        (
            {"cpm_low_cents": 2001},
            {"cpm_low_cents": LOW_ABOVE_HIGH, "cpm_high_cents": LOW_ABOVE_HIGH},
        ),
        (
            {"cpc_low_cents": 300},
            {"cpc_low_cents": LOW_ABOVE_HIGH, "cpc_high_cents": LOW_ABOVE_HIGH},
        ),
        (
            {"seen_high_percent": 101},
            {
                "seen_high_percent": [
                    "Must be greater than or equal to 0 and less than or equal to 100."
                ]
            },
        ),
        (
            {"cpm_high_cents": 1_000_001},
            {
                "cpm_high_cents": [
                    "Must be greater than or equal to 0 and less than or equal to 1000000."
                ]
            },
        ),
        ({"cpc_low_cents": -1}, None),
        ({"cpc_low_cents": "cheap"}, {"cpc_low_cents": ["Not a valid integer."]}),
    ],
)
def test_bad_value_assumptions_name_the_field_and_change_nothing(app: Flask, hr, changes, errors):
    body = {"share_points": False, **X_ASSUMPTIONS, **changes}
    response = hr.put("/api/v1/network-policies/x", json=body)
    assert response.status_code == 422
    if errors is not None:
        assert response.json["errors"] == errors
    assert count(app, NetworkPolicy) == 0


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/v1/network-policies/x", "{}", 422),
        ("/api/v1/network-policies/x", '{"share_points": "maybe"}', 422),
        ("/api/v1/network-policies/x", '{"share_points": false, "channel": "x"}', 422),
        ("/api/v1/network-policies/x", '{"share_points": false, "note": "' + "n" * 301 + '"}', 422),
        ("/api/v1/network-policies/x", '{"share_points": false', 400),
        ("/api/v1/network-policies/myspace", '{"share_points": false}', 404),
    ],
)
def test_bad_network_policies_change_nothing(app: Flask, hr, path, body, status):
    response = hr.raw("PUT", path, body)
    assert response.status_code == status
    assert count(app, NetworkPolicy) == 0


# Allowed domains ---------------------------------------------------------------------


def test_allowed_domains(app: Flask, hr):
    response = hr.post("/api/v1/allowed-domains", json={"domain": " Careers.Example.COM "})
    assert response.status_code == 201
    assert response.json["domain"] == "careers.example.com"
    assert [d["domain"] for d in hr.get("/api/v1/allowed-domains").json] == ["careers.example.com"]
    assert (
        hr.post("/api/v1/allowed-domains", json={"domain": "careers.example.com"}).status_code
        == 409
    )
    assert hr.delete(f"/api/v1/allowed-domains/{response.json['id']}").status_code == 204
    assert hr.delete(f"/api/v1/allowed-domains/{response.json['id']}").status_code == 404
    assert count(app, AllowedDomain) == 0


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ("{}", 422, invalid({"domain": MISSING})),
        ('{"domain": "https://example.com/"}', 422, None),
        ('{"domain": "not a domain"}', 422, None),
        ('{"domain": "localhost"}', 422, None),
        ('{"domain": 5}', 422, invalid({"domain": ["Not a valid string."]})),
        ('{"domain": "example.com"', 400, INVALID_JSON),
    ],
)
def test_bad_domains_add_nothing(app: Flask, hr, body, status, expected):
    response = hr.raw("POST", "/api/v1/allowed-domains", body)
    assert response.status_code == status
    if expected is not None:
        assert response.json == expected
    else:
        assert list(response.json["errors"]) == ["domain"]
    assert count(app, AllowedDomain) == 0


# Taboo topics ------------------------------------------------------------------------

TOPIC = {
    "name": "Financial figures",
    "explanation": "Investor Relations publishes them first.",
    "phrases": ["quarterly revenue"],
    "patterns": [r"Q[1-4]\s+results"],
}


def test_taboo_topics_crud(app: Flask, hr):
    response = hr.post("/api/v1/taboo-topics", json=TOPIC)
    assert response.status_code == 201
    topic = response.json
    assert topic == {**TOPIC, "id": topic["id"], "active": True}
    assert hr.get("/api/v1/taboo-topics").json == [topic]
    response = hr.patch(f"/api/v1/taboo-topics/{topic['id']}", json={"active": False})
    assert response.json["active"] is False
    assert hr.get(f"/api/v1/taboo-topics/{topic['id']}").json["active"] is False
    assert hr.delete(f"/api/v1/taboo-topics/{topic['id']}").status_code == 204
    assert hr.get(f"/api/v1/taboo-topics/{topic['id']}").status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"name": "X"}, 422, "explanation"),
        ({**TOPIC, "patterns": ["(unclosed"]}, 422, "patterns"),
        ({**TOPIC, "patterns": [".*"]}, 422, "patterns"),
        ({**TOPIC, "phrases": [], "patterns": []}, 422, "phrases"),
        ({**TOPIC, "phrases": "quarterly revenue"}, 422, "phrases"),
        ({**TOPIC, "hits": 3}, 422, "hits"),
        ({**TOPIC, "name": "taken"}, 409, "name"),
    ],
)
def test_bad_topics_create_nothing(app: Flask, hr, body, status, field):
    with app.app_context():
        TabooTopicFactory(name="Taken")
    response = hr.post("/api/v1/taboo-topics", json=body)
    assert response.status_code == status
    assert field in response.json["errors"]
    assert count(app, TabooTopic) == 1


def test_an_invalid_pattern_is_refused_naming_the_field(app: Flask, hr):
    with app.app_context():
        topic_id = TabooTopicFactory(name="Products", patterns=[]).id
    response = hr.patch(f"/api/v1/taboo-topics/{topic_id}", json={"patterns": ["ok", "[a-"]})
    assert response.status_code == 422
    assert response.json["errors"]["patterns"][0].startswith(
        "Pattern 2 ([a-) is refused: not a valid"
    )
    with app.app_context():
        assert db.session.get(TabooTopic, topic_id).patterns == []


def test_taboo_check_for_every_employee(app: Flask, hr):
    hr.post("/api/v1/taboo-topics", json=TOPIC)
    employee = session_caller(app, Role.EMPLOYEE)
    response = employee.post("/api/v1/taboo-check", json={"text": "Our Q3  results are great"})
    assert response.status_code == 200
    assert response.json == {
        "ok": False,
        "hits": [
            {
                "topic": "Financial figures",
                "explanation": "Investor Relations publishes them first.",
                "matched": "Q3  results",
            }
        ],
    }
    assert employee.post("/api/v1/taboo-check", json={"text": "Nice office"}).json == {
        "ok": True,
        "hits": [],
    }
    assert employee.post("/api/v1/taboo-check", json={}).status_code == 422
    assert employee.raw("POST", "/api/v1/taboo-check", '{"text": ').status_code == 400
    too_long = employee.post("/api/v1/taboo-check", json={"text": "x" * 10_001})
    assert too_long.status_code == 422


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/api/v1/share-policy", {"per_day": 50}),
        ("PUT", "/api/v1/network-policies/x", {"share_points": False}),
        ("GET", "/api/v1/allowed-domains", None),
        ("POST", "/api/v1/allowed-domains", {"domain": "evil.com"}),
        ("DELETE", "/api/v1/allowed-domains/{id}", None),
        ("GET", "/api/v1/taboo-topics", None),
        ("POST", "/api/v1/taboo-topics", TOPIC),
    ],
)
@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.TEAM_LEAD])
def test_policy_changes_are_for_hr(app: Flask, role, method, path, body):
    with app.app_context():
        domain_id = AllowedDomainFactory(domain="example.com").id
    response = session_caller(app, role).open(method, path.format(id=domain_id), json=body)
    assert response.status_code == 403
    assert response.json == forbidden(Role.HR)
    assert count(app, AllowedDomain) == 1
    assert count(app, TabooTopic) == 0
    assert count(app, NetworkPolicy) == 0
    assert count(app, SharePolicy) == 0
