"""Taboo topics HR manages, and the check every share text passes."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters
from sqlalchemy import select

from app.api.support import api_blueprint, caller, paginate_select
from app.auth import requires_role
from app.models import Role, TabooTopic
from app.schemas.policy import (
    TabooCheckResultSchema,
    TabooCheckSchema,
    TabooTopicSchema,
    TabooTopicUpdateSchema,
)
from app.services import taboo

bp = api_blueprint(
    "taboo_topics", "", "Taboo topics: what not to post about, and the live check of a share text."
)


@bp.route("/taboo-topics")
class TabooTopics(MethodView):
    @requires_role(Role.HR)
    @bp.response(200, TabooTopicSchema(many=True))
    @bp.paginate()
    def get(self, pagination_parameters: PaginationParameters) -> list[TabooTopic]:
        """All taboo topics, by name"""
        query = select(TabooTopic).order_by(TabooTopic.name, TabooTopic.id)
        return paginate_select(query, pagination_parameters)

    @requires_role(Role.HR)
    @bp.arguments(TabooTopicSchema)
    @bp.response(201, TabooTopicSchema)
    @bp.alt_response(409, response="CONFLICT", description="The name is taken")
    def post(self, data: dict) -> TabooTopic:
        """Add a topic; patterns must be valid regular expressions"""
        topic = taboo.create_topic(caller(), data)
        return topic


@bp.route("/taboo-topics/<int:topic_id>")
class TabooTopicById(MethodView):
    @requires_role(Role.HR)
    @bp.response(200, TabooTopicSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    def get(self, topic_id: int) -> TabooTopic:
        """One taboo topic"""
        return taboo.get_topic(topic_id)

    @requires_role(Role.HR)
    @bp.arguments(TabooTopicUpdateSchema)
    @bp.response(200, TabooTopicSchema)
    @bp.alt_response(404, response="NOT_FOUND")
    @bp.alt_response(409, response="CONFLICT", description="The name is taken")
    def patch(self, changes: dict, topic_id: int) -> TabooTopic:
        """Change a topic"""
        topic = taboo.update_topic(caller(), taboo.get_topic(topic_id), changes)
        return topic

    @requires_role(Role.HR)
    @bp.response(204)
    @bp.alt_response(404, response="NOT_FOUND")
    def delete(self, topic_id: int) -> None:
        """Delete a topic"""
        taboo.delete_topic(caller(), taboo.get_topic(topic_id))


@bp.route("/taboo-check")
class TabooCheck(MethodView):
    @requires_role(Role.EMPLOYEE)
    @bp.arguments(TabooCheckSchema)
    @bp.response(200, TabooCheckResultSchema)
    def post(self, data: dict) -> dict:
        """Check a text against the active topics

        The share dialog calls this while the employee edits; the share itself is
        checked again on the server.
        """
        hits = taboo.check_text(data["text"])
        return {"ok": not hits, "hits": hits}
