"""HR page for inbound feeds: register, fetch now, switch off, delete."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db, get_redis
from app.models import InboundFeed, Role, utcnow
from tests.conftest import csrf_token
from tests.factories import InboundFeedFactory

URL = "https://news.example.com/feed.xml"


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def _post(client, path: str, data: dict, **kwargs):
    return client.post(path, data={"csrf_token": csrf_token(client, "/me"), **data}, **kwargs)


@pytest.mark.parametrize(
    ("role", "status"), [(Role.EMPLOYEE, 403), (Role.TEAM_LEAD, 403), (Role.HR, 200)]
)
def test_the_feeds_page_is_for_hr(client, login, role, status):
    login(role)
    assert client.get("/feeds").status_code == status


def test_register_fetch_switch_off_and_delete(app, client, login):
    login(Role.HR)
    response = _post(client, "/feeds", {"name": "Industry news", "url": URL})
    assert response.status_code == 302
    with app.app_context():
        feed_id = db.session.scalar(select(InboundFeed.id))
        assert len(get_redis().keys(f"rq:job:import-feed-{feed_id}-now-*")) == 1  # first import
    page = client.get("/feeds").get_data(as_text=True)
    assert "Feed Industry news added" in page
    assert "Not fetched yet." in page

    response = _post(client, f"/feeds/{feed_id}/fetch", {})
    assert response.status_code == 302
    assert "is being fetched already" in client.get("/feeds").get_data(as_text=True)

    assert _post(client, f"/feeds/{feed_id}/active", {}).status_code == 302
    with app.app_context():
        assert db.session.get(InboundFeed, feed_id).active is False
    assert _post(client, f"/feeds/{feed_id}/fetch", {}).status_code == 409
    assert _post(client, f"/feeds/{feed_id}/active", {"active": "on"}).status_code == 302
    with app.app_context():
        assert db.session.get(InboundFeed, feed_id).active is True
    assert _post(client, f"/feeds/{feed_id}/delete", {}).status_code == 302
    assert _post(client, f"/feeds/{feed_id}/delete", {}).status_code == 404
    with app.app_context():
        assert _count(InboundFeed) == 0


def test_the_last_error_is_shown(app, client, login):
    login(Role.HR)
    with app.app_context():
        InboundFeedFactory(
            name="Broken",
            last_error="The server answered 404 Not Found.",
            last_error_at=utcnow(),
            last_fetched_at=utcnow(),
        )
    page = client.get("/feeds").get_data(as_text=True)
    assert "The server answered 404 Not Found." in page
    assert "failing" in page


@pytest.mark.parametrize(
    ("data", "status", "field"),
    [
        ({"name": "", "url": URL}, 422, "name"),
        ({"name": "N", "url": ""}, 422, "url"),
        ({"name": "N", "url": "ftp://example.com/feed"}, 422, "url"),
        ({"name": "N", "url": "javascript:alert(1)"}, 422, "url"),
        ({"name": "N", "url": URL}, 409, "url"),
    ],
)
def test_bad_feeds_change_nothing(app, client, login, data, status, field):
    login(Role.HR)
    with app.app_context():
        InboundFeedFactory(url=URL)
    response = _post(client, "/feeds", data)
    assert response.status_code == status
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert _count(InboundFeed) == 1
        assert get_redis().keys("rq:job:*") == []
