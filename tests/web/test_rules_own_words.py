"""The own-words condition of scoring rules over the API and on HR's rule pages: set,
versioned like the other conditions, described in words; bad input changes nothing."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Role, RuleVersion, ScoringRule, Share
from scoring.vocabulary import Channel
from tests.conftest import csrf_token
from tests.factories import ContentItemFactory, ShareTemplateFactory
from tests.web.api_support import bearer_caller, count
from tests.web.points_pages_support import install_company
from tests.web.points_support import setup_company

RULE = {"name": "Own words bonus", "event_kind": "share", "points": 5, "own_words": True}


@pytest.fixture
def hr(app: Flask):
    setup_company(app)
    return bearer_caller(app, Role.HR)


def test_a_rule_for_own_words_over_the_api_and_a_new_version_without(app, hr):
    created = hr.post("/api/v1/rules", json=RULE)
    assert created.status_code == 201, created.json
    assert created.json["current"]["own_words"] is True
    edit = hr.post(f"/api/v1/rules/{created.json['id']}/versions", json={"own_words": None})
    assert edit.status_code == 201, edit.json
    versions = hr.get(f"/api/v1/rules/{created.json['id']}").json["versions"]
    assert [v["own_words"] for v in versions] == [True, None]


def test_false_is_stored_as_any(app, hr):
    created = hr.post("/api/v1/rules", json={**RULE, "own_words": False})
    assert created.json["current"]["own_words"] is None


@pytest.mark.parametrize("value", ["maybe", 2, [True], {"a": 1}])
def test_a_bad_value_names_the_field_and_changes_nothing(app, hr, value):
    before = count(app, ScoringRule)
    response = hr.post("/api/v1/rules", json={**RULE, "own_words": value})
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["own_words"]
    assert count(app, ScoringRule) == before


def _post(client, path: str, data: dict):
    return client.post(path, data={"csrf_token": csrf_token(client, "/me"), **data})


FORM = {
    "name": "Own words on LinkedIn",
    "event_kind": "share",
    "points": "4",
    "cap": "",
    "cap_window": "day",
    "vesting_days": "0",
    "own_words": "on",
}


def test_hr_ticks_own_words_on_the_page_and_reads_it_in_words(app, client, login):
    with app.app_context():
        install_company()
    login(Role.HR)
    form = client.get("/rules/new").get_data(as_text=True)
    assert 'name="own_words"' in form
    response = _post(client, "/rules/new", FORM)
    assert response.status_code == 302
    with app.app_context():
        rule = db.session.scalar(select(ScoringRule).where(ScoringRule.name == FORM["name"]))
        assert rule.versions[0].own_words is True
        rule_id = rule.id
    listing = client.get("/rules").get_data(as_text=True)
    assert "only shares in the employee\u2019s own words" in listing
    edit_page = client.get(f"/rules/{rule_id}").get_data(as_text=True)
    assert 'id="own_words" name="own_words" value="on"' in edit_page
    assert "checked" in edit_page.split('id="own_words"')[1].split(">")[0]

    unticked = {k: v for k, v in FORM.items() if k not in ("name", "own_words")}
    assert _post(client, f"/rules/{rule_id}", unticked).status_code == 302
    with app.app_context():
        versions = db.session.scalars(
            select(RuleVersion).where(RuleVersion.rule_id == rule_id).order_by(RuleVersion.version)
        ).all()
        assert [v.own_words for v in versions] == [True, None]


def test_a_bad_page_form_keeps_the_box_ticked_and_saves_nothing(app, client, login):
    with app.app_context():
        install_company()
        before = db.session.query(ScoringRule).count()
    login(Role.HR)
    response = _post(client, "/rules/new", {**FORM, "points": "-3"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in page
    assert "checked" in page.split('id="own_words"')[1].split(">")[0]
    assert count(app, ScoringRule) == before


def test_the_share_page_says_own_words_land_better_and_a_page_share_records_it(app, client, login):
    with app.app_context():
        item = ContentItemFactory(title="Wind farms")
        ShareTemplateFactory(
            content_id=item.id, channel=Channel.LINKEDIN, text="Three new wind farms this year."
        )
        item_id = item.id
    login(Role.EMPLOYEE, opted_in=True)
    page = client.get(f"/content/{item_id}/share").get_data(as_text=True)
    assert "data-own-words-hint" in page
    assert "a post in your own words" in page
    for text in (
        "Three new wind farms this year!",
        "I plan the cables for the first one and we need more people like me.",
    ):
        login(Role.EMPLOYEE, opted_in=True)  # one share each: the caps space a person's shares
        token = csrf_token(client, f"/content/{item_id}/share")
        response = client.post(
            f"/content/{item_id}/share",
            data={"csrf_token": token, "channel": "linkedin", "text": text},
        )
        assert response.status_code == 302
    with app.app_context():
        marks = db.session.scalars(select(Share.own_words).order_by(Share.id)).all()
        assert marks == [False, True]
