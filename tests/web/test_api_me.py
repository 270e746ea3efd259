"""/api/v1/me: the signed-in employee's profile, participation and personal data."""

from __future__ import annotations

import pytest
from flask import Flask

from app.extensions import db
from app.models import AuditEntry, Employee, Role
from scoring.participation import Presence
from tests.factories import (
    EmployeeFactory,
    EmployeeNetworkFactory,
    GuidelineVersionFactory,
    InterestFactory,
    TeamFactory,
)
from tests.web.api_support import (
    INVALID_JSON,
    MISSING,
    NOT_AN_INTEGER,
    UNKNOWN,
    Caller,
    bearer_caller,
    count,
    invalid,
    session_caller,
    session_for,
)

ENUM_PRESENCE = ["Must be one of: named, pseudonym, hidden."]


@pytest.fixture(params=["session", "bearer"])
def me(request, app: Flask) -> Caller:
    """An employee calling by session (with CSRF header) or by token: both must work."""
    make = session_caller if request.param == "session" else bearer_caller
    return make(app, Role.EMPLOYEE, name="Anna Schmidt", team=None)


def employee_row(app: Flask, employee_id: int) -> Employee:
    with app.app_context():
        employee = db.session.get(Employee, employee_id)
        # Touch what the tests read, then detach: the row stays readable after the context.
        _ = employee.networks, employee.interests
        db.session.expunge(employee)
        return employee


def test_my_profile(app: Flask, me: Caller):
    response = me.get("/api/v1/me")
    assert response.status_code == 200
    row = employee_row(app, me.employee_id)
    assert response.json == {
        "id": me.employee_id,
        "email": row.email,
        "name": "Anna Schmidt",
        "role": "employee",
        "team": None,
        "participating": False,
        "opted_in_at": None,
        "guidelines_version_id": None,
        "presence": "named",
        "pseudonym": None,
        "shown_on_boards_as": None,  # not taking part: shown nowhere
        "networks": [],
        "interests": [],
    }


def test_my_profile_shows_team_networks_and_interests(app: Flask):
    with app.app_context():
        team = TeamFactory(name="Sales")
        careers = InterestFactory(name="Careers")
        employee = EmployeeFactory(team=team, name="Ben Koch", opted_in=True, interests=[careers])
        EmployeeNetworkFactory(employee=employee, handle="ben", audience_size=250)
        employee_id, team_id, careers_id = employee.id, team.id, careers.id
    body = session_for(app, employee_id).get("/api/v1/me").json
    assert body["id"] == employee_id
    assert body["team"] == {"id": team_id, "name": "Sales"}
    assert body["participating"] is True
    assert body["shown_on_boards_as"] == "Ben Koch"
    assert body["networks"] == [{"network": "linkedin", "handle": "ben", "audience_size": 250}]
    assert body["interests"] == [{"id": careers_id, "name": "Careers"}]


# Presence --------------------------------------------------------------------------


def test_choose_a_pseudonym(app: Flask, me: Caller):
    response = me.patch(
        "/api/v1/me/presence", json={"presence": "pseudonym", "pseudonym": " Quiet Fox "}
    )
    assert response.status_code == 200
    assert response.json["presence"] == "pseudonym"
    assert response.json["pseudonym"] == "Quiet Fox"
    row = employee_row(app, me.employee_id)
    assert (row.presence, row.pseudonym) == (Presence.PSEUDONYM, "Quiet Fox")


def test_go_hidden_drops_the_pseudonym(app: Flask, me: Caller):
    me.patch("/api/v1/me/presence", json={"presence": "pseudonym", "pseudonym": "Quiet Fox"})
    response = me.patch("/api/v1/me/presence", json={"presence": "hidden"})
    assert response.status_code == 200
    assert (response.json["presence"], response.json["pseudonym"]) == ("hidden", None)


PRESENCE_REFUSALS = [
    ("{}", 422, invalid({"presence": MISSING})),
    ('{"presence": "invisible"}', 422, invalid({"presence": ENUM_PRESENCE})),
    ('{"presence": 1}', 422, invalid({"presence": ENUM_PRESENCE})),
    ('{"presence": null}', 422, invalid({"presence": ["Field may not be null."]})),
    ('{"presence": "named", "shown": true}', 422, invalid({"shown": UNKNOWN})),
    (
        '{"presence": "pseudonym"}',
        422,
        invalid(
            {"pseudonym": ["Choose a pseudonym to appear under."]},
            "Choose a pseudonym to appear under.",
        ),
    ),
    (
        '{"presence": "pseudonym", "pseudonym": "<b>x</b>"}',
        422,
        invalid(
            {"pseudonym": ["A pseudonym has 3 to 40 letters, digits, spaces, dots or dashes."]},
            "A pseudonym has 3 to 40 letters, digits, spaces, dots or dashes.",
        ),
    ),
    (
        '{"presence": "pseudonym", "pseudonym": "' + "x" * 41 + '"}',
        422,
        invalid({"pseudonym": ["At most 40 characters."]}),
    ),
    ('{"presence": "named"', 400, INVALID_JSON),
]


@pytest.mark.parametrize(("body", "status", "expected"), PRESENCE_REFUSALS)
def test_bad_presence_changes_nothing(app: Flask, me: Caller, body, status, expected):
    response = me.raw("PATCH", "/api/v1/me/presence", body)
    assert response.status_code == status
    assert response.json == expected
    row = employee_row(app, me.employee_id)
    assert (row.presence, row.pseudonym) == (Presence.NAMED, None)


def test_a_pseudonym_someone_else_uses_is_409(app: Flask, me: Caller):
    with app.app_context():
        EmployeeFactory(presence=Presence.PSEUDONYM, pseudonym="Quiet Fox")
    response = me.patch(
        "/api/v1/me/presence", json={"presence": "pseudonym", "pseudonym": "quiet fox"}
    )
    assert response.status_code == 409
    assert response.json == {
        "code": 409,
        "status": "Conflict",
        "message": "Someone else uses this pseudonym already.",
        "errors": {"pseudonym": ["Someone else uses this pseudonym already."]},
    }
    assert employee_row(app, me.employee_id).pseudonym is None


# Networks --------------------------------------------------------------------------


def test_replace_my_networks(app: Flask, me: Caller):
    first = [{"network": "linkedin", "handle": "anna", "audience_size": 500}]
    assert me.put("/api/v1/me/networks", json={"networks": first}).status_code == 200
    second = [
        {"network": "xing", "handle": None, "audience_size": None},
        {"network": "linkedin", "handle": " anna-s ", "audience_size": 510},
    ]
    response = me.put("/api/v1/me/networks", json={"networks": second})
    assert response.status_code == 200
    assert response.json["networks"] == [
        {"network": "linkedin", "handle": "anna-s", "audience_size": 510},
        {"network": "xing", "handle": None, "audience_size": None},
    ]
    assert me.put("/api/v1/me/networks", json={"networks": []}).json["networks"] == []


NETWORK_REFUSALS = [
    ("{}", invalid({"networks": MISSING})),
    ('{"networks": "linkedin"}', invalid({"networks": ["Not a valid list."]})),
    (
        '{"networks": [{"network": "myspace"}]}',
        invalid(
            {
                "networks": {
                    "0": {"network": ["Must be one of: linkedin, x, facebook, xing, instagram."]}
                }
            }
        ),
    ),
    ('{"networks": [{"handle": "a"}]}', invalid({"networks": {"0": {"network": MISSING}}})),
    (
        '{"networks": [{"network": "x", "audience_size": -1}]}',
        invalid(
            {
                "networks": {
                    "0": {
                        "audience_size": [
                            "Must be greater than or equal to 0 and less than or equal to "
                            "100000000."
                        ]
                    }
                }
            }
        ),
    ),
    (
        '{"networks": [{"network": "x", "audience_size": "many"}]}',
        invalid({"networks": {"0": {"audience_size": NOT_AN_INTEGER}}}),
    ),
    (
        '{"networks": [{"network": "x", "followers": 3}]}',
        invalid({"networks": {"0": {"followers": UNKNOWN}}}),
    ),
    (
        '{"networks": [{"network": "x"}, {"network": "x"}]}',
        invalid({"networks": ["x is listed twice."]}, "x is listed twice."),
    ),
]


@pytest.mark.parametrize(("body", "expected"), NETWORK_REFUSALS)
def test_bad_networks_change_nothing(app: Flask, me: Caller, body, expected):
    me.put("/api/v1/me/networks", json={"networks": [{"network": "linkedin"}]})
    response = me.raw("PUT", "/api/v1/me/networks", body)
    assert response.status_code == 422
    assert response.json == expected
    assert [n.network.value for n in employee_row(app, me.employee_id).networks] == ["linkedin"]


# Interests -------------------------------------------------------------------------


def test_replace_my_interests(app: Flask, me: Caller):
    with app.app_context():
        careers, sales = InterestFactory(name="Careers").id, InterestFactory(name="Sales").id
    response = me.put("/api/v1/me/interests", json={"interest_ids": [sales, careers, sales]})
    assert response.status_code == 200
    assert response.json["interests"] == [
        {"id": careers, "name": "Careers"},
        {"id": sales, "name": "Sales"},
    ]
    response = me.put("/api/v1/me/interests", json={"interest_ids": []})
    assert response.json["interests"] == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("{}", invalid({"interest_ids": MISSING})),
        ('{"interest_ids": 3}', invalid({"interest_ids": ["Not a valid list."]})),
        ('{"interest_ids": ["x"]}', invalid({"interest_ids": {"0": NOT_AN_INTEGER}})),
        (
            '{"interest_ids": [999999, 999998]}',
            invalid(
                {"interest_ids": ["Unknown interest ids: 999998, 999999."]},
                "Unknown interest ids: 999998, 999999.",
            ),
        ),
        ('{"interest_ids": [], "extra": 1}', invalid({"extra": UNKNOWN})),
    ],
)
def test_bad_interests_change_nothing(app: Flask, me: Caller, body, expected):
    with app.app_context():
        careers = InterestFactory(name="Careers").id
    me.put("/api/v1/me/interests", json={"interest_ids": [careers]})
    response = me.raw("PUT", "/api/v1/me/interests", body)
    assert response.status_code == 422
    assert response.json == expected
    assert [i.id for i in employee_row(app, me.employee_id).interests] == [careers]


# Opt-in and opt-out ----------------------------------------------------------------


def test_opt_in_with_the_current_guidelines_then_out(app: Flask, me: Caller):
    with app.app_context():
        GuidelineVersionFactory()
        current = GuidelineVersionFactory().id
    response = me.post("/api/v1/me/opt-in", json={"guidelines_version_id": current})
    assert response.status_code == 200
    assert response.json["participating"] is True
    assert response.json["guidelines_version_id"] == current
    assert response.json["opted_in_at"] is not None
    assert response.json["shown_on_boards_as"] == "Anna Schmidt"

    response = me.post("/api/v1/me/opt-out")
    assert response.status_code == 200
    assert response.json["participating"] is False
    assert response.json["shown_on_boards_as"] is None
    assert employee_row(app, me.employee_id).opted_in_at is None
    with app.app_context():
        actions = [e.action for e in db.session.scalars(db.select(AuditEntry))]
    assert actions.count("participation.opt_in") == 1
    assert actions.count("participation.opt_out") == 1


def test_opting_out_twice_is_harmless(me: Caller):
    assert me.post("/api/v1/me/opt-out").status_code == 200
    assert me.post("/api/v1/me/opt-out").json["participating"] is False


STALE = "The guidelines changed since you opened them. Please read the current version."


@pytest.mark.parametrize(
    ("published", "body", "status", "expected"),
    [
        (
            0,
            '{"guidelines_version_id": 1}',
            409,
            {
                "code": 409,
                "status": "Conflict",
                "message": "HR has not published guidelines yet, so opting in is not open.",
            },
        ),
        (
            2,
            '{"guidelines_version_id": "old"}',
            422,
            invalid({"guidelines_version_id": NOT_AN_INTEGER}),
        ),
        (2, "{}", 422, invalid({"guidelines_version_id": MISSING})),
        (2, '{"guidelines_version_id": 1, "accept": true}', 422, invalid({"accept": UNKNOWN})),
        (2, "{", 400, INVALID_JSON),
    ],
)
def test_refused_opt_in_changes_nothing(app: Flask, me: Caller, published, body, status, expected):
    with app.app_context():
        for _ in range(published):
            GuidelineVersionFactory()
    response = me.raw("POST", "/api/v1/me/opt-in", body)
    assert response.status_code == status
    assert response.json == expected
    assert employee_row(app, me.employee_id).opted_in_at is None


def test_opting_in_to_an_old_version_is_409(app: Flask, me: Caller):
    with app.app_context():
        old = GuidelineVersionFactory().id
        GuidelineVersionFactory()
    response = me.post("/api/v1/me/opt-in", json={"guidelines_version_id": old})
    assert response.status_code == 409
    assert response.json == {
        "code": 409,
        "status": "Conflict",
        "message": STALE,
        "errors": {"guidelines_version_id": [STALE]},
    }
    assert employee_row(app, me.employee_id).opted_in_at is None


# Export and erasure ----------------------------------------------------------------


def test_export_my_data(app: Flask, me: Caller):
    me.put("/api/v1/me/networks", json={"networks": [{"network": "x", "handle": "anna"}]})
    response = me.get("/api/v1/me/export")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="chorus-personal-data.json"'
    )
    data = response.json
    row = employee_row(app, me.employee_id)
    assert data["profile"]["id"] == me.employee_id
    assert data["profile"]["email"] == row.email
    assert data["profile"]["name"] == "Anna Schmidt"
    assert data["networks"] == [{"network": "x", "handle": "anna", "audience_size": None}]
    assert set(data) == {
        "exported_at",
        "profile",
        "networks",
        "interests",
        "api_tokens",
        "activity",
        "shares",
        "points",
        "redemptions",
        "badges",
        "challenge_placings",
        "challenge_awards",
        "challenge_declines",
        "lessons",
        "pledges",
        "challenges_organised",
        "notifications",
        "notification_choices",
        "mail_settings",
        "mails",
        "feed_last_opened",
        "taking_part",
    }
    assert data["badges"] == []
    assert data["pledges"] == []
    assert data["notifications"] == data["notification_choices"] == []


def test_my_export_holds_my_badges_and_lessons(app: Flask, me: Caller):
    from datetime import UTC, datetime

    from tests.factories import (
        BadgeFactory,
        BadgeGrantFactory,
        LessonCompletionFactory,
        LessonFactory,
    )

    at = datetime(2026, 4, 1, 8, tzinfo=UTC)
    with app.app_context():
        badge = BadgeFactory(name="First share")
        BadgeGrantFactory(badge=badge, employee_id=me.employee_id, granted_at=at)
        lesson = LessonFactory(title="What stays off-limits")
        LessonCompletionFactory(lesson_id=lesson.id, employee_id=me.employee_id, completed_at=at)
        db.session.commit()
    data = me.get("/api/v1/me/export").json
    assert data["badges"] == [
        {"badge": "First share", "level": "bronze", "period": "all", "granted_at": at.isoformat()}
    ]
    assert data["lessons"] == [{"lesson": "What stays off-limits", "completed_at": at.isoformat()}]


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        (
            '{"confirm_email": "someone.else@example.com"}',
            422,
            invalid(
                {"confirm_email": ["Type your account's e-mail address to confirm."]},
                "Type your account's e-mail address to confirm.",
            ),
        ),
        ("{}", 422, invalid({"confirm_email": MISSING})),
        ('{"confirm_email": 5}', 422, invalid({"confirm_email": ["Not a valid string."]})),
        ('{"confirm_email": "a@b.c", "really": true}', 422, invalid({"really": UNKNOWN})),
        ("not json", 400, INVALID_JSON),
    ],
)
def test_refused_erasure_changes_nothing(app: Flask, me: Caller, body, status, expected):
    response = me.raw("POST", "/api/v1/me/erase", body)
    assert response.status_code == status
    assert response.json == expected
    row = employee_row(app, me.employee_id)
    assert row.erased_at is None
    assert row.name == "Anna Schmidt"
    assert me.get("/api/v1/me").status_code == 200


def test_erase_myself(app: Flask, me: Caller):
    email = employee_row(app, me.employee_id).email
    response = me.post("/api/v1/me/erase", json={"confirm_email": f"  {email.upper()} "})
    assert response.status_code == 204
    assert response.data == b""
    row = employee_row(app, me.employee_id)
    assert row.erased_at is not None
    assert row.email == f"erased-{me.employee_id}@erased.invalid"
    assert row.name == f"Former employee #{me.employee_id}"
    # Signed out (session) or token deleted (bearer): either way, gone.
    assert me.get("/api/v1/me").status_code == 401


def test_the_last_admin_cannot_erase_themselves(app: Flask):
    admin = bearer_caller(app, Role.ADMIN)
    email = employee_row(app, admin.employee_id).email
    response = admin.post("/api/v1/me/erase", json={"confirm_email": email})
    assert response.status_code == 409
    assert response.json["message"] == (
        "Chorus needs at least one active admin: appoint another admin first."
    )
    assert employee_row(app, admin.employee_id).erased_at is None
    assert count(app, Employee) == 1
