"""Challenge pages: the list by phase, a challenge with its rules in words, the frozen
board (a message and no ranks for employees, live standings and a note for HR), results
with their digest, declining and taking part again, the form for team leads and HR with
the company's time zone, what is locked once started, and cancelling with a confirmation.
Bad input re-renders the form with the message and changes nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, Challenge, ChallengeDecline, Role, Team, utcnow
from app.services import challenge_settlement
from scoring.challenges import ChallengeState, Metric, Mode, ScopeKind
from tests.conftest import csrf_token
from tests.factories import (
    BadgeFactory,
    ChallengeFactory,
    CompanySettingsFactory,
    EmployeeFactory,
    EventFactory,
    TeamFactory,
)

BERLIN = ZoneInfo("Europe/Berlin")


def _post(client, path: str, data: dict | None = None):
    return client.post(path, data={"csrf_token": csrf_token(client, "/challenges"), **(data or {})})


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def red(app):
    with app.app_context():
        CompanySettingsFactory(time_zone="Europe/Berlin")
        team = TeamFactory(name="Red")
        db.session.commit()
        return team.id


def _form(**changes) -> dict:
    start = (datetime.now(BERLIN) + timedelta(days=1)).replace(second=0, microsecond=0)
    return {
        "title": "Spring sprint",
        "description": "Share the spring campaign.",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
        "metric": "shares",
        "scope": "company",
        "mode": "individual",
        "freeze_hours": "12",
        "lateness_hours": "24",
        "minimum": "0",
        "target": "",
        "tags": "",
        **changes,
    }


def test_a_team_lead_starts_one_for_their_team_in_company_time(app, client, login, red):
    with app.app_context():
        lead_team = db.session.get(Team, red)
    lead = login(Role.TEAM_LEAD, team=lead_team, opted_in=True)
    listing = client.get("/challenges").get_data(as_text=True)
    assert 'aria-current="page">Challenges' in listing
    assert "New challenge" in listing
    page = client.get("/challenges/new").get_data(as_text=True)
    assert "Your team, Red" in page
    assert 'name="scope"' not in page  # a team lead chooses no scope
    data = _form(scope="company", prize_0_kind="points", prize_0_points="30", prize_0_place="1")
    response = _post(client, "/challenges/new", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        made = db.session.scalars(select(Challenge)).one()
        assert made.scope == ScopeKind.TEAMS
        assert [t.id for t in made.teams] == [red]
        assert made.organiser_id == lead.id
        wall = datetime.strptime(data["starts_at"], "%Y-%m-%dT%H:%M").replace(tzinfo=BERLIN)
        assert made.starts_at == wall.astimezone(UTC)
        assert made.prizes == [{"kind": "points", "value": 30, "place": 1}]
        made_id = made.id
    detail = _text(client.get(f"/challenges/{made_id}").get_data(as_text=True))
    assert "1st place: 30 bonus points" in detail
    assert "Ranks are hidden for the last 12 hours" in detail
    assert "Chosen teams: Red" in detail
    assert "Europe/Berlin" in detail
    assert response.headers["Location"] == f"/challenges/{made_id}"


def test_an_employee_cannot_start_one_and_sees_no_button(app, client, login, red):
    login(Role.EMPLOYEE, opted_in=True)
    assert "New challenge" not in client.get("/challenges").get_data(as_text=True)
    assert client.get("/challenges/new").status_code == 403
    assert _post(client, "/challenges/new", _form()).status_code == 403
    assert _count(app, Challenge) == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": ""}, "This field cannot be empty."),
        ({"ends_at": ""}, "This field is required."),
        ({"starts_at": "2020-01-01T10:00"}, "The start cannot be in the past."),
        ({"freeze_hours": "999"}, "Must be greater than or equal to 0 and less than"),
        ({"scope": "team_vs_team", "mode": "team"}, "Team against team needs at least two teams."),
        (
            {"prize_0_kind": "badge", "prize_0_badge": "", "prize_0_place": "1"},
            "This field",
        ),
        (
            {
                "prize_0_kind": "points",
                "prize_0_points": "5",
                "prize_0_place": "1",
                "prize_1_kind": "points",
                "prize_1_points": "9",
                "prize_1_place": "1",
            },
            "Only one prize of a kind per place",
        ),
    ],
)
def test_bad_input_re_renders_the_form_and_changes_nothing(
    app, client, login, red, changes, message
):
    login(Role.HR)
    response = _post(client, "/challenges/new", _form(**changes))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page
    assert message in _text(page)
    assert 'value="Spring sprint"' in page or changes.get("title") == ""
    assert _count(app, Challenge) == 0
    assert _count(app, AuditEntry) == 0


def test_hr_runs_team_against_team(app, client, login, red):
    with app.app_context():
        blue = TeamFactory(name="Blue").id
        badge = BadgeFactory(name="Champions").id
    login(Role.HR)
    page = client.get("/challenges/new").get_data(as_text=True)
    assert 'name="scope"' in page
    response = client.post(
        "/challenges/new",
        data={
            **_form(
                scope="team_vs_team", mode="team", prize_0_kind="badge", prize_0_badge=str(badge)
            ),
            "team_ids": [str(red), str(blue)],
            "channels": ["linkedin"],
            "csrf_token": csrf_token(client, "/challenges"),
        },
    )
    assert response.status_code == 302, _text(response.get_data(as_text=True))
    detail = _text(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Team against team: Blue, Red" in detail
    assert "divided by its active members" in detail  # the team rule in words
    assert "Everyone who qualifies: the badge Champions" in detail
    assert "on LinkedIn" in detail


def _frozen(app, red):
    now = utcnow()
    with app.app_context():
        team = db.session.get(Team, red)
        challenge = ChallengeFactory(
            title="Final push",
            starts_at=now - timedelta(days=2),
            ends_at=now + timedelta(hours=6),
            freeze_hours=24,
        )
        ann = EmployeeFactory(name="Ann Early", team=team, opted_in=True)
        at = now - timedelta(hours=40)
        EventFactory(employee_id=ann.id, team_id=red, occurred_at=at, created_at=at, scored_at=at)
        return challenge.id, team


def test_a_frozen_board_shows_no_ranks_to_employees_and_live_ones_to_hr(app, client, login, red):
    challenge_id, team = _frozen(app, red)
    login(Role.EMPLOYEE, team=team, opted_in=True)
    page = _text(client.get(f"/challenges/{challenge_id}").get_data(as_text=True))
    assert "Ranks are hidden for the last 24 hours of the challenge; results after" in page
    assert "Ann Early" not in page
    assert "Rank 1" not in page
    assert "0 shares" in page
    hr_client = app.test_client()
    with app.app_context():
        hr = EmployeeFactory(role=Role.HR)
        db.session.refresh(hr)
        db.session.expunge(hr)
    from tests.conftest import sign_in

    sign_in(hr_client, hr)
    live = _text(hr_client.get(f"/challenges/{challenge_id}").get_data(as_text=True))
    assert "Ann Early" in live
    assert "You see the live standings." in live


def test_decline_and_take_part_again(app, client, login, red):
    challenge_id, team = _frozen(app, red)
    me = login(Role.EMPLOYEE, team=team, opted_in=True)
    page = client.get(f"/challenges/{challenge_id}").get_data(as_text=True)
    assert "Decline this challenge" in page
    response = _post(client, f"/challenges/{challenge_id}/decline")
    assert response.status_code == 302
    page = _text(client.get(f"/challenges/{challenge_id}").get_data(as_text=True))
    assert "You declined this challenge." in page
    assert "Take part again" in page
    assert _count(app, ChallengeDecline, ChallengeDecline.employee_id == me.id) == 1
    assert _post(client, f"/challenges/{challenge_id}/rejoin").status_code == 302
    assert _count(app, ChallengeDecline) == 0


def test_settled_results_show_my_prize_and_the_digest_that_holds(app, client, login, red):
    with app.app_context():
        team = db.session.get(Team, red)
    me = login(Role.EMPLOYEE, team=team, opted_in=True, name="Winner")
    with app.app_context():
        settled = ChallengeFactory(
            title="Done",
            starts_at=utcnow() - timedelta(days=9),
            ends_at=utcnow() - timedelta(days=2),
            prizes=[{"kind": "points", "value": 10, "place": 1}],
        )
        at = utcnow() - timedelta(days=5)
        EventFactory(employee_id=me.id, team_id=red, occurred_at=at, created_at=at, scored_at=at)
        assert challenge_settlement.settle_challenge(settled.id)
        db.session.commit()
        settled_id = settled.id
        digest = db.session.get(Challenge, settled_id).digest
    page = _text(client.get(f"/challenges/{settled_id}").get_data(as_text=True))
    assert digest in page
    assert "Checked just now: the stored results match it." in page
    assert "Place 1: 10 bonus points" in page
    assert "Rank 1 with 1 share." in page
    assert "Decline this challenge" not in page
    listing = client.get("/challenges").get_data(as_text=True)
    finished = listing[listing.index('data-phase="finished"') :]
    assert "Done" in finished


def test_once_started_only_some_fields_change_and_the_page_says_so(app, client, login, red):
    now = utcnow()
    with app.app_context():
        running = ChallengeFactory(
            starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=2), metric=Metric.SHARES
        ).id
    login(Role.HR)
    page = client.get(f"/challenges/{running}/edit").get_data(as_text=True)
    assert "This challenge has started." in page
    assert re.search(r'<select id="metric" name="metric"[^>]*disabled', page)
    values = {
        "title": "Renamed",
        "description": "",
        "ends_at": (now + timedelta(days=3)).astimezone(BERLIN).strftime("%Y-%m-%dT%H:%M"),
        "metric": "points",  # locked: ignored, as the disabled field would not be sent
    }
    response = _post(client, f"/challenges/{running}/edit", values)
    assert response.status_code == 302, _text(response.get_data(as_text=True))
    with app.app_context():
        row = db.session.get(Challenge, running)
        assert row.title == "Renamed"
        assert row.metric == Metric.SHARES
    earlier = (now + timedelta(days=1)).astimezone(BERLIN).strftime("%Y-%m-%dT%H:%M")
    refused = _post(client, f"/challenges/{running}/edit", {**values, "ends_at": earlier})
    assert refused.status_code == 409
    assert "Once started, the end can only move later." in _text(refused.get_data(as_text=True))


def test_cancel_asks_first_then_cancels_once(app, client, login, red):
    with app.app_context():
        team = db.session.get(Team, red)
        own = ChallengeFactory(title="Ours", scope=ScopeKind.TEAMS, teams=[team]).id
        other = ChallengeFactory(title="Company").id
    login(Role.TEAM_LEAD, team=team)
    ask = client.get(f"/challenges/{own}/cancel").get_data(as_text=True)
    assert "Yes, cancel Ours" in ask
    assert _count(app, Challenge, Challenge.state == ChallengeState.CANCELLED) == 0
    assert _post(client, f"/challenges/{own}/cancel").status_code == 302
    detail = _text(client.get(f"/challenges/{own}").get_data(as_text=True))
    assert "it has no results and gives no prizes" in detail
    again = _post(client, f"/challenges/{own}/cancel")
    assert again.status_code == 409
    assert client.get(f"/challenges/{other}/cancel").status_code == 403
    assert _post(client, f"/challenges/{other}/cancel").status_code == 403
    assert client.get(f"/challenges/{other}/edit").status_code == 403
    assert _count(app, Challenge, Challenge.state == ChallengeState.CANCELLED) == 1


def test_a_team_challenge_is_invisible_to_other_teams(app, client, login, red):
    with app.app_context():
        team = db.session.get(Team, red)
        reds = ChallengeFactory(
            title="Reds only", scope=ScopeKind.TEAMS, teams=[team], mode=Mode.INDIVIDUAL
        ).id
    login(Role.EMPLOYEE, opted_in=True)  # in a team of their own
    assert "Reds only" not in client.get("/challenges").get_data(as_text=True)
    assert client.get(f"/challenges/{reds}").status_code == 404
    assert _post(client, f"/challenges/{reds}/decline").status_code == 404
    assert _count(app, ChallengeDecline) == 0
