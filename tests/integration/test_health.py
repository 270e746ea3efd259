"""/healthz: database, Redis and queues, 200 when all answer, 503 with reasons if not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from rq import Worker

from app import create_app
from app.extensions import db, get_redis
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


# Workers and jobs, as they are -------------------------------------------------------


def _worker(app: Flask, name: str):
    from app.jobs import make_worker

    worker = make_worker(app)
    worker.name = name
    worker.register_birth()
    return worker


def _queues_check(client) -> dict:
    return client.get("/healthz").get_json()["checks"]["queues"]


def test_only_workers_with_a_live_heartbeat_are_counted(app, client, ctx):
    from datetime import timedelta

    from rq.utils import now, utcformat

    _worker(app, "alive")
    gone = _worker(app, "killed")
    # A worker killed with -9 leaves its last heartbeat behind, and its registration
    # until RQ's maintenance runs; it stopped beating long ago.
    get_redis().hset(gone.key, "last_heartbeat", utcformat(now() - timedelta(minutes=5)))
    assert _queues_check(client)["workers"] == 1


def test_a_worker_registers_again_when_redis_forgot_it(app, client, ctx):
    worker = _worker(app, "survivor")
    assert _queues_check(client)["workers"] == 1
    get_redis().flushdb()  # Redis lost or restarted without its data
    assert _queues_check(client)["workers"] == 0
    worker.heartbeat()  # what the running worker does every few seconds
    assert _queues_check(client)["workers"] == 1
    assert Worker.find_by_key(worker.key, connection=get_redis()).queue_names() == [
        "mail",
        "scoring",
        "default",
    ]


def test_an_abandoned_job_is_reported_as_such_not_as_failed(app, client, ctx):
    from rq.registry import StartedJobRegistry

    enqueue("app.jobs.settle_points", job_id="settle-points-5-1", queue_name="scoring", retries=0)
    dead = _worker(app, "dies-mid-job")
    job, job_queue = dead.dequeue_job_and_maintain_ttl(timeout=None)
    dead.prepare_execution(job)  # started, then the process was killed: nothing more
    dead.prepare_job_execution(job)
    started = StartedJobRegistry(job_queue.name, connection=get_redis())
    for entry in get_redis().zrange(started.key, 0, -1):  # its lease on the job ran out
        get_redis().zadd(started.key, {entry: 1})
    _worker(app, "maintainer").clean_registries()  # RQ's periodic maintenance
    check = _queues_check(client)
    assert check["failed"] == {"mail": 0, "scoring": 0, "default": 0}
    assert check["abandoned"] == {"mail": 0, "scoring": 1, "default": 0}
