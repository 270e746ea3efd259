"""Webhooks in a real browser, on a phone and on a desktop: an admin registers an
endpoint (a loopback receiver), copies its secret, sends a test the receiver can verify
with that secret, sees a real event's delivery in the log, and sends a failed one
again."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from standardwebhooks import Webhook

from app.extensions import db
from app.jobs import deliver_outbox
from app.models import Role, utcnow
from app.services import sharing
from scoring.vocabulary import Channel
from tests.browser.conftest import assert_fits, screenshot
from tests.browser.test_flows import _sign_in_directly
from tests.browser.test_inbox import DESKTOP, PHONE
from tests.factories import ContentItemFactory, EmployeeFactory

pytestmark = pytest.mark.browser


def _a_share_happens(app) -> None:
    with app.app_context():
        sharing.record_share(
            EmployeeFactory(opted_in=True), ContentItemFactory(), Channel.XING, "x", utcnow(), True
        )
        db.session.commit()
        deliver_outbox()


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_an_admin_registers_tests_and_reads_the_log_of_an_endpoint(app, new_page, receiver, device):
    with app.app_context():
        admin_id = EmployeeFactory(role=Role.ADMIN, name="Lena Hoffmann").id
        db.session.commit()
    page = new_page(**device)
    _sign_in_directly(app, page, admin_id)
    page.goto("/admin/mail")
    page.locator("summary", has_text="Admin").click()
    page.get_by_role("link", name="Webhooks").click()
    page.wait_for_url("**/webhooks")
    assert_fits(page, "the webhooks page")
    page.get_by_label("Name", exact=True).fill("HR warehouse")
    page.get_by_label("Address", exact=True).fill(receiver.url + "/chorus")
    page.get_by_label("share.created").check()
    page.get_by_role("button", name="Register").click()
    secret = page.get_by_label("Signing secret of HR warehouse").input_value()
    assert secret.startswith("whsec_")
    assert_fits(page, "an endpoint's page")

    page.get_by_role("button", name="Send test").click()
    expect(page.get_by_text("HR warehouse took the test (200 OK)")).to_be_visible()
    assert secret not in page.content()  # shown once
    ping = receiver.requests[0]
    assert Webhook(secret).verify(ping.body, ping.headers)["type"] == "chorus.ping"

    receiver.answer(400)
    _a_share_happens(app)
    page.get_by_role("link", name="failed").click()
    page.wait_for_url("**state=failed")
    row = page.get_by_role("row").filter(has_text="share.created")
    assert "400 Bad Request" in row.inner_text()
    row.get_by_role("button", name="Send again").click()
    expect(page.get_by_text("It goes out again within seconds.")).to_be_visible()
    with app.app_context():
        deliver_outbox()
    page.get_by_role("link", name="sent").click()
    expect(page.get_by_role("row").filter(has_text="share.created")).to_have_count(1)
    sent = receiver.requests[-1]
    assert Webhook(secret).verify(sent.body, sent.headers)["type"] == "share.created"
    assert_fits(page, "the delivery log")
    screenshot(page, f"webhooks-{'phone' if device is PHONE else 'desktop'}")
