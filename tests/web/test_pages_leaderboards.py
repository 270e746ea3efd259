"""The leaderboards page: tabs, ties, my highlighted row, around me, hidden viewers,
finished windows and bad query arguments."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Role, Team, utcnow
from scoring.participation import Presence
from tests.factories import EmployeeFactory
from tests.web.points_pages_support import give, install_company, recently, settle


def _ranks(page: str) -> list[int]:
    return [int(r) for r in re.findall(r'<td class="rank">(\d+)</td>', page)]


def _my_row(page: str) -> str:
    match = re.search(r'<tr class="is-me" aria-current="true">(.*?)</tr>', page, re.S)
    assert match, "the viewer's row is not highlighted"
    return match.group(1)


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.TEAM_LEAD, Role.HR, Role.ADMIN])
def test_every_role_reads_the_boards(app, client, login, role):
    with app.app_context():
        install_company()
    login(role, opted_in=True)
    response = client.get("/leaderboards")
    assert response.status_code == 200
    assert 'aria-current="page">Leaderboards' in response.get_data(as_text=True)


def test_signed_out_people_go_to_sign_in(client):
    response = client.get("/leaderboards")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_ties_share_a_rank_and_my_row_is_highlighted(app, client, login):
    me = login(Role.EMPLOYEE, name="Berta Me", opted_in=True)
    with app.app_context():
        install_company()
        team = db.session.get(Team, me.team_id)
        team.name = "Wind"
        first = EmployeeFactory(name="Anna Early", team=team, opted_in=True)
        give(first, 50, at=recently(3))
        third = EmployeeFactory(name="Carl Third", team=team, opted_in=True)
        give(third, 30)
        give(me, 50, at=recently(1))
        settle()

    page = client.get("/leaderboards?window=all_time").get_data(as_text=True)
    assert _ranks(page) == [1, 1, 3]
    # Within a tie the earlier achiever is listed first.
    assert page.index("Anna Early") < page.index("Berta Me") < page.index("Carl Third")
    assert "Berta Me" in _my_row(page)
    assert "You: rank 1 with 50 points." in page
    assert "3 people on this board." in page

    for window in ("week", "month"):
        page = client.get(f"/leaderboards?scope=team&window={window}").get_data(as_text=True)
        assert _ranks(page) == [1, 1, 3]
        assert "Wind ·" in page
        assert "(Europe/Berlin)" in page


def test_names_as_chosen_and_hidden_people_leave_no_gap(app, client, login):
    with app.app_context():
        install_company()
        named = EmployeeFactory(name="Nina Named", opted_in=True)
        give(named, 90)
        hidden = EmployeeFactory(name="Harald Hidden", presence=Presence.HIDDEN, opted_in=True)
        give(hidden, 80)
        pseudo = EmployeeFactory(
            name="Paula Real", presence=Presence.PSEUDONYM, pseudonym="Wind Rider", opted_in=True
        )
        give(pseudo, 70)
        settle()
    login(Role.EMPLOYEE, opted_in=True)
    page = client.get("/leaderboards").get_data(as_text=True)
    assert _ranks(page) == [1, 2]
    assert "Nina Named" in page
    assert "Wind Rider" in page
    assert "Harald Hidden" not in page
    assert "Paula Real" not in page
    assert "You have no points in this period yet." in page


def test_a_hidden_viewer_sees_their_own_points(app, client, login):
    with app.app_context():
        install_company()
        give(EmployeeFactory(opted_in=True), 10)
    me = login(Role.EMPLOYEE, presence=Presence.HIDDEN, opted_in=True)
    with app.app_context():
        give(me, 42)
        settle()
    page = client.get("/leaderboards").get_data(as_text=True)
    assert "You are hidden: your points 42." in page
    assert 'class="is-me"' not in page
    assert _ranks(page) == [1]
    assert "1 person on this board." in page


def test_around_me_is_the_default_beyond_the_first_page(app, client, login):
    with app.app_context():
        install_company()
        for n in range(30):
            give(EmployeeFactory(name=f"Peer {n:02}", opted_in=True), 100 + n)
    me = login(Role.EMPLOYEE, name="Zoe Viewer", opted_in=True)
    with app.app_context():
        give(me, 5)  # rank 31 of 31
        settle()
    page = client.get("/leaderboards").get_data(as_text=True)
    assert "You: rank 31 with 5 points." in page
    assert "Zoe Viewer" in _my_row(page)
    assert _ranks(page) == list(range(21, 32))  # half a page above, the board ends with me
    assert "Top 20" in page

    page = client.get("/leaderboards?view=top").get_data(as_text=True)
    assert _ranks(page) == list(range(1, 21))
    assert 'class="is-me"' not in page
    assert "Ranks 1\u201320 of 31" in page
    page = client.get("/leaderboards?view=top&offset=20").get_data(as_text=True)
    assert _ranks(page) == list(range(21, 32))
    assert "Zoe Viewer" in _my_row(page)


def test_finished_windows_stay_readable(app, client, login):
    me = login(Role.EMPLOYEE, name="Olga Old", opted_in=True)
    with app.app_context():
        install_company()
        give(me, 25, at=utcnow() - timedelta(days=40))
        give(me, 3)
        settle()
    page = client.get("/leaderboards?window=month").get_data(as_text=True)
    assert "You: rank 1 with 3 points." in page
    options = re.findall(r'<option value="(\d{4}-\d{2})"', page)
    assert len(options) == 12
    found = [
        client.get(f"/leaderboards?window=month&period={key}").get_data(as_text=True)
        for key in options[:2]
    ]
    assert any("You: rank 1 with 25 points." in p and "final standings" in p for p in found)

    page = client.get("/leaderboards?window=week").get_data(as_text=True)
    week_keys = re.findall(r'<option value="(w\d{4}-\d{2}-\d{2})"', page)
    assert len(week_keys) == 12
    assert client.get(f"/leaderboards?window=week&period={week_keys[0]}").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "window=day",
        "window=year",
        "scope=galaxy",
        "offset=-1",
        "offset=abc",
        "view=sideways",
        "window=month&period=2026-13",
        "window=week&period=nonsense",
    ],
)
def test_bad_query_arguments_answer_422_with_the_current_board(app, client, login, query):
    with app.app_context():
        install_company()
    login(Role.EMPLOYEE, opted_in=True)
    response = client.get(f"/leaderboards?{query}")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "was not understood" in page
    assert "Leaderboards" in page


def test_without_a_team_the_team_tab_says_so(app, client, login):
    with app.app_context():
        install_company()
    login(Role.EMPLOYEE, team=None, opted_in=True)
    page = client.get("/leaderboards?scope=team").get_data(as_text=True)
    assert "You are in no team" in page


def test_someone_not_taking_part_is_invited(app, client, login):
    with app.app_context():
        install_company()
    login(Role.EMPLOYEE)
    page = client.get("/leaderboards").get_data(as_text=True)
    assert "You are not on the boards: your points 0." in page
    assert 'href="/guidelines"' in page
