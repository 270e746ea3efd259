"""The main journeys in a real browser: sign-in by mail, opt-in, profile, opt-out, the CSV
import, and the profile on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Employee, Role
from app.services.sign_in import sign_in_url
from scoring.participation import Network, Presence
from tests.browser.conftest import assert_fits, screenshot
from tests.factories import EmployeeFactory, GuidelineVersionFactory, InterestFactory

pytestmark = pytest.mark.browser


def _reload(employee_id: int) -> Employee:
    db.session.expire_all()
    return db.session.get(Employee, employee_id)


def _sign_in_directly(app, page, employee_id: int) -> None:
    """Open a fresh sign-in link and press the button, as the mail's reader would."""
    with app.app_context():
        url = sign_in_url(db.session.get(Employee, employee_id))
    page.goto(url)
    page.get_by_role("button", name="Sign in").click()


def test_employee_signs_in_by_mail_opts_in_edits_profile_and_opts_out(
    app, new_page, run_jobs, outbox
):
    with app.app_context():
        lena = EmployeeFactory(email="lena@example.com", name="Lena Hoffmann").id
        GuidelineVersionFactory(contact_name="Sabine Meyer")
        InterestFactory(name="Careers")
    page = new_page()

    page.goto("/")
    page.get_by_label("Work e-mail").fill("lena@example.com")
    page.get_by_role("button", name="Send me a sign-in link").click()
    page.get_by_role("heading", name="Check your mail").wait_for()
    run_jobs()
    link = re.search(r"http://127\.0\.0\.1:\d+/sign-in/\S+", outbox[-1].get_content()).group(0)
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()

    # Not taking part yet: home leads to the guidelines.
    page.wait_for_url("**/guidelines")
    expect(page.get_by_role("heading", name="Taking part is voluntary")).to_be_visible()
    assert "Sabine Meyer" in page.content()
    screenshot(page, "guidelines")
    page.get_by_label("I have read these guidelines").check()
    page.get_by_role("button", name="Accept and take part").click()
    page.wait_for_url("**/me")
    assert page.get_by_role("status").first.inner_text().startswith("You take part now")

    page.get_by_label("LinkedIn", exact=True).check()
    page.get_by_label("LinkedIn handle").fill("lena-hoffmann")
    page.locator("#audience_linkedin").fill("480")
    page.get_by_role("button", name="Save networks").click()
    page.get_by_text("Your networks are saved.").wait_for()

    page.get_by_label("Under a pseudonym").check()
    page.get_by_role("textbox", name="Pseudonym").fill("Wind Rider")
    preview = page.locator("[data-presence-preview]")
    assert preview.inner_text() == "Wind Rider"  # previewed while typing, before saving
    page.get_by_role("button", name="Save presence").click()
    page.get_by_text("Your leaderboard presence is saved.").wait_for()
    screenshot(page, "profile")
    with app.app_context():
        employee = _reload(lena)
        assert employee.participating
        assert [(n.network, n.handle, n.audience_size) for n in employee.networks] == [
            (Network.LINKEDIN, "lena-hoffmann", 480)
        ]
        assert (employee.presence, employee.pseudonym) == (Presence.PSEUDONYM, "Wind Rider")

    # Opting out is one deliberate step: a page that says what happens, then the button.
    page.get_by_role("link", name="Opt out…").click()
    page.get_by_text("off every board at once").wait_for()
    with app.app_context():
        assert _reload(lena).participating
    page.get_by_role("button", name="Yes, opt me out").click()
    page.get_by_text("You opted out.").wait_for()
    with app.app_context():
        assert not _reload(lena).participating
    page.get_by_role("button", name="Take part again").click()  # and back in one click
    page.get_by_text("You take part now").wait_for()
    with app.app_context():
        assert _reload(lena).participating


def test_hr_imports_a_csv_and_reads_the_report(app, new_page):
    with app.app_context():
        hr = EmployeeFactory(role=Role.HR, name="Hanna HR").id
    page = new_page()
    _sign_in_directly(app, page, hr)
    navigation = page.get_by_role("navigation", name="Main")
    navigation.get_by_text("HR", exact=True).click()  # tools fold into a menu
    navigation.get_by_role("link", name="People").click()
    page.get_by_role("link", name="Import CSV").click()
    csv_text = (
        "email,name,team,role\n"
        "marta@example.com,Marta Nowak,Engineering,employee\n"
        "not-an-address,Broken Row,Engineering,employee\n"
    )
    page.get_by_label("CSV file (UTF-8)").set_input_files(
        {"name": "people.csv", "mimeType": "text/csv", "buffer": csv_text.encode()}
    )
    page.get_by_label("Create the teams in the file that do not exist yet").check()
    page.get_by_role("button", name="Import").click()
    report = page.locator(".report")
    report.wait_for()
    assert report.locator('[data-count="created"]').inner_text() == "1"
    assert report.locator('[data-count="rejected"]').inner_text() == "1"
    row = report.locator("table.rejected tbody tr")
    assert row.inner_text().split("\t")[0].strip() == "3"
    assert "Not a valid e-mail address." in row.inner_text()
    assert "Engineering" in report.inner_text()
    screenshot(page, "import-report")


def test_profile_fits_a_phone_screen(app, new_page):
    with app.app_context():
        person = EmployeeFactory(
            role=Role.ADMIN, name="Maximilian Schwarzenberger-Hohenstein", opted_in=True
        ).id
        InterestFactory(name="Renewable energy and the grid")
    page = new_page(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    _sign_in_directly(app, page, person)
    for path, name in [("/me", "phone-profile"), ("/people", None), ("/admin/tokens", None)]:
        page.goto(path)
        assert_fits(page, path)
        if name:
            screenshot(page, name)
