"""Lessons over the API: HR writes, publishes, retires and sets an image; employees read
published lessons without the right answers and finish the quiz for points once. Bad
input names its field (``questions.1.choices``) and changes nothing."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import LedgerLine, Lesson, LessonCompletion, LineKind, Role
from tests.integration.test_content import png_bytes
from tests.web.api_support import MISSING, bearer_caller, count, session_caller

QUESTIONS = [
    {"question": "Whose is your profile?", "choices": ["Yours", "HR's"], "answer": 0},
    {
        "question": "Which headline says most?",
        "choices": ["Employee", "Engineer building wind farms", "Open to all"],
        "answer": 1,
    },
]


@pytest.fixture
def hr(app: Flask):
    return bearer_caller(app, Role.HR)


@pytest.fixture
def alice(app: Flask):
    return bearer_caller(app, opted_in=True)


def new_lesson(hr, **changes) -> dict:
    body = {
        "title": "A professional profile",
        "summary": "Ten minutes",
        "body": "Use a clear photo.",
        "points": 10,
        "questions": QUESTIONS,
        **changes,
    }
    response = hr.post("/api/v1/lessons", json=body)
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def published(hr) -> int:
    lesson_id = new_lesson(hr)["id"]
    assert hr.post(f"/api/v1/lessons/{lesson_id}/publish").status_code == 200
    return lesson_id


def test_hr_writes_a_draft_employees_do_not_see_until_published(app, hr, alice):
    lesson = new_lesson(hr)
    assert lesson["published_at"] is None
    assert lesson["questions"][1]["answer"] == 1  # HR reads the right answers
    assert alice.get("/api/v1/lessons").json == []
    assert alice.get(f"/api/v1/lessons/{lesson['id']}").status_code == 404
    assert [entry["id"] for entry in hr.get("/api/v1/lessons").json] == [lesson["id"]]

    published = hr.post(f"/api/v1/lessons/{lesson['id']}/publish").json
    assert published["published_at"] is not None
    again = hr.post(f"/api/v1/lessons/{lesson['id']}/publish").json
    assert again["published_at"] == published["published_at"]

    seen = alice.get(f"/api/v1/lessons/{lesson['id']}").json
    assert seen["questions"] == [
        {"question": q["question"], "choices": q["choices"]} for q in QUESTIONS
    ]
    assert seen["completed_at"] is None
    assert [entry["id"] for entry in alice.get("/api/v1/lessons").json] == [lesson["id"]]

    retired = hr.post(f"/api/v1/lessons/{lesson['id']}/retire").json
    assert retired["retired"] is True
    assert alice.get("/api/v1/lessons").json == []


def test_hr_edits_a_lesson(hr):
    lesson_id = new_lesson(hr)["id"]
    changed = hr.patch(
        f"/api/v1/lessons/{lesson_id}",
        json={"title": " Your profile ", "points": 0, "questions": QUESTIONS[:1]},
    ).json
    assert (changed["title"], changed["points"], len(changed["questions"])) == (
        "Your profile",
        0,
        1,
    )


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"title": "x"}, {"questions"}),
        ({"questions": QUESTIONS}, {"title"}),
        ({"title": "", "questions": QUESTIONS}, {"title"}),
        ({"title": "x", "questions": []}, {"questions"}),
        ({"title": "x", "questions": QUESTIONS * 3}, {"questions"}),
        ({"title": "x", "questions": QUESTIONS, "points": -1}, {"points"}),
        ({"title": "x", "questions": QUESTIONS, "points": 1001}, {"points"}),
        ({"title": "x", "questions": QUESTIONS, "points": "5"}, {"points"}),
        (
            {"title": "x", "questions": [QUESTIONS[0], {**QUESTIONS[1], "choices": ["only"]}]},
            {"questions.1.choices"},
        ),
        (
            {"title": "x", "questions": [{**QUESTIONS[0], "answer": 2}]},
            {"questions.0.answer"},
        ),
        (
            {"title": "x", "questions": [{"question": "", "choices": ["a", "b"], "answer": 0}]},
            {"questions.0.question"},
        ),
        (
            {"title": "x", "questions": [{**QUESTIONS[0], "choices": ["Same", "same"]}]},
            {"questions.0.choices"},
        ),
        (
            {"title": "x", "questions": [{"choices": ["a", "b"]}]},
            {"questions.0.question", "questions.0.answer"},
        ),
    ],
)
def test_bad_lessons_name_the_field_and_change_nothing(app, hr, body, fields):
    response = hr.post("/api/v1/lessons", json=body)
    assert response.status_code == 422
    assert set(response.json["errors"]) == fields
    assert count(app, Lesson) == 0


def test_a_bad_edit_changes_nothing(app, hr):
    lesson_id = new_lesson(hr)["id"]
    refused = hr.patch(
        f"/api/v1/lessons/{lesson_id}",
        json={"title": "New", "questions": [{**QUESTIONS[0], "answer": 5}]},
    )
    assert refused.status_code == 422
    assert list(refused.json["errors"]) == ["questions.0.answer"]
    assert hr.get(f"/api/v1/lessons/{lesson_id}").json["title"] == "A professional profile"
    assert hr.patch(f"/api/v1/lessons/{lesson_id}", json={"points": None}).status_code == 422


def test_employees_cannot_write_lessons(app, hr, alice, published):
    assert (
        alice.post("/api/v1/lessons", json={"title": "x", "questions": QUESTIONS}).status_code
        == 403
    )
    assert alice.patch(f"/api/v1/lessons/{published}", json={"title": "y"}).status_code == 403
    assert alice.post(f"/api/v1/lessons/{published}/retire").status_code == 403
    assert count(app, Lesson) == 1


def test_passing_gives_points_once(app, alice, published):
    wrong = alice.post(f"/api/v1/lessons/{published}/completion", json={"answers": [0, 0]})
    assert wrong.status_code == 200
    assert wrong.json["passed"] is False
    assert wrong.json["points_awarded"] == 0
    assert [(m["index"], m["right_choice"]) for m in wrong.json["mistakes"]] == [
        (1, "Engineer building wind farms")
    ]
    assert count(app, LessonCompletion) == 0

    right = alice.post(f"/api/v1/lessons/{published}/completion", json={"answers": [0, 1]})
    assert right.json["passed"] is True
    assert right.json["first_time"] is True
    assert right.json["points_awarded"] == 10
    again = alice.post(f"/api/v1/lessons/{published}/completion", json={"answers": [0, 1]})
    assert (again.json["passed"], again.json["first_time"], again.json["points_awarded"]) == (
        True,
        False,
        0,
    )
    assert again.json["completed_at"] == right.json["completed_at"]
    with app.app_context():
        lines = db.session.scalars(select(LedgerLine)).all()
        assert [(line.kind, line.points, line.employee_id) for line in lines] == [
            (LineKind.LESSON, 10, alice.employee_id)
        ]
        assert lines[0].reason == "Lesson: A professional profile"
    assert alice.get(f"/api/v1/lessons/{published}").json["completed_at"] is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "answers"),
        ({"answers": [0]}, "answers"),
        ({"answers": "0,1"}, "answers"),
        ({"answers": [0, 7]}, "answers.1"),
        ({"answers": [0, "1"]}, "answers"),
    ],
)
def test_bad_answers_name_the_field(app, alice, published, body, field):
    response = alice.post(f"/api/v1/lessons/{published}/completion", json=body)
    assert response.status_code == 422
    assert field in response.json["errors"]
    assert count(app, LessonCompletion) == 0
    assert count(app, LedgerLine) == 0


def test_only_people_who_take_part_finish_lessons(app, published):
    bob = bearer_caller(app)  # not opted in
    assert [e["id"] for e in bob.get("/api/v1/lessons").json] == [published]
    refused = bob.post(f"/api/v1/lessons/{published}/completion", json={"answers": [0, 1]})
    assert refused.status_code == 409
    assert count(app, LessonCompletion) == 0
    assert count(app, LedgerLine) == 0


def test_no_completion_of_a_draft_or_a_missing_lesson(app, hr, alice):
    draft = new_lesson(hr)["id"]
    for lesson_id in (draft, draft + 100):
        response = alice.post(f"/api/v1/lessons/{lesson_id}/completion", json={"answers": [0, 1]})
        assert response.status_code == 404
    assert count(app, LessonCompletion) == 0


def test_session_callers_need_the_csrf_header(app, published):
    carol = session_caller(app, opted_in=True)
    response = carol.post(
        f"/api/v1/lessons/{published}/completion",
        json={"answers": [0, 1]},
        headers={"X-CSRFToken": ""},
    )
    assert response.status_code == 400
    assert count(app, LessonCompletion) == 0


def test_an_image_under_credit_and_rights(app, hr, alice, published):
    upload = {"file": (io.BytesIO(png_bytes()), "photo.png")}
    refused = hr.put(f"/api/v1/lessons/{published}/image", data=upload)
    assert refused.status_code == 422
    assert list(refused.json["errors"]) == ["image_rights_confirmed"]
    hr.patch(
        f"/api/v1/lessons/{published}",
        json={"image_credit": "Our studio", "image_rights_confirmed": True},
    )
    fake = hr.put(
        f"/api/v1/lessons/{published}/image", data={"file": (io.BytesIO(b"GIF89a" * 5), "a.png")}
    )
    assert (fake.status_code, list(fake.json["errors"])) == (422, ["image"])
    stored = hr.put(
        f"/api/v1/lessons/{published}/image",
        data={"file": (io.BytesIO(png_bytes()), "photo.png")},
    )
    assert stored.status_code == 200
    url = stored.json["image_url"]
    assert url.startswith("/media/")
    seen = alice.get(f"/api/v1/lessons/{published}").json
    assert (seen["image_url"], seen["image_credit"]) == (url, "Our studio")
    assert hr.delete(f"/api/v1/lessons/{published}/image").json["image_url"] is None


def test_missing_title_message(app, hr):
    response = hr.post("/api/v1/lessons", json={"questions": QUESTIONS})
    assert response.json["errors"]["title"] == MISSING
