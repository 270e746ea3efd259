"""Shared fixtures: one app per test session on a real database and a real Redis.

The database is SQLite unless TEST_DATABASE_URL names another (make test also runs the
suite on PostgreSQL). Redis is a throwaway server the suite starts, unless
TEST_REDIS_URL names one; it is flushed after every test, and every table is emptied.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text, update

from app import create_app
from app.extensions import db, get_redis
from app.jobs import SCHEDULE, deliver_outbox, make_worker
from app.models import DeliveryState, Employee, OutboxMessage, Role, utcnow
from app.queue import enqueue
from app.redis_server import ensure_embedded_redis, stop_embedded_redis
from tests import factories


def _reset_schema(url: str) -> None:
    """Start from an empty database so that the migrations build the whole schema."""
    if url.startswith("postgresql"):
        from sqlalchemy import create_engine

        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        yield url
        return
    directory = tmp_path_factory.mktemp("redis")
    yield ensure_embedded_redis(directory)
    stop_embedded_redis(directory)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        from app.config import _database_url

        return _database_url(url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'chorus-test.db'}"


@pytest.fixture(scope="session")
def app(database_url: str, redis_url: str, tmp_path_factory) -> Iterator[Flask]:
    _reset_schema(database_url)
    app = create_app(
        {
            "CHORUS_ENV": "test",
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-for-tests",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": redis_url,
            "MAIL_BACKEND": "memory",
            "BASE_URL": "http://localhost",
            "SERVER_NAME": None,
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_state(request) -> Iterator[None]:
    """Every test starts with empty tables and an empty Redis."""
    yield
    if "app" not in request.fixturenames:
        return
    app: Flask = request.getfixturevalue("app")
    with app.app_context():
        db.session.rollback()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        get_redis().flushdb()
        app.extensions.pop("mail_outbox", None)
        app.extensions.pop("chorus.calendar", None)  # cached company time zone


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    """An application context for service-level tests."""
    with app.app_context():
        yield app
        db.session.rollback()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def run_jobs(app: Flask):
    """Run every queued RQ job to completion in this process, as a worker would."""

    def run() -> None:
        with app.app_context():
            make_worker(app).work(burst=True)

    return run


@pytest.fixture
def run_scheduled(app: Flask, run_jobs):
    """Queue jobs of the clock's schedule by name, as the clock does, and run them."""

    def run(*functions: str) -> None:
        queues = {function: queue_name for function, queue_name, _ in SCHEDULE}
        stamp = utcnow().strftime("%Y%m%d%H%M%S%f")
        with app.app_context():
            for function in functions:
                job_id = f"test-{function.rsplit('.', 1)[-1]}-{stamp}".replace("_", "-")
                enqueue(function, job_id=job_id, queue_name=queues[function])
        run_jobs()

    return run


@pytest.fixture
def outbox(app: Flask) -> list:
    """The mails sent (MAIL_BACKEND=memory), oldest first."""
    return app.extensions.setdefault("mail_outbox", [])


@pytest.fixture
def deliver(app: Flask, outbox: list):
    """Send what waits in the outbox as the mail job does, as if every quiet hour were
    over (tests run at any hour); returns the mails sent so far."""

    def run() -> list:
        with app.app_context():
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.state == DeliveryState.PENDING)
                .values(next_attempt_at=utcnow())
            )
            db.session.commit()
            deliver_outbox()
        return outbox

    return run


@pytest.fixture
def mailbox(app: Flask, monkeypatch) -> Iterator:
    """A real SMTP server on loopback, and the app sending its mail there."""
    from tests.mail_server import smtp_server

    with smtp_server() as (box, port):
        for name, value in {
            "MAIL_BACKEND": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": port,
            "SMTP_STARTTLS": False,
            "SMTP_USERNAME": "",
        }.items():
            monkeypatch.setitem(app.config, name, value)
        box.port = port
        yield box


@pytest.fixture
def receiver() -> Iterator:
    """A real HTTP server on loopback that records requests and answers as told."""
    from tests.http_receiver import http_receiver

    with http_receiver() as running:
        yield running


def mail_text(message) -> str:
    """The plain-text part of a mail."""
    return message.get_body(preferencelist=("plain",)).get_content()


def sign_in(client: FlaskClient, employee: Employee) -> FlaskClient:
    """Put a signed-in session on the client, as the magic link would."""
    with client.session_transaction() as session:
        session["_user_id"] = employee.get_id()  # id and session epoch
        session["_fresh"] = True
    return client


@pytest.fixture
def login(app: Flask, client: FlaskClient):
    """``login(Role.HR)`` signs a new employee with that role in on ``client``."""

    def login_as(role: Role = Role.EMPLOYEE, **attributes) -> Employee:
        with app.app_context():
            employee = factories.EmployeeFactory(role=role, **attributes)
            db.session.refresh(employee)  # the commit expired it; load it before detaching
            db.session.expunge(employee)
        sign_in(client, employee)
        return employee

    return login_as


def csrf_token(client: FlaskClient, path: str = "/sign-in") -> str:
    """The CSRF token of the client's session, read from a page's meta tag."""
    import re

    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, f"no csrf meta tag on {path}"
    return match.group(1)


@contextmanager
def sql_statements(app) -> Iterator[list[str]]:
    """Every SQL statement the app sends while the block runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
