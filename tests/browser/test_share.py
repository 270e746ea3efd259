"""Sharing in a real browser: the feed, the share dialog with its live preview, and the
tracked link with the network's share dialog."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import Share
from tests.browser.conftest import assert_fits, overflow, screenshot
from tests.browser.test_flows import _sign_in_directly
from tests.factories import ContentItemFactory, EmployeeFactory, ShareTemplateFactory

pytestmark = pytest.mark.browser


def test_employee_shares_an_item_on_linkedin(app, new_page, live_url):
    with app.app_context():
        lena = EmployeeFactory(name="Lena Hoffmann", opted_in=True).id
        item = ContentItemFactory(title="Our new wind farm", campaign_hashtag="#GreenGrid")
        ShareTemplateFactory(content_id=item.id, text="Proud of the team behind this.")
    page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    _sign_in_directly(app, page, lena)
    # Home first; the feed is a tap away.
    page.get_by_role("heading", name="Where you stand").wait_for()
    page.get_by_role("link", name="Everything in your feed").click()
    page.wait_for_url("**/feed")
    card = page.locator("article.feed-item", has_text="Our new wind farm")
    card.get_by_role("link", name="Share Our new wind farm").click()
    page.wait_for_url("**/content/*/share")
    page.get_by_label("LinkedIn").check()
    text = page.get_by_label("Your text")
    text.fill("Wind, finally.")
    preview = page.locator("[data-share-preview]")
    assert preview.inner_text() == "Wind, finally. #employee #GreenGrid"  # live, before sending
    assert_fits(page, "the dialog")
    screenshot(page, "share-dialog")
    page.get_by_role("button", name="Get my link").click()
    page.wait_for_url("**/me/shares/*")

    link = page.get_by_label("Your tracked link").input_value()
    assert re.fullmatch(re.escape(live_url) + r"/l/[0-9A-Za-z]+\.[\w-]{16}", link)
    intent = page.get_by_role("link", name="Open LinkedIn to post").get_attribute("href")
    assert intent.startswith("https://www.linkedin.com/sharing/share-offsite/?url=")
    assert "%2Fl%2F" in intent
    assert page.get_by_label("Your text").input_value() == "Wind, finally. #employee #GreenGrid"
    screenshot(page, "share-ready")
    with app.app_context():
        share = db.session.query(Share).one()
        assert share.text == "Wind, finally. #employee #GreenGrid"

    # The tracked link leads to the article, with our parameters.
    response = page.request.get(link, max_redirects=0)
    assert response.status == 302
    assert f"ref={share.ref_code}" in response.headers["location"]


def test_the_dialog_counts_the_text_as_x_will_and_the_server_agrees(app, new_page):
    with app.app_context():
        lena = EmployeeFactory(name="Lena Hoffmann", opted_in=True).id
        item = ContentItemFactory(title="Our new wind farm", campaign_hashtag="#GreenGrid").id
    page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    _sign_in_directly(app, page, lena)
    page.get_by_role("heading", name="Where you stand").wait_for()
    page.goto(f"/content/{item}/share")
    counter = page.locator("[data-length-counter]")
    page.get_by_label("X", exact=True).check()
    # " #employee #GreenGrid" and X's link (a space and 23 characters) count too.
    page.get_by_label("Your text").fill("a" * 236)
    assert counter.inner_text() == (
        "281 of 280 characters on X, with the disclosure, hashtag and link: 1 too many."
    )
    assert "field-error" in counter.get_attribute("class")
    page.get_by_label("Your text").fill("a" * 235)
    assert counter.inner_text().startswith("280 of 280 characters on X")
    page.get_by_label("LinkedIn").check()
    assert counter.inner_text().startswith("256 of 3000 characters on LinkedIn")
    # Whatever the page showed, the server decides: one too many is refused.
    page.get_by_label("X", exact=True).check()
    page.get_by_label("Your text").fill("a" * 236)
    assert overflow(page) <= 0, "a long word widens the dialog"
    page.get_by_role("button", name="Get my link").click()
    page.get_by_text("Your text is 281 characters").first.wait_for()
    with app.app_context():
        assert db.session.query(Share).count() == 0
