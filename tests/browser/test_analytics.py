"""The analytics pages in a real browser, on the demo company: HR opens them from the
menu, switches breakdown and period and downloads a CSV; a team lead reads their team's
figures; every breakdown fits a 390 px phone."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from app.demo import DEMO_LOGINS
from app.extensions import db
from app.models import Employee
from app.schemas.analytics_pages import DIMENSIONS
from app.services.sign_in import sign_in_url
from app.web.analytics import company_today
from tests.browser.conftest import overflow, screenshot

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def demo(app: Flask, runner, tmp_path, monkeypatch) -> Flask:
    monkeypatch.setitem(app.config, "MEDIA_FOLDER", str(tmp_path / "media"))
    result = runner.invoke(args=["seed-demo", "--no-links"])
    assert result.exit_code == 0, result.output
    return app


def _signed_in(demo: Flask, new_page, role: str, **options):
    with demo.app_context():
        me = db.session.scalar(select(Employee).where(Employee.email == DEMO_LOGINS[role]))
        link = sign_in_url(me)
    page = new_page(**options)
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/sign-in" not in url)
    return page


def test_hr_switches_breakdown_and_period_and_downloads_a_csv(demo, new_page):
    with demo.app_context():
        last_week = company_today() - timedelta(days=7)
    page = _signed_in(demo, new_page, "hr", accept_downloads=True)
    page.get_by_text("HR", exact=True).click()  # the menu
    page.get_by_role("link", name="Analytics", exact=True).click()
    page.wait_for_url("**/analytics")
    expect(page.get_by_role("heading", name="Analytics", exact=True)).to_be_visible()
    # The chart is a picture named by its heading, and its table follows.
    chart = page.get_by_role("img", name="Clicks, clicks on these shares and shares by month")
    expect(chart).to_be_visible()
    assert chart.bounding_box()["width"] > 300
    expect(page.locator("table.figures").first).to_be_visible()

    page.get_by_role("link", name="Networks").click()
    page.wait_for_url("**show=network**")
    assert page.get_by_role("img", name="Clicks and shares by network, most clicked first")
    expect(page.get_by_role("heading", name="Assumptions of value, per network")).to_be_visible()

    page.get_by_label("Period", exact=True).select_option("week")
    page.get_by_label("A day in it").fill(last_week.isoformat())
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**period=week**")
    assert "show=network" in page.url
    expect(page.get_by_role("heading", name="Networks · Week from")).to_be_visible()
    screenshot(page, "analytics-networks")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    csv_file = download.value
    assert csv_file.suggested_filename.startswith("chorus-network-week-")
    rows = list(csv.reader(io.StringIO(Path(csv_file.path()).read_text(encoding="utf-8"))))
    assert rows[0][:2] == ["Network", "Clicks (clicks received in the period)"]
    assert {row[0] for row in rows[1:]} >= {"LinkedIn", "XING"}

    page.get_by_role("link", name="Interests \u00d7 tags").click()
    page.wait_for_url("**show=matrix**")
    expect(page.locator("table.heat-map")).to_be_visible()
    screenshot(page, "analytics-matrix")


def test_a_team_lead_reads_their_teams_figures_together(demo, new_page):
    page = _signed_in(demo, new_page, "team_lead")
    page.get_by_role("link", name="Team analytics").click()
    page.wait_for_url("**/team/analytics")
    expect(page.get_by_role("heading", name="Team analytics: Sales")).to_be_visible()
    assert page.get_by_role("img", name="Clicks, clicks on these shares and shares by month")
    rows = page.locator("table.figures tbody tr")
    assert rows.count() == 12  # a year of months, none of them anyone's own
    assert "Group too small" not in rows.last.inner_text()  # this month
    assert page.get_by_role("link", name="Networks").count() == 0
    screenshot(page, "analytics-team")


def test_every_breakdown_fits_a_phone(demo, new_page):
    page = _signed_in(demo, new_page, "hr", **PHONE)
    wide = {}
    for show in DIMENSIONS:
        for period in ("day", "week", "month"):
            page.goto(f"/analytics?show={show}&period={period}")
            if extra := overflow(page):
                wide[f"{show}/{period}"] = extra
                screenshot(page, f"wide-analytics-{show}-{period}")
        # The chart is drawn to the screen's width, not beyond it.
        for svg in page.locator("svg.chart-svg").all():
            assert svg.bounding_box()["width"] <= 390
    page.goto("/team/analytics?period=week")
    if extra := overflow(page):
        wide["team"] = extra
    assert wide == {}
