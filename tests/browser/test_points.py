"""Points and leaderboards in a real browser: tabs, my highlighted row, my points with
reasons, and the board on a phone without sideways scrolling."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.models import utcnow
from tests.browser.conftest import assert_fits, screenshot
from tests.browser.test_flows import _sign_in_directly
from tests.factories import EmployeeFactory, TeamFactory
from tests.web.points_pages_support import give, install_company, settle

pytestmark = pytest.mark.browser


def _company_with_points() -> int:
    install_company()
    wind = TeamFactory(name="Wind Engineering")
    sun = TeamFactory(name="Solar Sales")
    lena = EmployeeFactory(name="Lena Hoffmann", team=wind, opted_in=True)
    give(lena, 50, reason="Shared “Our new wind farm” on LinkedIn")
    give(lena, 15, reason="Bonus for the trade-fair week")
    for n, (team, points) in enumerate([(wind, 90), (sun, 65), (wind, 65), (sun, 30)]):
        give(
            EmployeeFactory(
                name=f"Colleague With A Rather Long Name {n}", team=team, opted_in=True
            ),
            points,
            at=utcnow() - timedelta(minutes=10 - n),
        )
    settle()
    return lena.id


def _my_row(page):
    return page.locator("table.board tr.is-me")


def test_employee_reads_boards_and_points(app, new_page):
    with app.app_context():
        lena = _company_with_points()
    page = new_page()
    _sign_in_directly(app, page, lena)
    # The home page links the boards too; the menu's link is the one a person looks for.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Leaderboards").click()
    page.wait_for_url("**/leaderboards")
    assert _my_row(page).locator("td.rank").inner_text() == "2"  # 65 ties with two others
    assert "Lena Hoffmann" in _my_row(page).inner_text()
    assert "You: rank 2 with 65 points." in page.locator("[data-my-standing]").inner_text()
    ranks = page.locator("table.board td.rank").all_inner_texts()
    assert ranks == ["1", "2", "2", "2", "5"]
    color = _my_row(page).locator("td").first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert color not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)")
    screenshot(page, "leaderboard-company")

    page.get_by_role("link", name="My team").click()
    page.wait_for_url("**scope=team**")
    expect(page.get_by_role("heading", name="Wind Engineering")).to_be_visible()
    assert page.locator("table.board td.rank").all_inner_texts() == ["1", "2", "2"]
    assert "Lena Hoffmann" in _my_row(page).inner_text()
    page.get_by_role("link", name="All time").click()
    page.wait_for_url("**window=all_time**")
    assert "Lena Hoffmann" in _my_row(page).inner_text()
    screenshot(page, "leaderboard-team-all-time")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My points").click()
    page.wait_for_url("**/me/points")
    lines = page.locator("li.ledger-line")
    assert lines.count() == 2
    assert "Bonus for the trade-fair week" in lines.first.inner_text()
    assert "Shared “Our new wind farm” on LinkedIn" in lines.nth(1).inner_text()
    assert page.locator('[data-points="lifetime"]').inner_text() == "65"
    screenshot(page, "my-points")


def test_leaderboard_fits_a_phone(app, new_page):
    with app.app_context():
        lena = _company_with_points()
    page = new_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    _sign_in_directly(app, page, lena)
    page.goto("/leaderboards")
    assert "Lena Hoffmann" in _my_row(page).inner_text()
    assert_fits(page, "the leaderboard")
    screenshot(page, "leaderboard-phone")
    page.goto("/me/points")
    assert_fits(page, "my points")
    screenshot(page, "my-points-phone")
