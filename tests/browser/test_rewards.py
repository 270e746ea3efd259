"""Redeeming a reward in a real browser: the catalogue with the balance, the redeem
button, my redemptions; a reward out of reach says why instead of offering a button."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.browser.conftest import screenshot
from tests.browser.test_flows import _sign_in_directly
from tests.factories import EmployeeFactory, LedgerLineFactory, RewardFactory
from tests.integration.test_content import png_bytes

pytestmark = pytest.mark.browser


def test_employee_redeems_a_reward_from_the_catalogue(app, new_page):
    with app.app_context():
        lena = EmployeeFactory(name="Lena Hoffmann", opted_in=True).id
        LedgerLineFactory(employee_id=lena, points=180, reason="Bonus for the trade-fair week")
        RewardFactory(name="Company hoodie", description="Navy, organic cotton", cost=120, stock=3)
        RewardFactory(name="Extra day off", cost=400)
    page = new_page()
    _sign_in_directly(app, page, lena)
    page.get_by_role("link", name="Rewards").click()
    page.wait_for_url("**/rewards")
    assert page.locator('[data-points="spendable"]').inner_text() == "180"
    assert "so 220 more are needed" in page.locator('[data-refusal="balance"]').inner_text()
    assert page.get_by_role("button", name="Redeem Extra day off for 400 points").count() == 0
    screenshot(page, "rewards-catalogue")

    page.get_by_role("button", name="Redeem Company hoodie for 120 points").click()
    page.wait_for_url("**/me/redemptions")
    assert (
        page.get_by_role("status")
        .first.inner_text()
        .startswith("You redeemed Company hoodie for 120 points.")
    )
    assert page.locator('[data-points="spendable"]').inner_text() == "60"
    row = page.locator("tr[data-state='pending']")
    assert "Company hoodie" in row.inner_text()
    assert "waiting for HR" in row.inner_text()
    screenshot(page, "my-redemptions")

    page.get_by_role("button", name="Cancel Company hoodie").click()
    page.get_by_text("the 120 points are yours to spend again").wait_for()
    assert page.locator('[data-points="spendable"]').inner_text() == "180"


def test_hr_adds_a_donation_with_an_image_and_the_employee_sees_it_in_words(
    app, new_page, tmp_path
):
    with app.app_context():
        hr = EmployeeFactory(name="Sabine Krüger", role=Role.HR, opted_in=True).id
        LedgerLineFactory(employee_id=hr, points=50)
    image = tmp_path / "trees.png"
    image.write_bytes(png_bytes())
    page = new_page()
    _sign_in_directly(app, page, hr)
    page.goto("/rewards/new")
    page.get_by_label("Name", exact=True).fill("Ten trees")
    page.get_by_label("Kind").select_option("donation")
    page.get_by_label("Cost in points").fill("20")
    page.get_by_role("button", name="Add reward").click()
    expect(page.get_by_text("Name the charity the donation goes to.").first).to_be_visible()
    page.get_by_label("Charity").fill("Bergwaldprojekt")
    page.get_by_label("Needs HR").uncheck()
    page.get_by_label("Tax treatment").fill("Company donation, receipt to us")
    page.get_by_label("Upload an image").set_input_files(str(image))
    page.get_by_label("Image source or photographer").fill("Our studio")
    page.get_by_label("We may use this image").check()
    page.get_by_role("button", name="Add reward").click()
    page.wait_for_url("**/rewards/manage")
    assert "Donation: Bergwaldprojekt" in page.content()

    page.goto("/rewards")
    card = page.locator("li.reward", has_text="Ten trees")
    assert "Donation: to Bergwaldprojekt, in your name" in card.inner_text()
    assert "approved at once" in card.inner_text()
    assert "receipt to us" not in page.content()
    assert card.locator("img").evaluate("img => img.naturalWidth") > 0
    screenshot(page, "rewards-catalogue-donation")
    card.get_by_role("button", name="Redeem Ten trees for 20 points").click()
    page.wait_for_url("**/me/redemptions")
    expect(page.get_by_role("status").first).to_contain_text("approved at once")
