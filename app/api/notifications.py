"""The signed-in employee's inbox and their choices of what reaches them where."""

from __future__ import annotations

from dataclasses import replace

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


def _settings(me) -> dict:
    return settings_json(
        notifications.choices_of([me.id])[me.id],
        notifications.preferences_of([me.id])[me.id],
        admin=me.has_role(Role.ADMIN),
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
        """What reaches you where: each kind on each channel, and the rhythm of mail"""
        return _settings(caller())

    @requires_role(Role.EMPLOYEE)
    @bp.arguments(ChoicesSchema)
    @bp.response(200, SettingsSchema)
    def put(self, data: dict) -> dict:
        """Choose what reaches you where, and how often mail comes

        Each choice turns one kind on one channel on or off; ``mail`` sets the digest's
        frequency and hour, your time zone, quiet hours and weekly budget. What you
        leave out stays as it was. A channel a kind is not offered on is refused,
        naming the field.
        """
        me = caller()
        choices = data.get("choices", [])
        notifications.set_choices(me, {(c["kind"], c["channel"]): c["on"] for c in choices})
        if data.get("mail"):
            current = notifications.preferences_of([me.id])[me.id]
            notifications.set_preferences(me, replace(current, **data["mail"]))
        return _settings(me)
