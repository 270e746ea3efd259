"""Lesson pages: the list (new and done) and a lesson with its quiz for employees; the
lesson editor for HR, whose questions editor works without JavaScript (five question
blocks of four choices, a radio button for the right one; blank blocks are left out)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.auth import requires_role
from app.db import get_or_404
from app.errors import ChorusError, InvalidInput
from app.extensions import db
from app.models import Lesson, Role
from app.schemas.fields import load
from app.schemas.lessons import LessonFormSchema, image_url
from app.services import content, lessons
from app.web.pages import form_failed, me, optional_int, plural
from scoring.lessons import MAX_CHOICES, MAX_QUESTIONS

bp = Blueprint("lesson_pages", __name__)

BLOCKS = range(MAX_QUESTIONS)
CHOICES = range(MAX_CHOICES)


# Employees ---------------------------------------------------------------------------


@bp.get("/lessons")
@requires_role(Role.EMPLOYEE)
def lesson_list():
    entries = lessons.lessons_for(me())
    return render_template(
        "lessons/list.html",
        new=[e for e in entries if not e.done],
        done=[e for e in entries if e.done],
        image_url=image_url,
    )


def _render_lesson(lesson: Lesson, status: int = 200, **context: Any):
    employee = me()
    context.setdefault("errors", {})
    context.setdefault("chosen", {})
    page = render_template(
        "lessons/lesson.html",
        lesson=lesson,
        completed_at=lessons.completions_of(employee.id).get(lesson.id),
        participating=employee.participating,
        image_url=image_url(lesson),
        paragraphs=[p.strip() for p in (lesson.body or "").split("\n\n") if p.strip()],
        **context,
    )
    return page, status


@bp.get("/lessons/<int:lesson_id>")
@requires_role(Role.EMPLOYEE)
def lesson(lesson_id: int):
    return _render_lesson(lessons.lesson_for(me(), lesson_id))


def _answers(count: int) -> list[Any]:
    """One answer per question: the chosen index as sent (a number, or text the service
    refuses by field), None when none was chosen."""
    answers: list[Any] = []
    for index in range(count):
        raw = (request.form.get(f"answer{index}") or "").strip()
        answers.append(int(raw) if raw.isdigit() else (raw or None))
    return answers


@bp.post("/lessons/<int:lesson_id>/completion")
@requires_role(Role.EMPLOYEE)
def complete(lesson_id: int):
    employee = me()
    lesson = lessons.lesson_for(employee, lesson_id)
    answers = _answers(len(lesson.questions))
    chosen = {i: a for i, a in enumerate(answers) if a is not None}
    try:
        result = lessons.complete(employee, lesson, answers)
    except ChorusError as exc:
        db.session.rollback()
        return _render_lesson(
            lesson, exc.status, errors=exc.errors, error_message=exc.message, chosen=chosen
        )
    if not result.passed:
        wrong = len(result.grade.mistakes)
        return _render_lesson(lesson, result=result, chosen=chosen, wrong=wrong)
    if result.points_awarded:
        flash(
            f"Well done: you finished “{lesson.title}” and earned "
            f"{plural(result.points_awarded, 'point')}. They reach the leaderboards "
            "within a minute.",
            "success",
        )
    elif result.first_time:
        flash(f"Well done: you finished “{lesson.title}”.", "success")
    else:
        flash(f"All right again. You finished “{lesson.title}” before; nothing changed.", "success")
    return redirect(url_for("lesson_pages.lesson", lesson_id=lesson.id))


# HR: the editor ------------------------------------------------------------------------


@bp.get("/hr/lessons")
@requires_role(Role.HR)
def manage():
    return render_template("lessons/manage.html", lessons=lessons.every_lesson())


def lesson_values(lesson: Lesson) -> dict[str, Any]:
    """A lesson in the shape the form posts it."""
    values: dict[str, Any] = {
        "title": lesson.title,
        "summary": lesson.summary,
        "body": lesson.body,
        "points": lesson.points,
        "image_credit": lesson.image_credit or "",
        "image_rights_confirmed": lesson.image_rights_confirmed,
    }
    for index, question in enumerate(lesson.questions or []):
        values[f"q{index}_question"] = question["question"]
        for choice, text in enumerate(question["choices"]):
            values[f"q{index}_choice{choice}"] = text
        values[f"q{index}_answer"] = str(question["answer"])
    return values


def _questions_from_form() -> tuple[list[dict[str, Any]], dict[int, int]]:
    """The filled-in question blocks, and which block each question came from. Blank
    choices are left out; the right answer follows its choice."""
    form = request.form
    questions, blocks = [], {}
    for block in BLOCKS:
        text = form.get(f"q{block}_question", "").strip()
        filled = [(c, form.get(f"q{block}_choice{c}", "").strip()) for c in CHOICES]
        filled = [(c, choice) for c, choice in filled if choice]
        if not text and not filled:
            continue
        marked = form.get(f"q{block}_answer", "")
        positions = [c for c, _ in filled]
        answer = (
            positions.index(int(marked)) if marked.isdigit() and int(marked) in positions else None
        )
        blocks[len(questions)] = block
        questions.append({"question": text, "choices": [c for _, c in filled], "answer": answer})
    return questions, blocks


def _by_block(errors: dict[str, Any], blocks: dict[int, int]) -> dict[str, Any]:
    """Problems of ``questions.<n>.…`` named by the block on the page they came from."""
    named: dict[str, Any] = {}
    for key, messages in errors.items():
        parts = key.split(".")
        if len(parts) >= 2 and parts[0] == "questions" and parts[1].isdigit():
            parts[1] = str(blocks.get(int(parts[1]), int(parts[1])))
        named[".".join(parts)] = messages
    return named


def _lesson_form() -> tuple[dict[str, Any], dict[int, int]]:
    questions, blocks = _questions_from_form()
    form = {
        "title": request.form.get("title", ""),
        "summary": request.form.get("summary", "").strip(),
        "body": request.form.get("body", "").replace("\r\n", "\n").strip(),
        "points": optional_int(request.form.get("points")) or "0",
        "image_credit": optional_int(request.form.get("image_credit")),
        "image_rights_confirmed": request.form.get("image_rights_confirmed") == "on",
        "questions": questions,
    }
    return form, blocks


def _uploaded_image() -> bytes | None:
    """The uploaded image's bytes, checked before the lesson is saved, so a bad file
    changes nothing."""
    upload = request.files.get("image")
    if upload is None or not upload.filename:
        return None
    image = upload.read(content.MAX_IMAGE_BYTES + 1)
    content.check_image(image)
    return image


def _editor(lesson: Lesson | None, values: dict[str, Any], status: int = 200, **context: Any):
    page = render_template(
        "lessons/edit.html",
        lesson=lesson,
        values=values,
        blocks=BLOCKS,
        choices=CHOICES,
        image_url=image_url(lesson) if lesson and lesson.image_filename else None,
        **{"errors": {}, **context},
    )
    return page, status


def _failed(exc: ChorusError, lesson: Lesson | None, blocks: dict[int, int]):
    if exc.errors:
        exc.errors = _by_block(exc.errors, blocks)
    return form_failed(
        exc,
        "lessons/edit.html",
        lesson=lesson,
        blocks=BLOCKS,
        choices=CHOICES,
        image_url=image_url(lesson) if lesson and lesson.image_filename else None,
    )


def _save(lesson: Lesson | None) -> Lesson:
    data, blocks = _lesson_form()
    try:
        image = _uploaded_image()
        fields = load(LessonFormSchema(), data)
        if lesson is None:
            lesson = lessons.create_lesson(me(), fields)
        else:
            if image is None and request.form.get("remove_image") == "on":
                lessons.remove_image(me(), lesson)
            lessons.update_lesson(me(), lesson, fields)
        if image is not None:
            lessons.set_image(me(), lesson, image)
    except ChorusError as exc:
        exc.blocks = blocks
        raise
    return lesson


@bp.route("/hr/lessons/new", methods=["GET", "POST"])
@requires_role(Role.HR)
def new_lesson():
    if request.method == "GET":
        return _editor(None, {"points": 10})
    try:
        lesson = _save(None)
    except ChorusError as exc:
        return _failed(exc, None, getattr(exc, "blocks", {}))
    flash(f"“{lesson.title}” is saved as a draft. Publish it when it is ready.", "success")
    return redirect(url_for("lesson_pages.manage"))


@bp.route("/hr/lessons/<int:lesson_id>/edit", methods=["GET", "POST"])
@requires_role(Role.HR)
def edit_lesson(lesson_id: int):
    lesson = get_or_404(Lesson, lesson_id)
    if request.method == "GET":
        return _editor(lesson, lesson_values(lesson))
    try:
        _save(lesson)
    except ChorusError as exc:
        return _failed(exc, lesson, getattr(exc, "blocks", {}))
    flash(f"Saved “{lesson.title}”.", "success")
    return redirect(url_for("lesson_pages.manage"))


@bp.post("/hr/lessons/<int:lesson_id>/publish")
@requires_role(Role.HR)
def publish_lesson(lesson_id: int):
    lesson = get_or_404(Lesson, lesson_id)
    try:
        lessons.publish_lesson(me(), lesson)
    except InvalidInput as exc:
        db.session.rollback()
        flash(f"“{lesson.title}” cannot be published yet: {exc.message}", "error")
        return redirect(url_for("lesson_pages.edit_lesson", lesson_id=lesson.id))
    flash(f"“{lesson.title}” is published: employees see it in their lessons.", "success")
    return redirect(url_for("lesson_pages.manage"))


@bp.post("/hr/lessons/<int:lesson_id>/retire")
@requires_role(Role.HR)
def retire_lesson(lesson_id: int):
    lesson = lessons.retire_lesson(me(), get_or_404(Lesson, lesson_id))
    flash(
        f"“{lesson.title}” is retired. Who finished it keeps the points; publish it to "
        "bring it back.",
        "success",
    )
    return redirect(url_for("lesson_pages.manage"))
