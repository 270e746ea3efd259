"""The inbox page: the unread count in the navigation, opening marks read and goes
where it points, nobody opens another's, and the settings page keeps choices."""

from __future__ import annotations

from app.extensions import db
from app.models import Employee, Role
from app.services import notifications
from app.services.notifications import Told
from scoring.notifications import Channel, Kind, offered
from tests.conftest import csrf_token
from tests.factories import EmployeeFactory


def _post(client, path: str, data: dict | None = None):
    return client.post(path, data={"csrf_token": csrf_token(client, "/inbox"), **(data or {})})


def _tell(app, employee_id: int, key: str, link: str | None = "/badges/mine") -> int:
    with app.app_context():
        notifications.tell([Told(employee_id, Kind.BADGE_EARNED, key, f"Earned {key}", link=link)])
        db.session.commit()
        return max(n.id for n in notifications.inbox(_employee(employee_id)))


def _employee(employee_id: int) -> Employee:
    return db.session.get(Employee, employee_id)


def test_the_navigation_counts_unread_and_opening_marks_read(app, client, login):
    me = login(Role.EMPLOYEE, opted_in=True)
    first = _tell(app, me.id, "a")
    _tell(app, me.id, "b")
    page = client.get("/inbox").get_data(as_text=True)
    assert 'aria-label="2 unread"' in page
    assert page.index("Earned b") < page.index("Earned a")  # newest first
    response = _post(client, f"/inbox/{first}/open")
    assert response.status_code == 302
    assert response.headers["Location"] == "/badges/mine"
    assert 'aria-label="1 unread"' in client.get("/feed").get_data(as_text=True)
    assert _post(client, "/inbox/read-all").status_code == 302
    assert "unread" not in client.get("/feed").get_data(as_text=True).split("</nav>")[0]


def test_a_link_that_leaves_chorus_is_not_followed_and_another_s_item_is_not_found(
    app, client, login
):
    me = login(Role.EMPLOYEE, opted_in=True)
    odd = _tell(app, me.id, "odd", link="//elsewhere.example/")
    assert _post(client, f"/inbox/{odd}/open").headers["Location"] == "/inbox"
    with app.app_context():
        other = EmployeeFactory(opted_in=True).id
    theirs = _tell(app, other, "theirs")
    assert _post(client, f"/inbox/{theirs}/open").status_code == 404
    with app.app_context():
        assert notifications.unread_count(_employee(other)) == 1


# The rhythm of mail as the page sends it: every field, empty for "none".
RHYTHM = {
    "digest": "weekly",
    "digest_hour": "9",
    "time_zone": "",
    "quiet_from": "19",
    "quiet_until": "8",
    "weekly_budget": "3",
}


def test_settings_save_what_is_ticked_and_refuse_unknown_fields(app, client, login):
    me = login(Role.EMPLOYEE, opted_in=True)
    page = client.get("/inbox/settings").get_data(as_text=True)
    assert page.count('type="checkbox"') == 15  # 7 kinds in the inbox, 6 by mail, 2 in chat
    assert 'name="redemption_decided.email" checked' in page
    assert 'name="referral_stage.email" checked' in page
    assert 'name="your_week.email" checked' not in page
    for label in ("A challenge you are in starts", "Your result in a challenge", "Your week"):
        assert label in page
    # Untick every mail; the inbox boxes stay ticked.
    mine = offered()  # an employee's: not the admins' kinds
    inboxes = [f"{kind}.in_app" for kind, channel in mine if channel is Channel.IN_APP]
    ticked = {**dict.fromkeys(inboxes, "on"), **RHYTHM}
    assert _post(client, "/inbox/settings", ticked).status_code == 302
    with app.app_context():
        assert notifications.choices_of([me.id])[me.id] == {
            (kind, channel): channel is Channel.IN_APP for kind, channel in mine
        }
    refused = _post(client, "/inbox/settings", {**ticked, "badge_earned.email": "on"})
    assert refused.status_code == 422
    assert "These settings do not exist." in refused.get_data(as_text=True)
    with app.app_context():
        assert len(notifications.choices_of([me.id])[me.id]) == len(mine) == 15


def test_the_settings_page_says_where_mentions_go_and_keeps_a_slack_member_id(app, client, login):
    from tests.factories import ChatDestinationFactory, TeamFactory

    with app.app_context():
        team = TeamFactory(name="Sales")
        ChatDestinationFactory(name="#sales-wins", team=team, post_mentions=True)
        team_id = team.id
        db.session.commit()
    me = login(Role.EMPLOYEE, opted_in=True)
    page = client.get("/inbox/settings").get_data(as_text=True)
    assert "No chat channel of your team" in page
    with app.app_context():
        db.session.get(Employee, me.id).team_id = team_id
        db.session.commit()
    page = client.get("/inbox/settings").get_data(as_text=True)
    assert "<strong>#sales-wins</strong> (Slack)" in page
    entered = {**RHYTHM, "badge_earned.chat": "on", "slack_member_id": "U012AB3CDE"}
    assert _post(client, "/inbox/settings", entered).status_code == 302
    refused = _post(client, "/inbox/settings", {**entered, "slack_member_id": "lena"})
    assert refused.status_code == 422
    assert "A Slack member ID looks like U012AB3CDE" in refused.get_data(as_text=True)
    with app.app_context():
        assert notifications.preferences_of([me.id])[me.id].slack_member_id == "U012AB3CDE"
        choices = notifications.choices_of([me.id])[me.id]
        assert choices[(Kind.BADGE_EARNED, Channel.CHAT)] is True
