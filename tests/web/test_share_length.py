"""A share's text is held to the network's length exactly as HR's share texts are:
text, disclosure, campaign hashtag and (on X) the link, counted together."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from app.models import Share
from tests.conftest import csrf_token
from tests.factories import ContentItemFactory, SharePolicyFactory, ShareTemplateFactory
from tests.web.api_support import count, session_caller

# " #employee" + " #GreenGrid" + X's link (a space and 23 characters)
EXTRA = len(" #employee") + len(" #GreenGrid") + 1 + 23
FITS = "a" * (280 - EXTRA)
TOO_LONG = FITS + "b"


@pytest.fixture
def item(app: Flask) -> int:
    with app.app_context():
        item = ContentItemFactory(title="Green grid", campaign_hashtag="#GreenGrid")
        ShareTemplateFactory(content_id=item.id, text="We built this.")
        return item.id


def test_the_api_refuses_a_text_too_long_for_x_naming_field_and_count(app: Flask, item):
    caller = session_caller(app, opted_in=True)
    response = caller.post(
        "/api/v1/shares", json={"content_id": item, "channel": "x", "text": "x" * 333}
    )
    assert response.status_code == 422, response.json
    assert list(response.json["errors"]) == ["text"]
    assert str(333 + EXTRA) in response.json["errors"]["text"][0]
    assert "280" in response.json["message"]
    assert count(app, Share) == 0


def test_the_limit_is_counted_like_hr_texts_to_the_character(app: Flask, item):
    with app.app_context():
        SharePolicyFactory(min_spacing_minutes=0)
    caller = session_caller(app, opted_in=True)
    too_long = caller.post(
        "/api/v1/shares", json={"content_id": item, "channel": "x", "text": TOO_LONG}
    )
    assert too_long.status_code == 422
    assert "281 characters" in too_long.json["errors"]["text"][0]
    fits = caller.post("/api/v1/shares", json={"content_id": item, "channel": "x", "text": FITS})
    assert fits.status_code == 201, fits.json
    # LinkedIn allows far more: the same long text is fine there.
    other = caller.post(
        "/api/v1/shares", json={"content_id": item, "channel": "linkedin", "text": "y" * 333}
    )
    assert other.status_code == 201, other.json


def test_the_dialog_refuses_it_readably_and_stores_nothing(app: Flask, client, login, item):
    login(opted_in=True)
    token = csrf_token(client, f"/content/{item}/share")
    response = client.post(
        f"/content/{item}/share",
        data={"csrf_token": token, "channel": "x", "text": "x" * 333, "template_id": ""},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Your share is ready" not in page
    assert f"{333 + EXTRA} characters" in page
    assert "X allows 280" in page
    assert "x" * 333 in page  # the text is kept for editing
    assert count(app, Share) == 0


def test_the_dialog_carries_the_limits_for_a_live_counter(client, login, item):
    login(opted_in=True)
    page = client.get(f"/content/{item}/share").get_data(as_text=True)
    assert re.search(r'data-length-limit="280"[^>]*data-link-length="24"', page)
    assert "data-length-counter" in page
    assert 'src="/static/share.js' in page
