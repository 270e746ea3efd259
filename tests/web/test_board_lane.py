"""The board reads' fast lane: it answers exactly as the full routes would, and leaves to
them whatever it cannot answer that way."""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.test import EnvironBuilder

from app.api.leaderboards import BoardReads, board_query
from app.extensions import db
from app.fast_paths import FastPaths
from app.models import ApiToken, Employee
from app.services import people, tokens
from scoring.vocabulary import EventKind
from tests.conftest import sql_statements
from tests.web.api_support import bearer_for
from tests.web.points_support import add_event, new_people, new_team, settle, setup_company


@pytest.fixture
def board(app: Flask, run_jobs) -> dict:
    """A team of three with points, a token for one of them, known to Redis."""
    setup_company(app)
    team = new_team(app, "Red")
    people_ids = new_people(app, 3, team_id=team)
    for times, person in enumerate(people_ids, start=1):
        for _ in range(times):
            add_event(app, person, EventKind.SHARE)
    settle(app, run_jobs)
    caller = bearer_for(app, people_ids[0])
    assert caller.get("/api/v1/leaderboards/company").status_code == 200  # Redis knows it
    return {"team": team, "people": people_ids, "caller": caller}


def lane_answer(
    app: Flask, caller, path: str, headers: dict | None = None, method: str = "GET"
) -> tuple[str, dict, bytes] | None:
    """What the lane answers by itself, or None when it hands the request on."""
    handed_on = []
    lane = FastPaths(app, lambda env, start: handed_on.append(env) or [b""], [BoardReads(app)])
    answer: dict = {}
    headers = {**caller.headers, **(headers or {})}
    builder = EnvironBuilder(path=path, method=method, headers=headers)
    body = b"".join(
        lane(builder.get_environ(), lambda status, headers: answer.update(status=status, h=headers))
    )
    if handed_on:
        return None
    return answer["status"], dict(answer["h"]), body


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/leaderboards/company",
        "/api/v1/leaderboards/company?window=all_time&limit=2&offset=1",
        "/api/v1/leaderboards/company?window=month&around_me=true&limit=1",
        "/api/v1/leaderboards/company?window=week&limit=5&limit=1&unknown=1",
        "/api/v1/leaderboards/my-team?window=all_time",
        "/api/v1/leaderboards/teams/{team}?window=month",
    ],
)
def test_the_lane_answers_as_the_full_route_would(app: Flask, board, path):
    path = path.format(team=board["team"])
    status, headers, body = lane_answer(app, board["caller"], path)
    # A cookie sends the call down the full route, where the session would be checked.
    full = board["caller"].get(path, headers={"Cookie": "theme=dark"})
    assert (status, full.status_code) == ("200 OK", 200)
    assert app.json.loads(body) == full.json
    assert headers["Content-Type"] == full.headers["Content-Type"] == "application/json"
    assert int(headers["Content-Length"]) == len(body)
    assert headers["X-Request-ID"]


def test_the_lane_asks_no_database_for_a_board_whose_names_redis_knows(app: Flask, board):
    with sql_statements(app) as statements:
        answer = lane_answer(app, board["caller"], "/api/v1/leaderboards/company")
    assert answer is not None
    assert statements == []


@pytest.mark.parametrize(
    ("path", "environ"),
    [
        ("/api/v1/leaderboards/company", {"headers": {"Cookie": "session=x"}}),
        ("/api/v1/leaderboards/company", {"method": "HEAD"}),
        ("/api/v1/leaderboards/company?limit=0", {}),
        ("/api/v1/leaderboards/company?window=day", {}),
        ("/api/v1/leaderboards/company?window=month&period=2026-13", {}),
        ("/api/v1/leaderboards/teams/987654", {}),
        ("/api/v1/leaderboards/nowhere", {}),
        ("/api/v1/me/points", {}),
    ],
)
def test_the_lane_hands_on_what_it_cannot_answer_itself(app: Flask, board, path, environ):
    assert lane_answer(app, board["caller"], path, **environ) is None


def test_a_token_redis_does_not_know_takes_the_full_route_which_fills_the_cache(app: Flask, board):
    caller = bearer_for(app, board["people"][1])
    assert lane_answer(app, caller, "/api/v1/leaderboards/company") is None
    assert caller.get("/api/v1/leaderboards/company").status_code == 200
    assert lane_answer(app, caller, "/api/v1/leaderboards/company") is not None


@pytest.mark.parametrize("change", ["revoke", "deactivate", "erase"])
def test_a_changed_token_or_owner_leaves_the_lane_at_once(app: Flask, board, change):
    caller = board["caller"]
    with app.app_context():
        owner = db.session.get(Employee, caller.employee_id)
        if change == "revoke":
            tokens.revoke_token(None, db.session.query(ApiToken).filter_by(owner=owner).one())
        elif change == "deactivate":
            people.update_employee(None, owner, {"active": False})
        else:
            owner.erased_at = db.func.now()
        db.session.commit()
    assert lane_answer(app, caller, "/api/v1/leaderboards/company") is None
    assert caller.get("/api/v1/leaderboards/company").status_code == 401


def test_queries_are_read_once_per_string_and_cannot_be_changed(app: Flask):
    board_query.cache_clear()
    first = board_query("window=month&limit=5")
    assert board_query("window=month&limit=5") is first
    assert board_query.cache_info().hits == 1
    assert dict(first) == {
        "window": "month",
        "period": None,
        "offset": 0,
        "limit": 5,
        "around_me": False,
    }
    with pytest.raises(TypeError):
        first["limit"] = 100  # type: ignore[index]
    assert board_query("limit=500") is None
