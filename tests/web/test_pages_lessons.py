"""Lesson pages: the list (new and done), a lesson with its quiz and the result in words
(points once, or which answers were wrong and the right ones); HR's editor with the
questions editor that works without JavaScript, publishing, retiring and an image. Bad
input is a readable page and changes nothing."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import LedgerLine, Lesson, LessonCompletion, LineKind, Role
from app.services import lessons
from tests.conftest import csrf_token
from tests.integration.test_content import png_bytes
from tests.web.points_pages_support import count

QUESTIONS = [
    {"question": "Disclose that you work here?", "choices": ["Always", "Never"], "answer": 0},
    {
        "question": "Next quarter's figures are:",
        "choices": ["Fine to share", "Confidential", "Fine on X"],
        "answer": 1,
    },
]


def _post(client, path: str, data: dict | None = None, **kwargs):
    return client.post(
        path, data={"csrf_token": csrf_token(client, "/me"), **(data or {})}, **kwargs
    )


def make_lesson(app, title="What stays off-limits", points=10, publish=True) -> int:
    with app.app_context():
        lesson = lessons.create_lesson(
            None, {"title": title, "points": points, "body": "One.\n\nTwo.", "questions": QUESTIONS}
        )
        if publish:
            lessons.publish_lesson(None, lesson)
        db.session.commit()
        return lesson.id


def test_an_employee_reads_fails_then_passes_for_points_once(app, client, login):
    me = login(Role.EMPLOYEE, opted_in=True)
    lesson_id = make_lesson(app)
    listing = client.get("/lessons").get_data(as_text=True)
    assert 'aria-current="page">Lessons' in listing
    new_part = listing.split('data-lessons="done"')[0]
    assert "What stays off-limits" in new_part

    page = client.get(f"/lessons/{lesson_id}").get_data(as_text=True)
    assert '<p style="white-space: pre-line">Two.</p>' in page
    assert 'name="answer1" value="2"' in page
    assert "Confidential" in page

    wrong = _post(client, f"/lessons/{lesson_id}/completion", {"answer0": "0", "answer1": "0"})
    assert wrong.status_code == 200
    text = wrong.get_data(as_text=True)
    assert "1 of 2 right" in text
    assert "The right answer: Confidential" in text
    assert 'id="answer1-0" name="answer1" value="0"\n               checked' in text
    with app.app_context():
        assert count(LessonCompletion) == 0

    for _ in range(2):  # a double submit
        right = _post(client, f"/lessons/{lesson_id}/completion", {"answer0": "0", "answer1": "1"})
        assert right.status_code == 302
    done = client.get(right.headers["Location"]).get_data(as_text=True)
    assert "You finished “What stays off-limits” before; nothing changed." in done
    assert "data-quiz-done" in done
    with app.app_context():
        lines = db.session.scalars(select(LedgerLine)).all()
        assert [(line.kind, line.points, line.employee_id) for line in lines] == [
            (LineKind.LESSON, 10, me.id)
        ]
    listing = client.get("/lessons").get_data(as_text=True)
    assert "What stays off-limits" in listing.split('data-lessons="done"')[1]


def test_the_first_pass_says_the_points(app, client, login):
    login(Role.EMPLOYEE, opted_in=True)
    lesson_id = make_lesson(app, points=25)
    response = _post(
        client,
        f"/lessons/{lesson_id}/completion",
        {"answer0": "0", "answer1": "1"},
        follow_redirects=True,
    )
    assert "earned 25 points" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "answers", [{"answer0": "0", "answer1": "9"}, {"answer0": "x", "answer1": "1"}]
)
def test_bad_answers_are_a_readable_page_and_change_nothing(app, client, login, answers):
    login(Role.EMPLOYEE, opted_in=True)
    lesson_id = make_lesson(app)
    response = _post(client, f"/lessons/{lesson_id}/completion", answers)
    assert response.status_code == 422
    assert 'class="field-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert count(LessonCompletion) == count(LedgerLine) == 0


def test_before_opt_in_the_lesson_is_readable_and_the_quiz_is_not(app, client, login):
    login(Role.EMPLOYEE)
    lesson_id = make_lesson(app)
    page = client.get(f"/lessons/{lesson_id}").get_data(as_text=True)
    assert "read and accept the guidelines" in page
    assert 'name="answer0"' not in page
    refused = _post(client, f"/lessons/{lesson_id}/completion", {"answer0": "0", "answer1": "1"})
    assert refused.status_code == 409
    with app.app_context():
        assert count(LessonCompletion) == 0


def test_drafts_are_hidden_from_employees(app, client, login):
    login(Role.EMPLOYEE, opted_in=True)
    draft = make_lesson(app, title="Draft lesson", publish=False)
    assert "Draft lesson" not in client.get("/lessons").get_data(as_text=True)
    assert client.get(f"/lessons/{draft}").status_code == 404


def _form(**changes) -> dict:
    form = {
        "title": "Building a profile",
        "summary": "Ten minutes",
        "body": "Use a clear photo.",
        "points": "10",
        "q0_question": "Whose is your profile?",
        "q0_choice0": "Yours",
        "q0_choice1": "",
        "q0_choice2": "HR's",
        "q0_answer": "2",
        "q2_question": "A good headline?",
        "q2_choice0": "Employee",
        "q2_choice1": "Engineer building wind farms",
        "q2_answer": "1",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def test_hr_writes_publishes_edits_and_retires_a_lesson(app, client, login):
    login(Role.HR)
    assert 'name="q4_choice3"' in client.get("/hr/lessons/new").get_data(as_text=True)
    response = _post(client, "/hr/lessons/new", _form())
    assert response.status_code == 302
    with app.app_context():
        lesson = db.session.scalar(select(Lesson))
        assert lesson.published_at is None
        # blank blocks and choices are left out; the right answer follows its choice
        assert lesson.questions == [
            {"question": "Whose is your profile?", "choices": ["Yours", "HR's"], "answer": 1},
            {
                "question": "A good headline?",
                "choices": ["Employee", "Engineer building wind farms"],
                "answer": 1,
            },
        ]
        lesson_id = lesson.id
    manage = client.get("/hr/lessons").get_data(as_text=True)
    assert "draft" in manage
    assert _post(client, f"/hr/lessons/{lesson_id}/publish").status_code == 302
    assert "published" in client.get("/hr/lessons").get_data(as_text=True)

    edit = client.get(f"/hr/lessons/{lesson_id}/edit").get_data(as_text=True)
    assert 'value="HR&#39;s"' in edit
    assert 'id="q0_answer1" name="q0_answer" value="1"\n                 checked' in edit
    assert (
        _post(client, f"/hr/lessons/{lesson_id}/edit", _form(title="Your profile")).status_code
        == 302
    )
    assert _post(client, f"/hr/lessons/{lesson_id}/retire").status_code == 302
    with app.app_context():
        lesson = db.session.get(Lesson, lesson_id)
        assert (lesson.title, lesson.retired) == ("Your profile", True)


@pytest.mark.parametrize(
    ("changes", "marker"),
    [
        ({"title": ""}, 'id="title" name="title"'),
        ({"q2_answer": None}, "Mark which choice is right."),
        ({"q2_choice1": ""}, "Give between 2 and 4 choices."),
        ({"q0_question": ""}, "Write the question."),
        ({"points": "-5"}, 'id="points"'),
        (
            {
                "q0_question": "",
                "q0_choice0": "",
                "q0_choice2": "",
                "q2_question": "",
                "q2_choice0": "",
                "q2_choice1": "",
            },
            "A lesson needs at least one quiz question.",
        ),
    ],
)
def test_bad_lesson_forms_are_readable_and_save_nothing(app, client, login, changes, marker):
    login(Role.HR)
    response = _post(client, "/hr/lessons/new", _form(**changes))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert marker in page
    assert 'class="field-error"' in page
    with app.app_context():
        assert count(Lesson) == 0


def test_an_error_in_a_later_block_is_shown_at_that_block(app, client, login):
    login(Role.HR)
    response = _post(client, "/hr/lessons/new", _form(q2_answer=None))
    page = response.get_data(as_text=True)
    block = page.split('data-block="2"')[1].split("</fieldset>")[0]
    assert "Mark which choice is right." in block


def test_hr_adds_an_image_under_credit_and_rights(app, client, login):
    login(Role.HR)
    lesson_id = make_lesson(app)
    refused = _post(
        client,
        f"/hr/lessons/{lesson_id}/edit",
        {**_form(), "image": (io.BytesIO(png_bytes()), "photo.png")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert "Confirm that we may use this image first." in refused.get_data(as_text=True)
    saved = _post(
        client,
        f"/hr/lessons/{lesson_id}/edit",
        {
            **_form(image_credit="Our studio", image_rights_confirmed="on"),
            "image": (io.BytesIO(png_bytes()), "photo.png"),
        },
        content_type="multipart/form-data",
    )
    assert saved.status_code == 302
    login(Role.EMPLOYEE, opted_in=True)
    page = client.get(f"/lessons/{lesson_id}").get_data(as_text=True)
    assert 'src="/media/' in page
    assert "Image: Our studio" in page


@pytest.mark.parametrize(
    ("role", "status"), [(Role.EMPLOYEE, 403), (Role.TEAM_LEAD, 403), (Role.HR, 200)]
)
def test_the_editor_is_for_hr(app, client, login, role, status):
    login(role)
    assert client.get("/hr/lessons").status_code == status
    assert client.get("/hr/lessons/new").status_code == status


def test_the_list_says_none_exist_rather_than_all_done(app, client, login):
    login(Role.EMPLOYEE, opted_in=True)
    empty = client.get("/lessons").get_data(as_text=True)
    assert "No lessons yet." in empty
    assert "finished every lesson" not in empty
