"""Lessons: HR publishes short texts with an image and a few quiz questions; employees
who take part read them and pass the quiz. Finishing a lesson earns its points once.

The decisions (well-formed questions, grading) are ``scoring.lessons``; this module
stores lessons and completions. A pass inserts the completion if absent and, only when
that insert wrote it, a ledger line of kind LESSON under ``lesson_line_key``: a retry, a
double submit or two tabs give the points once. The line reaches the boards like any
other, when ``settle_points`` applies waiting lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select

from app.db import insert_ignoring_conflicts
from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import after_commit, db
from app.models import Employee, LedgerLine, Lesson, LessonCompletion, LineKind, utcnow
from app.services import audit, badges, content, rollups
from scoring.keys import lesson_line_key
from scoring.lessons import (
    Grade,
    answer_problems,
    grade,
    lesson_reason,
    question_problems,
    tidy_questions,
)

LESSON_FIELDS = (
    "title",
    "summary",
    "body",
    "questions",
    "points",
    "image_credit",
    "image_rights_confirmed",
)
MAX_LESSON_POINTS = 1000
NEW_LIMIT = 3


# HR: writing, publishing, retiring ---------------------------------------------------


def _tidy(changes: dict[str, Any]) -> dict[str, Any]:
    changes = {k: v for k, v in changes.items() if k in LESSON_FIELDS}
    for key in ("title", "summary", "body"):
        if key in changes:
            changes[key] = (changes[key] or "").strip()
    if "image_credit" in changes:
        changes["image_credit"] = (changes["image_credit"] or "").strip() or None
    return changes


def _problems(lesson: Lesson) -> dict[str, list[str]]:
    """Everything wrong with the lesson as it would be saved, by field."""
    problems: dict[str, list[str]] = {}
    if not (lesson.title or "").strip():
        problems["title"] = ["A lesson needs a title."]
    if lesson.points is None or not 0 <= lesson.points <= MAX_LESSON_POINTS:
        problems["points"] = [f"Give between 0 and {MAX_LESSON_POINTS} points."]
    problems.update(question_problems(lesson.questions))
    if lesson.image_filename and not lesson.image_rights_confirmed:
        problems["image_rights_confirmed"] = ["Confirm that we may use this image."]
    if lesson.image_filename and not lesson.image_credit:
        problems["image_credit"] = ["Name the image's source or photographer."]
    return problems


def _raise(problems: dict[str, list[str]]) -> None:
    field, messages = next(iter(problems.items()))
    raise InvalidInput(messages[0], field=field, errors=problems)


def create_lesson(actor: Employee | None, data: dict[str, Any]) -> Lesson:
    """A draft: nobody but HR sees it until it is published."""
    fields = _tidy(data)
    lesson = Lesson(
        **{"summary": "", "body": "", "points": 0, "image_rights_confirmed": False, **fields},
        created_by_id=actor.id if actor else None,
    )
    problems = _problems(lesson)
    if problems:
        _raise(problems)
    lesson.questions = tidy_questions(lesson.questions)
    db.session.add(lesson)
    db.session.flush()
    audit.record(actor, "lesson.create", lesson, title=lesson.title, points=lesson.points)
    return lesson


def update_lesson(actor: Employee | None, lesson: Lesson, changes: dict[str, Any]) -> Lesson:
    """Change a lesson. New points apply to those who finish it from now on; those who
    finished before keep what they got."""
    changes = _tidy(changes)
    changed = {k: v for k, v in changes.items() if getattr(lesson, k) != v}
    with db.session.no_autoflush:
        before = {k: getattr(lesson, k) for k in changed}
        for key, value in changed.items():
            setattr(lesson, key, value)
        problems = _problems(lesson)
        if problems:
            for key, value in before.items():  # nothing changes for a refused save
                setattr(lesson, key, value)
            _raise(problems)
    if "questions" in changed:
        lesson.questions = tidy_questions(lesson.questions)
    db.session.flush()
    if changed:
        audit.record(actor, "lesson.update", lesson, changes=sorted(changed))
    return lesson


def publish_lesson(actor: Employee | None, lesson: Lesson) -> Lesson:
    """Employees see it from now on; a retired lesson comes back. Publishing again
    changes nothing (it keeps its first publication time)."""
    if lesson.published_at is not None and not lesson.retired:
        return lesson
    problems = _problems(lesson)  # a lesson edited before these checks existed
    if problems:
        _raise(problems)
    lesson.published_at = lesson.published_at or utcnow()
    lesson.retired = False
    db.session.flush()
    audit.record(actor, "lesson.publish", lesson, title=lesson.title)
    return lesson


def retire_lesson(actor: Employee | None, lesson: Lesson) -> Lesson:
    """Out of the list; those who finished it keep their points and their completion."""
    if not lesson.retired:
        lesson.retired = True
        db.session.flush()
        audit.record(actor, "lesson.retire", lesson, title=lesson.title)
    return lesson


def set_image(actor: Employee | None, lesson: Lesson, image: bytes) -> Lesson:
    """A new image, checked and stored like content and reward images, under the
    credit and rights confirmation set on the lesson first."""
    content.check_image(image)
    if not lesson.image_rights_confirmed:
        raise InvalidInput(
            "Confirm that we may use this image first.", field="image_rights_confirmed"
        )
    if not lesson.image_credit:
        raise InvalidInput("Name the image's source or photographer first.", field="image_credit")
    lesson.image_filename = content.store_image(image)
    db.session.flush()
    audit.record(actor, "lesson.image", lesson, title=lesson.title)
    return lesson


def remove_image(actor: Employee | None, lesson: Lesson) -> Lesson:
    if lesson.image_filename:
        lesson.image_filename = None
        db.session.flush()
        audit.record(actor, "lesson.image_remove", lesson, title=lesson.title)
    return lesson


# Reading -----------------------------------------------------------------------------


def is_open(lesson: Lesson) -> bool:
    """Employees see it: published and not retired."""
    return lesson.published_at is not None and not lesson.retired


def open_select():
    """Lessons employees see, newest first."""
    return (
        select(Lesson)
        .where(Lesson.published_at.is_not(None), Lesson.retired.is_(False))
        .order_by(Lesson.published_at.desc(), Lesson.id.desc())
    )


def every_lesson() -> list[Lesson]:
    """HR's list: drafts first, then by publication, newest first."""
    return list(
        db.session.scalars(
            select(Lesson).order_by(
                Lesson.published_at.is_not(None),
                Lesson.retired,
                Lesson.published_at.desc(),
                Lesson.id.desc(),
            )
        )
    )


def lesson_for(employee: Employee, lesson_id: int, *, hr: bool = False) -> Lesson:
    """A lesson the caller may read: HR any, an employee only an open one (a draft or a
    retired lesson is as unknown as a missing one)."""
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None or (not hr and not is_open(lesson)):
        raise NotFound(f"No lesson with id {lesson_id}.", field="lesson_id")
    return lesson


def _done(employee_id: int):
    return exists().where(
        LessonCompletion.lesson_id == Lesson.id, LessonCompletion.employee_id == employee_id
    )


def new_for(employee: Employee, limit: int = NEW_LIMIT) -> list[Lesson]:
    """Open lessons the employee has not finished, newest first (the home page)."""
    return list(db.session.scalars(open_select().where(~_done(employee.id)).limit(limit)))


def completions_of(employee_id: int) -> dict[int, datetime]:
    """Lesson id -> when the employee finished it."""
    return dict(
        db.session.execute(
            select(LessonCompletion.lesson_id, LessonCompletion.completed_at).where(
                LessonCompletion.employee_id == employee_id
            )
        ).all()
    )


@dataclass(frozen=True)
class LessonEntry:
    lesson: Lesson
    completed_at: datetime | None

    @property
    def done(self) -> bool:
        return self.completed_at is not None


def lessons_for(employee: Employee) -> list[LessonEntry]:
    """Every open lesson, newest first, with whether (and when) the employee finished it."""
    done = completions_of(employee.id)
    return [
        LessonEntry(lesson, done.get(lesson.id)) for lesson in db.session.scalars(open_select())
    ]


# Finishing a lesson --------------------------------------------------------------------


@dataclass(frozen=True)
class Completion:
    lesson: Lesson
    grade: Grade
    completed_at: datetime | None  # when it was first finished (now or before); None: not yet
    first_time: bool  # this attempt finished it
    points_awarded: int  # what this attempt gave: the lesson's points once, else 0

    @property
    def passed(self) -> bool:
        return self.grade.passed


def require_participating(employee: Employee) -> None:
    # As for sharing: 409, the employee's own choice stands in the way and they can
    # change it. Nothing about someone is tracked before they opt in.
    if not employee.participating:
        raise Conflict(
            "Lessons count for people who take part: read and accept the guidelines to opt in."
        )


def complete(employee: Employee, lesson: Lesson, answers: Any) -> Completion:
    """Grade the answers. A pass records the completion once and, the first time, a
    points line when the lesson gives points. A wrong attempt writes nothing."""
    require_participating(employee)
    if not is_open(lesson):
        raise NotFound(f"No lesson with id {lesson.id}.", field="lesson_id")
    problems = answer_problems(lesson.questions, answers)
    if problems:
        _raise(problems)
    result = grade(lesson.questions, answers)
    if not result.passed:
        earlier = completions_of(employee.id).get(lesson.id)
        return Completion(lesson, result, earlier, False, 0)
    now = utcnow()
    inserted = insert_ignoring_conflicts(
        LessonCompletion,
        [{"lesson_id": lesson.id, "employee_id": employee.id, "completed_at": now}],
    )
    points = 0
    if inserted and lesson.points > 0:
        points = lesson.points * insert_ignoring_conflicts(
            LedgerLine,
            [
                {
                    "line_key": lesson_line_key(lesson.id, employee.id),
                    "kind": LineKind.LESSON,
                    "employee_id": employee.id,
                    "team_id": employee.team_id,
                    "points": lesson.points,
                    "capped": False,
                    "occurred_at": now,
                    "reason": lesson_reason(lesson.title),
                    "created_at": now,
                    "boards_applied": False,
                }
            ],
        )
        rollups.count_lines([(employee.id, employee.team_id, points, now, None, None)])
    if inserted:
        _after_completion(employee.id)
        return Completion(lesson, result, now, True, points)
    return Completion(lesson, result, completions_of(employee.id).get(lesson.id), False, 0)


def _after_completion(employee_id: int) -> None:
    """Once the completion is committed, evaluate the employee's badges (those counting
    lessons finished, or points): the badge job, queued once per completion."""
    after_commit(lambda: badges.evaluate_later({employee_id: ()}))  # no kinds: every badge
