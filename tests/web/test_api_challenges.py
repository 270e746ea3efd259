"""Challenges over the API: who creates, edits, cancels and sees which; the standings
with the freeze (no ranks for employees, live for HR); declining; and bad input that
names its field and changes nothing."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from flask import Flask

from app.extensions import db
from app.models import AuditEntry, Challenge, ChallengeDecline, Role, Team, utcnow
from scoring.challenges import ScopeKind
from tests.factories import (
    BadgeFactory,
    ChallengeFactory,
    EmployeeFactory,
    EventFactory,
    TeamFactory,
)
from tests.web.api_support import MISSING, bearer_for, count, pagination, session_for

URL = "/api/v1/challenges"


def _iso(moment) -> str:
    return moment.astimezone(UTC).isoformat()


def body(**changes) -> dict:
    now = utcnow()
    return {
        "title": "Spring sharing",
        "starts_at": _iso(now + timedelta(hours=1)),
        "ends_at": _iso(now + timedelta(days=7)),
        "metric": "shares",
        "scope": "company",
        **changes,
    }


@pytest.fixture
def world(app: Flask):
    with app.app_context():
        red, blue = TeamFactory(name="Red"), TeamFactory(name="Blue")
        ids = {
            "red": red.id,
            "blue": blue.id,
            "hr": EmployeeFactory(role=Role.HR, team=None).id,
            "red_lead": EmployeeFactory(role=Role.TEAM_LEAD, team=red, opted_in=True).id,
            "ann": EmployeeFactory(name="Ann", team=red, opted_in=True).id,
            "bob": EmployeeFactory(name="Bob", team=red, opted_in=True).id,
            "blue_member": EmployeeFactory(team=blue, opted_in=True).id,
        }
    return ids


def test_hr_creates_a_company_challenge_and_everyone_lists_it(app, world):
    hr = bearer_for(app, world["hr"])
    with app.app_context():
        badge = BadgeFactory().id
    created = hr.post(
        URL,
        json=body(
            description="Share the spring campaign.",
            freeze_hours=12,
            minimum=2,
            target=100,
            prizes=[{"kind": "badge", "value": badge, "place": 1}],
        ),
    )
    assert created.status_code == 201, created.json
    made = created.json
    assert made["state"] == "open"
    assert made["lateness_hours"] == 24
    assert made["prizes"] == [{"kind": "badge", "value": badge, "place": 1}]
    assert made["can_manage"] is True
    assert any("hidden for the last 12 hours" in line for line in made["rules"])
    ann = bearer_for(app, world["ann"])
    listed = ann.get(f"{URL}?phase=upcoming")
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json] == [made["id"]]
    assert listed.json[0]["can_manage"] is False
    assert pagination(listed)["total"] == 1
    assert ann.get(f"{URL}?phase=running").json == []
    with app.app_context():
        assert count(app, AuditEntry) >= 1


def test_a_team_lead_creates_for_their_own_team_only(app, world):
    lead = bearer_for(app, world["red_lead"])
    own = lead.post(URL, json=body(scope="teams", team_ids=[world["red"]]))
    assert own.status_code == 201
    for other in (
        body(scope="teams", team_ids=[world["blue"]]),
        body(),
        body(scope="team_vs_team", team_ids=[world["red"], world["blue"]], mode="team"),
    ):
        refused = lead.post(URL, json=other)
        assert refused.status_code == 403
        assert "team_ids" in refused.json["errors"]
    employee = bearer_for(app, world["ann"])
    assert employee.post(URL, json=body()).status_code == 403
    assert count(app, Challenge) == 1


@pytest.mark.parametrize(
    ("changes", "field", "status"),
    [
        ({"title": None}, "title", 422),
        ({"metric": "likes"}, "metric", 422),
        ({"scope": "teams"}, "team_ids", 422),
        ({"starts_at": "2026-01-01T10:00:00"}, "starts_at", 422),  # no zone
        ({"ends_at": _iso(utcnow() - timedelta(days=1))}, "ends_at", 422),
        ({"freeze_hours": -1}, "freeze_hours", 422),
        ({"freeze_hours": "12"}, "freeze_hours", 422),
        ({"lateness_hours": 10_000}, "lateness_hours", 422),
        ({"target": 0}, "target", 422),
        ({"prizes": [{"kind": "points", "value": 0}]}, "prizes", 422),
        ({"prizes": [{"kind": "badge", "value": 999999, "place": 1}]}, "prizes", 422),
        ({"prizes": [{"kind": "points", "value": 500_000, "place": 1}]}, "prizes", 422),
        ({"channels": ["myspace"]}, "channels", 422),
        ({"colour": "red"}, "colour", 422),
    ],
)
def test_bad_input_names_its_field_and_changes_nothing(app, world, changes, field, status):
    hr = bearer_for(app, world["hr"])
    data = body(**changes)
    if changes.get("title", "") is None:
        del data["title"]
    answer = hr.post(URL, json=data)
    assert answer.status_code == status, answer.json
    assert field in answer.json["errors"]
    if field == "title":
        assert answer.json["errors"]["title"] == MISSING
    assert count(app, Challenge) == 0


def test_employees_see_only_their_teams_and_the_companys(app, world):
    with app.app_context():
        red = db.session.get(Team, world["red"])
        blue = db.session.get(Team, world["blue"])
        reds = ChallengeFactory(scope=ScopeKind.TEAMS, teams=[red]).id
        blues = ChallengeFactory(scope=ScopeKind.TEAMS, teams=[blue]).id
        db.session.commit()
    ann = bearer_for(app, world["ann"])
    assert {c["id"] for c in ann.get(URL).json} == {reds}
    assert ann.get(f"{URL}/{blues}").status_code == 404
    assert ann.get(f"{URL}/{blues}/board").status_code == 404
    assert ann.post(f"{URL}/{blues}/decline").status_code == 404
    hr = bearer_for(app, world["hr"])
    assert {c["id"] for c in hr.get(URL).json} == {reds, blues}


def test_a_frozen_board_shows_no_ranks_to_employees_and_live_ones_to_hr(app, world):
    now = utcnow()
    with app.app_context():
        frozen = ChallengeFactory(
            starts_at=now - timedelta(days=2), ends_at=now + timedelta(hours=6), freeze_hours=24
        ).id
        for who, times in (("ann", 1), ("bob", 2)):
            for i in range(times):
                EventFactory(
                    employee_id=world[who],
                    team_id=world["red"],
                    occurred_at=now - timedelta(hours=40, seconds=i),
                    created_at=now - timedelta(hours=40, seconds=i),
                    scored_at=now - timedelta(hours=40),
                )
    ann = bearer_for(app, world["ann"])
    seen = ann.get(f"{URL}/{frozen}")
    assert seen.status_code == 200, seen.json
    standings = seen.json["standings"]
    assert standings["frozen"] is True
    assert standings["rows"] == []
    assert standings["mine"] == {"rank": None, "points": 1, "qualified": True}
    assert seen.json["challenge"]["state"] == "frozen"
    board = ann.get(f"{URL}/{frozen}/board").json
    assert board["rows"] == []
    assert board["frozen"] is True
    hr = bearer_for(app, world["hr"])
    live = hr.get(f"{URL}/{frozen}/board?limit=1").json
    assert live["frozen"] is False
    assert [(r["rank"], r["name"], r["points"]) for r in live["rows"]] == [(1, "Bob", 2)]
    assert live["total_rows"] == 2
    assert live["mine"] == {"rank": None, "points": 0, "qualified": False}


def test_edit_what_may_change_and_a_locked_field_is_409(app, world):
    now = utcnow()
    with app.app_context():
        running = ChallengeFactory(
            starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=2)
        ).id
    hr = bearer_for(app, world["hr"])
    later = _iso(now + timedelta(days=4))
    changed = hr.patch(f"{URL}/{running}", json={"title": "Renamed", "ends_at": later})
    assert changed.status_code == 200, changed.json
    assert changed.json["title"] == "Renamed"
    locked = hr.patch(f"{URL}/{running}", json={"metric": "points", "title": "Again"})
    assert locked.status_code == 409
    assert "metric" in locked.json["errors"]
    bad = hr.patch(f"{URL}/{running}", json={"minimum": -4})
    assert bad.status_code == 422
    assert "minimum" in bad.json["errors"]
    with app.app_context():
        row = db.session.get(Challenge, running)
        assert row.title == "Renamed"
        assert row.metric.value == "shares"
    lead = bearer_for(app, world["red_lead"])
    assert lead.patch(f"{URL}/{running}", json={"title": "Mine"}).status_code == 403
    assert lead.post(f"{URL}/{running}/cancel").status_code == 403


def test_cancel_once_then_409(app, world):
    with app.app_context():
        red = db.session.get(Team, world["red"])
        reds = ChallengeFactory(scope=ScopeKind.TEAMS, teams=[red]).id
        db.session.commit()
    lead = session_for(app, world["red_lead"])  # the pages' scripts: session + CSRF header
    cancelled = lead.post(f"{URL}/{reds}/cancel")
    assert cancelled.status_code == 200, cancelled.json
    assert cancelled.json["state"] == "cancelled"
    again = lead.post(f"{URL}/{reds}/cancel")
    assert again.status_code == 409
    assert lead.patch(f"{URL}/{reds}", json={"title": "x"}).status_code == 409


def test_decline_and_take_part_again(app, world):
    with app.app_context():
        company = ChallengeFactory().id
    ann = bearer_for(app, world["ann"])
    first = ann.post(f"{URL}/{company}/decline")
    assert first.json == {"declined": True, "changed": True}
    assert ann.post(f"{URL}/{company}/decline").json == {"declined": True, "changed": False}
    assert ann.get(f"{URL}/{company}").json["challenge"]["declined"] is True
    assert count(app, ChallengeDecline) == 1
    assert ann.delete(f"{URL}/{company}/decline").json == {"declined": False, "changed": True}
    assert count(app, ChallengeDecline) == 0
    with app.app_context():
        settled = ChallengeFactory(state="settled", digest="a" * 64).id
    assert ann.post(f"{URL}/{settled}/decline").status_code == 409
    assert count(app, ChallengeDecline) == 0


def test_board_paging_is_bounded(app, world):
    with app.app_context():
        company = ChallengeFactory().id
    ann = bearer_for(app, world["ann"])
    assert ann.get(f"{URL}/{company}/board?limit=0").status_code == 422
    assert ann.get(f"{URL}/{company}/board?limit=101").status_code == 422
    assert ann.get(f"{URL}/{company}/board?offset=-1").status_code == 422
    assert ann.get(f"{URL}?phase=someday").status_code == 422
