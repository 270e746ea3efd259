"""My profile: networks, interests, presence, data export and erasure."""

from __future__ import annotations

import json

import pytest

from app.extensions import db
from app.models import Employee, Role
from scoring.participation import Network, Presence
from tests.conftest import csrf_token
from tests.factories import EmployeeFactory, EmployeeNetworkFactory, InterestFactory


def _reload(employee_id: int) -> Employee:
    db.session.expire_all()
    return db.session.get(Employee, employee_id)


def _post(client, path: str, data: dict):
    return client.post(path, data={"csrf_token": csrf_token(client, "/me"), **data})


def test_profile_shows_who_i_am(app, client, login):
    me = login(name="Aylin Demir")
    with app.app_context():
        team = _reload(me.id).team.name
    page = client.get("/me").get_data(as_text=True)
    assert "<h1>My profile</h1>" in page
    assert "Aylin Demir" in page
    assert team in page
    assert "Not taking part" in page
    assert 'aria-current="page">My profile' in page
    for label in ("LinkedIn", "X", "Facebook", "XING", "Instagram"):
        assert f">{label}</label>" in page


def test_networks_are_saved(app, client, login):
    me = login()
    response = _post(
        client,
        "/me/networks",
        {
            "network_linkedin": "on",
            "handle_linkedin": " lena-h ",
            "audience_linkedin": "480",
            "network_xing": "on",
            "handle_xing": "",
            "audience_xing": "",
            "handle_x": "ignored-when-unticked",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        links = {n.network: (n.handle, n.audience_size) for n in _reload(me.id).networks}
    assert links == {Network.LINKEDIN: ("lena-h", 480), Network.XING: (None, None)}
    page = client.get("/me").get_data(as_text=True)
    assert "Your networks are saved." in page
    assert 'value="lena-h"' in page


@pytest.mark.parametrize(
    ("audience", "problem"),
    [("-5", "Must be greater than or equal to 0"), ("many", "Not a valid integer."), ("1.5", "")],
)
def test_bad_network_input_changes_nothing(app, client, login, audience, problem):
    me = login()
    with app.app_context():
        EmployeeNetworkFactory(employee=_reload(me.id), network=Network.X, audience_size=10)
    response = _post(
        client,
        "/me/networks",
        {"network_linkedin": "on", "handle_linkedin": "typed", "audience_linkedin": audience},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="audience_linkedin-error"' in page
    assert problem in page
    assert 'value="typed"' in page  # what was typed stays in the form
    with app.app_context():
        links = {n.network: n.audience_size for n in _reload(me.id).networks}
    assert links == {Network.X: 10}


def test_interests_are_saved(app, client, login):
    me = login()
    with app.app_context():
        first, second = InterestFactory(name="Careers").id, InterestFactory(name="Energy").id
    assert "Careers" in client.get("/me").get_data(as_text=True)
    response = _post(client, "/me/interests", {"interest_ids": [str(first), str(second)]})
    assert response.status_code == 302
    with app.app_context():
        assert {i.id for i in _reload(me.id).interests} == {first, second}
    response = _post(client, "/me/interests", {})
    with app.app_context():
        assert _reload(me.id).interests == []


@pytest.mark.parametrize("bad", ["999999", "abc"])
def test_unknown_interests_change_nothing(app, client, login, bad):
    me = login()
    with app.app_context():
        interest = InterestFactory()
        employee = _reload(me.id)
        employee.interests = [interest]
        db.session.commit()
        kept = interest.id
    response = _post(client, "/me/interests", {"interest_ids": [bad]})
    assert response.status_code == 422
    assert 'id="interests-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert [i.id for i in _reload(me.id).interests] == [kept]


def test_presence_is_saved_and_previewed(app, client, login):
    me = login(name="Jonas Becker", opted_in=True)
    page = client.get("/me").get_data(as_text=True)
    assert "data-presence-preview>Jonas Becker<" in page
    response = _post(client, "/me/presence", {"presence": "pseudonym", "pseudonym": "Wind Rider"})
    assert response.status_code == 302
    with app.app_context():
        employee = _reload(me.id)
        assert (employee.presence, employee.pseudonym) == (Presence.PSEUDONYM, "Wind Rider")
    assert "data-presence-preview>Wind Rider<" in client.get("/me").get_data(as_text=True)
    _post(client, "/me/presence", {"presence": "hidden", "pseudonym": ""})
    page = client.get("/me").get_data(as_text=True)
    assert "data-presence-preview>nobody, you are hidden<" in page


@pytest.mark.parametrize(
    ("data", "status", "field", "problem"),
    [
        ({"presence": "pseudonym", "pseudonym": ""}, 422, "pseudonym", "Choose a pseudonym"),
        ({"presence": "pseudonym", "pseudonym": "x"}, 422, "pseudonym", "3 to 40"),
        ({"presence": "pseudonym", "pseudonym": "<b>bad</b>"}, 422, "pseudonym", "3 to 40"),
        ({"presence": "pseudonym", "pseudonym": "taken one"}, 409, "pseudonym", "Someone else"),
        ({"presence": "famous"}, 422, "presence", "Must be one of"),
        ({}, 422, "presence", "Choose how you appear"),
    ],
)
def test_bad_presence_changes_nothing(app, client, login, data, status, field, problem):
    me = login()
    with app.app_context():
        EmployeeFactory(pseudonym="Taken One", presence=Presence.PSEUDONYM)
    response = _post(client, "/me/presence", data)
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert problem in page
    with app.app_context():
        employee = _reload(me.id)
        assert (employee.presence, employee.pseudonym) == (Presence.NAMED, None)


def test_export_downloads_my_data_as_json(client, login):
    me = login(name="Clara Fischer")
    response = client.get("/me/export")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.get_data(as_text=True))
    assert data["profile"]["id"] == me.id
    assert data["profile"]["name"] == "Clara Fischer"


def test_erase_needs_my_email_typed_again(app, client, login):
    me = login()
    page = client.get("/me/erase").get_data(as_text=True)
    assert "Type your e-mail address to confirm" in page
    response = _post(client, "/me/erase", {"confirm_email": "someone.else@example.com"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="confirm_email-error"' in page
    assert 'value="someone.else@example.com"' in page
    with app.app_context():
        employee = _reload(me.id)
        assert employee.erased_at is None
        assert employee.email == me.email


def test_erase_removes_my_data_and_signs_me_out(app, client, login):
    me = login(opted_in=True)
    response = _post(client, "/me/erase", {"confirm_email": me.email.upper()})
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"
    with app.app_context():
        employee = _reload(me.id)
        assert employee.erased_at is not None
        assert employee.email != me.email
        assert not employee.participating
    assert client.get("/me").status_code == 302  # signed out
    assert "Your personal data was erased" in client.get("/sign-in").get_data(as_text=True)


def test_after_erasure_no_challenge_page_names_me_and_its_results_still_verify(app, client, login):
    from datetime import timedelta

    from app.models import Challenge, utcnow
    from app.services import challenge_settlement
    from tests.factories import ChallengeFactory, EventFactory, TeamFactory

    with app.app_context():
        team = TeamFactory(name="Orange")
        db.session.commit()
        team_id = team.id
    me = login(name="Ingrid Winner", pseudonym="Iggy", opted_in=True, team_id=team_id)
    with app.app_context():
        other = EmployeeFactory(name="Rolf Second", opted_in=True, team_id=team_id)
        now = utcnow()
        done = ChallengeFactory(
            title="Winter sprint",
            starts_at=now - timedelta(days=6),
            ends_at=now - timedelta(days=3),
        )
        at = done.starts_at + timedelta(hours=1)
        for who, shares in ((me.id, 2), (other.id, 1)):
            for i in range(shares):
                moment = at + timedelta(seconds=i)
                EventFactory(
                    employee_id=who,
                    team_id=team_id,
                    occurred_at=moment,
                    created_at=moment,
                    scored_at=moment,
                )
        assert challenge_settlement.settle_challenge(done.id)
        db.session.commit()
        done_id = done.id
    assert "Ingrid Winner" in client.get(f"/challenges/{done_id}").get_data(as_text=True)

    response = _post(client, "/me/erase", {"confirm_email": me.email})
    assert response.status_code == 302

    login(Role.HR, team_id=team_id)
    page = client.get(f"/challenges/{done_id}").get_data(as_text=True)
    assert "Rolf Second" in page
    for mine in ("Ingrid", "Iggy", "Former employee"):
        assert mine not in page
    assert "the stored results match it" in page
    with app.app_context():
        assert challenge_settlement.verify_digest(db.session.get(Challenge, done_id))


def test_the_last_admin_cannot_erase_themselves(app, client, login):
    me = login(Role.ADMIN)
    response = _post(client, "/me/erase", {"confirm_email": me.email})
    assert response.status_code == 409
    assert "at least one active admin" in response.get_data(as_text=True)
    with app.app_context():
        assert _reload(me.id).erased_at is None


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/me/networks", {"network_linkedin": "on"}),
        ("/me/interests", {}),
        ("/me/presence", {"presence": "hidden"}),
        ("/me/erase", {"confirm_email": "x"}),
    ],
)
def test_profile_forms_need_the_csrf_token(app, client, login, path, data):
    me = login()
    if path == "/me/erase":
        data = {"confirm_email": me.email}
    assert client.post(path, data=data).status_code == 400
    with app.app_context():
        employee = _reload(me.id)
        assert employee.networks == []
        assert employee.presence is Presence.NAMED
        assert employee.erased_at is None


@pytest.mark.parametrize("path", ["/me", "/me/erase", "/me/export"])
def test_profile_pages_need_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")


@pytest.mark.parametrize("role", list(Role))
def test_every_role_has_a_profile(client, login, role):
    login(role)
    assert client.get("/me").status_code == 200
