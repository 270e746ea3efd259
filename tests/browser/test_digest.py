"""The digest end to end, on a phone and on a desktop: a person chooses a daily digest
at eight in New York on the settings page, the clock's compose finds it due at eight
there, the worker sends it through a real SMTP server on loopback, and its share link
opens the share dialog."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.services import digests, notifications
from scoring.notifications import Digest
from tests.browser.conftest import assert_fits, screenshot
from tests.browser.test_flows import _sign_in_directly
from tests.browser.test_inbox import DESKTOP, PHONE
from tests.factories import ContentItemFactory, EmployeeFactory

pytestmark = pytest.mark.browser

NEW_YORK = ZoneInfo("America/New_York")


def next_weekday_at_eight_in_new_york() -> datetime:
    day = datetime.now(NEW_YORK).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 8, 5, tzinfo=NEW_YORK).astimezone(UTC)


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_chosen_digest_arrives_by_mail_and_its_link_opens_the_share_dialog(
    app, new_page, mailbox, deliver, device
):
    with app.app_context():
        lena = EmployeeFactory(name="Lena Hoffmann", email="lena@example.com", opted_in=True)
        item = ContentItemFactory(
            title="We are hiring in Leipzig", published_at=datetime.now(UTC) - timedelta(hours=2)
        )
        db.session.commit()
        lena_id, item_id = lena.id, item.id

    page = new_page(**device)
    _sign_in_directly(app, page, lena_id)
    page.goto("/inbox/settings")
    assert_fits(page, "the settings")
    page.get_by_label("Digest of new content to share").select_option("daily")
    page.get_by_label("At", exact=True).select_option("8")
    page.get_by_label("Your time zone").select_option("America/New_York")
    page.get_by_label("From").select_option("")
    page.get_by_label("until").select_option("")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved: this is what reaches you now.")).to_be_visible()
    screenshot(page, f"mail-settings-{'phone' if device is PHONE else 'desktop'}")
    with app.app_context():
        chosen = notifications.preferences_of([lena_id])[lena_id]
    assert (chosen.digest, chosen.digest_hour, chosen.time_zone) == (
        Digest.DAILY,
        8,
        "America/New_York",
    )
    assert chosen.quiet_from is None

    # The clock's compose, at eight in New York on the next working day; then the worker.
    with app.app_context():
        assert sum(digests.compose_due(next_weekday_at_eight_in_new_york())) == 1
        db.session.commit()
    deliver()
    (mail,) = mailbox.messages
    assert mail["To"] == "lena@example.com"
    assert mail["Subject"] == "New to share: We are hiring in Leipzig"
    html = mail.get_body(preferencelist=("html",)).get_content()
    link = re.search(r'href="([^"]+/content/\d+/share)"', html).group(1)
    page.goto(urlsplit(link).path)
    page.wait_for_url(f"**/content/{item_id}/share")
    expect(page.get_by_role("heading", name="Share “We are hiring in Leipzig”")).to_be_visible()
    assert_fits(page, "the share dialog")
