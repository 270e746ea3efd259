"""The signed-in employee's inbox and their choices of what reaches them where."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters
from sqlalchemy import select

from app.api.support import api_blueprint, caller, paginate_select
from app.auth import requires_role
from app.models import Notification, Role
from app.schemas.notifications import (
    ChoicesSchema,
    MarkedSchema,
    MarkReadSchema,
    NotificationSchema,
    SettingsSchema,
    UnreadSchema,
    settings_json,
)
from app.services import notifications

bp = api_blueprint(
    "notifications",
    "/me",
    "Your inbox (badges earned, decisions on your rewards) and what reaches you where.",
)


@bp.route("/notifications")
class Inbox(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.response(200, NotificationSchema(many=True))
    @bp.paginate()
    def get(self, pagination_parameters: PaginationParameters) -> list[Notification]:
        """Your notifications, newest first"""
        mine = select(Notification).where(Notification.employee_id == caller().id)
        return paginate_select(mine.order_by(Notification.id.desc()), pagination_parameters)


@bp.route("/notifications/unread")
class Unread(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.response(200, UnreadSchema)
    def get(self) -> dict:
        """How many of your notifications are unread"""
        return {"unread": notifications.unread_count(caller())}


def _marked(marked: int) -> dict:
    return {"marked": marked, "unread": notifications.unread_count(caller())}


@bp.route("/notifications/read")
class MarkRead(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.arguments(MarkReadSchema)
    @bp.response(200, MarkedSchema)
    def post(self, data: dict) -> dict:
        """Mark some of your notifications read

        Ids that are not yours, or read already, change nothing.
        """
        return _marked(notifications.mark_read(caller(), data["ids"]))


@bp.route("/notifications/read-all")
class MarkAllRead(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.response(200, MarkedSchema)
    def post(self) -> dict:
        """Mark all your notifications read"""
        return _marked(notifications.mark_read(caller()))


@bp.route("/notification-settings")
class Settings(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.response(200, SettingsSchema)
    def get(self) -> dict:
        """What reaches you where: each kind of notification on each channel"""
        me = caller()
        return settings_json(notifications.choices_of([me.id])[me.id])

    @requires_role(Role.EMPLOYEE)
    @bp.arguments(ChoicesSchema)
    @bp.response(200, SettingsSchema)
    def put(self, data: dict) -> dict:
        """Choose what reaches you where

        Each choice turns one kind on one channel on or off; what you leave out stays
        as it was. A channel a kind is not offered on is refused, naming the field.
        """
        me = caller()
        notifications.set_choices(me, {(c["kind"], c["channel"]): c["on"] for c in data["choices"]})
        return settings_json(notifications.choices_of([me.id])[me.id])
