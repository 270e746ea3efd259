"""Slack and Teams channels Chorus posts to (admins)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters
from sqlalchemy import select

from app.api.support import api_blueprint, caller, paginate_select
from app.auth import requires_role
from app.models import ChatDestination, Role
from app.schemas.chat import ChatChangeSchema, ChatDestinationSchema, SentTestSchema
from app.services import chat

bp = api_blueprint(
    "chat",
    "/chat-channels",
    "Slack and Teams channels Chorus posts new content to; their webhook addresses are "
    "secrets and only shown masked (admins).",
)


@bp.route("")
class Channels(MethodView):
    @requires_role(Role.ADMIN)
    @bp.response(200, ChatDestinationSchema(many=True))
    @bp.paginate()
    def get(self, pagination_parameters: PaginationParameters) -> list[ChatDestination]:
        """Every connected channel, oldest first"""
        query = select(ChatDestination).order_by(ChatDestination.id)
        return paginate_select(query, pagination_parameters)

    @requires_role(Role.ADMIN)
    @bp.arguments(ChatDestinationSchema)
    @bp.response(201, ChatDestinationSchema)
    def post(self, data: dict) -> ChatDestination:
        """Connect a channel by its incoming-webhook address

        Slack: an address on hooks.slack.com/services/. Teams: a Workflows webhook
        ("When a Teams webhook request is received", on logic.azure.com or
        api.powerplatform.com); the retired Office 365 connectors are refused.
        """
        return chat.connect(caller(), data)


@bp.route("/<int:destination_id>")
class Channel(MethodView):
    @requires_role(Role.ADMIN)
    @bp.arguments(ChatChangeSchema)
    @bp.response(200, ChatDestinationSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def patch(self, data: dict, destination_id: int) -> ChatDestination:
        """Change a channel; a new address or ``enabled: true`` turns it back on"""
        return chat.change(caller(), chat.get_destination(destination_id), data)

    @requires_role(Role.ADMIN)
    @bp.response(204)
    @bp.alt_response(404, response="NOT_FOUND")
    def delete(self, destination_id: int) -> None:
        """Disconnect a channel; what waited for it is dropped"""
        chat.remove(caller(), chat.get_destination(destination_id))


@bp.route("/<int:destination_id>/test")
class Test(MethodView):
    @requires_role(Role.ADMIN)
    @bp.response(200, SentTestSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def post(self, destination_id: int) -> dict:
        """Post a test message now, and say what the provider answered

        Teams may report success although its workflow fails afterwards: look in the
        channel too.
        """
        delivered, answer = chat.send_test(chat.get_destination(destination_id))
        return {"delivered": delivered, "answer": answer}
