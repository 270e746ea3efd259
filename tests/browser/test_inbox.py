"""The inbox in a real browser, on a phone and on a desktop: a badge earned and a
decision on a reward arrive, the navigation counts them, opening one goes where it
points and marks it read, "mark all read" empties the count, and the settings page
keeps the choice of no mail."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Employee, Role, utcnow
from app.services import badges, notifications
from app.services import redemptions as rewards
from scoring.notifications import Channel, Kind
from scoring.vocabulary import EventKind
from tests.browser.conftest import assert_fits, screenshot
from tests.browser.test_flows import _sign_in_directly
from tests.factories import EmployeeFactory, EventFactory, LedgerLineFactory

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def _inbox_link(page):
    return page.get_by_role("link", name=re.compile(r"^Inbox"))


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_news_arrive_in_the_inbox_and_the_person_decides_what_reaches_them(
    app, new_page, run_scheduled, deliver, device
):
    with app.app_context():
        hr = EmployeeFactory(role=Role.HR)
        lena = EmployeeFactory(name="Lena Hoffmann", opted_in=True)
        LedgerLineFactory(employee_id=lena.id, points=500)
        badges.create_badge(
            None,
            {"id": "first-share", "name": "First share", "kind": "first", "measure": "shares"},
        )
        EventFactory(
            employee_id=lena.id, kind=EventKind.SHARE, occurred_at=utcnow() - timedelta(hours=1)
        )
        sum(badges.evaluate_everyone())
        prize = rewards.create_reward(hr, {"name": "Company hoodie", "cost": 100})
        taken, _ = rewards.redeem(lena, prize.id, "hoodie")
        rewards.approve(hr, taken, "At the front desk on Friday.")
        db.session.commit()
        lena_id = lena.id
    run_scheduled("app.jobs.notify_redemptions")
    assert len(deliver()) == 1  # the decision by mail too, as by default

    page = new_page(**device)
    _sign_in_directly(app, page, lena_id)
    page.goto("/feed")
    assert _inbox_link(page).inner_text().split() == ["Inbox", "2"]
    _inbox_link(page).click()
    page.wait_for_url("**/inbox")
    items = page.locator(".inbox-item")
    assert items.count() == 2
    assert "Your reward: Company hoodie" in items.nth(0).inner_text()
    assert "At the front desk on Friday." in items.nth(0).inner_text()
    assert "You earned First share" in items.nth(1).inner_text()
    assert_fits(page, "the inbox")
    screenshot(page, f"inbox-{'phone' if device is PHONE else 'desktop'}")

    # Opening one goes where it points and marks it read.
    page.get_by_role("button", name=re.compile("You earned First share")).click()
    page.wait_for_url("**/badges/mine")
    assert _inbox_link(page).inner_text().split() == ["Inbox", "1"]
    _inbox_link(page).click()
    page.wait_for_url("**/inbox")
    page.get_by_role("button", name="Mark all read").click()
    expect(page.get_by_text("Marked 1 read.")).to_be_visible()
    assert _inbox_link(page).inner_text().strip() == "Inbox"
    assert page.locator(".inbox-item.is-unread").count() == 0

    # No more mail about rewards: the inbox alone.
    page.get_by_role("link", name="What reaches me").click()
    page.wait_for_url("**/inbox/settings")
    assert_fits(page, "the settings")
    screenshot(page, f"inbox-settings-{page.viewport_size['width']}")
    mail = page.get_by_label("A decision on a reward you redeemed: E-mail")
    assert mail.is_checked()
    mail.uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved: this is what reaches you now.")).to_be_visible()
    assert not page.get_by_label("A decision on a reward you redeemed: E-mail").is_checked()
    assert page.get_by_label("A badge you earned: In Chorus").is_checked()
    with app.app_context():
        employee = db.session.get(Employee, lena_id)
        assert (
            notifications.choices_of([lena_id])[lena_id][(Kind.REDEMPTION_DECIDED, Channel.EMAIL)]
            is False
        )
        assert notifications.unread_count(employee) == 0
