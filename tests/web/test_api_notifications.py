"""The inbox and notification settings over the API: one's own rows only, bad input
refused with the field named and nothing changed."""

from __future__ import annotations

import pytest
from flask import Flask

from app.extensions import db
from app.models import Employee, Role
from app.services import notifications
from app.services.notifications import Told
from scoring.notifications import Kind
from tests.web.api_support import (
    MISSING,
    UNAUTHORIZED,
    Caller,
    bearer_caller,
    invalid,
    session_caller,
)

BADGE = Kind.BADGE_EARNED
TOO_BIG = "Must be a whole number between -2147483648 and 2147483647."


@pytest.fixture(params=["session", "bearer"])
def me(request, app: Flask) -> Caller:
    make = session_caller if request.param == "session" else bearer_caller
    return make(app, Role.EMPLOYEE, opted_in=True)


def tell(app: Flask, employee_id: int, *keys: str) -> list[int]:
    with app.app_context():
        notifications.tell(Told(employee_id, BADGE, key, title=f"Title {key}") for key in keys)
        db.session.commit()
        employee = db.session.get(Employee, employee_id)
        return [n.id for n in notifications.inbox(employee)]


def test_my_inbox_newest_first_with_the_unread_count(app: Flask, me: Caller):
    tell(app, me.employee_id, "a", "b", "c")
    response = me.get("/api/v1/me/notifications?page_size=2")
    assert response.status_code == 200
    assert [n["title"] for n in response.json] == ["Title c", "Title b"]
    assert set(response.json[0]) == {
        "id", "kind", "title", "body", "link", "created_at", "read_at"
    }  # fmt: skip
    assert me.get("/api/v1/me/notifications?page=2&page_size=2").json[0]["title"] == "Title a"
    assert me.get("/api/v1/me/notifications/unread").json == {"unread": 3}


def test_marking_read_touches_only_my_own(app: Flask, me: Caller):
    mine = tell(app, me.employee_id, "a", "b")
    other = session_caller(app, Role.EMPLOYEE, opted_in=True)
    theirs = tell(app, other.employee_id, "x")
    response = me.post("/api/v1/me/notifications/read", json={"ids": [mine[0], theirs[0]]})
    assert response.status_code == 200
    assert response.json == {"marked": 1, "unread": 1}
    assert me.post("/api/v1/me/notifications/read-all").json == {"marked": 1, "unread": 0}
    assert other.get("/api/v1/me/notifications/unread").json == {"unread": 1}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"ids": MISSING}),
        ({"ids": []}, {"ids": ["Give at least one."]}),
        ({"ids": ["x"]}, {"ids": {"0": ["Not a valid integer."]}}),
        ({"ids": [2**40]}, {"ids": {"0": [TOO_BIG]}}),
        ({"ids": [1], "all": True}, {"all": ["Unknown field."]}),
    ],
)  # fmt: skip
def test_bad_ids_are_refused_and_change_nothing(app: Flask, me: Caller, body, errors):
    tell(app, me.employee_id, "a")
    response = me.post("/api/v1/me/notifications/read", json=body)
    assert response.status_code == 422
    assert response.json == invalid(errors)
    assert me.get("/api/v1/me/notifications/unread").json == {"unread": 1}


def test_settings_show_defaults_and_keep_my_choices(app: Flask, me: Caller):
    settings = me.get("/api/v1/me/notification-settings").json["settings"]
    assert [(s["kind"], s["channel"], s["on"], s["default"]) for s in settings] == [
        ("badge_earned", "in_app", True, True),
        ("badge_earned", "chat", False, False),
        ("redemption_decided", "in_app", True, True),
        ("redemption_decided", "email", True, True),
        ("challenge_started", "in_app", True, True),
        ("challenge_started", "email", False, False),
        ("challenge_ending", "in_app", True, True),
        ("challenge_ending", "email", False, False),
        ("challenge_results", "in_app", True, True),
        ("challenge_results", "email", False, False),
        ("challenge_results", "chat", False, False),
        ("referral_stage", "in_app", True, True),
        ("referral_stage", "email", True, True),
        ("your_week", "in_app", True, True),
        ("your_week", "email", False, False),
    ]
    choice = {"kind": "redemption_decided", "channel": "email", "on": False}
    response = me.put("/api/v1/me/notification-settings", json={"choices": [choice]})
    assert response.status_code == 200
    email = response.json["settings"][3]
    assert (email["on"], email["default"]) == (False, True)
    assert me.get("/api/v1/me/notification-settings").json == response.json


@pytest.mark.parametrize(
    ("choices", "errors"),
    [
        ([], ["Give at least one."]),
        ([{"kind": "badge_earned", "channel": "email", "on": True}],
         {"0": {"channel": ["E-mail is not offered for this kind."]}}),
        ([{"kind": "weather", "channel": "in_app", "on": True}],
         {"0": {"kind": [f"Must be one of: {', '.join(Kind)}."]}}),
        ([{"kind": "badge_earned", "channel": "in_app"}], {"0": {"on": MISSING}}),
        ([{"kind": "badge_earned", "channel": "in_app", "on": "maybe"}],
         {"0": {"on": ["Not a valid boolean."]}}),
    ],
)  # fmt: skip
def test_bad_choices_are_refused_and_change_nothing(app: Flask, me: Caller, choices, errors):
    before = me.get("/api/v1/me/notification-settings").json
    response = me.put("/api/v1/me/notification-settings", json={"choices": choices})
    assert response.status_code == 422
    assert response.json == invalid({"choices": errors})
    assert me.get("/api/v1/me/notification-settings").json == before


HOURS = "Must be greater than or equal to 0 and less than or equal to 23."
BUDGET = "Must be greater than or equal to 0 and less than or equal to 20."
SLACK_ID = "A Slack member ID looks like U012AB3CDE: in Slack, your profile, ⋮, Copy member ID."
DEFAULT_MAIL = {
    "digest": "weekly",
    "digest_hour": 9,
    "time_zone": None,
    "quiet_from": 19,
    "quiet_until": 8,
    "weekly_budget": 3,
    "slack_member_id": None,
}


def test_the_rhythm_of_mail_defaults_gently_and_changes_only_what_is_given(app, me: Caller):
    settings = me.get("/api/v1/me/notification-settings").json
    assert settings["mail"] == settings["mail_default"] == DEFAULT_MAIL
    change = {"digest": "twice_weekly", "digest_hour": 7, "time_zone": "America/New_York"}
    response = me.put("/api/v1/me/notification-settings", json={"mail": change})
    assert response.status_code == 200
    assert response.json["mail"] == {**DEFAULT_MAIL, **change}
    quiet_off = {"quiet_from": None, "quiet_until": None, "weekly_budget": 0}
    response = me.put("/api/v1/me/notification-settings", json={"mail": quiet_off})
    assert response.json["mail"] == {**DEFAULT_MAIL, **change, **quiet_off}
    assert me.get("/api/v1/me/notification-settings").json["mail_default"] == DEFAULT_MAIL
    slack = {"slack_member_id": "U012AB3CDE"}
    response = me.put("/api/v1/me/notification-settings", json={"mail": slack})
    assert response.json["mail"]["slack_member_id"] == "U012AB3CDE"


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"choices": ["Give choices, mail, or both."]}),
        ({"mail": {"digest": "hourly"}},
         {"mail": {"digest": ["Must be one of: off, daily, weekly, twice_weekly."]}}),
        ({"mail": {"digest_hour": 24}}, {"mail": {"digest_hour": [HOURS]}}),
        ({"mail": {"time_zone": "Mars/Olympus"}},
         {"mail": {"time_zone": ["Not a time zone we know; use a name like Europe/Berlin."]}}),
        ({"mail": {"quiet_from": 22}},
         {"mail": {"quiet_until": ["Give both ends of your quiet hours, or neither."]}}),
        ({"mail": {"quiet_from": 22, "quiet_until": None}},
         {"mail": {"quiet_until": ["Give both ends of your quiet hours, or neither."]}}),
        ({"mail": {"weekly_budget": 21}}, {"mail": {"weekly_budget": [BUDGET]}}),
        ({"mail": {"weekly_budget": -1}}, {"mail": {"weekly_budget": [BUDGET]}}),
        ({"mail": {"volume": 11}}, {"mail": {"volume": ["Unknown field."]}}),
        ({"mail": {"slack_member_id": "@lena"}}, {"mail": {"slack_member_id": [SLACK_ID]}}),
        ({"mail": {"slack_member_id": "u012ab3cde"}}, {"mail": {"slack_member_id": [SLACK_ID]}}),
    ],
)  # fmt: skip
def test_a_bad_rhythm_is_refused_naming_the_field_and_changes_nothing(
    app: Flask, me: Caller, body, errors
):
    before = me.get("/api/v1/me/notification-settings").json
    response = me.put("/api/v1/me/notification-settings", json=body)
    assert response.status_code == 422
    assert response.json == invalid(errors)
    assert me.get("/api/v1/me/notification-settings").json == before


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/api/v1/me/notifications"),
        ("GET", "/api/v1/me/notifications/unread"),
        ("POST", "/api/v1/me/notifications/read"),
        ("POST", "/api/v1/me/notifications/read-all"),
        ("GET", "/api/v1/me/notification-settings"),
        ("PUT", "/api/v1/me/notification-settings"),
    ],
)
def test_the_inbox_needs_a_signed_in_caller(client, method, url):
    response = client.open(url, method=method, json={})
    assert response.status_code == 401
    assert response.json == UNAUTHORIZED
