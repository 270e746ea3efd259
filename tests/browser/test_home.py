"""The employee's home in a real browser: one column of cards on a phone, a grid on a
desktop, every figure the same as the boards', and each card leading to its page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Team, utcnow
from app.services.home_ranks import ensure_snapshot
from scoring.windows import Window, window_start
from tests.browser.conftest import overflow, screenshot
from tests.browser.test_flows import _sign_in_directly
from tests.factories import (
    ChallengeFactory,
    ContentItemFactory,
    EmployeeFactory,
    LessonFactory,
)
from tests.web.points_pages_support import give, install_company, settle
from tests.web.points_support import ZONE

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def _company(app) -> int:
    with app.app_context():
        install_company()
        me = EmployeeFactory(name="Lena Hoffmann", opted_in=True)
        team = db.session.get(Team, me.team_id)
        last_week = window_start(Window.WEEK, utcnow(), ZONE) - timedelta(days=2)
        rival = EmployeeFactory(name="Anna Early", team=team, opted_in=True)
        give(rival, 120, at=last_week)
        give(me, 40, at=last_week)
        give(me, 100)
        settle()
        ensure_snapshot()
        ContentItemFactory(title="Our new wind farm", featured=True)
        LessonFactory(title="Building a professional profile")
        ChallengeFactory(title="Autumn shares")
        db.session.commit()
        return me.id


def _lefts(page) -> list[float]:
    return page.locator(".home-grid > .card").evaluate_all(
        "cards => cards.map(c => Math.round(c.getBoundingClientRect().left))"
    )


def test_the_home_on_a_phone_is_one_column_and_agrees_with_the_boards(app, new_page):
    lena = _company(app)
    page = new_page(**PHONE)
    _sign_in_directly(app, page, lena)
    page.get_by_role("heading", name="Where you stand").wait_for()
    assert overflow(page) <= 0
    assert len(set(_lefts(page))) == 1  # one column
    all_time = page.locator('[data-board="company-all_time"]')
    assert all_time.locator(".home-rank").inner_text() == "#1"  # 140 against 120
    assert "up 1 place since last week" in all_time.inner_text()
    assert page.locator("[data-points-this-week]").inner_text() == "100"
    assert "Our new wind farm" in page.locator('[data-home="content"]').inner_text()
    assert "Building a professional profile" in page.locator('[data-home="lessons"]').inner_text()
    assert "Autumn shares" in page.locator('[data-home="challenges"]').inner_text()
    screenshot(page, "home-phone")

    all_time.get_by_role("link", name="All time").click()
    page.wait_for_url(re.compile(r"/leaderboards\?scope=company&window=all_time"))
    assert page.locator("[data-my-standing]").inner_text().startswith("You: rank 1 with 140 points")

    page.goto("/")
    page.get_by_role("link", name="Autumn shares").click()
    page.wait_for_url(re.compile(r"/challenges/\d+$"))
    page.goto("/")
    page.get_by_role("link", name="Building a professional profile").click()
    page.wait_for_url(re.compile(r"/lessons/\d+$"))
    page.goto("/")
    page.get_by_role("link", name="Everything in your feed").click()
    page.wait_for_url("**/feed")
    page.get_by_role("link", name="Home", exact=True).click()
    page.wait_for_url(re.compile(r"/$"))


def test_the_home_on_a_desktop_is_a_grid(app, new_page):
    lena = _company(app)
    page = new_page(**DESKTOP)
    _sign_in_directly(app, page, lena)
    page.get_by_role("heading", name="Where you stand").wait_for()
    assert len(set(_lefts(page))) == 2  # two columns, the wide cards across both
    screenshot(page, "home-desktop")
