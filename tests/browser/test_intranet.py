"""The intranet widget in a real browser: an admin makes a link on the HR page, the
widget reads well on a phone and on a desktop, inside an iframe too, and its Share link
leads a signed-out reader through sign-in to the item's share dialog. Revoking the link
empties the widget at once."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.browser.conftest import assert_fits, screenshot
from tests.browser.test_flows import _sign_in_directly
from tests.factories import ContentItemFactory, EmployeeFactory, TeamFactory

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_an_admin_embeds_the_widget_and_a_reader_shares_from_it(
    app, new_page, live_url, run_jobs, outbox, device
):
    name = "phone" if device is PHONE else "desktop"
    with app.app_context():
        admin = EmployeeFactory(role=Role.ADMIN).id
        TeamFactory(name="Sales")
        EmployeeFactory(email="lena@example.com", name="Lena Hoffmann", opted_in=True)
        ContentItemFactory(
            title="Our new wind farm off the coast of Rügen powers 120,000 homes from today",
            summary="Built in eighteen months with partners from the region. " * 6,
        )
        story = ContentItemFactory(title="We are hiring: backend engineers in Hamburg").id

    page = new_page(**device)
    _sign_in_directly(app, page, admin)
    page.goto("/intranet-links")
    assert_fits(page, "the intranet links page")
    page.get_by_label("Shows the content for").select_option(value="")  # the whole company
    page.get_by_role("button", name="Make link").click()
    page.get_by_role("heading", name="Copy the new addresses now").wait_for()
    widget_url = page.locator("#widget-url").input_value()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/intranet/[\w-]{43}/widget", widget_url)
    assert_fits(page, "the page with the new link")
    screenshot(page, f"intranet-links-{name}")

    # A reader of the intranet, not signed in to Chorus.
    reader = new_page(**device)
    reader.goto(widget_url)
    assert reader.locator("script").count() == 0
    items = reader.locator("li")
    assert items.count() == 2
    assert "We are hiring" in items.nth(0).inner_text()  # newest first
    assert_fits(reader, "the widget")
    screenshot(reader, f"intranet-widget-{name}")

    # Inside an iframe on a page of another origin, as the intranet embeds it: a page
    # written into http://localhost:<port> (Chromium lets only local pages frame a local
    # address), while the widget is served from http://127.0.0.1:<port>.
    reader.goto(live_url.replace("127.0.0.1", "localhost") + "/healthz")
    reader.set_content(
        "<!doctype html><title>Intranet</title><h1>Welcome</h1>"
        f'<iframe src="{widget_url}" title="Content to share" '
        'style="width:100%;max-width:480px;height:600px;border:0"></iframe>'
    )
    framed = reader.frame_locator("iframe")
    share = framed.get_by_role("link", name=re.compile("^Share: We are hiring"))
    assert share.get_attribute("target") == "_blank"
    with reader.context.expect_page() as opened:
        share.click()
    dialog = opened.value
    dialog.wait_for_url(re.compile(r"/sign-in\?next="))
    dialog.get_by_label("Work e-mail").fill("lena@example.com")
    dialog.get_by_role("button", name="Send me a sign-in link").click()
    dialog.get_by_role("heading", name="Check your mail").wait_for()
    run_jobs()
    link = re.search(r"http://127\.0\.0\.1:\d+/sign-in/\S+", outbox[-1].get_content()).group(0)
    dialog.goto(link)
    dialog.get_by_role("button", name="Sign in").click()
    dialog.wait_for_url(f"**/content/{story}/share")
    dialog.get_by_role("heading", name=re.compile("We are hiring")).wait_for()
    assert_fits(dialog, "the share dialog")

    # Revoked: the widget says so at once.
    page.once("dialog", lambda confirm: confirm.accept())
    page.goto("/intranet-links")
    page.get_by_role("button", name="Revoke the link for The whole company").click()
    page.get_by_text("is revoked").wait_for()
    reader.goto(widget_url)
    expect(reader.get_by_role("heading", name="Not available")).to_be_visible()
    assert_fits(reader, "the widget of a revoked link")
