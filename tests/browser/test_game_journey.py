"""The game from end to end in a real browser: a team lead starts a challenge for their
team on its page, an employee shares on a phone and a visitor's click is counted, the
challenge board moves, the clock goes past the end and the lateness window and the
settlement job runs, and the employee's home page shows the result and the prize badge.

Jobs run through RQ as the worker runs them; the clock is moved with ``time-machine``,
which moves it for the whole test process, the live server's threads included.
"""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect
from sqlalchemy import select

from app.demo import WINNER_BADGE
from app.extensions import db
from app.models import BadgeGrant, Challenge, ChallengeAward, Role, utcnow
from app.services import badges
from app.services import rules as rules_service
from scoring.challenges import ChallengeState
from tests.browser.conftest import assert_fits, screenshot
from tests.browser.test_flows import _sign_in_directly
from tests.factories import (
    CompanySettingsFactory,
    ContentItemFactory,
    EmployeeFactory,
    ShareTemplateFactory,
    TeamFactory,
)

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
BERLIN = ZoneInfo("Europe/Berlin")
WALL_CLOCK = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> reads and sends


def _company() -> dict[str, int]:
    CompanySettingsFactory(time_zone="Europe/Berlin")
    rules_service.install_default_rules(effective_at=utcnow() - timedelta(days=60))
    wind = TeamFactory(name="Wind Engineering")
    lead = EmployeeFactory(name="Jonas Becker", role=Role.TEAM_LEAD, team=wind, opted_in=True)
    lena = EmployeeFactory(name="Lena Hoffmann", team=wind, opted_in=True)
    EmployeeFactory(name="Felix Wagner", team=wind, opted_in=True)  # takes part, no share
    item = ContentItemFactory(title="Our new wind farm")
    ShareTemplateFactory(content_id=item.id, text="Proud of the team behind this.")
    badge = badges.create_badge(None, dict(WINNER_BADGE))  # the prize
    db.session.commit()
    return {"lead": lead.id, "lena": lena.id, "item": item.id, "badge": badge.id}


def _my_row(page):
    return page.locator("table.board tr.is-me")


def test_a_challenge_from_its_start_to_the_prize_on_the_home_page(app, new_page, run_scheduled):
    with app.app_context():
        ids = _company()

    # 1. The team lead starts a challenge for their team, on its page.
    lead = new_page()
    _sign_in_directly(app, lead, ids["lead"])
    lead.get_by_role("link", name="Challenges").first.click()
    lead.get_by_role("link", name="New challenge").click()
    lead.wait_for_url("**/challenges/new")
    assert "Your team, Wind Engineering" in lead.locator("[data-own-team]").inner_text()
    starts = utcnow().astimezone(BERLIN).replace(second=0, microsecond=0)
    ends = starts + timedelta(hours=2)
    lead.get_by_label("Title").fill("Wind week")
    lead.get_by_label("Starts").fill(starts.strftime(WALL_CLOCK))
    lead.get_by_label("Ends").fill(ends.strftime(WALL_CLOCK))
    lead.get_by_label("Measure").select_option("points")
    lead.get_by_label("Lateness window in hours").fill("1")
    lead.get_by_label("Prize 1: place").fill("1")
    lead.get_by_label("Kind").first.select_option("badge")
    lead.get_by_label("Badge").first.select_option(label="Challenge winner")
    lead.get_by_role("button", name="Start the challenge").click()
    lead.wait_for_load_state()
    problems = lead.locator(".flash-error, .field-error").all_inner_texts()
    assert problems == [], problems
    lead.wait_for_url(re.compile(r".*/challenges/\d+$"))
    expect(lead.get_by_role("heading", name="Wind week")).to_be_visible()
    assert "1st place: the badge Challenge winner" in lead.locator("[data-prizes]").inner_text()
    screenshot(lead, "journey-challenge-started")
    with app.app_context():
        challenge = db.session.scalar(select(Challenge))
        assert challenge.organiser_id == ids["lead"]
        assert [t.name for t in challenge.teams] == ["Wind Engineering"]
        challenge_id, settle_at = challenge.id, challenge.ends_at + timedelta(hours=1)

    # 2. The employee shares on a phone; a visitor opens the link and the click counts.
    lena = new_page(**PHONE)
    _sign_in_directly(app, lena, ids["lena"])
    lena.wait_for_url("**/")
    lena.goto(f"/content/{ids['item']}/share")
    lena.get_by_label("LinkedIn").check()
    lena.get_by_label("Your text").fill("Wind, finally.")
    lena.get_by_role("button", name="Get my link").click()
    lena.wait_for_url("**/me/shares/*")
    link = lena.get_by_label("Your tracked link").input_value()
    run_scheduled("app.jobs.settle_points")
    run_scheduled("app.jobs.update_challenge_boards")

    lena.goto(f"/challenges/{challenge_id}")
    assert _my_row(lena).locator("td.rank").inner_text() == "1"
    shared_only = int(_my_row(lena).locator("td.num").inner_text())
    assert shared_only > 0  # the share's points

    visitor = new_page(user_agent=FIREFOX)
    response = visitor.request.get(link, max_redirects=0)
    assert response.status == 302
    run_scheduled("app.jobs.process_clicks")
    run_scheduled("app.jobs.settle_points")
    run_scheduled("app.jobs.update_challenge_boards")

    # 3. The board moves: the click's point is on it.
    lena.reload()
    assert _my_row(lena).locator("td.rank").inner_text() == "1"
    assert "Lena Hoffmann" in _my_row(lena).inner_text()
    assert int(_my_row(lena).locator("td.num").inner_text()) == shared_only + 1
    standing = lena.locator("[data-my-standing]").inner_text()
    assert f"Rank 1 with {shared_only + 1} points" in standing
    assert_fits(lena, "the challenge page")
    screenshot(lena, "journey-board-moved-phone")

    # 4. Past the end and the lateness window, the clock's settlement job runs.
    with time_machine.travel(settle_at + timedelta(minutes=2), tick=True):
        run_scheduled("app.jobs.settle_challenges")
        with app.app_context():
            challenge = db.session.get(Challenge, challenge_id)
            assert challenge.state is ChallengeState.SETTLED
            [award] = db.session.scalars(select(ChallengeAward)).all()
            assert (award.employee_id, award.prize_kind, award.place) == (ids["lena"], "badge", 1)
            grant = db.session.scalar(select(BadgeGrant).where(BadgeGrant.badge_id == ids["badge"]))
            assert grant.employee_id == ids["lena"]
            assert not grant.quiet

        # 5. The employee's home page shows the result and the prize badge.
        lena.goto("/")
        result = lena.locator(f'[data-result="{challenge_id}"]')
        assert "Wind week" in result.inner_text()
        assert result.locator("[data-result-rank]").inner_text() == "#1"
        assert "Challenge winner" in result.locator("[data-prizes]").inner_text()
        new_badge = lena.locator('[data-new-badge="challenge-winner"]')
        assert "New badge: Challenge winner" in new_badge.inner_text()
        assert_fits(lena, "the home page")
        screenshot(lena, "journey-home-prize-phone")

        # The settled results are sealed, and the page says the digest holds.
        lena.goto(f"/challenges/{challenge_id}")
        expect(lena.get_by_role("heading", name="Results", exact=True)).to_be_visible()
        assert lena.locator("[data-digest]").inner_text() == challenge.digest
        expect(lena.locator('[data-digest-check="ok"]')).to_be_visible()
        assert_fits(lena, "the settled challenge page")
        screenshot(lena, "journey-results-phone")
