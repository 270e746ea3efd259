"""Slack and Teams in a real browser, on a phone and on a desktop: an admin connects a
channel (its address shown back only masked), sends a test that arrives at a loopback
receiver, and turns it off."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Role
from tests.browser.conftest import assert_fits, screenshot
from tests.browser.test_flows import _sign_in_directly
from tests.browser.test_inbox import DESKTOP, PHONE
from tests.factories import ChatDestinationFactory, EmployeeFactory, TeamFactory

pytestmark = pytest.mark.browser

SLACK = "https://hooks.slack.com/services/T0001/B0001/abcdefghijklmnopqrstuvwx"


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_an_admin_connects_tests_and_turns_off_a_channel(app, new_page, receiver, device):
    with app.app_context():
        admin = EmployeeFactory(role=Role.ADMIN, name="Lena Hoffmann")
        TeamFactory(name="Sales")
        ChatDestinationFactory(name="#loopback", url=receiver.url + "/hook")
        db.session.commit()
        admin_id = admin.id
    page = new_page(**device)
    _sign_in_directly(app, page, admin_id)
    page.goto("/admin/chat")
    assert_fits(page, "the chat channels")
    page.get_by_label("Where").select_option("slack")
    page.get_by_label("Name", exact=True).fill("#sales")
    page.get_by_label("Whose channel").select_option(label="Sales")
    page.get_by_label("Webhook address", exact=True).fill(SLACK)
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.get_by_text("#sales is connected.")).to_be_visible()
    expect(page.get_by_text("https://hooks.slack.com/…uvwx")).to_be_visible()
    assert SLACK not in page.content()

    page.get_by_role("button", name="Send test to #loopback").click()
    expect(page.get_by_text("#loopback took the test (200 OK)")).to_be_visible()
    assert receiver.requests[0].json["text"].startswith("Chorus is connected")
    page.get_by_role("button", name="Turn off #loopback").click()
    expect(page.get_by_text("#loopback is off.")).to_be_visible()
    assert_fits(page, "the chat channels")
    screenshot(page, f"chat-{'phone' if device is PHONE else 'desktop'}")


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_an_employee_asks_to_be_mentioned_and_a_badge_is_posted_naming_them(
    app, new_page, receiver, device
):
    from app.jobs import deliver_outbox
    from app.services import announcements
    from app.services.notifications import Told
    from scoring.notifications import Kind

    with app.app_context():
        team = TeamFactory(name="Sales")
        ChatDestinationFactory(
            name="#sales-wins", team=team, post_mentions=True, url=receiver.url + "/hook"
        )
        lena = EmployeeFactory(name="Lena Hoffmann", opted_in=True, team=team)
        db.session.commit()
        lena_id = lena.id
    page = new_page(**device)
    _sign_in_directly(app, page, lena_id)
    page.goto("/inbox/settings")
    assert_fits(page, "the settings")
    expect(page.get_by_text("#sales-wins")).to_be_visible()
    page.get_by_label("A badge you earned: Chat mention").check()
    page.get_by_label("Your Slack member ID").fill("U012AB3CDE")
    page.get_by_label("From").select_option(label="none")
    page.get_by_label("until").select_option(label="none")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved: this is what reaches you now.")).to_be_visible()
    with app.app_context():
        announcements.announce(
            [Told(lena_id, Kind.BADGE_EARNED, key="badge:1", title="You earned Storyteller")]
        )
        db.session.commit()
        assert deliver_outbox()["sent"] == 1
    (posted,) = receiver.requests
    assert posted.json["text"].startswith("<@U012AB3CDE> You earned Storyteller")
