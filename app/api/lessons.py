"""Lessons: HR writes, publishes and retires them; employees who take part read them and
answer the quiz. Passing earns the lesson's points once."""

from __future__ import annotations

from flask.views import MethodView

from app.api.support import api_blueprint, caller
from app.auth import requires_role
from app.db import get_or_404
from app.models import Lesson, Role
from app.schemas.content import ImageFileSchema
from app.schemas.lessons import (
    AnswersSchema,
    CompletionSchema,
    LessonCreateSchema,
    LessonSchema,
    LessonUpdateSchema,
)
from app.services import lessons

bp = api_blueprint(
    "lessons",
    "/lessons",
    "Short lessons with a quiz: HR publishes them, employees finish them for points once.",
)


def _is_hr() -> bool:
    return caller().has_role(Role.HR)


def _view(lesson: Lesson, completed_at=None) -> dict:
    return {"lesson": lesson, "completed_at": completed_at, "with_answers": _is_hr()}


def _mine(lesson: Lesson) -> dict:
    return _view(lesson, lessons.completions_of(caller().id).get(lesson.id))


@bp.route("")
class Lessons(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.response(200, LessonSchema(many=True))
    def get(self) -> list[dict]:
        """Published lessons, newest first, with when you finished each

        HR also sees drafts and retired lessons, and the right answers.
        """
        employee = caller()
        done = lessons.completions_of(employee.id)
        every = (
            lessons.every_lesson()
            if _is_hr()
            else [e.lesson for e in lessons.lessons_for(employee)]
        )
        return [_view(lesson, done.get(lesson.id)) for lesson in every]

    @requires_role(Role.HR)
    @bp.arguments(LessonCreateSchema)
    @bp.response(201, LessonSchema)
    def post(self, data: dict) -> dict:
        """Write a lesson: a draft until it is published"""
        return _view(lessons.create_lesson(caller(), data))


@bp.route("/<int:lesson_id>")
class LessonById(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.response(200, LessonSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def get(self, lesson_id: int) -> dict:
        """One lesson; its quiz without the right answers (HR sees them)"""
        return _mine(lessons.lesson_for(caller(), lesson_id, hr=_is_hr()))

    @requires_role(Role.HR)
    @bp.arguments(LessonUpdateSchema)
    @bp.response(200, LessonSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def patch(self, data: dict, lesson_id: int) -> dict:
        """Change a lesson; new points apply to whoever finishes it from now on"""
        lesson = get_or_404(Lesson, lesson_id)
        return _mine(lessons.update_lesson(caller(), lesson, data))


@bp.route("/<int:lesson_id>/publish")
class Publication(MethodView):
    @requires_role(Role.HR)
    @bp.response(200, LessonSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def post(self, lesson_id: int) -> dict:
        """Publish a lesson (or bring a retired one back); again changes nothing"""
        return _mine(lessons.publish_lesson(caller(), get_or_404(Lesson, lesson_id)))


@bp.route("/<int:lesson_id>/retire")
class Retirement(MethodView):
    @requires_role(Role.HR)
    @bp.response(200, LessonSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def post(self, lesson_id: int) -> dict:
        """Take a lesson out of the list; who finished it keeps the points"""
        return _mine(lessons.retire_lesson(caller(), get_or_404(Lesson, lesson_id)))


@bp.route("/<int:lesson_id>/image")
class LessonImage(MethodView):
    @requires_role(Role.HR)
    @bp.arguments(ImageFileSchema, location="files")
    @bp.response(200, LessonSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def put(self, upload: dict, lesson_id: int) -> dict:
        """Set the image: PNG, JPEG or WebP, at most 2 MB, stored like content images

        Needs ``image_credit`` and ``image_rights_confirmed: true`` on the lesson first.
        """
        lesson = get_or_404(Lesson, lesson_id)
        return _mine(lessons.set_image(caller(), lesson, upload["file"]))

    @requires_role(Role.HR)
    @bp.response(200, LessonSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def delete(self, lesson_id: int) -> dict:
        """Remove the image"""
        return _mine(lessons.remove_image(caller(), get_or_404(Lesson, lesson_id)))


@bp.route("/<int:lesson_id>/completion")
class LessonCompletion(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.arguments(AnswersSchema)
    @bp.response(200, CompletionSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    @bp.alt_response(409, response="CONFLICT", description="You have not opted in")
    def post(self, data: dict, lesson_id: int):
        """Answer the quiz

        All right: the lesson is finished and, the first time, its points are written
        (they reach the boards with the next scoring run). Otherwise the answer says
        which questions were wrong and the right choice; try again as often as you like.
        Sending the same answers twice gives the points once.
        """
        employee = caller()
        lesson = lessons.lesson_for(employee, lesson_id)
        return lessons.complete(employee, lesson, data["answers"])
