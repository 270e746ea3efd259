"""Badges in a real browser: HR defines a badge, previews who would get it now, fixes a
threshold the page refuses and saves it; the backfill runs; an employee finds it in the
catalogue, earned, with the progress to the next level, on a phone."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.models import Role, utcnow
from scoring.vocabulary import EventKind
from tests.browser.conftest import overflow, screenshot
from tests.browser.test_flows import _sign_in_directly
from tests.factories import EmployeeFactory, EventFactory

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def test_hr_creates_a_badge_with_a_preview_and_an_employee_sees_it_with_progress(
    app, new_page, run_jobs
):
    with app.app_context():
        hr = EmployeeFactory(name="Sabine Krüger", role=Role.HR, opted_in=True).id
        lena = EmployeeFactory(name="Lena Hoffmann", opted_in=True).id
        for days_ago in (15, 8, 1):
            EventFactory(
                employee_id=lena,
                kind=EventKind.SHARE,
                occurred_at=utcnow() - timedelta(days=days_ago),
            )
    page = new_page()
    _sign_in_directly(app, page, hr)
    page.goto("/hr/badges")
    page.get_by_role("link", name="New badge").click()
    page.wait_for_url("**/hr/badges/new")

    # Only the fields of the kind chosen are in the way.
    page.get_by_label("A weekly streak").check()
    expect(page.get_by_label("Grace weeks")).to_be_visible()
    expect(page.get_by_label("What counts")).to_be_hidden()
    page.get_by_label("A count, with levels").check()
    expect(page.get_by_label("What counts")).to_be_visible()
    expect(page.get_by_label("Grace weeks")).to_be_hidden()

    page.get_by_label("Name", exact=True).fill("Storyteller")
    page.get_by_label("What counts").select_option("shares")
    page.get_by_role("spinbutton", name="Bronze").fill("2")
    page.get_by_role("spinbutton", name=re.compile("^Silver")).fill("2")
    page.get_by_role("button", name="Preview").click()
    assert page.locator("#silver-error").inner_text() == "Must be above the bronze threshold."
    assert (
        page.get_by_role("spinbutton", name=re.compile("^Silver")).get_attribute("aria-invalid")
        == "true"
    )

    page.get_by_role("spinbutton", name=re.compile("^Silver")).fill("5")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("[data-preview]")
    assert "1 person would get it now." in preview.inner_text()
    assert "Lena Hoffmann: Bronze level" in preview.inner_text()
    assert "Nothing is saved yet." in preview.inner_text()
    assert (
        page.get_by_role("spinbutton", name=re.compile("^Silver")).input_value() == "5"
    )  # the form kept what was typed
    screenshot(page, "badge-editor-preview")

    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/hr/badges")
    expect(page.get_by_role("status").first).to_contain_text("receives it in the next minutes")
    row = page.locator("li[data-badge='storyteller']")
    assert "Share 2 times for bronze and 5 for silver" in row.inner_text()
    run_jobs()  # the backfill the save queued
    page.reload()
    assert row.locator("[data-holders]").inner_text() == "1 holder"
    screenshot(page, "badge-editor-list")

    phone = new_page(**PHONE)
    _sign_in_directly(app, phone, lena)
    phone.goto("/badges")
    card = phone.locator("li.badge-card[data-badge='storyteller']")
    assert card.get_attribute("data-state") == "earned"
    assert re.search(r"Bronze: earned on \d\d \w{3} \d{4}", card.inner_text())
    assert card.locator("[data-progress]").inner_text() == "3 of 5 shares for silver"
    assert card.locator("progress").evaluate("p => [p.value, p.max]") == [3, 5]
    assert "weeks running" in phone.locator("[data-streak]").inner_text()
    assert overflow(phone) <= 0
    screenshot(phone, "badges-catalogue-phone")

    phone.get_by_role("link", name="My badges").click()
    phone.wait_for_url("**/badges/mine")
    assert "Storyteller" in phone.locator("li.badge-grant").first.inner_text()
    screenshot(phone, "badges-mine-phone")
