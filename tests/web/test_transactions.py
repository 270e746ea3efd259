"""One transaction per request (``app.transactions``): a write answered below 400
commits; a refusal, an error or a read keeps nothing of what it flushed; side effects
wait for the commit.

The routes are the test's own, on an app built like the suite's, so that each case is
a view that flushes and answers as it likes, which no real view is written to do.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from app import create_app
from app.extensions import after_commit, db
from app.models import Team

ANSWERS = {"created": 201, "redirected": 302, "refused": 422, "missing": 404}


@pytest.fixture
def hooked(app: Flask) -> Iterator[tuple[Flask, list[str]]]:
    """A second app on the suite's database, with routes that add a team and answer."""
    other = create_app({**app.config, "PROPAGATE_EXCEPTIONS": False, "FAST_LANES": False})
    done: list[str] = []

    def add_team(name: str) -> None:
        db.session.add(Team(name=name))
        db.session.flush()
        after_commit(lambda: done.append(name))

    @other.route(
        "/t/<answer>", methods=["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]
    )
    def answer_with(answer: str):
        add_team(answer)
        if answer == "raises":
            raise RuntimeError("a bug after the flush")
        return answer, ANSWERS.get(answer, 200)

    other.config["WTF_CSRF_ENABLED"] = False
    yield other, done
    with other.app_context():
        db.engine.dispose()


def _teams(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Team.name).order_by(Team.name)))


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("answer", ["created", "redirected", "ok"])
def test_a_write_answered_below_400_commits(app, hooked, method, answer):
    other, done = hooked
    response = other.test_client().open(f"/t/{answer}", method=method)
    assert response.status_code < 400
    assert _teams(app) == [answer]
    assert done == [answer]  # after the commit, once


@pytest.mark.parametrize("answer", ["refused", "missing", "raises"])
def test_a_refused_or_failed_write_keeps_nothing(app, hooked, answer):
    other, done = hooked
    response = other.test_client().post(f"/t/{answer}")
    assert response.status_code >= 400
    assert _teams(app) == []
    assert done == []


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_a_read_keeps_nothing_it_flushed(app, hooked, method):
    other, done = hooked
    response = other.test_client().open("/t/ok", method=method)
    assert response.status_code == 200
    assert _teams(app) == []
    assert done == []
