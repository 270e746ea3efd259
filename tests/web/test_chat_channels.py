"""Chat channels on the admin page and over the API: connecting checks the address and
never shows it back in full; bad input is refused naming the field and changes nothing;
the test button says what the provider answered; turning off and on, disconnecting."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ChatDestination, OutboxMessage, Role, utcnow
from app.services import chat
from scoring.chat import Post
from scoring.notifications import Kind
from tests.conftest import csrf_token
from tests.factories import ChatDestinationFactory, TeamFactory
from tests.web.api_support import count, session_caller

SLACK = "https://hooks.slack.com/services/T0001/B0001/abcdefghijklmnopqrstuvwx"


def _post(client, path: str, data: dict):
    return client.post(path, data={"csrf_token": csrf_token(client, "/admin/chat"), **data})


def test_an_admin_connects_a_channel_and_sees_its_address_only_masked(app, client, login):
    login(Role.ADMIN)
    with app.app_context():
        team_id = TeamFactory(name="Sales").id
        db.session.commit()
    answer = _post(
        client,
        "/admin/chat",
        {"provider": "slack", "name": "#sales", "url": SLACK, "team_id": str(team_id),
         "post_content": "on"},
    )  # fmt: skip
    assert answer.status_code == 302
    page = client.get("/admin/chat").get_data(as_text=True)
    assert "#sales" in page
    assert "https://hooks.slack.com/…uvwx" in page
    assert SLACK not in page
    assert "Slack, step by step" in page
    with app.app_context():
        channel = db.session.scalar(select(ChatDestination))
        assert (channel.team_id, channel.url, channel.post_content) == (team_id, SLACK, True)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"url": "https://evil.example.com/services/x"}, "hooks.slack.com/services/"),
        ({"provider": "teams"}, "Teams Workflows webhook"),
        ({"provider": "irc"}, "Must be one of"),
        ({"name": ""}, "cannot be empty"),
        ({"team_id": "999999"}, "No team with id 999999."),
    ],
)
def test_bad_input_on_the_page_is_refused_and_changes_nothing(app, client, login, change, problem):
    login(Role.ADMIN)
    entered = {"provider": "slack", "name": "#all", "url": SLACK, **change}
    answer = _post(client, "/admin/chat", entered)
    assert answer.status_code == 422
    assert problem in answer.get_data(as_text=True)
    assert SLACK not in answer.get_data(as_text=True)  # not even echoed back
    assert count(app, ChatDestination) == 0


def test_the_test_button_turning_off_and_on_and_disconnecting(app, client, login, receiver):
    login(Role.ADMIN)
    with app.app_context():
        channel_id = ChatDestinationFactory(name="#all", url=receiver.url + "/hook").id
        db.session.commit()
    _post(client, f"/admin/chat/{channel_id}/test", {})
    assert "#all took the test (200 OK)" in client.get("/admin/chat").get_data(as_text=True)
    assert len(receiver.requests) == 1
    _post(client, f"/admin/chat/{channel_id}", {"enabled": "0"})
    with app.app_context():
        channel = db.session.get(ChatDestination, channel_id)
        assert channel.disabled_reason == "Turned off by an admin."
    _post(client, f"/admin/chat/{channel_id}", {"enabled": "1"})
    with app.app_context():
        assert db.session.get(ChatDestination, channel_id).disabled_at is None
    with app.app_context():  # a post waits for it
        chat.post_challenge(None, Kind.CHALLENGE_STARTED, 1, Post("A challenge"), utcnow())
        db.session.commit()
        assert count(app, OutboxMessage) == 1
    assert _post(client, f"/admin/chat/{channel_id}/remove", {}).status_code == 302
    assert count(app, ChatDestination) == count(app, OutboxMessage) == 0


def test_a_new_address_must_be_the_providers_too(app, client, login):
    login(Role.ADMIN)
    with app.app_context():
        channel_id = ChatDestinationFactory(name="#all").id
        db.session.commit()
    answer = _post(client, f"/admin/chat/{channel_id}", {"url": "https://example.com/x"})
    assert answer.status_code == 422
    with app.app_context():
        assert db.session.get(ChatDestination, channel_id).url.startswith("https://hooks.slack")


# The API -------------------------------------------------------------------------


def test_the_api_connects_lists_changes_tests_and_disconnects(app, receiver):
    admin = session_caller(app, Role.ADMIN)
    made = admin.post(
        "/api/v1/chat-channels", json={"provider": "slack", "name": "#all", "url": SLACK}
    )
    assert made.status_code == 201
    assert made.json["address"] == "https://hooks.slack.com/…uvwx"
    assert "url" not in made.json
    assert (made.json["team_id"], made.json["post_content"]) == (None, True)
    channel_id = made.json["id"]
    assert [c["id"] for c in admin.get("/api/v1/chat-channels").json] == [channel_id]
    with app.app_context():  # point it at the loopback receiver for the test
        db.session.get(ChatDestination, channel_id).url = receiver.url + "/hook"
        db.session.commit()
    tested = admin.post(f"/api/v1/chat-channels/{channel_id}/test")
    assert tested.json == {"delivered": True, "answer": "200 OK"}
    off = admin.patch(f"/api/v1/chat-channels/{channel_id}", json={"enabled": False})
    assert off.json["disabled_reason"] == "Turned off by an admin."
    on = admin.patch(f"/api/v1/chat-channels/{channel_id}", json={"url": SLACK})
    assert on.json["disabled_at"] is None
    assert admin.delete(f"/api/v1/chat-channels/{channel_id}").status_code == 204
    assert admin.get("/api/v1/chat-channels").json == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"provider": "slack", "name": "#all", "url": "https://example.com/hook"}, "url"),
        (
            {"provider": "teams", "name": "#all", "url": "https://outlook.office.com/webhook/x"},
            "url",
        ),
        ({"provider": "slack", "name": "#all"}, "url"),
        ({"provider": "fax", "name": "#all", "url": SLACK}, "provider"),
        ({"provider": "slack", "name": "", "url": SLACK}, "name"),
        ({"provider": "slack", "name": "#all", "url": SLACK, "team_id": 999999}, "team_id"),
        ({"provider": "slack", "name": "#all", "url": SLACK, "colour": "red"}, "colour"),
    ],
)
def test_bad_input_over_the_api_names_the_field_and_changes_nothing(app, body, field):
    admin = session_caller(app, Role.ADMIN)
    answer = admin.post("/api/v1/chat-channels", json=body)
    assert answer.status_code == 422
    assert field in answer.json["errors"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ChatDestination)) == 0


def test_an_unknown_channel_is_a_404(app):
    admin = session_caller(app, Role.ADMIN)
    for answer in (
        admin.patch("/api/v1/chat-channels/999999", json={"enabled": True}),
        admin.post("/api/v1/chat-channels/999999/test"),
        admin.delete("/api/v1/chat-channels/999999"),
    ):
        assert answer.status_code == 404
        assert answer.json["errors"] == {"id": ["No chat channel with id 999999."]}


def test_an_admin_lets_a_channel_take_mentions_and_stops_it(app, client, login):
    login(Role.ADMIN)
    with app.app_context():
        channel_id = ChatDestinationFactory(name="#sales").id
        db.session.commit()
    assert "Allow mentions" in client.get("/admin/chat").get_data(as_text=True)
    _post(client, f"/admin/chat/{channel_id}", {"post_mentions": "1"})
    page = client.get("/admin/chat").get_data(as_text=True)
    assert "#sales mentions people who ask for it." in page
    with app.app_context():
        assert db.session.get(ChatDestination, channel_id).post_mentions is True
    _post(client, f"/admin/chat/{channel_id}", {"post_mentions": "0"})
    with app.app_context():
        channel = db.session.get(ChatDestination, channel_id)
        assert (channel.post_mentions, channel.disabled_at) == (False, None)


def test_the_api_sets_mentions_and_refuses_a_bad_value(app):
    admin = session_caller(app, Role.ADMIN)
    made = admin.post(
        "/api/v1/chat-channels",
        json={"provider": "slack", "name": "#all", "url": SLACK, "post_mentions": True},
    )
    assert made.json["post_mentions"] is True
    channel_id = made.json["id"]
    refused = admin.patch(f"/api/v1/chat-channels/{channel_id}", json={"post_mentions": "often"})
    assert refused.status_code == 422
    assert "post_mentions" in refused.json["errors"]
    off = admin.patch(f"/api/v1/chat-channels/{channel_id}", json={"post_mentions": False})
    assert off.json["post_mentions"] is False
