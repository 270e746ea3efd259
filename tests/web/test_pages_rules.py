"""HR's scoring rules pages: the list with versions, new rules, edits into new versions
with a preview and the recalculation warning, retiring, and the referral bonuses."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Role, RuleVersion, ScoringRule, utcnow
from scoring.vocabulary import Channel, EventKind
from scoring.windows import Window
from tests.conftest import csrf_token
from tests.factories import EmployeeFactory, EventFactory, TeamFactory
from tests.web.points_pages_support import count, install_company

BERLIN = ZoneInfo("Europe/Berlin")


def _post(client, path: str, data: dict):
    return client.post(path, data={"csrf_token": csrf_token(client, "/me"), **data})


def _rule(name: str) -> ScoringRule:
    db.session.expire_all()
    return db.session.scalar(select(ScoringRule).where(ScoringRule.name == name))


def _local(moment) -> str:
    return moment.astimezone(BERLIN).strftime("%Y-%m-%dT%H:%M")


VALID = {
    "name": "Campaign shares",
    "event_kind": "share",
    "points": "10",
    "cap": "20",
    "cap_window": "week",
    "vesting_days": "0",
    "tags": "job, careers",
    "channels": ["linkedin", "xing"],
    "campaign": "#GreenGrid",
}


@pytest.mark.parametrize("path", ["/rules", "/rules/new", "/rules/{rule}", "/referral-bonuses"])
@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.EMPLOYEE, 403), (Role.TEAM_LEAD, 403), (Role.HR, 200), (Role.ADMIN, 200)],
)
def test_rule_pages_are_for_hr_and_admins(app, client, login, path, role, status):
    with app.app_context():
        install_company()
        rule_id = _rule("Sharing").id
    login(role)
    assert client.get(path.format(rule=rule_id)).status_code == status


def test_the_list_shows_current_versions_and_history(app, client, login):
    login(Role.HR)
    with app.app_context():
        install_company()
    page = client.get("/rules").get_data(as_text=True)
    assert 'aria-current="page">Scoring rules' in page
    for name in ("Sharing", "Unique clicks", "Referral: applied", "Referral: hired"):
        assert name in page
    assert "5 points</strong> per share · cap 15 per day" in page
    assert "200 points</strong> per referral: hired · no cap · spendable after 90 days" in page


def test_hr_creates_a_rule(app, client, login):
    login(Role.HR)
    with app.app_context():
        install_company()
        team = TeamFactory(name="Sales").id
    response = _post(client, "/rules/new", {**VALID, "team_ids": [str(team)]})
    assert response.status_code == 302
    with app.app_context():
        rule = _rule("Campaign shares")
        assert response.headers["Location"] == f"/rules/{rule.id}"
        (version,) = rule.versions
        assert (version.event_kind, version.points, version.cap, version.cap_window) == (
            EventKind.SHARE,
            10,
            20,
            Window.WEEK,
        )
        assert (version.channels, version.tags, version.team_ids, version.campaign) == (
            ["linkedin", "xing"],
            ["careers", "job"],
            [team],
            "#GreenGrid",
        )
        assert abs((version.valid_from - utcnow()).total_seconds()) < 60
    assert "is in force from" in client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "status", "field", "problem"),
    [
        ({"name": ""}, 422, "name", "cannot be empty"),
        ({"name": "Sharing"}, 409, "name", "exists already"),
        ({"points": ""}, 422, "points", "required"),
        ({"points": "-5"}, 422, "points", "greater than or equal to 0"),
        ({"points": "ten"}, 422, "points", "valid integer"),
        ({"cap": "-1"}, 422, "cap", "greater than or equal to 0"),
        ({"vesting_days": "-3"}, 422, "vesting_days", "greater than or equal to 0"),
        ({"event_kind": "like"}, 422, "event_kind", "Must be one of"),
        ({"cap_window": "year"}, 422, "cap_window", "Must be one of"),
        ({"channels": ["myspace"]}, 422, "channels", "Must be one of"),
        ({"team_ids": ["999999"]}, 422, "team_ids", "No team"),
        ({"effective_at": "tomorrow"}, 422, "effective_at", "Not a valid datetime"),
        ({"effective_at": "2026-13-01T10:00"}, 422, "effective_at", "Not a valid datetime"),
    ],
)
def test_bad_new_rules_change_nothing(app, client, login, changes, status, field, problem):
    login(Role.HR)
    with app.app_context():
        install_company()
        before = count(ScoringRule), count(RuleVersion), count(AuditEntry)
    response = _post(client, "/rules/new", {**VALID, **changes})
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert problem in page
    with app.app_context():
        assert (count(ScoringRule), count(RuleVersion), count(AuditEntry)) == before


def _edit_form(**changes) -> dict:
    return {
        "event_kind": "share",
        "points": "5",
        "cap": "15",
        "cap_window": "day",
        "vesting_days": "0",
        "action": "save",
        **changes,
    }


def test_an_edit_is_a_new_version_from_now(app, client, login):
    login(Role.HR)
    with app.app_context():
        install_company()
        rule_id = _rule("Sharing").id
    response = _post(client, f"/rules/{rule_id}", _edit_form(points="7", cap=""))
    assert response.status_code == 302
    page = client.get(f"/rules/{rule_id}").get_data(as_text=True)
    assert "Version 2 is in force from" in page
    assert "In force: version 2" in page
    assert "A recalculation is needed" not in page
    with app.app_context():
        old, new = _rule("Sharing").versions
        assert (new.version, new.points, new.cap) == (2, 7, None)
        assert old.valid_until == new.valid_from
        assert abs((new.valid_from - utcnow()).total_seconds()) < 60


def test_an_edit_keeps_the_referral_holding_period(app, client, login):
    login(Role.HR)
    with app.app_context():
        install_company()
        rule_id = _rule("Referral: hired").id
    form = _edit_form(event_kind="referral_hired", points="250", cap="", cap_window="all_time")
    form["vesting_days"] = "90"
    assert _post(client, f"/rules/{rule_id}", form).status_code == 302
    with app.app_context():
        assert _rule("Referral: hired").versions[-1].vesting_days == 90


@pytest.mark.parametrize(
    ("role", "offer"),
    [(Role.ADMIN, "Recalculate from"), (Role.HR, "An admin must run it")],
)
def test_a_past_effective_time_asks_for_a_recalculation(app, client, login, role, offer):
    login(role)
    with app.app_context():
        install_company()
        rule_id = _rule("Sharing").id
    since = utcnow() - timedelta(days=3)
    form = _edit_form(points="8", effective_at=_local(since))
    response = _post(client, f"/rules/{rule_id}", form)
    assert response.status_code == 302
    page = client.get(f"/rules/{rule_id}").get_data(as_text=True)
    assert "a recalculation from that time brings them in line" in page
    assert "A recalculation is needed" in page
    assert offer in page
    if role is Role.ADMIN:
        assert f'name="since" value="{_local(since)}"' in page
    assert "need a recalculation" in client.get("/rules").get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"effective_at": "2000-01-01T00:00"}, "effective_at", "after the current version"),
        ({"effective_at": "01/02/2026"}, "effective_at", "Not a valid datetime"),
        ({"points": "-1"}, "points", "greater than or equal to 0"),
        ({"points": ""}, "points", "required"),
        ({"cap": "x"}, "cap", "valid integer"),
    ],
)
def test_bad_edits_change_nothing(app, client, login, changes, field, problem):
    login(Role.HR)
    with app.app_context():
        install_company()
        rule_id = _rule("Sharing").id
        before = count(RuleVersion), count(AuditEntry)
    response = _post(client, f"/rules/{rule_id}", _edit_form(**changes))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert problem in page
    with app.app_context():
        assert (count(RuleVersion), count(AuditEntry)) == before
        assert _rule("Sharing").versions[0].valid_until is None


def test_the_preview_shows_last_week_under_the_new_values(app, client, login):
    login(Role.HR)
    with app.app_context():
        install_company()
        rule_id = _rule("Sharing").id
        start = utcnow() - timedelta(days=2)
        for person in (EmployeeFactory(opted_in=True).id, EmployeeFactory(opted_in=True).id):
            for n in range(2):
                EventFactory(
                    kind=EventKind.SHARE,
                    employee_id=person,
                    channel=Channel.LINKEDIN,
                    occurred_at=start + timedelta(minutes=n),
                    natural_key=f"share:{person}:{n}",
                )
        before = count(RuleVersion), count(AuditEntry)
    response = _post(client, f"/rules/{rule_id}", _edit_form(points="10", cap="", action="preview"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    text = re.sub(r"\s+", " ", page)
    assert (
        "this version would have given 40 points to 2 people</strong> (the current one gave 20)"
        in text
    )
    assert "2 people's points would change." in text
    assert "Nothing is saved yet." in page
    assert 'name="points" type="number" value="10"' in page  # the form keeps the values
    with app.app_context():
        assert (count(RuleVersion), count(AuditEntry)) == before

    # A bad value shows the problem instead of a preview.
    response = _post(client, f"/rules/{rule_id}", _edit_form(points="-1", action="preview"))
    assert response.status_code == 422
    assert "data-preview" not in response.get_data(as_text=True)


def test_retiring_a_rule(app, client, login):
    login(Role.HR)
    with app.app_context():
        install_company()
        rule_id = _rule("Unique clicks").id
    response = _post(client, f"/rules/{rule_id}/retire", {})
    assert response.status_code == 302
    assert "is retired" in client.get("/rules").get_data(as_text=True)
    with app.app_context():
        assert _rule("Unique clicks").versions[0].valid_until is not None
    response = _post(client, f"/rules/{rule_id}/retire", {})
    assert response.status_code == 422
    assert "retired already" in response.get_data(as_text=True)
    page = client.get(f"/rules/{rule_id}").get_data(as_text=True)
    assert "Retired" in page
    assert "Save as version" not in page
    assert _post(client, "/rules/999999/retire", {}).status_code == 404


@pytest.mark.parametrize(
    "path", ["/rules/new", "/rules/{rule}", "/rules/{rule}/retire", "/referral-bonuses"]
)
def test_rule_forms_without_csrf_are_refused(app, client, login, path):
    login(Role.HR)
    with app.app_context():
        install_company()
        rule_id = _rule("Sharing").id
        before = count(RuleVersion), count(ScoringRule)
    response = client.post(path.format(rule=rule_id), data={**VALID, **_edit_form()})
    assert response.status_code == 400
    with app.app_context():
        assert (count(RuleVersion), count(ScoringRule)) == before


# Referral bonuses ------------------------------------------------------------------


def _bonus_form(**changes) -> dict:
    return {
        "points_applied": "25",
        "vesting_days_applied": "0",
        "points_interviewed": "50",
        "vesting_days_interviewed": "0",
        "points_hired": "200",
        "vesting_days_hired": "90",
        **changes,
    }


def test_referral_bonuses_show_and_change_per_stage(app, client, login):
    login(Role.HR)
    with app.app_context():
        install_company()
    page = client.get("/referral-bonuses").get_data(as_text=True)
    assert 'aria-current="page">Referral bonuses' in page
    assert 'name="points_hired" type="number" value="200"' in page
    assert 'name="vesting_days_hired" type="number" value="90"' in page
    response = _post(
        client, "/referral-bonuses", _bonus_form(points_hired="300", vesting_days_hired="180")
    )
    assert response.status_code == 302
    assert "New referral bonuses for hired" in client.get("/referral-bonuses").get_data(
        as_text=True
    )
    with app.app_context():
        hired = _rule("Referral: hired").versions
        assert [(v.version, v.points, v.vesting_days) for v in hired] == [
            (1, 200, 90),
            (2, 300, 180),
        ]
        assert abs((hired[1].valid_from - utcnow()).total_seconds()) < 60
        assert len(_rule("Referral: applied").versions) == 1  # unchanged stages stay


def test_a_stage_without_a_rule_gets_one(app, client, login):
    login(Role.HR)
    with app.app_context():
        install_company()
        rule = _rule("Referral: applied")
        rule.versions[0].valid_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
    page = client.get("/referral-bonuses").get_data(as_text=True)
    assert "No rule awards this stage yet" in page
    assert _post(client, "/referral-bonuses", _bonus_form(points_applied="30")).status_code == 302
    with app.app_context():
        rules = db.session.scalars(
            select(ScoringRule)
            .where(ScoringRule.name.like("Referral: applied%"))
            .order_by(ScoringRule.id)  # the new rule last, on every database
        ).all()
        assert len(rules) == 2
        assert rules[-1].versions[0].points == 30


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"points_hired": "-10"}, "points_hired", "greater than or equal to 0"),
        ({"points_hired": ""}, "points_hired", "required"),
        ({"vesting_days_hired": "x"}, "vesting_days_hired", "valid integer"),
        ({"vesting_days_applied": "-1"}, "vesting_days_applied", "greater than or equal to 0"),
    ],
)
def test_bad_referral_bonuses_change_nothing(app, client, login, changes, field, problem):
    login(Role.HR)
    with app.app_context():
        install_company()
        before = count(RuleVersion), count(AuditEntry)
    response = _post(client, "/referral-bonuses", _bonus_form(points_applied="99", **changes))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert problem in page
    assert 'name="points_applied" type="number" value="99"' in page
    with app.app_context():
        assert (count(RuleVersion), count(AuditEntry)) == before
