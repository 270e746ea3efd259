"""Mail that failed, for admins, and sending one again."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters
from sqlalchemy import select

from app.api.support import api_blueprint, caller, paginate_select
from app.auth import requires_role
from app.models import OutboxMessage, Role
from app.schemas.notifications import OutboxMessageSchema
from app.services import outbox
from scoring.delivery import State

bp = api_blueprint(
    "outbox",
    "/outbox",
    "Mail, chat posts and webhook deliveries Chorus sends: what failed, and sending it "
    "again (admins).",
)


@bp.route("/failed")
class Failed(MethodView):
    @requires_role(Role.ADMIN)
    @bp.response(200, OutboxMessageSchema(many=True))
    @bp.paginate()
    def get(self, pagination_parameters: PaginationParameters) -> list[OutboxMessage]:
        """Messages that failed for good, newest first

        Transient failures are retried by themselves and are not listed; a message
        whose worker stopped while sending it is, since it may have arrived.
        """
        query = select(OutboxMessage).where(OutboxMessage.state == State.FAILED)
        return paginate_select(query.order_by(OutboxMessage.id.desc()), pagination_parameters)


@bp.route("/<int:message_id>/retry")
class Retry(MethodView):
    @requires_role(Role.ADMIN)
    @bp.response(200, OutboxMessageSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    @bp.alt_response(409, response="CONFLICT", description="It has not failed")
    def post(self, message_id: int) -> OutboxMessage:
        """Send a failed message again, from a fresh count of tries"""
        return outbox.retry(caller(), message_id)
