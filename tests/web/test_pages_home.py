"""The employee's home: where they stand on every board (the same figures the boards'
page and API show), the change since the week began, points this week, shares left
today and the newest content; and where people who do not take part are sent."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.extensions import db, get_redis
from app.models import Challenge, Employee, Role, Team, utcnow
from app.services import challenge_standings
from app.services.home_ranks import ensure_snapshot
from scoring.challenges import ChallengeState
from scoring.participation import Presence
from scoring.vocabulary import Channel, EventKind
from scoring.windows import Window, window_start
from tests.conftest import sql_statements
from tests.factories import (
    BadgeFactory,
    ChallengeAwardFactory,
    ChallengeFactory,
    ChallengePlacingFactory,
    ContentItemFactory,
    EmployeeFactory,
    EventFactory,
    LessonCompletionFactory,
    LessonFactory,
    SharePolicyFactory,
)
from tests.web.api_support import bearer_for, session_for
from tests.web.points_pages_support import give, install_company, recently, settle
from tests.web.points_support import ZONE

WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|UPSERT)\b", re.IGNORECASE)
BOARDS = [
    (scope, window) for scope in ("company", "team") for window in ("all_time", "month", "week")
]


def places(page: str) -> dict[str, tuple[str, int]]:
    """board -> (rank shown, or "" when none; points shown)."""
    found = re.findall(
        r'data-board="(\w+-\w+)".*?data-rank="(\d*)".*?data-points="(-?\d+)"', page, re.S
    )
    return {board: (rank, int(points)) for board, rank, points in found}


def changes(page: str) -> dict[str, str]:
    """board -> the change mark's words ("" when none is shown)."""
    result = {}
    for board, body in re.findall(r'data-board="(\w+-\w+)"(.*?)</dd>', page, re.S):
        words = re.search(r'class="visually-hidden">([^<]+)</span></span>', body)
        result[board] = words.group(1) if words else ""
    return result


def test_signed_out_people_go_to_sign_in_and_others_to_the_guidelines(client, login):
    assert client.get("/").headers["Location"] == "/sign-in"
    login()
    assert client.get("/").headers["Location"] == "/guidelines"


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.TEAM_LEAD, Role.HR, Role.ADMIN])
def test_every_role_that_takes_part_has_a_home(app, client, login, role):
    with app.app_context():
        install_company()
    login(role, opted_in=True)
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'aria-current="page">Home' in page
    for card in ("boards", "week", "shares", "content"):
        assert f'data-home="{card}"' in page
    assert 'href="/feed"' in page  # the feed stays one tap away
    assert 'href="/leaderboards"' in page


def test_ranks_and_points_are_the_boards_own_with_ties_on_every_board(app, client, login):
    me = login(Role.EMPLOYEE, name="Berta Me", opted_in=True)
    with app.app_context():
        install_company()
        team = db.session.get(Team, me.team_id)
        first = EmployeeFactory(name="Anna Early", team=team, opted_in=True)
        give(first, 50, at=recently(3))
        give(EmployeeFactory(name="Carl Third", team=team, opted_in=True), 30)
        give(EmployeeFactory(name="Olga Other", opted_in=True), 70)  # another team
        give(me, 50, at=recently(1))
        settle()
    page = client.get("/").get_data(as_text=True)
    shown = places(page)
    assert set(shown) == {f"{s}-{w}" for s, w in BOARDS}
    api = bearer_for(app, me.id)
    for scope, window in BOARDS:
        path = "company" if scope == "company" else "my-team"
        body = api.get(f"/api/v1/leaderboards/{path}?window={window}").json["me"]
        assert shown[f"{scope}-{window}"] == (str(body["rank"]), body["points"])
        board = client.get(f"/leaderboards?scope={scope}&window={window}").get_data(as_text=True)
        assert f"You: rank {body['rank']} with {body['points']} points." in board
    # A tie shares a rank: 50 and 50 are both first in the team, second in the company.
    assert shown["team-all_time"] == ("1", 50)
    assert shown["company-all_time"] == ("2", 50)
    assert "data-points-this-week>50<" in page


def test_a_hidden_person_sees_their_own_points_and_no_rank(app, client, login):
    with app.app_context():
        install_company()
        give(EmployeeFactory(opted_in=True), 10)
    me = login(Role.EMPLOYEE, presence=Presence.HIDDEN, opted_in=True)
    with app.app_context():
        give(me, 42)
        settle()
    page = client.get("/").get_data(as_text=True)
    assert "data-home-hidden" in page
    shown = places(page)
    assert {board: rank for board, (rank, _points) in shown.items()} == {
        f"{s}-{w}": "" for s, w in BOARDS
    }
    assert shown["company-all_time"] == ("", 42)
    assert shown["company-week"] == ("", 42)
    body = bearer_for(app, me.id).get("/api/v1/leaderboards/company?window=all_time").json
    assert body["me"] == {"rank": None, "points": 42, "on_board": False}


def test_the_change_since_the_week_began(app, client, login):
    me = login(Role.EMPLOYEE, name="Berta Me", opted_in=True)
    with app.app_context():
        install_company()
        team = db.session.get(Team, me.team_id)
        last_week = window_start(Window.WEEK, utcnow(), ZONE) - timedelta(days=2)
        anna = EmployeeFactory(name="Anna", team=team, opted_in=True)
        give(anna, 100, at=last_week)
        give(me, 10, at=last_week)
        give(me, 200)  # this week: from second to first
        give(EmployeeFactory(name="Carl New", team=team, opted_in=True), 500)  # new this week
        settle()

    # Before the ranks of the week's start are kept, no change is claimed.
    page = client.get("/").get_data(as_text=True)
    assert set(changes(page).values()) == {""}

    with app.app_context():
        assert ensure_snapshot() is True
        assert ensure_snapshot() is False  # kept once a week
    page = client.get("/").get_data(as_text=True)
    shown, moved = places(page), changes(page)
    assert shown["company-all_time"] == ("2", 210)  # Carl 500, me 210, Anna 100
    assert moved["company-all_time"] == "same place as last week"  # 2nd then, 2nd now
    assert moved["team-all_time"] == "same place as last week"
    # Last week's final board: Anna 1st, me 2nd; this week: Carl, then me.
    assert moved["company-week"] == "same place as last week"

    # Carl, new on every board this week; Anna drops behind on the week board.
    with app.app_context():
        give(db.session.merge(anna), 1000)
        settle()
    page = client.get("/").get_data(as_text=True)
    moved = changes(page)
    assert moved["company-all_time"] == "down 1 place since last week"
    assert moved["company-week"] == "down 1 place since last week"


def test_up_and_new(app, client, login):
    me = login(Role.EMPLOYEE, opted_in=True)
    with app.app_context():
        install_company()
        last_week = window_start(Window.WEEK, utcnow(), ZONE) - timedelta(days=2)
        for points in (300, 200):
            give(EmployeeFactory(opted_in=True), points, at=last_week)
        give(me, 10, at=last_week)
        give(me, 250)
        settle()
        ensure_snapshot()
    moved = changes(client.get("/").get_data(as_text=True))
    assert moved["company-all_time"] == "up 1 place since last week"  # 3rd -> 2nd
    assert moved["company-week"] == "up 2 places since last week"  # 3rd last week, 1st now
    assert 'class="rank-change rank-up"' in client.get("/").get_data(as_text=True)
    # Lost Redis: no arrow at all, never a wrong one.
    with app.app_context():
        for key in get_redis().scan_iter(match="chorus:home-ranks:*"):
            get_redis().delete(key)
    moved = changes(client.get("/").get_data(as_text=True))
    assert set(moved.values()) == {""}


def test_new_on_a_board_since_the_week_began(app, client, login):
    me = login(Role.EMPLOYEE, opted_in=True)
    with app.app_context():
        install_company()
        last_week = window_start(Window.WEEK, utcnow(), ZONE) - timedelta(days=2)
        give(EmployeeFactory(opted_in=True), 300, at=last_week)
        give(me, 5)
        settle()
        ensure_snapshot()
    moved = changes(client.get("/").get_data(as_text=True))
    assert moved["company-all_time"] == "new on this board since last week"
    assert moved["company-week"] == "new on this board since last week"


def test_shares_left_today_and_the_newest_content_are_the_feeds(app, client, login):
    with app.app_context():
        install_company()
        SharePolicyFactory(per_day=3, per_week=10)
        ContentItemFactory(title="Older item", published_at=utcnow() - timedelta(days=3))
        ContentItemFactory(title="Fresh item", published_at=utcnow() - timedelta(hours=1))
    login(Role.EMPLOYEE, opted_in=True)
    page = client.get("/").get_data(as_text=True)
    assert re.search(r'data-left="today">3<', page)
    assert "10 left this week." in page
    assert page.index("Fresh item") < page.index("Older item")
    feed = client.get("/feed").get_data(as_text=True)
    assert re.search(r'data-left="today">3<', feed)


def _share(employee_id: int, at=None) -> None:
    """A share event that happened ``at`` and arrived then too."""
    employee = db.session.get(Employee, employee_id)
    moment = at or recently(2)
    EventFactory(
        kind=EventKind.SHARE,
        employee_id=employee.id,
        team_id=employee.team_id,
        channel=Channel.LINKEDIN,
        occurred_at=moment,
        created_at=moment,
    )


def test_streak_next_badge_challenges_results_and_lessons(app, client, login):
    me = login(Role.EMPLOYEE, opted_in=True)
    with app.app_context():
        install_company()
        BadgeFactory(
            slug="steady-sharer",
            name="Steady sharer",
            definition={
                "id": "steady-sharer",
                "name": "Steady sharer",
                "kind": "count",
                "measure": "shares",
                "levels": {"bronze": 3, "silver": 5, "gold": 20},
            },
        )
        rival = EmployeeFactory(opted_in=True).id
        _share(me.id)
        _share(rival)
        _share(rival)
        running = ChallengeFactory(title="Autumn shares").id
        finished = ChallengeFactory(
            title="Summer shares",
            starts_at=utcnow() - timedelta(days=20),
            ends_at=utcnow() - timedelta(days=10),
            state=ChallengeState.SETTLED,
            settled_at=utcnow() - timedelta(days=3),
            digest="0" * 64,
        ).id
        ChallengePlacingFactory(challenge_id=finished, entrant_id=me.id, rank=1, points=7)
        ChallengeAwardFactory(challenge_id=finished, employee_id=me.id, value=50)
        LessonFactory(title="Profile basics")
        LessonCompletionFactory(lesson_id=LessonFactory(title="Done already").id, employee_id=me.id)
        db.session.commit()
        settle()
        mine = challenge_standings.my_standing(
            db.session.get(Challenge, running), db.session.get(Employee, me.id)
        )
    page = client.get("/").get_data(as_text=True)

    assert "1 week running" in page
    assert 'data-next-badge="steady-sharer"' in page
    assert "1 of 3" in page
    running_line = re.search(rf'data-challenge="{running}">(.*?)</li>', page, re.S).group(1)
    assert "Autumn shares" in running_line
    assert mine.rank == 2  # the rival shared twice
    assert f'data-challenge-rank="{mine.rank}"' in running_line
    result = re.search(rf'data-result="{finished}">(.*?)</li>', page, re.S).group(1)
    assert 'data-result-rank="1"' in result
    assert "You won 50 bonus points." in result
    assert "Profile basics" in page
    assert "Done already" not in page


@pytest.mark.parametrize(
    ("role", "ranked"), [(Role.EMPLOYEE, False), (Role.TEAM_LEAD, False), (Role.HR, True)]
)
def test_a_frozen_challenge_shows_no_rank_to_employees(app, client, login, role, ranked):
    me = login(role, opted_in=True)
    with app.app_context():
        install_company()
        challenge = ChallengeFactory(
            title="Last hours",
            starts_at=utcnow() - timedelta(days=3),
            ends_at=utcnow() + timedelta(hours=2),
            freeze_hours=6,
        ).id
        _share(me.id, at=utcnow() - timedelta(days=1))
        db.session.commit()
        settle()
    page = client.get("/").get_data(as_text=True)
    line = re.search(rf'data-challenge="{challenge}"(.*?)</li>', page, re.S).group(1)
    assert ("data-frozen" in line) is not ranked
    assert ('data-challenge-rank="1"' in line) is ranked
    if not ranked:
        assert "places are hidden until the results" in line
        assert "Your points: 1." in line


def test_reading_the_home_writes_nothing(app, client, login):
    me = login(Role.EMPLOYEE, opted_in=True)
    with app.app_context():
        install_company()
        BadgeFactory()
        ChallengeFactory(title="Autumn shares")
        LessonFactory()
        ContentItemFactory()
        _share(me.id)
        db.session.commit()
        settle()
    api = session_for(app, me.id)  # a token's use is recorded: sessions read as pages do
    for read in (lambda: client.get("/"), lambda: api.get("/api/v1/me/home")):
        with sql_statements(app) as statements:
            assert read().status_code == 200
        assert statements  # the reads were seen
        assert [s for s in statements if WRITES.match(s)] == []
