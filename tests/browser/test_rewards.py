"""Redeeming a reward in a real browser: the catalogue with the balance, the redeem
button, my redemptions; a reward out of reach says why instead of offering a button."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_flows import _sign_in_directly
from tests.factories import EmployeeFactory, LedgerLineFactory, RewardFactory

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
