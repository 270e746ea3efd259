"""/api/v1/feed and /api/v1/shares: the feed, sharing with caps and the taboo guard, and
your shares with their clicks; bad input on every write path changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from app.extensions import db
from app.models import ClickKind, Employee, Event, ReferralOutcome, Role, Share, utcnow
from scoring.vocabulary import ReferralStage
from tests.factories import (
    ClickRecordFactory,
    ContentItemFactory,
    ReferralFactory,
    ShareFactory,
    SharePolicyFactory,
    ShareTemplateFactory,
    TabooTopicFactory,
    TeamFactory,
)
from tests.web.api_support import (
    INVALID_JSON,
    MISSING,
    UNKNOWN,
    anonymous,
    bearer_caller,
    count,
    forbidden,
    invalid,
    pagination,
    session_caller,
)

OPT_IN_FIRST = "Sharing is for people who take part: read and accept the guidelines to opt in."


@pytest.fixture
def item(app: Flask) -> int:
    with app.app_context():
        item = ContentItemFactory(title="Green grid", campaign_hashtag="#GreenGrid", featured=True)
        ShareTemplateFactory(content_id=item.id, text="We built this.")
        return item.id


@pytest.mark.parametrize("make_caller", [session_caller, bearer_caller])
def test_share_and_read_it_back(app: Flask, item, make_caller):
    caller = make_caller(app, opted_in=True)
    response = caller.post(
        "/api/v1/shares", json={"content_id": item, "channel": "x", "text": "Look!"}
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["text"] == "Look! #employee #GreenGrid"
    assert body["link"].startswith("http://localhost/l/")
    assert body["intent_url"].startswith("https://twitter.com/intent/tweet?text=Look%21")
    assert body["clicks"] == {"human": 0, "filtered": 0, "bot": 0, "self": 0}
    assert count(app, Share) == 1
    assert count(app, Event) == 1
    assert caller.get(f"/api/v1/shares/{body['id']}").json["link"] == body["link"]
    listed = caller.get("/api/v1/shares")
    assert [s["id"] for s in listed.json] == [body["id"]]
    assert pagination(listed)["total"] == 1
    feed = caller.get("/api/v1/feed").json
    assert (feed[0]["id"], feed[0]["shared_on"], feed[0]["shares_left"]) == (item, ["x"], 1)


def test_the_feed_and_the_allowance(app: Flask, item):
    caller = session_caller(app, opted_in=True)
    with app.app_context():
        ContentItemFactory(title="Other team", target_teams=[TeamFactory()])
        ContentItemFactory(title="Draft", draft=True)
        ContentItemFactory(title="Newer")
    response = caller.get("/api/v1/feed")
    assert [i["title"] for i in response.json] == ["Green grid", "Newer"]
    assert response.json[0]["templates"][0]["text"] == "We built this."
    allowance = caller.get("/api/v1/feed/allowance").json
    assert (allowance["today_left"], allowance["week_left"], allowance["blocked_by"]) == (
        3,
        10,
        None,
    )
    assert allowance["per_channel_left"]["linkedin"] == 2


def test_a_cap_refusal_names_the_cap_and_the_next_time(app: Flask, item):
    caller = session_caller(app, opted_in=True)
    with app.app_context():
        SharePolicyFactory(per_day=1)
    assert (
        caller.post("/api/v1/shares", json={"content_id": item, "channel": "x"}).status_code == 201
    )
    response = caller.post("/api/v1/shares", json={"content_id": item, "channel": "linkedin"})
    assert response.status_code == 429
    body = response.json
    assert body["cap"] == "per_day"
    assert body["next_allowed_at"].endswith("+00:00")
    assert "the daily limit" in body["message"]
    assert "next share is possible from" in body["message"]
    assert body["errors"] == {"channel": [body["message"]]}
    assert int(response.headers["Retry-After"]) > 0
    assert count(app, Share) == 1


def test_the_item_cap_is_a_conflict(app: Flask, item):
    caller = session_caller(app, opted_in=True)
    with app.app_context():
        SharePolicyFactory(per_content=1, min_spacing_minutes=None)
    caller.post("/api/v1/shares", json={"content_id": item, "channel": "x"})
    response = caller.post("/api/v1/shares", json={"content_id": item, "channel": "linkedin"})
    assert (response.status_code, response.json["cap"], response.json["next_allowed_at"]) == (
        409,
        "per_content",
        None,
    )


def test_a_taboo_hit_is_explained(app: Flask, item):
    caller = session_caller(app, opted_in=True)
    with app.app_context():
        TabooTopicFactory(name="Figures", explanation="Only IR publishes figures.")
    response = caller.post(
        "/api/v1/shares",
        json={"content_id": item, "channel": "x", "text": "Our quarterly revenue!"},
    )
    assert response.status_code == 422
    assert response.json["errors"] == {
        "text": ["Figures (“quarterly revenue”): Only IR publishes figures."]
    }
    assert count(app, Share) == 0


@pytest.mark.parametrize(
    ("body", "status", "errors"),
    [
        ("{", 400, None),
        ("[]", 422, None),
        ("{}", 422, {"content_id": MISSING, "channel": MISSING}),
        ('{"content_id": "1", "channel": "x"}', 422, {"content_id": ["Not a valid integer."]}),
        (
            '{"content_id": ITEM, "channel": "myspace"}',
            422,
            {"channel": ["Must be one of: linkedin, x, facebook, xing, instagram, email."]},
        ),
        ('{"content_id": ITEM, "channel": "x", "bonus": 1}', 422, {"bonus": UNKNOWN}),
        ('{"content_id": ITEM, "channel": "x", "text": 5}', 422, {"text": ["Not a valid string."]}),
        ('{"content_id": ITEM, "channel": "x", "template_id": 999999}', 422, None),
        ('{"content_id": 999999, "channel": "x"}', 404, None),
        ('{"content_id": ITEM, "channel": "x", "text": "' + "a" * 3001 + '"}', 422, None),
    ],
)
def test_bad_input_changes_nothing(app: Flask, item, body, status, errors):
    caller = session_caller(app, opted_in=True)
    response = caller.raw("POST", "/api/v1/shares", body.replace("ITEM", str(item)))
    assert response.status_code == status, response.json
    if status == 400:
        assert response.json == INVALID_JSON
    if errors is not None:
        assert response.json == invalid(errors)
    assert count(app, Share) == 0
    assert count(app, Event) == 0


def test_not_participating_is_a_conflict(app: Flask, item):
    caller = session_caller(app)
    for response in (
        caller.post("/api/v1/shares", json={"content_id": item, "channel": "x"}),
        caller.get("/api/v1/feed"),
        caller.get("/api/v1/feed/allowance"),
    ):
        assert response.status_code == 409
        assert response.json["message"] == OPT_IN_FIRST
    assert count(app, Share) == 0


def test_signed_out_and_without_csrf(app: Flask, item):
    assert anonymous(app).post("/api/v1/shares", json={"content_id": item}).status_code == 401
    caller = session_caller(app, opted_in=True)
    caller.headers.pop("X-CSRFToken")
    response = caller.post("/api/v1/shares", json={"content_id": item, "channel": "x"})
    assert response.status_code == 400
    assert count(app, Share) == 0


def test_others_shares_are_not_found(app: Flask):
    with app.app_context():
        theirs = ShareFactory().id
    caller = session_caller(app, Role.ADMIN, opted_in=True)
    response = caller.get(f"/api/v1/shares/{theirs}")
    assert response.status_code == 404
    assert response.json["message"] == f"You have no share with id {theirs}."
    assert caller.get("/api/v1/shares").json == []


def test_clicks_and_referrals_per_share(app: Flask):
    caller = session_caller(app, opted_in=True)
    with app.app_context():
        me = db.session.get(Employee, caller.employee_id)
        share = ShareFactory(employee=me)
        for kind in (ClickKind.HUMAN, ClickKind.HUMAN, ClickKind.BOT, ClickKind.SELF):
            ClickRecordFactory(share_id=share.id, kind=kind)
        ReferralFactory(share_id=share.id, outcome=ReferralOutcome.AWARDED)
        ReferralFactory(
            share_id=share.id, stage=ReferralStage.HIRED, outcome=ReferralOutcome.AWARDED
        )
        ReferralFactory(share_id=share.id, outcome=ReferralOutcome.BACKWARDS)
        ShareFactory(employee=me, created_at=utcnow() - timedelta(days=1))
        share_id = share.id
    body = caller.get("/api/v1/shares?page_size=1").json
    assert body[0]["id"] == share_id
    assert body[0]["clicks"] == {"human": 2, "filtered": 2, "bot": 1, "self": 1}
    assert body[0]["referrals"] == {"applied": 1, "interviewed": 0, "hired": 1}


def test_team_leads_and_hr_share_too(app: Flask, item):
    caller = bearer_caller(app, Role.HR, opted_in=True)
    response = caller.post("/api/v1/shares", json={"content_id": item, "channel": "email"})
    assert response.status_code == 201
    assert response.json["intent_url"].startswith("mailto:?subject=Green%20grid&body=")
    assert forbidden(Role.HR)["code"] == 403
    with app.app_context():
        assert db.session.get(Share, response.json["id"]).channel.value == "email"
