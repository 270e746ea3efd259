"""GET /api/v1/leaderboards/...: fair ranks, names as chosen, own points always."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from app.extensions import db
from app.jobs import rebuild_boards
from app.models import Employee, utcnow
from app.services import participation
from scoring.participation import Presence
from scoring.vocabulary import EventKind
from scoring.windows import Window, window_key
from tests.web.api_support import anonymous, bearer_for
from tests.web.points_support import (
    ZONE,
    add_event,
    last_month,
    last_week,
    new_people,
    new_team,
    settle,
    setup_company,
)


@pytest.fixture
def company(app: Flask) -> None:
    setup_company(app)


def rows(response) -> list[tuple]:
    return [(r["rank"], r["name"], r["points"], r["is_me"]) for r in response.json["rows"]]


def names(app: Flask, *ids: int) -> list[str]:
    with app.app_context():
        return [db.session.get(Employee, i).name for i in ids]


@pytest.fixture
def fifty_fifty_thirty(app: Flask, company, run_jobs) -> list[int]:
    """Three people: the later id reaches 50 first, then the earlier, then 30."""
    first, second, third = new_people(app, 3)
    start = utcnow() - timedelta(hours=3)
    add_event(app, second, EventKind.REFERRAL_INTERVIEWED, start)
    add_event(app, first, EventKind.REFERRAL_INTERVIEWED, start + timedelta(hours=1))
    add_event(app, third, EventKind.REFERRAL_APPLIED, start)
    add_event(app, third, EventKind.SHARE, start + timedelta(minutes=5))
    settle(app, run_jobs)
    return [first, second, third]


def test_ties_share_a_rank_and_the_earlier_achiever_comes_first(app: Flask, fifty_fifty_thirty):
    first, second, third = fifty_fifty_thirty
    first_name, second_name, third_name = names(app, first, second, third)
    response = bearer_for(app, third).get("/api/v1/leaderboards/company?window=all_time")
    assert response.status_code == 200
    assert rows(response) == [
        (1, second_name, 50, False),
        (1, first_name, 50, False),
        (3, third_name, 30, True),
    ]
    body = response.json
    assert body["me"] == {"rank": 3, "points": 30, "on_board": True}
    assert (body["scope"], body["window"], body["period"], body["size"], body["offset"]) == (
        "company",
        "all_time",
        "all",
        3,
        0,
    )
    assert (body["team"], body["starts_at"], body["ends_at"]) == (None, None, None)


def test_a_hidden_person_leaves_no_gap_and_still_sees_their_points(
    app: Flask, fifty_fifty_thirty, run_jobs
):
    (hidden,) = new_people(app, presence=Presence.HIDDEN)
    (masked,) = new_people(app, presence=Presence.PSEUDONYM, pseudonym="Night Owl")
    add_event(app, hidden, EventKind.REFERRAL_APPLIED)  # 25: would rank 4th
    add_event(app, masked, EventKind.SHARE)
    settle(app, run_jobs)
    seen = bearer_for(app, masked).get("/api/v1/leaderboards/company?window=all_time")
    assert [row[0] for row in rows(seen)] == [1, 1, 3, 4]
    assert rows(seen)[-1] == (4, "Night Owl", 5, True)
    assert seen.json["size"] == 4
    own = bearer_for(app, hidden).get("/api/v1/leaderboards/company?window=all_time").json
    assert own["me"] == {"rank": None, "points": 25, "on_board": False}
    assert [row["is_me"] for row in own["rows"]] == [False] * 4


def test_an_opted_out_person_is_off_the_board_but_sees_their_points(
    app: Flask, fifty_fifty_thirty, run_jobs
):
    (gone,) = new_people(app)
    add_event(app, gone, EventKind.REFERRAL_HIRED)  # 200: would lead
    settle(app, run_jobs)
    with app.app_context():
        participation.opt_out(db.session.get(Employee, gone))
        db.session.commit()
    run_jobs()  # the member sync the opt-out sent
    body = bearer_for(app, gone).get("/api/v1/leaderboards/company?window=all_time").json
    assert [row["points"] for row in body["rows"]] == [50, 50, 30]
    assert body["me"] == {"rank": None, "points": 200, "on_board": False}


def test_around_me_starts_half_a_page_above(app: Flask, company, run_jobs):
    people = new_people(app, 8)
    at = utcnow() - timedelta(hours=1)
    for i, person in enumerate(people):
        for n in range(8 - i):
            add_event(app, person, EventKind.CLICK, at + timedelta(seconds=n))
    settle(app, run_jobs)
    caller = bearer_for(app, people[6])
    body = caller.get("/api/v1/leaderboards/company?window=all_time&limit=4&around_me=true").json
    assert [row["rank"] for row in body["rows"]] == [5, 6, 7, 8]
    assert [row["is_me"] for row in body["rows"]] == [False, False, True, False]
    assert (body["offset"], body["size"], body["me"]["rank"]) == (4, 8, 7)
    top = caller.get("/api/v1/leaderboards/company?window=all_time&limit=3&offset=1").json
    assert [row["rank"] for row in top["rows"]] == [2, 3, 4]
    # Someone off the board asking for "around me" gets the top of the board.
    (newcomer,) = new_people(app)
    fresh = bearer_for(app, newcomer).get(
        "/api/v1/leaderboards/company?window=all_time&limit=2&around_me=true"
    )
    assert [row["rank"] for row in fresh.json["rows"]] == [1, 2]
    assert fresh.json["me"] == {"rank": None, "points": 0, "on_board": False}


def test_the_default_is_this_week(app: Flask, company, run_jobs):
    (alice,) = new_people(app)
    _, in_last_week = last_week()
    add_event(app, alice, EventKind.SHARE, in_last_week)
    add_event(app, alice, EventKind.CLICK)
    settle(app, run_jobs)
    body = bearer_for(app, alice).get("/api/v1/leaderboards/company").json
    assert body["window"] == "week"
    assert body["period"].startswith("w")
    assert body["starts_at"] < utcnow().isoformat() < body["ends_at"]
    assert body["me"] == {"rank": 1, "points": 1, "on_board": True}


def test_finished_windows_stay_readable(app: Flask, company, run_jobs):
    (alice,) = new_people(app)
    month, in_last_month = last_month()
    add_event(app, alice, EventKind.SHARE, in_last_month)
    week, in_last_week = last_week()
    add_event(app, alice, EventKind.REFERRAL_APPLIED, in_last_week)
    settle(app, run_jobs)
    caller = bearer_for(app, alice)
    finished = caller.get(f"/api/v1/leaderboards/company?window=month&period={month}").json
    # In a month's first days, last week lies in last month too.
    in_that_month = 5 + (25 if window_key(Window.MONTH, in_last_week, ZONE) == month else 0)
    assert (finished["period"], finished["me"]["points"], finished["me"]["rank"]) == (
        month,
        in_that_month,
        1,
    )
    assert finished["starts_at"] < in_last_month.isoformat() < finished["ends_at"]
    past_week = caller.get(f"/api/v1/leaderboards/company?window=week&period={week}").json
    assert (past_week["period"], past_week["me"]["points"]) == (week, 25)
    assert caller.get("/api/v1/leaderboards/company?window=all_time").json["me"]["points"] == 30


def test_team_boards_count_points_for_the_team_at_the_time(app: Flask, company, run_jobs):
    red, blue = new_team(app, "Red"), new_team(app, "Blue")
    (mover,) = new_people(app, team_id=red)
    (stayer,) = new_people(app, team_id=blue)
    add_event(app, mover, EventKind.REFERRAL_APPLIED)
    # The stayer reaches 5 first; the mover, with the lower id, reaches it later.
    add_event(app, stayer, EventKind.SHARE, utcnow() - timedelta(minutes=5))
    settle(app, run_jobs)
    with app.app_context():  # moving to Blue leaves past points with Red
        db.session.get(Employee, mover).team_id = blue
        db.session.commit()
    add_event(app, mover, EventKind.SHARE)
    settle(app, run_jobs)
    caller = bearer_for(app, mover)
    mine = caller.get("/api/v1/leaderboards/my-team?window=all_time").json
    assert (mine["scope"], mine["team"]) == ("team", {"id": blue, "name": "Blue"})
    assert [(row["points"], row["is_me"]) for row in mine["rows"]] == [(5, False), (5, True)]
    red_board = caller.get(f"/api/v1/leaderboards/teams/{red}?window=all_time").json
    assert red_board["team"] == {"id": red, "name": "Red"}
    assert [(row["points"], row["is_me"]) for row in red_board["rows"]] == [(25, True)]
    assert red_board["me"] == {"rank": 1, "points": 25, "on_board": True}


def test_unknown_teams_and_people_without_a_team_get_404(app: Flask, company):
    (loner,) = new_people(app, team=None)
    caller = bearer_for(app, loner)
    response = caller.get("/api/v1/leaderboards/my-team")
    assert response.status_code == 404
    assert response.json["errors"] == {"team_id": ["No such team."]}
    assert caller.get("/api/v1/leaderboards/teams/999999").status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("window=day", "window"),
        ("window=year", "window"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("around_me=perhaps", "around_me"),
        ("window=month&period=October", "period"),
        ("window=week&period=2026-10", "period"),
        ("window=all_time&period=2026-10", "period"),
    ],
)
def test_bad_queries_are_422_naming_the_field(app: Flask, company, query: str, field: str):
    (alice,) = new_people(app)
    response = bearer_for(app, alice).get(f"/api/v1/leaderboards/company?{query}")
    assert response.status_code == 422
    assert list(response.json["errors"]) == [field]
    assert response.json["code"] == 422


def test_boards_need_a_signed_in_caller(app: Flask):
    response = anonymous(app).get("/api/v1/leaderboards/company")
    assert response.status_code == 401


def test_a_tie_reached_in_one_moment_lists_the_lowest_id_first_everywhere(
    app: Flask, company, run_jobs
):
    """Ids 8, 9 and 10 reach 25 at the same moment: 8, 9, 10 on every board and window,
    in pages and around me, by the fast path and by the full route, and after a rebuild."""
    team = new_team(app, "Red")
    ids = [new_people(app, id=member, team_id=team)[0] for member in (10, 9, 8)]
    moment = utcnow() - timedelta(minutes=10)
    for member in ids:
        add_event(app, member, EventKind.REFERRAL_APPLIED, moment)
    settle(app, run_jobs)
    caller = bearer_for(app, 9)

    def listed(path: str, **headers) -> tuple[list[tuple[int, int]], list[bool]]:
        response = caller.get(path, headers=headers)
        assert response.status_code == 200
        return [(row["rank"], row["points"]) for row in response.json["rows"]], [
            row["is_me"] for row in response.json["rows"]
        ]

    expected = ([(1, 25), (1, 25), (1, 25)], [False, True, False])  # 8, then 9 (me), 10
    for scope in ("company", f"teams/{team}"):
        for window in ("all_time", "month", "week"):
            path = f"/api/v1/leaderboards/{scope}?window={window}"
            assert listed(path) == expected, path
            assert listed(path, Cookie="theme=dark") == expected, path  # the full route
            assert listed(path + "&limit=1&offset=1") == ([(1, 25)], [True])
            assert listed(path + "&limit=2&around_me=true") == (expected[0][:2], [False, True])
    with app.app_context():
        rebuild_boards()
    assert listed("/api/v1/leaderboards/company?window=all_time") == expected
