"""Lessons: HR writes and publishes them; employees read them and answer the quiz."""

from __future__ import annotations

from typing import Any

from flask import url_for
from marshmallow import Schema, ValidationError, fields, pre_dump, validate

from app.schemas.fields import Integer, Length, String
from app.services.lessons import MAX_LESSON_POINTS
from scoring.lessons import (
    CHOICE_MAX,
    MAX_CHOICES,
    MAX_QUESTIONS,
    MIN_CHOICES,
    QUESTION_MAX,
)

BODY_MAX = 20_000


def image_url(lesson) -> str | None:
    """Lesson images are stored and served like content and reward images."""
    return (
        url_for("content.media", filename=lesson.image_filename) if lesson.image_filename else None
    )


def flat_errors(messages: Any, prefix: str = "") -> dict[str, Any]:
    """marshmallow nests a list's problems by index ({"questions": {1: {"choices":
    [...]}}}); the lesson's problems are named by path: ``questions.1.choices``."""
    if not isinstance(messages, dict):
        return {prefix: messages}
    flat: dict[str, Any] = {}
    for key, value in messages.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if (
            isinstance(value, dict)
            and value
            and all(isinstance(k, int) or k in QuestionSchema._declared_fields for k in value)
        ):
            flat.update(flat_errors(value, name))
        else:
            flat[name] = value
    return flat


class _PathErrors(Schema):
    def handle_error(self, error: ValidationError, data: Any, *, many: bool, **kwargs) -> None:
        raise ValidationError(flat_errors(error.messages)) from error


class QuestionSchema(Schema):
    question = String(required=True, validate=Length(min=1, max=QUESTION_MAX))
    choices = fields.List(
        String(validate=Length(min=1, max=CHOICE_MAX)),
        required=True,
        validate=Length(min=MIN_CHOICES, max=MAX_CHOICES),
    )
    answer = Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0, max=MAX_CHOICES - 1),
        metadata={"description": "index of the right choice, from 0; only HR reads it"},
    )


def _questions(required: bool) -> fields.List:
    return fields.List(
        fields.Nested(QuestionSchema),
        validate=Length(min=1, max=MAX_QUESTIONS),
        **({"required": True} if required else {}),
        metadata={"description": f"1 to {MAX_QUESTIONS} quiz questions, each with 2 to 4 choices"},
    )


def _details(required: bool) -> dict:
    default = {"load_default": None} if required else {}
    return {
        "summary": String(
            validate=Length(max=300),
            **({"load_default": ""} if required else {}),
            metadata={"description": "one line for the list"},
        ),
        "body": String(
            validate=Length(max=BODY_MAX),
            **({"load_default": ""} if required else {}),
            metadata={"description": "the lesson's text; blank lines separate paragraphs"},
        ),
        "points": Integer(
            strict=True,
            validate=validate.Range(min=0, max=MAX_LESSON_POINTS),
            **({"load_default": 0} if required else {}),
            metadata={"description": "given once, to whoever first passes the quiz"},
        ),
        "image_credit": String(
            allow_none=True,
            validate=Length(max=200),
            **default,
            metadata={"description": "the image's source, required for an image"},
        ),
        "image_rights_confirmed": fields.Boolean(
            **({"load_default": False} if required else {}),
            metadata={"description": "we may use the image; required for an image"},
        ),
    }


class LessonCreateSchema(_PathErrors, Schema.from_dict(_details(True), name="LessonDetails")):
    title = String(required=True, validate=Length(min=1, max=120))
    questions = _questions(required=True)


class LessonUpdateSchema(
    _PathErrors, Schema.from_dict(_details(False), name="LessonDetailsUpdate")
):
    title = String(validate=Length(min=1, max=120))
    questions = _questions(required=False)


class QuizQuestionSchema(Schema):
    question = String()
    choices = fields.List(String())
    answer = Integer(
        metadata={"description": "the right choice's index: only in HR's answers"},
    )


class LessonSchema(Schema):
    """A lesson as the caller may see it: the right answers only for HR."""

    id = Integer()
    title = String()
    summary = String()
    body = String()
    points = Integer()
    image_url = fields.Function(lambda view: image_url(view["lesson"]), allow_none=True)
    image_credit = String(allow_none=True)
    questions = fields.List(fields.Nested(QuizQuestionSchema))
    published_at = fields.DateTime(allow_none=True, metadata={"description": "null: a draft"})
    retired = fields.Boolean()
    completed_at = fields.DateTime(
        allow_none=True, metadata={"description": "when you finished it; null: not yet"}
    )

    @pre_dump
    def _view(self, view: dict, **kwargs) -> dict:
        """From ``{"lesson", "completed_at", "with_answers"}``."""
        lesson = view["lesson"]
        questions = lesson.questions or []
        if not view.get("with_answers"):
            questions = [{"question": q["question"], "choices": q["choices"]} for q in questions]
        return {
            "lesson": lesson,
            "id": lesson.id,
            "title": lesson.title,
            "summary": lesson.summary,
            "body": lesson.body,
            "points": lesson.points,
            "image_credit": lesson.image_credit if lesson.image_filename else None,
            "questions": questions,
            "published_at": lesson.published_at,
            "retired": lesson.retired,
            "completed_at": view.get("completed_at"),
        }


class AnswersSchema(Schema):
    answers = fields.List(
        Integer(strict=True, allow_none=True),
        required=True,
        validate=Length(max=MAX_QUESTIONS),
        metadata={
            "description": "the index of the chosen answer per question, in order "
            "(null: not answered, which counts as wrong)"
        },
    )


class MistakeSchema(Schema):
    index = Integer(metadata={"description": "the question, from 0"})
    question = String()
    given = Integer(allow_none=True)
    right = Integer(metadata={"description": "the right choice, told after a wrong attempt"})
    right_choice = String()


class CompletionSchema(Schema):
    lesson_id = Integer(attribute="lesson.id")
    passed = fields.Boolean()
    right = Integer(attribute="grade.right")
    total = Integer(attribute="grade.total")
    mistakes = fields.List(fields.Nested(MistakeSchema), attribute="grade.mistakes")
    first_time = fields.Boolean(metadata={"description": "this attempt finished the lesson"})
    points_awarded = Integer(
        metadata={"description": "the lesson's points the first time; 0 on a retry"}
    )
    completed_at = fields.DateTime(allow_none=True)


class LessonFormSchema(LessonCreateSchema):
    """The page form: numbers arrive as text; the questions are checked by the service,
    whose words name what to fix in each question block."""

    points = Integer(load_default=0, validate=validate.Range(min=0, max=MAX_LESSON_POINTS))
    questions = fields.List(fields.Raw(), required=True)
