"""/api/v1/feeds: HR registers RSS and Atom feeds and asks for an import now."""

from __future__ import annotations

import pytest
from flask import Flask

from app.extensions import get_redis
from app.models import InboundFeed, Role
from tests.factories import InboundFeedFactory
from tests.web.api_support import MISSING, bearer_caller, count, forbidden, invalid, session_caller

URL = "https://news.example.com/feed.xml"


@pytest.fixture
def hr(app: Flask):
    return bearer_caller(app, Role.HR, team=None)


def test_register_list_change_and_delete(app: Flask, hr):
    response = hr.post("/api/v1/feeds", json={"name": " Industry news ", "url": URL})
    assert response.status_code == 201
    feed = response.json
    assert (feed["name"], feed["url"], feed["active"]) == ("Industry news", URL, True)
    assert (feed["last_fetched_at"], feed["last_error"]) == (None, None)
    assert [f["id"] for f in hr.get("/api/v1/feeds").json] == [feed["id"]]
    response = hr.patch(f"/api/v1/feeds/{feed['id']}", json={"active": False})
    assert response.json["active"] is False
    assert hr.post(f"/api/v1/feeds/{feed['id']}/fetch").status_code == 409
    assert hr.delete(f"/api/v1/feeds/{feed['id']}").status_code == 204
    assert count(app, InboundFeed) == 0


def test_fetch_now_queues_one_job(app: Flask, hr):
    with app.app_context():
        feed_id = InboundFeedFactory().id
    first = hr.post(f"/api/v1/feeds/{feed_id}/fetch")
    assert first.status_code == 202
    assert first.json == {"queued": True}
    assert hr.post(f"/api/v1/feeds/{feed_id}/fetch").json == {"queued": False}
    with app.app_context():
        assert len(get_redis().keys(f"rq:job:import-feed-{feed_id}-now-*")) == 1


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ("{}", 422, invalid({"name": MISSING, "url": MISSING})),
        ('{"name": "N", "url": "ftp://example.com/feed"}', 422, None),
        ('{"name": "N", "url": "file:///etc/passwd"}', 422, None),
        ('{"name": "N", "url": "news.example.com/feed"}', 422, None),
        ('{"name": "   ", "url": "https://example.com/f"}', 422, None),
        ('{"name": "N", "url": "https://example.com/f", "etag": "x"}', 422, None),
        ('{"name": "N", "url": "' + URL + '"}', 409, None),
        ('{"name": "N"', 400, None),
    ],
)
def test_bad_feeds_register_nothing(app: Flask, hr, body, status, expected):
    with app.app_context():
        InboundFeedFactory(url=URL)
    response = hr.raw("POST", "/api/v1/feeds", body)
    assert response.status_code == status
    if expected is not None:
        assert response.json == expected
    assert count(app, InboundFeed) == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/fetch")],
)
def test_unknown_feeds_are_404(app: Flask, hr, method, path):
    response = hr.open(
        method, f"/api/v1/feeds/999999{path}", json={} if method == "PATCH" else None
    )
    assert response.status_code == 404
    assert response.json["message"] == "No feed with id 999999."


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/feeds", None),
        ("POST", "/api/v1/feeds", {"name": "N", "url": "https://example.com/x"}),
        ("PATCH", "/api/v1/feeds/{id}", {"active": False}),
        ("DELETE", "/api/v1/feeds/{id}", None),
        ("POST", "/api/v1/feeds/{id}/fetch", None),
    ],
)
@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.TEAM_LEAD])
def test_feeds_are_for_hr(app: Flask, role, method, path, body):
    with app.app_context():
        feed_id = InboundFeedFactory().id
    response = session_caller(app, role).open(method, path.format(id=feed_id), json=body)
    assert response.status_code == 403
    assert response.json == forbidden(Role.HR)
    assert count(app, InboundFeed) == 1
    with app.app_context():
        assert get_redis().keys("rq:job:*") == []
