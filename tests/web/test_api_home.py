"""GET /api/v1/me/home: the home page's figures for clients, from the same function,
so the boards, the home page and the API never disagree."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from app.extensions import db
from app.models import Role, Team, utcnow
from app.services.home_ranks import ensure_snapshot
from scoring.participation import Presence
from scoring.windows import Window, window_start
from tests.factories import (
    ChallengeFactory,
    ContentItemFactory,
    EmployeeFactory,
    LessonFactory,
)
from tests.web.api_support import UNAUTHORIZED, anonymous, bearer_for, session_for
from tests.web.points_pages_support import give, install_company, recently, settle
from tests.web.points_support import ZONE
from tests.web.test_pages_home import _share, places

HOME = "/api/v1/me/home"


def _board(body: dict, scope: str, window: str) -> dict:
    return next(b for b in body["boards"] if (b["scope"], b["window"]) == (scope, window))


def test_signed_out_callers_are_refused(app: Flask):
    response = anonymous(app).get(HOME)
    assert response.status_code == 401
    assert response.json == UNAUTHORIZED


def test_people_who_do_not_take_part_are_told_to_opt_in(app: Flask):
    with app.app_context():
        install_company()
        someone = EmployeeFactory().id
    response = bearer_for(app, someone).get(HOME)
    assert response.status_code == 409
    assert "opt in" in response.json["message"]


def test_the_home_equals_the_boards_and_the_page(app: Flask):
    with app.app_context():
        install_company()
        me = EmployeeFactory(name="Berta Me", opted_in=True)
        team = db.session.get(Team, me.team_id)
        give(EmployeeFactory(team=team, opted_in=True), 50, at=recently(3))
        give(EmployeeFactory(team=team, opted_in=True), 30)
        give(EmployeeFactory(opted_in=True), 80)
        give(me, 50, at=recently(1))
        settle()
        me_id, team_ref = me.id, {"id": team.id, "name": team.name}
        ContentItemFactory(title="Fresh item")
        LessonFactory(title="Profile basics")
        ChallengeFactory(title="Autumn shares")
        db.session.commit()
    api = bearer_for(app, me_id)
    response = api.get(HOME)
    assert response.status_code == 200
    body = response.json
    assert len(body["boards"]) == 6
    for scope, path in (("company", "company"), ("team", "my-team")):
        for window in ("all_time", "month", "week"):
            board = api.get(f"/api/v1/leaderboards/{path}?window={window}").json
            mine = _board(body, scope, window)
            assert (mine["rank"], mine["points"], mine["size"]) == (
                board["me"]["rank"],
                board["me"]["points"],
                board["size"],
            )
    assert _board(body, "team", "all_time")["rank"] == 1  # a tie at 50 shares first place
    assert _board(body, "company", "all_time")["rank"] == 2
    assert _board(body, "team", "week")["team"] == team_ref
    assert body["points_this_week"] == 50
    assert body["hidden"] is False
    assert body["streak"] == {
        "weeks": 0,
        "longest": 0,
        "words": "Share this week to start a streak",
    }
    assert [c["title"] for c in body["newest_content"]] == ["Fresh item"]
    assert [lesson["title"] for lesson in body["new_lessons"]] == ["Profile basics"]
    assert [c["title"] for c in body["challenges"]] == ["Autumn shares"]
    assert body["allowance"]["today_left"] == 3

    page = session_for(app, me_id).client.get("/").get_data(as_text=True)
    shown = places(page)
    for board in body["boards"]:
        rank = "" if board["rank"] is None else str(board["rank"])
        assert shown[f"{board['scope']}-{board['window']}"] == (rank, board["points"])


def test_a_hidden_person_gets_their_points_and_no_rank(app: Flask):
    with app.app_context():
        install_company()
        give(EmployeeFactory(opted_in=True), 10)
        me = EmployeeFactory(presence=Presence.HIDDEN, opted_in=True)
        give(me, 42)
        settle()
        me_id = me.id
    body = bearer_for(app, me_id).get(HOME).json
    assert body["hidden"] is True
    assert {b["rank"] for b in body["boards"]} == {None}
    assert _board(body, "company", "all_time")["points"] == 42
    assert _board(body, "company", "week")["change"] == {"places": None, "new": False, "words": ""}


def test_the_change_since_the_week_began(app: Flask):
    with app.app_context():
        install_company()
        last_week = window_start(Window.WEEK, utcnow(), ZONE) - timedelta(days=2)
        for points in (300, 200):
            give(EmployeeFactory(opted_in=True), points, at=last_week)
        me = EmployeeFactory(opted_in=True)
        give(me, 10, at=last_week)
        give(me, 250)
        settle()
        me_id = me.id
    api = bearer_for(app, me_id)
    assert _board(api.get(HOME).json, "company", "all_time")["change"]["words"] == ""
    with app.app_context():
        ensure_snapshot()
    change = _board(api.get(HOME).json, "company", "all_time")["change"]
    assert change == {"places": 1, "new": False, "words": "up 1 place since last week"}


def test_a_frozen_challenge_has_no_rank_for_employees_and_a_live_one_for_hr(app: Flask):
    with app.app_context():
        install_company()
        challenge = ChallengeFactory(
            starts_at=utcnow() - timedelta(days=3),
            ends_at=utcnow() + timedelta(hours=2),
            freeze_hours=6,
        ).id
        people = {}
        for role in (Role.EMPLOYEE, Role.HR):
            person = EmployeeFactory(role=role, opted_in=True)
            _share(person.id, at=utcnow() - timedelta(days=1))
            people[role] = person.id
        db.session.commit()
        settle()
    for role, frozen in ((Role.EMPLOYEE, True), (Role.HR, False)):
        [line] = [
            c
            for c in bearer_for(app, people[role]).get(HOME).json["challenges"]
            if c["id"] == challenge
        ]
        assert line["frozen"] is frozen
        assert line["state"] == "frozen"
        assert (line["rank"] is None) is frozen
        assert line["points"] == 1
