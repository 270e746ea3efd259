"""A lesson in a real browser: an employee opens it from the menu, reads it, answers one
question wrong and is told the right answer, passes, and sees the points in their own
ledger. The lesson pages and HR's editor fit a 390 px phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Role
from app.services import lessons
from tests.browser.conftest import overflow, screenshot
from tests.browser.test_flows import _sign_in_directly
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
QUESTIONS = [
    {
        "question": "Next quarter's sales figures, before they are published, are:",
        "choices": ["Fine to share with #employee", "Confidential: never shared"],
        "answer": 1,
    },
    {
        "question": "When you are unsure whether something may be shared:",
        "choices": ["Share it and delete it later", "Leave it out or ask first"],
        "answer": 1,
    },
]


def _lesson(app) -> int:
    with app.app_context():
        lesson = lessons.create_lesson(
            None,
            {
                "title": "What stays off-limits",
                "summary": "Some things are never shared.",
                "body": "Confidential information stays inside.\n\nWhen in doubt, leave it out.",
                "points": 12,
                "questions": QUESTIONS,
            },
        )
        lessons.publish_lesson(None, lesson)
        db.session.commit()
        return lesson.id


def test_an_employee_reads_a_lesson_passes_the_quiz_and_sees_the_points(app, new_page):
    with app.app_context():
        lena = EmployeeFactory(name="Lena Hoffmann", opted_in=True).id
    lesson_id = _lesson(app)
    page = new_page()
    _sign_in_directly(app, page, lena)
    page.goto("/lessons")
    page.get_by_role("link", name="What stays off-limits").click()
    page.wait_for_url(f"**/lessons/{lesson_id}")
    assert "When in doubt, leave it out." in page.inner_text("article")

    page.get_by_label("Fine to share with #employee").check()
    page.get_by_label("Leave it out or ask first").check()
    page.get_by_role("button", name="Check my answers").click()
    result = page.locator('[data-quiz-result="wrong"]')
    assert "1 of 2 right" in result.inner_text()
    assert "The right answer: Confidential: never shared" in page.inner_text("[data-quiz]")
    screenshot(page, "lesson-wrong")

    page.get_by_label("Confidential: never shared").check()
    page.get_by_role("button", name="Try again").click()
    page.wait_for_url(f"**/lessons/{lesson_id}")
    expect(page.get_by_role("status").first).to_contain_text("earned 12 points")
    assert page.locator("[data-quiz-done]").count() == 1
    screenshot(page, "lesson-passed")

    page.goto("/me/points")
    assert "Lesson: What stays off-limits" in page.inner_text("main")
    page.goto("/lessons")
    assert "What stays off-limits" in page.inner_text('[data-lessons="done"]')


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.HR])
def test_lesson_pages_fit_a_phone(app, new_page, role):
    with app.app_context():
        someone = EmployeeFactory(role=role, opted_in=True).id
    lesson_id = _lesson(app)
    page = new_page(**PHONE)
    _sign_in_directly(app, page, someone)
    paths = ["/lessons", f"/lessons/{lesson_id}"]
    if role is Role.HR:
        paths += ["/hr/lessons", "/hr/lessons/new", f"/hr/lessons/{lesson_id}/edit"]
    for path in paths:
        page.goto(path)
        assert overflow(page) <= 0, path
