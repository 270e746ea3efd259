"""Team rewards on the pages: the catalogue shows the team's progress, who pledged (as
they appear on boards), a pledge form and "withdraw my pledge"; HR chooses the kind in
the reward form and hands funded ones over from the redemption queue."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import FundingState, Pledge, PledgeState, Reward, RewardKind, Role, TeamFunding
from app.services import ledger
from scoring.participation import Presence
from tests.conftest import csrf_token, sign_in
from tests.factories import EmployeeFactory, LedgerLineFactory, RewardFactory, TeamFactory
from tests.web.points_pages_support import count


def _post(client, path: str, data: dict | None = None):
    return client.post(path, data={"csrf_token": csrf_token(client, "/me"), **(data or {})})


def _pledge_key(page: str, reward_id: int) -> str:
    form = page[page.index(f'action="/rewards/{reward_id}/pledge"') :]
    return re.search(r'name="idempotency_key" value="([0-9a-f]+)"', form).group(1)


@pytest.fixture
def team_setup(app, client):
    """Me (signed in, 100 points), a teammate with a pseudonym who pledged 30, a hidden
    teammate who pledged 10, and a team dinner costing 100."""
    with app.app_context():
        team = TeamFactory(name="Platform")
        me = EmployeeFactory(team=team, opted_in=True, name="Maria Me")
        fox = EmployeeFactory(
            team=team, opted_in=True, name="Real Name", presence=Presence.PSEUDONYM, pseudonym="Fox"
        )
        ghost = EmployeeFactory(
            team=team, opted_in=True, name="Ghost Person", presence=Presence.HIDDEN
        )
        for person in (me, fox, ghost):
            LedgerLineFactory(employee_id=person.id, team_id=team.id, points=100)
        dinner = RewardFactory(name="Team dinner", cost=100, kind=RewardKind.TEAM, stock=2)
        db.session.commit()
        from app.services import team_rewards

        team_rewards.pledge(fox, dinner.id, 30, "f")
        team_rewards.pledge(ghost, dinner.id, 10, "g")
        db.session.commit()
        ids = {"me": me.id, "dinner": dinner.id}
        db.session.refresh(me)
        db.session.expunge(me)
    sign_in(client, me)
    return ids


def test_the_catalogue_shows_progress_and_pledgers_as_they_appear(client, team_setup):
    page = client.get("/rewards").get_data(as_text=True)
    assert "Team reward" in page
    assert 'data-pledged="40"' in page
    assert "60 to go" in page
    assert "Fox (30)" in page
    assert "1 person not shown on boards" in page
    assert "Real Name" not in page
    assert "Ghost Person" not in page
    assert '<progress class="home-progress" max="100" value="40"' in page


def test_pledge_twice_with_one_form_is_one_pledge_then_withdraw(app, client, team_setup):
    dinner = team_setup["dinner"]
    key = _pledge_key(client.get("/rewards").get_data(as_text=True), dinner)
    for _ in range(2):
        response = _post(
            client, f"/rewards/{dinner}/pledge", {"points": "25", "idempotency_key": key}
        )
        assert response.status_code == 302
    page = client.get("/rewards").get_data(as_text=True)
    assert "You pledged toward Team dinner already; nothing changed." in page
    assert "You (25)" in page
    assert re.search(r'data-points="spendable">75<', page)
    with app.app_context():
        mine = db.session.scalar(select(Pledge.id).where(Pledge.employee_id == team_setup["me"]))
        assert count(Pledge) == 3
    assert "Withdraw my pledge of 25 points" in page
    assert _post(client, f"/me/pledges/{mine}/withdraw").status_code == 302
    with app.app_context():
        assert db.session.get(Pledge, mine).state == PledgeState.REFUNDED
        assert ledger.balance(team_setup["me"]).spendable == 100


def test_completing_the_funding_sends_it_to_hrs_queue(app, client, login, team_setup):
    dinner = team_setup["dinner"]
    key = _pledge_key(client.get("/rewards").get_data(as_text=True), dinner)
    done = _post(client, f"/rewards/{dinner}/pledge", {"points": "500", "idempotency_key": key})
    assert done.status_code == 302
    page = client.get("/rewards").get_data(as_text=True)
    assert "You pledged 60 points and completed your team" in page
    assert 'data-funding-state="funded"' in page
    with app.app_context():
        funding_id = db.session.scalar(select(TeamFunding.id))
        assert db.session.get(Reward, dinner).stock == 1
    login(Role.HR)
    queue = client.get("/redemptions").get_data(as_text=True)
    assert "Team rewards to fulfil" in queue
    assert "Team reward for Platform" in queue
    assert _post(client, f"/team-fundings/{funding_id}/fulfil").status_code == 302
    with app.app_context():
        assert db.session.get(TeamFunding, funding_id).state == FundingState.FULFILLED
    assert "Team reward for Platform" not in client.get("/redemptions").get_data(as_text=True)


@pytest.mark.parametrize("points", ["", "ten", "0", "-5", "1.5"])
def test_bad_points_are_a_readable_page_and_change_nothing(app, client, team_setup, points):
    dinner = team_setup["dinner"]
    response = _post(
        client, f"/rewards/{dinner}/pledge", {"points": points, "idempotency_key": "k"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Pledge a whole number of points above 0." in page
    assert 'aria-invalid="true"' in page
    with app.app_context():
        assert count(Pledge) == 2


def test_more_than_i_can_spend_is_refused_in_words(app, client, team_setup):
    dinner = team_setup["dinner"]
    with app.app_context():
        LedgerLineFactory(employee_id=team_setup["me"], points=-95)
    response = _post(client, f"/rewards/{dinner}/pledge", {"points": "20", "idempotency_key": "k"})
    assert response.status_code == 409
    assert "You can spend 5 points, not 20." in response.get_data(as_text=True)
    with app.app_context():
        assert count(Pledge) == 2


def test_hr_can_choose_the_team_kind(client, login):
    login(Role.HR)
    form = client.get("/rewards/new").get_data(as_text=True)
    assert 'value="team"' in form
    assert "Team reward: a team funds it together" in form
