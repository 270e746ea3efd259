"""A GET writes nothing: every page and every API route that answers GET, read from the
app's URL map, sends no INSERT, UPDATE or DELETE, not even one rolled back later.

The demo company gives every path id something to show; the singleton rows (company
settings, sharing policy) are read before anyone stored them, as in a new installation.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from app.demo import DEMO_LOGINS
from app.extensions import db
from app.models import (
    ApiToken,
    Badge,
    Challenge,
    ContentItem,
    Employee,
    InboundFeed,
    Lesson,
    ReferralProgramme,
    Reward,
    ScoringRule,
    Share,
    SharePolicy,
    TabooTopic,
    Team,
    WebhookEndpoint,
)
from app.services.sign_in import make_sign_in_token
from tests.conftest import sign_in, sql_statements

WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|UPSERT)\b", re.IGNORECASE)
NOT_READ_HERE = {"static": "files of the app itself, no database"}


@pytest.fixture
def demo(app: Flask, runner, tmp_path, monkeypatch) -> Flask:
    monkeypatch.setitem(app.config, "MEDIA_FOLDER", str(tmp_path / "media"))
    result = runner.invoke(args=["seed-demo", "--no-links"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(SharePolicy)) is None  # read before it is stored
    return app


def _first(model, *where) -> object:
    return db.session.scalar(select(model.id).where(*where).order_by(model.id))


def _path_values(me: Employee) -> dict[str, object]:
    with_image = select(ContentItem.image_filename).where(ContentItem.image_filename.is_not(None))
    return {
        "badge_id": _first(Badge) or 1,
        "challenge_id": _first(Challenge) or 1,
        "content_id": _first(ContentItem),
        "employee_id": _first(Employee, Employee.id != me.id),
        "endpoint_id": _first(WebhookEndpoint),
        "feed_id": _first(InboundFeed) or 1,
        "filename": db.session.scalar(with_image.limit(1)) or "none.png",
        "lesson_id": _first(Lesson) or 1,
        "programme_id": _first(ReferralProgramme),
        "reward_id": _first(Reward),
        "rule_id": _first(ScoringRule),
        # Opens nothing: reading a live link writes nothing either (tests/web/test_intranet.py).
        "secret": "x" * 43,
        "share_id": _first(Share, Share.employee_id == me.id) or _first(Share),
        "table": "network",  # an analytics table: reads the network policies too
        "team_id": _first(Team),
        "token": make_sign_in_token(me),
        "token_id": _first(ApiToken) or 1,
        "topic_id": _first(TabooTopic),
    }


def _read_paths(app: Flask, me: Employee) -> list[str]:
    values = _path_values(me)
    paths = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint in NOT_READ_HERE:
                continue
            arguments = {name: values[name] for name in rule.arguments}
            paths.append(app.url_for(rule.endpoint, **arguments))
    return sorted(set(paths))


@pytest.mark.parametrize("login", ["admin", "employee"])
def test_no_get_writes(demo: Flask, login: str):
    client = demo.test_client()
    with demo.app_context():
        me = db.session.scalar(select(Employee).where(Employee.email == DEMO_LOGINS[login]))
        paths = _read_paths(demo, me)
        db.session.expunge(me)
    sign_in(client, me)
    assert len(paths) > 60  # the whole URL map, not a few pages
    writes, answered = {}, {}
    for path in paths:
        with sql_statements(demo) as statements:
            response = client.get(path)
        response.close()  # a file's answer holds it open
        answered[path] = response.status_code
        found = [s.split("\n")[0][:80] for s in statements if WRITES.match(s)]
        if found:
            writes[path] = found
    assert writes == {}
    assert not [path for path, status in answered.items() if status >= 500]
    # Pages and API reads answer, the rest are refused by role or hand over a link.
    assert sum(status == 200 for status in answered.values()) > 25
