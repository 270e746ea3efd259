"""The fast paths: composed in create_app, logging and failing as the app's own requests."""

from __future__ import annotations

import logging
import socket

import pytest
import redis
from flask import Flask, got_request_exception

from app import create_app
from app.api.leaderboards import BoardReads
from app.fast_paths import FastPaths
from app.links import make_token
from app.web.redirect import TrackedLinks
from tests.factories import ShareFactory


@pytest.fixture
def token(app: Flask) -> str:
    with app.app_context():
        return make_token(ShareFactory().id)


def test_create_app_puts_the_lanes_in_front_of_the_app(app: Flask):
    assert isinstance(app.wsgi_app, FastPaths)
    assert [type(lane) for lane in app.wsgi_app.lanes] == [TrackedLinks, BoardReads]
    # Nothing else wraps the app: no lane installs itself behind create_app's back.
    assert not isinstance(app.wsgi_app.wsgi_app, FastPaths)


def test_without_fast_lanes_the_app_is_flask_alone(app: Flask):
    plain = create_app({**app.config, "FAST_LANES": False})
    assert not isinstance(plain.wsgi_app, FastPaths)


def test_tracked_links_have_no_flask_route(app: Flask):
    assert not [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/l/")]
    assert "links.follow" not in app.view_functions


@pytest.fixture
def redis_away(app: Flask):
    working = app.extensions["redis"]
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.extensions["redis"] = redis.Redis(port=port, socket_connect_timeout=0.2)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the handlers answer
    try:
        yield
    finally:
        app.extensions["redis"] = working
        app.config["PROPAGATE_EXCEPTIONS"] = None


def test_an_error_in_a_lane_reaches_flasks_error_handling_as_raised(
    app: Flask, client, token, redis_away, caplog
):
    raised = []

    def record(sender, exception, **extra):
        raised.append(exception)

    got_request_exception.connect(record, app)
    try:
        with caplog.at_level(logging.INFO, logger="chorus.request"):
            response = client.get(f"/l/{token}", headers={"X-Request-ID": "abc-123"})
    finally:
        got_request_exception.disconnect(record, app)
    assert response.status_code == 500
    assert [type(error) for error in raised] == [redis.ConnectionError]
    assert response.headers["X-Request-ID"] == "abc-123"
    lines = [r.fields for r in caplog.records if r.name == "chorus.request"]
    assert [(line["route"], line["status"], line["request_id"]) for line in lines] == [
        ("/l/<path:token>", 500, "abc-123")
    ]


def test_a_lane_writes_the_one_request_line_the_app_writes(app: Flask, client, token, caplog):
    with caplog.at_level(logging.INFO, logger="chorus.request"):
        response = client.get(f"/l/{token}", headers={"X-Request-ID": "req-1"})
        head = client.head("/l/tampered")
    assert (response.status_code, head.status_code) == (302, 404)
    assert head.data == b""
    assert int(head.headers["Content-Length"]) > 0
    lines = [r.fields for r in caplog.records if r.name == "chorus.request"]
    assert [(line["method"], line["route"], line["status"]) for line in lines] == [
        ("GET", "/l/<path:token>", 302),
        ("HEAD", "/l/<path:token>", 404),
    ]
    assert lines[0]["request_id"] == response.headers["X-Request-ID"] == "req-1"
    assert token not in str(lines)
