"""Team rewards over the API: pledge with a key (body or header), follow the team's
funding, withdraw; HR lists funded ones and hands them over; bad input names its field
and changes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import FundingState, Pledge, Reward, Role, Team, TeamFunding
from scoring.participation import Presence
from tests.factories import (
    CompanySettingsFactory,
    EmployeeFactory,
    LedgerLineFactory,
    TeamFactory,
)
from tests.web.api_support import (
    MISSING,
    NOT_AN_INTEGER,
    bearer_caller,
    bearer_for,
    count,
    invalid,
)


@pytest.fixture
def hr(app: Flask):
    with app.app_context():
        CompanySettingsFactory(time_zone="Europe/Berlin")
    return bearer_caller(app, Role.HR)


@pytest.fixture
def dinner(hr) -> int:
    response = hr.post(
        "/api/v1/rewards", json={"name": "Team dinner", "cost": 100, "kind": "team", "stock": 3}
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


@pytest.fixture
def team(app: Flask) -> int:
    with app.app_context():
        return TeamFactory().id


def member(app: Flask, team_id: int, points: int = 100, **attributes):
    with app.app_context():
        team = db.session.get(Team, team_id)
        employee = EmployeeFactory(team=team, opted_in=True, **attributes)
        LedgerLineFactory(employee_id=employee.id, team_id=team_id, points=points)
        employee_id = employee.id
    return bearer_for(app, employee_id)


def pledge(caller, reward_id: int, points, key: str | None = "k1", **kwargs):
    body = {"points": points, **({"idempotency_key": key} if key is not None else {})}
    return caller.post(f"/api/v1/rewards/{reward_id}/pledges", json=body, **kwargs)


def test_pledge_follow_and_complete(app, hr, dinner, team):
    ana, ben = member(app, team), member(app, team, presence=Presence.PSEUDONYM, pseudonym="Owl")
    first = pledge(ana, dinner, 60)
    assert first.status_code == 201
    assert first.json["points"] == 60
    assert first.json["state"] == "held"
    assert first.json["funding_state"] == "open"
    again = pledge(ana, dinner, 60)
    assert again.status_code == 200
    assert again.json["id"] == first.json["id"]
    funding = ana.get(f"/api/v1/rewards/{dinner}/funding").json
    assert funding["state"] == "open"
    assert (funding["target"], funding["pledged"], funding["remaining"]) == (100, 60, 40)
    assert funding["pledgers"] == [{"name": "You", "points": 60, "mine": True}]
    assert funding["my_pledge_id"] == first.json["id"]
    # The Idempotency-Key header works as the body's key does; 90 is capped at the 40 left.
    last = pledge(ben, dinner, 90, key=None, headers={"Idempotency-Key": "hk"})
    assert last.status_code == 201
    assert last.json["points"] == 40
    assert last.json["funding_state"] == "funded"
    seen = ana.get(f"/api/v1/rewards/{dinner}/funding").json
    assert seen["state"] == "funded"
    assert [p["name"] for p in seen["pledgers"]] == ["You", "Owl"]
    me = ana.get("/api/v1/me/points")
    if me.status_code == 200 and "spendable" in me.json:
        assert me.json["spendable"] == 40
    waiting = hr.get("/api/v1/team-fundings")
    assert waiting.status_code == 200
    assert [(f["reward_name"], f["state"]) for f in waiting.json] == [("Team dinner", "funded")]
    done = hr.post(f"/api/v1/team-fundings/{waiting.json[0]['id']}/fulfil")
    assert done.status_code == 200
    assert done.json["state"] == "fulfilled"
    assert hr.get("/api/v1/team-fundings").json == []
    assert ana.post(f"/api/v1/team-fundings/{waiting.json[0]['id']}/fulfil").status_code == 403


def test_withdraw_my_pledge_and_not_someone_elses(app, dinner, team):
    ana, ben = member(app, team), member(app, team)
    made = pledge(ana, dinner, 30).json
    assert ben.delete(f"/api/v1/pledges/{made['id']}").status_code == 404
    gone = ana.delete(f"/api/v1/pledges/{made['id']}")
    assert gone.status_code == 200
    assert gone.json["state"] == "refunded"
    assert ana.delete(f"/api/v1/pledges/{made['id']}").status_code == 200  # again: no change
    assert ana.get(f"/api/v1/rewards/{dinner}/funding").json["pledged"] == 0


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"idempotency_key": "k"}, {"points": MISSING}),
        ({"points": "ten", "idempotency_key": "k"}, {"points": NOT_AN_INTEGER}),
        ({"points": 0, "idempotency_key": "k"}, None),
        ({"points": -4, "idempotency_key": "k"}, None),
        ({"points": 10, "idempotency_key": ""}, None),
        ({"points": 10}, None),  # no key anywhere
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(app, dinner, team, body, errors):
    ana = member(app, team)
    response = ana.post(f"/api/v1/rewards/{dinner}/pledges", json=body)
    assert response.status_code == 422
    if errors is not None:
        assert response.json == invalid(errors)
    else:
        named = response.json["errors"]
        assert "points" in str(named) or "idempotency_key" in str(named)
    assert count(app, Pledge) == 0
    assert count(app, TeamFunding) == 0


def test_refusals_answer_with_their_status_and_change_nothing(app, hr, dinner, team):
    ana = member(app, team, points=10)
    poor = pledge(ana, dinner, 50)
    assert poor.status_code == 409
    assert "points" in poor.json["errors"]
    swag = hr.post("/api/v1/rewards", json={"name": "Mug", "cost": 5}).json["id"]
    assert pledge(ana, swag, 5).status_code == 409
    assert pledge(ana, 999_999, 5).status_code == 404
    assert ana.get("/api/v1/rewards/999999/funding").status_code == 404
    assert ana.get(f"/api/v1/rewards/{swag}/funding").status_code == 404
    with app.app_context():
        loner_id = EmployeeFactory(team=None, opted_in=True).id
    assert pledge(bearer_for(app, loner_id), dinner, 5).status_code == 403
    hr.patch(f"/api/v1/rewards/{dinner}", json={"available_until": "2020-01-01"})
    ended = pledge(member(app, team), dinner, 5)
    assert ended.status_code == 422
    assert "reward_id" in ended.json["errors"]
    assert count(app, Pledge) == 0


def test_a_team_reward_of_no_cost_is_refused_and_redeeming_it_alone_too(app, hr, dinner, team):
    zero = hr.post("/api/v1/rewards", json={"name": "Free", "cost": 0, "kind": "team"})
    assert zero.status_code == 422
    assert "cost" in zero.json["errors"]
    ana = member(app, team)
    alone = ana.post("/api/v1/redemptions", json={"reward_id": dinner, "idempotency_key": "r"})
    assert alone.status_code == 409
    catalogue = ana.get("/api/v1/rewards/catalogue").json["rewards"]
    entry = next(r for r in catalogue if r["id"] == dinner)
    assert (entry["kind"], entry["unavailable_reason"]) == ("team", "team")


def test_the_closing_job_gives_pledges_back(app, hr, dinner, team):
    ana = member(app, team)
    pledge(ana, dinner, 30)
    with app.app_context():
        reward = db.session.get(Reward, dinner)
        reward.available_until = date(2020, 1, 1)
        db.session.commit()
        from app.jobs import close_team_fundings

        assert close_team_fundings() == 1
        assert db.session.scalar(select(TeamFunding.state)) == FundingState.REFUNDED
    funding = ana.get(f"/api/v1/rewards/{dinner}/funding").json
    assert funding["state"] == "refunded"
    assert funding["pledged"] == 0
