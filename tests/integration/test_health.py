"""/healthz: database, Redis and queues, 200 when all answer, 503 with reasons if not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from app import create_app
from app.extensions import db
from app.queue import enqueue


def test_healthy(client, ctx):
    enqueue("app.jobs.send_sign_in_link", 1, "nonce", job_id="health-mail", queue_name="mail")
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    checks = body["checks"]
    assert checks["database"] == {"ok": True}
    assert checks["redis"] == {"ok": True}
    assert checks["queues"]["ok"] is True
    assert checks["queues"]["queued"] == {"mail": 1, "scoring": 0, "default": 0}
    assert checks["queues"]["failed"] == {"mail": 0, "scoring": 0, "default": 0}
    assert checks["queues"]["workers"] == 0


def test_healthz_needs_no_sign_in_and_is_not_rate_limited(client):
    for _ in range(30):
        assert client.get("/healthz").status_code == 200


@pytest.fixture
def broken_app(request, app: Flask, tmp_path) -> Iterator[Flask]:
    """A second app with one dependency out of reach; everything else as the suite's."""
    broken = {
        "redis": {"REDIS_URL": "redis://127.0.0.1:1/0"},  # nothing listens on port 1
        "database": {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/x.db"},
    }[request.param]
    config = {
        key: app.config[key]
        for key in ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "REDIS_URL", "BASE_URL")
    }
    other = create_app(
        {
            **config,
            "CHORUS_ENV": "test",
            "TESTING": True,
            "MAIL_BACKEND": "memory",
            # The limiter is one object for every app: keep it on the suite's Redis.
            "RATELIMIT_STORAGE_URI": app.config["RATELIMIT_STORAGE_URI"],
            **broken,
        }
    )
    # An explicit REDIS_URL is used as given; no embedded server is started for it.
    assert other.config["REDIS_URL"] == {**config, **broken}["REDIS_URL"]
    yield other
    with other.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(
    ("broken_app", "down", "error"),
    [("redis", "redis", "ConnectionError"), ("database", "database", "OperationalError")],
    indirect=["broken_app"],
)
def test_unhealthy_answers_503_and_says_what_is_down(broken_app, down, error):
    response = broken_app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"][down] == {"ok": False, "error": error}
    up = ({"database", "redis"} - {down}).pop()
    assert body["checks"][up] == {"ok": True}
    if down == "redis":
        assert body["checks"]["queues"] == {"ok": False}
